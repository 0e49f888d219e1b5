//! The token → original value mapping of one request or conversation, in one buffer: two
//! allocations however many pseudonyms were issued (not two per pseudonym), and one object to
//! keep in the vault.

use std::fmt;

/// `(token, original value)` pairs in the order they were issued.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Pseudonyms {
    /// Every token followed by its value, back to back.
    buf: String,
    /// Per pair: where its token ends and where its value ends in `buf` (each pair starts where
    /// the one before ended).
    ends: Vec<(usize, usize)>,
}

impl Pseudonyms {
    /// Room for `pairs` more pairs of `bytes` more text, so pushing them does not reallocate.
    pub fn reserve(&mut self, pairs: usize, bytes: usize) {
        self.ends.reserve(pairs);
        self.buf.reserve(bytes);
    }

    /// Appends a pair.
    pub fn push(&mut self, token: &str, value: &str) {
        self.buf.push_str(token);
        let token_end = self.buf.len();
        self.buf.push_str(value);
        self.ends.push((token_end, self.buf.len()));
    }

    /// The `i`th pair.
    pub fn get(&self, i: usize) -> Option<(&str, &str)> {
        let &(token_end, value_end) = self.ends.get(i)?;
        let start = i.checked_sub(1).map_or(0, |p| self.ends[p].1);
        Some((&self.buf[start..token_end], &self.buf[token_end..value_end]))
    }

    /// How many pairs.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether no pseudonym was issued.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The pairs in issue order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            pairs: self,
            next: 0,
        }
    }
}

/// The pairs of a [`Pseudonyms`] in issue order.
pub struct Iter<'a> {
    pairs: &'a Pseudonyms,
    next: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let pair = self.pairs.get(self.next)?;
        self.next += 1;
        Some(pair)
    }
}

impl<'a> IntoIterator for &'a Pseudonyms {
    type Item = (&'a str, &'a str);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<T: AsRef<str>, V: AsRef<str>> FromIterator<(T, V)> for Pseudonyms {
    fn from_iter<I: IntoIterator<Item = (T, V)>>(pairs: I) -> Self {
        let mut p = Pseudonyms::default();
        for (t, v) in pairs {
            p.push(t.as_ref(), v.as_ref());
        }
        p
    }
}

/// Shows tokens only: values are the secrets the pseudonyms stand for.
impl fmt::Debug for Pseudonyms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.iter()
                    .map(|(t, v)| format!("{t} -> <{} bytes>", v.len())),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::Pseudonyms;

    #[test]
    fn pairs_come_back_in_order_and_debug_hides_values() {
        let p: Pseudonyms = [
            ("<EMAIL_1>", "a@b.co"),
            ("<PHONE_1>", ""),
            ("<EMAIL_2>", "ü@x.de"),
        ]
        .into_iter()
        .collect();
        assert_eq!(p.len(), 3);
        assert_eq!(
            p.iter().collect::<Vec<_>>(),
            [
                ("<EMAIL_1>", "a@b.co"),
                ("<PHONE_1>", ""),
                ("<EMAIL_2>", "ü@x.de")
            ]
        );
        assert_eq!(p.get(3), None);
        let shown = format!("{p:?}");
        assert!(
            shown.contains("<EMAIL_1>") && !shown.contains("a@b.co"),
            "{shown}"
        );
    }
}
