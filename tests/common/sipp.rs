//! Running SIPp 3.6 with a scenario from `tests/sipp/`.
//!
//! SIPp runs in the foreground (no `-bg`), with `-nostdin`, from `tests/sipp/`
//! (rtp_stream paths are relative), with every log it writes redirected into
//! the test's scratch directory: errors (`-trace_err`), SIP messages
//! (`-trace_msg`), scenario `<log>` lines (`-trace_logs`) and the statistics
//! CSV (`-trace_stat`). Exit codes: 0 = every call succeeded, 1 = at least one
//! call failed, 97/99/255 = aborted/no calls/fatal error.

use super::ports::{free_media_port, free_udp_port, udp_port_is_bound};
use super::process::{describe, ChildGuard};
use super::{sipp_dir, tail};
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What to run; see [`Sipp::start`].
#[derive(Clone, Debug)]
pub struct SippConfig {
    /// Scenario file name in tests/sipp (e.g. "uas-busy.xml").
    pub scenario: String,
    /// `-m`: stop after this many calls.
    pub calls: u32,
    /// `-l`: concurrent call limit (UAC only).
    pub limit: Option<u32>,
    /// `-r`: calls per second (UAC only).
    pub rate: Option<u32>,
    /// `-d`: `<pause/>` length in ms (UAC hold time).
    pub hold_ms: Option<u64>,
    /// `-rtp_echo`: reflect every RTP packet received on the media port.
    pub rtp_echo: bool,
    /// `-timeout` (global, with `-timeout_error`): SIPp gives up after this.
    pub timeout: Duration,
    /// Peer to call (UAC); None for a UAS.
    pub remote: Option<SocketAddr>,
    /// Extra arguments, e.g. `["-au", "alice"]`.
    pub extra: Vec<String>,
}

impl SippConfig {
    pub fn uas(scenario: &str) -> Self {
        SippConfig {
            scenario: scenario.to_string(),
            calls: 1,
            limit: None,
            rate: None,
            hold_ms: None,
            rtp_echo: false,
            timeout: Duration::from_secs(30),
            remote: None,
            extra: Vec::new(),
        }
    }

    pub fn uac(scenario: &str, remote: SocketAddr) -> Self {
        SippConfig {
            remote: Some(remote),
            ..SippConfig::uas(scenario)
        }
    }
}

/// A running SIPp. Killed on drop.
pub struct Sipp {
    guard: ChildGuard,
    /// SIP port (`-p`) on 127.0.0.1.
    pub port: u16,
    /// Media port (`-mp`) on 127.0.0.1.
    pub media_port: u16,
    logs: PathBuf,
    config: SippConfig,
}

/// One SIP message from SIPp's trace.
#[derive(Clone, Debug)]
pub struct TracedMessage {
    /// Time of day in seconds (SIPp's clock).
    pub secs: f64,
    /// Sent by SIPp (else received).
    pub sent: bool,
    /// "INVITE sip:... SIP/2.0" or "SIP/2.0 200 OK".
    pub start: String,
    /// "1 INVITE".
    pub cseq: String,
}

/// How a SIPp run ended.
#[derive(Debug)]
pub struct SippOutcome {
    pub status: Option<ExitStatus>,
    /// Exit code, None if it had to be killed.
    pub code: Option<i32>,
    pub successful: Option<u64>,
    pub failed: Option<u64>,
}

impl Sipp {
    /// Starts SIPp on fresh loopback ports and, for a UAS, waits until its SIP
    /// socket is bound so the test can send the first INVITE right away.
    pub fn start(config: SippConfig, scratch: &Path, tag: &str) -> Sipp {
        let port = free_udp_port();
        let media_port = free_media_port();
        let logs = scratch.join(format!("sipp-{tag}"));
        std::fs::create_dir_all(&logs).expect("create SIPp log directory");
        let log = |name: &str| logs.join(name).to_string_lossy().into_owned();

        let mut cmd = Command::new("sipp");
        cmd.current_dir(sipp_dir())
            .args(["-sf", &config.scenario])
            .args(["-i", "127.0.0.1", "-mi", "127.0.0.1"])
            .args(["-p", &port.to_string(), "-mp", &media_port.to_string()])
            .args(["-m", &config.calls.to_string()])
            .args(["-timeout", &format!("{}s", config.timeout.as_secs().max(1))])
            .arg("-timeout_error")
            .arg("-nostdin")
            .args(["-trace_err", "-error_file", &log("errors.log")])
            .args(["-trace_msg", "-message_file", &log("messages.log")])
            .args(["-trace_logs", "-log_file", &log("scenario.log")])
            .args(["-trace_stat", "-stf", &log("stats.csv"), "-fd", "1"]);
        if let Some(l) = config.limit {
            cmd.args(["-l", &l.to_string()]);
        }
        if let Some(r) = config.rate {
            cmd.args(["-r", &r.to_string()]);
        }
        if let Some(d) = config.hold_ms {
            cmd.args(["-d", &d.to_string()]);
        }
        if config.rtp_echo {
            cmd.arg("-rtp_echo");
        }
        cmd.args(&config.extra);
        if let Some(remote) = config.remote {
            cmd.arg(remote.to_string());
        }
        cmd.stdin(Stdio::null())
            .stdout(File::create(logs.join("stdout.log")).expect("SIPp stdout file"))
            .stderr(File::create(logs.join("stderr.log")).expect("SIPp stderr file"));

        let guard = ChildGuard::spawn(&format!("sipp {}", config.scenario), &mut cmd);
        let mut sipp = Sipp {
            guard,
            port,
            media_port,
            logs,
            config,
        };
        if sipp.config.remote.is_none() {
            sipp.wait_bound(Duration::from_secs(5));
        }
        sipp
    }

    fn wait_bound(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        // Over TCP (`-t t1`) SIPp listens on a TCP port instead.
        let tcp = self
            .config
            .extra
            .windows(2)
            .any(|w| w[0] == "-t" && w[1].starts_with('t'));
        let ready = |port: u16| {
            if tcp {
                std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            } else {
                udp_port_is_bound(port)
            }
        };
        while !ready(self.port) {
            if let Some(status) = self.guard.try_status() {
                panic!(
                    "SIPp ({}) exited before binding port {}: {}\n{}",
                    self.config.scenario,
                    self.port,
                    describe(Some(status)),
                    self.diagnostics()
                );
            }
            assert!(
                Instant::now() < deadline,
                "SIPp ({}) did not bind 127.0.0.1:{} within {timeout:?}\n{}",
                self.config.scenario,
                self.port,
                self.diagnostics()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `127.0.0.1:<port>`: where a UAS SIPp listens.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// `sip:<user>@127.0.0.1:<port>`.
    pub fn uri(&self, user: &str) -> String {
        format!("sip:{user}@127.0.0.1:{}", self.port)
    }

    /// Waits (bounded) for SIPp to exit; kills it if the deadline passes.
    pub fn finish(&mut self, timeout: Duration) -> SippOutcome {
        let status = self.guard.wait_timeout(timeout);
        if status.is_none() {
            self.guard.kill();
        }
        let (successful, failed) = self.call_counts();
        SippOutcome {
            status,
            code: status.and_then(|s| s.code()),
            successful,
            failed,
        }
    }

    /// Asserts SIPp exited 0 (all calls succeeded) within `timeout`.
    pub fn assert_success(&mut self, timeout: Duration) -> SippOutcome {
        let outcome = self.finish(timeout);
        assert_eq!(
            outcome.code,
            Some(0),
            "SIPp ({}) did not succeed: {} (successful {:?}, failed {:?})\n{}",
            self.config.scenario,
            describe(outcome.status),
            outcome.successful,
            outcome.failed,
            self.diagnostics()
        );
        outcome
    }

    /// True if SIPp has already exited.
    pub fn has_exited(&mut self) -> bool {
        self.guard.try_status().is_some()
    }

    /// A column of the last row of the `-stf` statistics CSV, e.g.
    /// "SuccessfulCall(C)", "CallRate(C)", "Retransmissions(C)",
    /// "ResponseTime1(C)" (INVITE -> 200, the scenario's rtd).
    pub fn stat(&self, column: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.logs.join("stats.csv")).ok()?;
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header = lines.next()?;
        let last = lines.next_back()?;
        let i = header.split(';').position(|c| c == column)?;
        last.split(';').nth(i).map(|v| v.trim().to_string())
    }

    /// Cumulative SuccessfulCall(C) / FailedCall(C).
    pub fn call_counts(&self) -> (Option<u64>, Option<u64>) {
        let n = |c: &str| self.stat(c).and_then(|v| v.parse().ok());
        (n("SuccessfulCall(C)"), n("FailedCall(C)"))
    }

    /// Lines the scenario wrote with `<log message=.../>`.
    pub fn scenario_log(&self) -> Vec<String> {
        std::fs::read_to_string(self.logs.join("scenario.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The SIP message trace so far.
    pub fn messages(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.logs.join("messages.log")).unwrap_or_default())
            .into_owned()
    }

    /// The SIP message trace as (seconds of day, sent?, start line, CSeq
    /// value) per message, parsed from SIPp's `-trace_msg` file.
    pub fn timeline(&self) -> Vec<TracedMessage> {
        let text = self.messages();
        let mut out = Vec::new();
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            let Some(stamp) = line.strip_prefix("----------------------------------------------- ")
            else {
                continue;
            };
            // "2026-11-25 22:19:44.072939"
            let secs = stamp
                .split_whitespace()
                .nth(1)
                .and_then(|t| {
                    let mut it = t.split(':');
                    let h: f64 = it.next()?.parse().ok()?;
                    let m: f64 = it.next()?.parse().ok()?;
                    let s: f64 = it.next()?.parse().ok()?;
                    Some(h * 3600.0 + m * 60.0 + s)
                })
                .unwrap_or(f64::NAN);
            let sent = lines.next().is_some_and(|l| l.contains("message sent"));
            let mut start = String::new();
            let mut cseq = String::new();
            while let Some(l) = lines.peek() {
                if l.starts_with("-----------------------------------------------") {
                    break;
                }
                let l = lines.next().unwrap_or_default().trim_end_matches('\r');
                if start.is_empty() && !l.trim().is_empty() {
                    start = l.to_string();
                } else if let Some(v) = l.strip_prefix("CSeq:") {
                    cseq = v.trim().to_string();
                }
            }
            out.push(TracedMessage {
                secs,
                sent,
                start,
                cseq,
            });
        }
        out
    }

    /// Error log + the last SIP messages, for assertion messages.
    pub fn diagnostics(&self) -> String {
        format!(
            "--- SIPp {} errors ({}):\n{}\n--- last SIP messages:\n{}\n--- stderr:\n{}",
            self.config.scenario,
            self.logs.join("errors.log").display(),
            tail(&self.logs.join("errors.log"), 40),
            tail(&self.logs.join("messages.log"), 60),
            tail(&self.logs.join("stderr.log"), 10),
        )
    }
}
