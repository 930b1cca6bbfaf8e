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
        let log_path = scratch.join("dnsmasq.log");
        let mut attempt = 0;
        let (guard, port) = loop {
            attempt += 1;
            let port = free_udp_port();
            let log = std::fs::File::create(&log_path).unwrap();
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
            .stderr(log);
            let guard = ChildGuard::spawn("dnsmasq", &mut cmd);
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            let mut taken = false;
            while !udp_port_is_bound(port) {
                let log = super::tail(&log_path, 20);
                if log.contains("Address already in use") && attempt < 5 {
                    taken = true;
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "dnsmasq did not bind 127.0.0.1:{port}:\n{log}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            if !taken {
                break (guard, port);
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
