//! The SQLite store on a real file: round trips, the start-before-INVITE
//! rule, crash recovery into the scheduler, schema versions, and the
//! atomic summary file.

mod common;

use std::path::Path;

use chrono::TimeDelta;
use common::*;
use voxhire_campaign::{
    write_summary, AttemptOutcome, AttemptRecord, CampaignError, DoNotCallList, Store,
};

#[test]
fn attempts_round_trip_through_a_reopened_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("runs/java/campaign.sqlite");
    let t0 = t("2026-11-24T10:00:00Z");
    {
        let store = Store::open(&path).expect("open creates dirs and schema");
        store
            .record_attempt_start("java", "bob", 1, t0)
            .expect("start");
        store
            .record_attempt_end(
                "java",
                "bob",
                1,
                t0 + TimeDelta::seconds(4),
                &AttemptOutcome::Busy,
                None,
            )
            .expect("end");
        store
            .record_attempt_start("java", "bob", 2, t0 + TimeDelta::minutes(2))
            .expect("start");
        let report = Path::new("runs/java/bob/report.json");
        let done = AttemptOutcome::Completed {
            score: Some(82.5),
            recommendation: Some("advance".into()),
        };
        store
            .record_attempt_end(
                "java",
                "bob",
                2,
                t0 + TimeDelta::minutes(14),
                &done,
                Some(report),
            )
            .expect("end");
        store
            .record_attempt_start("other-campaign", "bob", 1, t0)
            .expect("start");
        store
            .add_do_not_call("sip:dana@127.0.0.1:5090", t0)
            .expect("dnc");
        store
            .add_do_not_call("sip:dana@127.0.0.1:5090", t0)
            .expect("dnc twice is fine");
    }
    let store = Store::open(&path).expect("reopen");
    assert_eq!(store.schema_version().expect("version"), 2);
    let got = store.attempts("java").expect("attempts");
    let want = vec![
        AttemptRecord {
            candidate_id: "bob".into(),
            attempt_no: 1,
            started_at: t0,
            ended_at: Some(t0 + TimeDelta::seconds(4)),
            outcome: Some(AttemptOutcome::Busy),
            report_path: None,
        },
        AttemptRecord {
            candidate_id: "bob".into(),
            attempt_no: 2,
            started_at: t0 + TimeDelta::minutes(2),
            ended_at: Some(t0 + TimeDelta::minutes(14)),
            outcome: Some(AttemptOutcome::Completed {
                score: Some(82.5),
                recommendation: Some("advance".into()),
            }),
            report_path: Some("runs/java/bob/report.json".into()),
        },
    ];
    assert_eq!(got, want);
    assert_eq!(
        store.do_not_call().expect("dnc"),
        vec!["sip:dana@127.0.0.1:5090".to_string()]
    );
    // The score column is queryable by an HR system without parsing JSON.
    let conn = rusqlite::Connection::open(&path).expect("raw open");
    let (outcome, score): (String, f64) = conn
        .query_row(
            "SELECT outcome, score FROM attempts WHERE attempt_no = 2 AND campaign = 'java'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("row");
    assert_eq!((outcome.as_str(), score), ("completed", 82.5));
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("mode");
    assert_eq!(mode, "wal");
}

#[test]
fn an_attempt_number_is_never_reused_and_never_ended_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("c.sqlite")).expect("open");
    let t0 = t("2026-11-24T10:00:00Z");
    store
        .record_attempt_start("c", "alice", 1, t0)
        .expect("start");
    assert!(matches!(
        store.record_attempt_start("c", "alice", 1, t0),
        Err(CampaignError::Store { .. })
    ));
    assert!(matches!(
        store.record_attempt_end("c", "alice", 2, t0, &AttemptOutcome::HungUp, None),
        Err(CampaignError::StoreContents { .. })
    ));
    store
        .record_attempt_end("c", "alice", 1, t0, &AttemptOutcome::HungUp, None)
        .expect("end");
    let e = store
        .record_attempt_end("c", "alice", 1, t0, &AttemptOutcome::OptedOut, None)
        .expect_err("already ended");
    assert!(e.to_string().contains("already ended"), "{e}");
    assert_eq!(
        store.attempts("c").expect("attempts")[0].outcome,
        Some(AttemptOutcome::HungUp)
    );
}

#[test]
fn crash_mid_call_is_seen_as_interrupted_on_the_next_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("campaign.sqlite");
    let t0 = t("2026-11-24T10:00:00Z");
    let cfg = config("max_concurrent_calls = 1\n[retry]\nmax_attempts = 2\nbackoff_secs = 60\n");

    // First run: c1 is dialled, the process dies before the call ends.
    {
        let store = Store::open(&path).expect("open");
        let mut s = scheduler(cfg.clone(), local(1), DoNotCallList::new(), &[], t0);
        let dial = s.poll_dial(t0).expect("dial");
        store
            .record_attempt_start("test", &dial.candidate.id, dial.attempt_no, t0)
            .expect("start");
    }

    // Second run, ten seconds later.
    let store = Store::open(&path).expect("reopen");
    let prior = store.attempts("test").expect("attempts");
    assert_eq!(prior[0].ended_at, None);
    assert_eq!(prior[0].effective_outcome(), AttemptOutcome::interrupted());
    let now = t0 + TimeDelta::seconds(10);
    let mut s = scheduler(cfg, local(1), DoNotCallList::new(), &prior, now);
    assert_eq!(s.poll_dial(now), None, "not redialled at once");
    let when = s.poll_timeout().expect("a retry is due later");
    assert_eq!(when, t0 + TimeDelta::seconds(60));
    let dial = s.poll_dial(when).expect("retry");
    assert_eq!(dial.attempt_no, 2);
    store
        .record_attempt_start("test", "c1", dial.attempt_no, when)
        .expect("new attempt number is free");
}

#[test]
fn a_second_dialer_on_the_same_campaign_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("campaign.sqlite");
    let first = Store::open(&path).expect("first run");
    let e = Store::open(&path)
        .expect_err("second run while the first is alive")
        .to_string();
    assert!(e.contains("in use by another voxhire process"), "{e}");
    drop(first);
    Store::open(&path).expect("free again once the first run ends");
}

#[test]
fn a_database_from_a_newer_voxhire_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.sqlite");
    drop(Store::open(&path).expect("open"));
    rusqlite::Connection::open(&path)
        .and_then(|c| c.pragma_update(None, "user_version", 99))
        .expect("bump version");
    let e = Store::open(&path).expect_err("newer schema").to_string();
    assert!(
        e.contains("schema version 99") && e.contains("c.sqlite"),
        "{e}"
    );
}

#[test]
fn summary_json_is_written_atomically_and_replaces_the_old_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("runs/test");
    let t0 = t("2026-11-24T10:00:00Z");
    let mut s = scheduler(
        config("max_concurrent_calls = 2\n"),
        local(2),
        DoNotCallList::new(),
        &[],
        t0,
    );
    let first = write_summary(&out, &s.summary()).expect("write");
    assert_eq!(first, out.join("summary.json"));

    run(&mut s, t0, t0 + TimeDelta::hours(1), |_| {
        (TimeDelta::minutes(3), completed(64.0))
    });
    write_summary(&out, &s.summary()).expect("overwrite");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&first).expect("read")).expect("json");
    assert_eq!(json["campaign"], "test");
    assert_eq!(json["completed"], 2);
    assert_eq!(json["dialled"], 2);
    assert_eq!(json["average_score"], 64.0);
    assert_eq!(json["rows"][1]["status"], "completed");
    assert_eq!(json["rows"][1]["report_path"], "runs/test/c2/1/report.json");
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        leftovers,
        vec!["summary.json".to_string()],
        "no temp file left behind"
    );
}

#[test]
fn an_answered_calls_dialog_is_kept_until_the_attempt_ends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("campaign.sqlite");
    let t0 = t("2026-11-24T10:00:00Z");
    let store = Store::open(&path).expect("open");
    store
        .record_attempt_start("java", "bob", 1, t0)
        .expect("start");
    assert_eq!(
        store.dialog("java", "bob", 1).expect("read"),
        None,
        "not answered yet"
    );
    // Written from another task, on its own connection, while the store is open.
    let writer = store.dialog_writer("java", "bob", 1);
    std::thread::spawn(move || writer.keep(b"dialog state").expect("keep"))
        .join()
        .expect("thread");
    assert_eq!(
        store.dialog("java", "bob", 1).expect("read").as_deref(),
        Some(&b"dialog state"[..])
    );
    store
        .record_attempt_end("java", "bob", 1, t0, &AttemptOutcome::HungUp, None)
        .expect("end");
    assert_eq!(
        store.dialog("java", "bob", 1).expect("read"),
        None,
        "cleared at the end"
    );
    // A late write after the end changes nothing.
    store
        .dialog_writer("java", "bob", 1)
        .keep(b"late")
        .expect("keep");
    assert_eq!(store.dialog("java", "bob", 1).expect("read"), None);
}
