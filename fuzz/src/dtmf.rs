//! RFC 4733 telephone-events: `TelephoneEvent::parse`, the `DtmfReceiver` fed
//! arbitrary packets, and a `DtmfSender` → `DtmfReceiver` loopback.
//!
//! Input: the whole input is one payload for `TelephoneEvent::parse`; read as 9-byte
//! records (RTP timestamp u32 BE, 4 payload bytes, a clock step in 2 ms units) it is a
//! packet sequence for a receiver; read as bytes it is a list of digits to send.
//!
//! Properties: no panic; parse → to_bytes → parse is the identity; the receiver
//! only reports DTMF digits, with durations a 16-bit field at 8 kHz can hold; every
//! digit a sender emits over a lossless path is received exactly once, in order,
//! with the duration the sender signalled.

use std::time::{Duration, Instant};

use voxhire_media::dtmf::{DtmfReceiver, DtmfSender, TelephoneEvent};

const DIGITS: &[u8; 16] = b"0123456789*#ABCD";
const CLOCK: u32 = 8000;

/// Checks the properties above on one input; panics on a violation.
pub fn check(data: &[u8]) {
    if let Ok(ev) = TelephoneEvent::parse(data) {
        let again = TelephoneEvent::parse(&ev.to_bytes()).expect("4 bytes parse");
        assert_eq!(again, ev);
        assert!(ev.volume < 64);
    }

    // Arbitrary packets into a receiver.
    let start = Instant::now();
    let mut now = start;
    let mut rx = DtmfReceiver::new(CLOCK);
    for rec in data.chunks_exact(9) {
        let ts = u32::from_be_bytes([rec[0], rec[1], rec[2], rec[3]]);
        let _ = rx.handle_packet(now, ts, &rec[4..8]);
        now += Duration::from_millis(2 * u64::from(rec[8]));
        rx.handle_timeout(now);
        while let Some(d) = rx.poll_digit() {
            assert!(DIGITS.contains(&(d.digit as u8)), "{:?}", d.digit);
            assert!(d.duration <= Duration::from_secs_f64(65_535.0 / f64::from(CLOCK)));
        }
    }
    rx.handle_timeout(now + Duration::from_secs(1));
    while rx.poll_digit().is_some() {}

    // Sender → receiver over a lossless path.
    let mut tx = DtmfSender::new(CLOCK);
    let mut sent = Vec::new();
    for pair in data.chunks_exact(2).take(16) {
        let digit = char::from(DIGITS[usize::from(pair[0] & 0x0f)]);
        let ms = 40 + u64::from(pair[1]) * 960 / 255; // 40 ms ..= 1 s
        tx.queue(digit, Duration::from_millis(ms))
            .expect("in-range digit and duration");
        sent.push((digit, ms));
    }
    let mut rx = DtmfReceiver::new(CLOCK);
    let mut got = Vec::new();
    let mut timestamp = 0x7fff_ff00u32; // crosses the i32 sign boundary on the way
    let mut now = start;
    let mut ticks = 0;
    while !tx.is_idle() {
        ticks += 1;
        assert!(ticks < 16 * 60, "sender never goes idle");
        if let Some(p) = tx.next_packet(timestamp) {
            rx.handle_packet(now, p.timestamp, &p.payload)
                .expect("our own packet parses");
        }
        timestamp = timestamp.wrapping_add(CLOCK / 50);
        now += Duration::from_millis(20);
        rx.handle_timeout(now);
        got.extend(std::iter::from_fn(|| rx.poll_digit()));
    }
    rx.handle_timeout(now + Duration::from_secs(1));
    got.extend(std::iter::from_fn(|| rx.poll_digit()));
    let got_digits: Vec<char> = got.iter().map(|d| d.digit).collect();
    let sent_digits: Vec<char> = sent.iter().map(|&(d, _)| d).collect();
    assert_eq!(got_digits, sent_digits, "digits lost or duplicated");
    for (d, &(_, ms)) in got.iter().zip(&sent) {
        // The sender rounds up to whole 20 ms ticks.
        let expect = ms.div_ceil(20) * 20;
        let got_ms = d.duration.as_secs_f64() * 1000.0;
        assert!(
            (got_ms - expect as f64).abs() < 0.5,
            "duration {got_ms} ms, sent {ms} ms"
        );
    }
}
