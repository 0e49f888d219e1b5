//! The batching worker: one thread per session. A worker takes the first waiting job, gathers
//! what is queued (waiting up to `max_wait` for more only when the queue is busy) until the
//! batch is full, drops jobs whose deadline is gone,
//! pads the rest to the longest, runs them in one call and answers each caller.

use super::ClassifyError;
use crossbeam_channel::{bounded, Receiver, Sender};
use ort::session::Session;
use ort::value::Tensor;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One window to score.
pub struct Job {
    ids: Vec<i64>,
    due: Instant,
    reply: Option<Sender<Result<Vec<f32>, ClassifyError>>>,
}

impl Job {
    /// A job answered by `submit`'s receiver.
    pub fn new(ids: Vec<i64>, due: Instant) -> Self {
        Job {
            ids,
            due,
            reply: None,
        }
    }
}

/// Counts for telemetry: how full the batches are and how long the queue is.
#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    rows: AtomicU64,
}

/// A snapshot of the batcher's counters, for metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchStats {
    /// Model runs so far.
    pub batches: u64,
    /// Texts (windows) scored in them; `rows / batches` is the mean batch size.
    pub rows: u64,
    /// Windows waiting for a worker now.
    pub queued: u64,
}

/// The queue in front of the workers.
pub struct Batcher {
    /// Dropping it (in `drop`) closes the queue, which is what stops the workers.
    tx: Sender<Job>,
    workers: Vec<JoinHandle<()>>,
    counters: Arc<Counters>,
    /// For `run_now`: the sessions are shared with the workers.
    sessions: Vec<Arc<Mutex<Session>>>,
    labels: usize,
}

/// Runs one padded batch; returns one score row per input.
pub(super) fn run_batch(
    session: &mut Session,
    batch: &[&[i64]],
    labels: usize,
) -> Result<Vec<Vec<f32>>, String> {
    let n = batch.iter().map(|b| b.len()).max().unwrap_or(0).max(1);
    let rows = batch.len();
    let mut ids = vec![0i64; rows * n];
    let mut mask = vec![0i64; rows * n];
    for (r, b) in batch.iter().enumerate() {
        ids[r * n..r * n + b.len()].copy_from_slice(b);
        mask[r * n..r * n + b.len()].fill(1);
    }
    let shape = vec![rows as i64, n as i64];
    let t = |v: Vec<i64>| Tensor::from_array((shape.clone(), v)).map_err(|e| e.to_string());
    let outputs = session
        .run(ort::inputs![
            "input_ids" => t(ids)?,
            "attention_mask" => t(mask)?,
            "token_type_ids" => t(vec![0i64; rows * n])?,
        ])
        .map_err(|e| e.to_string())?;
    let (shape, data) = outputs["scores"]
        .try_extract_tensor::<f32>()
        .map_err(|e| e.to_string())?;
    if shape.len() != 2 || shape[0] as usize != rows || shape[1] as usize != labels {
        return Err(format!("unexpected output shape {shape:?}"));
    }
    Ok(data.chunks(labels).map(<[f32]>::to_vec).collect())
}

fn worker(
    rx: Receiver<Job>,
    counters: Arc<Counters>,
    session: Arc<Mutex<Session>>,
    labels: usize,
    max_batch: usize,
    max_wait: Duration,
) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        // Under load the queue fills while a batch runs, so batches form on their own; only
        // then is it worth waiting up to `max_wait` for more. A lone request never waits.
        let loaded = !rx.is_empty();
        let until = Instant::now() + max_wait;
        while jobs.len() < max_batch {
            let next = if loaded {
                rx.recv_deadline(until).ok()
            } else {
                rx.try_recv().ok()
            };
            match next {
                Some(j) => jobs.push(j),
                None => break,
            }
        }
        let now = Instant::now();
        let (live, late): (Vec<Job>, Vec<Job>) = jobs.into_iter().partition(|j| j.due > now);
        for j in late {
            if let Some(r) = j.reply {
                let _ = r.send(Err(ClassifyError::Deadline(0)));
            }
        }
        if live.is_empty() {
            continue;
        }
        let batch: Vec<&[i64]> = live.iter().map(|j| j.ids.as_slice()).collect();
        counters.batches.fetch_add(1, Ordering::Relaxed);
        counters
            .rows
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let result = match session.lock() {
            Ok(mut s) => run_batch(&mut s, &batch, labels),
            Err(_) => Err("session lock poisoned".into()),
        };
        match result {
            Ok(rows) => {
                for (j, row) in live.into_iter().zip(rows) {
                    if let Some(r) = j.reply {
                        let _ = r.send(Ok(row));
                    }
                }
            }
            Err(e) => {
                for j in live {
                    if let Some(r) = j.reply {
                        let _ = r.send(Err(ClassifyError::Model(e.clone())));
                    }
                }
            }
        }
    }
}

impl Batcher {
    /// Starts one worker per session.
    pub fn start(
        sessions: Vec<Session>,
        labels: usize,
        max_batch: usize,
        max_wait: Duration,
    ) -> std::io::Result<Self> {
        let (tx, rx) = bounded::<Job>(4096);
        let sessions: Vec<Arc<Mutex<Session>>> = sessions
            .into_iter()
            .map(|s| Arc::new(Mutex::new(s)))
            .collect();
        let counters = Arc::new(Counters::default());
        let mut workers = Vec::new();
        for (i, s) in sessions.iter().enumerate() {
            let (rx, s, c) = (rx.clone(), s.clone(), counters.clone());
            workers.push(
                std::thread::Builder::new()
                    .name(format!("promptwall-model-{i}"))
                    .spawn(move || worker(rx, c, s, labels, max_batch.max(1), max_wait))?,
            );
        }
        Ok(Batcher {
            tx,
            workers,
            counters,
            sessions,
            labels,
        })
    }

    /// The counters now.
    pub fn stats(&self) -> BatchStats {
        BatchStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            rows: self.counters.rows.load(Ordering::Relaxed),
            queued: self.tx.len() as u64,
        }
    }

    /// Queues a job; the receiver gets its scores (or why not).
    pub fn submit(
        &self,
        mut job: Job,
    ) -> Result<Receiver<Result<Vec<f32>, ClassifyError>>, ClassifyError> {
        let (rtx, rrx) = bounded(1);
        job.reply = Some(rtx);
        self.tx.try_send(job).map_err(|e| match e {
            crossbeam_channel::TrySendError::Full(_) => ClassifyError::Deadline(0),
            crossbeam_channel::TrySendError::Disconnected(_) => ClassifyError::Stopped,
        })?;
        Ok(rrx)
    }

    /// Runs a batch on the first session right away (a baseline without the queue).
    pub fn run_now(&self, ids: Vec<Vec<i64>>) -> Result<Vec<Vec<f32>>, ClassifyError> {
        let batch: Vec<&[i64]> = ids.iter().map(Vec::as_slice).collect();
        let mut s = self.sessions[0]
            .lock()
            .map_err(|_| ClassifyError::Stopped)?;
        run_batch(&mut s, &batch, self.labels).map_err(ClassifyError::Model)
    }
}

impl Drop for Batcher {
    /// Closes the queue and waits for the workers (each answers what is queued, or says it is
    /// late), so every session is released before the process exits: the CUDA provider aborts
    /// the process if a session outlives its driver.
    fn drop(&mut self) {
        // Swapped for a sender of a channel nobody reads, so the workers' queue closes.
        drop(std::mem::replace(&mut self.tx, bounded(0).0));
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}
