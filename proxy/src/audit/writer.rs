//! The single audit writer: a bounded queue in front of one thread that commits batches.

use super::event::AuditEvent;
use super::retention::RetentionPolicy;
use super::store::{AuditStore, Durability, StoreError};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Largest batch per transaction.
const MAX_BATCH: usize = 4096;

/// Group commit: after draining the queue, the writer waits in ticks of this length for more
/// events, as long as each tick brings some (so under load one fsync covers every request that
/// arrives meanwhile, and an idle writer commits at once)...
const LINGER_TICK: std::time::Duration = std::time::Duration::from_micros(50);
/// ...for at most this long in all, which bounds the latency it adds. Response records (which
/// nobody waits for) arrive all the time under load, so the linger nearly always runs to this
/// bound, and every waiting request pays it: at 1 ms the wrk harness ran 8% slower than at
/// 250 µs, with no better p99; with no linger at all, commits tripled and p99 rose by 1-3 ms
/// (load-tests/RESULTS.md, tenth session). Batches still form on their own during each commit.
const LINGER_MAX: std::time::Duration = std::time::Duration::from_micros(250);

type Ack = oneshot::Sender<Result<i64, String>>;

/// What the writer thread is asked to do; everything that changes the chain goes through it.
// Events are the hot, large variant; boxing them would add an allocation per request.
#[allow(clippy::large_enum_variant)]
enum Msg {
    Event(AuditEvent, Ack),
    Retention(
        RetentionPolicy,
        oneshot::Sender<Result<Vec<(String, u64)>, String>>,
    ),
    /// Answered once everything queued before it is committed or given up (used on shutdown),
    /// with how many queued records were given up since the last flush.
    Flush(oneshot::Sender<u64>),
}

/// An event in the queue; await it for its commit.
pub struct Queued(oneshot::Receiver<Result<i64, String>>);

/// The longest a request waits for its record's commit (as for room in the queue): a disk that
/// stops answering turns requests into prompt 503s, not hangs. A record whose commit comes
/// later is still written, and says what was decided.
pub const COMMIT_WAIT: Duration = Duration::from_secs(30);

impl Queued {
    /// Waits for the commit (at most [`COMMIT_WAIT`]): the event's `seq`, or why it was not
    /// written.
    pub async fn committed(self) -> Result<i64, String> {
        match tokio::time::timeout(COMMIT_WAIT, self.0).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err("audit writer stopped".to_string()),
            Err(_) => {
                crate::metrics::METRICS.audit_failures.inc();
                Err(format!(
                    "audit log did not commit within {} s",
                    COMMIT_WAIT.as_secs()
                ))
            }
        }
    }
}

/// Hands events to the writer thread and waits for their commit.
#[derive(Clone)]
pub struct AuditWriter {
    tx: mpsc::Sender<Msg>,
    /// How often a request had to wait for room in the queue.
    pub queue_waits: Arc<AtomicU64>,
}

/// Consecutive failed commits after which events nobody waits for are given up (counted, the
/// first ids logged, and reported by the next flush): about 17 s of backoff, plus each
/// attempt's own wait for the database (up to its 5 s busy timeout).
const MAX_ATTEMPTS: u32 = 12;

fn backoff(attempts: u32) -> Duration {
    Duration::from_millis((100u64 << attempts.min(5)).min(2_000))
}

/// The writer thread: batches events into transactions, in queue order. A batch that fails
/// refuses the callers that wait for it (their requests are not forwarded); events nobody waits
/// for (response records) are retried with backoff before being given up.
fn writer_loop(
    mut store: AuditStore,
    mut rx: mpsc::Receiver<Msg>,
    dirty: std::sync::mpsc::SyncSender<()>,
) {
    let mut held: Option<Msg> = None;
    let mut retry: Vec<(AuditEvent, Ack)> = Vec::new();
    let mut attempts = 0u32;
    // Queued records (nobody waiting) given up since the last flush.
    let mut given_up = 0u64;
    loop {
        if !retry.is_empty() {
            std::thread::sleep(backoff(attempts));
        }
        let next = match held.take() {
            Some(m) => Some(m),
            None if retry.is_empty() => match rx.blocking_recv() {
                Some(m) => Some(m),
                None => break,
            },
            None => rx.try_recv().ok(),
        };
        let mut batch = std::mem::take(&mut retry);
        match next {
            Some(Msg::Retention(policy, ack)) if batch.is_empty() => {
                let r = store.apply_retention(&policy).map_err(|e| e.to_string());
                match &r {
                    Ok(done) => {
                        for (tenant, rows) in done {
                            tracing::info!(%tenant, rows, "audit retention removed old events (checkpoint recorded)");
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "audit retention failed"),
                }
                let _ = ack.send(r);
                continue;
            }
            Some(Msg::Flush(ack)) if batch.is_empty() => {
                let _ = ack.send(std::mem::take(&mut given_up));
                continue;
            }
            // Retries first; the message waits its turn.
            Some(m @ (Msg::Retention(..) | Msg::Flush(_))) => held = Some(m),
            Some(Msg::Event(e, ack)) => batch.push((e, ack)),
            None => {}
        }
        let lingered = std::time::Instant::now();
        loop {
            let before = batch.len();
            while held.is_none() && batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(Msg::Event(e, ack)) => batch.push((e, ack)),
                    Ok(other) => held = Some(other),
                    Err(_) => break,
                }
            }
            // Lingering pays only under load: more than one event, and the last tick brought
            // some.
            let arriving = batch.len() > before && batch.len() > 1;
            if held.is_some()
                || batch.len() >= MAX_BATCH
                || !arriving
                || lingered.elapsed() >= LINGER_MAX
            {
                break;
            }
            std::thread::sleep(LINGER_TICK);
        }
        if batch.is_empty() {
            continue;
        }
        let (mut events, acks): (Vec<AuditEvent>, Vec<Ack>) = batch.into_iter().unzip();
        let t = std::time::Instant::now();
        let written = store.insert(&mut events);
        crate::metrics::METRICS.audit_write(t.elapsed().as_secs_f64());
        match written {
            Ok(()) => {
                attempts = 0;
                // Full means a checkpoint is already due.
                let _ = dirty.try_send(());
                for (e, ack) in events.iter().zip(acks) {
                    let _ = ack.send(Ok(e.seq));
                }
            }
            Err(err) => {
                attempts += 1;
                let mut refused = Vec::new();
                for (e, ack) in events.into_iter().zip(acks) {
                    if ack.is_closed() && attempts < MAX_ATTEMPTS {
                        retry.push((e, ack));
                    } else {
                        given_up += u64::from(ack.is_closed());
                        refused.push(e.id);
                        let _ = ack.send(Err(err.to_string()));
                    }
                }
                crate::metrics::METRICS
                    .audit_failures
                    .inc_by(refused.len() as u64);
                let first: Vec<&str> = refused.iter().take(16).map(String::as_str).collect();
                tracing::error!(error = %err, attempt = attempts, refused = refused.len(), retrying = retry.len(), first_refused = %first.join(","), "audit write failed; waiting requests are refused, queued records are retried");
            }
        }
    }
}

/// Events one merge step indexes: their users and about four tags each, about 5 ms of the
/// write lock. Under load a 200 ms checkpoint interval leaves a few thousand events to index;
/// in one step (2,000) the commits waiting behind it raised the gateway's p99 by 1-2 ms.
const INDEX_MERGE_ROWS: i64 = 256;
/// The pause between merge steps, in which the writer takes the lock back.
const INDEX_MERGE_PAUSE: Duration = Duration::from_millis(2);
/// The most one checkpoint cycle spends merging: past it the checkpoint runs anyway, so a
/// write rate above what the merge keeps up with (about 30k events/s in steps of 256) leaves a
/// longer unindexed tail for queries to read, never an unbounded WAL.
const INDEX_MERGE_BUDGET: Duration = Duration::from_millis(150);

/// How often the checkpointer copies committed WAL pages into the database. Often enough that
/// each run copies little, so the restart below waits only for the last few milliseconds'
/// pages.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);
/// A WAL larger than this is started over once it is copied in, since under constant load a
/// passive checkpoint never finds it idle enough to start over by itself. The restart holds
/// the writer while it copies what the passive run before it left (a few milliseconds' worth);
/// measured at 64 MiB with a run a second, that wait was tens of milliseconds, the requests'
/// p99. The file is not truncated (the writer overwrites it from the start, without growing
/// it again), but kept at this size (`journal_size_limit`).
const WAL_RESTART_BYTES: u64 = 16 << 20;

/// Copies committed WAL pages into the database on its own connection: passive checkpoints
/// never block the writer, so commit latency stays flat.
struct Checkpointer {
    conn: rusqlite::Connection,
    wal: std::path::PathBuf,
}

impl Checkpointer {
    fn open(path: &Path) -> Result<Self, StoreError> {
        let p = path.display().to_string();
        let err = super::store::sqlite_err(&p);
        let conn = rusqlite::Connection::open(path).map_err(&err)?;
        conn.busy_handler(Some(super::store::busy_wait))
            .map_err(&err)?;
        // Its own commits are the user-index merges: derived data whose progress marker commits
        // with it, so a merge lost to a power cut is simply redone. No fsync for them (the
        // checkpoints themselves still sync the WAL and the database file).
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(&err)?;
        // The user index's pages stay in memory between merges.
        conn.pragma_update(None, "cache_size", -32_768)
            .map_err(&err)?;
        Ok(Checkpointer {
            conn,
            wal: std::path::PathBuf::from(format!("{}-wal", path.display())),
        })
    }

    /// Runs a checkpoint; `Ok(true)` when it finished, `Ok(false)` when a lock holder made it
    /// stop short (SQLite's `busy` column).
    fn checkpoint(&self, mode: &str) -> Result<bool, rusqlite::Error> {
        let busy: i64 =
            self.conn
                .query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| r.get(0))?;
        Ok(busy == 0)
    }

    fn passive(&self) {
        if let Err(e) = self.checkpoint("PASSIVE") {
            tracing::warn!(error = %e, "audit checkpoint failed; it is retried");
        }
    }

    /// Starts the WAL over once it is all copied in, waiting at most briefly (see
    /// `store::busy_wait_brief`): the restart holds the writer while it waits for a reader
    /// still on the old WAL (an audit query). Whether it started over.
    fn restart(&self) -> bool {
        use super::store::{busy_wait, busy_wait_brief};
        let set = |f: fn(i32) -> bool| self.conn.busy_handler(Some(f));
        let done = set(busy_wait_brief).and_then(|()| self.checkpoint("RESTART"));
        if let Err(e) = set(busy_wait) {
            tracing::warn!(error = %e, "audit checkpointer: restoring its busy handler failed");
        }
        match done {
            Ok(done) => done,
            Err(e) => {
                tracing::warn!(error = %e, "audit checkpoint restart failed; it is retried");
                false
            }
        }
    }

    /// Runs until the writer stops (its end of `dirty` closes), then checkpoints once more.
    fn run(self, dirty: std::sync::mpsc::Receiver<()>) {
        use std::sync::mpsc::RecvTimeoutError;
        loop {
            match dirty.recv_timeout(Duration::from_secs(5)) {
                Ok(()) => {}
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
            }
            self.merge_indexes();
            self.passive();
            let wal = std::fs::metadata(&self.wal).map_or(0, |m| m.len());
            if wal > WAL_RESTART_BYTES && !self.restart() && wal > 4 * WAL_RESTART_BYTES {
                tracing::warn!(
                    wal_mib = wal >> 20,
                    "the audit WAL cannot start over: a reader (an audit query or export) still reads it; it grows until that reader ends"
                );
            }
            std::thread::sleep(CHECKPOINT_EVERY);
        }
        self.merge_indexes();
        self.passive();
    }

    /// Brings the user and tag indexes up to the log (see `store::merge_indexes`), a bounded
    /// step at a time so the writer never waits long for the lock, for at most
    /// [`INDEX_MERGE_BUDGET`] per checkpoint cycle.
    fn merge_indexes(&self) {
        let started = std::time::Instant::now();
        loop {
            match super::store::merge_indexes(&self.conn, INDEX_MERGE_ROWS) {
                Ok(n) if n as i64 >= INDEX_MERGE_ROWS && started.elapsed() < INDEX_MERGE_BUDGET => {
                    std::thread::sleep(INDEX_MERGE_PAUSE)
                }
                Ok(_) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "audit index merge failed; queries read the unindexed tail until it is retried");
                    return;
                }
            }
        }
    }
}

impl AuditWriter {
    /// Opens the database and starts the writer thread.
    pub fn start(path: &Path, queue: usize, durability: Durability) -> Result<Self, StoreError> {
        let store = AuditStore::open_with(path, durability)?;
        // Checkpoints move to their own thread and connection, so no commit (and no request
        // waiting on one) pays for copying the WAL into the database.
        store
            .conn
            .pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(store.err())?;
        store
            .conn
            .pragma_update(None, "journal_size_limit", WAL_RESTART_BYTES as i64)
            .map_err(store.err())?;
        let (dirty_tx, dirty_rx) = std::sync::mpsc::sync_channel::<()>(1);
        let checkpoints = Checkpointer::open(path)?;
        std::thread::Builder::new()
            .name("promptwall-ckpt".into())
            .spawn(move || checkpoints.run(dirty_rx))
            .expect("spawning the audit checkpointer");
        let (tx, rx) = mpsc::channel::<Msg>(queue.max(1));
        std::thread::Builder::new()
            .name("promptwall-audit".into())
            .spawn(move || writer_loop(store, rx, dirty_tx))
            .expect("spawning the audit writer");
        Ok(AuditWriter {
            tx,
            queue_waits: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Queues `event` and returns once it is committed (its `seq`), or why it was not.
    pub async fn record(&self, event: AuditEvent) -> Result<i64, String> {
        self.enqueue(event).await?.committed().await
    }

    /// Queues `event` (waiting for room, never dropping it) without waiting for the commit.
    /// For events that need not precede what the caller does next; [`Self::flush`] on
    /// shutdown makes sure they reach the disk.
    pub async fn enqueue(&self, event: AuditEvent) -> Result<Queued, String> {
        let (ack, done) = oneshot::channel();
        let permit = match self.tx.try_reserve() {
            Ok(p) => p,
            Err(mpsc::error::TrySendError::Full(())) => {
                // Back-pressure, never a drop: wait for room (bounded, so a stuck disk shows).
                self.queue_waits.fetch_add(1, Ordering::Relaxed);
                crate::metrics::METRICS.audit_queue_waits.inc();
                let failed = |why: &str| {
                    crate::metrics::METRICS.audit_failures.inc();
                    why.to_string()
                };
                tokio::time::timeout(Duration::from_secs(30), self.tx.reserve())
                    .await
                    .map_err(|_| failed("audit queue full for 30 s"))?
                    .map_err(|_| failed("audit writer stopped"))?
            }
            Err(mpsc::error::TrySendError::Closed(())) => {
                crate::metrics::METRICS.audit_failures.inc();
                return Err("audit writer stopped".into());
            }
        };
        permit.send(Msg::Event(event, ack));
        crate::metrics::METRICS.audit_depth(self.tx.max_capacity() - self.tx.capacity());
        Ok(Queued(done))
    }

    /// Blocks until every event queued so far is committed or given up, or `within` passes;
    /// call it after the listeners have stopped. `Ok` only if the queue drained in time and no
    /// queued record was given up since the last flush.
    pub fn flush(&self, within: Duration) -> Result<(), String> {
        let (ack, done) = oneshot::channel();
        let tx = self.tx.clone();
        let (sent_tx, sent_rx) = std::sync::mpsc::channel();
        // blocking_send may wait for room; keep the whole wait under `within`.
        std::thread::spawn(move || {
            let given_up = tx
                .blocking_send(Msg::Flush(ack))
                .ok()
                .and_then(|()| done.blocking_recv().ok());
            let _ = sent_tx.send(given_up);
        });
        match sent_rx.recv_timeout(within) {
            Ok(Some(0)) => Ok(()),
            Ok(Some(n)) => Err(format!(
                "{n} queued audit records could not be committed and were given up (see the errors logged)"
            )),
            Ok(None) => Err("the audit writer stopped".into()),
            Err(_) => Err(format!(
                "the audit log did not drain within {} s; events still queued may be lost",
                within.as_secs()
            )),
        }
    }

    /// Runs `policy` on the writer thread (so the checkpoint joins the chain in order) and
    /// returns the rows removed per tenant.
    pub async fn retention(&self, policy: RetentionPolicy) -> Result<Vec<(String, u64)>, String> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Msg::Retention(policy, ack))
            .await
            .map_err(|_| "audit writer stopped".to_string())?;
        done.await.map_err(|_| "audit writer stopped".to_string())?
    }

    /// Starts a thread that applies `policy` now and then every `every`.
    pub fn schedule_retention(&self, policy: RetentionPolicy, every: Duration) {
        if policy.is_forever() {
            return;
        }
        let tx = self.tx.clone();
        let _ = std::thread::Builder::new()
            .name("promptwall-retention".into())
            .spawn(move || loop {
                let (ack, done) = oneshot::channel();
                if tx
                    .blocking_send(Msg::Retention(policy.clone(), ack))
                    .is_err()
                {
                    return;
                }
                let _ = done.blocking_recv();
                std::thread::sleep(every);
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_commit_that_never_comes_is_an_error_after_the_wait_not_a_hang() {
        let (_ack, done) = oneshot::channel::<Result<i64, String>>();
        let e = Queued(done).committed().await.unwrap_err();
        assert!(e.contains("did not commit within 30 s"), "{e}");
    }

    /// A minimal event stamped now: `id`, `kind` and `tenant` are what these tests vary.
    fn event(id: String, kind: &str, tenant: &str) -> AuditEvent {
        AuditEvent {
            id,
            time: crate::audit::event::now(),
            kind: kind.into(),
            tenant: tenant.into(),
            decision: "allow".into(),
            ..AuditEvent::default()
        }
    }

    #[tokio::test]
    async fn retention_runs_in_order_with_the_writes_and_keeps_the_chain() {
        let p = crate::audit::store::tests::tmp("writer");
        let w = AuditWriter::start(&p, 8, Durability::Full).unwrap();
        for (i, (tenant, time)) in [
            ("acme", "2020-01-01T00:00:00.000Z"),
            ("acme", "2099-01-01T00:00:00.000Z"),
            ("globex", "2020-01-01T00:00:00.000Z"),
        ]
        .into_iter()
        .enumerate()
        {
            w.record(AuditEvent {
                id: format!("e{i}"),
                time: time.into(),
                kind: "ai_request".into(),
                tenant: tenant.into(),
                decision: "allow".into(),
                ..AuditEvent::default()
            })
            .await
            .unwrap();
        }
        let policy = RetentionPolicy {
            default_days: Some(365),
            tenants: [("globex".to_string(), 3650)].into(),
            shipped_through: None,
        };
        // globex keeps ten years, so its 2020 event stays; acme's default year removes one.
        let removed = w.retention(policy).await.unwrap();
        assert_eq!(removed, [("acme".to_string(), 1)]);
        // Events after the checkpoints keep chaining.
        w.record(AuditEvent {
            id: "late".into(),
            time: crate::audit::event::now(),
            kind: "ai_request".into(),
            tenant: "acme".into(),
            decision: "allow".into(),
            ..AuditEvent::default()
        })
        .await
        .unwrap();
        let store = AuditStore::open(&p).unwrap();
        // acme's new event, globex's old one, the checkpoint, and the late event.
        assert_eq!(store.verify().unwrap(), 4);
    }

    #[tokio::test]
    async fn flush_returns_after_every_queued_event_is_committed() {
        let p = crate::audit::store::tests::tmp("writer-flush");
        let w = AuditWriter::start(&p, 4, Durability::Normal).unwrap();
        let mut pending = Vec::new();
        // More events than the queue holds: enqueue waits for room but never drops.
        for i in 0..50 {
            let q = w
                .enqueue(event(format!("q{i}"), "ai_response", "acme"))
                .await
                .unwrap();
            pending.push(q);
        }
        let w2 = w.clone();
        let drained = tokio::task::spawn_blocking(move || w2.flush(Duration::from_secs(10)))
            .await
            .unwrap();
        assert_eq!(drained, Ok(()));
        let store = AuditStore::open(&p).unwrap();
        assert_eq!(store.verify().unwrap(), 50);
        let mut seqs = Vec::new();
        for q in pending {
            seqs.push(q.committed().await.unwrap());
        }
        assert_eq!(seqs, (1..=50).collect::<Vec<i64>>());
    }

    /// Group commit under a burst: thousands of requests at once, each acknowledged with its
    /// own `seq` only after its commit, every one in the chain and nothing lost or doubled;
    /// and the burst was committed in fewer transactions than events.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn group_commit_loses_nothing_under_a_burst() {
        let p = crate::audit::store::tests::tmp("writer-burst");
        let w = AuditWriter::start(&p, 8_192, Durability::Full).unwrap();
        let commits_before = crate::metrics::METRICS
            .audit_write_seconds
            .get_sample_count();
        let tasks: Vec<_> = (0..3_000)
            .map(|i| {
                let w = w.clone();
                tokio::spawn(async move {
                    w.record(event(
                        format!("burst-{i}"),
                        "ai_request",
                        ["acme", "globex"][i % 2],
                    ))
                    .await
                })
            })
            .collect();
        let mut seqs = Vec::new();
        for t in tasks {
            seqs.push(t.await.unwrap().unwrap());
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=3_000).collect::<Vec<i64>>());
        let store = AuditStore::open(&p).unwrap();
        assert_eq!(store.verify().unwrap(), 3_000);
        let ids: std::collections::HashSet<String> = store
            .query(&crate::audit::Filter {
                limit: 10_000,
                ..Default::default()
            })
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids.len(), 3_000);
        let commits = crate::metrics::METRICS
            .audit_write_seconds
            .get_sample_count()
            - commits_before;
        assert!(commits < 3_000, "{commits} commits for 3,000 events");
    }

    #[test]
    fn a_restart_gives_way_to_a_reader_and_starts_the_wal_over_once_it_ends() {
        let p = crate::audit::store::tests::tmp("writer-restart");
        let mut store = AuditStore::open(&p).unwrap();
        let mut batch = |ids: std::ops::Range<u32>| {
            let mut events: Vec<AuditEvent> = ids
                .map(|i| event(format!("e{i}"), "ai_request", "acme"))
                .collect();
            store.insert(&mut events).unwrap();
        };
        batch(0..50);
        let checkpoints = Checkpointer::open(&p).unwrap();
        // An auditor's query holds a snapshot on the current WAL.
        let reader = rusqlite::Connection::open(&p).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        let n: i64 = reader
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 50);
        checkpoints.passive();
        assert!(!checkpoints.restart(), "the reader keeps the WAL");
        // The restart gave up and let go: the writer commits, and the checkpointer merges.
        batch(50..60);
        checkpoints.merge_indexes();
        reader.execute_batch("COMMIT").unwrap();
        checkpoints.passive();
        assert!(
            checkpoints.restart(),
            "with the reader gone, the WAL starts over"
        );
        batch(60..70);
        assert_eq!(AuditStore::open(&p).unwrap().verify().unwrap(), 70);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_commit_refuses_waiters_and_retries_queued_records() {
        let p = crate::audit::store::tests::tmp("writer-retry");
        let w = AuditWriter::start(&p, 16, Durability::Full).unwrap();
        let ev = |id: &str| event(id.into(), "ai_response", "acme");
        // Another connection holds the write lock past the writer's 5 s busy timeout.
        let lock = rusqlite::Connection::open(&p).unwrap();
        lock.execute_batch("BEGIN EXCLUSIVE").unwrap();
        drop(w.enqueue(ev("queued")).await.unwrap());
        let waited = w.record(ev("waited")).await;
        assert!(waited.is_err(), "a caller that waits is refused");
        lock.execute_batch("ROLLBACK").unwrap();
        drop(lock);
        let w2 = w.clone();
        assert_eq!(
            tokio::task::spawn_blocking(move || w2.flush(Duration::from_secs(30)))
                .await
                .unwrap(),
            Ok(()),
            "the queued record was retried, not given up"
        );
        let store = AuditStore::open(&p).unwrap();
        let ids: Vec<String> = store
            .query(&crate::audit::Filter::default())
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(
            ids,
            ["queued"],
            "the queued record was retried; the refused one was not kept"
        );
        assert_eq!(store.verify().unwrap(), 1);
    }
}
