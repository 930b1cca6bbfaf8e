//! `voxhire server` as the back-office tests run it: on loopback, with the
//! test master key, its first stdout line read for the HTTP address.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;

use serde_json::{json, Value};

use super::http::{request, Response};

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
        Server::start_with(scratch, data, &[])
    }

    /// [`Server::start`] with more arguments (e.g. `--tls-cert`).
    pub fn start_with(scratch: &Scratch, data: &std::path::Path, extra: &[&str]) -> Server {
        Server::start_named(scratch, data, "server", extra)
    }

    /// [`Server::start_with`], its stderr in `<name>.stderr` (several nodes
    /// in one test).
    pub fn start_named(
        scratch: &Scratch,
        data: &std::path::Path,
        name: &str,
        extra: &[&str],
    ) -> Server {
        let (lo, hi) = free_port_range(8);
        let stderr = scratch.join(&format!("{name}.stderr"));
        let mut cmd = voxhire();
        cmd.args(["server", "--listen", "127.0.0.1:0", "--sip", "127.0.0.1:0"])
            .arg("--data")
            .arg(data)
            .args(["--rtp-ports", &format!("{lo}-{hi}"), "--max-calls", "2"])
            .args(extra)
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
    api_key_in(data, None, scope)
}

/// [`api_key`] in a PostgreSQL store (`--database`).
pub fn api_key_in(data: &std::path::Path, database: Option<&str>, scope: &str) -> String {
    let mut cmd = voxhire();
    cmd.args(["apikey", "create", "--name", "ats", "--scope", scope])
        .arg("--data")
        .arg(data);
    if let Some(url) = database {
        cmd.args(["--database", url]);
    }
    let out = cmd.output().expect("voxhire apikey create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    v["key"].as_str().unwrap().to_owned()
}

/// Staff accounts as the tests make and sign them in.
pub const PASSWORD: &str = "a long enough pass phrase";

pub struct Staff {
    pub email: String,
    pub totp: totp_rs::Totp,
    pub recovery: Vec<String>,
}

pub fn create_user(data: &Path, email: &str, role: &str) -> Staff {
    create_user_in(data, None, email, role)
}

/// [`create_user`] in a PostgreSQL store (`--database`).
pub fn create_user_in(data: &Path, database: Option<&str>, email: &str, role: &str) -> Staff {
    use std::io::Write;
    let mut cmd = voxhire();
    cmd.args(["user", "create", "--email", email, "--role", role, "--data"])
        .arg(data);
    if let Some(url) = database {
        cmd.args(["--database", url]);
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let secret = totp_rs::Secret::try_from_base32(v["totp_secret"].as_str().unwrap()).unwrap();
    Staff {
        email: email.to_owned(),
        totp: totp_rs::Builder::new().with_secret(secret).build().unwrap(),
        recovery: v["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect(),
    }
}

pub fn sign_in(http: std::net::SocketAddr, email: &str, password: &str, code: &str) -> Response {
    request(
        http,
        "POST",
        "/api/v1/session",
        None,
        Some(&json!({"email": email, "password": password, "code": code})),
    )
}

/// The session cookie a successful sign-in set, as a `Cookie` header value.
pub fn cookie_of(r: &Response) -> String {
    let set = r.header("set-cookie").expect("a session cookie");
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Max-Age=28800"] {
        assert!(set.contains(attr), "{set}");
    }
    set.split(';').next().unwrap().to_owned()
}

/// Asserts that an interview attempt's (repaired) recording is served and
/// plays: a WAV with at least a second of the call.
pub fn assert_recording_plays(server: &Server, key: &str, attempt: &Value) {
    let url = attempt["files"]["recording"]
        .as_str()
        .expect("a repaired recording");
    let rec = request(server.http, "GET", url, Some(key), None);
    assert_eq!(rec.status, 200);
    let wav = hound::WavReader::new(std::io::Cursor::new(&rec.bytes)).expect("a playable WAV");
    assert!(
        wav.duration() >= 8000,
        "at least a second of the call: {} samples",
        wav.duration()
    );
}
