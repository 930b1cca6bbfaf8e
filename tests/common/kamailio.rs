//! Kamailio from Debian on loopback: a TLS front door (tests/kamailio/tls-proxy.cfg,
//! with a throwaway certificate made by openssl for the name the test gives), or a
//! dispatcher in front of several voxhire nodes (tests/kamailio/dispatcher.cfg).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::ports::{free_tcp_port, free_udp_port};
use super::process::ChildGuard;
use super::repo_root;

pub struct Kamailio {
    guard: ChildGuard,
    /// Its directory: config, certificates, log.
    pub dir: PathBuf,
    /// Where it takes SIP (over TLS for [`Kamailio::start_tls`], UDP for
    /// [`Kamailio::start_dispatcher`]).
    pub addr: SocketAddr,
    /// The CA that signed its certificate (PEM): the test's trust root.
    pub ca: PathBuf,
    /// Its certificate for the name given and the key (PEM), which a test may
    /// lend another TLS server.
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Where it takes SIP over UDP ([`Kamailio::start_tls`]).
    pub udp: Option<SocketAddr>,
}

impl Kamailio {
    /// Starts Kamailio taking TLS for `name` and relaying to `next_hop_port` on
    /// 127.0.0.1 over UDP.
    pub fn start_tls(scratch: &Path, name: &str, next_hop_port: u16) -> Kamailio {
        Self::start_tls_to(scratch, name, |_| {
            format!("sip:127.0.0.1:{next_hop_port};transport=udp")
        })
    }

    /// Starts Kamailio taking TLS for `name` (and UDP) and relaying every new
    /// call to the SIP URI `next_hop` makes of the directory holding its
    /// certificate and key (`cert.pem`, `key.pem`).
    pub fn start_tls_to(
        scratch: &Path,
        name: &str,
        next_hop: impl FnOnce(&Path) -> String,
    ) -> Kamailio {
        require("openssl", "version");
        let dir = scratch.join("kamailio");
        std::fs::create_dir_all(&dir).unwrap();
        // A test CA, and Kamailio's certificate for `name` signed by it.
        let (ca, ca_key) = (dir.join("ca.pem"), dir.join("ca-key.pem"));
        let (cert, key, csr) = (
            dir.join("cert.pem"),
            dir.join("key.pem"),
            dir.join("cert.csr"),
        );
        let openssl = |args: Vec<String>| {
            let ok = Command::new("openssl")
                .args(&args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("openssl")
                .success();
            assert!(ok, "openssl {args:?} failed");
        };
        let p = |p: &PathBuf| p.display().to_string();
        openssl(
            [
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=voxhire test CA",
            ]
            .map(String::from)
            .into_iter()
            .chain(["-keyout".into(), p(&ca_key), "-out".into(), p(&ca)])
            .collect(),
        );
        openssl(
            ["req", "-newkey", "rsa:2048", "-nodes"]
                .map(String::from)
                .into_iter()
                .chain([
                    "-subj".into(),
                    format!("/CN={name}"),
                    "-keyout".into(),
                    p(&key),
                    "-out".into(),
                    p(&csr),
                ])
                .collect(),
        );
        let ext = dir.join("leaf.ext");
        std::fs::write(
            &ext,
            format!("basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:{name}\nextendedKeyUsage=serverAuth\n"),
        )
        .unwrap();
        openssl(
            ["x509", "-req", "-days", "2", "-CAcreateserial"]
                .map(String::from)
                .into_iter()
                .chain([
                    "-in".into(),
                    p(&csr),
                    "-CA".into(),
                    p(&ca),
                    "-CAkey".into(),
                    p(&ca_key),
                    "-extfile".into(),
                    p(&ext),
                    "-out".into(),
                    p(&cert),
                ])
                .collect(),
        );
        let tls_cfg = dir.join("tls.cfg");
        std::fs::write(
            &tls_cfg,
            format!(
                "[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n\
                 private_key = {}\ncertificate = {}\n\n[client:default]\nmethod = TLSv1.2+\n\
                 verify_certificate = no\nrequire_certificate = no\n",
                key.display(),
                cert.display()
            ),
        )
        .unwrap();
        let (tls_port, udp_port) = (free_tcp_port(), free_udp_port());
        let cfg = std::fs::read_to_string(repo_root().join("tests/kamailio/tls-proxy.cfg"))
            .unwrap()
            .replace("@UDP_PORT@", &udp_port.to_string())
            .replace("@TLS_PORT@", &tls_port.to_string())
            .replace("@TLS_CFG@", &tls_cfg.display().to_string())
            .replace("@NEXT_HOP@", &next_hop(&dir));
        let cfg_path = dir.join("kamailio.cfg");
        std::fs::write(&cfg_path, cfg).unwrap();
        let tls = SocketAddr::from(([127, 0, 0, 1], tls_port));
        let guard = launch(&dir, &cfg_path, &format!("listen on tls {tls}"), || {
            std::net::TcpStream::connect(tls).is_ok()
        });
        Kamailio {
            guard,
            dir,
            addr: tls,
            ca,
            cert,
            key,
            udp: Some(SocketAddr::from(([127, 0, 0, 1], udp_port))),
        }
    }
}

impl Kamailio {
    /// Starts Kamailio as the dispatcher in front of `nodes`
    /// (tests/kamailio/dispatcher.cfg): SIP over UDP on a free loopback port.
    pub fn start_dispatcher(scratch: &Path, nodes: &[SocketAddr]) -> Kamailio {
        let dir = scratch.join("kamailio");
        std::fs::create_dir_all(&dir).unwrap();
        let list = dir.join("dispatcher.list");
        let lines: Vec<String> = nodes.iter().map(|n| format!("1 sip:{n}\n")).collect();
        std::fs::write(&list, lines.concat()).unwrap();
        let port = free_udp_port();
        let cfg = std::fs::read_to_string(repo_root().join("tests/kamailio/dispatcher.cfg"))
            .unwrap()
            .replace("@PORT@", &port.to_string())
            .replace("@LIST@", &list.display().to_string());
        let cfg_path = dir.join("kamailio.cfg");
        std::fs::write(&cfg_path, cfg).unwrap();
        let guard = launch(&dir, &cfg_path, &format!("bind udp {port}"), || {
            super::ports::udp_port_is_bound(port)
        });
        Kamailio {
            guard,
            dir,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            ca: PathBuf::new(),
            cert: PathBuf::new(),
            key: PathBuf::new(),
            udp: Some(SocketAddr::from(([127, 0, 0, 1], port))),
        }
    }
}

impl Kamailio {
    /// Starts Kamailio as a registrar that answers STUN on its SIP port
    /// (tests/kamailio/stun-registrar.cfg), over UDP on a free loopback port.
    pub fn start_stun_registrar(scratch: &Path) -> Kamailio {
        let dir = scratch.join("kamailio");
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_udp_port();
        let cfg = std::fs::read_to_string(repo_root().join("tests/kamailio/stun-registrar.cfg"))
            .unwrap()
            .replace("@UDP_PORT@", &port.to_string());
        let cfg_path = dir.join("kamailio.cfg");
        std::fs::write(&cfg_path, cfg).unwrap();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let guard = launch(&dir, &cfg_path, &format!("bind udp {port}"), || {
            super::ports::udp_port_is_bound(port)
        });
        Kamailio {
            guard,
            dir,
            addr,
            ca: PathBuf::new(),
            cert: PathBuf::new(),
            key: PathBuf::new(),
            udp: Some(addr),
        }
    }
}

impl Drop for Kamailio {
    /// SIGTERM first: Kamailio's main process then stops the children it forked
    /// (a SIGKILL would leave them running, holding their ports).
    fn drop(&mut self) {
        self.guard.signal("TERM");
        if self.guard.wait_timeout(Duration::from_secs(5)).is_none() {
            eprintln!("kamailio did not stop on SIGTERM within 5 s; killing it");
        }
    }
}

/// Starts Kamailio on `cfg` in the foreground, its log in `dir`, and waits
/// (up to 15 s) until `up` says it is serving (`what`, for the failure).
fn launch(dir: &Path, cfg: &Path, what: &str, up: impl Fn() -> bool) -> ChildGuard {
    // (`kamailio version` would start a kamailio on the default config.)
    require("kamailio", "-v");
    let log = std::fs::File::create(dir.join("kamailio.log")).unwrap();
    let mut cmd = Command::new("kamailio");
    cmd.arg("-f")
        .arg(cfg)
        .args(["-DD", "-E", "-m", "64", "-M", "8"])
        .arg("-Y")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    let guard = ChildGuard::spawn("kamailio", &mut cmd);
    let deadline = Instant::now() + Duration::from_secs(15);
    while !up() {
        assert!(
            Instant::now() < deadline,
            "kamailio did not {what}:\n{}",
            super::tail(&dir.join("kamailio.log"), 30)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    guard
}

fn require(tool: &str, version_flag: &str) {
    let found = Command::new(tool)
        .arg(version_flag)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        found,
        "{tool} is required for this test: run scripts/setup.sh (apt packages kamailio kamailio-tls-modules openssl)"
    );
}
