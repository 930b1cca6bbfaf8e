//! DTMF as RTP telephone-events (RFC 4733).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     event     |E|R| volume    |          duration             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! All packets of one event carry the event's start timestamp; the first has the
//! marker bit, the duration grows with every packet, and the final packet (E bit) is
//! sent three times (RFC 4733 §2.5.1). Durations and timestamps are in units of the
//! RTP clock of the audio codec the event accompanies (8000 for G.711, 48000 for Opus).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use thiserror::Error;

/// RFC 4733 §2.5.1.4: the end packet is sent this many times.
const END_PACKET_COPIES: u8 = 3;
/// Power level of generated tones, in -dBm0 (RFC 4733 §2.3.4).
const TONE_VOLUME: u8 = 10;
/// An event whose packets stop arriving without any end packet is reported after
/// this long; senders refresh an ongoing event every 20–50 ms.
const LOST_END_TIMEOUT: Duration = Duration::from_millis(300);
/// Shortest digit voxhire sends: RFC 4733 §2.5.1.3 notes receivers need 40 ms.
pub const MIN_DIGIT_DURATION: Duration = Duration::from_millis(40);
/// Longest digit voxhire sends; keeps the 16-bit duration in range at 48 kHz.
pub const MAX_DIGIT_DURATION: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DtmfError {
    #[error("telephone-event payload of {0} bytes, expected at least 4")]
    ShortPayload(usize),
    #[error("{0:?} is not a DTMF digit (0-9, *, #, A-D)")]
    NotADigit(char),
    #[error("DTMF duration {0:?} outside 40 ms ..= 1 s")]
    BadDuration(Duration),
}

/// One telephone-event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code; 0–15 are the DTMF digits.
    pub event: u8,
    pub end: bool,
    /// 0–63, in -dBm0.
    pub volume: u8,
    /// Duration so far, in RTP timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parses the first event of a payload (RFC 2198 redundancy is not used).
    pub fn parse(payload: &[u8]) -> Result<Self, DtmfError> {
        match payload {
            [event, flags, d0, d1, ..] => Ok(Self {
                event: *event,
                end: flags & 0x80 != 0,
                volume: flags & 0x3f,
                duration: u16::from_be_bytes([*d0, *d1]),
            }),
            _ => Err(DtmfError::ShortPayload(payload.len())),
        }
    }

    pub fn to_bytes(self) -> [u8; 4] {
        let [d0, d1] = self.duration.to_be_bytes();
        [
            self.event,
            u8::from(self.end) << 7 | (self.volume & 0x3f),
            d0,
            d1,
        ]
    }
}

/// The RFC 4733 §3.2 event code of a DTMF digit.
pub fn digit_to_event(digit: char) -> Option<u8> {
    match digit.to_ascii_uppercase() {
        // `to_digit(10)` is at most 9.
        d @ '0'..='9' => d.to_digit(10).map(|v| v as u8),
        '*' => Some(10),
        '#' => Some(11),
        d @ 'A'..='D' => Some(12 + (d as u8 - b'A')),
        _ => None,
    }
}

/// The DTMF digit of an event code, `None` for non-DTMF events (flash, tones …).
pub fn event_to_digit(event: u8) -> Option<char> {
    match event {
        0..=9 => Some(char::from(b'0' + event)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + event - 12)),
        _ => None,
    }
}

/// A telephone-event packet to send: the RTP marker, timestamp and payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfPacket {
    pub marker: bool,
    pub timestamp: u32,
    pub payload: [u8; 4],
}

#[derive(Debug)]
struct OutgoingTone {
    event: u8,
    start_timestamp: u32,
    total: u16,
    elapsed: u16,
    ends_sent: u8,
}

/// Produces the packet sequence for queued digits, one packet per 20 ms tick.
#[derive(Debug)]
pub struct DtmfSender {
    /// Timestamp units per tick.
    step: u16,
    queue: VecDeque<(u8, u16)>,
    active: Option<OutgoingTone>,
}

impl DtmfSender {
    /// `clock_rate` is the RTP clock of the accompanying audio codec.
    pub fn new(clock_rate: u32) -> Self {
        Self {
            // 20 ms at 48 kHz is 960, well inside u16.
            step: u16::try_from(clock_rate / 50).unwrap_or(u16::MAX),
            queue: VecDeque::new(),
            active: None,
        }
    }

    /// Queues a digit to be sent after those already queued.
    pub fn queue(&mut self, digit: char, duration: Duration) -> Result<(), DtmfError> {
        let event = digit_to_event(digit).ok_or(DtmfError::NotADigit(digit))?;
        if !(MIN_DIGIT_DURATION..=MAX_DIGIT_DURATION).contains(&duration) {
            return Err(DtmfError::BadDuration(duration));
        }
        // Round up to whole ticks so the last update coincides with the end.
        let ticks = duration.as_millis().div_ceil(20);
        let units = u64::try_from(ticks).unwrap_or(u64::MAX) * u64::from(self.step);
        let total = u16::try_from(units).map_err(|_| DtmfError::BadDuration(duration))?;
        self.queue.push_back((event, total));
        Ok(())
    }

    /// True when no digit is being sent or waiting.
    pub fn is_idle(&self) -> bool {
        self.active.is_none() && self.queue.is_empty()
    }

    /// The packet for the tick whose audio timestamp is `timestamp`, if a digit is
    /// being sent. Call once per tick.
    pub fn next_packet(&mut self, timestamp: u32) -> Option<DtmfPacket> {
        let first = self.active.is_none();
        if first {
            let (event, total) = self.queue.pop_front()?;
            self.active = Some(OutgoingTone {
                event,
                start_timestamp: timestamp,
                total,
                elapsed: 0,
                ends_sent: 0,
            });
        }
        let tone = self.active.as_mut()?;
        tone.elapsed = tone.elapsed.saturating_add(self.step).min(tone.total);
        let end = tone.elapsed == tone.total;
        if end {
            tone.ends_sent += 1;
        }
        let packet = DtmfPacket {
            marker: first,
            timestamp: tone.start_timestamp,
            payload: TelephoneEvent {
                event: tone.event,
                end,
                volume: TONE_VOLUME,
                duration: tone.elapsed,
            }
            .to_bytes(),
        };
        if tone.ends_sent == END_PACKET_COPIES {
            self.active = None;
        }
        Some(packet)
    }
}

/// A digit the peer pressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfDigit {
    pub digit: char,
    pub duration: Duration,
}

#[derive(Debug)]
struct IncomingTone {
    start_timestamp: u32,
    digit: char,
    duration: u16,
    reported: bool,
    last_packet: Instant,
}

/// Turns received telephone-event packets into digits, each reported once.
///
/// A digit is reported on its first end packet; the redundant end packets are
/// recognised by their timestamp. If the start packets are lost the event is picked
/// up from whichever packet arrives first; if every end packet is lost the digit is
/// reported when the next event starts or after a timeout.
#[derive(Debug)]
pub struct DtmfReceiver {
    clock_rate: u32,
    current: Option<IncomingTone>,
    digits: VecDeque<DtmfDigit>,
}

impl DtmfReceiver {
    pub fn new(clock_rate: u32) -> Self {
        Self {
            clock_rate,
            current: None,
            digits: VecDeque::new(),
        }
    }

    /// Handles one telephone-event packet with its RTP timestamp.
    pub fn handle_packet(
        &mut self,
        now: Instant,
        timestamp: u32,
        payload: &[u8],
    ) -> Result<(), DtmfError> {
        let event = TelephoneEvent::parse(payload)?;
        let Some(digit) = event_to_digit(event.event) else {
            return Ok(());
        };
        match &mut self.current {
            Some(tone) if tone.start_timestamp == timestamp => {
                tone.duration = tone.duration.max(event.duration);
                tone.last_packet = now;
            }
            // A straggler from an earlier event (timestamps compared modulo 2^32).
            Some(tone) if (timestamp.wrapping_sub(tone.start_timestamp) as i32) < 0 => {
                return Ok(());
            }
            _ => {
                self.report_current();
                self.current = Some(IncomingTone {
                    start_timestamp: timestamp,
                    digit,
                    duration: event.duration,
                    reported: false,
                    last_packet: now,
                });
            }
        }
        if event.end {
            self.report_current();
        }
        Ok(())
    }

    /// Reports an event whose packets stopped without an end packet.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(tone) = &self.current {
            if now.saturating_duration_since(tone.last_packet) >= LOST_END_TIMEOUT {
                self.report_current();
            }
        }
    }

    #[must_use]
    pub fn poll_digit(&mut self) -> Option<DtmfDigit> {
        self.digits.pop_front()
    }

    fn report_current(&mut self) {
        if let Some(tone) = self.current.as_mut().filter(|t| !t.reported) {
            tone.reported = true;
            let secs = f64::from(tone.duration) / f64::from(self.clock_rate);
            self.digits.push_back(DtmfDigit {
                digit: tone.digit,
                duration: Duration::from_secs_f64(secs),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trip_and_wire_format() {
        let ev = TelephoneEvent {
            event: 11,
            end: true,
            volume: 10,
            duration: 800,
        };
        assert_eq!(ev.to_bytes(), [11, 0x8a, 0x03, 0x20]);
        assert_eq!(TelephoneEvent::parse(&ev.to_bytes()), Ok(ev));
        assert_eq!(
            TelephoneEvent::parse(&[1, 2]),
            Err(DtmfError::ShortPayload(2))
        );
    }

    #[test]
    fn digit_mapping() {
        for (i, d) in "0123456789*#ABCD".chars().enumerate() {
            assert_eq!(digit_to_event(d), Some(i as u8));
            assert_eq!(event_to_digit(i as u8), Some(d));
        }
        assert_eq!(digit_to_event('a'), Some(12));
        assert_eq!(digit_to_event('x'), None);
        assert_eq!(event_to_digit(16), None);
    }

    #[test]
    fn sender_packet_sequence() {
        let mut tx = DtmfSender::new(8000);
        tx.queue('5', Duration::from_millis(100)).unwrap();
        let packets: Vec<_> = (0..10u32)
            .map_while(|tick| tx.next_packet(1000 + tick * 160))
            .collect();
        // 5 growing updates (the 5th is the first end packet), then 2 more end copies.
        assert_eq!(packets.len(), 7);
        assert!(packets[0].marker && packets[1..].iter().all(|p| !p.marker));
        assert!(packets.iter().all(|p| p.timestamp == 1000));
        let events: Vec<_> = packets
            .iter()
            .map(|p| TelephoneEvent::parse(&p.payload).unwrap())
            .collect();
        let durations: Vec<_> = events.iter().map(|e| e.duration).collect();
        assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800]);
        let ends: Vec<_> = events.iter().map(|e| e.end).collect();
        assert_eq!(ends, [false, false, false, false, true, true, true]);
        assert!(tx.is_idle());
        assert_eq!(tx.next_packet(5000), None);
    }

    #[test]
    fn sender_validates_input() {
        let mut tx = DtmfSender::new(48_000);
        assert_eq!(
            tx.queue('x', Duration::from_millis(100)),
            Err(DtmfError::NotADigit('x'))
        );
        assert!(tx.queue('1', Duration::from_millis(10)).is_err());
        assert!(tx.queue('1', Duration::from_secs(2)).is_err());
        tx.queue('1', MAX_DIGIT_DURATION).unwrap();
    }

    fn receive_all(rx: &mut DtmfReceiver, packets: &[DtmfPacket]) -> Vec<DtmfDigit> {
        let now = Instant::now();
        for p in packets {
            rx.handle_packet(now, p.timestamp, &p.payload).unwrap();
        }
        std::iter::from_fn(|| rx.poll_digit()).collect()
    }

    fn digits_packets(digits: &str) -> Vec<DtmfPacket> {
        let mut tx = DtmfSender::new(8000);
        for d in digits.chars() {
            tx.queue(d, Duration::from_millis(100)).unwrap();
        }
        (0..1000u32)
            .filter_map(|t| tx.next_packet(t * 160))
            .collect()
    }

    #[test]
    fn receiver_reports_each_digit_once() {
        let mut rx = DtmfReceiver::new(8000);
        let got = receive_all(&mut rx, &digits_packets("1#1"));
        let digits: String = got.iter().map(|d| d.digit).collect();
        assert_eq!(digits, "1#1");
        assert!(got.iter().all(|d| d.duration == Duration::from_millis(100)));
    }

    #[test]
    fn receiver_survives_lost_start_and_lost_ends() {
        let packets = digits_packets("42");
        // Drop the first two packets of '4' and every end packet of '4'.
        let lossy: Vec<_> = packets
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                let ev = TelephoneEvent::parse(&p.payload).unwrap();
                *i >= 2 && !(ev.event == 4 && ev.end)
            })
            .map(|(_, p)| *p)
            .collect();
        let mut rx = DtmfReceiver::new(8000);
        let got = receive_all(&mut rx, &lossy);
        assert_eq!(got.iter().map(|d| d.digit).collect::<String>(), "42");
        assert_eq!(got[0].duration, Duration::from_millis(80));
    }

    #[test]
    fn receiver_times_out_an_unended_event() {
        let mut rx = DtmfReceiver::new(8000);
        let t0 = Instant::now();
        let start = digits_packets("7")[0];
        rx.handle_packet(t0, start.timestamp, &start.payload)
            .unwrap();
        rx.handle_timeout(t0 + Duration::from_millis(100));
        assert_eq!(rx.poll_digit(), None);
        rx.handle_timeout(t0 + LOST_END_TIMEOUT);
        assert_eq!(rx.poll_digit().map(|d| d.digit), Some('7'));
        // A late end packet of the same event is not a second digit.
        let mut end = start;
        end.payload[1] |= 0x80;
        rx.handle_packet(t0, end.timestamp, &end.payload).unwrap();
        assert_eq!(rx.poll_digit(), None);
    }

    #[test]
    fn receiver_ignores_stragglers_and_non_dtmf_events() {
        let packets = digits_packets("12");
        let mut rx = DtmfReceiver::new(8000);
        let mut got = receive_all(&mut rx, &packets);
        // A reordered update of '1' after '2' started must not re-report '1'.
        got.extend(receive_all(&mut rx, &packets[..1]));
        assert_eq!(got.iter().map(|d| d.digit).collect::<String>(), "12");
        // Event 16 (hook flash) is not a digit.
        rx.handle_packet(Instant::now(), 99_999, &[16, 0x80, 0, 160])
            .unwrap();
        assert_eq!(rx.poll_digit(), None);
    }
}
