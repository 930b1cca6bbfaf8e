//! Two `MediaSession`s wired back to back over a simulated link, stepped on a
//! virtual clock from one wake-up to the next (quinn-proto's `Pair` idea).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use voxhire_media::{CodecKind, MediaConfig, MediaEvent, MediaSession, Transmit, TransmitKind};

pub const A_RTP: &str = "198.51.100.1:30000";
pub const B_RTP: &str = "203.0.113.2:40000";

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn rtcp_of(rtp: SocketAddr) -> SocketAddr {
    SocketAddr::new(rtp.ip(), rtp.port() + 1)
}

/// One direction of the network.
#[derive(Debug, Clone, Copy)]
pub struct Link {
    pub delay: Duration,
    /// Extra delay, uniform in 0..=jitter, independently per packet.
    pub jitter: Duration,
    pub loss: f64,
    pub duplicate: f64,
}

impl Link {
    pub fn clean() -> Self {
        Self {
            delay: Duration::from_millis(30),
            jitter: Duration::ZERO,
            loss: 0.0,
            duplicate: 0.0,
        }
    }
}

/// What the link did to one sender's RTP packets.
#[derive(Debug, Default)]
pub struct LinkLog {
    /// Per packet in sending order: was it dropped?
    pub dropped: Vec<bool>,
    pub duplicated: u64,
    pub delivered: u64,
}

impl LinkLog {
    /// Packets dropped between the first and the last that got through: the losses
    /// a receiver can know about.
    pub fn detectable_losses(&self) -> u64 {
        let first = self.dropped.iter().position(|&d| !d).unwrap_or(0);
        let last = self.dropped.iter().rposition(|&d| !d).unwrap_or(0);
        self.dropped[first..=last].iter().filter(|&&d| d).count() as u64
    }
}

pub struct Peer {
    pub session: MediaSession,
    /// Where its sockets are, as the other side sees them.
    pub rtp: SocketAddr,
    pub events: Vec<MediaEvent>,
    /// Every RTP datagram it sent, in order.
    pub sent_rtp: Vec<Vec<u8>>,
    pub sent_rtcp: Vec<Vec<u8>>,
    link: Link,
    pub log: LinkLog,
}

impl Peer {
    pub fn audio(&self) -> Vec<i16> {
        self.events
            .iter()
            .filter_map(|e| match e {
                MediaEvent::Audio(frame) => Some(frame.as_slice()),
                _ => None,
            })
            .flatten()
            .copied()
            .collect()
    }

    pub fn digits(&self) -> String {
        self.events
            .iter()
            .filter_map(|e| match e {
                MediaEvent::Dtmf { digit, .. } => Some(*digit),
                _ => None,
            })
            .collect()
    }
}

struct InFlight {
    to: SocketAddr,
    from: SocketAddr,
    kind: TransmitKind,
    payload: Vec<u8>,
}

pub struct Pair {
    pub a: Peer,
    pub b: Peer,
    pub now: Instant,
    rng: StdRng,
    /// Datagrams on the wire, by (delivery time, send order).
    wire: BinaryHeap<Reverse<(Instant, u64)>>,
    in_flight: HashMap<u64, InFlight>,
    sent: u64,
    /// Datagrams sent to addresses nobody listens on, by destination.
    pub unroutable: BTreeMap<SocketAddr, u64>,
}

impl Pair {
    /// Both sides use `codec` with telephone-event on payload type 101.
    pub fn new(codec: CodecKind, a_to_b: Link, b_to_a: Link, seed: u64) -> Self {
        let start = Instant::now();
        let config = |remote: &str, seed| MediaConfig {
            dtmf_payload_type: Some(101),
            ..MediaConfig::new(codec, addr(remote), seed, SystemTime::now())
        };
        Self::with_configs(
            config(B_RTP, seed),
            config(A_RTP, seed + 1),
            a_to_b,
            b_to_a,
            start,
        )
    }

    pub fn with_configs(
        a: MediaConfig,
        b: MediaConfig,
        a_to_b: Link,
        b_to_a: Link,
        start: Instant,
    ) -> Self {
        let peer = |cfg: MediaConfig, rtp: &str, link| Peer {
            session: MediaSession::new(cfg, start).unwrap(),
            rtp: addr(rtp),
            events: Vec::new(),
            sent_rtp: Vec::new(),
            sent_rtcp: Vec::new(),
            link,
            log: LinkLog::default(),
        };
        Self {
            a: peer(a, A_RTP, a_to_b),
            b: peer(b, B_RTP, b_to_a),
            now: start,
            rng: StdRng::seed_from_u64(7),
            wire: BinaryHeap::new(),
            in_flight: HashMap::new(),
            sent: 0,
            unroutable: BTreeMap::new(),
        }
    }

    /// Advances to the next wake-up or delivery, if it is not past `deadline`.
    pub fn step(&mut self, deadline: Instant) -> bool {
        let next = [
            self.a.session.poll_timeout(),
            self.b.session.poll_timeout(),
            self.wire.peek().map(|Reverse((at, _))| *at),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(next) = next.filter(|&t| t <= deadline) else {
            return false;
        };
        self.now = next;
        while let Some(&Reverse((at, id))) = self.wire.peek() {
            if at > self.now {
                break;
            }
            self.wire.pop();
            let d = self.in_flight.remove(&id).unwrap();
            self.deliver(d);
        }
        let now = self.now;
        for side in [Side::A, Side::B] {
            let peer = self.peer(side);
            if peer.session.poll_timeout().is_some_and(|t| t <= now) {
                peer.session.handle_timeout(now);
            }
            self.drain(side);
        }
        true
    }

    pub fn run_for(&mut self, d: Duration) {
        let deadline = self.now + d;
        while self.step(deadline) {}
        self.now = deadline;
    }

    fn peer(&mut self, side: Side) -> &mut Peer {
        match side {
            Side::A => &mut self.a,
            Side::B => &mut self.b,
        }
    }

    fn deliver(&mut self, d: InFlight) {
        let now = self.now;
        let target = [&mut self.a, &mut self.b].into_iter().find(|p| {
            (d.kind == TransmitKind::Rtp && d.to == p.rtp)
                || (d.kind == TransmitKind::Rtcp && d.to == rtcp_of(p.rtp))
        });
        match target {
            Some(p) if d.kind == TransmitKind::Rtp => p.session.handle_rtp(now, d.from, &d.payload),
            Some(p) => p.session.handle_rtcp(now, d.from, &d.payload),
            None => *self.unroutable.entry(d.to).or_default() += 1,
        }
    }

    /// Puts a peer's outgoing datagrams on the wire and collects its events.
    fn drain(&mut self, side: Side) {
        let now = self.now;
        let mut outgoing = Vec::new();
        let peer = self.peer(side);
        while let Some(t) = peer.session.poll_transmit() {
            outgoing.push(t);
        }
        while let Some(e) = peer.session.poll_event() {
            peer.events.push(e);
        }
        for t in outgoing {
            self.send(side, now, t);
        }
    }

    fn send(&mut self, side: Side, now: Instant, t: Transmit) {
        let (from_rtp, link) = {
            let p = self.peer(side);
            (p.rtp, p.link)
        };
        let from = match t.kind {
            TransmitKind::Rtp => from_rtp,
            TransmitKind::Rtcp => rtcp_of(from_rtp),
        };
        let lost = self.rng.random_bool(link.loss);
        let copies = if self.rng.random_bool(link.duplicate) {
            2
        } else {
            1
        };
        let peer = self.peer(side);
        match t.kind {
            TransmitKind::Rtp => peer.sent_rtp.push(t.payload.clone()),
            TransmitKind::Rtcp => peer.sent_rtcp.push(t.payload.clone()),
        }
        if t.kind == TransmitKind::Rtp {
            peer.log.dropped.push(lost);
            if !lost {
                peer.log.delivered += 1;
                peer.log.duplicated += copies - 1;
            }
        }
        if lost {
            return;
        }
        for _ in 0..copies {
            let extra = link.jitter.mul_f64(self.rng.random_range(0.0..=1.0));
            let id = self.sent;
            self.sent += 1;
            self.wire.push(Reverse((now + link.delay + extra, id)));
            self.in_flight.insert(
                id,
                InFlight {
                    to: t.dst,
                    from,
                    kind: t.kind,
                    payload: t.payload.clone(),
                },
            );
        }
    }
}

#[derive(Clone, Copy)]
enum Side {
    A,
    B,
}
