//! Free loopback UDP ports for SIP, SIPp media and voxhire's RTP range.
//!
//! A port is "free" if we can bind it on 127.0.0.1 right now; the socket is
//! dropped before the port is handed to a child process. Ports handed out in
//! this process are remembered so that tests running in parallel threads never
//! get the same one twice.

use std::collections::BTreeSet;
use std::net::UdpSocket;
use std::sync::Mutex;

static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

fn bindable(port: u16) -> bool {
    UdpSocket::bind(("127.0.0.1", port)).is_ok()
}

fn claim(ports: impl IntoIterator<Item = u16> + Clone) -> bool {
    let mut taken = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    if ports.clone().into_iter().any(|p| taken.contains(&p)) {
        return false;
    }
    taken.extend(ports);
    true
}

/// One free UDP port chosen by the kernel (bind 127.0.0.1:0, read, drop).
pub fn free_udp_port() -> u16 {
    for _ in 0..100 {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = sock.local_addr().expect("local_addr").port();
        drop(sock);
        if claim([port]) {
            return port;
        }
    }
    panic!("no free UDP port on 127.0.0.1 after 100 tries");
}

/// One free TCP port chosen by the kernel (listen on 127.0.0.1:0, read, drop).
#[allow(dead_code)]
pub fn free_tcp_port() -> u16 {
    for _ in 0..100 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local_addr").port();
        drop(listener);
        if claim([port]) {
            return port;
        }
    }
    panic!("no free TCP port on 127.0.0.1 after 100 tries");
}

/// An even port `p` with `p..=p+3` free: SIPp's `-mp` binds the audio socket
/// on `p` and the "video" socket on `p + 2`; `p + 1` is left for RTCP.
pub fn free_media_port() -> u16 {
    for _ in 0..200 {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = sock.local_addr().expect("local_addr").port() & !1;
        drop(sock);
        if !(1024..=u16::MAX - 4).contains(&port) {
            continue;
        }
        if (port..port + 4).all(bindable) && claim(port..port + 4) {
            return port;
        }
    }
    panic!("no free even UDP port quadruple on 127.0.0.1");
}

/// A block of `len` consecutive free ports for `voxhire serve --rtp-ports`,
/// taken below the Linux ephemeral range (32768+) so that kernel-chosen ports
/// (SIPp, `voxhire call`) cannot land inside it while the test runs.
pub fn free_port_range(len: u16) -> (u16, u16) {
    let seed = std::process::id() as u32
        ^ (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0));
    let span = 30000u32 - 20000 - len as u32;
    for i in 0..200u32 {
        let lo = (20000 + (seed.wrapping_add(i.wrapping_mul(7919)) % span)) as u16 & !1;
        let hi = lo + len - 1;
        if (lo..=hi).all(bindable) && claim(lo..=hi) {
            return (lo, hi);
        }
    }
    panic!("no free block of {len} UDP ports in 20000-30000 on 127.0.0.1");
}

/// True once some process has a UDP socket bound to `port` (any local
/// address), read from /proc/net/udp{,6} so we never race the owner's bind.
pub fn udp_port_is_bound(port: u16) -> bool {
    let needle = format!(":{port:04X} ");
    ["/proc/net/udp", "/proc/net/udp6"].iter().any(|table| {
        std::fs::read_to_string(table)
            .map(|text| {
                text.lines().skip(1).any(|line| {
                    line.split_whitespace()
                        .nth(1)
                        .map(|local| format!("{local} ").ends_with(&needle))
                        .unwrap_or(false)
                })
            })
            .unwrap_or(false)
    })
}
