//! Receiver statistics for one remote source, as RFC 3550 Appendix A computes them:
//! sequence tracking (A.1), loss (A.3), interarrival jitter (A.8), and the LSR/DLSR
//! echo of its last Sender Report (§6.4.1). These feed our reception report blocks.

use std::time::{Duration, Instant};

use crate::rtcp::ReportBlock;

/// RFC 3550 A.1: sequence jumps beyond this are a restart, or garbage.
const MAX_DROPOUT: u16 = 3000;
/// RFC 3550 A.1: packets this far behind the highest are reordered or duplicated.
const MAX_MISORDER: u16 = 100;
const SEQ_MOD: u32 = 1 << 16;

#[derive(Debug)]
pub struct ReceptionStats {
    ssrc: u32,
    clock_rate: u32,
    /// When this source was first heard: the origin of arrival times in RTP units.
    epoch: Instant,
    base_seq: u32,
    max_seq: u16,
    /// Sequence number wraparounds, shifted left 16 bits.
    cycles: u32,
    /// The sequence number that would confirm a large jump, if one is pending.
    bad_seq: Option<u16>,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
    /// Relative transit time of the last audio packet, in RTP units.
    transit: Option<u32>,
    /// Interarrival jitter in RTP units (kept as f64; RFC 3550 A.8 uses fixed point).
    jitter: f64,
    /// Middle 32 bits of the NTP timestamp of the last SR, and when it arrived.
    last_sr: Option<(u32, Instant)>,
}

impl ReceptionStats {
    /// Starts tracking `ssrc` from its first packet.
    pub fn new(ssrc: u32, first_seq: u16, clock_rate: u32, now: Instant) -> Self {
        let mut stats = Self {
            ssrc,
            clock_rate,
            epoch: now,
            base_seq: 0,
            max_seq: 0,
            cycles: 0,
            bad_seq: None,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            transit: None,
            jitter: 0.0,
            last_sr: None,
        };
        stats.restart(first_seq);
        stats
    }

    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    fn restart(&mut self, seq: u16) {
        // The packet itself is then counted by `update`.
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.cycles = 0;
        self.bad_seq = None;
        self.received = 0;
        self.expected_prior = 0;
        self.received_prior = 0;
        self.transit = None;
    }

    /// RFC 3550 A.1 `update_seq`: counts the packet, or returns false for a large
    /// jump not yet confirmed by a following packet (the packet should be dropped).
    pub fn update(&mut self, seq: u16) -> bool {
        let delta = seq.wrapping_sub(self.max_seq);
        if delta < MAX_DROPOUT {
            // In order, with a permissible gap.
            if seq < self.max_seq {
                self.cycles += SEQ_MOD;
            }
            self.max_seq = seq;
        } else if delta <= u16::MAX - MAX_MISORDER {
            // A large jump: the sender restarted if the next packet follows on.
            if self.bad_seq == Some(seq) {
                self.restart(seq);
            } else {
                self.bad_seq = Some(seq.wrapping_add(1));
                return false;
            }
        }
        // Otherwise a duplicate or reordered packet: counted, sequence state unchanged.
        self.received += 1;
        true
    }

    /// Takes back a packet `update` counted that turned out to be a duplicate.
    /// RFC 3550 A.3 counts duplicates as received, which masks as many losses; the
    /// jitter buffer knows them, so voxhire's loss figures exclude them.
    pub fn uncount_duplicate(&mut self) {
        self.received = self.received.saturating_sub(1);
    }

    /// RFC 3550 A.8: updates the jitter from an audio packet's arrival time and RTP
    /// timestamp. Telephone-events are left out: their timestamp stays at the event
    /// start, which would read as jitter.
    pub fn update_jitter(&mut self, now: Instant, rtp_timestamp: u32) {
        let elapsed = now.saturating_duration_since(self.epoch).as_secs_f64();
        // Arrival in RTP units, modulo 2^32 like the timestamps themselves.
        let arrival = (elapsed * f64::from(self.clock_rate)).round() as u64 as u32;
        let transit = arrival.wrapping_sub(rtp_timestamp);
        if let Some(last) = self.transit {
            let d = f64::from((transit.wrapping_sub(last) as i32).unsigned_abs());
            self.jitter += (d - self.jitter) / 16.0;
        }
        self.transit = Some(transit);
    }

    /// Remembers a Sender Report from this source for the LSR/DLSR fields.
    pub fn record_sender_report(&mut self, ntp_timestamp: u64, now: Instant) {
        self.last_sr = Some(((ntp_timestamp >> 16) as u32, now));
    }

    pub fn received(&self) -> u64 {
        self.received
    }

    /// Highest sequence number received, with the wrap count in the high 16 bits.
    pub fn extended_max(&self) -> u32 {
        self.cycles | u32::from(self.max_seq)
    }

    pub fn expected(&self) -> u64 {
        u64::from(self.extended_max()) + 1 - u64::from(self.base_seq)
    }

    /// Packets expected but not received; negative if duplicates slipped through.
    pub fn cumulative_lost(&self) -> i64 {
        i64::try_from(self.expected()).unwrap_or(i64::MAX)
            - i64::try_from(self.received).unwrap_or(i64::MAX)
    }

    pub fn jitter_ms(&self) -> f64 {
        self.jitter * 1000.0 / f64::from(self.clock_rate)
    }

    /// Builds a report block and starts a new reporting interval (RFC 3550 A.3).
    pub fn report_block(&mut self, now: Instant) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected - self.expected_prior;
        let received_interval = self.received - self.received_prior;
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval.saturating_sub(received_interval);
        // lost_interval ≤ expected_interval, so the fraction fits eight bits, except
        // for 256/256 (everything lost) which saturates to 255.
        let fraction_lost = (lost_interval << 8)
            .checked_div(expected_interval)
            .map_or(0, |f| u8::try_from(f).unwrap_or(u8::MAX));
        let (last_sr, delay_since_last_sr) = match self.last_sr {
            Some((lsr, at)) => (lsr, to_ntp_short(now.saturating_duration_since(at))),
            None => (0, 0),
        };
        ReportBlock {
            ssrc: self.ssrc,
            fraction_lost,
            cumulative_lost: i32::try_from(self.cumulative_lost()).unwrap_or(i32::MAX),
            extended_highest_seq: self.extended_max(),
            jitter: self.jitter as u32,
            last_sr,
            delay_since_last_sr,
        }
    }
}

/// A duration in NTP short format units of 1/65536 s, saturating.
pub fn to_ntp_short(d: Duration) -> u32 {
    u32::try_from(d.as_micros() * 65536 / 1_000_000).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(first_seq: u16) -> ReceptionStats {
        ReceptionStats::new(7, first_seq, 8000, Instant::now())
    }

    #[test]
    fn counts_loss_across_wraparound() {
        let mut s = stats(65530);
        for seq in (65530..=65535)
            .chain(0..10)
            .filter(|s| ![65533, 1, 5].contains(s))
        {
            assert!(s.update(seq));
        }
        assert_eq!(s.extended_max(), 0x1_0009);
        assert_eq!(s.expected(), 16);
        assert_eq!(s.cumulative_lost(), 3);
        let block = s.report_block(Instant::now());
        assert_eq!(block.fraction_lost, 48, "3/16 in 1/256");
        assert_eq!(block.cumulative_lost, 3);
        // A new interval without loss reports a zero fraction.
        s.update(10);
        assert_eq!(s.report_block(Instant::now()).fraction_lost, 0);
    }

    #[test]
    fn duplicates_and_reordering() {
        let mut s = stats(100);
        for seq in [100, 102, 101, 102, 103] {
            assert!(s.update(seq));
        }
        assert_eq!(s.cumulative_lost(), -1, "RFC 3550 counts the duplicate");
        s.uncount_duplicate();
        assert_eq!(s.cumulative_lost(), 0);
        assert_eq!(s.extended_max(), 103);
    }

    #[test]
    fn a_large_jump_needs_confirmation() {
        let mut s = stats(100);
        assert!(s.update(100));
        assert!(!s.update(20_000), "a single stray packet is dropped");
        assert!(s.update(101));
        assert!(!s.update(40_000));
        assert!(s.update(40_001), "two in a row: the sender restarted");
        assert_eq!(s.expected(), 1);
        assert_eq!(s.received(), 1);
    }

    #[test]
    fn jitter_follows_rfc3550_a8() {
        let t0 = Instant::now();
        let mut s = ReceptionStats::new(7, 0, 8000, t0);
        // Packets every 20 ms (160 units) arriving alternately 0 and 10 ms late.
        for k in 0..400u32 {
            let late = if k % 2 == 1 { 10 } else { 0 };
            let at = t0 + Duration::from_millis(u64::from(20 * k + late));
            s.update(k as u16);
            s.update_jitter(at, k * 160);
        }
        // |D| is always 80 units (10 ms), so J converges to 10 ms.
        assert!((s.jitter_ms() - 10.0).abs() < 0.1, "{}", s.jitter_ms());
        assert!((79..=80).contains(&s.report_block(t0).jitter));
    }

    #[test]
    fn lsr_and_dlsr() {
        let t0 = Instant::now();
        let mut s = stats(0);
        s.update(0);
        assert_eq!(s.report_block(t0).last_sr, 0);
        s.record_sender_report(0x1234_5678_9abc_def0, t0);
        let block = s.report_block(t0 + Duration::from_millis(500));
        assert_eq!(block.last_sr, 0x5678_9abc);
        assert_eq!(block.delay_since_last_sr, 32768);
    }
}
