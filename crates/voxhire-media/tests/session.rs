//! `MediaSession` scenarios on a virtual clock: pacing, two sessions over a lossy
//! link, DTMF, garbage input, latching, barge-in and BYE.

mod pair;

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use pair::{addr, Link, Pair, A_RTP, B_RTP};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use voxhire_media::rtcp::{self, RtcpPacket};
use voxhire_media::rtp::{RtpHeader, RtpPacket};
use voxhire_media::{g711, CodecKind, MediaConfig, MediaEvent, MediaSession, TransmitKind, PTIME};

const MS: Duration = Duration::from_millis(1);

fn session(codec: CodecKind, now: Instant) -> MediaSession {
    let cfg = MediaConfig {
        dtmf_payload_type: Some(101),
        ..MediaConfig::new(codec, addr(B_RTP), 1, SystemTime::now())
    };
    MediaSession::new(cfg, now).unwrap()
}

fn rtp_sent(s: &mut MediaSession) -> Vec<Vec<u8>> {
    std::iter::from_fn(|| s.poll_transmit())
        .filter(|t| t.kind == TransmitKind::Rtp)
        .map(|t| t.payload)
        .collect()
}

fn headers(packets: &[Vec<u8>]) -> Vec<RtpHeader> {
    packets
        .iter()
        .map(|p| RtpPacket::parse(p).unwrap().header)
        .collect()
}

#[test]
fn pacing_over_10000_ticks_has_zero_drift() {
    let start = Instant::now();
    let mut s = session(CodecKind::Pcmu, start);
    let cfg_seq = headers(&rtp_sent(&mut s))
        .first()
        .map(|h| h.sequence_number);
    assert_eq!(cfg_seq, None, "nothing is sent before the first timeout");
    let mut rng = StdRng::seed_from_u64(3);
    let mut sent = Vec::new();
    while sent.len() < 10_000 {
        let wake = s.poll_timeout().unwrap();
        // The caller's timer fires up to 15 ms late, as a loaded host's would.
        let now = wake + rng.random_range(0..15) * MS;
        s.handle_timeout(now);
        for p in rtp_sent(&mut s) {
            sent.push((now, p));
        }
        while s.poll_event().is_some() {}
    }
    let h = headers(&sent.iter().map(|(_, p)| p.clone()).collect::<Vec<_>>());
    let (seq0, ts0) = (h[0].sequence_number, h[0].timestamp);
    for (k, ((sent_at, _), h)) in sent.iter().zip(&h).enumerate() {
        let k = k as u32;
        assert_eq!(h.sequence_number, seq0.wrapping_add(k as u16));
        assert_eq!(h.timestamp, ts0.wrapping_add(160 * k));
        assert!(
            *sent_at >= start + PTIME * k,
            "packet {k} sent before its tick"
        );
        assert!(*sent_at < start + PTIME * (k + 1), "packet {k} sent late");
    }
    // The schedule is still exactly on the 20 ms grid.
    let next_tick = start + PTIME * h.len() as u32;
    assert!(s.poll_timeout().unwrap() <= next_tick);
    assert_eq!(s.stats().skipped_ticks, 0);
}

#[test]
fn a_late_caller_catches_up_three_frames_and_keeps_the_timestamp_on_the_clock() {
    let start = Instant::now();
    let mut s = session(CodecKind::Pcmu, start);
    s.handle_timeout(start);
    let first = headers(&rtp_sent(&mut s));
    assert_eq!(first.len(), 1);
    assert!(first[0].marker, "marker on the first packet of the stream");

    // 50 ms late: ticks 1 and 2 are due and both go out.
    s.handle_timeout(start + 50 * MS);
    assert_eq!(headers(&rtp_sent(&mut s)).len(), 2);

    // A one-second stall: ticks 3..=53 are due; only the last three are sent.
    s.handle_timeout(start + 1070 * MS);
    let burst = headers(&rtp_sent(&mut s));
    assert_eq!(burst.len(), 3);
    for (i, h) in burst.iter().enumerate() {
        let tick = 51 + i as u32;
        assert_eq!(h.timestamp, first[0].timestamp.wrapping_add(160 * tick));
        assert_eq!(
            h.sequence_number,
            first[0].sequence_number.wrapping_add(3 + i as u16)
        );
        assert_eq!(h.marker, i == 0, "marker flags the timestamp jump");
    }
    assert_eq!(s.stats().skipped_ticks, 48);
    assert_eq!(s.poll_timeout(), Some(start + 54 * PTIME));
}

#[test]
fn audio_crosses_a_clean_link_bit_exact() {
    let mut pair = Pair::new(CodecKind::Pcma, Link::clean(), Link::clean(), 10);
    let speech: Vec<i16> = (0..8000)
        .map(|i| (9000.0 * (i as f64 * 0.07).sin() * (i as f64 * 0.0011).cos()) as i16)
        .collect();
    pair.a.session.queue_audio(&speech);
    assert_eq!(pair.a.session.queued_audio_ms(), 1000);
    pair.run_for(Duration::from_millis(1500));
    assert_eq!(pair.a.session.queued_audio_ms(), 0);

    let heard = pair.b.audio();
    assert_eq!(heard.len(), 76 * 160, "one frame per tick, ticks 0..=75");
    let expected: Vec<i16> = speech
        .iter()
        .map(|&s| g711::alaw_to_linear(g711::linear_to_alaw(s)))
        .collect();
    let onset = heard.iter().position(|&s| s.abs() > 8).unwrap();
    let expected_onset = expected.iter().position(|&s| s.abs() > 8).unwrap();
    assert_eq!(
        &heard[onset..onset + 7000],
        &expected[expected_onset..expected_onset + 7000]
    );
    // 30 ms on the wire plus the jitter buffer's 60 ms, rounded to ticks.
    let delay_ms = (onset - expected_onset) / 8;
    assert!((80..=120).contains(&delay_ms), "{delay_ms} ms");
    let stats = pair.b.session.stats();
    assert_eq!((stats.lost, stats.concealed, stats.duplicates), (0, 0, 0));
}

#[test]
fn opus_audio_survives_loss_with_concealment() {
    let lossy = Link {
        loss: 0.05,
        ..Link::clean()
    };
    let mut pair = Pair::new(CodecKind::Opus, lossy, Link::clean(), 50);
    let tone: Vec<i16> = (0..16_000)
        .map(|i| (8000.0 * (i as f64 * 2.0 * std::f64::consts::PI * 440.0 / 8000.0).sin()) as i16)
        .collect();
    pair.a.session.queue_audio(&tone);
    pair.run_for(Duration::from_millis(2200));
    let heard = pair.b.audio();
    let rms =
        |x: &[i16]| (x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len() as f64).sqrt();
    // The middle second: lost frames are concealed, so the level holds within 3 dB.
    let (sent, got) = (rms(&tone[4000..12_000]), rms(&heard[5000..13_000]));
    assert!((0.7..1.4).contains(&(got / sent)), "rms {got} vs {sent}");
    let stats = pair.b.session.stats();
    assert!(stats.lost > 0 && stats.concealed >= stats.lost);
    assert_eq!(stats.decode_errors, 0);
}

#[test]
fn loss_duplication_and_jitter_are_measured_on_a_bad_link() {
    let bad = Link {
        delay: Duration::from_millis(30),
        jitter: Duration::from_millis(30),
        loss: 0.05,
        duplicate: 0.1,
    };
    let mut pair = Pair::new(CodecKind::Pcmu, bad, bad, 20);
    pair.a.session.queue_audio(&vec![3000; 8000 * 60]);
    pair.run_for(Duration::from_secs(60));
    // Stop A and let the wire drain.
    let now = pair.now;
    pair.a.session.bye(now);
    pair.run_for(Duration::from_millis(200));

    let b = pair.b.session.stats();
    let log = &pair.a.log;
    assert!(log.detectable_losses() > 100, "the link really was lossy");
    assert_eq!(b.lost, log.detectable_losses());
    assert_eq!(b.received, log.delivered);
    assert_eq!(b.duplicates, log.duplicated);
    // Independent uniform 0–30 ms delays: E|D| = 30/3 = 10 ms (RFC 3550 A.8).
    assert!((7.0..13.0).contains(&b.jitter_ms), "jitter {}", b.jitter_ms);
    assert!(
        b.playout_delay_ms > 40.0,
        "the adaptive target grew with the jitter"
    );
    assert!(b.concealed >= b.lost.saturating_sub(b.late));

    // A learned the same from B's reports (the last one is up to ~7.5 s old).
    let a = pair.a.session.stats();
    let remote = a.remote.expect("B sent reception reports");
    assert!(
        (remote.cumulative_lost - b.lost as i64).abs() < 40,
        "{remote:?} vs {}",
        b.lost
    );
    assert!((0.0..0.15).contains(&remote.fraction_lost));
    assert!((5.0..15.0).contains(&remote.jitter_ms), "{remote:?}");
    let rtt = a.rtt_ms.expect("RTT from LSR/DLSR");
    assert!((60.0..=125.0).contains(&rtt), "rtt {rtt}");
    assert!(a.rtcp_sent >= 8 && b.rtcp_received >= 6);
}

#[test]
fn dtmf_end_to_end_reports_each_digit_once() {
    let flaky = Link {
        delay: Duration::from_millis(40),
        jitter: Duration::from_millis(20),
        loss: 0.1,
        duplicate: 0.2,
    };
    let mut pair = Pair::new(CodecKind::Opus, flaky, Link::clean(), 30);
    for d in "159#*0D".chars() {
        pair.a
            .session
            .send_dtmf(d, Duration::from_millis(120))
            .unwrap();
    }
    pair.run_for(Duration::from_secs(3));
    assert_eq!(pair.b.digits(), "159#*0D");
    for e in &pair.b.events {
        if let MediaEvent::Dtmf { duration, .. } = e {
            assert!(
                *duration <= Duration::from_millis(120) && *duration >= Duration::from_millis(60)
            );
        }
    }
    // Event packets are not audio, so they are neither losses nor jitter.
    assert!(pair.b.session.stats().jitter_ms < 10.0);
}

#[test]
fn dtmf_needs_negotiation_and_valid_digits() {
    let now = Instant::now();
    let cfg = MediaConfig::new(CodecKind::Pcmu, addr(B_RTP), 1, SystemTime::now());
    let mut s = MediaSession::new(cfg, now).unwrap();
    assert!(s.send_dtmf('1', Duration::from_millis(100)).is_err());
    let mut s = session(CodecKind::Pcmu, now);
    assert!(s.send_dtmf('x', Duration::from_millis(100)).is_err());
    assert!(s.send_dtmf('1', Duration::from_secs(5)).is_err());
    assert!(s.send_dtmf('1', Duration::from_millis(100)).is_ok());
}

#[test]
fn garbage_datagrams_are_counted_and_never_panic() {
    let now = Instant::now();
    let mut s = session(CodecKind::Pcmu, now);
    let src = addr(B_RTP);
    let mut rng = StdRng::seed_from_u64(99);
    let mut fed = 0;
    for len in 0..200 {
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        if let Some(b) = bytes.first_mut() {
            *b &= 0x7f; // version 0 or 1: never valid RTP or RTCP
        }
        s.handle_rtp(now, src, &bytes);
        s.handle_rtcp(now, src, &bytes);
        fed += 2;
    }
    // Well-formed RTP with a payload type nobody negotiated (comfort noise).
    let cn = RtpHeader {
        marker: false,
        payload_type: 13,
        sequence_number: 1,
        timestamp: 0,
        ssrc: 5,
        csrc: vec![],
    };
    s.handle_rtp(now, src, &cn.serialize(&[0x40]));
    fed += 1;
    assert_eq!(s.stats().invalid, fed);
    assert_eq!(s.stats().received, 0);
    assert!(s.poll_event().is_none(), "garbage latches nothing");

    // Unconstrained random bytes: no assertion on counts, only that nothing panics
    // and the session keeps running.
    for _ in 0..20_000 {
        let len = rng.random_range(0..300);
        let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        s.handle_rtp(now, src, &bytes);
        s.handle_rtcp(now, src, &bytes);
    }
    s.handle_timeout(now + Duration::from_secs(1));
    assert!(s.poll_transmit().is_some());
}

#[test]
fn latches_to_the_source_of_the_first_packet() {
    // B was told (say, by an SDP behind NAT) to send to a private address that is
    // unreachable; A's media really comes from its public address.
    let start = Instant::now();
    let private = addr("10.0.0.5:4000");
    let a = MediaConfig::new(CodecKind::Pcmu, addr(B_RTP), 1, SystemTime::now());
    let b = MediaConfig::new(CodecKind::Pcmu, private, 2, SystemTime::now());
    let mut pair = Pair::with_configs(a, b, Link::clean(), Link::clean(), start);
    pair.run_for(Duration::from_millis(500));

    let latched: Vec<SocketAddr> = pair
        .b
        .events
        .iter()
        .filter_map(|e| match e {
            MediaEvent::RemoteLatched(a) => Some(*a),
            _ => None,
        })
        .collect();
    assert_eq!(latched, [addr(A_RTP)], "latched once");
    // Until A's first packet arrived (30 ms), B's packets went to the private address.
    assert_eq!(pair.unroutable.get(&private), Some(&2));
    let a_stats = pair.a.session.stats();
    assert!(a_stats.received >= 20, "B now reaches A: {a_stats:?}");

    // A third party's packets are not played.
    let now = pair.now;
    let intruder = RtpHeader {
        marker: false,
        payload_type: 0,
        sequence_number: 9,
        timestamp: 0,
        ssrc: 0xbad,
        csrc: vec![],
    };
    pair.b
        .session
        .handle_rtp(now, addr("192.0.2.66:5000"), &intruder.serialize(&[0; 160]));
    assert_eq!(pair.b.session.stats().foreign_source, 1);

    // RTCP follows the latched address: A's RTCP port (RTP + 1).
    pair.run_for(Duration::from_secs(6));
    assert!(!pair.b.sent_rtcp.is_empty());
    assert!(
        pair.unroutable.keys().all(|&a| a == private),
        "{:?}",
        pair.unroutable
    );
}

#[test]
fn barge_in_silences_the_next_packet() {
    let start = Instant::now();
    let mut s = session(CodecKind::Pcmu, start);
    s.queue_audio(&vec![10_000; 8000]);
    s.handle_timeout(start + 40 * MS);
    let talking = rtp_sent(&mut s);
    assert!(talking
        .iter()
        .all(|p| RtpPacket::parse(p).unwrap().payload[0] != 0xff));
    assert_eq!(s.queued_audio_ms(), 1000 - 60);
    s.clear_queued_audio();
    assert_eq!(s.queued_audio_ms(), 0);
    s.handle_timeout(start + 60 * MS);
    let quiet = rtp_sent(&mut s);
    assert_eq!(quiet.len(), 1);
    assert!(RtpPacket::parse(&quiet[0])
        .unwrap()
        .payload
        .iter()
        .all(|&b| b == 0xff));
}

#[test]
fn bye_sends_rtcp_bye_and_the_peer_hears_it() {
    let mut pair = Pair::new(CodecKind::Pcmu, Link::clean(), Link::clean(), 40);
    pair.run_for(Duration::from_millis(200));
    let now = pair.now;
    pair.a.session.bye(now);
    assert_eq!(pair.a.session.poll_timeout(), None);
    pair.run_for(Duration::from_millis(100));
    let last = rtcp::parse_compound(pair.a.sent_rtcp.last().unwrap()).unwrap();
    assert!(matches!(last[0], RtcpPacket::SenderReport { .. }));
    assert!(matches!(last[1], RtcpPacket::SourceDescription(_)));
    assert!(matches!(last[2], RtcpPacket::Bye { .. }));
    assert!(pair.b.events.contains(&MediaEvent::RemoteBye));
    assert!(pair
        .a
        .session
        .send_dtmf('1', Duration::from_millis(100))
        .is_err());
}

#[test]
fn a_new_remote_ssrc_carries_on_playing() {
    let start = Instant::now();
    let mut b = session(CodecKind::Pcmu, start);
    let src = addr(A_RTP);
    let packet = |ssrc, seq: u16, k: u32| {
        RtpHeader {
            marker: false,
            payload_type: 0,
            sequence_number: seq,
            timestamp: k * 160,
            ssrc,
            csrc: vec![],
        }
        .serialize(&g711::encode_ulaw(&[5000; 160]))
    };
    let mut audio_frames = 0;
    for k in 0..100u32 {
        let now = start + PTIME * k;
        // Halfway through, the peer (a PBX after a transfer) switches SSRC and
        // sequence space.
        let (ssrc, seq) = if k < 50 {
            (1, 100 + k as u16)
        } else {
            (2, 40_000 + k as u16)
        };
        b.handle_rtp(now, src, &packet(ssrc, seq, k));
        b.handle_timeout(now);
        while let Some(e) = b.poll_event() {
            if matches!(&e, MediaEvent::Audio(f) if f[0] != 0) {
                audio_frames += 1;
            }
        }
    }
    let stats = b.stats();
    assert_eq!((stats.received, stats.lost, stats.invalid), (100, 0, 0));
    assert!(audio_frames >= 90, "{audio_frames}");
}

#[test]
fn a_reinvite_moves_the_remote_and_media_latches_again() {
    let start = Instant::now();
    let mut s = session(CodecKind::Pcmu, start);
    let packet = |seq| {
        RtpHeader {
            marker: false,
            payload_type: 0,
            sequence_number: seq,
            timestamp: u32::from(seq) * 160,
            ssrc: 9,
            csrc: vec![],
        }
        .serialize(&[0xff; 160])
    };
    let dst = |s: &mut MediaSession| -> Vec<SocketAddr> {
        std::iter::from_fn(|| s.poll_transmit())
            .map(|t| t.dst)
            .collect()
    };
    s.handle_rtp(start, addr(A_RTP), &packet(1));
    s.handle_timeout(start);
    assert_eq!(dst(&mut s), [addr(A_RTP)]);

    // The re-INVITE's SDP names a new address; RTP follows at once.
    let moved = addr("192.0.2.9:6000");
    s.set_remote(moved);
    s.handle_timeout(start + PTIME);
    assert_eq!(dst(&mut s), [moved]);
    // Its media arrives from a NATed port: latching applies again.
    let natted = addr("192.0.2.9:61000");
    s.handle_rtp(start + PTIME, natted, &packet(2));
    s.handle_timeout(start + PTIME * 2);
    assert_eq!(dst(&mut s), [natted]);
    let latched: Vec<_> = std::iter::from_fn(|| s.poll_event())
        .filter_map(|e| match e {
            MediaEvent::RemoteLatched(a) => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(latched, [addr(A_RTP), natted]);
    assert_eq!(s.stats().received, 2);
}
