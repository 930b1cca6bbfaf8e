//! A real DNS server on loopback for tests that resolve names: Debian's dnsmasq,
//! authoritative for the records given, forwarding nothing, on a free UDP port.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::ports::{free_udp_port, udp_port_is_bound};
use super::process::ChildGuard;

pub struct Dnsmasq {
    guard: ChildGuard,
    pub addr: SocketAddr,
}

impl Dnsmasq {
    /// Starts dnsmasq with `records`: dnsmasq options such as
    /// `--srv-host=_sip._udp.trunk.test,host.trunk.test,5070,0,5`,
    /// `--host-record=host.trunk.test,127.0.0.1` or `--naptr-record=…`.
    pub fn start(scratch: &Path, records: &[String]) -> Dnsmasq {
        let found = Command::new("dnsmasq")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok();
        assert!(
            found,
            "dnsmasq is required for this test: run scripts/setup.sh (apt package dnsmasq-base)"
        );
        // dnsmasq binds the port for UDP and TCP: a port free for UDP may be taken
        // for TCP (or by a parallel test before dnsmasq gets it): then another.
        let log = scratch.join("dnsmasq.log");
        let mut attempt = 1;
        let (guard, port) = loop {
            let port = free_udp_port();
            match spawn_on(port, records, &log) {
                Some(guard) => break (guard, port),
                None if attempt < 5 => attempt += 1,
                None => panic!(
                    "dnsmasq found no free port in {attempt} tries:\n{}",
                    super::tail(&log, 20)
                ),
            }
        };
        Dnsmasq {
            guard,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    /// Re-reads `--addn-hosts` files (SIGHUP) and clears dnsmasq's cache.
    #[allow(dead_code)]
    pub fn reload(&mut self) {
        self.guard.signal("HUP");
    }

    /// Stops answering: the DNS server is gone.
    #[allow(dead_code)]
    pub fn stop(&mut self) {
        self.guard.kill();
    }
}

/// dnsmasq answering `records` on 127.0.0.1:`port`, once it has bound it; `None`
/// if the port turned out to be in use.
fn spawn_on(port: u16, records: &[String], log: &Path) -> Option<ChildGuard> {
    let mut cmd = Command::new("dnsmasq");
    cmd.args([
        "--keep-in-foreground",
        "--no-resolv",
        "--no-hosts",
        "--no-poll",
        "--bind-interfaces",
        "--listen-address=127.0.0.1",
        "--log-queries",
        "--log-facility=-",
        "--pid-file=",
        "--conf-file=/dev/null",
        "--user=root",
    ])
    .arg(format!("--port={port}"))
    .args(records)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(std::fs::File::create(log).unwrap());
    let guard = ChildGuard::spawn("dnsmasq", &mut cmd);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !udp_port_is_bound(port) {
        let tail = super::tail(log, 20);
        if tail.contains("Address already in use") {
            return None;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "dnsmasq did not bind 127.0.0.1:{port}:\n{tail}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(guard)
}
