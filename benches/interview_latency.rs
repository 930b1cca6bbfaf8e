//! End-to-end latency of full interview calls: `cargo bench --bench interview_latency`.
//!
//! Runs real interviews — `voxhire call --script` against `voxhire-candidate`
//! (both the real binary, real SIP/RTP on loopback, real models) — and prints,
//! per call and over all turns, the voice-to-voice latency (candidate's last
//! speech frame → agent's first audio frame out) with its breakdown: end-of-turn
//! silence (endpoint), ASR after the endpoint, NLU + dialog, TTS/playout; and
//! the latency the simulated candidate measured on its side of the line.
//!
//! `BENCH_CALLS=alice,chen` chooses the scenarios (default: alice, chen);
//! `BENCH_KEEP=DIR` keeps the run directories.
//! Not a criterion bench: one call takes a minute or two and is the unit.

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{percentile, repo, Simulator, Turns, BIN};
use serde_json::Value;

fn script_for(user: &str) -> (&'static str, &'static str, String) {
    match user {
        "chen" => ("interview-frontend.zh.toml", "zh", "陈静".into()),
        other => {
            let mut name = other.to_string();
            name[..1].make_ascii_uppercase();
            ("interview-java-backend.en.toml", "en", name)
        }
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing useful.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let users: Vec<String> = std::env::var("BENCH_CALLS")
        .unwrap_or_else(|_| "alice,chen".into())
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let keep = std::env::var_os("BENCH_KEEP").map(PathBuf::from);
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&root).expect("run directory");

    let sim = Simulator::start("23000-23099");
    let port = sim.port;
    println!(
        "{:<10} {:>5} {:>7} {:>7} {:>7} | {:>8} {:>6} {:>6} {:>6} {:>6}",
        "call", "turns", "p50", "p95", "max", "endpoint", "asr", "nlu", "tts", "early"
    );
    let mut all = Turns::default();
    let mut heard: Vec<u64> = Vec::new();
    for user in &users {
        let (script, lang, name) = script_for(user);
        let out = root.join(user);
        let started = Instant::now();
        let status = Command::new(BIN)
            .arg("call")
            .arg(format!("sip:{user}@127.0.0.1:{port}"))
            .args([
                "--sip",
                "127.0.0.1:0",
                "--rtp-ports",
                "23200-23299",
                "--lang",
                lang,
            ])
            .arg("--script")
            .arg(repo().join("config").join(script))
            .args(["--candidate-name", &name, "--tz", "Asia/Shanghai", "--out"])
            .arg(&out)
            .current_dir(repo())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run voxhire call");
        assert!(status.success(), "voxhire call for {user} failed: {status}");
        // A call that exits cleanly can still be a broken interview (hung up, a
        // turn never understood): its figures would not be an interview's.
        let report: Value = std::fs::read(out.join("report.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_else(|| panic!("{user}: no readable report.json in {}", out.display()));
        assert_eq!(
            report["status"], "completed",
            "{user}: the interview did not complete (run with BENCH_KEEP=DIR to look)"
        );
        let mut t = Turns::default();
        t.add(&out);
        println!(
            "{}   ({:.0} s)",
            t.row(user),
            started.elapsed().as_secs_f64()
        );
        all.v2v.extend(&t.v2v);
        all.endpoint.extend(&t.endpoint);
        all.asr.extend(&t.asr);
        all.nlu.extend(&t.nlu);
        all.tts.extend(&t.tts);
        all.early += t.early;
        if let Ok(line) = sim.lines.recv_timeout(Duration::from_secs(20)) {
            // What the candidate measured, beside the agent's files.
            let _ = std::fs::write(out.join("candidate.json"), line.to_string());
            let mut this_call: Vec<u64> = line["responses"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["latency_ms"].as_u64())
                .collect();
            heard.extend(&this_call);
            let in_order = this_call
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" ");
            this_call.sort_unstable();
            println!(
                "{:<10} as the candidate heard it ({lang}): p50 {} ms, p95 {} ms over {} turns ({in_order})",
                user,
                percentile(&this_call, 50),
                percentile(&this_call, 95),
                this_call.len()
            );
        }
    }
    println!("{}", all.row("all"));
    heard.sort_unstable();
    println!(
        "as the candidate heard it (end of answer → agent speech onset, VAD-detected): \
         p50 {} ms, p95 {} ms over {} turns",
        percentile(&heard, 50),
        percentile(&heard, 95),
        heard.len()
    );
    println!("(ms; endpoint/asr/nlu/tts are means; early = turns committed at a pause)");
    if let Some(k) = keep {
        println!("run directories kept in {}", k.display());
    }
}
