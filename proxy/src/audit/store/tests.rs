//! The store's tests: chain, queries, the derived indexes and verification.

use super::*;
use crate::audit::event::ReasonRow;

fn ev(i: usize, tenant: &str, decision: &str) -> AuditEvent {
    AuditEvent {
        id: format!("r{i}"),
        time: format!("2026-11-{:02}T10:00:00Z", 1 + i % 20),
        kind: "ai_request".into(),
        tenant: tenant.into(),
        user: Some(format!("u{}", i % 3)),
        groups: vec!["eng".into()],
        host: "api.openai.com".into(),
        provider: Some("openai".into()),
        decision: decision.into(),
        reasons: vec![ReasonRow {
            rule: "no-credentials".into(),
            action: decision.into(),
            category: Some("secret".into()),
            entity: "aws_access_key".into(),
            count: 1,
            max_score: 0.95,
        }],
        ..AuditEvent::default()
    }
}

/// A database path in a fresh temp dir; the dir (the file, its WAL and shm) goes when this drops.
pub(crate) struct TempDb {
    path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl AsRef<std::path::Path> for TempDb {
    fn as_ref(&self) -> &std::path::Path {
        &self.path
    }
}

impl std::ops::Deref for TempDb {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.path
    }
}

/// A fresh database path that no other test shares, removed with its directory after the test.
pub(crate) fn tmp(name: &str) -> TempDb {
    let dir = tempfile::Builder::new()
        .prefix(&format!("pw-audit-{name}-"))
        .tempdir()
        .expect("temp dir");
    TempDb {
        path: dir.path().join("audit.db"),
        _dir: dir,
    }
}

#[test]
fn inserts_chain_query_and_verify() {
    let p = tmp("chain");
    let mut s = AuditStore::open(&p).unwrap();
    let mut batch: Vec<AuditEvent> = (0..30)
        .map(|i| {
            ev(
                i,
                if i % 2 == 0 { "acme" } else { "globex" },
                if i % 5 == 0 { "block" } else { "allow" },
            )
        })
        .collect();
    s.insert(&mut batch).unwrap();
    assert_eq!(s.verify().unwrap(), 30);
    let acme = s
        .query(&Filter {
            tenant: Some("acme".into()),
            limit: 1000,
            ..Filter::default()
        })
        .unwrap();
    assert_eq!(acme.len(), 15);
    let blocked = s
        .query(&Filter {
            tenant: Some("acme".into()),
            action: Some("block".into()),
            category: Some("secret".into()),
            ..Filter::default()
        })
        .unwrap();
    assert!(blocked
        .iter()
        .all(|e| e.decision == "block" && e.tenant == "acme"));
    let page1 = s
        .query(&Filter {
            limit: 10,
            ..Filter::default()
        })
        .unwrap();
    let page2 = s
        .query(&Filter {
            limit: 10,
            after: Some(page1.last().unwrap().seq),
            ..Filter::default()
        })
        .unwrap();
    assert_eq!(page2[0].seq, page1.last().unwrap().seq + 1);
    let by = s.stats(&Filter::default(), "decision").unwrap();
    assert_eq!(by.iter().map(|(_, n)| n).sum::<i64>(), 30);
    let by = s
        .stats(
            &Filter {
                tenant: Some("acme".into()),
                ..Filter::default()
            },
            "category",
        )
        .unwrap();
    assert_eq!(by, [("secret".to_string(), 15)]);
    let entity = |e: &str| {
        s.query(&Filter {
            entity: Some(e.into()),
            limit: 1000,
            ..Filter::default()
        })
        .unwrap()
        .len()
    };
    assert_eq!(entity("aws_access_key"), 30);
    assert_eq!(entity("aws%"), 0, "filter values are literal");
    assert_eq!(entity("aws_access_ke_"), 0);
    // Reopening continues the chain.
    drop(s);
    let mut s = AuditStore::open(&p).unwrap();
    s.insert(&mut [ev(99, "acme", "allow")]).unwrap();
    assert_eq!(s.verify().unwrap(), 31);
}

#[test]
fn time_bounds_compare_as_instants_not_as_text() {
    assert_eq!(
        log_time("2024-05-01T12:00:00+02:00").unwrap(),
        "2024-05-01T10:00:00.000Z"
    );
    assert_eq!(log_time("2024-05-01").unwrap(), "2024-05-01T00:00:00.000Z");
    assert!(log_time("yesterday").unwrap_err().contains("RFC 3339"));
    let p = tmp("bounds");
    let mut s = AuditStore::open(&p).unwrap();
    let mut e = ev(0, "acme", "allow");
    e.time = "2024-05-01T10:00:00.500Z".into();
    s.insert(&mut [e]).unwrap();
    let count = |since: &str, until: &str| {
        s.query(&Filter {
            since: Some(log_time(since).unwrap()),
            until: Some(log_time(until).unwrap()),
            limit: 10,
            ..Filter::default()
        })
        .unwrap()
        .len()
    };
    // As text, `10:00:00Z` sorted after `10:00:00.500Z`, and the offset was ignored.
    assert_eq!(count("2024-05-01T10:00:00Z", "2024-05-01T11:00:00Z"), 1);
    assert_eq!(
        count("2024-05-01T12:00:00+02:00", "2024-05-01T12:00:01+02:00"),
        1
    );
    assert_eq!(count("2024-05-01T10:00:01Z", "2024-05-02"), 0);
}

#[test]
fn scores_that_parse_back_off_by_one_unit_still_verify() {
    // 0.9 + 0.05 (the PCI pack's confidence and context boost) is 0.9500000000000001, and
    // classifier scores are f32 widened to f64 (0.97f32 is 0.9700000286102295): verify parses
    // each body back, so it must read such numbers exactly or a clean log looks edited.
    let p = tmp("floats");
    let mut s = AuditStore::open(&p).unwrap();
    let scores = [
        0.9 + 0.05,
        f64::from(0.97f32),
        f64::from(0.123_456_79_f32),
        1.0 / 3.0,
    ];
    let mut batch: Vec<AuditEvent> = scores
        .iter()
        .enumerate()
        .map(|(i, score)| {
            let mut e = ev(i, "acme", "block");
            e.reasons[0].max_score = *score;
            e
        })
        .collect();
    s.insert(&mut batch).unwrap();
    assert_eq!(s.verify().unwrap(), scores.len() as u64);
}

#[test]
fn an_edited_row_is_named_by_verify() {
    let p = tmp("tamper");
    let mut s = AuditStore::open(&p).unwrap();
    let mut batch: Vec<AuditEvent> = (0..5).map(|i| ev(i, "acme", "block")).collect();
    s.insert(&mut batch).unwrap();
    let c = Connection::open(&p).unwrap();
    c.execute("UPDATE events SET body = replace(body, '\"decision\":\"block\"', '\"decision\":\"allow\"') WHERE seq = 3", []).unwrap();
    let e = s.verify().unwrap_err().to_string();
    assert!(e.contains("row 3") && e.contains("edited"), "{e}");
    // The columns that scope, filter and expire rows are checked against the body too: moved
    // to another tenant, made older (for retention to erase) or relabelled.
    for edit in [
        "tenant = 'globex'",
        "time = '2000-01-01T00:00:00.000Z'",
        "decision = 'allow'",
        "categories = ',,'",
        "user = NULL",
    ] {
        let p = tmp("tamper-columns");
        let mut s = AuditStore::open(&p).unwrap();
        let mut batch: Vec<AuditEvent> = (0..5).map(|i| ev(i, "acme", "block")).collect();
        s.insert(&mut batch).unwrap();
        assert_eq!(s.verify().unwrap(), 5);
        let c = Connection::open(&p).unwrap();
        c.execute(&format!("UPDATE events SET {edit} WHERE seq = 2"), [])
            .unwrap();
        let e = s.verify().unwrap_err().to_string();
        assert!(e.contains("row 2") && e.contains("column"), "{edit}: {e}");
    }
}

#[test]
fn filters_use_the_tag_index_and_a_file_without_it_is_migrated() {
    let p = tmp("tags");
    let mut s = AuditStore::open(&p).unwrap();
    let mut batch: Vec<AuditEvent> = (0..10).map(|i| ev(i, "acme", "block")).collect();
    batch[3].reasons[0].category = Some("pii".into());
    batch[3].reasons[0].entity = "email".into();
    s.insert(&mut batch).unwrap();
    let pii = Filter {
        tenant: Some("acme".into()),
        category: Some("pii".into()),
        since: Some("2026-11-01T00:00:00Z".into()),
        ..Filter::default()
    };
    let got = s.query(&pii).unwrap();
    assert_eq!(
        got.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["r3"]
    );
    assert_eq!(got[0].hash.len(), 64, "the hash comes back with the row");
    // The planner reads the tag index, not every event.
    let plan = query_plan(&s, "SELECT seq FROM events WHERE tenant = 'acme' AND seq IN (SELECT seq FROM event_tags WHERE tag = 'category:pii' AND tenant = 'acme' AND time >= '2026') ORDER BY seq LIMIT 100");
    assert!(
        plan.iter()
            .any(|l| l.contains("event_tags") && l.contains("PRIMARY KEY")),
        "{plan:?}"
    );
    assert!(
        !plan.iter().any(|l| l.starts_with("SCAN events")),
        "{plan:?}"
    );
    drop(s);
    // An older file: no tags, schema version 0. Opening it derives them.
    let c = Connection::open(&p).unwrap();
    c.execute_batch("DELETE FROM event_tags; PRAGMA user_version = 0;")
        .unwrap();
    drop(c);
    let s = AuditStore::open(&p).unwrap();
    assert_eq!(s.query(&pii).unwrap().len(), 1);
    assert_eq!(s.verify().unwrap(), 10);
}

#[test]
fn an_edited_tag_index_fails_verification() {
    let p = tmp("tag-tamper");
    let mut s = AuditStore::open(&p).unwrap();
    let mut batch: Vec<AuditEvent> = (0..5).map(|i| ev(i, "acme", "block")).collect();
    s.insert(&mut batch).unwrap();
    assert_eq!(s.index_derived().unwrap(), 5);
    assert_eq!(s.verify().unwrap(), 5);
    // Hiding one event from category queries, without touching the chained rows.
    s.conn
        .execute(
            "DELETE FROM event_tags WHERE seq = 2 AND tag = 'category:secret'",
            [],
        )
        .unwrap();
    let e = s.verify().unwrap_err().to_string();
    assert!(e.contains("filter index"), "{e}");
}

#[test]
fn tag_filters_find_the_unmerged_tail_and_the_merge_writes_each_tag_once() {
    let p = tmp("tag-tail");
    let mut s = AuditStore::open(&p).unwrap();
    let mut batch: Vec<AuditEvent> = (0..12).map(|i| ev(i, "acme", "block")).collect();
    for i in [2, 7, 11] {
        batch[i].reasons[0].category = Some("pii".into());
        batch[i].reasons[0].entity = "email".into();
        batch[i].reasons[0].rule = "pii-email".into();
    }
    batch[5].groups = vec!["eng".into(), "sales".into()];
    // Items the list columns cannot hold exactly: a comma inside one, an empty one. The
    // index comes from the chained body, as `verify` reads it.
    batch[9].reasons[0].rule = "legacy,rule".into();
    batch[9].reasons[0].entity = String::new();
    s.insert(&mut batch).unwrap();
    let tag_rows = |s: &AuditStore| -> i64 {
        s.conn
            .query_row("SELECT count(*) FROM event_tags", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(tag_rows(&s), 0, "the commit writes no tag rows");
    let ids = |s: &AuditStore, f: Filter| -> Vec<String> {
        s.query(&f).unwrap().into_iter().map(|e| e.id).collect()
    };
    let check = |s: &AuditStore, stage: &str| {
        let f = |tweak: fn(&mut Filter)| {
            let mut f = Filter {
                tenant: Some("acme".into()),
                ..Filter::default()
            };
            tweak(&mut f);
            f
        };
        let mut pii = ids(s, f(|f| f.category = Some("pii".into())));
        pii.sort();
        assert_eq!(pii, ["r11", "r2", "r7"], "{stage}");
        assert_eq!(
            ids(s, f(|f| f.rule = Some("pii-email".into()))).len(),
            3,
            "{stage}"
        );
        assert_eq!(
            ids(s, f(|f| f.entity = Some("email".into()))).len(),
            3,
            "{stage}"
        );
        assert_eq!(
            ids(s, f(|f| f.group = Some("sales".into()))),
            ["r5"],
            "{stage}"
        );
        assert_eq!(
            ids(s, f(|f| f.group = Some("eng".into()))).len(),
            12,
            "{stage}"
        );
        assert_eq!(
            ids(s, f(|f| f.rule = Some("legacy,rule".into()))),
            ["r9"],
            "{stage}"
        );
        // An empty value is no filter, before the merge and after.
        assert_eq!(
            ids(s, f(|f| f.entity = Some(String::new()))).len(),
            12,
            "{stage}"
        );
        // An exact item, not a substring of one.
        assert!(
            ids(s, f(|f| f.group = Some("sal".into()))).is_empty(),
            "{stage}"
        );
        assert!(
            ids(s, f(|f| f.category = Some("pi".into()))).is_empty(),
            "{stage}"
        );
        assert_eq!(s.verify().unwrap(), 12, "{stage}");
    };
    check(&s, "nothing merged");
    assert_eq!(merge_indexes(&s.conn, 6).unwrap(), 6);
    check(&s, "half merged");
    assert_eq!(s.index_derived().unwrap(), 6);
    check(&s, "all merged");
    // Each event's tags once: category, entity, rule and one row per group.
    assert_eq!(tag_rows(&s), 12 * 4 + 1);
    // A version-3 file wrote every event's tags at commit, past the watermark too: opening
    // it drops those, and the next merge writes them again.
    s.conn
        .execute_batch(
            "UPDATE user_index_state SET upto = 4;
             DELETE FROM user_index WHERE seq > 4;
             PRAGMA user_version = 3;",
        )
        .unwrap();
    drop(s);
    let s = AuditStore::open(&p).unwrap();
    let past: i64 = s
        .conn
        .query_row("SELECT count(*) FROM event_tags WHERE seq > 4", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(past, 0);
    check(&s, "migrated from 3");
    s.index_derived().unwrap();
    check(&s, "merged again");
    assert_eq!(tag_rows(&s), 12 * 4 + 1);
}

/// SQLite's plan for `sql`, one line per step.
fn query_plan(s: &AuditStore, sql: &str) -> Vec<String> {
    s.conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap()
        .query_map([], |r| r.get::<_, String>(3))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The ids a user query returns, oldest first and newest first.
fn user_ids(s: &AuditStore, tenant: Option<&str>, user: &str) -> (Vec<String>, Vec<String>) {
    let f = Filter {
        tenant: tenant.map(str::to_string),
        user: Some(user.into()),
        limit: 1000,
        ..Filter::default()
    };
    let ids =
        |f: &Filter| -> Vec<String> { s.query(f).unwrap().into_iter().map(|e| e.id).collect() };
    let newest = Filter {
        newest_first: true,
        ..f.clone()
    };
    (ids(&f), ids(&newest))
}

#[test]
fn a_user_query_reads_the_merged_index_and_the_tail_it_has_not_reached() {
    let p = tmp("user-index");
    let mut s = AuditStore::open(&p).unwrap();
    let mut batch: Vec<AuditEvent> = (0..30)
        .map(|i| ev(i, if i % 2 == 0 { "acme" } else { "globex" }, "allow"))
        .collect();
    batch[7].user = None;
    s.insert(&mut batch).unwrap();
    // What a scan of the events says: the expected answer at every stage.
    let expect = |tenant: Option<&str>, user: &str| -> Vec<String> {
        batch
            .iter()
            .filter(|e| e.user.as_deref() == Some(user) && tenant.is_none_or(|t| e.tenant == t))
            .map(|e| e.id.clone())
            .collect()
    };
    let check = |s: &AuditStore, stage: &str| {
        for tenant in [Some("acme"), Some("globex"), None] {
            for user in ["u0", "u1", "u2"] {
                let (oldest, newest) = user_ids(s, tenant, user);
                let want = expect(tenant, user);
                assert!(!want.is_empty());
                assert_eq!(oldest, want, "{stage}: {tenant:?} {user}");
                let mut rev = want.clone();
                rev.reverse();
                assert_eq!(newest, rev, "{stage}: {tenant:?} {user}, newest first");
            }
        }
    };
    check(&s, "nothing merged");
    assert_eq!(merge_indexes(&s.conn, 12).unwrap(), 12);
    check(&s, "12 merged");
    assert_eq!(s.verify().unwrap(), 30);
    assert_eq!(merge_indexes(&s.conn, 1000).unwrap(), 18);
    assert_eq!(merge_indexes(&s.conn, 1000).unwrap(), 0, "nothing left");
    check(&s, "all merged");
    // A time range narrows the lookup and the tail alike.
    let since = Filter {
        tenant: Some("acme".into()),
        user: Some("u0".into()),
        since: Some("2026-11-10T00:00:00Z".into()),
        until: Some("2026-11-15T00:00:00Z".into()),
        ..Filter::default()
    };
    let want: Vec<String> = batch
        .iter()
        .filter(|e| {
            e.tenant == "acme"
                && e.user.as_deref() == Some("u0")
                && e.time.as_str() >= "2026-11-10T00:00:00Z"
                && e.time.as_str() < "2026-11-15T00:00:00Z"
        })
        .map(|e| e.id.clone())
        .collect();
    assert!(!want.is_empty());
    let got: Vec<String> = s.query(&since).unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(got, want);
    let merged: i64 = s
        .conn
        .query_row("SELECT count(*) FROM user_index", [], |r| r.get(0))
        .unwrap();
    assert_eq!(merged, 29, "one entry per event with a user");
    assert_eq!(s.verify().unwrap(), 30);
    // The planner reads the user index, not the tenant's events.
    let plan = query_plan(&s, "SELECT seq FROM events WHERE tenant = 'acme' AND seq IN (SELECT seq FROM user_index WHERE user = 'u1' AND tenant = 'acme' UNION ALL SELECT seq FROM events WHERE seq > coalesce((SELECT upto FROM user_index_state WHERE id = 0), 0) AND user = 'u1') ORDER BY seq LIMIT 100");
    assert!(
        plan.iter()
            .any(|l| l.contains("user_index") && l.contains("PRIMARY KEY")),
        "{plan:?}"
    );
}

#[test]
fn an_edited_user_index_fails_verification_and_an_old_file_gets_one() {
    let p = tmp("user-tamper");
    let mut s = AuditStore::open(&p).unwrap();
    let mut batch: Vec<AuditEvent> = (0..6).map(|i| ev(i, "acme", "allow")).collect();
    s.insert(&mut batch).unwrap();
    merge_indexes(&s.conn, 100).unwrap();
    assert_eq!(s.verify().unwrap(), 6);
    // Hiding an event from user queries, without touching the chained rows.
    s.conn
        .execute("DELETE FROM user_index WHERE seq = 2", [])
        .unwrap();
    let e = s.verify().unwrap_err().to_string();
    assert!(e.contains("user index"), "{e}");
    // Or pointing a user's query at another user's event.
    s.conn
        .execute(
            "INSERT INTO user_index (tenant, user, time, seq) SELECT tenant, 'u9', time, seq FROM events WHERE seq = 2",
            [],
        )
        .unwrap();
    assert!(s.verify().is_err());
    drop(s);
    // A version-2 file: the (tenant, user, time) index and no user_index. Opening it
    // indexes the whole log and drops the old index.
    let c = Connection::open(&p).unwrap();
    c.execute_batch(
        "DELETE FROM user_index; UPDATE user_index_state SET upto = 0;
         CREATE INDEX events_tenant_user_time ON events(tenant, user, time);
         PRAGMA user_version = 2;",
    )
    .unwrap();
    drop(c);
    let s = AuditStore::open(&p).unwrap();
    assert_eq!(s.verify().unwrap(), 6);
    let upto: i64 = s
        .conn
        .query_row("SELECT upto FROM user_index_state", [], |r| r.get(0))
        .unwrap();
    assert_eq!(upto, 6);
    let old: i64 = s
        .conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'events_tenant_user_time'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(old, 0);
    assert_eq!(user_ids(&s, Some("acme"), "u1").0, ["r1", "r4"]);
}

#[test]
fn the_busy_wait_retries_finely_then_gives_up_after_its_limit() {
    use std::time::Duration;
    let step = |n| busy_step(n, BUSY_LIMIT);
    assert_eq!(step(0), Some(Duration::from_micros(50)));
    assert_eq!(step(199), Some(Duration::from_micros(50)));
    assert_eq!(step(200), Some(Duration::from_millis(1)));
    assert_eq!(step(-1), None);
    for limit in [BUSY_LIMIT, RESTART_LIMIT] {
        let total: Duration = (0..).map_while(|n| busy_step(n, limit)).sum();
        assert!(total >= limit, "{total:?}");
        assert!(total < limit + Duration::from_millis(2), "{total:?}");
    }
}
