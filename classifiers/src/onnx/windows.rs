//! Where the encoder's windows fall in a text.
//!
//! Windows start at fixed offsets from the beginning of the text (`size` bytes, `overlap` bytes
//! shared with the next, snapped forward to character boundaries), so a text that only grew at
//! its end (a chat's next turn) has the same leading windows as before, which the window cache
//! then answers. Windows cover the whole text and cross segment boundaries, so an attack split
//! across two messages lands in one window.

/// Byte ranges covering all of `text`, in order, each at most `size` bytes (plus a character),
/// consecutive ones sharing `overlap` bytes.
pub fn split(text: &str, size: usize, overlap: usize) -> Vec<(usize, usize)> {
    let size = size.max(64);
    let overlap = overlap.min(size / 2);
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
    }
}
