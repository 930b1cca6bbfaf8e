//! What the end-to-end benches share: the binary, the candidate simulator, and
//! reading the per-turn latency events a call leaves in its events.jsonl.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_voxhire");
/// The simulated candidate (`tools/candidate`).
pub const CANDIDATE: &str = env!("CARGO_BIN_EXE_voxhire-candidate");

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free UDP port")
}

pub struct Killed(std::process::Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub use voxhire_media::stats::percentile;

pub fn mean(v: &[u64]) -> u64 {
    if v.is_empty() {
        0
    } else {
        v.iter().sum::<u64>() / v.len() as u64
    }
}

/// A turn that waited this long for silence was an open question's.
pub const OPEN_QUESTION_SILENCE_MS: u64 = 1000;

#[derive(Default)]
pub struct Turns {
    pub v2v: Vec<u64>,
    /// Voice to voice of the turns that did not wait out an open question's
    /// long end-of-turn silence (a script sets ≥ 1 s only where people pause
    /// mid-story): what load must not push past the target.
    pub closed_v2v: Vec<u64>,
    pub endpoint: Vec<u64>,
    pub asr: Vec<u64>,
    pub nlu: Vec<u64>,
    pub tts: Vec<u64>,
    pub early: usize,
}

impl Turns {
    pub fn add(&mut self, dir: &Path) {
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
            if g("endpoint_ms") < OPEN_QUESTION_SILENCE_MS {
                self.closed_v2v.push(g("voice_to_voice_ms"));
            }
            self.endpoint.push(g("endpoint_ms"));
            self.asr.push(g("asr_ms"));
            self.nlu.push(g("nlu_ms"));
            self.tts.push(g("tts_ms"));
        }
    }

    pub fn row(&self, label: &str) -> String {
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

/// `voxhire-candidate` on a free loopback port, playing tests/interview/scenarios;
/// its one JSON line per finished call arrives on `lines`.
pub struct Simulator {
    pub port: u16,
    pub lines: std::sync::mpsc::Receiver<Value>,
    _child: Killed,
}

impl Simulator {
    pub fn start(rtp_ports: &str) -> Simulator {
        let port = free_port();
        let mut child = Command::new(CANDIDATE)
            .args([
                "--sip",
                &format!("127.0.0.1:{port}"),
                "--rtp-ports",
                rtp_ports,
            ])
            .arg("--scenarios")
            .arg(repo().join("tests/interview/scenarios"))
            .current_dir(repo())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start voxhire-candidate");
        let stdout = child.stdout.take().expect("piped");
        let (tx, lines) = std::sync::mpsc::channel::<Value>();
        std::thread::spawn(move || {
            for l in BufReader::new(stdout).lines().map_while(Result::ok) {
                // Only the per-call lines: the first line is `{"event":"listening",…}`.
                if let Ok(v) = serde_json::from_str::<Value>(&l) {
                    if v["event"] == "call" {
                        let _ = tx.send(v);
                    }
                }
            }
        });
        std::thread::sleep(Duration::from_secs(3));
        Simulator {
            port,
            lines,
            _child: Killed(child),
        }
    }
}
