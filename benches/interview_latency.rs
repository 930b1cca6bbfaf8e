//! End-to-end latency of full interview calls: `cargo bench --bench interview_latency`.
//!
//! Runs real interviews — `voxhire call --script` against `voxhire candidate`
//! (both the real binary, real SIP/RTP on loopback, real models) — and prints,
//! per call and over all turns, the voice-to-voice latency (candidate's last
//! speech frame → agent's first audio frame out) with its breakdown: end-of-turn
//! silence (endpoint), ASR after the endpoint, NLU + dialog, TTS/playout; and
//! the latency the simulated candidate measured on its side of the line.
//!
//! `BENCH_CALLS=alice,chen` chooses the scenarios (default: alice, chen);
//! `BENCH_KEEP=DIR` keeps the run directories.
//! Not a criterion bench: one call takes a minute or two and is the unit.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_voxhire");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free UDP port")
}

struct Killed(std::process::Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

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

fn percentile(sorted: &[u64], p: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

fn mean(v: &[u64]) -> u64 {
    if v.is_empty() {
        0
    } else {
        v.iter().sum::<u64>() / v.len() as u64
    }
}

#[derive(Default)]
struct Turns {
    v2v: Vec<u64>,
    endpoint: Vec<u64>,
    asr: Vec<u64>,
    nlu: Vec<u64>,
    tts: Vec<u64>,
    early: usize,
}

impl Turns {
    fn add(&mut self, dir: &Path) {
        let text = std::fs::read_to_string(dir.join("events.jsonl")).expect("events.jsonl");
        for line in text.lines() {
            let e: Value = serde_json::from_str(line).expect("JSON event");
            if e["source"] == "asr" && e["early_commit"] == true {
                self.early += 1;
            }
            if e["source"] != "turn" || !e["voice_to_voice_ms"].is_u64() {
                continue;
            }
            let g = |k: &str| e[k].as_u64().unwrap_or(0);
            self.v2v.push(g("voice_to_voice_ms"));
            self.endpoint.push(g("endpoint_ms"));
            self.asr.push(g("asr_ms"));
            self.nlu.push(g("nlu_ms"));
            self.tts.push(g("tts_ms"));
        }
    }

    fn row(&self, label: &str) -> String {
        let mut v = self.v2v.clone();
        v.sort_unstable();
        format!(
            "{label:<10} {:>5} {:>7} {:>7} {:>7} | {:>8} {:>6} {:>6} {:>6} {:>6}",
            v.len(),
            percentile(&v, 50),
            percentile(&v, 95),
            v.last().copied().unwrap_or(0),
            mean(&self.endpoint),
            mean(&self.asr),
            mean(&self.nlu),
            mean(&self.tts),
            self.early,
        )
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

    let port = free_port();
    let mut cand = Command::new(BIN)
        .args([
            "candidate",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--rtp-ports",
            "23000-23099",
        ])
        .arg("--scenarios")
        .arg(repo().join("tests/interview/scenarios"))
        .current_dir(repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start voxhire candidate");
    let stdout = cand.stdout.take().expect("piped");
    let _cand = Killed(cand);
    let (tx, lines) = std::sync::mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str(&l) {
                let _ = tx.send(v);
            }
        }
    });
    std::thread::sleep(Duration::from_secs(3));

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
                "--bind",
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
        if let Ok(line) = lines.recv_timeout(Duration::from_secs(20)) {
            for r in line["responses"].as_array().cloned().unwrap_or_default() {
                if let Some(ms) = r["latency_ms"].as_u64() {
                    heard.push(ms);
                }
            }
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
