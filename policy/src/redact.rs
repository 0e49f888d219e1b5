//! Redaction operators and the pseudonym vault.
//!
//! Redactions are applied per text from the end backwards, after overlapping and adjacent
//! spans are merged, so every offset stays valid and no part of a value survives.
//! Pseudonyms are deterministic within a request: the same value gets the same token, numbered
//! by first appearance (so a conversation replayed turn after turn keeps its tokens), and a
//! token never equals text the user wrote.

use crate::document::Operator;
use crate::evaluate::Redaction;
use crate::identity::hex_encode;
use crate::pseudonyms::Pseudonyms;
use dashmap::DashMap;
use ring::hmac;
use rustc_hash::{FxHashMap, FxHashSet};
use std::time::{Duration, Instant};

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

/// Merges overlapping spans of one text (touching ones stay apart, so each keeps its own
/// pseudonym); the first span's entity and operator win.
/// One merged span: its range, and the redaction (the first of the overlapping ones) that
/// decides how it is rewritten.
struct Span<'a> {
    start: usize,
    end: usize,
    r: &'a Redaction,
}

fn merge(mut spans: Vec<&Redaction>) -> Vec<Span<'_>> {
    spans.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    let mut out: Vec<Span<'_>> = Vec::with_capacity(spans.len());
    for r in spans {
        match out.last_mut() {
            Some(last) if r.start < last.end => last.end = last.end.max(r.end),
            _ => out.push(Span {
                start: r.start,
                end: r.end,
                r,
            }),
        }
    }
    out
}

/// Every `<UPPER_N>`-shaped token written in `text`.
fn written_tokens(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices('<').filter_map(move |(i, _)| {
        let rest = &text[i + 1..];
        let end = rest.find('>')?;
        let inner = &rest[..end];
        let (kind, n) = inner.rsplit_once('_')?;
        (!kind.is_empty()
            && kind
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            && !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit()))
        .then(|| &text[i..i + end + 2])
    })
}

/// Upper-case entity names (`email` → `EMAIL`), each computed once, in one buffer. Redactions
/// of one rule share one entity `Arc`, so a pointer comparison usually finds the entry without
/// comparing text.
struct Kinds<'a> {
    upper: String,
    entries: Vec<(&'a str, std::ops::Range<usize>)>,
}

impl<'a> Kinds<'a> {
    fn new(entities: impl Iterator<Item = &'a str>) -> Self {
        let mut k = Kinds {
            upper: String::new(),
            entries: Vec::new(),
        };
        for entity in entities {
            if k.find(entity).is_none() {
                let start = k.upper.len();
                k.upper.push_str(entity);
                k.upper[start..].make_ascii_uppercase();
                k.entries.push((entity, start..k.upper.len()));
            }
        }
        k
    }

    fn find(&self, entity: &str) -> Option<&std::ops::Range<usize>> {
        self.entries
            .iter()
            .find(|(e, _)| std::ptr::eq(*e, entity) || *e == entity)
            .map(|(_, r)| r)
    }

    /// The upper-case name of `entity` (one of those it was built from).
    fn of(&self, entity: &str) -> &str {
        self.find(entity).map_or("", |r| &self.upper[r.clone()])
    }
}

/// Applies `plan` to `texts`. Offsets must be on character boundaries (the engine guarantees it).
pub fn apply(plan: &[Redaction], texts: &[&str], key: &TenantKey) -> Redacted {
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
    t.push_str(std::str::from_utf8(&digits[at..]).expect("ASCII digits"));
    t.push('>');
}

/// `<KIND_N>` → (`KIND`, N).
fn token_parts(token: &str) -> Option<(&str, usize)> {
    let inner = token.strip_prefix('<')?.strip_suffix('>')?;
    let (kind, n) = inner.rsplit_once('_')?;
    Some((kind, n.parse().ok()?))
}

/// Like [`apply`], continuing a conversation whose earlier turns issued `prior` (token,
/// original) pairs: a value seen before keeps its token, new values get the next numbers, so
/// `<EMAIL_1>` means the same address in every turn. The result's `pseudonyms` is the whole
/// mapping (prior first), ready to store and to restore responses with.
pub fn apply_continuing(
    plan: &[Redaction],
    texts: &[&str],
    key: &TenantKey,
    prior: &Pseudonyms,
) -> Redacted {
    let mut out = Redacted {
        texts: vec![None; texts.len()],
        pseudonyms: prior.clone(),
        ..Redacted::default()
    };
    let merged: Vec<Vec<Span<'_>>> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            merge(
                plan.iter()
                    .filter(|r| r.segment == i && r.start < r.end && r.end <= text.len())
                    .filter(|r| text.is_char_boundary(r.start) && text.is_char_boundary(r.end))
                    .collect(),
            )
        })
        .collect();
    // Tokens the texts already contain (user-written `<EMAIL_1>`), found in one pass.
    let existing: FxHashSet<&str> = if merged
        .iter()
        .flatten()
        .any(|s| s.r.operator == Operator::Pseudonym)
    {
        texts.iter().flat_map(|t| written_tokens(t)).collect()
    } else {
        Default::default()
    };
    let kinds = Kinds::new(merged.iter().flatten().map(|s| &*s.r.entity));
    // Pseudonym numbering: by first appearance, in text order then offset order.
    let spans_total: usize = merged.iter().map(Vec::len).sum();
    let mut by_value: FxHashMap<(&str, &str), usize> =
        FxHashMap::with_capacity_and_hasher(spans_total, Default::default());
    // The last number issued per kind; a handful of kinds, so a short list.
    let mut next: Vec<(&str, usize)> = Vec::with_capacity(kinds.entries.len());
    fn last_issued<'a, 'n>(next: &'n mut Vec<(&'a str, usize)>, kind: &'a str) -> &'n mut usize {
        let at = match next.iter().position(|(k, _)| *k == kind) {
            Some(at) => at,
            None => {
                next.push((kind, 0));
                next.len() - 1
            }
        };
        &mut next[at].1
    }
    for (i, (token, original)) in prior.iter().enumerate() {
        if let Some((kind, n)) = token_parts(token) {
            by_value.entry((kind, original)).or_insert(i);
            let at = last_issued(&mut next, kind);
            *at = (*at).max(n);
        }
    }
    // Each pseudonym span's entry in `out.pseudonyms`, in span order (looked up once).
    let mut issued: Vec<usize> = Vec::with_capacity(spans_total);
    // At most one pair per span: its value plus a token of about a dozen bytes.
    let value_bytes: usize = merged.iter().flatten().map(|s| s.end - s.start + 16).sum();
    out.pseudonyms.reserve(spans_total, value_bytes);
    let mut token = String::new();
    for (i, spans) in merged.iter().enumerate() {
        for sp in spans.iter().filter(|s| s.r.operator == Operator::Pseudonym) {
            let value = &texts[i][sp.start..sp.end];
            let kind = kinds.of(&sp.r.entity);
            if let Some(&at) = by_value.get(&(kind, value)) {
                issued.push(at);
                continue;
            }
            let n = last_issued(&mut next, kind);
            loop {
                *n += 1;
                write_token(&mut token, kind, *n);
                // A prior turn's token is taken even if the user wrote it back in this turn.
                if existing.is_empty() || !existing.contains(token.as_str()) {
                    break;
                }
            }
            by_value.insert((kind, value), out.pseudonyms.len());
            issued.push(out.pseudonyms.len());
            out.pseudonyms.push(&token, value);
        }
    }
    let mut issued = issued.into_iter();
    for (i, spans) in merged.iter().enumerate() {
        if spans.is_empty() {
            continue;
        }
        let text = texts[i];
        // One forward pass: copy what stays, append each replacement.
        let mut s = String::with_capacity(text.len() + spans.len() * 8);
        let mut at = 0;
        for sp in spans {
            let (r, value) = (sp.r, &text[sp.start..sp.end]);
            s.push_str(&text[at..sp.start]);
            let kind = kinds.of(&r.entity);
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
                    let at = issued.next().expect("one entry per pseudonym span");
                    let (token, _) = out.pseudonyms.get(at).expect("issued above");
                    s.push_str(token);
                }
            }
            at = sp.end;
            out.count += 1;
        }
        s.push_str(&text[at..]);
        out.texts[i] = Some(s);
    }
    out
}

/// Pseudonym mappings kept for a while, so responses can be restored.
#[derive(Debug, Default)]
pub struct Vault {
    entries: DashMap<String, (Pseudonyms, Instant)>,
}

impl Vault {
    /// Stores a request's mappings under `id` for `ttl`.
    pub fn put(&self, id: &str, mappings: Pseudonyms, ttl: Duration) {
        if mappings.is_empty() {
            return;
        }
        self.entries
            .insert(id.to_string(), (mappings, Instant::now() + ttl));
        if self.entries.len().is_multiple_of(1024) {
            self.sweep();
        }
        if self.entries.len() > Self::MAX_ENTRIES {
            self.evict_soonest(Self::MAX_ENTRIES / 10);
        }
    }

    /// Conversations held at most; past it the ones closest to expiry go first (their later
    /// replies then pass with tokens unrestored, never with a wrong value).
    pub const MAX_ENTRIES: usize = 200_000;

    /// Drops expired entries, then the `n` that would expire soonest.
    fn evict_soonest(&self, n: usize) {
        self.sweep();
        if self.entries.len() <= Self::MAX_ENTRIES {
            return;
        }
        let mut expiries: Vec<Instant> = self.entries.iter().map(|e| e.value().1).collect();
        expiries.sort_unstable();
        if let Some(&cut) = expiries.get(n.min(expiries.len() - 1)) {
            self.entries.retain(|_, v| v.1 > cut);
        }
    }

    /// The mappings stored under `id`, unless expired.
    pub fn get(&self, id: &str) -> Option<Pseudonyms> {
        let e = self.entries.get(id)?;
        (e.1 > Instant::now()).then(|| e.0.clone())
    }

    /// Drops expired entries.
    pub fn sweep(&self) {
        let now = Instant::now();
        self.entries.retain(|_, v| v.1 > now);
    }

    /// How many request mappings are held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the vault is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Replaces every token in `text` with its original value.
pub fn restore(text: &str, pseudonyms: &Pseudonyms) -> String {
    let mut s = text.to_string();
    for (token, value) in pseudonyms {
        if s.contains(token) {
            s = s.replace(token, value);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(segment: usize, start: usize, end: usize, entity: &str, operator: Operator) -> Redaction {
        Redaction {
            segment,
            start,
            end,
            entity: entity.into(),
            operator,
            keep_last: 4,
        }
    }

    fn key() -> TenantKey {
        TenantKey::derive(b"master", "acme")
    }

    #[test]
    fn operators_rewrite_as_documented() {
        let text = "mail a@b.co card 4111 1111 1111 1111";
        let t = [text];
        let mask = apply(&[r(0, 5, 11, "email", Operator::Mask)], &t, &key());
        assert_eq!(
            mask.texts[0].as_deref(),
            Some("mail [REDACTED:EMAIL] card 4111 1111 1111 1111")
        );
        let part = apply(
            &[r(0, 17, 36, "credit_card", Operator::Partial)],
            &t,
            &key(),
        );
        assert_eq!(
            part.texts[0].as_deref(),
            Some("mail a@b.co card **** **** **** 1111")
        );
        let hash = apply(&[r(0, 5, 11, "email", Operator::Hash)], &t, &key());
        let h = hash.texts[0].clone().unwrap();
        assert!(
            h.starts_with("mail [EMAIL:") && !h.contains("a@b.co"),
            "{h}"
        );
        assert_eq!(
            apply(&[r(0, 5, 11, "email", Operator::Hash)], &t, &key()).texts,
            hash.texts,
            "keyed hash is stable"
        );
    }

    #[test]
    fn pseudonyms_are_stable_per_value_and_skip_user_written_tokens() {
        let texts = ["from a@b.co and <EMAIL_1>", "again a@b.co, then c@d.io"];
        let plan = [
            r(0, 5, 11, "email", Operator::Pseudonym),
            r(1, 6, 12, "email", Operator::Pseudonym),
            r(1, 19, 25, "email", Operator::Pseudonym),
        ];
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
            .map(|t| restore(t.as_deref().unwrap(), &out.pseudonyms))
            .collect();
        assert_eq!(back[1], texts[1]);
    }

    #[test]
    fn overlapping_spans_merge_and_adjacent_ones_stay_apart() {
        let t = ["abcdefghij"];
        let out = apply(
            &[
                r(0, 2, 5, "x", Operator::Mask),
                r(0, 4, 7, "y", Operator::Mask),
                r(0, 7, 8, "z", Operator::Mask),
            ],
            &t,
            &key(),
        );
        assert_eq!(
            out.texts[0].as_deref(),
            Some("ab[REDACTED:X][REDACTED:Z]ij")
        );
    }

    #[test]
    fn vault_expires_entries() {
        let v = Vault::default();
        v.put(
            "req",
            [("<EMAIL_1>", "a@b.co")].into_iter().collect(),
            Duration::from_secs(60),
        );
        assert!(v.get("req").is_some());
        v.put(
            "old",
            [("<EMAIL_1>", "x")].into_iter().collect(),
            Duration::ZERO,
        );
        assert!(v.get("old").is_none());
        v.sweep();
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn a_full_vault_evicts_the_soonest_to_expire_first() {
        let v = Vault::default();
        let one = || {
            [("<EMAIL_1>", "a@b.co")]
                .into_iter()
                .collect::<Pseudonyms>()
        };
        v.put("keep", one(), Duration::from_secs(3600));
        for i in 0..Vault::MAX_ENTRIES {
            v.put(
                &format!("c{i}"),
                one(),
                Duration::from_secs(60 + i as u64 % 600),
            );
        }
        assert!(v.len() <= Vault::MAX_ENTRIES, "{}", v.len());
        assert!(v.get("keep").is_some(), "the longest-lived entry stays");
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
        let first = apply(&[r(0, 5, 13, "email", Operator::Pseudonym)], &[turn1], &key);
        assert_eq!(first.texts[0].as_deref(), Some("mail <EMAIL_1>"));
        // The next turn mentions a new address and the old one: the old keeps <EMAIL_1>.
        let turn2 = "cc bob@y.io and ann@x.io";
        let second = apply_continuing(
            &[
                r(0, 3, 11, "email", Operator::Pseudonym),
                r(0, 16, 24, "email", Operator::Pseudonym),
            ],
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
