//! The single audit writer: a bounded queue in front of one thread that commits batches.

use super::event::AuditEvent;
use super::store::{AuditStore, StoreError};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Largest batch per transaction.
const MAX_BATCH: usize = 512;

type Ack = oneshot::Sender<Result<i64, String>>;

/// Hands events to the writer thread and waits for their commit.
#[derive(Clone)]
pub struct AuditWriter {
    tx: mpsc::Sender<(AuditEvent, Ack)>,
    /// How often a request had to wait for room in the queue.
    pub queue_waits: Arc<AtomicU64>,
}

impl AuditWriter {
    /// Opens the database and starts the writer thread.
    pub fn start(path: &Path, queue: usize) -> Result<Self, StoreError> {
        let mut store = AuditStore::open(path)?;
        let (tx, mut rx) = mpsc::channel::<(AuditEvent, Ack)>(queue.max(1));
        std::thread::Builder::new()
            .name("promptwall-audit".into())
            .spawn(move || {
                while let Some(first) = rx.blocking_recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(x) => batch.push(x),
                            Err(_) => break,
                        }
                    }
                    let (mut events, acks): (Vec<AuditEvent>, Vec<Ack>) = batch.into_iter().unzip();
                    let timer = crate::metrics::METRICS.audit_write_seconds.start_timer();
                    let written = store.insert(&mut events);
                    timer.observe_duration();
                    match written {
                        Ok(()) => {
                            for (e, ack) in events.iter().zip(acks) {
                                let _ = ack.send(Ok(e.seq));
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "audit write failed; the affected requests are refused");
                            for ack in acks {
                                let _ = ack.send(Err(e.to_string()));
                            }
                        }
                    }
                }
            })
            .expect("spawning the audit writer");
        Ok(AuditWriter {
            tx,
            queue_waits: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Queues `event` and returns once it is committed (its `seq`), or why it was not.
    pub async fn record(&self, event: AuditEvent) -> Result<i64, String> {
        let (ack, done) = oneshot::channel();
        let permit = match self.tx.try_reserve() {
            Ok(p) => p,
            Err(mpsc::error::TrySendError::Full(())) => {
                // Back-pressure, never a drop: wait for room (bounded, so a stuck disk shows).
                self.queue_waits.fetch_add(1, Ordering::Relaxed);
                crate::metrics::METRICS.audit_queue_waits.inc();
                tokio::time::timeout(Duration::from_secs(30), self.tx.reserve())
                    .await
                    .map_err(|_| "audit queue full for 30 s".to_string())?
                    .map_err(|_| "audit writer stopped".to_string())?
            }
            Err(mpsc::error::TrySendError::Closed(())) => return Err("audit writer stopped".into()),
        };
        permit.send((event, ack));
        crate::metrics::METRICS
            .audit_queue
            .set((self.tx.max_capacity() - self.tx.capacity()) as i64);
        done.await.map_err(|_| "audit writer stopped".to_string())?
    }
}
