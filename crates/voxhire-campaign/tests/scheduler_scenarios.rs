//! Scheduler scenarios on a virtual clock: concurrency, pacing, retries,
//! the do-not-call list, calling windows across time zones, reruns.

mod common;

use chrono::{NaiveDate, TimeDelta};
use common::*;
use voxhire_campaign::{
    AttemptOutcome, AttemptRecord, CampaignError, CandidateStatus, DoNotCallList,
};

fn secs(s: i64) -> TimeDelta {
    TimeDelta::seconds(s)
}

#[test]
fn concurrency_limit_is_never_exceeded() {
    let t0 = t("2026-11-24T10:00:00Z");
    let mut s = scheduler(
        config("max_concurrent_calls = 2\n"),
        local(6),
        DoNotCallList::new(),
        &[],
        t0,
    );
    let placed = run(&mut s, t0, t0 + TimeDelta::hours(1), |_| {
        (TimeDelta::minutes(5), completed(80.0))
    });

    assert_eq!(placed.len(), 6);
    assert!(placed.iter().all(|p| p.in_flight_after <= 2), "{placed:?}");
    // Two lines: pairs start as the previous pair hangs up.
    let starts: Vec<i64> = placed.iter().map(|p| (p.at - t0).num_minutes()).collect();
    assert_eq!(starts, vec![0, 0, 5, 5, 10, 10]);
    let sum = s.summary();
    assert_eq!((sum.completed, sum.dialled, sum.answered), (6, 6, 6));
    assert_eq!(sum.average_score, Some(80.0));
    assert!(s.is_finished());
}

#[test]
fn all_lines_busy_means_no_timeout_until_a_call_ends() {
    let t0 = t("2026-11-24T10:00:00Z");
    let mut s = scheduler(
        config("max_concurrent_calls = 1\n"),
        local(2),
        DoNotCallList::new(),
        &[],
        t0,
    );
    let first = s.poll_dial(t0).expect("first call");
    assert_eq!(s.poll_dial(t0), None);
    assert_eq!(
        s.poll_timeout(),
        None,
        "only a call result can free the line"
    );
    s.handle_result(&first.candidate.id, AttemptOutcome::HungUp, t0 + secs(30))
        .expect("in flight");
    assert_eq!(s.poll_timeout(), Some(t0 + secs(30)));
    assert_eq!(
        s.poll_dial(t0 + secs(30)).map(|d| d.candidate.id),
        Some("c2".into())
    );
}

#[test]
fn pacing_spaces_call_starts() {
    let t0 = t("2026-11-24T10:00:00Z");
    let cfg = config("max_concurrent_calls = 10\n[pacing]\ncalls_per_minute = 30\n");
    assert_eq!(cfg.min_gap, secs(2));
    let mut s = scheduler(cfg, local(4), DoNotCallList::new(), &[], t0);

    assert!(s.poll_dial(t0).is_some());
    assert_eq!(
        s.poll_dial(t0 + TimeDelta::milliseconds(1999)),
        None,
        "inside the gap"
    );
    assert_eq!(s.poll_timeout(), Some(t0 + secs(2)));

    let mut s = scheduler(
        config("max_concurrent_calls = 10\n[pacing]\nmin_gap_ms = 2000\n"),
        local(4),
        DoNotCallList::new(),
        &[],
        t0,
    );
    let placed = run(&mut s, t0, t0 + TimeDelta::hours(1), |_| {
        (TimeDelta::minutes(1), completed(70.0))
    });
    let starts: Vec<i64> = placed
        .iter()
        .map(|p| (p.at - t0).num_milliseconds())
        .collect();
    assert_eq!(starts, vec![0, 2000, 4000, 6000]);
}

const RETRY: &str =
    "max_concurrent_calls = 1\n[retry]\nmax_attempts = 3\nbackoff_secs = [60, 300]\n";

#[test]
fn busy_is_retried_after_the_backoff_then_completes() {
    let t0 = t("2026-11-24T10:00:00Z");
    let cands = candidates(&[("bob", "sip:bob@127.0.0.1:5090", "Europe/London")]);
    let mut s = scheduler(config(RETRY), cands, DoNotCallList::new(), &[], t0);
    let placed = run(&mut s, t0, t0 + TimeDelta::hours(1), |d| {
        match d.attempt_no {
            1 => (secs(5), AttemptOutcome::Busy),
            _ => (TimeDelta::minutes(10), completed(88.0)),
        }
    });

    let at: Vec<(i64, u32)> = placed
        .iter()
        .map(|p| ((p.at - t0).num_seconds(), p.attempt_no))
        .collect();
    // Busy ends at 5 s; the retry waits the first backoff, 60 s.
    assert_eq!(at, vec![(0, 1), (65, 2)]);
    let sum = s.summary();
    assert_eq!((sum.dialled, sum.answered, sum.completed), (2, 1, 1));
    let row = &sum.rows[0];
    assert_eq!(
        (row.status, row.attempts, row.score),
        (CandidateStatus::Completed, 2, Some(88.0))
    );
    assert_eq!(row.recommendation.as_deref(), Some("advance"));
    assert_eq!(
        row.report_path.as_deref(),
        Some(std::path::Path::new("runs/test/bob/2/report.json"))
    );
}

#[test]
fn no_answer_until_max_attempts_then_failed() {
    let t0 = t("2026-11-24T10:00:00Z");
    let mut s = scheduler(config(RETRY), local(1), DoNotCallList::new(), &[], t0);
    let placed = run(&mut s, t0, t0 + TimeDelta::hours(2), |_| {
        (secs(25), AttemptOutcome::NoAnswer)
    });

    let at: Vec<i64> = placed.iter().map(|p| (p.at - t0).num_seconds()).collect();
    // 0 + 25 ring + 60 backoff = 85; 85 + 25 + 300 = 410.
    assert_eq!(at, vec![0, 85, 410]);
    assert!(s.is_finished());
    let sum = s.summary();
    assert_eq!(
        (sum.dialled, sum.answered, sum.failed_after_retries),
        (3, 0, 1)
    );
    assert_eq!(sum.rows[0].last_outcome.as_deref(), Some("no_answer"));
    assert!(s.summary().render_table().contains("failed (no_answer)"));
}

#[test]
fn outcomes_not_listed_in_retry_on_are_final() {
    let t0 = t("2026-11-24T10:00:00Z");
    let cfg = config(
        "max_concurrent_calls = 1\n[retry]\nmax_attempts = 3\nbackoff_secs = 60\non = [\"busy\"]\n",
    );
    let mut s = scheduler(cfg, local(1), DoNotCallList::new(), &[], t0);
    let placed = run(&mut s, t0, t0 + TimeDelta::hours(1), |_| {
        (
            secs(1),
            AttemptOutcome::Failed {
                reason: "503 Service Unavailable".into(),
            },
        )
    });
    assert_eq!(placed.len(), 1);
    let row = &s.summary().rows[0];
    assert_eq!(row.status, CandidateStatus::Failed);
    assert_eq!(
        row.failure_reason.as_deref(),
        Some("503 Service Unavailable")
    );
}

#[test]
fn answered_outcomes_are_final_and_counted() {
    let t0 = t("2026-11-24T10:00:00Z");
    let mut s = scheduler(config(RETRY), local(6), DoNotCallList::new(), &[], t0);
    let callback = NaiveDate::from_ymd_opt(2026, 11, 25)
        .and_then(|d| d.and_hms_opt(10, 0, 0))
        .expect("date");
    let placed = run(&mut s, t0, t0 + TimeDelta::hours(1), |d| {
        let o = match d.candidate.id.as_str() {
            "c1" => completed(90.0),
            "c2" => AttemptOutcome::OptedOut,
            "c3" => AttemptOutcome::CallbackRequested { at: callback },
            "c4" => AttemptOutcome::DeclinedConsent,
            "c5" => AttemptOutcome::KnockedOut { score: Some(20.0) },
            _ => completed(60.0),
        };
        (secs(60), o)
    });
    assert_eq!(placed.len(), 6, "no answered outcome is retried");
    let sum = s.summary();
    assert_eq!(
        (
            sum.answered,
            sum.completed,
            sum.opted_out,
            sum.callbacks,
            sum.declined_consent,
            sum.knocked_out
        ),
        (6, 2, 1, 1, 1, 1)
    );
    // The knocked-out score is not part of the completed average.
    assert_eq!(sum.average_score, Some(75.0));
    assert_eq!(sum.rows[2].callback_at, Some(callback));
    assert!(sum.render_table().contains("callback 2026-11-25 10:00"));
}

#[test]
fn do_not_call_candidate_is_skipped_never_dialled() {
    let t0 = t("2026-11-24T10:00:00Z");
    let dnc =
        DoNotCallList::parse("+86 139-0000-0001\n", std::path::Path::new("dnc.txt")).expect("dnc");
    let cands = candidates(&[
        ("alice", "sip:alice@127.0.0.1:5090", "UTC"),
        ("frank", "sip:+8613900000001@trunk.example", "Asia/Shanghai"),
    ]);
    let mut s = scheduler(config("max_concurrent_calls = 2\n"), cands, dnc, &[], t0);
    let placed = run(&mut s, t0, t0 + TimeDelta::hours(1), |_| {
        (secs(60), completed(70.0))
    });
    assert_eq!(
        placed
            .iter()
            .map(|p| p.candidate_id.as_str())
            .collect::<Vec<_>>(),
        vec!["alice"]
    );
    let sum = s.summary();
    assert_eq!((sum.skipped_dnc, sum.candidates_dialled), (1, 1));
    assert_eq!(sum.rows[1].status, CandidateStatus::SkippedDnc);
    assert_eq!(sum.rows[1].attempts, 0);
}

#[test]
fn closed_window_waits_until_it_opens_in_the_candidates_time_zone() {
    // Tue 02:00 UTC: 10:00 in Shanghai (open), Mon 21:00 in New York (closed).
    let t0 = t("2026-11-24T02:00:00Z");
    let cfg = config(
        "max_concurrent_calls = 2\n[calling_window]\ndays = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\nstart = \"09:00\"\nend = \"19:00\"\n",
    );
    let cands = candidates(&[
        ("ny", "sip:ny@127.0.0.1:5090", "America/New_York"),
        ("sh", "sip:sh@127.0.0.1:5090", "Asia/Shanghai"),
    ]);
    let mut s = scheduler(cfg, cands, DoNotCallList::new(), &[], t0);

    let first = s.poll_dial(t0).expect("Shanghai is open");
    assert_eq!(first.candidate.id, "sh");
    assert_eq!(s.poll_dial(t0), None, "New York is asleep");
    let mid = s.summary();
    assert_eq!(mid.rows[0].status, CandidateStatus::OutsideWindow);
    assert_eq!(mid.outside_window, 1);
    // Tue 09:00 EST = 14:00 UTC.
    assert_eq!(s.poll_timeout(), Some(t("2026-11-24T14:00:00Z")));
    s.handle_result("sh", completed(75.0), t0 + TimeDelta::minutes(15))
        .expect("in flight");
    assert_eq!(s.poll_dial(t("2026-11-24T13:59:59Z")), None);
    let second = s
        .poll_dial(t("2026-11-24T14:00:00Z"))
        .expect("New York opens");
    assert_eq!(second.candidate.id, "ny");
}

#[test]
fn retry_that_lands_after_hours_waits_for_the_next_window() {
    // Fri 18:58 in Shanghai; busy; the 5-minute backoff ends after 19:00.
    let t0 = t("2026-11-27T10:58:00Z");
    let cfg = config(
        "max_concurrent_calls = 1\n[retry]\nmax_attempts = 2\nbackoff_secs = 300\n[calling_window]\ndays = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\nstart = \"09:00\"\nend = \"19:00\"\n",
    );
    let cands = candidates(&[("sh", "sip:sh@127.0.0.1:5090", "Asia/Shanghai")]);
    let mut s = scheduler(cfg, cands, DoNotCallList::new(), &[], t0);
    let placed = run(&mut s, t0, t0 + TimeDelta::days(4), |d| {
        match d.attempt_no {
            1 => (secs(10), AttemptOutcome::Busy),
            _ => (secs(600), completed(80.0)),
        }
    });
    // Mon 09:00 Shanghai = Mon 01:00 UTC.
    assert_eq!(placed[1].at, t("2026-11-30T01:00:00Z"));
}

fn record(
    id: &str,
    n: u32,
    start: &str,
    end: Option<&str>,
    outcome: Option<AttemptOutcome>,
) -> AttemptRecord {
    AttemptRecord {
        candidate_id: id.into(),
        attempt_no: n,
        started_at: t(start),
        ended_at: end.map(t),
        outcome,
        report_path: None,
    }
}

#[test]
fn rerun_never_redials_completed_opted_out_or_rescheduled() {
    let t0 = t("2026-11-24T12:00:00Z");
    let cands = candidates(&[
        ("alice", "sip:alice@127.0.0.1:5090", "UTC"),
        ("bob", "sip:bob@127.0.0.1:5090", "UTC"),
        ("dana", "sip:dana@127.0.0.1:5090", "UTC"),
        ("erin", "sip:erin@127.0.0.1:5090", "UTC"),
    ]);
    let at = NaiveDate::from_ymd_opt(2026, 11, 25)
        .and_then(|d| d.and_hms_opt(10, 0, 0))
        .expect("date");
    let prior = [
        record(
            "alice",
            1,
            "2026-11-24T10:00:00Z",
            Some("2026-11-24T10:12:00Z"),
            Some(completed(91.0)),
        ),
        record(
            "bob",
            1,
            "2026-11-24T10:00:01Z",
            Some("2026-11-24T10:00:05Z"),
            Some(AttemptOutcome::Busy),
        ),
        record(
            "dana",
            1,
            "2026-11-24T10:00:02Z",
            Some("2026-11-24T10:01:00Z"),
            Some(AttemptOutcome::OptedOut),
        ),
        record(
            "erin",
            1,
            "2026-11-24T10:00:03Z",
            Some("2026-11-24T10:02:00Z"),
            Some(AttemptOutcome::CallbackRequested { at }),
        ),
        // Someone no longer in the CSV: history only.
        record(
            "zed",
            1,
            "2026-11-24T10:00:04Z",
            Some("2026-11-24T10:02:00Z"),
            Some(AttemptOutcome::NoAnswer),
        ),
    ];
    let mut s = scheduler(config(RETRY), cands, DoNotCallList::new(), &prior, t0);
    let placed = run(&mut s, t0, t0 + TimeDelta::hours(1), |_| {
        (secs(60), completed(77.0))
    });

    let dialled: Vec<(&str, u32)> = placed
        .iter()
        .map(|p| (p.candidate_id.as_str(), p.attempt_no))
        .collect();
    assert_eq!(
        dialled,
        vec![("bob", 2)],
        "only bob's retry is left, numbered after the first run's"
    );
    let sum = s.summary();
    assert_eq!(
        (sum.completed, sum.opted_out, sum.callbacks, sum.dialled),
        (2, 1, 1, 5)
    );
    assert_eq!(
        sum.rows[0].score,
        Some(91.0),
        "alice keeps her first-run score"
    );
}

#[test]
fn interrupted_attempt_counts_as_failed_and_is_retried_only_if_retries_remain() {
    let t0 = t("2026-11-24T12:00:00Z");
    // The process died at 11:59:30 with c1's call in progress.
    let prior = [record("c1", 1, "2026-11-24T11:59:30Z", None, None)];

    // Retries remain: retried after the backoff, counted from the start.
    let mut s = scheduler(config(RETRY), local(1), DoNotCallList::new(), &prior, t0);
    assert_eq!(s.poll_dial(t0), None, "backoff from the interrupted start");
    assert_eq!(s.poll_timeout(), Some(t("2026-11-24T12:00:30Z")));
    let dial = s.poll_dial(t("2026-11-24T12:00:30Z")).expect("retry");
    assert_eq!(dial.attempt_no, 2);

    // No retries: never called again.
    let mut s = scheduler(
        config("max_concurrent_calls = 1\n"),
        local(1),
        DoNotCallList::new(),
        &prior,
        t0,
    );
    assert!(s.is_finished());
    assert_eq!(s.poll_dial(t0 + TimeDelta::hours(5)), None);
    let row = &s.summary().rows[0];
    assert_eq!(row.status, CandidateStatus::Failed);
    assert_eq!(row.failure_reason.as_deref(), Some("interrupted"));
}

#[test]
fn result_for_a_candidate_not_in_flight_is_an_error() {
    let t0 = t("2026-11-24T12:00:00Z");
    let mut s = scheduler(
        config("max_concurrent_calls = 1\n"),
        local(1),
        DoNotCallList::new(),
        &[],
        t0,
    );
    let e = s
        .handle_result("c1", AttemptOutcome::Busy, t0)
        .expect_err("nothing in flight");
    assert!(matches!(e, CampaignError::NotInFlight { .. }));
    assert!(s.handle_result("nobody", AttemptOutcome::Busy, t0).is_err());
    assert_eq!(s.in_flight(), 0);
}

#[test]
fn script_is_chosen_by_language_and_a_missing_one_is_refused() {
    let t0 = t("2026-11-24T12:00:00Z");
    let cfg = voxhire_campaign::CampaignConfig::parse(
        "name = \"x\"\ncandidates = \"c.csv\"\nmax_concurrent_calls = 2\n[scripts]\nen = \"en.toml\"\nzh = \"zh.toml\"\n",
        std::path::Path::new("conf/campaign.toml"),
    )
    .expect("valid");
    let csv = "id,name,uri,language,timezone\na,A,sip:a@h,en,UTC\nb,B,sip:b@h,zh,Asia/Shanghai\n";
    let cands = voxhire_campaign::parse_candidates(
        csv,
        std::path::Path::new("c.csv"),
        voxhire_campaign::Language::En,
        None,
    )
    .expect("valid");
    let mut s = scheduler(cfg, cands.clone(), DoNotCallList::new(), &[], t0);
    let scripts: Vec<_> = std::iter::from_fn(|| s.poll_dial(t0))
        .map(|d| d.script)
        .collect();
    assert_eq!(
        scripts,
        vec![
            std::path::PathBuf::from("conf/en.toml"),
            "conf/zh.toml".into()
        ]
    );

    let only_en = voxhire_campaign::CampaignConfig::parse(
        "name = \"x\"\ncandidates = \"c.csv\"\nmax_concurrent_calls = 2\n[scripts]\nen = \"en.toml\"\n",
        std::path::Path::new("conf/campaign.toml"),
    )
    .expect("valid");
    let e = voxhire_campaign::Scheduler::new(only_en, cands, DoNotCallList::new(), &[], t0)
        .expect_err("zh has no script")
        .to_string();
    assert!(
        e.starts_with("conf/c.csv:3:") && e.contains("speaks zh"),
        "{e}"
    );
}

#[test]
fn summary_table_is_aligned() {
    let t0 = t("2026-11-24T10:00:00Z");
    let cands = candidates(&[
        ("alice", "sip:alice@127.0.0.1:5090", "UTC"),
        ("a-much-longer-id", "sip:x@127.0.0.1:5090", "UTC"),
    ]);
    let dnc = DoNotCallList::parse("sip:x@127.0.0.1\n", std::path::Path::new("d")).expect("dnc");
    let mut s = scheduler(config("max_concurrent_calls = 1\n"), cands, dnc, &[], t0);
    run(&mut s, t0, t0 + TimeDelta::hours(1), |_| {
        (secs(60), completed(66.6))
    });
    let table = s.summary().render_table();
    let lines: Vec<&str> = table.lines().skip_while(|l| !l.starts_with("id")).collect();
    assert_eq!(lines.len(), 4, "{table}");
    let col = |l: &str, word: &str| {
        l.find(word)
            .unwrap_or_else(|| panic!("{word} missing in {l:?}"))
    };
    let status_col = col(lines[0], "status");
    assert_eq!(col(lines[2], "completed"), status_col, "{table}");
    assert_eq!(col(lines[3], "skipped_dnc"), status_col, "{table}");
    assert!(
        lines[2].contains("66.6") && lines[2].contains("runs/test/alice/1/report.json"),
        "{table}"
    );
    assert!(
        table.contains("skipped (do-not-call)              1"),
        "{table}"
    );
    assert!(!table.contains("Person"), "names stay out of the summary");
}

#[test]
fn a_callback_is_redialled_at_the_time_asked_in_the_candidates_zone() {
    // 10:00 UTC is 11:00 in Berlin; the candidate asks for 16:30 their time.
    let t0 = t("2026-11-24T10:00:00Z");
    let cands = candidates(&[("erin", "sip:erin@127.0.0.1:5090", "Europe/Berlin")]);
    let mut s = scheduler(
        config(&format!(
            "{RETRY}[calling_window]\ndays = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\nstart = \"09:00\"\nend = \"18:00\"\n"
        )),
        cands,
        DoNotCallList::new(),
        &[],
        t0,
    );
    let asked = NaiveDate::from_ymd_opt(2026, 11, 24)
        .and_then(|d| d.and_hms_opt(16, 30, 0))
        .expect("date");
    // Then, on the callback, she asks again for the next day at 20:00 — after
    // hours, so the call waits for the window to open the day after.
    let late = NaiveDate::from_ymd_opt(2026, 11, 25)
        .and_then(|d| d.and_hms_opt(20, 0, 0))
        .expect("date");
    let mut n = 0;
    let placed = run(&mut s, t0, t0 + TimeDelta::days(3), |_| {
        n += 1;
        let o = match n {
            1 => AttemptOutcome::CallbackRequested { at: asked },
            2 => AttemptOutcome::CallbackRequested { at: late },
            _ => completed(80.0),
        };
        (secs(60), o)
    });
    let at: Vec<String> = placed.iter().map(|p| p.at.to_rfc3339()).collect();
    assert_eq!(
        at,
        [
            "2026-11-24T10:00:00+00:00",
            "2026-11-24T15:30:00+00:00",
            "2026-11-26T08:00:00+00:00"
        ]
    );
    assert_eq!(
        placed.iter().map(|p| p.attempt_no).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    let sum = s.summary();
    assert_eq!(sum.completed, 1);
    assert!(s.is_finished());
}

#[test]
fn callbacks_wait_as_callbacks_and_a_third_request_is_final() {
    let t0 = t("2026-11-24T10:00:00Z");
    let mut s = scheduler(config(RETRY), local(1), DoNotCallList::new(), &[], t0);
    let later = |h| {
        NaiveDate::from_ymd_opt(2026, 11, 24)
            .and_then(|d| d.and_hms_opt(h, 0, 0))
            .expect("date")
    };
    let d = s.poll_dial(t0).expect("first call");
    s.handle_result(
        &d.candidate.id,
        AttemptOutcome::CallbackRequested { at: later(12) },
        t0 + secs(60),
    )
    .unwrap();
    let now = t0 + secs(61);
    assert!(!s.is_finished());
    assert!(
        s.only_callbacks_left_later(now),
        "the callback is not due yet"
    );
    assert_eq!(s.pending_callbacks(), [("c1".to_owned(), later(12))]);
    assert_eq!(
        s.summary().callbacks,
        1,
        "counted as a callback, not pending work"
    );
    assert_eq!(s.poll_timeout(), Some(t("2026-11-24T12:00:00Z")));
    let noon = t("2026-11-24T12:00:00Z");
    assert!(!s.only_callbacks_left_later(noon), "due at noon");
    for (i, h) in [(2, 14), (3, 16)] {
        let now = s.poll_timeout().expect("a callback is due");
        let d = s.poll_dial(now).expect("callback dialled");
        assert_eq!(d.attempt_no, i);
        s.handle_result(
            &d.candidate.id,
            AttemptOutcome::CallbackRequested { at: later(h) },
            now + secs(60),
        )
        .unwrap();
    }
    assert!(s.is_finished(), "a third request is not honoured: final");
    assert_eq!(s.summary().callbacks, 1);
}

#[test]
fn each_attempt_writes_to_its_own_directory() {
    let t0 = t("2026-11-24T10:00:00Z");
    let mut s = scheduler(config(RETRY), local(1), DoNotCallList::new(), &[], t0);
    let first = s.poll_dial(t0).unwrap();
    s.handle_result("c1", AttemptOutcome::Busy, t0 + secs(5))
        .unwrap();
    let second = s.poll_dial(t0 + secs(65)).unwrap();
    assert_ne!(first.call_dir, second.call_dir);
    assert!(first.call_dir.ends_with("c1/1") && second.call_dir.ends_with("c1/2"));
    s.handle_result("c1", completed(70.0), t0 + secs(600))
        .unwrap();
    assert_eq!(
        s.summary().rows[0].report_path.as_deref(),
        Some(second.call_dir.join("report.json").as_path())
    );
}

/// Another node sharing the store holds Bob: the dial is given back (no call
/// in flight, no pacing gap owed), Bob waits out the other node's claim, and
/// when the store then shows that node's busy attempt, the next dial is
/// attempt 2 after the backoff. A candidate settled elsewhere is done.
#[test]
fn a_candidate_another_node_holds_is_waited_for_then_taken_from_the_store() {
    use voxhire_campaign::Elsewhere;
    let t0 = t("2026-11-24T10:00:00Z");
    let cands = candidates(&[
        ("bob", "sip:bob@127.0.0.1:5090", "Europe/London"),
        ("dana", "sip:dana@127.0.0.1:5090", "Europe/London"),
    ]);
    let mut s = scheduler(config(RETRY), cands, DoNotCallList::new(), &[], t0);
    let d = s.poll_dial(t0).expect("bob is due");
    assert_eq!(
        (d.candidate.id.as_str(), d.attempt_no, d.known_attempts),
        ("bob", 1, 0)
    );
    let held = Elsewhere {
        attempts: vec![],
        attempts_made: 1,
        busy_until: Some(t0 + secs(15)),
        closed: false,
    };
    s.handle_elsewhere("bob", &held, t0).unwrap();
    assert_eq!(s.in_flight(), 0, "the refused dial is not in flight");
    // Dana settled on the other node: not dialled here.
    let d = s
        .poll_dial(t0)
        .expect("the refused dial owes no pacing gap");
    assert_eq!(d.candidate.id, "dana");
    let settled = Elsewhere {
        attempts: vec![AttemptRecord {
            candidate_id: "dana".into(),
            attempt_no: 1,
            started_at: t0,
            ended_at: Some(t0 + secs(30)),
            outcome: Some(AttemptOutcome::OptedOut),
            report_path: None,
        }],
        attempts_made: 1,
        busy_until: None,
        closed: true,
    };
    s.handle_elsewhere("dana", &settled, t0).unwrap();
    assert_eq!(s.poll_dial(t0 + secs(14)), None, "bob is held until 15 s");
    assert_eq!(s.poll_timeout(), Some(t0 + secs(15)));
    // At 15 s the store shows the other node's attempt 1: busy, ended at 10 s.
    let d = s.poll_dial(t0 + secs(15)).expect("bob is looked at again");
    assert_eq!(d.attempt_no, 2);
    let busy = Elsewhere {
        attempts: vec![AttemptRecord {
            candidate_id: "bob".into(),
            attempt_no: 1,
            started_at: t0,
            ended_at: Some(t0 + secs(10)),
            outcome: Some(AttemptOutcome::Busy),
            report_path: None,
        }],
        attempts_made: 2,
        busy_until: Some(t0 + secs(30)),
        closed: false,
    };
    s.handle_elsewhere("bob", &busy, t0 + secs(15)).unwrap();
    // Attempt 2 is the other node's too (on the line until 30 s), and the
    // busy attempt 1 owes the 60 s backoff: attempt 3 at 70 s.
    assert_eq!(s.poll_dial(t0 + secs(30)), None);
    let d = s
        .poll_dial(t0 + secs(70))
        .expect("after the claim and the backoff");
    assert_eq!(
        (d.attempt_no, d.known_attempts),
        (3, 1),
        "the store's claim checks the scheduler knows of attempt 1's end"
    );
    s.handle_result("bob", completed(80.0), t0 + secs(90))
        .unwrap();
    assert!(s.is_finished());
    let sum = s.summary();
    assert_eq!(sum.rows[1].status, CandidateStatus::OptedOut);
}
