//! The ONNX content classifier: labels what patterns cannot see (prompt injection, jailbreaks,
//! harmful intent, source code, confidential business text, health information).
//!
//! - Runtime: `ort` with `load-dynamic`. `libonnxruntime` is found through the config, then
//!   `ORT_DYLIB_PATH`, then the project-local install (`.cache/onnxruntime/`); a missing or wrong
//!   library is an error, never a panic.
//! - Inference runs on a small pool of worker threads, one session (one intra-op thread) each,
//!   never on the caller's thread; requests queue with a deadline and are batched dynamically
//!   (max batch, max wait), padded to the longest window of the batch.
//! - Long inputs are never silently truncated: the text is cut into overlapping windows of about
//!   256 tokens ([`windows`]), and every window is accounted for. A cascade keeps the encoder
//!   for the windows that need it: a first stage ([`ngram`]) scores each window in microseconds
//!   and settles the clearly benign ones; the encoder reads the rest, the most suspicious first,
//!   up to a budget. A bounded, keyed [`cache`] answers windows seen before, so the system
//!   prompt and history a chat client resends every turn cost nothing twice. The result says
//!   which windows went which way.

mod batcher;
pub mod cache;
pub mod ngram;
mod stats;
pub mod view;
pub mod windows;

pub use batcher::BatchStats;
use batcher::{Batcher, Job};
use ngram::NgramModel;
pub use stats::CascadeStats;
use stats::Counters;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use thiserror::Error;
use tokenizers::Tokenizer;

/// The library file the project's setup installs.
pub const ORT_LIBRARY: &str = "libonnxruntime.so.1.31.1";

/// Why the classifier could not be loaded.
#[derive(Debug, Error)]
pub enum ModelError {
    #[error("onnxruntime library: {0}")]
    Library(String),
    #[error("model {path}: {reason}")]
    Model { path: String, reason: String },
    #[error("invalid model artefact: {0}")]
    Invalid(String),
}

/// Why one classification did not produce labels; the tenant's `on_classifier_error` decides.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum ClassifyError {
    #[error("deadline of {0} ms exceeded")]
    Deadline(u128),
    #[error("model error: {0}")]
    Model(String),
    #[error("the classifier is not running")]
    Stopped,
    /// Refused at once: the work queued ahead could not finish before the deadline.
    #[error("the classifier is overloaded: its queue would not finish within the deadline")]
    Overloaded,
}

/// The model setup builds for this build's execution provider: the int8 graph on the CPU
/// (`.cache/model/model.onnx`); with `cuda`, the graph computing in float, since onnxruntime's
/// CUDA provider has no kernels for the int8 operators and would send them back to the CPU.
pub const DEFAULT_MODEL: &str = if cfg!(feature = "cuda") {
    ".cache/model/model-cuda.onnx"
} else {
    ".cache/model/model.onnx"
};

/// The largest batch a worker forms by default. On the CPU, rows of a large batch no longer fit
/// in cache and each costs more than alone (measured: 16 rows of 128 tokens are 30% slower per
/// row than 1), so batches stay small; a GPU gains from large ones.
pub const DEFAULT_MAX_BATCH: usize = if cfg!(feature = "cuda") { 32 } else { 4 };

/// How the classifier runs.
#[derive(Debug, Clone)]
pub struct ModelConfig {
    /// `libonnxruntime`; default: `ORT_DYLIB_PATH`, then `.cache/onnxruntime/`.
    pub library: Option<PathBuf>,
    /// The fused model; default: `PROMPTWALL_MODEL`, then [`DEFAULT_MODEL`].
    pub model: Option<PathBuf>,
    /// Worker threads, one session each.
    pub sessions: usize,
    /// Most windows per model run; default [`DEFAULT_MAX_BATCH`].
    pub max_batch: usize,
    pub max_wait: Duration,
    /// Window size in bytes before tokenizing (about 256 tokens of English).
    pub window_bytes: usize,
    pub window_overlap: usize,
    /// The most windows the encoder reads per text (the cache's and the first stage's answers
    /// do not count).
    pub max_windows: usize,
    /// Let the first stage's gate settle the windows it predicts the encoder would not flag
    /// (when the model ships a gate). It settles 22-78% of benign windows on held-out sources
    /// but loses some of what the encoder catches there (MODEL_CARD.md, "Cascade"), so it is
    /// off by default: the encoder reads every window up to `max_windows`.
    pub cascade: bool,
    /// Windows whose results are remembered (0: no cache).
    pub cache_entries: usize,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            library: None,
            model: None,
            sessions: 1,
            max_batch: DEFAULT_MAX_BATCH,
            max_wait: Duration::from_millis(2),
            window_bytes: 1000,
            window_overlap: 200,
            max_windows: 4,
            cascade: false,
            cache_entries: 65_536,
        }
    }
}

/// Which part of the text the encoder read, and how the rest was settled.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Coverage {
    pub text_bytes: usize,
    /// Byte ranges whose encoder scores count (read now, or earlier and cached).
    pub windows: Vec<(usize, usize)>,
    /// How many windows the text has in all.
    pub windows_total: usize,
    /// Windows the encoder read for this text.
    pub encoded: usize,
    /// Windows answered by the cache (settled or encoded before).
    pub cached: usize,
    /// Windows the first stage settled as clearly benign (now or before).
    pub settled: usize,
    /// Uncertain windows left unread because the text had more than `max_windows` of them.
    pub unread: usize,
    /// The first stage's highest score per label over the windows.
    pub first_stage: BTreeMap<String, f64>,
}

/// Label scores for one text.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Labels {
    /// Per label, the highest score over the windows read, in [0, 1].
    pub scores: BTreeMap<String, f64>,
    pub coverage: Coverage,
}

/// A window the first stage could not settle.
#[derive(Debug)]
struct Uncertain {
    /// Its place among the text's windows.
    order: usize,
    range: (usize, usize),
    key: u128,
    first: Vec<f32>,
    /// The highest first-stage score among the intent labels.
    suspicion: f32,
}

/// What the cache and the first stage settled of one text, and what is left for the encoder.
#[derive(Debug)]
pub struct Triage {
    /// The text with its views, when it has any (see [`view`]): what the windows cut.
    view: Option<String>,
    scores: Vec<f32>,
    first_max: Vec<f32>,
    coverage: Coverage,
    pending: Vec<Uncertain>,
}

impl Triage {
    /// Whether any window waits for the encoder (else [`ContentClassifier::finish`] returns
    /// at once).
    pub fn needs_encoder(&self) -> bool {
        !self.pending.is_empty()
    }
}

fn max_into(acc: &mut [f32], row: &[f32]) {
    for (a, v) in acc.iter_mut().zip(row) {
        *a = a.max(*v);
    }
}

/// Finds a project-local file: the working directory and the executable's ancestors.
fn find_local(rel: &str) -> Option<PathBuf> {
    let mut roots = vec![std::env::current_dir().ok()?];
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(exe.ancestors().skip(1).take(6).map(Path::to_path_buf));
    }
    roots.into_iter().map(|r| r.join(rel)).find(|p| p.exists())
}

fn resolve(given: &Option<PathBuf>, env: &str, local: &str, what: &str) -> Result<PathBuf, String> {
    if let Some(p) = given {
        return if p.exists() {
            Ok(p.clone())
        } else {
            Err(format!("{} (from the config) does not exist", p.display()))
        };
    }
    if let Some(p) = std::env::var_os(env).map(PathBuf::from) {
        return if p.exists() {
            Ok(p)
        } else {
            Err(format!("{} (from {env}) does not exist", p.display()))
        };
    }
    find_local(local).ok_or_else(|| format!("no {what} found: set it in the config or {env}, or run the project setup (`make setup`)"))
}

static ENV: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

fn environment(library: &Path) -> Result<&'static ort::environment::Environment, ModelError> {
    ENV.get_or_init(|| {
        let builder = ort::init_from(library).map_err(|e| format!("{}: {e}", library.display()))?;
        builder
            .with_name("promptwall")
            .build()
            .map_err(|e| format!("{}: {e}", library.display()))
    })
    .as_ref()
    .map_err(|e| ModelError::Library(e.clone()))
}

/// The loaded classifier; share it behind an `Arc`.
pub struct ContentClassifier {
    pub labels: Vec<String>,
    /// Per-label thresholds from the model's metadata (policies may override them).
    pub thresholds: BTreeMap<String, f64>,
    /// The execution provider the sessions actually use (`cpu`, or `cuda` when it registered).
    pub provider: String,
    tokenizer: Tokenizer,
    max_tokens: usize,
    ngram: NgramModel,
    /// The intent labels' indexes: a window's suspicion is its highest first-stage score
    /// among them.
    attack: Vec<usize>,
    cache: cache::WindowCache,
    counters: Counters,
    batcher: Batcher,
    cfg: ModelConfig,
    viewer: view::Viewer,
}

impl std::fmt::Debug for ContentClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContentClassifier")
            .field("labels", &self.labels)
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl ContentClassifier {
    /// Loads the library, the model and the tokenizer, and starts the workers.
    pub fn load(cfg: ModelConfig) -> Result<Self, ModelError> {
        let library = resolve(
            &cfg.library,
            "ORT_DYLIB_PATH",
            &format!(".cache/onnxruntime/{ORT_LIBRARY}"),
            "onnxruntime library",
        )
        .map_err(ModelError::Library)?;
        let model = resolve(
            &cfg.model,
            "PROMPTWALL_MODEL",
            DEFAULT_MODEL,
            "classifier model",
        )
        .map_err(|reason| ModelError::Model {
            path: "model.onnx".into(),
            reason,
        })?;
        let env = environment(&library)?;
        let model_err = |reason: String| ModelError::Model {
            path: model.display().to_string(),
            reason,
        };
        #[allow(unused_mut)]
        let mut provider = "cpu".to_string();
        let mut sessions = Vec::new();
        for _ in 0..cfg.sessions.max(1) {
            let builder =
                ort::session::Session::builder(env).map_err(|e| model_err(e.to_string()))?;
            #[allow(unused_mut)]
            let mut builder = builder
                .with_intra_threads(1)
                .map_err(|e| model_err(e.to_string()))?;
            #[cfg(feature = "cuda")]
            let mut builder = {
                // Asked to fail loudly, so a missing CUDA runtime is reported rather than skipped.
                let cuda = ort::ep::CUDA::default().build().error_on_failure();
                match builder.with_execution_providers([cuda]) {
                    Ok(b) => {
                        provider = "cuda".to_string();
                        b
                    }
                    Err(e) => {
                        provider = format!("cpu (cuda unavailable: {e})");
                        e.recover()
                    }
                }
            };
            sessions.push(
                builder
                    .commit_from_file(&model)
                    .map_err(|e| model_err(e.to_string()))?,
            );
        }
        let meta = sessions[0]
            .metadata()
            .map_err(|e| model_err(e.to_string()))?;
        let labels: Vec<String> = meta
            .custom("promptwall.labels")
            .ok_or_else(|| {
                model_err(
                    "no promptwall.labels in the model's metadata (not a PromptWall model?)".into(),
                )
            })?
            .split(',')
            .map(str::to_string)
            .collect();
        let thresholds: BTreeMap<String, f64> = meta
            .custom("promptwall.thresholds")
            .and_then(|t| serde_json::from_str(&t).ok())
            .ok_or_else(|| model_err("no promptwall.thresholds in the model's metadata".into()))?;
        let max_tokens = meta
            .custom("promptwall.max_tokens")
            .and_then(|t| t.parse().ok())
            .unwrap_or(256);
        drop(meta);
        let mut tokenizer = Tokenizer::from_bytes(include_bytes!("../../models/tokenizer.json"))
            .map_err(|e| ModelError::Invalid(format!("tokenizer.json: {e}")))?;
        // The shipped tokenizer pads every text to 128 tokens; the batcher pads per batch instead,
        // and windows are cut at the model's length, as in training.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(tokenizers::TruncationParams {
                max_length: max_tokens,
                ..Default::default()
            }))
            .map_err(|e| ModelError::Invalid(format!("tokenizer truncation: {e}")))?;
        let ngram = NgramModel::builtin()?;
        if ngram.labels != labels {
            return Err(ModelError::Invalid(
                "the n-gram model and the ONNX model disagree on labels".into(),
            ));
        }
        if provider == "cuda" {
            // The first run of a large batch grows the device memory arena (about 100 ms):
            // pay for it here, not in a request.
            let ids = vec![0i64; max_tokens];
            let batch = vec![ids.as_slice(); cfg.max_batch.max(1)];
            for s in &mut sessions {
                batcher::run_batch(s, &batch, labels.len()).map_err(model_err)?;
            }
        }
        let batcher = Batcher::start(sessions, labels.len(), cfg.max_batch, cfg.max_wait)
            .map_err(|e| ModelError::Invalid(format!("cannot start inference threads: {e}")))?;
        let attack = ["prompt_injection", "jailbreak", "harmful"]
            .iter()
            .filter_map(|l| labels.iter().position(|x| x == l))
            .collect();
        let cache = cache::WindowCache::new(cfg.cache_entries).map_err(ModelError::Invalid)?;
        Ok(ContentClassifier {
            labels,
            thresholds,
            provider,
            tokenizer,
            max_tokens,
            ngram,
            attack,
            cache,
            counters: Counters::default(),
            batcher,
            cfg,
            viewer: view::Viewer::new(),
        })
    }

    fn encode(&self, window: &str) -> Result<Vec<i64>, ClassifyError> {
        let enc = self
            .tokenizer
            .encode(window, true)
            .map_err(|e| ClassifyError::Model(e.to_string()))?;
        let mut ids: Vec<i64> = enc.get_ids().iter().map(|&i| i64::from(i)).collect();
        if ids.len() > self.max_tokens {
            // Keep [CLS] ... and the final [SEP]; the window was cut to about this size already.
            let sep = *ids.last().unwrap_or(&0);
            ids.truncate(self.max_tokens - 1);
            ids.push(sep);
        }
        Ok(ids)
    }

    /// Scores `text`, waiting at most `deadline` (queueing included); see [`Self::classify_in`].
    pub fn classify(&self, text: &str, deadline: Duration) -> Result<Labels, ClassifyError> {
        self.classify_in("", text, deadline)
    }

    /// Scores `text` for `scope` (the tenant: cached results are never shared across scopes),
    /// waiting at most `deadline`: [`Self::triage`], then [`Self::finish`].
    pub fn classify_in(
        &self,
        scope: &str,
        text: &str,
        deadline: Duration,
    ) -> Result<Labels, ClassifyError> {
        let t = self.triage(scope, text);
        self.finish(t, text, deadline)
    }

    /// [`Self::classify_in`] of a text joined from segments at `segments` (see
    /// [`Self::triage_segments`]).
    pub fn classify_segments_in(
        &self,
        scope: &str,
        text: &str,
        segments: &[(usize, usize)],
        deadline: Duration,
    ) -> Result<Labels, ClassifyError> {
        let t = self.triage_segments(scope, text, segments);
        self.finish(t, text, deadline)
    }

    /// The cheap part of a classification, microseconds per window, fit for the caller's
    /// thread: the cache answers windows seen before, and the first stage settles the clearly
    /// benign ones (the cascade). What is left for the encoder, the most suspicious first up
    /// to `max_windows`, is in the result; [`Triage::needs_encoder`] says whether there is any.
    pub fn triage(&self, scope: &str, text: &str) -> Triage {
        self.triage_segments(scope, text, &[(0, text.len())])
    }

    /// [`Self::triage`] of a text joined from segments (messages) at the byte ranges
    /// `segments`: windows are cut within runs that start at long segments
    /// ([`windows::runs`]), so a new last message is read with only `window_overlap` bytes of
    /// what came before it. A text read through a view (decoded or de-obfuscated) is windowed
    /// within the view's own parts instead.
    pub fn triage_segments(&self, scope: &str, text: &str, segments: &[(usize, usize)]) -> Triage {
        match self.viewer.view(text) {
            None => {
                // Runs start at segments of a window or more, once the run before holds a
                // window less the overlap: a prompt of shorter messages is windowed as before.
                let (size, overlap) =
                    windows::clamped(self.cfg.window_bytes, self.cfg.window_overlap);
                let runs = windows::runs(text, segments, size, size - overlap, overlap);
                self.triage_view(scope, text, &runs)
            }
            Some(v) => {
                let mut t = self.triage_view(scope, &v.text, &v.parts());
                t.view = Some(v.text);
                t
            }
        }
    }

    /// Triage over `text`, cut into windows within each of its `parts`.
    fn triage_view(&self, scope: &str, text: &str, parts: &[(usize, usize)]) -> Triage {
        let all: Vec<(usize, usize)> = parts
            .iter()
            .flat_map(|&(ps, pe)| {
                windows::split(
                    &text[ps..pe],
                    self.cfg.window_bytes,
                    self.cfg.window_overlap,
                )
                .into_iter()
                .map(move |(s, e)| (ps + s, ps + e))
            })
            .collect();
        let n = self.labels.len();
        let mut t = Triage {
            view: None,
            scores: vec![0f32; n],
            first_max: vec![0f32; n],
            coverage: Coverage {
                text_bytes: text.len(),
                windows_total: all.len(),
                ..Coverage::default()
            },
            pending: Vec::new(),
        };
        for (i, &(s, e)) in all.iter().enumerate() {
            let window = &text[s..e];
            let key = self.cache.key(scope, window);
            if let Some(hit) = self.cache.get(key) {
                t.coverage.cached += 1;
                max_into(&mut t.first_max, &hit.first);
                if let Some(m) = &hit.model {
                    max_into(&mut t.scores, m);
                    t.coverage.windows.push((s, e));
                } else {
                    t.coverage.settled += 1;
                }
                continue;
            }
            let scored = self.ngram.score(window, self.cfg.cascade);
            let settles = self.cfg.cascade && self.ngram.settles(&scored);
            let first = scored.labels;
            max_into(&mut t.first_max, &first);
            if settles {
                t.coverage.settled += 1;
                self.cache.insert(
                    key,
                    cache::Entry {
                        first: first.into(),
                        model: None,
                    },
                );
                continue;
            }
            let suspicion = self.attack.iter().map(|&j| first[j]).fold(0.0, f32::max);
            t.pending.push(Uncertain {
                order: i,
                range: (s, e),
                key,
                first,
                suspicion,
            });
        }
        if t.pending.len() > self.cfg.max_windows {
            // Over budget: the most suspicious windows first; the rest stay unread, and the
            // coverage says so.
            t.pending.sort_by(|a, b| {
                b.suspicion
                    .total_cmp(&a.suspicion)
                    .then(a.order.cmp(&b.order))
            });
            t.coverage.unread = t.pending.len() - self.cfg.max_windows;
            t.pending.truncate(self.cfg.max_windows);
            t.pending.sort_by_key(|p| p.order);
        }
        t
    }

    /// Runs the encoder on what [`Self::triage`] left uncertain in `text`, waiting at most
    /// `deadline` (queueing included; blocking: call it off async workers when
    /// `t.needs_encoder()`), and assembles the labels.
    pub fn finish(
        &self,
        t: Triage,
        text: &str,
        deadline: Duration,
    ) -> Result<Labels, ClassifyError> {
        let due = Instant::now() + deadline;
        let Triage {
            view,
            mut scores,
            first_max,
            mut coverage,
            pending,
        } = t;
        let text = view.as_deref().unwrap_or(text);
        if let Err(e) = self.read_uncertain(pending, text, due, &mut scores, &mut coverage) {
            self.counters.failed();
            return Err(match e {
                ClassifyError::Deadline(_) => ClassifyError::Deadline(deadline.as_millis()),
                other => other,
            });
        }
        // The first stage may raise an intent label on its own where it is confident.
        self.ngram.raise_confident(&first_max, &mut scores);
        coverage.windows.sort_unstable();
        self.counters.record(&coverage);
        let named = |v: Vec<f32>| {
            self.labels
                .iter()
                .zip(v)
                .map(|(l, v)| (l.clone(), f64::from(v)))
                .collect()
        };
        coverage.first_stage = named(first_max);
        Ok(Labels {
            scores: named(scores),
            coverage,
        })
    }

    /// Sends the uncertain windows to the encoder and folds their scores in, caching each.
    fn read_uncertain(
        &self,
        pending: Vec<Uncertain>,
        text: &str,
        due: Instant,
        scores: &mut [f32],
        coverage: &mut Coverage,
    ) -> Result<(), ClassifyError> {
        let jobs = pending
            .iter()
            .map(|u| Ok(Job::new(self.encode(&text[u.range.0..u.range.1])?, due)))
            .collect::<Result<Vec<_>, ClassifyError>>()?;
        let receivers = self.batcher.submit_all(jobs)?;
        for (u, rx) in pending.into_iter().zip(receivers) {
            let row = match rx.recv_deadline(due) {
                Ok(r) => r?,
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                    return Err(ClassifyError::Deadline(0))
                }
                Err(_) => return Err(ClassifyError::Stopped),
            };
            max_into(scores, &row);
            coverage.windows.push(u.range);
            coverage.encoded += 1;
            self.cache.insert(
                u.key,
                cache::Entry {
                    first: u.first.into(),
                    model: Some(row.into()),
                },
            );
        }
        Ok(())
    }

    /// How the cascade and the cache have split the windows so far, for metrics.
    pub fn cascade_stats(&self) -> CascadeStats {
        self.counters.snapshot()
    }

    /// Batch counters and queue depth, for metrics.
    pub fn batch_stats(&self) -> BatchStats {
        self.batcher.stats()
    }

    /// Scores several windows' token ids in one direct run, bypassing the queue (the baseline
    /// for measuring the batching worker's overhead).
    pub fn run_direct(&self, windows: &[&str]) -> Result<Vec<Vec<f32>>, ClassifyError> {
        let ids = windows
            .iter()
            .map(|w| self.encode(w))
            .collect::<Result<Vec<_>, _>>()?;
        self.batcher.run_now(ids)
    }
}
