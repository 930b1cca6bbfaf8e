//! End-to-end interviews: the real `voxhire call --script` (real SIP on
//! loopback, real RTP, Silero VAD, Whisper, the NLU models, Piper/Kokoro TTS)
//! against `voxhire-candidate`, a simulated candidate that answers the call and
//! plays recorded answers (other voices than the product's, through G.711)
//! turn by turn. Each test checks the report's slots, score and evidence, the
//! transcript, the events and the stereo recording.
//!
//! The scenarios and answers are in `tests/interview/scenarios/`.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::candidate::Candidate;
use common::ports::{free_port_range, free_udp_port};
use common::voxhire::{run_call, CallRun};
use common::{repo_root, Scratch};
use serde_json::Value;

/// One interview call; returns the run and the run directory.
pub fn interview(
    candidate: &Candidate,
    scratch: &Scratch,
    user: &str,
    script: &str,
    lang: &str,
    name: &str,
) -> (CallRun, PathBuf) {
    let out = scratch.join(user);
    let (lo, hi) = free_port_range(8);
    let args: Vec<String> = vec![
        format!("sip:{user}@{}", candidate.sip),
        "--sip".into(),
        "127.0.0.1:0".into(),
        "--rtp-ports".into(),
        format!("{lo}-{hi}"),
        "--script".into(),
        repo_root()
            .join("config")
            .join(script)
            .display()
            .to_string(),
        "--lang".into(),
        lang.into(),
        "--candidate-name".into(),
        name.into(),
        "--tz".into(),
        "Asia/Shanghai".into(),
        "--out".into(),
        out.display().to_string(),
    ];
    let run = run_call(&args, scratch.path(), user, Duration::from_secs(600));
    assert_eq!(
        run.code(),
        Some(0),
        "voxhire call failed\n{}",
        run.diagnostics()
    );
    // stdout is one JSON line naming the report.
    let line: Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is not one JSON line: {e}\n{}", run.diagnostics()));
    assert_eq!(
        line["report"].as_str().map(PathBuf::from),
        Some(out.join("report.json")),
        "{line}"
    );
    assert_eq!(line["outcome"], "answered", "{line}");
    (run, out)
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

pub fn events(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("events.jsonl"))
        .expect("events.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("an events.jsonl line is JSON"))
        .collect()
}

/// Every slot of every question of a report, as (kind, value) JSON.
fn slots(report: &Value) -> Vec<(String, Value)> {
    report["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .flat_map(|q| q["slots"].as_array().cloned().unwrap_or_default())
        .map(|s| (s["kind"].as_str().unwrap_or("").to_string(), s.clone()))
        .collect()
}

fn slot(report: &Value, kind: &str) -> Value {
    slots(report)
        .into_iter()
        .rev()
        .find(|(k, _)| k == kind)
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("no {kind} slot in the report:\n{report:#}"))
}

/// Checks what every finished interview must leave: a transcript with both
/// speakers, events with per-turn latency, a stereo recording with speech on
/// both channels, and evidence (quote + timestamps) behind every slot.
fn check_call_files(dir: &Path, report: &Value) {
    let transcript = read_json(&dir.join("transcript.json"));
    let turns = transcript["turns"].as_array().expect("turns");
    assert!(
        turns.iter().any(|t| t["speaker"] == "agent"),
        "{transcript:#}"
    );
    assert!(
        turns.iter().any(|t| t["speaker"] == "candidate"),
        "{transcript:#}"
    );
    let events = events(dir);
    let latencies: Vec<&Value> = events
        .iter()
        .filter(|e| e["source"] == "turn" && e["voice_to_voice_ms"].is_u64())
        .collect();
    assert!(!latencies.is_empty(), "no per-turn latency in events.jsonl");
    for l in &latencies {
        let v2v = l["voice_to_voice_ms"].as_u64().unwrap();
        assert!(v2v > 0 && v2v < 20_000, "implausible latency {l}");
    }
    let wav = common::audio::read_wav(&dir.join("recording.wav"));
    assert_eq!(
        wav.channels.len(),
        2,
        "recording must be stereo (agent left, candidate right)"
    );
    assert!(
        wav.duration_s() > 10.0,
        "recording of {} s",
        wav.duration_s()
    );
    assert!(
        common::audio::rms_dbfs(&wav.channels[0]) > -45.0,
        "agent channel is silent"
    );
    assert!(
        common::audio::rms_dbfs(&wav.channels[1]) > -45.0,
        "candidate channel is silent"
    );
    for (kind, s) in slots(report) {
        let e = &s["evidence"];
        assert!(
            !e["quote"].as_str().unwrap_or("").trim().is_empty()
                && e["end_ms"].as_u64() >= e["start_ms"].as_u64(),
            "{kind} has no evidence: {s}"
        );
    }
    assert!(!dir.join("events.jsonl.partial").exists());
}

fn local_now() -> chrono::NaiveDateTime {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .naive_local()
}

fn first_of_next_month() -> chrono::NaiveDate {
    use chrono::Datelike;
    let today = local_now().date();
    let (y, m) = if today.month() == 12 {
        (today.year() + 1, 1)
    } else {
        (today.year(), today.month() + 1)
    };
    chrono::NaiveDate::from_ymd_opt(y, m, 1).unwrap()
}

#[test]
fn english_interview_completes_with_slots_score_and_evidence() {
    let scratch = Scratch::new("interview-en");
    let candidate = Candidate::start(scratch.path());
    let (run, dir) = interview(
        &candidate,
        &scratch,
        "alice",
        "interview-java-backend.en.toml",
        "en",
        "Alice",
    );
    let report = read_json(&dir.join("report.json"));
    let why = format!("{report:#}\n{}", run.diagnostics());
    assert_eq!(report["status"], "completed", "{why}");
    assert_eq!(
        slot(&report, "years_experience")["value"]["years"].as_f64(),
        Some(7.0),
        "{why}"
    );
    let skills: Vec<String> = slots(&report)
        .into_iter()
        .filter(|(k, _)| k == "skills")
        .flat_map(|(_, s)| s["value"]["skills"].as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    for want in ["spring_cloud", "kafka", "redis", "mysql", "kubernetes"] {
        assert!(
            skills.iter().any(|s| s == want),
            "{want} missing from {skills:?}\n{why}"
        );
    }
    assert_eq!(
        slot(&report, "salary_monthly")["value"]["amount"].as_u64(),
        Some(12_000),
        "{why}"
    );
    let start = slot(&report, "start_date");
    assert_eq!(
        start["value"]["date"].as_str(),
        Some(first_of_next_month().to_string().as_str()),
        "{why}"
    );
    let score = report["score"].as_f64().unwrap();
    assert!(score >= 70.0, "a strong candidate scored {score}\n{why}");
    assert_eq!(report["recommendation"], "advance", "{why}");
    check_call_files(&dir, &report);
    let line = candidate.next_call(Duration::from_secs(30));
    assert_eq!(line["user"], "alice");
    assert!(line["turns_played"].as_u64().unwrap() >= 8, "{line}");
}

#[test]
fn mandarin_interview_completes() {
    let scratch = Scratch::new("interview-zh");
    let candidate = Candidate::start(scratch.path());
    let (run, dir) = interview(
        &candidate,
        &scratch,
        "chen",
        "interview-frontend.zh.toml",
        "zh",
        "陈静",
    );
    let report = read_json(&dir.join("report.json"));
    let why = format!("{report:#}\n{}", run.diagnostics());
    assert_eq!(report["status"], "completed", "{why}");
    assert_eq!(
        slot(&report, "years_experience")["value"]["years"].as_f64(),
        Some(5.0),
        "{why}"
    );
    // All three skills she names: the stack question's vocabulary prompt is a
    // sentence in the candidate's register (config/interview-frontend.zh.toml),
    // and the code-switch layer catches names written in characters.
    let skills = slot(&report, "skills")["value"]["skills"].to_string();
    for s in ["react", "typescript", "wechat_mini_program"] {
        assert!(skills.contains(s), "{s} missing from {skills}\n{why}");
    }
    assert_eq!(
        slot(&report, "salary_monthly")["value"]["amount"].as_u64(),
        Some(25_000),
        "{why}"
    );
    let start = slot(&report, "start_date");
    assert_eq!(
        start["value"]["date"].as_str(),
        Some(first_of_next_month().to_string().as_str()),
        "{why}"
    );
    // Five years, three of the four skills asked for, the salary in range: a hold
    // or an advance (the project answer's similarity moves the score a few points
    // around the script's advance_at = 70), never a reject.
    let score = report["score"].as_f64().unwrap();
    assert!(score >= 55.0, "{why}");
    let expected = if score >= 70.0 { "advance" } else { "hold" };
    assert_eq!(report["recommendation"], expected, "{why}");
    check_call_files(&dir, &report);
}

#[test]
fn opt_out_ends_the_call_and_marks_do_not_call() {
    let scratch = Scratch::new("interview-opt-out");
    let candidate = Candidate::start(scratch.path());
    let (run, dir) = interview(
        &candidate,
        &scratch,
        "dana",
        "interview-java-backend.en.toml",
        "en",
        "Dana",
    );
    let report = read_json(&dir.join("report.json"));
    let why = format!("{report:#}\n{}", run.diagnostics());
    assert_eq!(report["status"], "opted_out", "{why}");
    assert_eq!(report["do_not_call"], true, "{why}");
    assert!(
        events(&dir)
            .iter()
            .any(|e| e["event"] == "mark_do_not_call"),
        "no mark_do_not_call event\n{why}"
    );
}

#[test]
fn not_a_good_time_books_a_callback_tomorrow_at_ten() {
    let scratch = Scratch::new("interview-reschedule");
    let candidate = Candidate::start(scratch.path());
    let (run, dir) = interview(
        &candidate,
        &scratch,
        "erin",
        "interview-java-backend.en.toml",
        "en",
        "Erin",
    );
    let report = read_json(&dir.join("report.json"));
    let why = format!("{report:#}\n{}", run.diagnostics());
    assert_eq!(report["status"], "rescheduled", "{why}");
    let tomorrow = local_now().date().succ_opt().unwrap();
    assert_eq!(
        report["callback_at"].as_str(),
        Some(format!("{tomorrow}T10:00:00").as_str()),
        "{why}"
    );
    assert!(run.stdout.contains("rescheduled"), "{why}");
}

/// A campaign of five candidates against one simulated-candidate process:
/// busy then answered (bob), no answer twice then a hang-up (gary), an
/// opt-out (dana, who lands on the do-not-call list), a callback request
/// (erin) and one already on the do-not-call list (frank, never dialled).
#[test]
fn campaign_retries_busy_and_no_answer_and_honours_do_not_call() {
    let scratch = Scratch::new("campaign");
    let candidate = Candidate::start(scratch.path());
    let sip = candidate.sip;
    std::fs::write(
        scratch.join("candidates.csv"),
        format!(
            "id,name,uri,language,timezone\n\
             bob,Bob Okafor,sip:bob@{sip},en,Europe/London\n\
             gary,Gary Stone,sip:gary@{sip},en,UTC\n\
             dana,Dana Kowalski,sip:dana@{sip},en,America/Los_Angeles\n\
             erin,Erin Walsh,sip:erin@{sip},en,Asia/Shanghai\n\
             frank,Frank Liu,sip:frank@{sip},en,Asia/Singapore\n"
        ),
    )
    .unwrap();
    std::fs::write(scratch.join("dnc.txt"), format!("sip:frank@{sip}\n")).unwrap();
    let out = scratch.join("runs");
    std::fs::write(
        scratch.join("campaign.toml"),
        format!(
            "name = \"e2e\"\n\
             script = \"{script}\"\n\
             candidates = \"candidates.csv\"\n\
             do_not_call = \"dnc.txt\"\n\
             opt_outs = \"opted-out.txt\"\n\
             out_dir = \"{out}\"\n\
             max_concurrent_calls = 2\n\
             ring_timeout_secs = 5\n\
             [pacing]\nmin_gap_ms = 500\n\
             [retry]\nmax_attempts = 3\nbackoff_secs = 2\non = [\"busy\", \"no_answer\"]\n\
             [answering_machine]\non_machine = \"hang_up\"\n\
             {ANY_TIME}",
            script = repo_root()
                .join("config/interview-java-backend.en.toml")
                .display(),
            out = out.display(),
        ),
    )
    .unwrap();
    let (lo, hi) = free_port_range(16);
    let run = common::voxhire::run_command(
        &campaign_run(&scratch.join("campaign.toml"), (lo, hi), &[]),
        scratch.path(),
        "campaign",
        Duration::from_secs(600),
    );
    assert_eq!(run.code(), Some(0), "{}", run.diagnostics());
    let summary = read_json(&out.join("summary.json"));
    let why = format!("{summary:#}\n{}", run.diagnostics());
    let row = |id: &str| {
        summary["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no row for {id}\n{why}"))
    };
    assert_eq!(row("bob")["status"], "completed", "{why}");
    assert_eq!(row("bob")["attempts"], 2, "busy once, then answered\n{why}");
    assert_eq!(
        row("gary")["attempts"],
        3,
        "no answer twice, then answered\n{why}"
    );
    assert_eq!(row("gary")["status"], "hung_up", "{why}");
    assert_eq!(row("dana")["status"], "opted_out", "{why}");
    assert_eq!(row("erin")["status"], "callback_requested", "{why}");
    assert_eq!(row("frank")["status"], "skipped_dnc", "{why}");
    assert_eq!(row("frank")["attempts"], 0, "{why}");
    assert_eq!(summary["completed"], 1, "{why}");
    assert_eq!(summary["opted_out"], 1, "{why}");
    assert_eq!(summary["callbacks"], 1, "{why}");
    assert_eq!(summary["skipped_dnc"], 1, "{why}");
    assert!(run.stdout.contains("completed"), "no summary table\n{why}");
    // The opt-out is on the opt-out list now (the recruiter's list is only
    // read), so the next campaign skips dana.
    let dnc = std::fs::read_to_string(scratch.join("dnc.txt")).unwrap();
    assert_eq!(
        dnc,
        format!("sip:frank@{sip}\n"),
        "the given list is untouched"
    );
    let opt_outs = std::fs::read_to_string(scratch.join("opted-out.txt")).unwrap();
    assert!(opt_outs.contains(&format!("sip:dana@{sip}")), "{opt_outs}");
    // bob's report: the weaker candidate got the follow-up about a project.
    // Each attempt keeps its own files: bob's busy first call, then the interview.
    assert!(out.join("bob/1/events.jsonl").exists());
    assert!(!out.join("bob/1/report.json").exists());
    let report = read_json(&out.join("bob/2/report.json"));
    assert_eq!(
        row("bob")["report_path"]
            .as_str()
            .map(std::path::PathBuf::from),
        Some(out.join("bob/2/report.json")),
        "{why}"
    );
    let skills = report["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == "skills")
        .cloned()
        .unwrap();
    assert!(
        !skills["followups_asked"].as_array().unwrap().is_empty(),
        "no follow-up for missing skills\n{report:#}"
    );
    check_call_files(&out.join("bob/2"), &report);
    // Answering-machine detection listened first: the simulated candidates
    // answer without a word, which is a person waiting (not a machine).
    let events = std::fs::read_to_string(out.join("bob/2/events.jsonl")).unwrap();
    assert!(
        events.contains("\"source\":\"amd\"") && events.contains("\"verdict\":\"silence\""),
        "{events}"
    );
    // Unanswered attempts keep their own event logs.
    for attempt in 1..=3 {
        assert!(out.join(format!("gary/{attempt}/events.jsonl")).exists());
    }
    // erin asked for a callback tomorrow at ten: pending, not final.
    assert!(
        run.stdout.contains("callback pending: erin at"),
        "{}",
        run.diagnostics()
    );
    // A rerun has nobody left to call, and says so without dialling anyone.
    let again = common::voxhire::run_command(
        &[
            "campaign".into(),
            "run".into(),
            scratch.join("campaign.toml").display().to_string(),
        ],
        scratch.path(),
        "campaign-rerun",
        Duration::from_secs(60),
    );
    assert_eq!(again.code(), Some(0), "{}", again.diagnostics());
    assert!(
        again.stdout.contains("nobody left to call now")
            && again.stdout.contains("callback pending: erin"),
        "{}",
        again.diagnostics()
    );
}

/// Inbound: `voxhire serve --script` answers, greets and interviews; the
/// caller (`voxhire call`, saying nothing) hangs up after 15 s, and the call
/// still leaves a partial report (hung_up), a transcript with the greeting,
/// events and the recording.
#[test]
fn serve_interviews_an_inbound_caller_and_keeps_the_partial_report() {
    let scratch = Scratch::new("serve-interview");
    let port = free_udp_port();
    let (lo, hi) = free_port_range(8);
    let out = scratch.join("inbound");
    let serve = common::voxhire::Serve::start(
        &[
            "--sip".into(),
            format!("127.0.0.1:{port}"),
            "--rtp-ports".into(),
            format!("{lo}-{hi}"),
            "--script".into(),
            repo_root()
                .join("config/interview-java-backend.en.toml")
                .display()
                .to_string(),
            "--out".into(),
            out.display().to_string(),
        ],
        scratch.path(),
        "serve",
        Duration::from_secs(120),
    );
    let (clo, chi) = free_port_range(8);
    let run = run_call(
        &[
            format!("sip:jobs@{}", serve.sip),
            "--sip".into(),
            "127.0.0.1:0".into(),
            "--rtp-ports".into(),
            format!("{clo}-{chi}"),
            "--hangup-after".into(),
            "15".into(),
            "--record".into(),
            scratch.join("caller.wav").display().to_string(),
        ],
        scratch.path(),
        "caller",
        Duration::from_secs(60),
    );
    let line = run.json();
    assert_eq!(line["outcome"], "answered", "{}", run.diagnostics());
    // The caller heard the agent speak.
    let heard = common::audio::read_wav(&scratch.join("caller.wav"));
    assert!(
        common::audio::rms_dbfs(&heard.channels[0]) > -40.0,
        "the caller heard nothing"
    );
    // serve writes the call's files once the BYE is in.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let dir = loop {
        let found = std::fs::read_dir(&out)
            .ok()
            .and_then(|mut d| d.find_map(|e| e.ok().map(|e| e.path())))
            .filter(|d| d.join("events.jsonl").exists() && d.join("report.json").exists());
        if let Some(d) = found {
            break d;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "serve wrote no run directory in {}",
            out.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let report = read_json(&dir.join("report.json"));
    assert_eq!(report["status"], "hung_up", "{report:#}");
    let transcript = read_json(&dir.join("transcript.json"));
    let first = &transcript["turns"][0];
    assert_eq!(first["speaker"], "agent", "{transcript:#}");
    assert!(
        first["text"]
            .as_str()
            .unwrap_or("")
            .contains("Northwind Freight"),
        "the greeting names the company: {transcript:#}"
    );
    assert!(events(&dir).iter().any(|e| e["event"] == "remote_hangup"));
    let wav = common::audio::read_wav(&dir.join("recording.wav"));
    assert_eq!(wav.channels.len(), 2);
    drop(serve);
}

/// Barge-in: the candidate answers 1.2 s into the "do you have ten minutes?"
/// question; the agent stops talking at once and takes the answer.
#[test]
fn barge_in_stops_the_prompt_and_takes_the_answer() {
    let scratch = Scratch::new("interview-barge-in");
    let candidate = Candidate::start(scratch.path());
    let (run, dir) = interview(
        &candidate,
        &scratch,
        "hana",
        "interview-java-backend.en.toml",
        "en",
        "Hana",
    );
    let report = read_json(&dir.join("report.json"));
    let why = format!("{report:#}\n{}", run.diagnostics());
    assert_eq!(report["good_time"]["yes"], true, "{why}");
    let events = events(&dir);
    let at = |pred: &dyn Fn(&Value) -> bool| {
        events
            .iter()
            .find(|e| pred(e))
            .and_then(|e| e["t_ms"].as_u64())
    };
    let cut = at(&|e| e["event"] == "played" && e["interrupted"] == true && e["id"] == "good_time")
        .unwrap_or_else(|| panic!("the good_time prompt was not cut\n{why}"));
    let speech = events
        .iter()
        .filter(|e| e["event"] == "speech_started")
        .filter_map(|e| e["t_ms"].as_u64())
        .filter(|t| *t <= cut)
        .max()
        .unwrap_or_else(|| panic!("no speech onset before the cut\n{why}"));
    // The stop leaves within a couple of 20 ms frames of the onset decision.
    assert!(
        cut - speech <= 100,
        "playback stopped {} ms after the onset\n{why}",
        cut - speech
    );
    let transcript = read_json(&dir.join("transcript.json"));
    assert!(
        transcript["turns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["prompt_id"] == "good_time" && t["interrupted"] == true),
        "{transcript:#}"
    );
}

#[test]
fn a_project_told_in_two_breaths_is_kept_whole() {
    // Ivy pauses 1.1 s after her project's first sentence: long enough for the
    // agent to take it (600 ms after a whole sentence) and start the salary
    // question, which her second sentence then stops.
    let scratch = Scratch::new("interview-two-breaths");
    let candidate = Candidate::start(scratch.path());
    let (run, dir) = interview(
        &candidate,
        &scratch,
        "ivy",
        "interview-java-backend.en.toml",
        "en",
        "Alice",
    );
    let report = read_json(&dir.join("report.json"));
    let why = format!("{report:#}\n{}", run.diagnostics());
    assert_eq!(report["status"], "completed", "{why}");
    let events = events(&dir);
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "answer_resumed" && e["question"] == "project"),
        "the first breath was not taken as the answer, or the second not added\n{why}"
    );
    assert!(
        events.iter().any(|e| e["event"] == "played"
            && e["interrupted"] == true
            && e["id"] == "questions.salary.prompt"),
        "the salary question was not stopped\n{why}"
    );
    // Both breaths are the project answer, and its evidence runs to the second's end.
    let project = slot(&report, "project");
    let text = project["value"]["text"]
        .as_str()
        .unwrap_or("")
        .to_lowercase();
    assert!(
        text.contains("payment") && text.contains("half"),
        "{text:?}\n{why}"
    );
    assert!(
        project["evidence"]["end_ms"].as_u64()
            > project["evidence"]["start_ms"].as_u64().map(|s| s + 5_000),
        "{project:#}"
    );
    // The salary question, asked again, was answered.
    assert_eq!(
        slot(&report, "salary_monthly")["value"]["amount"].as_u64(),
        Some(12_000),
        "{why}"
    );
    assert_eq!(report["recommendation"], "advance", "{why}");
    check_call_files(&dir, &report);
}

/// The campaign's state cannot be written mid-campaign (here: the opt-out
/// list's directory is a file, so recording dana's opt-out fails while alice is
/// still in her interview): the run stops with an error naming the cause, alice's call
/// is ended with BYE rather than abandoned, her attempt keeps its files, and
/// the store keeps both attempts (a rerun resumes from it).
#[test]
fn a_store_error_mid_campaign_hangs_up_the_calls_in_progress() {
    let scratch = Scratch::new("campaign-store-error");
    let candidate = Candidate::start(scratch.path());
    let sip = candidate.sip;
    std::fs::write(
        scratch.join("candidates.csv"),
        format!(
            "id,name,uri,language,timezone\n\
             alice,Alice Chen,sip:alice@{sip},en,UTC\n\
             dana,Dana Kowalski,sip:dana@{sip},en,UTC\n"
        ),
    )
    .unwrap();
    std::fs::write(
        scratch.join("blocker"),
        "a file where a directory should be",
    )
    .unwrap();
    let out = scratch.join("runs");
    std::fs::write(
        scratch.join("campaign.toml"),
        format!(
            "name = \"e2e-store-error\"\n\
             script = \"{script}\"\n\
             candidates = \"candidates.csv\"\n\
             opt_outs = \"blocker/opted-out.txt\"\n\
             out_dir = \"{out}\"\n\
             max_concurrent_calls = 2\n\
             [pacing]\nmin_gap_ms = 200\n\
             {ANY_TIME}",
            script = repo_root()
                .join("config/interview-java-backend.en.toml")
                .display(),
            out = out.display(),
        ),
    )
    .unwrap();
    let (lo, hi) = free_port_range(8);
    let run = common::voxhire::run_command(
        &campaign_run(
            &scratch.join("campaign.toml"),
            (lo, hi),
            &["--max-calls", "2"],
        ),
        scratch.path(),
        "campaign-store-error",
        Duration::from_secs(300),
    );
    let why = run.diagnostics();
    assert_eq!(run.code(), Some(1), "{why}");
    let stderr = run.stderr();
    assert!(
        stderr.contains("recording the opt-out"),
        "the error names its cause\n{why}"
    );
    // alice was mid-interview: her call ended with our BYE, and her files are
    // finished (not left as .partial).
    let alice = events(&out.join("alice/1"));
    let said = |cat: &str, ev: &str| alice.iter().any(|e| e["source"] == cat && e["event"] == ev);
    assert!(
        said("call", "interrupted"),
        "alice's call was stopped\n{why}"
    );
    assert!(said("sip", "hangup"), "a BYE was sent\n{why}");
    assert!(said("sip", "ended"), "the BYE completed\n{why}");
    assert!(out.join("alice/1/recording.wav").exists(), "{why}");
    // Both attempts are in the store, ended: nothing is left "in flight".
    let store = voxhire_campaign::Store::open(&out.join("campaign.sqlite")).unwrap();
    let attempts = store.attempts("e2e-store-error").unwrap();
    assert_eq!(attempts.len(), 2, "{why}");
    assert!(
        attempts.iter().all(|a| a.ended_at.is_some()),
        "an attempt left open\n{why}"
    );
}

/// `voxhire campaign run` killed (-9) in the middle of an interview: the
/// rerun closes the attempt it left open as interrupted and keeps what was
/// recorded and logged, repaired into finished files.
#[test]
fn a_killed_campaign_run_is_closed_as_interrupted_and_its_files_kept_on_the_rerun() {
    let scratch = Scratch::new("campaign-killed");
    let candidate = Candidate::start(scratch.path());
    let sip = candidate.sip;
    std::fs::write(
        scratch.join("candidates.csv"),
        format!("id,name,uri,language,timezone\nalice,Alice Chen,sip:alice@{sip},en,UTC\n"),
    )
    .unwrap();
    let out = scratch.join("runs");
    std::fs::write(
        scratch.join("campaign.toml"),
        format!(
            "name = \"e2e-killed\"\n\
             script = \"{script}\"\n\
             candidates = \"candidates.csv\"\n\
             out_dir = \"{out}\"\n\
             opt_outs = \"{out}/opted-out.txt\"\n\
             max_concurrent_calls = 1\n\
             [pacing]\nmin_gap_ms = 200\n\
             [retry]\nmax_attempts = 2\nbackoff_secs = [60]\non = [\"busy\"]\n\
             {ANY_TIME}",
            script = repo_root()
                .join("config/interview-java-backend.en.toml")
                .display(),
            out = out.display(),
        ),
    )
    .unwrap();
    let args =
        |lo: u16, hi: u16| campaign_run(&scratch.join("campaign.toml"), (lo, hi), &["--quiet"]);
    let (lo, hi) = free_port_range(8);
    let mut cmd = std::process::Command::new(common::voxhire::binary());
    cmd.args(args(lo, hi))
        .current_dir(repo_root())
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(scratch.join("first.stdout")).unwrap())
        .stderr(std::fs::File::create(scratch.join("first.stderr")).unwrap());
    let mut first = common::process::ChildGuard::spawn("voxhire campaign run", &mut cmd);
    let attempt = out.join("alice").join("1");
    let partial = attempt.join("recording.wav.partial");
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    // Seconds into the interview: the recording has grown past 3 s of stereo.
    while std::fs::metadata(&partial).map_or(0, |m| m.len()) < 100_000 {
        let exited = first.child_mut().try_wait().unwrap();
        assert!(
            exited.is_none() && std::time::Instant::now() < deadline,
            "the interview never got going ({exited:?})\n{}",
            common::tail(&scratch.join("first.stderr"), 30)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    first.signal("KILL");
    first.wait_timeout(Duration::from_secs(10));
    assert!(
        attempt.join("events.jsonl.partial").exists(),
        "killed mid-call"
    );

    let (lo, hi) = free_port_range(8);
    let rerun = common::voxhire::run_command(
        &args(lo, hi),
        scratch.path(),
        "rerun",
        Duration::from_secs(120),
    );
    let why = rerun.diagnostics();
    assert_eq!(rerun.code(), Some(0), "{why}");
    let stderr = rerun.stderr();
    assert!(
        stderr.contains("closed as interrupted (kept: recording.wav, events.jsonl)"),
        "{why}"
    );
    // The call the killed run left up was ended with a BYE from the rerun: the
    // candidate heard the agent hang up, not silence it gave up on.
    assert!(
        stderr.contains("alice: call")
            && stderr.contains("left up by the last run: ended with BYE"),
        "{why}"
    );
    let line = candidate.next_call(Duration::from_secs(30));
    assert_eq!(line["outcome"], "agent_hung_up", "{line}");
    assert!(!partial.exists() && !attempt.join("events.jsonl.partial").exists());
    let wav = hound::WavReader::open(attempt.join("recording.wav")).expect("a playable recording");
    assert!(
        wav.duration() >= 8000 * 3,
        "{} samples kept",
        wav.duration()
    );
    let events = std::fs::read_to_string(attempt.join("events.jsonl")).unwrap();
    assert!(events.contains("\"invite\""), "{events}");
    assert!(
        events
            .lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "whole lines only"
    );
    let store = out.join("campaign.sqlite");
    let closed = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT detail FROM attempts WHERE ended_at IS NOT NULL').fetchall())")
        .arg(&store)
        .output()
        .unwrap();
    let closed = String::from_utf8_lossy(&closed.stdout);
    assert!(
        closed.contains("interrupted"),
        "the store has the attempt closed: {closed}"
    );
}

/// A campaign file's calling window: every day, all day.
const ANY_TIME: &str = "[calling_window]\ndays = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"]\nstart = \"00:00\"\nend = \"24:00\"\n";

/// `voxhire campaign run FILE` on loopback, RTP on ports `lo`–`hi`, then `extra`.
fn campaign_run(file: &Path, (lo, hi): (u16, u16), extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "campaign".into(),
        "run".into(),
        file.display().to_string(),
        "--sip".into(),
        "127.0.0.1:0".into(),
        "--rtp-ports".into(),
        format!("{lo}-{hi}"),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}
