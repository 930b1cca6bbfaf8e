//! `voxhire-candidate`, the simulated job candidate, as the end-to-end tests
//! run it: one process answering every scenario under `tests/interview/scenarios`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use super::ports::{free_port_range, free_udp_port, udp_port_is_bound};
use super::process::ChildGuard;
use super::repo_root;
use super::voxhire::candidate_binary;

/// A running `voxhire-candidate` and the JSON lines it prints per INVITE.
pub struct Candidate {
    _guard: ChildGuard,
    pub sip: SocketAddr,
    lines: mpsc::Receiver<Value>,
}

impl Candidate {
    pub fn start(scratch: &Path) -> Candidate {
        let port = free_udp_port();
        let (lo, hi) = free_port_range(40);
        let sip: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let stderr = std::fs::File::create(scratch.join("candidate.stderr")).unwrap();
        let mut cmd = Command::new(candidate_binary());
        cmd.args(["--sip", &sip.to_string(), "--rtp-ports"])
            .arg(format!("{lo}-{hi}"))
            .arg("--scenarios")
            .arg(repo_root().join("tests/interview/scenarios"))
            .arg("--record-dir")
            .arg(scratch.join("candidate-recordings"))
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut guard = ChildGuard::spawn("voxhire-candidate", &mut cmd);
        let stdout = guard.child_mut().stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while !udp_port_is_bound(port) {
            assert!(
                std::time::Instant::now() < deadline,
                "voxhire-candidate did not bind {sip}:\n{}",
                super::tail(&scratch.join("candidate.stderr"), 40)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Candidate {
            _guard: guard,
            sip,
            lines,
        }
    }

    /// The line of a finished INVITE, if one has been printed.
    pub fn try_next_call(&self) -> Option<Value> {
        while let Ok(line) = self.lines.try_recv() {
            if line["user"].is_string() {
                return Some(line);
            }
        }
        None
    }

    /// The candidate's line for the next finished INVITE.
    pub fn next_call(&self, timeout: Duration) -> Value {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .expect("the candidate printed no call line in time");
            if line["user"].is_string() {
                return line;
            }
        }
    }
}
