//! Property tests of redaction offset arithmetic.

use policy::redact::{apply, restore, TenantKey};
use policy::{Operator, RedactionPlan};
use proptest::prelude::*;

/// Filler never contains an uppercase letter or digit; values are made only of those.
fn text_with_values() -> impl Strategy<Value = (String, Vec<(usize, usize, String)>)> {
    prop::collection::vec(("[a-z ,.é]{0,12}", "[A-Z0-9]{6,14}"), 1..8).prop_map(|parts| {
        let mut text = String::new();
        let mut spans = Vec::new();
        for (filler, value) in parts {
            text.push_str(&filler);
            let start = text.len();
            text.push_str(&value);
            spans.push((start, text.len(), value));
        }
        (text, spans)
    })
}

fn plan(spans: &[(usize, usize, String)], op: Operator, stretch: &[bool]) -> RedactionPlan {
    let (email, card) = ("email".into(), "credit_card".into());
    let mut plan = RedactionPlan::default();
    for (i, (s, e, _)) in spans.iter().enumerate() {
        // Some findings are stretched over the next value, making overlapping plans.
        let end = if stretch.get(i).copied().unwrap_or(false) {
            spans.get(i + 1).map_or(*e, |n| n.0 + 2)
        } else {
            *e
        };
        let entity = if i % 2 == 0 { &email } else { &card };
        plan.push(0, *s..end, entity, op, 4);
    }
    plan
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn masking_leaves_no_value_behind((text, spans) in text_with_values(), stretch in prop::collection::vec(any::<bool>(), 8), op in prop::sample::select(vec![Operator::Mask, Operator::Hash, Operator::Pseudonym])) {
        let key = TenantKey::derive(b"k", "t");
        let out = apply(&plan(&spans, op, &stretch), &[&text], &key);
        let red = out.texts[0].clone().unwrap();
        for (_, _, v) in &spans {
            prop_assert!(!red.contains(v.as_str()), "{v} survived in {red}");
        }
    }

    #[test]
    fn pseudonymize_then_restore_is_the_identity((text, spans) in text_with_values()) {
        let key = TenantKey::derive(b"k", "t");
        let out = apply(&plan(&spans, Operator::Pseudonym, &[]), &[&text], &key);
        let red = out.texts[0].clone().unwrap();
        prop_assert_eq!(restore(&red, &out.pseudonyms), text);
    }

    /// Several texts, their spans in any order in one plan: each text is rewritten on its own
    /// (spans of different texts never merge) and pseudonyms restore every text exactly.
    #[test]
    fn spans_of_several_texts_in_any_order((texts, order) in prop::collection::vec(text_with_values(), 1..4).prop_flat_map(|texts| {
        let n: usize = texts.iter().map(|(_, spans)| spans.len()).sum();
        let order = Just((0..n).collect::<Vec<usize>>()).prop_shuffle();
        (Just(texts), order)
    }), op in prop::sample::select(vec![Operator::Mask, Operator::Pseudonym])) {
        let key = TenantKey::derive(b"k", "t");
        let email = "email".into();
        let all: Vec<(usize, &(usize, usize, String))> = texts
            .iter()
            .enumerate()
            .flat_map(|(segment, (_, spans))| spans.iter().map(move |s| (segment, s)))
            .collect();
        let mut p = RedactionPlan::default();
        for &i in &order {
            let (segment, (start, end, _)) = all[i];
            p.push(segment, *start..*end, &email, op, 4);
        }
        let refs: Vec<&str> = texts.iter().map(|(t, _)| t.as_str()).collect();
        let out = apply(&p, &refs, &key);
        prop_assert_eq!(out.count, all.len());
        for (segment, (text, spans)) in texts.iter().enumerate() {
            let red = out.texts[segment].clone().unwrap();
            for (_, _, v) in spans {
                prop_assert!(!red.contains(v.as_str()), "{v} survived in {red}");
            }
            if op == Operator::Pseudonym {
                prop_assert_eq!(&restore(&red, &out.pseudonyms), text);
            }
        }
    }
}
