//! A `MediaSession` fed the input as RTP and RTCP datagrams on a virtual clock.
//!
//! Input: byte 0 picks the codec (PCMU, PCMA, Opus); then records of
//! `[control, len, len bytes]` (a short last record takes what is left). `control`
//! bits 0–1 pick what the record is:
//! - 0: a raw datagram on the RTP socket (RTCP multiplexed there is demuxed, RFC 5761);
//! - 1: a raw datagram on the RTCP socket;
//! - 2: an RTP packet built here, `[seq hi, seq lo, timestamp step, flags, payload…]`
//!   with flags bit 0 marker, bit 1 telephone-event PT, bit 2 a second SSRC, bit 3
//!   from a second source address — sequences the fuzzer could hardly hit raw;
//! - 3: an application action, by the first data byte: queue 100 ms of audio, send a
//!   DTMF digit, `set_remote`, `clear_queued_audio`, `bye`.
//!
//! Bits 2–7 of `control` advance the clock by that many 2 ms steps before the record.
//!
//! Properties: no panic, no hang; right after `handle_timeout(now)`, `poll_timeout()`
//! is later than `now`; every `Audio` event is one 160-sample frame; every datagram
//! the session sends parses (RTP with our SSRC and a negotiated payload type, or an
//! RTCP compound).
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use voxhire_media::rtcp::parse_compound;
use voxhire_media::rtp::{RtpHeader, RtpPacket};
use voxhire_media::{CodecKind, MediaConfig, MediaEvent, MediaSession, TransmitKind};

const DTMF_PT: u8 = 101;
const MAX_RECORDS: usize = 256;

/// Checks the properties above on one input; panics on a violation.
pub fn check(data: &[u8]) {
    let Some((&codec_byte, mut rest)) = data.split_first() else {
        return;
    };
    let codec = [CodecKind::Pcmu, CodecKind::Pcma, CodecKind::Opus][usize::from(codec_byte % 3)];
    let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    let other: SocketAddr = "127.0.0.1:41000".parse().unwrap();
    let mut cfg = MediaConfig::new(
        codec,
        peer,
        7,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    );
    cfg.dtmf_payload_type = Some(DTMF_PT);
    let (ssrc, pt) = (cfg.ssrc, cfg.payload_type);
    let start = Instant::now();
    let mut h = Run {
        session: MediaSession::new(cfg, start).expect("valid config"),
        now: start,
        ssrc,
        pt,
    };
    let step = codec.rtp_timestamp_step();
    let mut timestamp = 0x8000_0000u32;

    for _ in 0..MAX_RECORDS {
        let [control, len, tail @ ..] = rest else {
            break;
        };
        let n = usize::from(*len).min(tail.len());
        let (body, more) = tail.split_at(n);
        rest = more;
        h.advance(Duration::from_millis(2 * u64::from(control >> 2)));
        match control & 3 {
            0 => h.session.handle_rtp(h.now, peer, body),
            1 => h.session.handle_rtcp(h.now, peer, body),
            2 => {
                let [seq_hi, seq_lo, ts_step, flags, payload @ ..] = body else {
                    continue;
                };
                timestamp = timestamp.wrapping_add(u32::from(*ts_step) * step / 8);
                let header = RtpHeader {
                    marker: flags & 1 != 0,
                    payload_type: if flags & 2 != 0 { DTMF_PT } else { pt },
                    sequence_number: u16::from_be_bytes([*seq_hi, *seq_lo]),
                    timestamp,
                    ssrc: if flags & 4 != 0 {
                        0x0bad_cafe
                    } else {
                        0x1234_5678
                    },
                    csrc: vec![],
                };
                let src = if flags & 8 != 0 { other } else { peer };
                h.session.handle_rtp(h.now, src, &header.serialize(payload));
            }
            _ => match body.first().map(|b| b % 5) {
                Some(0) => h.session.queue_audio(&[1000i16; 800]),
                Some(1) => {
                    let _ = h.session.send_dtmf('5', Duration::from_millis(100));
                }
                Some(2) => h.session.set_remote(other),
                Some(3) => h.session.clear_queued_audio(),
                Some(_) => h.session.bye(h.now),
                None => {}
            },
        }
        h.drain();
    }
    // Two more seconds of ticks, RTCP reports and DTMF timeouts.
    for _ in 0..100 {
        h.advance(Duration::from_millis(20));
    }
    let _ = h.session.stats();
}

struct Run {
    session: MediaSession,
    now: Instant,
    ssrc: u32,
    pt: u8,
}

impl Run {
    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.session.handle_timeout(self.now);
        if let Some(next) = self.session.poll_timeout() {
            assert!(
                next > self.now,
                "poll_timeout() still due right after handle_timeout(now)"
            );
        }
        self.drain();
    }

    fn drain(&mut self) {
        while let Some(t) = self.session.poll_transmit() {
            match t.kind {
                TransmitKind::Rtp => {
                    let p = RtpPacket::parse(&t.payload).expect("our RTP parses");
                    assert_eq!(p.header.ssrc, self.ssrc);
                    assert!(
                        p.header.payload_type == self.pt || p.header.payload_type == DTMF_PT,
                        "sent PT {}",
                        p.header.payload_type
                    );
                }
                TransmitKind::Rtcp => {
                    parse_compound(&t.payload).expect("our RTCP parses");
                }
            }
        }
        while let Some(ev) = self.session.poll_event() {
            if let MediaEvent::Audio(frame) = ev {
                assert_eq!(frame.len(), 160, "an Audio event is one 20 ms frame");
            }
        }
        let _ = self.session.stats();
    }
}
