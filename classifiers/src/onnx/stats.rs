//! Counters of how the cascade and the cache split the work, for metrics and load reports.

use super::Coverage;
use std::sync::atomic::{AtomicU64, Ordering};

/// Running totals since the classifier loaded.
#[derive(Debug, Default)]
pub(super) struct Counters {
    texts: AtomicU64,
    texts_encoded: AtomicU64,
    windows: AtomicU64,
    cached: AtomicU64,
    settled: AtomicU64,
    encoded: AtomicU64,
    unread: AtomicU64,
    failed: AtomicU64,
}

/// A snapshot of the cascade's totals since the classifier loaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CascadeStats {
    /// Texts classified.
    pub texts: u64,
    /// Texts for which the encoder read at least one window.
    pub texts_encoded: u64,
    /// Windows in those texts.
    pub windows: u64,
    /// Windows the cache answered.
    pub cached: u64,
    /// Windows the first stage settled (not counting cache hits).
    pub settled: u64,
    /// Windows the encoder read.
    pub encoded: u64,
    /// Uncertain windows left unread over the per-text budget.
    pub unread: u64,
    /// Texts whose classification failed (deadline, model error): not counted above; the
    /// tenant's `on_classifier_error` decided them.
    pub failed: u64,
}

impl CascadeStats {
    /// The share of windows the cache answered.
    pub fn cache_hit_rate(&self) -> f64 {
        ratio(self.cached, self.windows)
    }

    /// Of the windows the cache did not answer, the share the encoder read.
    pub fn encoder_share(&self) -> f64 {
        ratio(self.encoded, self.encoded + self.settled)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

impl Counters {
    /// Adds one text's split. Cached windows count once, as `cached`.
    pub(super) fn record(&self, c: &Coverage) {
        let add = |a: &AtomicU64, v: usize| a.fetch_add(v as u64, Ordering::Relaxed);
        add(&self.texts, 1);
        add(&self.texts_encoded, usize::from(c.encoded > 0));
        add(&self.windows, c.windows_total);
        add(&self.cached, c.cached);
        // `settled` in a coverage includes cache hits of settled windows.
        let settled_fresh = c.windows_total - c.cached - c.encoded - c.unread;
        add(&self.settled, settled_fresh);
        add(&self.encoded, c.encoded);
        add(&self.unread, c.unread);
    }

    /// Counts a classification that failed.
    pub(super) fn failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn snapshot(&self) -> CascadeStats {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        CascadeStats {
            texts: get(&self.texts),
            texts_encoded: get(&self.texts_encoded),
            windows: get(&self.windows),
            cached: get(&self.cached),
            settled: get(&self.settled),
            encoded: get(&self.encoded),
            unread: get(&self.unread),
            failed: get(&self.failed),
        }
    }
}
