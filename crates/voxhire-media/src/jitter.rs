//! Jitter buffer: reorders received packets and releases one 20 ms frame per tick.
//!
//! Packets are keyed by extended sequence number (the 16-bit RTP sequence number
//! with a cycle count, as in RFC 3550 Appendix A.1), so wraparound at 65535 needs no
//! special case. One sequence number is one 20 ms frame (voxhire offers
//! `a=ptime:20`).
//!
//! Playout starts `target_delay` after the first packet. Each [`JitterBuffer::pop`]
//! then releases the next sequence number: its payload, [`Frame::Missing`] if it
//! never arrived (conceal it), or [`Frame::NonAudio`] if it carried a telephone-event.
//! On underrun (nothing buffered at all) the frame is concealed and the playout point
//! holds, in case the sender only paused; if the held sequence numbers turn out lost,
//! playout skips them since they have been concealed already. When the buffer has
//! been deeper than the target for half a second, one frame is dropped. The target
//! follows the interarrival jitter (RFC 3550 §6.4.1 estimator) between
//! `min_delay` and `max_delay`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::PTIME;

/// A packet this far from the playout point is a new stream, not a late or early
/// packet of this one (RFC 3550 A.1 uses 3000 as its maximum dropout).
const MAX_DROPOUT: u64 = 3000;
/// Ticks the buffer must stay deeper than the target before a frame is dropped.
const TRIM_AFTER_TICKS: u32 = 25;
/// The 128 sequence numbers before the playout point are remembered, so a packet
/// arriving after its slot can be told apart as a duplicate or a late packet.
const HISTORY: u64 = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterConfig {
    /// Delay before the first frame plays out.
    pub initial_delay: Duration,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// Follow the measured jitter; if false, the delay stays at `initial_delay`.
    pub adaptive: bool,
    /// Frames held at most; a packet further ahead restarts the buffer.
    pub capacity: usize,
}

impl Default for JitterConfig {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_millis(60),
            min_delay: Duration::from_millis(40),
            max_delay: Duration::from_millis(200),
            adaptive: true,
            capacity: 50,
        }
    }
}

/// What one playout tick gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// The payload of the packet due now.
    Audio(Vec<u8>),
    /// The packet due now carried no audio (an RFC 4733 event): play silence.
    NonAudio,
    /// No packet for this tick: conceal.
    Missing,
}

/// What the buffer did with a pushed packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    Accepted,
    /// Already received; dropped.
    Duplicate,
    /// Arrived after its playout slot; dropped.
    Late,
    /// Too far from the playout point: the buffer restarted from this packet.
    Resynced,
}

/// Counters since the buffer was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct JitterStats {
    pub duplicates: u64,
    pub late: u64,
    /// Frames concealed because their packet had not arrived when a later one had.
    pub lost: u64,
    /// Frames concealed because the buffer was empty. Packets found lost after an
    /// underrun are skipped, not concealed again, so `lost + underruns` is the
    /// number of frames concealed.
    pub underruns: u64,
    /// Frames dropped to shrink the delay.
    pub dropped: u64,
    pub resyncs: u64,
}

/// A packet's payload, or `None` for a sequence number used by a non-audio packet.
type Entry = Option<Vec<u8>>;

#[derive(Debug)]
pub struct JitterBuffer {
    config: JitterConfig,
    packets: BTreeMap<u64, Entry>,
    /// Highest extended sequence number received.
    highest: Option<u64>,
    /// Next extended sequence number to play; `None` until playout starts.
    next: Option<u64>,
    /// When playout starts, once the first packet has arrived.
    playout_at: Option<Instant>,
    /// Bit i set: sequence number `next - 1 - i` was received.
    history: u128,
    target_delay: Duration,
    /// Interarrival jitter estimate in seconds, and the last relative transit time.
    jitter: f64,
    last_transit: Option<f64>,
    reference: Option<Instant>,
    ticks_above_target: u32,
    /// Consecutive ticks concealed by underrun since the last frame played.
    underrun_ticks: u64,
    stats: JitterStats,
}

impl JitterBuffer {
    pub fn new(config: JitterConfig) -> Self {
        Self {
            config,
            packets: BTreeMap::new(),
            highest: None,
            next: None,
            playout_at: None,
            history: 0,
            target_delay: config.initial_delay,
            jitter: 0.0,
            last_transit: None,
            reference: None,
            ticks_above_target: 0,
            underrun_ticks: 0,
            stats: JitterStats::default(),
        }
    }

    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// The delay the buffer is aiming for.
    pub fn target_delay(&self) -> Duration {
        self.target_delay
    }

    /// Frames from the playout point to the newest packet, gaps included.
    pub fn depth(&self) -> u64 {
        match (self.next, self.highest) {
            (Some(next), Some(high)) => (high + 1).saturating_sub(next),
            (None, Some(_)) => self.packets.len() as u64,
            _ => 0,
        }
    }

    /// Extends a 16-bit sequence number to the cycle closest to the highest seen.
    pub fn extend(&self, seq: u16) -> u64 {
        // The first packet starts in cycle 1 so packets reordered before it still fit.
        let Some(high) = self.highest else {
            return 0x1_0000 + u64::from(seq);
        };
        let candidate = (high & !0xffff) | u64::from(seq);
        [
            candidate.wrapping_sub(0x1_0000),
            candidate,
            candidate + 0x1_0000,
        ]
        .into_iter()
        .min_by_key(|&c| c.abs_diff(high))
        .unwrap_or(candidate)
    }

    /// Adds an audio packet.
    pub fn push(&mut self, now: Instant, seq: u16, payload: Vec<u8>) -> PushOutcome {
        self.insert(now, seq, Some(payload))
    }

    /// Records that `seq` carried no audio (a telephone-event), so its slot plays
    /// silence rather than counting as lost.
    pub fn push_non_audio(&mut self, now: Instant, seq: u16) -> PushOutcome {
        self.insert(now, seq, None)
    }

    fn insert(&mut self, now: Instant, seq: u16, entry: Entry) -> PushOutcome {
        let ext = self.extend(seq);
        let capacity = self.config.capacity as u64;
        let discontinuity = match (self.next, self.highest) {
            (Some(next), _) => ext >= next + capacity || next.saturating_sub(ext) > MAX_DROPOUT,
            (None, Some(high)) => ext.abs_diff(high) >= capacity,
            (None, None) => false,
        };
        if discontinuity {
            // The sender restarted its sequence numbers or the network held packets
            // for longer than the buffer spans: start over from this packet.
            self.reset();
            self.stats.resyncs += 1;
            return self.accept(now, self.extend(seq), entry, PushOutcome::Resynced);
        }
        if let Some(next) = self.next.filter(|&n| ext < n) {
            let age = next - 1 - ext;
            if age < HISTORY {
                if self.history & (1 << age) != 0 {
                    self.stats.duplicates += 1;
                    return PushOutcome::Duplicate;
                }
                // Remembered, so a copy of this late packet counts as a duplicate.
                self.history |= 1 << age;
            }
            self.stats.late += 1;
            return PushOutcome::Late;
        }
        if self.packets.contains_key(&ext) {
            self.stats.duplicates += 1;
            return PushOutcome::Duplicate;
        }
        self.accept(now, ext, entry, PushOutcome::Accepted)
    }

    fn accept(
        &mut self,
        now: Instant,
        ext: u64,
        entry: Entry,
        outcome: PushOutcome,
    ) -> PushOutcome {
        if entry.is_some() {
            self.update_jitter(now, ext);
        }
        self.packets.insert(ext, entry);
        self.highest = Some(self.highest.map_or(ext, |h| h.max(ext)));
        self.playout_at.get_or_insert(now + self.target_delay);
        outcome
    }

    /// Forgets all packets and playout state (a new source), keeping the counters.
    pub fn reset(&mut self) {
        self.packets.clear();
        self.highest = None;
        self.next = None;
        self.playout_at = None;
        self.history = 0;
        self.last_transit = None;
        self.ticks_above_target = 0;
        self.underrun_ticks = 0;
    }

    /// RFC 3550 §6.4.1 estimator on arrival time against nominal send time (one
    /// frame per sequence number), driving the adaptive target.
    fn update_jitter(&mut self, now: Instant, ext: u64) {
        let reference = *self.reference.get_or_insert(now);
        let transit =
            now.duration_since(reference).as_secs_f64() - ext as f64 * PTIME.as_secs_f64();
        if let Some(last) = self.last_transit {
            self.jitter += ((transit - last).abs() - self.jitter) / 16.0;
        }
        self.last_transit = Some(transit);
        if self.config.adaptive {
            let wanted = Duration::from_secs_f64(4.0 * self.jitter);
            self.target_delay = wanted.clamp(self.config.min_delay, self.config.max_delay);
        }
    }

    /// Releases the frame for this tick, or `None` before playout has started.
    pub fn pop(&mut self, now: Instant) -> Option<Frame> {
        if self.playout_at.is_none_or(|at| now < at) {
            return None;
        }
        // Playout starts at the lowest sequence number that arrived in time.
        let next = match self.next {
            Some(next) => next,
            None => *self.next.insert(*self.packets.keys().next()?),
        };
        if self.highest.is_none_or(|h| h < next) {
            // Underrun: conceal and hold the playout point, in case the sender merely
            // paused. If the held slots turn out to be lost, `skip_concealed` catches up.
            self.stats.underruns += 1;
            self.underrun_ticks = (self.underrun_ticks + 1).min(self.config.capacity as u64);
            self.ticks_above_target = 0;
            return Some(Frame::Missing);
        }
        self.skip_concealed();
        self.trim();
        let frame = match self.next.and_then(|n| self.packets.remove(&n)) {
            Some(Some(payload)) => Frame::Audio(payload),
            Some(None) => Frame::NonAudio,
            None => {
                self.stats.lost += 1;
                Frame::Missing
            }
        };
        self.advance(frame != Frame::Missing);
        Some(frame)
    }

    /// After an underrun the ticks already concealed stand in for missing sequence
    /// numbers: packets lost in an outage must not be concealed a second time.
    fn skip_concealed(&mut self) {
        while self.underrun_ticks > 0 {
            match self.next {
                Some(next) if !self.packets.contains_key(&next) => {
                    // Counted once, as an underrun.
                    self.underrun_ticks -= 1;
                    self.advance(false);
                }
                _ => break,
            }
        }
        self.underrun_ticks = 0;
    }

    /// Drops one frame when the buffer has stayed deeper than the target (plus one
    /// frame of slack) for [`TRIM_AFTER_TICKS`] consecutive ticks.
    fn trim(&mut self) {
        let target_frames = self.target_delay.as_millis().div_ceil(PTIME.as_millis());
        let target_frames = u64::try_from(target_frames).unwrap_or(u64::MAX);
        if self.depth() > target_frames + 1 {
            self.ticks_above_target += 1;
        } else {
            self.ticks_above_target = 0;
        }
        if self.ticks_above_target >= TRIM_AFTER_TICKS {
            self.ticks_above_target = 0;
            if let Some(next) = self.next {
                let received = self.packets.remove(&next).is_some();
                self.stats.dropped += 1;
                self.advance(received);
            }
        }
    }

    fn advance(&mut self, received: bool) {
        self.history = self.history << 1 | u128::from(received);
        if let Some(next) = &mut self.next {
            *next += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn fixed() -> JitterBuffer {
        JitterBuffer::new(JitterConfig {
            adaptive: false,
            ..JitterConfig::default()
        })
    }

    /// Pops at 20 ms ticks from `first_tick` on and names each frame: its payload's
    /// first byte as a number, `-` for missing, `n` for non-audio, `.` for none.
    fn play(jb: &mut JitterBuffer, first_tick: Instant, ticks: u32) -> Vec<String> {
        (0..ticks)
            .map(|k| match jb.pop(first_tick + PTIME * k) {
                Some(Frame::Audio(p)) => p[0].to_string(),
                Some(Frame::Missing) => "-".into(),
                Some(Frame::NonAudio) => "n".into(),
                None => ".".into(),
            })
            .collect()
    }

    fn push_all(jb: &mut JitterBuffer, at: Instant, seqs: &[u16]) {
        for &s in seqs {
            jb.push(at, s, vec![s as u8]);
        }
    }

    #[test]
    fn waits_for_the_initial_delay_then_plays_in_order() {
        let mut jb = fixed();
        let t0 = Instant::now();
        assert_eq!(jb.pop(t0), None, "nothing before the first packet");
        for s in 0..5u16 {
            jb.push(t0 + PTIME * u32::from(s), 100 + s, vec![s as u8]);
        }
        assert_eq!(
            play(&mut jb, t0, 8),
            [".", ".", ".", "0", "1", "2", "3", "4"]
        );
    }

    #[test]
    fn reorders() {
        let mut jb = fixed();
        let t0 = Instant::now();
        push_all(&mut jb, t0, &[1, 0, 3, 2, 4]);
        assert_eq!(play(&mut jb, t0 + 60 * MS, 5), ["0", "1", "2", "3", "4"]);
        assert_eq!(jb.stats(), JitterStats::default());
    }

    #[test]
    fn drops_duplicates_before_and_after_playout() {
        let mut jb = fixed();
        let t0 = Instant::now();
        push_all(&mut jb, t0, &[0, 1]);
        assert_eq!(jb.push(t0, 1, vec![1]), PushOutcome::Duplicate);
        assert_eq!(play(&mut jb, t0 + 60 * MS, 2), ["0", "1"]);
        assert_eq!(jb.push(t0, 0, vec![0]), PushOutcome::Duplicate);
        assert_eq!(jb.stats().duplicates, 2);
        assert_eq!(jb.stats().late, 0);
    }

    #[test]
    fn conceals_a_lost_packet_and_counts_it() {
        let mut jb = fixed();
        let t0 = Instant::now();
        push_all(&mut jb, t0, &[0, 1, 3, 4]);
        assert_eq!(play(&mut jb, t0 + 60 * MS, 5), ["0", "1", "-", "3", "4"]);
        assert_eq!(jb.stats().lost, 1);
    }

    #[test]
    fn a_packet_after_its_slot_is_late() {
        let mut jb = fixed();
        let t0 = Instant::now();
        push_all(&mut jb, t0, &[0, 1, 3]);
        assert_eq!(play(&mut jb, t0 + 60 * MS, 3), ["0", "1", "-"]);
        assert_eq!(jb.push(t0 + 120 * MS, 2, vec![2]), PushOutcome::Late);
        assert_eq!(jb.push(t0 + 120 * MS, 2, vec![2]), PushOutcome::Duplicate);
        assert_eq!(play(&mut jb, t0 + 120 * MS, 1), ["3"]);
        assert_eq!(
            (jb.stats().late, jb.stats().lost, jb.stats().duplicates),
            (1, 1, 1)
        );
    }

    #[test]
    fn sequence_numbers_wrap_at_65535() {
        let mut jb = fixed();
        let t0 = Instant::now();
        push_all(&mut jb, t0, &[65534, 0, 65535, 1]);
        let got = play(&mut jb, t0 + 60 * MS, 4);
        assert_eq!(got, ["254", "255", "0", "1"], "payload byte is seq as u8");
        assert_eq!(jb.extend(2), jb.extend(65535) + 3);
        // Several full cycles stay continuous.
        let mut jb = fixed();
        let mut seq = 60_000u16;
        for k in 0..200_000u32 {
            let at = t0 + PTIME * k;
            jb.push(at, seq, vec![0]);
            seq = seq.wrapping_add(1);
            assert_ne!(jb.pop(at + 60 * MS), Some(Frame::Missing), "tick {k}");
        }
        assert_eq!(jb.stats(), JitterStats::default());
    }

    #[test]
    fn a_burst_after_a_stall_is_played_without_loss() {
        let mut jb = fixed();
        let t0 = Instant::now();
        let tick = |k: u32| t0 + 60 * MS + PTIME * k;
        push_all(&mut jb, t0, &[0, 1, 2]);
        let mut got = play(&mut jb, tick(0), 3);
        // Packets 3..=12 are held up for 200 ms and arrive together.
        got.extend(play(&mut jb, tick(3), 10));
        push_all(&mut jb, tick(12), &(3..13).collect::<Vec<_>>());
        got.extend(play(&mut jb, tick(13), 10));
        let expected: Vec<String> = ["0", "1", "2"]
            .into_iter()
            .chain(["-"; 10])
            .map(String::from)
            .chain((3..13).map(|s| s.to_string()))
            .collect();
        assert_eq!(got, expected);
        assert_eq!((jb.stats().lost, jb.stats().underruns), (0, 10));
    }

    #[test]
    fn an_outage_is_concealed_once() {
        let mut jb = fixed();
        let t0 = Instant::now();
        let tick = |k: u32| t0 + 60 * MS + PTIME * k;
        push_all(&mut jb, t0, &[0, 1, 2]);
        let mut got = play(&mut jb, tick(0), 3);
        got.extend(play(&mut jb, tick(3), 5));
        // 3..=7 were lost; 8 arrives on time and plays at once.
        jb.push(tick(7), 8, vec![8]);
        got.extend(play(&mut jb, tick(8), 1));
        assert_eq!(got, ["0", "1", "2", "-", "-", "-", "-", "-", "8"]);
        assert_eq!((jb.stats().underruns, jb.stats().lost), (5, 0));
    }

    #[test]
    fn non_audio_slots_are_not_losses() {
        let mut jb = fixed();
        let t0 = Instant::now();
        jb.push(t0, 0, vec![0]);
        jb.push_non_audio(t0, 1);
        jb.push(t0, 2, vec![2]);
        assert_eq!(play(&mut jb, t0 + 60 * MS, 3), ["0", "n", "2"]);
        assert_eq!(jb.stats().lost, 0);
    }

    #[test]
    fn a_sequence_jump_restarts_the_buffer() {
        let mut jb = fixed();
        let t0 = Instant::now();
        push_all(&mut jb, t0, &[0, 1]);
        assert_eq!(play(&mut jb, t0 + 60 * MS, 2), ["0", "1"]);
        assert_eq!(jb.push(t0 + 80 * MS, 5000, vec![7]), PushOutcome::Resynced);
        // Playout restarts 60 ms after the new packet, at the 140 ms tick.
        let got = play(&mut jb, t0 + 100 * MS, 3);
        assert_eq!(got, [".", ".", "7"]);
        assert_eq!(jb.stats().resyncs, 1);
    }

    #[test]
    fn adaptive_target_follows_jitter_and_excess_delay_is_trimmed() {
        let mut jb = JitterBuffer::new(JitterConfig::default());
        let t0 = Instant::now();
        // Steady arrivals: the target settles at the minimum.
        for k in 0..50u32 {
            jb.push(t0 + PTIME * k, k as u16, vec![0]);
        }
        assert_eq!(jb.target_delay(), Duration::from_millis(40));
        // ±30 ms arrival jitter pushes the target up.
        for k in 50..150u32 {
            let wobble = if k % 2 == 0 { 30 * MS } else { Duration::ZERO };
            jb.push(t0 + PTIME * k + wobble, k as u16, vec![0]);
        }
        assert!(jb.target_delay() > Duration::from_millis(80));

        // A buffer 13 frames deep against a 60 ms target sheds a frame every half
        // second until it is down to the target plus one frame of slack.
        let mut jb = fixed();
        for k in 0..13u32 {
            jb.push(t0, k as u16, vec![0]);
        }
        for k in 0..400u32 {
            assert_eq!(
                jb.pop(t0 + 60 * MS + PTIME * k),
                Some(Frame::Audio(vec![0]))
            );
            jb.push(t0 + 60 * MS + PTIME * k, (13 + k) as u16, vec![0]);
        }
        assert_eq!(jb.stats().dropped, 9);
        assert_eq!(jb.depth(), 4);
    }
}
