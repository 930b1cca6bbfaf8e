//! The campaign file and the shipped example: valid files load with paths
//! resolved, invalid ones fail naming the file, the line and the key.

mod common;

use std::path::{Path, PathBuf};

use chrono::TimeDelta;
use voxhire_campaign::{
    load_candidates, CampaignConfig, CandidateStatus, DoNotCallList, Language, Scheduler, Scripts,
};

fn parse(text: &str) -> Result<CampaignConfig, String> {
    CampaignConfig::parse(text, Path::new("conf/campaign.toml")).map_err(|e| e.to_string())
}

const BASE: &str =
    "name = \"java-2026\"\nscript = \"s.toml\"\ncandidates = \"c.csv\"\nmax_concurrent_calls = 2\n";

#[test]
fn paths_resolve_against_the_campaign_file_and_defaults_apply() {
    let c = parse(&format!(
        "{BASE}trunk = \"trunk.toml\"\ndo_not_call = \"/etc/voxhire/dnc.txt\"\n"
    ))
    .expect("valid");
    assert_eq!(c.scripts, Scripts::Single("conf/s.toml".into()));
    assert_eq!(c.candidates, PathBuf::from("conf/c.csv"));
    assert_eq!(c.trunk, Some("conf/trunk.toml".into()));
    assert_eq!(c.do_not_call, Some("/etc/voxhire/dnc.txt".into()));
    assert_eq!(c.out_dir, PathBuf::from("runs/java-2026"));
    assert_eq!(
        c.store_path(),
        PathBuf::from("runs/java-2026/campaign.sqlite")
    );
    assert_eq!(c.min_gap, TimeDelta::zero());
    assert_eq!(c.ring_timeout, TimeDelta::seconds(30));
    assert_eq!(c.retry.max_attempts, 1, "no [retry]: one call each");
    assert_eq!(c.default_language, Language::En);

    let c = parse(&format!(
        "{BASE}out_dir = \"../out\"\n[retry]\nmax_attempts = 4\nbackoff_secs = 120\n"
    ))
    .expect("valid");
    assert_eq!(c.out_dir, PathBuf::from("conf/../out"));
    assert!(
        c.retry.on_busy && c.retry.on_no_answer && c.retry.on_failed,
        "retry.on defaults to all three"
    );
    assert_eq!(c.retry.backoff_after(1), TimeDelta::seconds(120));
    assert_eq!(c.retry.backoff_after(3), TimeDelta::seconds(120));
}

#[test]
fn invalid_values_name_file_line_and_key() {
    let cases: &[(&str, &str, &str)] = &[
        ("name = \"../etc\"\nscript = \"s\"\ncandidates = \"c\"\nmax_concurrent_calls = 1\n", "conf/campaign.toml:1: `name`", "run directory"),
        (&BASE.replace("max_concurrent_calls = 2", "max_concurrent_calls = 0"), ":4: `max_concurrent_calls`", "0 is not between 1"),
        (&format!("{BASE}ring_timeout_secs = 1\n"), ":5: `ring_timeout_secs`", "between 5 and 300"),
        (&format!("{BASE}default_language = \"fr\"\n"), ":5: `default_language`", "unknown language"),
        (&format!("{BASE}default_timezone = \"Moon/Base\"\n"), ":5: `default_timezone`", "unknown time zone"),
        (&format!("{BASE}\n[pacing]\nmin_gap_ms = 10\ncalls_per_minute = 5\n"), ":6: `pacing`", "exactly one"),
        (&format!("{BASE}[pacing]\ncalls_per_minute = 0\n"), ":6: `pacing.calls_per_minute`", "not between"),
        (&format!("{BASE}[retry]\nmax_attempts = 3\nbackoff_secs = [60]\non = [\"busy\", \"engaged\"]\n"), ":8: `retry.on`", "unknown outcome \"engaged\""),
        (&format!("{BASE}[answering_machine]\non_machine = \"beep\"\n"), ":6: `answering_machine.on_machine`", "not hang_up or leave_message"),
        (&format!("{BASE}[retry]\nmax_attempts = 0\nbackoff_secs = 1\n"), ":6: `retry.max_attempts`", "between 1 and 20"),
        (&format!("{BASE}[retry]\nmax_attempts = 2\nbackoff_secs = [-5]\n"), ":7: `retry.backoff_secs`", "-5"),
        (&format!("{BASE}[calling_window]\ndays = [\"mon\", \"funday\"]\nstart = \"09:00\"\nend = \"19:00\"\n"), ":6: `calling_window.days`", "funday"),
        (&format!("{BASE}[calling_window]\ndays = [\"mon\"]\nstart = \"9am\"\nend = \"19:00\"\n"), ":7: `calling_window.start`", "HH:MM"),
        (&format!("{BASE}[calling_window]\ndays = [\"mon\"]\nstart = \"19:00\"\nend = \"09:00\"\n"), ":8: `calling_window.end`", "after start"),
        (&format!("{BASE}[scripts]\nen = \"a.toml\"\n"), ":2: `script`", "not both"),
        ("name = \"x\"\ncandidates = \"c\"\nmax_concurrent_calls = 2\n[scripts]\nen = \"e\"\nfr = \"f.toml\"\n", ":6: `scripts.fr`", "unknown language"),
        ("name = \"x\"\ncandidates = \"c\"\nmax_concurrent_calls = 2\n", ":1: `script`", "missing"),
        (&BASE.replace("candidates = \"c.csv\"\n", "candidates = \"\"\n"), ":3: `candidates`", "is empty"),
    ];
    for (text, at, what) in cases {
        let e = parse(text).expect_err(text);
        assert!(
            e.starts_with("conf/campaign.toml:") && e.contains(at) && e.contains(what),
            "{text}\n gave {e}"
        );
    }
}

#[test]
fn toml_errors_name_the_line() {
    let cases: &[(&str, &str)] = &[
        ("name = \"x\"\nscript = \"s\"\ncandidates = \"c\"\nmax_concurrent_calls = \"two\"\n", "conf/campaign.toml:4:"),
        ("name = \"x\"\nscript = \"s\"\ncandidates = \"c\"\nmax_concurrent_calls = 2\nmax_concurrent_cals = 3\n", "conf/campaign.toml:5:"),
        ("name = \"x\"\nscript = \"s\"\ncandidates = [\n", "conf/campaign.toml:4: invalid array"),
        ("name = \"x\"\nscript = \"s\"\nmax_concurrent_calls = 2\n", "missing field `candidates`"),
    ];
    for (text, want) in cases {
        let e = parse(text).expect_err(text);
        assert!(e.contains(want), "{text}\n gave {e}");
    }
    let e = CampaignConfig::load(Path::new("/nonexistent/campaign.toml"))
        .expect_err("no such file")
        .to_string();
    assert!(e.starts_with("/nonexistent/campaign.toml:"), "{e}");
}

fn repo_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

#[test]
fn shipped_example_campaign_loads_and_skips_the_do_not_call_entry() {
    let config =
        CampaignConfig::load(&repo_config().join("campaign.toml")).expect("config/campaign.toml");
    assert_eq!(config.name, "java-backend-2026-11");
    for lang in [Language::En, Language::Zh] {
        let script = config.script_for(lang).expect("a script per language");
        assert!(script.exists(), "{} is missing", script.display());
    }
    let candidates = load_candidates(
        &config.candidates,
        config.default_language,
        config.default_timezone,
    )
    .expect("config/candidates.csv");
    let ids: Vec<&str> = candidates.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["alice", "bob", "chen", "dana", "erin", "frank"]);
    assert_eq!(candidates[2].language, Language::Zh);
    let dnc =
        DoNotCallList::load(config.do_not_call.as_deref().expect("do_not_call set")).expect("dnc");

    let now = common::t("2026-11-24T10:00:00Z");
    let max = config.max_concurrent_calls;
    let mut s = Scheduler::new(config, candidates, dnc, &[], now).expect("scheduler");
    let first: Vec<String> = std::iter::from_fn(|| s.poll_dial(now))
        .map(|d| d.candidate.id)
        .collect();
    assert_eq!(
        first.len(),
        1,
        "pacing lets one call start per gap (max {max} in flight)"
    );
    let frank = s
        .summary()
        .rows
        .into_iter()
        .find(|r| r.id == "frank")
        .expect("frank");
    assert_eq!(frank.status, CandidateStatus::SkippedDnc);
}
