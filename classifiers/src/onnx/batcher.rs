//! The batching worker: one thread per session. A worker takes the first waiting job, gathers
//! what is queued (waiting up to `max_wait` for more only when the queue is busy) until the
//! batch is full, runs it and answers each caller.
//!
//! A run pads every row to its longest, and a padded token costs as much as a real one. Chat
//! traffic mixes full windows with short tails (a new message rarely ends on a window edge), so
//! one padded batch of both wasted about a third of the model's time (measured on this CPU:
//! four 256-token and four 150-token windows, 471 ms as one batch, 315 ms as two runs of equal
//! lengths, 296 ms one by one). So a gathered batch runs as groups of similar length
//! ([`length_groups`]), and the padding left is counted (`BatchStats::padded_tokens`).
//!
//! Under overload a deadline queue collapses: every job waits its whole deadline, the workers
//! spend their time on jobs whose callers have already given up, and almost nothing is answered
//! in time (measured: 16 of 616 texts at 16 concurrent chat clients). So the batcher keeps a
//! running estimate of the model's cost per token, and
//! - refuses a job at once (`Overloaded`) when the work queued ahead of it cannot finish before
//!   its deadline, so its caller's policy decides in microseconds instead of after the deadline;
//! - drops, before running a batch, the jobs that would finish past their deadline anyway, so
//!   the model's time goes to jobs that can still be answered.

use super::ClassifyError;
use crossbeam_channel::{bounded, Receiver, Sender};
use ort::session::Session;
use ort::value::Tensor;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Where one job's scores (or why not) arrive.
pub type Reply = Receiver<Result<Vec<f32>, ClassifyError>>;

/// One window to score.
pub struct Job {
    ids: Vec<i64>,
    due: Instant,
    /// Its tokens, as counted into `Counters::queued_tokens`.
    queued: u64,
    reply: Option<Sender<Result<Vec<f32>, ClassifyError>>>,
}

impl Job {
    /// A job answered by `submit`'s receiver.
    pub fn new(ids: Vec<i64>, due: Instant) -> Self {
        Job {
            ids,
            due,
            queued: 0,
            reply: None,
        }
    }
}

/// Counts for telemetry (how full the batches are, how long the queue is) and the cost
/// estimate behind admission.
#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    rows: AtomicU64,
    /// Tokens waiting in the queue.
    queued_tokens: AtomicU64,
    /// Nanoseconds per padded token of a model run, a moving average (0: nothing measured yet,
    /// so nothing is refused).
    ns_per_token: AtomicU64,
    /// Jobs refused at the door or dropped before running: they could not finish in time.
    shed: AtomicU64,
    /// Model runs measured so far.
    runs: AtomicU64,
    /// Real tokens scored, and the tokens the runs padded them to.
    tokens: AtomicU64,
    padded: AtomicU64,
}

impl Counters {
    /// How long `tokens` padded tokens take to run, by the current estimate.
    fn cost(&self, tokens: u64) -> Duration {
        Duration::from_nanos(tokens.saturating_mul(self.ns_per_token.load(Ordering::Relaxed)))
    }

    /// Folds one run's measured cost into the estimate (weight 1/8). The first run is not
    /// counted: it pays for the session's cold start.
    fn observe(&self, tokens: u64, took: Duration) {
        if tokens == 0 || self.runs.fetch_add(1, Ordering::Relaxed) == 0 {
            return;
        }
        let now = (took.as_nanos() / u128::from(tokens)).min(u128::from(u32::MAX)) as u64;
        let old = self.ns_per_token.load(Ordering::Relaxed);
        let new = if old == 0 { now } else { (old * 7 + now) / 8 };
        self.ns_per_token.store(new, Ordering::Relaxed);
    }
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
    /// Windows refused or dropped because they could not be scored before their deadline.
    pub shed: u64,
    /// Tokens of the windows scored, and what the runs padded them to: the model's time
    /// spent on padding is `1 - tokens / padded_tokens`.
    pub tokens: u64,
    pub padded_tokens: u64,
}

/// Runs shorter than this many (padded) tokens do not update the cost estimate.
const MIN_OBSERVED_TOKENS: usize = 64;

/// Most padding a run may carry, as a share of its real tokens.
const PAD_SLACK: f64 = 0.125;

/// Cuts jobs sorted by length (ascending) into runs whose padding stays within [`PAD_SLACK`]
/// of their real tokens: `(start, end)` ranges into `lens`, in order.
fn length_groups(lens: &[usize]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < lens.len() {
        let mut end = start + 1;
        let mut real = lens[start];
        while end < lens.len() {
            let (n, longest) = (end + 1 - start, lens[end]);
            if (longest * n) as f64 > (real + lens[end]) as f64 * (1.0 + PAD_SLACK) {
                break;
            }
            real += lens[end];
            end += 1;
        }
        out.push((start, end));
        start = end;
    }
    out
}

/// Tokens one run of windows of these lengths costs: each padded to the longest (at least 1,
/// as [`run_batch`] pads).
fn padded(lens: impl ExactSizeIterator<Item = usize>) -> usize {
    let n = lens.len();
    lens.max().unwrap_or(0).max(1) * n
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
        for j in &jobs {
            counters
                .queued_tokens
                .fetch_sub(j.queued, Ordering::Relaxed);
        }
        // Similar lengths run together; the order within a group does not matter.
        jobs.sort_by_key(|j| j.ids.len());
        let lens: Vec<usize> = jobs.iter().map(|j| j.ids.len()).collect();
        // A job that would finish past its deadline is answered now: its caller's policy
        // decides, and the model's time goes to jobs that can still be answered. Groups run in
        // turn, so a job's finish is the estimated cost of its group and those before it.
        let now = Instant::now();
        let mut at = Duration::ZERO;
        let mut groups = Vec::new();
        let mut jobs = jobs.into_iter();
        for (s, e) in length_groups(&lens) {
            let group: Vec<Job> = jobs.by_ref().take(e - s).collect();
            at += counters.cost(padded(group.iter().map(|j| j.ids.len())) as u64);
            let live = shed_late(&counters, group, now + at);
            if !live.is_empty() {
                groups.push(live);
            }
        }
        for group in groups {
            // Checked again as each group starts: an earlier one may have run long.
            let cost = counters.cost(padded(group.iter().map(|j| j.ids.len())) as u64);
            let live = shed_late(&counters, group, Instant::now() + cost);
            if !live.is_empty() {
                run_group(&session, &counters, live, labels);
            }
        }
    }
}

/// Answers `Deadline` to the jobs of `group` due before `done`; returns the others.
fn shed_late(counters: &Counters, group: Vec<Job>, done: Instant) -> Vec<Job> {
    let (live, late): (Vec<Job>, Vec<Job>) = group.into_iter().partition(|j| j.due > done);
    for j in late {
        counters.shed.fetch_add(1, Ordering::Relaxed);
        if let Some(r) = j.reply {
            let _ = r.send(Err(ClassifyError::Deadline(0)));
        }
    }
    live
}

/// Runs one group of similar-length jobs in one padded call and answers each.
fn run_group(session: &Mutex<Session>, counters: &Counters, group: Vec<Job>, labels: usize) {
    let batch: Vec<&[i64]> = group.iter().map(|j| j.ids.as_slice()).collect();
    let real: usize = batch.iter().map(|b| b.len()).sum();
    let padded = padded(batch.iter().map(|b| b.len()));
    counters.batches.fetch_add(1, Ordering::Relaxed);
    counters
        .rows
        .fetch_add(batch.len() as u64, Ordering::Relaxed);
    counters.tokens.fetch_add(real as u64, Ordering::Relaxed);
    counters.padded.fetch_add(padded as u64, Ordering::Relaxed);
    let started = Instant::now();
    let result = match session.lock() {
        Ok(mut s) => run_batch(&mut s, &batch, labels),
        Err(_) => Err("session lock poisoned".into()),
    };
    // A run of a few tokens is mostly the call's fixed cost, which would inflate the
    // per-token estimate and refuse work that fits.
    if result.is_ok() && padded >= MIN_OBSERVED_TOKENS {
        counters.observe(padded as u64, started.elapsed());
    }
    match result {
        Ok(rows) => {
            for (j, row) in group.into_iter().zip(rows) {
                if let Some(r) = j.reply {
                    let _ = r.send(Ok(row));
                }
            }
        }
        Err(e) => {
            for j in group {
                if let Some(r) = j.reply {
                    let _ = r.send(Err(ClassifyError::Model(e.clone())));
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
            shed: self.counters.shed.load(Ordering::Relaxed),
            tokens: self.counters.tokens.load(Ordering::Relaxed),
            padded_tokens: self.counters.padded.load(Ordering::Relaxed),
        }
    }

    /// Queues one text's jobs, admitted or refused together (refusing one window and
    /// running its siblings would spend the model on a text that fails anyway); one receiver
    /// per job, in order.
    pub fn submit_all(&self, jobs: Vec<Job>) -> Result<Vec<Reply>, ClassifyError> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let now = Instant::now();
        let due = jobs.iter().map(|j| j.due).min().unwrap_or(now);
        if now >= due {
            return Err(ClassifyError::Deadline(0));
        }
        // Admission: the work queued ahead, shared by the workers, plus these jobs' own runs
        // must fit before the deadline. An empty queue always admits, so an estimate made high
        // by one slow run is corrected by the next run instead of refusing everything.
        let tokens: u64 = jobs.iter().map(|j| j.ids.len() as u64).sum();
        let queued = self.counters.queued_tokens.load(Ordering::Relaxed);
        let ahead = queued / self.workers.len().max(1) as u64;
        if queued > 0 && now + self.counters.cost(ahead + tokens) > due {
            self.counters
                .shed
                .fetch_add(jobs.len() as u64, Ordering::Relaxed);
            return Err(ClassifyError::Overloaded);
        }
        let mut receivers = Vec::with_capacity(jobs.len());
        for mut job in jobs {
            let (rtx, rrx) = bounded(1);
            let n = job.ids.len() as u64;
            job.reply = Some(rtx);
            job.queued = n;
            self.counters.queued_tokens.fetch_add(n, Ordering::Relaxed);
            self.tx.try_send(job).map_err(|e| {
                self.counters.queued_tokens.fetch_sub(n, Ordering::Relaxed);
                match e {
                    crossbeam_channel::TrySendError::Full(_) => ClassifyError::Overloaded,
                    crossbeam_channel::TrySendError::Disconnected(_) => ClassifyError::Stopped,
                }
            })?;
            receivers.push(rrx);
        }
        Ok(receivers)
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn full_windows_and_short_tails_run_apart() {
        assert_eq!(length_groups(&[150, 150, 256, 256]), vec![(0, 2), (2, 4)]);
        assert_eq!(length_groups(&[256; 8]), vec![(0, 8)]);
        assert_eq!(length_groups(&[12, 256]), vec![(0, 1), (1, 2)]);
        assert_eq!(length_groups(&[240, 250, 256]), vec![(0, 3)]);
        assert!(length_groups(&[]).is_empty());
        let lens = [150, 150, 256, 256];
        let total: usize = length_groups(&lens)
            .iter()
            .map(|&(s, e)| padded(lens[s..e].iter().copied()))
            .sum();
        assert_eq!(total, 812);
    }

    proptest! {
        #[test]
        fn groups_cover_every_job_in_order_within_the_slack(
            mut lens in proptest::collection::vec(1usize..300, 0..40)
        ) {
            lens.sort_unstable();
            let groups = length_groups(&lens);
            let mut next = 0;
            for &(s, e) in &groups {
                prop_assert_eq!(s, next);
                prop_assert!(e > s);
                let real: usize = lens[s..e].iter().sum();
                let padded = padded(lens[s..e].iter().copied());
                // A group of one has no padding; a larger one stays within the slack.
                prop_assert!(e - s == 1 || padded as f64 <= real as f64 * (1.0 + PAD_SLACK));
                next = e;
            }
            prop_assert_eq!(next, lens.len());
        }
    }
}
