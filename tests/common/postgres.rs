//! A real PostgreSQL server for one test: Debian's `postgresql` package
//! (installed by scripts/setup.sh), a fresh cluster in a temporary directory,
//! listening on a free loopback port only (no Unix socket), stopped when
//! dropped. PostgreSQL refuses to run as root, so under root (CI) it runs as
//! the package's `postgres` user through `setpriv`, which execs rather than
//! forks: the guard's process is the server itself.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::ports::free_tcp_port;
use super::process::ChildGuard;

pub struct Postgres {
    guard: ChildGuard,
    /// `postgres://voxhire@127.0.0.1:PORT/postgres`
    pub url: String,
    _dir: tempfile::TempDir,
    log: PathBuf,
}

/// The newest installed server's binaries (`/usr/lib/postgresql/N/bin`).
fn bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed: run scripts/setup.sh (apt package postgresql)")
        .filter_map(Result::ok)
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("no /usr/lib/postgresql/N/bin/postgres: run scripts/setup.sh")
        .1
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program` run as the `postgres` user when we are root.
fn as_server_user(root: bool, program: PathBuf) -> Command {
    if root {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=postgres",
            "--regid=postgres",
            "--init-groups",
            "--",
        ])
        .arg(program);
        c
    } else {
        Command::new(program)
    }
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = bin_dir();
        let root = is_root();
        // Under /tmp, not the test's scratch: the server user must be able
        // to reach it.
        let dir = tempfile::Builder::new()
            .prefix("voxhire-pg-")
            .tempdir()
            .expect("a temporary directory");
        let data = dir.path().join("data");
        let log = dir.path().join("postgres.log");
        if root {
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown postgres {}", dir.path().display());
        }
        let out = as_server_user(root, bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "voxhire", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .output()
            .expect("initdb");
        assert!(
            out.status.success(),
            "initdb failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_tcp_port();
        let mut cmd = as_server_user(root, bin.join("postgres"));
        cmd.arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "unix_socket_directories="])
            .args(["-c", "fsync=off", "-c", "max_connections=60"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("postgres.log"));
        let mut guard = ChildGuard::spawn("postgres", &mut cmd);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let up = Command::new(bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q"])
                .status()
                .is_ok_and(|s| s.success());
            if up {
                break;
            }
            if let Some(status) = guard.try_status() {
                panic!(
                    "postgres exited ({status}):\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "postgres did not start in 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        Postgres {
            guard,
            url: format!("postgres://voxhire@127.0.0.1:{port}/postgres"),
            _dir: dir,
            log,
        }
    }

    /// The server's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Fast shutdown: the backends end with the postmaster.
        self.guard.signal("INT");
        self.guard.wait_timeout(Duration::from_secs(10));
    }
}
