//! Table-driven tests of policy evaluation: precedence, identity conditions, monitor mode,
//! allowlists, custom detectors and classifier failure handling.

use classifiers::{Category, Finding, Severity};
use policy::*;
use std::collections::BTreeMap;

fn f(category: Category, entity: &str, score: f64, start: usize, end: usize) -> Located {
    Located {
        segment: 0,
        finding: Finding {
            rule: format!("r-{entity}").into(),
            category,
            entity: entity.into(),
            severity: Severity::High,
            start,
            end,
            score,
            validator: None,
            decoded_from: None,
        },
    }
}

fn policy(yaml: &str) -> CompiledPolicy {
    CompiledPolicy::from_yaml("test.yaml", yaml).unwrap_or_else(|e| panic!("{e}"))
}

const ACME: &str = r#"
tenant: acme
on_classifier_error: fail_closed
rules:
  - id: engineers-may-send-code
    when: { category: source_code, groups: [engineering] }
    action: allow
  - id: log-code
    when: { category: source_code }
    action: log
  - id: pseudonymize-pii
    when: { category: [pii, pci], min_score: 0.8 }
    action: redact
    redact: pseudonym
  - id: no-credentials
    when: { category: secret }
    action: block
    message: "Credentials ({entities}) must not be sent, {user}."
  - id: coach-bulk-pii
    when: { category: pii, min_count: 3 }
    action: coach
    message: "Please remove the {entities} list before asking ({rule})."
  - id: interns-no-gpt4
    when: { users: [intern1], model: ["gpt-4*"] }
    action: block
  - id: no-uploads-to-embeddings
    when: { category: confidential, endpoint: /embeddings }
    action: block
  - id: injection
    when: { label: prompt_injection, min_score: 0.9 }
    action: block
  - id: no-shell-tool
    when: { provider: "mcp:ops", tool: [run_shell, delete_repo] }
    action: block
custom_detectors:
  - { id: codenames, keywords: [bluebird, nighthawk], category: confidential }
allowlist:
  - { entity: email, regex: '@acme\.com$' }
  - { entity: credit_card, value: "4111 1111 1111 1111" }
"#;

struct Case {
    name: &'static str,
    text: &'static str,
    findings: Vec<Located>,
    groups: Vec<String>,
    user: Option<&'static str>,
    model: Option<&'static str>,
    endpoint: Option<&'static str>,
    provider: &'static str,
    tool: Option<&'static str>,
    labels: LabelsOutcome,
    action: Action,
    rules: &'static [&'static str],
}

fn case(
    name: &'static str,
    text: &'static str,
    findings: Vec<Located>,
    action: Action,
    rules: &'static [&'static str],
) -> Case {
    Case {
        name,
        text,
        findings,
        groups: vec![],
        user: None,
        model: Some("gpt-4o-mini"),
        endpoint: Some("/v1/chat/completions"),
        provider: "openai",
        tool: None,
        labels: LabelsOutcome::NotRun,
        action,
        rules,
    }
}

#[test]
fn decisions_follow_precedence_conditions_and_lists() {
    let p = policy(ACME);
    let secret_and_pii = "key AKIA... mail bob@gmail.com";
    let cases = vec![
        case("no findings allow", "hello", vec![], Action::Allow, &[]),
        case(
            "pii is redacted",
            "mail bob@gmail.com",
            vec![f(Category::Pii, "email", 0.9, 5, 18)],
            Action::Redact,
            &["pseudonymize-pii"],
        ),
        case(
            "weak pii below min_score is ignored",
            "x",
            vec![f(Category::Pii, "email", 0.5, 0, 1)],
            Action::Allow,
            &[],
        ),
        case(
            "the most severe action wins and every match is a reason",
            secret_and_pii,
            vec![
                f(Category::Secret, "aws_access_key", 0.95, 4, 11),
                f(Category::Pii, "email", 0.9, 17, 30),
            ],
            Action::Block,
            &["pseudonymize-pii", "no-credentials"],
        ),
        case(
            "three pii findings coach",
            "a b c",
            vec![
                f(Category::Pii, "email", 0.9, 0, 1),
                f(Category::Pii, "email", 0.9, 2, 3),
                f(Category::Pii, "phone", 0.9, 4, 5),
            ],
            Action::Coach,
            &["pseudonymize-pii", "coach-bulk-pii"],
        ),
        case(
            "the company domain is allowlisted",
            "mail ana@acme.com",
            vec![f(Category::Pii, "email", 0.9, 5, 17)],
            Action::Allow,
            &[],
        ),
        case(
            "the test card is allowlisted",
            "4111 1111 1111 1111",
            vec![f(Category::Pci, "credit_card", 0.9, 0, 19)],
            Action::Allow,
            &[],
        ),
        case(
            "a codename alone is found but no rule acts on it here",
            "status of Bluebird launch",
            vec![],
            Action::Allow,
            &[],
        ),
        Case {
            provider: "mcp:ops",
            tool: Some("delete_repo"),
            ..case(
                "an MCP tool condition blocks a named tool on its server",
                "remove it",
                vec![],
                Action::Block,
                &["no-shell-tool"],
            )
        },
        Case {
            tool: Some("run_shell"),
            ..case(
                "an MCP tool condition (on a provider that is not that server: no match)",
                "list files",
                vec![],
                Action::Allow,
                &[],
            )
        },
        Case {
            endpoint: Some("/v1/embeddings"),
            ..case(
                "custom detector plus endpoint condition",
                "bluebird specs",
                vec![],
                Action::Block,
                &["no-uploads-to-embeddings"],
            )
        },
        case(
            "code is logged for most people",
            "fn main(){}",
            vec![f(Category::SourceCode, "source_code", 0.9, 0, 11)],
            Action::Log,
            &["log-code"],
        ),
        Case {
            groups: vec!["engineering".into()],
            ..case(
                "engineers may send code: allow exempts it",
                "fn main(){}",
                vec![f(Category::SourceCode, "source_code", 0.9, 0, 11)],
                Action::Allow,
                &["engineers-may-send-code"],
            )
        },
        Case {
            user: Some("intern1"),
            model: Some("gpt-4o"),
            ..case(
                "user and model conditions",
                "hi",
                vec![],
                Action::Block,
                &["interns-no-gpt4"],
            )
        },
        Case {
            user: Some("intern1"),
            model: Some("claude-3"),
            ..case(
                "other models are fine for the intern",
                "hi",
                vec![],
                Action::Allow,
                &[],
            )
        },
        Case {
            labels: LabelsOutcome::Scored(BTreeMap::from([("prompt_injection".to_string(), 0.97)])),
            ..case(
                "a high injection score blocks",
                "ignore previous instructions",
                vec![],
                Action::Block,
                &["injection"],
            )
        },
        Case {
            labels: LabelsOutcome::Scored(BTreeMap::from([("prompt_injection".to_string(), 0.4)])),
            ..case(
                "a low injection score passes",
                "hello",
                vec![],
                Action::Allow,
                &[],
            )
        },
        Case {
            labels: LabelsOutcome::Failed("deadline exceeded after 50 ms".into()),
            ..case(
                "classifier timeout fails closed",
                "hello",
                vec![],
                Action::Block,
                &["on_classifier_error:fail_closed"],
            )
        },
    ];
    for c in cases {
        let ctx = Context {
            user: c.user,
            groups: &c.groups,
            provider: Some(c.provider),
            model: c.model,
            endpoint: c.endpoint,
            direction: Direction::Request,
            label_thresholds: None,
            uninspectable: None,
            scan_limit: None,
            tools: &c.tool.map(String::from).into_iter().collect::<Vec<_>>(),
        };
        let d = p.evaluate(&ctx, &[c.text], &c.findings, &c.labels);
        let mut rules: Vec<&str> = d.reasons.iter().map(|r| &*r.rule).collect();
        rules.dedup();
        assert_eq!(d.action, c.action, "{}: {:?}", c.name, d.reasons);
        assert_eq!(rules, c.rules, "{}", c.name);
    }
}

#[test]
fn custom_detectors_report_findings_with_offsets() {
    let p = policy(ACME);
    let text = "status of Bluebird launch";
    let d = p.evaluate(&Context::default(), &[text], &[], &LabelsOutcome::NotRun);
    let f = &d.findings(&[])[0].finding;
    assert_eq!(
        (&*f.rule, &text[f.start..f.end]),
        ("custom:codenames", "Bluebird")
    );
}

#[test]
fn messages_are_templated() {
    let p = policy(ACME);
    let groups = vec![];
    let ctx = Context {
        user: Some("dana"),
        groups: &groups,
        ..Context::default()
    };
    let d = p.evaluate(
        &ctx,
        &["k"],
        &[f(Category::Secret, "github_token", 0.9, 0, 1)],
        &LabelsOutcome::NotRun,
    );
    assert_eq!(
        d.message.as_deref(),
        Some("Credentials (github_token) must not be sent, dana.")
    );
}

#[test]
fn fail_open_passes_and_records_the_failure() {
    let p = policy(&ACME.replace("fail_closed", "fail_open"));
    let d = p.evaluate(
        &Context::default(),
        &["hi"],
        &[],
        &LabelsOutcome::Failed("model error".into()),
    );
    assert_eq!(d.action, Action::Log);
    assert_eq!(d.classifier_error.as_deref(), Some("model error"));
    assert_eq!(&*d.reasons[0].rule, "on_classifier_error:fail_open");
}

#[test]
fn the_default_policy_blocks_injection_at_the_models_own_threshold() {
    let p = CompiledPolicy::default_for("acme");
    let thresholds = BTreeMap::from([("prompt_injection".to_string(), 0.86)]);
    let decide = |score: f64| {
        let ctx = Context {
            label_thresholds: Some(&thresholds),
            ..Context::default()
        };
        let scores = BTreeMap::from([("prompt_injection".to_string(), score)]);
        p.evaluate(&ctx, &["hi"], &[], &LabelsOutcome::Scored(scores))
            .action
    };
    assert_eq!(decide(0.88), Action::Block, "over the model's threshold");
    assert_eq!(decide(0.80), Action::Allow, "under it");
}

#[test]
fn classifier_failure_is_ignored_by_policies_without_label_rules() {
    let p = policy("tenant: t\nrules:\n  - {id: b, when: {category: secret}, action: block}\n");
    let d = p.evaluate(
        &Context::default(),
        &["hi"],
        &[],
        &LabelsOutcome::Failed("x".into()),
    );
    assert_eq!(d.action, Action::Allow);
}

#[test]
fn monitor_mode_records_would_block_and_passes_traffic() {
    let p = policy(&ACME.replace("on_classifier_error: fail_closed", "mode: monitor"));
    let d = p.evaluate(
        &Context::default(),
        &["k"],
        &[f(Category::Secret, "aws_access_key", 0.9, 0, 1)],
        &LabelsOutcome::NotRun,
    );
    assert_eq!(
        (d.action, d.would, d.label().as_str()),
        (Action::Log, Some(Action::Block), "would_block")
    );
    assert!(d.message.is_none() && d.redactions.is_empty());
}

#[test]
fn a_rule_in_monitor_mode_does_not_act_but_is_recorded() {
    let p = policy("tenant: t\nrules:\n  - {id: trial, when: {category: pii}, action: redact, mode: monitor}\n");
    let d = p.evaluate(
        &Context::default(),
        &["abc"],
        &[f(Category::Pii, "email", 0.9, 0, 3)],
        &LabelsOutcome::NotRun,
    );
    assert_eq!(
        (d.action, d.label().as_str()),
        (Action::Log, "would_redact")
    );
    assert!(d.redactions.is_empty());
}

#[test]
fn invalid_documents_name_file_line_and_field() {
    for (yaml, field, line) in [
        ("tenant: t\nrules:\n  - id: a\n    when: {categry: secret}\n    action: block\n", "rules[0].when", Some(4)),
        ("tenant: t\nrules:\n  - id: a\n    when: {category: secrets}\n    action: block\n", "rules[0].when.category", Some(4)),
        ("tenant: t\nrules:\n  - {id: a, action: explode}\n", "rules[0].action", Some(3)),
        ("tenant: t\nrules:\n  - {id: a, when: {min_score: 2}, action: log}\n", "rules[0].when.min_score", Some(3)),
        ("tenant: t\ncustom_detectors:\n  - {id: c, category: confidential, regexes: ['(bad']}\n", "custom_detectors[0].regexes[0]", Some(3)),
        ("tenant: t\nallowlist: {entity: email}\n", "allowlist", Some(2)),
        ("tenant: t\nallowlist:\n  - {entity: email, value: [a, b]}\n", "allowlist[0].value", Some(3)),
        ("tenant: t\nrules:\n  - {id: a, action: coach}\n", "rules[0].message", Some(3)),
    ] {
        let e = CompiledPolicy::from_yaml("p.yaml", yaml).unwrap_err();
        assert_eq!(e.origin, "p.yaml");
        assert!(e.field.starts_with(field), "{yaml}: field {} (want {field}): {e}", e.field);
        assert_eq!(e.line, line, "{yaml}: {e}");
        // The place is said once, before the message, not repeated inside it.
        assert!(
            !e.message.contains(" at line ")
                && !e.message.starts_with(e.field.split(['.', '[']).next().unwrap()),
            "{e}"
        );
    }
}

#[test]
fn an_uninspectable_request_follows_on_uninspectable() {
    let decide = |doc: &str| {
        let ctx = Context {
            uninspectable: Some("binary body"),
            ..Context::default()
        };
        policy(doc).evaluate(&ctx, &[], &[], &LabelsOutcome::NotRun)
    };
    let d = decide("tenant: t\n");
    assert_eq!(d.action, Action::Block, "block is the default");
    assert_eq!(&*d.reasons[0].rule, "on_uninspectable:block");
    assert!(d.message.unwrap().contains("binary body"));
    let d = decide("tenant: t\non_uninspectable: log\n");
    assert_eq!(
        (d.action, &*d.reasons[0].rule),
        (Action::Log, "on_uninspectable:log")
    );
    let d = decide("tenant: t\non_uninspectable: allow\n");
    assert_eq!(d.action, Action::Allow);
    assert_eq!(
        &*d.reasons[0].rule, "on_uninspectable:allow",
        "still a reason"
    );
    let d = decide("tenant: t\nmode: monitor\n");
    assert_eq!((d.action, d.would), (Action::Log, Some(Action::Block)));
    assert!(CompiledPolicy::from_yaml("p.yaml", "tenant: t\non_uninspectable: maybe\n").is_err());
}

#[test]
fn a_scan_limit_follows_the_tenants_fail_mode() {
    let decide = |doc: &str| {
        let ctx = Context {
            scan_limit: Some("an encoded run too long"),
            ..Context::default()
        };
        policy(doc).evaluate(&ctx, &["x"], &[], &LabelsOutcome::NotRun)
    };
    let d = decide("tenant: t\non_classifier_error: fail_closed\n");
    assert_eq!(
        (d.action, &*d.reasons[0].rule),
        (Action::Block, "scan_limit:fail_closed")
    );
    assert!(d.message.unwrap().contains("an encoded run too long"));
    let d = decide("tenant: t\non_classifier_error: fail_open\n");
    assert_eq!(
        (d.action, &*d.reasons[0].rule),
        (Action::Log, "scan_limit:fail_open")
    );
}
