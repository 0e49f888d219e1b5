//! Sorted, disjoint byte spans, built one span at a time.

/// Appends `start..end` (starting at or after the last span's start) to `spans`, joining it to
/// the last span when they overlap or touch, so the list stays sorted and disjoint.
pub(crate) fn push_joined(spans: &mut Vec<(usize, usize)>, start: usize, end: usize) {
    match spans.last_mut() {
        Some(last) if start <= last.1 => last.1 = last.1.max(end),
        _ => spans.push((start, end)),
    }
}

#[cfg(test)]
mod tests {
    use super::push_joined;

    #[test]
    fn overlapping_and_touching_spans_join_and_others_stay_apart() {
        let mut spans = Vec::new();
        for (s, e) in [(0, 5), (3, 4), (5, 9), (12, 14), (13, 20)] {
            push_joined(&mut spans, s, e);
        }
        assert_eq!(spans, [(0, 9), (12, 20)]);
    }
}
