//! Where the encoder's windows fall in a text.
//!
//! [`split`]: windows start at fixed offsets from the beginning of the text (`size` bytes, `overlap` bytes
//! shared with the next, snapped forward to character boundaries), so a text that only grew at
//! its end (a chat's next turn) has the same leading windows as before, which the window cache
//! then answers. Windows cover the whole text and cross segment boundaries, so an attack split
//! across two messages lands in one window.
//!
//! When the caller says where its segments (messages) start, [`runs`] first cuts the text at
//! the starts of long segments, each run reaching `overlap` bytes back into the one before, and
//! windows are then cut within each run. A new last message of a chat then costs its own bytes
//! plus the overlap, instead of dragging in the tail of the history that fixed offsets put in
//! its first window (a 1 KB message after 3 KB of history: 1,425 bytes encoded instead of
//! 1,824), and a value or instruction split across the boundary still lands in one window.

/// Byte ranges covering all of `text`, in order, each at most `size` bytes (plus a character),
/// consecutive ones sharing `overlap` bytes.
pub fn split(text: &str, size: usize, overlap: usize) -> Vec<(usize, usize)> {
    let (size, overlap) = clamped(size, overlap);
    let snap = |mut i: usize| {
        while i < text.len() && !text.is_char_boundary(i) {
            i += 1;
        }
        i.min(text.len())
    };
    let mut all = Vec::with_capacity(text.len() / (size - overlap) + 1);
    let mut start = 0;
    loop {
        let end = snap((start + size).min(text.len()));
        all.push((start, end));
        if end >= text.len() {
            break;
        }
        start = snap(end.saturating_sub(overlap).max(start + 1));
    }
    all
}

/// The window size and overlap [`split`] actually uses: at least 64 bytes, and an overlap of
/// at most half a window.
pub fn clamped(size: usize, overlap: usize) -> (usize, usize) {
    let size = size.max(64);
    (size, overlap.min(size / 2))
}

/// Runs of `text` to cut windows in. `segments` are the byte ranges of the caller's segments
/// (in order; what lies between them, a separator, belongs to no segment; ranges are snapped
/// to character boundaries and clamped to the text). A new run starts at a segment of at least
/// `min_len` bytes when the run before already holds `min_run` bytes, and reaches back
/// `overlap` bytes into the text before it; otherwise the segment joins the run before. The
/// last run ends at the end of the text. Runs never leave a byte between them, and a run
/// depends only on the segments before the next one starts, so text appended after it leaves
/// it, and its windows, unchanged.
///
/// With `min_len` at least a window and `min_run` a window less the overlap, a prompt of
/// segments shorter than a window is windowed exactly as [`split`] does, and a run adds at
/// most one window over [`split`] for a segment that holds a window or more.
pub fn runs(
    text: &str,
    segments: &[(usize, usize)],
    min_len: usize,
    min_run: usize,
    overlap: usize,
) -> Vec<(usize, usize)> {
    let snap = |mut i: usize| {
        while i < text.len() && !text.is_char_boundary(i) {
            i += 1;
        }
        i.min(text.len())
    };
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &(s, e) in segments {
        let (s, e) = (snap(s), snap(e));
        let long = e.saturating_sub(s) >= min_len;
        let Some(&(run_start, run_end)) = out.last() else {
            out.push((0, e));
            continue;
        };
        // Reaching back from the segment's start, or from the run's end when the ranges leave
        // a gap, so that no byte falls between two runs unread.
        let from = snap(s.min(run_end).saturating_sub(overlap));
        if long && run_end - run_start >= min_run && from > run_start {
            out.push((from, e.max(from)));
        } else if let Some(run) = out.last_mut() {
            run.1 = run.1.max(e);
        }
    }
    match out.last_mut() {
        // Whatever follows the last segment (nothing, when the caller joined them) is read too.
        Some(run) => run.1 = text.len(),
        None => out.push((0, text.len())),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn windows_cover_the_text_in_order_on_char_boundaries(
            text in "\\PC{0,3000}", size in 64usize..1200, overlap in 0usize..600
        ) {
            let w = split(&text, size, overlap);
            prop_assert_eq!(w[0].0, 0);
            prop_assert_eq!(w.last().unwrap().1, text.len());
            for (s, e) in &w {
                prop_assert!(text.is_char_boundary(*s) && text.is_char_boundary(*e));
                prop_assert!(e - s <= size.max(64) + 4);
            }
            for pair in w.windows(2) {
                // No gap between neighbours, and always progress.
                prop_assert!(pair[1].0 <= pair[0].1 && pair[1].0 > pair[0].0);
            }
        }

        #[test]
        fn a_text_that_grows_at_its_end_keeps_its_leading_windows(
            head in "[a-z ]{0,4000}", tail in "[a-z ]{1,2000}"
        ) {
            let before = split(&head, 1000, 200);
            let grown = format!("{head}{tail}");
            let after = split(&grown, 1000, 200);
            // Every window of the shorter text that ended before its end is unchanged.
            for w in before.iter().filter(|w| w.1 < head.len()) {
                prop_assert!(after.contains(w));
            }
        }

        #[test]
        fn runs_cover_the_text_and_a_new_segment_keeps_the_earlier_runs(
            segs in proptest::collection::vec("[a-z ]{1,1500}", 1..6), new in "[a-z ]{1,1500}"
        ) {
            let ranges = |segs: &[String]| {
                let mut at = 0;
                segs.iter().map(|s| { let a = at; at += s.len() + 1; (a, a + s.len()) }).collect::<Vec<_>>()
            };
            let text = segs.join("\n");
            let r = runs(&text, &ranges(&segs), 1000, 800, 200);
            prop_assert_eq!(r[0].0, 0);
            prop_assert_eq!(r.last().unwrap().1, text.len());
            for pair in r.windows(2) {
                // Each run reaches back into the one before: no gap.
                prop_assert!(pair[1].0 <= pair[0].1 && pair[1].0 >= pair[0].0);
            }
            let mut grown_segs = segs.clone();
            grown_segs.push(new.clone());
            let grown = grown_segs.join("\n");
            let after = runs(&grown, &ranges(&grown_segs), 1000, 800, 200);
            // Every run but the last is unchanged, so the cache answers its windows.
            for run in &r[..r.len() - 1] {
                prop_assert!(after.contains(run));
            }
            let last = after.last().unwrap();
            let new_start = text.len() + 1;
            prop_assert!(last.0 <= new_start);
            if after.len() > r.len() {
                // A new run for the new segment costs it plus the overlap.
                prop_assert_eq!(last.0, new_start - 201);
            }
            // No segment shorter than a window: windowed exactly as the whole text would be.
            if grown_segs.iter().all(|s| s.len() < 1000) {
                prop_assert_eq!(after.clone(), vec![(0, grown.len())]);
            }
            // At most one window more than fixed offsets per run started.
            let windows: usize = after.iter().map(|&(s, e)| split(&grown[s..e], 1000, 200).len()).sum();
            prop_assert!(windows < split(&grown, 1000, 200).len() + after.len());
        }
    }

    #[test]
    fn ranges_with_gaps_or_off_character_boundaries_leave_nothing_unread() {
        let text = format!("{}é{}", "a".repeat(99), "b".repeat(900));
        // A gap between the ranges, and a range that starts inside 'é'.
        let r = runs(&text, &[(0, 50), (100, 1001)], 250, 0, 20);
        assert_eq!(r, vec![(0, 50), (30, text.len())]);
        for (s, e) in r {
            assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
        }
    }

    #[test]
    fn a_long_segment_starts_a_run_that_reaches_back_into_the_one_before() {
        let history = "h".repeat(3000);
        let message = "m".repeat(1024);
        let text = format!("{history}\n{message}");
        let r = runs(&text, &[(0, 3000), (3001, text.len())], 1000, 800, 200);
        assert_eq!(r, vec![(0, 3000), (2800, text.len())]);
        let encoded: usize = split(&text[2800..], 1000, 200)
            .iter()
            .map(|(s, e)| e - s)
            .sum();
        assert_eq!(encoded, 1000 + 425);
        // A short last message stays in the history's run.
        let short = format!("{history}\nthanks!");
        assert_eq!(
            runs(&short, &[(0, 3000), (3001, short.len())], 1000, 800, 200),
            vec![(0, short.len())]
        );
    }
}
