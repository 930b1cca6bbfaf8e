//! Shared harness for the SIPp integration tests (`tests/sipp_call.rs`,
//! `tests/sipp_serve.rs`) and the audio self-test (`tests/audio_match.rs`).
//!
//! Everything here talks to real processes on real loopback sockets:
//! [`sipp`] spawns SIPp 3.6 with a scenario from `tests/sipp/`, [`voxhire`]
//! spawns the `voxhire` binary, [`audio`] decides whether a recording contains
//! a given sentence. Every child process lives in a [`process::ChildGuard`]
//! that kills it on drop, so a failing assertion never leaves SIPp or voxhire
//! running.
//!
//! Set `VOXHIRE_TEST_KEEP=1` to keep each test's temporary directory (SIPp
//! message/error logs, voxhire stderr, recordings) for inspection.
#![allow(dead_code)] // each test binary uses a different subset

pub mod audio;
pub mod candidate;
pub mod dns;
pub mod http;
pub mod kamailio;
pub mod ports;
pub mod postgres;
pub mod process;
pub mod server;
pub mod sipp;
pub mod voxhire;

use std::path::{Path, PathBuf};

/// The repository root (the root package's manifest directory).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/sipp/` — SIPp runs with this as its working directory because the
/// scenarios name their `rtp_stream` files relative to it.
pub fn sipp_dir() -> PathBuf {
    repo_root().join("tests").join("sipp")
}

/// A fixture under `tests/audio/`.
pub fn audio_fixture(name: &str) -> PathBuf {
    repo_root().join("tests").join("audio").join(name)
}

/// A per-test scratch directory; kept when `VOXHIRE_TEST_KEEP` is set.
pub struct Scratch {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl Scratch {
    pub fn new(test: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix(&format!("voxhire-{test}-"))
            .tempdir()
            .expect("create a temporary directory");
        let path = dir.path().to_path_buf();
        if std::env::var_os("VOXHIRE_TEST_KEEP").is_some() {
            eprintln!("[{test}] keeping scratch directory {}", path.display());
            #[allow(deprecated)]
            let _ = dir.into_path();
            Scratch { dir: None, path }
        } else {
            Scratch {
                dir: Some(dir),
                path,
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() && self.dir.is_some() {
            // Keep the evidence of a failed test.
            #[allow(deprecated)]
            let kept = self.dir.take().map(|d| d.into_path());
            if let Some(p) = kept {
                eprintln!("test failed: logs kept in {}", p.display());
            }
        }
    }
}

/// The last `n` lines of a text file (lossy UTF-8), for failure messages.
pub fn tail(path: &Path, n: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(n);
            lines[start..].join("\n")
        }
        Err(e) => format!("<cannot read {}: {e}>", path.display()),
    }
}

/// Fails the test early with a clear message when SIPp is not installed
/// (scripts/setup.sh installs the Debian package `sip-tester`).
pub fn require_sipp() {
    let ok = std::process::Command::new("sipp")
        .arg("-v")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok();
    assert!(
        ok,
        "SIPp is required for this test: run scripts/setup.sh (apt package sip-tester)"
    );
}
