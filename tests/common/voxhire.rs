//! Running the real `voxhire` binary: one-shot `voxhire call`, long-running
//! `voxhire serve` with its JSON-lines stdout.

use super::process::{describe, ChildGuard};
use super::tail;
use serde_json::Value;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_voxhire")
}

/// The master key the tests' servers run with (test data, not a secret):
/// set as `VOXHIRE_MASTER_KEYS` by [`voxhire`].
pub const TEST_MASTER_KEYS: &str =
    "7e570001 9f1c2d3e4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// `voxhire` as the back-office tests run it: with the test master key.
#[allow(dead_code)]
pub fn voxhire() -> Command {
    let mut cmd = Command::new(binary());
    cmd.env("VOXHIRE_MASTER_KEYS", TEST_MASTER_KEYS);
    cmd
}

/// The simulated candidate (`tools/candidate`).
pub fn candidate_binary() -> &'static str {
    env!("CARGO_BIN_EXE_voxhire-candidate")
}

fn command(args: &[String]) -> Command {
    let mut cmd = Command::new(binary());
    // The SIPp trunks' digest password (tests/sipp/trunk-auth.toml names it).
    cmd.env("VOXHIRE_TEST_TRUNK_PASSWORD", "secret");
    cmd.args(args)
        .current_dir(super::repo_root())
        .stdin(Stdio::null());
    cmd
}

/// The result of one `voxhire call ...`.
pub struct CallRun {
    pub status: Option<ExitStatus>,
    pub elapsed: Duration,
    pub stdout: String,
    pub stderr_path: PathBuf,
    args: Vec<String>,
}

impl CallRun {
    /// The exit code (`None` when killed at the deadline or by a signal).
    #[allow(dead_code)]
    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }

    /// What voxhire wrote on stderr.
    #[allow(dead_code)]
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// The one JSON line the contract promises on stdout; panics (with
    /// voxhire's stderr) if the call did not exit 0 or printed anything else.
    pub fn json(&self) -> Value {
        assert_eq!(
            self.status.and_then(|s| s.code()),
            Some(0),
            "voxhire call did not exit 0: {}\n{}",
            describe(self.status),
            self.diagnostics()
        );
        let lines: Vec<&str> = self
            .stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "voxhire call must print exactly one JSON line on stdout, got {}:\n{}\n{}",
            lines.len(),
            self.stdout,
            self.diagnostics()
        );
        serde_json::from_str(lines[0]).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\n{}",
                lines[0],
                self.diagnostics()
            )
        })
    }

    pub fn diagnostics(&self) -> String {
        format!(
            "--- voxhire {}\n--- stdout:\n{}\n--- stderr ({}), last lines:\n{}",
            self.args.join(" "),
            self.stdout,
            self.stderr_path.display(),
            tail(&self.stderr_path, 60)
        )
    }
}

/// Runs `voxhire call <args>` to completion (killed after `timeout`).
pub fn run_call(args: &[String], scratch: &Path, tag: &str, timeout: Duration) -> CallRun {
    let mut full = vec!["call".to_string()];
    full.extend_from_slice(args);
    run_command(&full, scratch, tag, timeout)
}

/// Runs `voxhire <args>` to completion (killed after `timeout`).
pub fn run_command(full: &[String], scratch: &Path, tag: &str, timeout: Duration) -> CallRun {
    let full = full.to_vec();
    let stdout_path = scratch.join(format!("voxhire-{tag}.stdout"));
    let stderr_path = scratch.join(format!("voxhire-{tag}.stderr"));
    let mut cmd = command(&full);
    cmd.stdout(File::create(&stdout_path).expect("stdout file"))
        .stderr(File::create(&stderr_path).expect("stderr file"));
    let started = Instant::now();
    let mut guard = ChildGuard::spawn("voxhire call", &mut cmd);
    let status = guard.wait_timeout(timeout);
    let elapsed = started.elapsed();
    drop(guard); // kills it if the deadline passed
    let stdout =
        String::from_utf8_lossy(&std::fs::read(&stdout_path).unwrap_or_default()).into_owned();
    CallRun {
        status,
        elapsed,
        stdout,
        stderr_path,
        args: full,
    }
}

/// A running `voxhire serve`. Killed on drop; use [`Serve::stop`] to test the
/// graceful SIGTERM path.
pub struct Serve {
    guard: ChildGuard,
    /// The SIP address from the `listening` event.
    pub sip: SocketAddr,
    events: Receiver<Value>,
    raw_lines: Arc<Mutex<Vec<String>>>,
    stderr_path: PathBuf,
    args: Vec<String>,
}

impl Serve {
    /// Starts `voxhire serve <args>` and waits (bounded) for
    /// `{"event":"listening","sip":...}`.
    pub fn start(args: &[String], scratch: &Path, tag: &str, timeout: Duration) -> Serve {
        let stderr_path = scratch.join(format!("voxhire-serve-{tag}.stderr"));
        let mut full = vec!["serve".to_string()];
        full.extend_from_slice(args);
        let mut cmd = command(&full);
        cmd.stdout(Stdio::piped())
            .stderr(File::create(&stderr_path).expect("stderr file"));
        let mut guard = ChildGuard::spawn("voxhire serve", &mut cmd);
        let stdout = guard.child_mut().stdout.take().expect("piped stdout");

        let (tx, events) = mpsc::channel();
        let raw_lines = Arc::new(Mutex::new(Vec::new()));
        let raw = Arc::clone(&raw_lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.trim().is_empty() {
                    continue;
                }
                raw.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(line.clone());
                match serde_json::from_str::<Value>(&line) {
                    Ok(v) => {
                        if tx.send(v).is_err() {
                            break;
                        }
                    }
                    // Not JSON: kept in raw_lines, flagged by assert_stdout_is_json.
                    Err(_) => continue,
                }
            }
        });

        let mut serve = Serve {
            guard,
            sip: SocketAddr::from(([0, 0, 0, 0], 0)),
            events,
            raw_lines,
            stderr_path,
            args: full,
        };
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match serve
                .events
                .recv_timeout(left.min(Duration::from_millis(100)))
            {
                Ok(v) if v["event"] == "listening" => {
                    let sip = v["sip"].as_str().unwrap_or_default();
                    serve.sip = sip.parse().unwrap_or_else(|e| {
                        panic!(
                            "listening event has a bad sip address {v} ({e})\n{}",
                            serve.diagnostics()
                        )
                    });
                    return serve;
                }
                Ok(v) => panic!(
                    "first stdout event must be `listening`, got {v}\n{}",
                    serve.diagnostics()
                ),
                Err(RecvTimeoutError::Timeout) => {
                    if let Some(st) = serve.guard.try_status() {
                        panic!(
                            "voxhire serve exited before listening: {}\n{}",
                            describe(Some(st)),
                            serve.diagnostics()
                        );
                    }
                    assert!(
                        Instant::now() < deadline,
                        "voxhire serve printed no `listening` line within {timeout:?}\n{}",
                        serve.diagnostics()
                    );
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let st = serve.guard.wait_timeout(Duration::from_secs(1));
                    panic!(
                        "voxhire serve closed stdout before listening: {}\n{}",
                        describe(st),
                        serve.diagnostics()
                    );
                }
            }
        }
    }

    /// The next `{"event":"call",...}` line, or None after `timeout`.
    pub fn next_call(&self, timeout: Duration) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.events.recv_timeout(left) {
                Ok(v) if v["event"] == "call" => return Some(v),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }

    /// Up to `n` call events, waiting at most `timeout` in total.
    pub fn calls(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        while out.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_call(left) {
                Some(v) => out.push(v),
                None => break,
            }
        }
        out
    }

    /// Every stdout line must be a JSON object (the contract).
    pub fn assert_stdout_is_json(&self) {
        let lines = self.raw_lines.lock().unwrap_or_else(|e| e.into_inner());
        for l in lines.iter() {
            assert!(
                serde_json::from_str::<Value>(l)
                    .map(|v| v.is_object())
                    .unwrap_or(false),
                "voxhire serve printed a non-JSON line on stdout: {l:?}"
            );
        }
    }

    pub fn has_exited(&mut self) -> bool {
        self.guard.try_status().is_some()
    }

    /// Sends SIGTERM/SIGINT and waits (bounded) for the exit status.
    pub fn stop(&mut self, sig: &str, timeout: Duration) -> Option<ExitStatus> {
        self.guard.signal(sig);
        self.guard.wait_timeout(timeout)
    }

    /// Everything it has written to stderr so far (its log).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    pub fn diagnostics(&self) -> String {
        let lines = self
            .raw_lines
            .lock()
            .map(|l| l.join("\n"))
            .unwrap_or_default();
        format!(
            "--- voxhire {}\n--- stdout:\n{}\n--- stderr ({}), last lines:\n{}",
            self.args.join(" "),
            lines,
            self.stderr_path.display(),
            tail(&self.stderr_path, 60)
        )
    }
}

/// `rtp.<field>` of a call JSON as u64 (0 if absent).
pub fn rtp(v: &Value, field: &str) -> u64 {
    v["rtp"][field].as_u64().unwrap_or(0)
}
