//! Redaction operators: masks, partial masks, keyed hashes and pseudonyms.
//!
//! Each text is rebuilt in one forward pass over its spans, sorted and with overlapping ones
//! merged, so every offset refers to the original text and no part of a value survives.
//! Pseudonyms are deterministic within a request: the same value gets the same token, numbered
//! by first appearance (so a conversation replayed turn after turn keeps its tokens), and a
//! token never equals text the user wrote.

use crate::document::Operator;
use crate::identity::hex_encode;
use crate::plan::{Redaction, RedactionPlan};
use crate::pseudonyms::Pseudonyms;
use ring::hmac;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::hash_map::Entry;

/// A tenant's secret for keyed hashes and pseudonym determinism.
#[derive(Clone)]
pub struct TenantKey(hmac::Key);

impl std::fmt::Debug for TenantKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TenantKey(..)")
    }
}

impl TenantKey {
    /// Derives the tenant's key from the deployment's master secret.
    pub fn derive(master: &[u8], tenant: &str) -> Self {
        let m = hmac::Key::new(hmac::HMAC_SHA256, master);
        let k = hmac::sign(&m, format!("promptwall tenant key\0{tenant}").as_bytes());
        TenantKey(hmac::Key::new(hmac::HMAC_SHA256, k.as_ref()))
    }

    /// A truncated keyed hash, for audit rows and the `hash` operator.
    pub fn tag(&self, value: &str, hex_chars: usize) -> String {
        let t = hmac::sign(&self.0, value.as_bytes());
        let mut h = hex_encode(t.as_ref());
        h.truncate(hex_chars);
        h
    }
}

/// The rewritten texts and the pseudonyms to restore in the response.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Redacted {
    /// New text per input text; `None` where nothing changed.
    pub texts: Vec<Option<String>>,
    /// (token, original value) for every pseudonym issued.
    pub pseudonyms: Pseudonyms,
    /// How many spans were rewritten.
    pub count: usize,
}

fn partial(value: &str, keep_last: usize) -> String {
    let total = value.chars().filter(|c| c.is_alphanumeric()).count();
    let mut seen = 0;
    value
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                seen += 1;
                if seen + keep_last > total {
                    c
                } else {
                    '*'
                }
            } else {
                c
            }
        })
        .collect()
}

/// One merged span: its text and range, the redaction (the first of the overlapping ones) that
/// decides how it is rewritten, its kind, and (for a pseudonym) its pair in the result.
struct Span<'a> {
    segment: usize,
    start: usize,
    end: usize,
    r: &'a Redaction,
    kind: usize,
    pair: usize,
}

/// The plan's valid spans, sorted by text and offset, with overlapping ones merged in place
/// (touching ones stay apart, so each keeps its own pseudonym); the first span's entity and
/// operator win. One list for every text: a chat of fifty messages is sorted once, not
/// filtered fifty times.
fn merged_spans<'a>(plan: &'a RedactionPlan, texts: &[&str], kinds: &Kinds) -> Vec<Span<'a>> {
    let mut spans: Vec<Span<'a>> = plan
        .spans
        .iter()
        .filter(|r| {
            texts.get(r.segment).is_some_and(|text| {
                r.start < r.end
                    && r.end <= text.len()
                    && text.is_char_boundary(r.start)
                    && text.is_char_boundary(r.end)
            })
        })
        .map(|r| Span {
            segment: r.segment,
            start: r.start,
            end: r.end,
            r,
            kind: kinds.of_entity(r.entity),
            pair: 0,
        })
        .collect();
    // Stable, so among equal spans the plan's first wins; plans usually come sorted already.
    let order = |s: &Span<'_>| (s.segment, s.start, std::cmp::Reverse(s.end));
    if !spans.is_sorted_by_key(order) {
        spans.sort_by_key(order);
    }
    let mut kept: usize = 0;
    for at in 0..spans.len() {
        let overlaps = kept > 0 && {
            let (last, this) = (&spans[kept - 1], &spans[at]);
            last.segment == this.segment && this.start < last.end
        };
        if overlaps {
            spans[kept - 1].end = spans[kept - 1].end.max(spans[at].end);
        } else {
            spans.swap(kept, at);
            kept += 1;
        }
    }
    spans.truncate(kept);
    spans
}

/// Every token-shaped `<KIND_N>` written in `text`.
fn written_tokens(text: &str) -> impl Iterator<Item = &str> {
    memchr::memchr_iter(b'<', text.as_bytes()).filter_map(move |i| {
        let end = i + 1 + memchr::memchr(b'>', &text.as_bytes()[i + 1..])?;
        let token = &text[i..=end];
        token_parts(token).map(|_| token)
    })
}

/// Pseudonym kinds (`EMAIL`, `CREDIT_CARD`), each named once into one buffer and known by its
/// index, so numbering and lookups compare integers rather than text.
struct Kinds {
    upper: String,
    /// Per kind: where its name lies in `upper`, and the last pseudonym number issued.
    names: Vec<(std::ops::Range<usize>, usize)>,
    /// The plan's entity (by index) → its kind; `email` and `EMAIL` are one kind.
    entities: Vec<usize>,
    /// The kind of a span whose entity index is not in its plan's table.
    unknown: usize,
}

impl Kinds {
    const UNKNOWN: &'static str = "VALUE";

    fn new(entities: &[std::sync::Arc<str>]) -> Self {
        let mut k = Kinds {
            upper: String::with_capacity(entities.iter().map(|e| e.len()).sum::<usize>() + 5),
            names: Vec::with_capacity(entities.len() + 1),
            entities: Vec::with_capacity(entities.len()),
            unknown: 0,
        };
        for e in entities {
            let start = k.upper.len();
            // `<KIND_N>` must read back as a token (see `written_tokens`): a custom detector's
            // `project-name` becomes `PROJECT_NAME`, and an empty name `VALUE`.
            k.upper.extend(e.chars().map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' => c.to_ascii_uppercase(),
                _ => '_',
            }));
            if k.upper.len() == start {
                k.upper.push_str(Self::UNKNOWN);
            }
            let kind = k.intern_from(start);
            k.entities.push(kind);
        }
        k.unknown = k.of_name(Self::UNKNOWN);
        k
    }

    /// The kind named by `upper[start..]` (just written there): an earlier kind of that name
    /// (the copy is dropped), else a new one.
    fn intern_from(&mut self, start: usize) -> usize {
        let name = &self.upper[start..];
        match self
            .names
            .iter()
            .position(|(r, _)| self.upper[r.clone()] == *name)
        {
            Some(kind) => {
                self.upper.truncate(start);
                kind
            }
            None => {
                self.names.push((start..self.upper.len(), 0));
                self.names.len() - 1
            }
        }
    }

    /// The kind of the plan's entity `entity`.
    fn of_entity(&self, entity: usize) -> usize {
        self.entities.get(entity).copied().unwrap_or(self.unknown)
    }

    /// The kind whose name is `name` (already upper-case), added on first sight.
    fn of_name(&mut self, name: &str) -> usize {
        let start = self.upper.len();
        self.upper.push_str(name);
        self.intern_from(start)
    }

    fn name(&self, kind: usize) -> &str {
        &self.upper[self.names[kind].0.clone()]
    }

    /// The next pseudonym number of `kind`, and its name.
    fn next_number(&mut self, kind: usize) -> (&str, usize) {
        let (name, last) = &mut self.names[kind];
        *last += 1;
        (&self.upper[name.clone()], *last)
    }

    /// Records that `n` was issued (by an earlier turn) for `kind`.
    fn issued(&mut self, kind: usize, n: usize) {
        let last = &mut self.names[kind].1;
        *last = (*last).max(n);
    }
}

/// Applies `plan` to `texts`. Offsets must be on character boundaries (the engine guarantees it).
pub fn apply(plan: &RedactionPlan, texts: &[&str], key: &TenantKey) -> Redacted {
    apply_continuing(plan, texts, key, &Pseudonyms::default())
}

/// Writes `<KIND_N>` into `t` (cleared first), without the formatting machinery.
fn write_token(t: &mut String, kind: &str, n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut v = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    t.clear();
    t.push('<');
    t.push_str(kind);
    t.push('_');
    t.extend(digits[at..].iter().map(|&d| char::from(d)));
    t.push('>');
}

/// `<KIND_N>` → (`KIND`, N), for exactly the shape issued: `KIND` of `[A-Z0-9_]`, N of digits.
fn token_parts(token: &str) -> Option<(&str, usize)> {
    let inner = token.strip_prefix('<')?.strip_suffix('>')?;
    let (kind, n) = inner.rsplit_once('_')?;
    let kind_ok = !kind.is_empty()
        && kind
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    let n_ok = !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
    Some((kind, n.parse().ok()?)).filter(|_| kind_ok && n_ok)
}

/// Like [`apply`], continuing a conversation whose earlier turns issued `prior` (token,
/// original) pairs: a value seen before keeps its token, new values get the next numbers, so
/// `<EMAIL_1>` means the same address in every turn. The result's `pseudonyms` is the whole
/// mapping (prior first), ready to store and to restore responses with.
pub fn apply_continuing(
    plan: &RedactionPlan,
    texts: &[&str],
    key: &TenantKey,
    prior: &Pseudonyms,
) -> Redacted {
    let mut out = Redacted {
        texts: vec![None; texts.len()],
        pseudonyms: prior.clone(),
        ..Redacted::default()
    };
    let mut kinds = Kinds::new(&plan.entities);
    let mut spans = merged_spans(plan, texts, &kinds);
    let pseudonymized = |s: &Span<'_>| s.r.operator == Operator::Pseudonym;
    if spans.iter().any(pseudonymized) {
        // Tokens the texts already contain (user-written `<EMAIL_1>`), found in one pass.
        let existing: FxHashSet<&str> = texts.iter().flat_map(|t| written_tokens(t)).collect();
        // Pseudonym numbering: by first appearance, in text order then offset order. Keys are
        // (kind, value): the same digits as a phone and as an account are two pseudonyms.
        let mut by_value: FxHashMap<(usize, &str), usize> =
            FxHashMap::with_capacity_and_hasher(spans.len() + prior.len(), Default::default());
        for (i, (token, original)) in prior.iter().enumerate() {
            if let Some((name, n)) = token_parts(token) {
                let kind = kinds.of_name(name);
                by_value.entry((kind, original)).or_insert(i);
                kinds.issued(kind, n);
            }
        }
        // At most one pair per span: its value plus a token of about a dozen bytes.
        let value_bytes: usize = spans.iter().map(|s| s.end - s.start + 16).sum();
        out.pseudonyms.reserve(spans.len(), value_bytes);
        let mut token = String::with_capacity(32);
        for sp in spans.iter_mut().filter(|s| pseudonymized(s)) {
            let value = &texts[sp.segment][sp.start..sp.end];
            let pair = match by_value.entry((sp.kind, value)) {
                Entry::Occupied(seen) => *seen.get(),
                Entry::Vacant(new) => {
                    loop {
                        let (name, n) = kinds.next_number(sp.kind);
                        write_token(&mut token, name, n);
                        // A prior turn's token is taken even if the user wrote it back now.
                        if existing.is_empty() || !existing.contains(token.as_str()) {
                            break;
                        }
                    }
                    out.pseudonyms.push(&token, value);
                    *new.insert(out.pseudonyms.len() - 1)
                }
            };
            sp.pair = pair;
        }
    }
    for group in spans.chunk_by(|a, b| a.segment == b.segment) {
        let segment = group[0].segment;
        let text = texts[segment];
        // One forward pass: copy what stays, append each replacement.
        let mut s = String::with_capacity(text.len() + group.len() * 8);
        let mut at = 0;
        for sp in group {
            let (r, value) = (sp.r, &text[sp.start..sp.end]);
            s.push_str(&text[at..sp.start]);
            let kind = kinds.name(sp.kind);
            match r.operator {
                Operator::Mask => {
                    s.push_str("[REDACTED:");
                    s.push_str(kind);
                    s.push(']');
                }
                Operator::Partial => s.push_str(&partial(value, r.keep_last)),
                Operator::Hash => {
                    s.push('[');
                    s.push_str(kind);
                    s.push(':');
                    s.push_str(&key.tag(value, 8));
                    s.push(']');
                }
                Operator::Pseudonym => {
                    let (token, _) = out.pseudonyms.get(sp.pair).expect("issued above");
                    s.push_str(token);
                }
            }
            at = sp.end;
            out.count += 1;
        }
        s.push_str(&text[at..]);
        out.texts[segment] = Some(s);
    }
    out
}

/// Replaces every token in `text` with its original value; borrows `text` when it holds
/// none (most answer fields), so the common case copies nothing.
pub fn restore<'a>(text: &'a str, pseudonyms: &Pseudonyms) -> std::borrow::Cow<'a, str> {
    let mut s = std::borrow::Cow::Borrowed(text);
    for (token, value) in pseudonyms {
        if s.contains(token) {
            s = std::borrow::Cow::Owned(s.replace(token, value));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    type R<'a> = (usize, usize, usize, &'a str, Operator);

    fn r(segment: usize, start: usize, end: usize, entity: &str, operator: Operator) -> R<'_> {
        (segment, start, end, entity, operator)
    }

    fn plan<const N: usize>(spans: [R<'_>; N]) -> RedactionPlan {
        let mut plan = RedactionPlan::default();
        for (segment, start, end, entity, operator) in spans {
            plan.push(segment, start..end, &entity.into(), operator, 4);
        }
        plan
    }

    fn key() -> TenantKey {
        TenantKey::derive(b"master", "acme")
    }

    #[test]
    fn operators_rewrite_as_documented() {
        let text = "mail a@b.co card 4111 1111 1111 1111";
        let t = [text];
        let mask = apply(&plan([r(0, 5, 11, "email", Operator::Mask)]), &t, &key());
        assert_eq!(
            mask.texts[0].as_deref(),
            Some("mail [REDACTED:EMAIL] card 4111 1111 1111 1111")
        );
        let part = apply(
            &plan([r(0, 17, 36, "credit_card", Operator::Partial)]),
            &t,
            &key(),
        );
        assert_eq!(
            part.texts[0].as_deref(),
            Some("mail a@b.co card **** **** **** 1111")
        );
        let hash = apply(&plan([r(0, 5, 11, "email", Operator::Hash)]), &t, &key());
        let h = hash.texts[0].clone().unwrap();
        assert!(
            h.starts_with("mail [EMAIL:") && !h.contains("a@b.co"),
            "{h}"
        );
        assert_eq!(
            apply(&plan([r(0, 5, 11, "email", Operator::Hash)]), &t, &key()).texts,
            hash.texts,
            "keyed hash is stable"
        );
    }

    #[test]
    fn pseudonyms_are_stable_per_value_and_skip_user_written_tokens() {
        let texts = ["from a@b.co and <EMAIL_1>", "again a@b.co, then c@d.io"];
        let plan = plan([
            r(0, 5, 11, "email", Operator::Pseudonym),
            r(1, 6, 12, "email", Operator::Pseudonym),
            r(1, 19, 25, "email", Operator::Pseudonym),
        ]);
        let out = apply(&plan, &texts, &key());
        assert_eq!(
            out.texts[0].as_deref(),
            Some("from <EMAIL_2> and <EMAIL_1>")
        );
        assert_eq!(
            out.texts[1].as_deref(),
            Some("again <EMAIL_2>, then <EMAIL_3>")
        );
        assert_eq!(
            out.pseudonyms.iter().collect::<Vec<_>>(),
            [("<EMAIL_2>", "a@b.co"), ("<EMAIL_3>", "c@d.io")]
        );
        let back: Vec<String> = out
            .texts
            .iter()
            .map(|t| restore(t.as_deref().unwrap(), &out.pseudonyms).into_owned())
            .collect();
        assert_eq!(back[1], texts[1]);
    }

    #[test]
    fn overlapping_spans_merge_and_adjacent_ones_stay_apart() {
        let t = ["abcdefghij"];
        let out = apply(
            &plan([
                r(0, 2, 5, "x", Operator::Mask),
                r(0, 4, 7, "y", Operator::Mask),
                r(0, 7, 8, "z", Operator::Mask),
            ]),
            &t,
            &key(),
        );
        assert_eq!(
            out.texts[0].as_deref(),
            Some("ab[REDACTED:X][REDACTED:Z]ij")
        );
    }

    #[test]
    fn spans_of_several_texts_in_any_order_merge_only_within_their_text() {
        let t = ["abcdefghij", "0123456789", "untouched"];
        let out = apply(
            &plan([
                r(1, 6, 8, "y", Operator::Mask),
                r(0, 4, 7, "x", Operator::Mask),
                r(1, 0, 3, "y", Operator::Mask),
                r(0, 2, 5, "z", Operator::Mask),
                // Out of range or in a text that does not exist: dropped, nothing panics.
                r(2, 5, 99, "x", Operator::Mask),
                r(7, 0, 1, "x", Operator::Mask),
            ]),
            &t,
            &key(),
        );
        assert_eq!(
            out.texts,
            [
                Some("ab[REDACTED:Z]hij".to_string()),
                Some("[REDACTED:Y]345[REDACTED:Y]89".to_string()),
                None
            ]
        );
        assert_eq!(out.count, 3);
    }

    #[test]
    fn entities_spelled_differently_share_one_kind_and_its_numbers() {
        let texts = ["a@b.co then c@d.io"];
        let out = apply(
            &plan([
                r(0, 0, 6, "email", Operator::Pseudonym),
                r(0, 12, 18, "EMAIL", Operator::Pseudonym),
            ]),
            &texts,
            &key(),
        );
        assert_eq!(out.texts[0].as_deref(), Some("<EMAIL_1> then <EMAIL_2>"));
    }

    #[test]
    fn any_entity_name_gives_tokens_that_user_written_copies_are_checked_against() {
        let texts = ["ask x.y about <PROJECT_NAME_1> and <VALUE_1>"];
        let out = apply(
            &plan([
                r(0, 4, 7, "project-name", Operator::Pseudonym),
                r(0, 14, 30, "", Operator::Pseudonym),
            ]),
            &texts,
            &key(),
        );
        assert_eq!(
            out.texts[0].as_deref(),
            Some("ask <PROJECT_NAME_2> about <VALUE_2> and <VALUE_1>")
        );
    }

    #[test]
    fn a_span_naming_no_entity_of_its_plan_is_still_redacted() {
        let mut p = plan([r(0, 5, 11, "email", Operator::Pseudonym)]);
        p.spans[0].entity = 9;
        let out = apply(&p, &["mail a@b.co"], &key());
        assert_eq!(out.texts[0].as_deref(), Some("mail <VALUE_1>"));
        assert_eq!(restore("to <VALUE_1>", &out.pseudonyms), "to a@b.co");
    }

    #[test]
    fn tokens_are_built_as_documented() {
        let token = |kind: &str, n: usize| {
            let mut t = String::from("left over");
            write_token(&mut t, kind, n);
            t
        };
        assert_eq!(token("EMAIL", 1), "<EMAIL_1>");
        assert_eq!(token("CREDIT_CARD", 1042), "<CREDIT_CARD_1042>");
        assert_eq!(
            token_parts(&token("X", usize::MAX)),
            Some(("X", usize::MAX))
        );
    }

    #[test]
    fn a_conversation_keeps_its_tokens_across_turns() {
        let key = TenantKey::derive(b"k", "acme");
        let turn1 = "mail ann@x.io";
        let first = apply(
            &plan([r(0, 5, 13, "email", Operator::Pseudonym)]),
            &[turn1],
            &key,
        );
        assert_eq!(first.texts[0].as_deref(), Some("mail <EMAIL_1>"));
        // The next turn mentions a new address and the old one: the old keeps <EMAIL_1>.
        let turn2 = "cc bob@y.io and ann@x.io";
        let second = apply_continuing(
            &plan([
                r(0, 3, 11, "email", Operator::Pseudonym),
                r(0, 16, 24, "email", Operator::Pseudonym),
            ]),
            &[turn2],
            &key,
            &first.pseudonyms,
        );
        assert_eq!(
            second.texts[0].as_deref(),
            Some("cc <EMAIL_2> and <EMAIL_1>")
        );
        assert_eq!(
            second.pseudonyms.iter().collect::<Vec<_>>(),
            [("<EMAIL_1>", "ann@x.io"), ("<EMAIL_2>", "bob@y.io")]
        );
        // Restoring a reply that uses both turns' tokens gives back both values.
        assert_eq!(
            restore("to <EMAIL_1>, <EMAIL_2>", &second.pseudonyms),
            "to ann@x.io, bob@y.io"
        );
    }
}
