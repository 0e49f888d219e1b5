use super::*;

fn engine() -> PatternEngine {
    crate::builtin_engine().expect("built-in packs compile")
}

fn parse(pattern: &str) -> Hir {
    syntax::parse_with(pattern, &syntax_config()).expect("pattern parses")
}

#[test]
fn whole_match_groups_are_recognized_and_others_are_not() {
    for p in [
        r"\b(AKIA[0-9A-Z]{16})\b",
        r"(ghp_[A-Za-z0-9]{36})",
        r"\b(\d{3})(?:\b|$)",
    ] {
        assert!(group_is_whole_match(&parse(p)), "{p}");
    }
    for p in [
        r"key=(\w+)",
        r"\b(\d{3})-(\d{2})\b",
        r"AKIA[0-9A-Z]{16}",
        r"(a)|(b)",
        r"\b(x)y\b",
    ] {
        assert!(!group_is_whole_match(&parse(p)), "{p}");
    }
}

#[test]
fn the_windowed_passes_find_what_searching_everywhere_finds() {
    // Every rule's examples, run together with prose and code between them.
    let e = engine();
    let filler = [
        "\nThe quarterly plan covers hiring and the roadmap. ",
        "\nfn main() { let x = parse(\"1.2.3\")?; println!(\"{x:?}\"); }\n",
        " -- see ticket 4521 from 2024-03-01, build 10.4.7 -- ",
    ];
    let mut text = String::new();
    for (i, (_, ex)) in e.examples.iter().enumerate() {
        for p in &ex.positive {
            text.push_str(&p.text);
            text.push_str(filler[i % filler.len()]);
        }
        for n in &ex.negative {
            text.push_str(n);
            text.push_str(filler[(i + 1) % filler.len()]);
        }
    }
    let [from_open_pass, from_keyword_automaton] = e.word_hits_both_ways(&text);
    assert!(from_open_pass.len() > 100);
    assert_eq!(from_open_pass, from_keyword_automaton);
    // Small texts take the single-pass path: check it on pieces of the same text.
    let mut at = 0;
    while at < text.len() {
        let mut end = (at + 6000).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let [fast, reference] = e.plain_both_ways(&text[at..end]);
        assert_eq!(fast, reference, "piece {at}..{end}");
        at = end;
    }
    let [fast, reference] = e.plain_both_ways(&text);
    assert!(fast.len() > 100, "{} findings", fast.len());
    let rule = |r: u32| e.rules[r as usize].id.to_string();
    let missing: Vec<_> = reference
        .iter()
        .filter(|c| !fast.contains(c))
        .map(|c| (rule(c.0), &text[c.1..c.2]))
        .collect();
    let extra: Vec<_> = fast
        .iter()
        .filter(|c| !reference.contains(c))
        .map(|c| (rule(c.0), &text[c.1..c.2]))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}\nextra {extra:?}"
    );
}

#[test]
fn every_builtin_rule_example_passes() {
    let failures = engine().test_examples();
    let report: Vec<String> = failures
        .iter()
        .map(|f| format!("{} ({}): {}", f.rule, f.source, f.message))
        .collect();
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn finds_aws_key_with_offsets_into_the_original_text() {
    let text = "héllo, my key is AKIAQWERTYUIOPASDFGH ok";
    let f = engine().scan(text);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(&text[f[0].start..f[0].end], "AKIAQWERTYUIOPASDFGH");
    assert_eq!(f[0].category, Category::Secret);
    assert_eq!(&*f[0].entity, "aws_access_key");
}

#[test]
fn context_words_count_only_where_a_word_starts() {
    let e = engine();
    let found = |t: &str| e.scan(t).iter().any(|f| &*f.rule == "ca-sin");
    assert!(found("SIN: 130 692 544"));
    assert!(found("sins of the past: 130 692 544"), "a word may go on");
    assert!(
        found(r"name: x\nSIN 130 692 544"),
        "after a literal \n escape"
    );
    assert!(
        !found("using 130 692 544 as the seed"),
        "`sin` inside `using`"
    );
}

#[test]
fn padding_a_key_and_its_value_apart_does_not_hide_the_value() {
    // The generic assignment rule's `\s*` counts as 32 bytes of reach; longer runs widen
    // the rule's regions by their excess, wherever the region would have ended.
    let value = "Zq8#vT2!mW5pL9xR";
    let large = "The quarterly plan covers hiring and the roadmap. ".repeat(400);
    for pad in [
        " ".repeat(40),
        " ".repeat(250),
        " ".repeat(300),
        " ".repeat(1000),
    ]
    .into_iter()
    .chain(["\t\n".repeat(300), " \r\n".repeat(2000)])
    {
        for (before, after) in [
            (pad.as_str(), ""),
            ("", pad.as_str()),
            (pad.as_str(), pad.as_str()),
        ] {
            for filler in ["", large.as_str()] {
                let text = format!("{filler}password{before}={after}{value}");
                let f = engine().scan(&text);
                assert!(
                    f.iter().any(|f| &text[f.start..f.end] == value),
                    "{} bytes of padding before `=`, {} after, {} of filler: {f:?}",
                    before.len(),
                    after.len(),
                    filler.len()
                );
            }
        }
    }
}

#[test]
fn long_whitespace_runs_are_all_found() {
    let runs = |t: &str| locate::long_whitespace_runs(t.as_bytes());
    assert_eq!(runs("no long runs here"), []);
    let t = format!(
        "a{}b{}c{}",
        " ".repeat(33),
        "\t".repeat(32),
        "\n".repeat(100)
    );
    assert_eq!(
        runs(&t),
        [(1, 34), (68, 168)],
        "a run of exactly 32 is not long"
    );
    assert_eq!(runs(&" ".repeat(70)), [(0, 70)]);
}

#[test]
fn benign_prose_and_code_have_no_findings() {
    let text = "fn main() { let key = get_key(); println!(\"{}\", key); } // AKIA prefix docs";
    assert!(engine().scan(text).is_empty());
}

#[test]
fn a_pattern_that_does_not_compile_names_file_rule_and_reason() {
    let yaml = r#"
pack: broken
rules:
  - id: bad-one
    category: secret
    entity: thing
    severity: high
    description: broken
    patterns: ['(unclosed']
    confidence: 0.9
    examples: { positive: [{ text: "x(unclosed", match: "(unclosed" }], negative: ["y"] }
"#;
    let pack = RulePack::from_yaml("broken.yaml", yaml).unwrap();
    let err = PatternEngine::new(&[pack]).unwrap_err().to_string();
    assert!(
        err.contains("broken.yaml") && err.contains("bad-one") && err.contains("pattern 0"),
        "{err}"
    );
}

#[test]
fn an_unknown_field_is_rejected_with_its_line() {
    let yaml = "pack: p\nrules:\n  - id: a\n    categry: secret\n";
    let err = RulePack::from_yaml("p.yaml", yaml).unwrap_err().to_string();
    assert!(
        err.contains("p.yaml") && err.contains("categry") && err.contains("line 4"),
        "{err}"
    );
}

#[test]
fn engine_is_shareable_across_threads() {
    fn assert_sync<T: Send + Sync>() {}
    assert_sync::<PatternEngine>();
}
