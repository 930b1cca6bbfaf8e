//! `voxhire server` as the back-office tests run it: on loopback, with the
//! test master key, its first stdout line read for the HTTP address.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::Stdio;

use serde_json::Value;

use super::ports::free_port_range;
use super::process::ChildGuard;
use super::voxhire::voxhire;
use super::{repo_root, Scratch};

pub struct Server {
    pub guard: ChildGuard,
    pub http: SocketAddr,
    stderr: std::path::PathBuf,
}

impl Server {
    pub fn start(scratch: &Scratch, data: &std::path::Path) -> Server {
        let (lo, hi) = free_port_range(8);
        let stderr = scratch.join("server.stderr");
        let mut cmd = voxhire();
        cmd.args(["server", "--listen", "127.0.0.1:0", "--sip", "127.0.0.1:0"])
            .arg("--data")
            .arg(data)
            .args(["--rtp-ports", &format!("{lo}-{hi}"), "--max-calls", "2"])
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap());
        let mut guard = ChildGuard::spawn("voxhire server", &mut cmd);
        let stdout = guard.child_mut().stdout.take().unwrap();
        let mut first = String::new();
        BufReader::new(stdout)
            .read_line(&mut first)
            .expect("the server's first line");
        let v: Value = serde_json::from_str(&first).unwrap_or_else(|e| {
            panic!(
                "not a listening line ({e}): {first:?}\n{}",
                super::tail(&stderr, 40)
            )
        });
        let http = v["http"].as_str().unwrap().parse().unwrap();
        Server {
            guard,
            http,
            stderr,
        }
    }

    pub fn log(&self) -> String {
        super::tail(&self.stderr, 60)
    }
}

pub fn api_key(data: &std::path::Path, scope: &str) -> String {
    let out = voxhire()
        .args(["apikey", "create", "--name", "ats", "--scope", scope])
        .arg("--data")
        .arg(data)
        .output()
        .expect("voxhire apikey create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    v["key"].as_str().unwrap().to_owned()
}
