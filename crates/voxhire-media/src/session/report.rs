//! RTCP for a [`MediaSession`]: our Sender/Receiver Reports with SDES CNAME and BYE
//! (RFC 3550 §6.4, §6.5, §6.6), and what we take from the peer's reports.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::Rng;

use super::{MediaEvent, MediaSession, Transmit, TransmitKind};
use crate::rtcp::{self, ReportBlock, RtcpPacket, SenderInfo};
use crate::stats::RemoteReport;

/// RFC 3550 §6.2: the recommended minimum report interval. A two-party call is far
/// below the 5 % bandwidth share, so the minimum is the interval.
const REPORT_INTERVAL: Duration = Duration::from_secs(5);
/// Seconds between 1900-01-01 (NTP era 0) and 1970-01-01.
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// RFC 3550 §6.2: the first report comes after half the minimum interval.
pub(super) fn first_interval(rng: &mut impl Rng) -> Duration {
    interval(rng) / 2
}

/// RFC 3550 §6.3.5: randomised to 0.5–1.5 times the interval, so that endpoints
/// started together do not report in lockstep.
pub(super) fn interval(rng: &mut impl Rng) -> Duration {
    REPORT_INTERVAL.mul_f64(rng.random_range(0.5..1.5))
}

/// A wall-clock time as a 64-bit NTP timestamp (RFC 3550 §4).
fn ntp_timestamp(t: SystemTime) -> u64 {
    let since_unix = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since_unix.as_secs() + NTP_UNIX_OFFSET;
    let frac = (u64::from(since_unix.subsec_nanos()) << 32) / 1_000_000_000;
    secs << 32 | frac
}

impl MediaSession {
    fn ntp_at(&self, now: Instant) -> u64 {
        ntp_timestamp(self.cfg.start_wallclock + now.saturating_duration_since(self.start))
    }

    /// The RTP timestamp that corresponds to `now` on the send clock: the tick grid
    /// maps tick k to `initial_timestamp + k × step`, skipped ticks included.
    fn rtp_timestamp_at(&self, now: Instant) -> u32 {
        let elapsed = now.saturating_duration_since(self.start).as_secs_f64();
        let units = (elapsed * f64::from(self.cfg.codec.clock_rate())).round() as u64;
        // Modulo 2^32, like every RTP timestamp.
        self.cfg.initial_timestamp.wrapping_add(units as u32)
    }

    /// Queues a compound report: SR if we have sent RTP (we always do once ticking),
    /// otherwise RR; SDES CNAME; and BYE when leaving.
    pub(super) fn send_report(&mut self, now: Instant, bye: bool) {
        let ssrc = self.cfg.ssrc;
        let reports: Vec<ReportBlock> = self
            .source
            .as_mut()
            .map(|s| s.report_block(now))
            .into_iter()
            .collect();
        let mut packets = vec![if self.stats.sent > 0 {
            RtcpPacket::SenderReport {
                ssrc,
                info: SenderInfo {
                    ntp_timestamp: self.ntp_at(now),
                    rtp_timestamp: self.rtp_timestamp_at(now),
                    // RFC 3550 §6.4.1: both counts wrap.
                    packet_count: self.stats.sent as u32,
                    octet_count: self.stats.sent_octets as u32,
                },
                reports,
            }
        } else {
            RtcpPacket::ReceiverReport { ssrc, reports }
        }];
        packets.push(RtcpPacket::SourceDescription(vec![(
            ssrc,
            self.cfg.cname.clone(),
        )]));
        if bye {
            packets.push(RtcpPacket::Bye {
                sources: vec![ssrc],
                reason: None,
            });
        }
        self.stats.rtcp_sent += 1;
        self.transmits.push_back(Transmit {
            dst: self.rtcp_destination(),
            kind: TransmitKind::Rtcp,
            payload: rtcp::serialize_compound(&packets),
        });
    }

    pub(super) fn handle_report(&mut self, now: Instant, packets: Vec<RtcpPacket>) {
        for packet in packets {
            match packet {
                RtcpPacket::SenderReport {
                    ssrc,
                    info,
                    reports,
                } => {
                    if let Some(source) = self.source.as_mut().filter(|s| s.ssrc() == ssrc) {
                        source.record_sender_report(info.ntp_timestamp, now);
                    }
                    self.take_report_blocks(now, &reports);
                }
                RtcpPacket::ReceiverReport { reports, .. } => {
                    self.take_report_blocks(now, &reports);
                }
                RtcpPacket::Bye { sources, .. } => {
                    // Our own BYE looped back is not the peer leaving.
                    if !sources.contains(&self.cfg.ssrc) {
                        self.events.push_back(MediaEvent::RemoteBye);
                    }
                }
                RtcpPacket::SourceDescription(_) => {}
            }
        }
    }

    /// Takes the peer's report on our stream, and the round-trip time from its
    /// echo of our last SR: RTT = arrival − LSR − DLSR (RFC 3550 §6.4.1).
    fn take_report_blocks(&mut self, now: Instant, blocks: &[ReportBlock]) {
        let clock_rate = f64::from(self.cfg.codec.clock_rate());
        for block in blocks.iter().filter(|b| b.ssrc == self.cfg.ssrc) {
            self.remote_report = Some(RemoteReport {
                fraction_lost: f64::from(block.fraction_lost) / 256.0,
                cumulative_lost: i64::from(block.cumulative_lost),
                jitter_ms: f64::from(block.jitter) * 1000.0 / clock_rate,
            });
            if block.last_sr != 0 {
                let arrival = (self.ntp_at(now) >> 16) as u32;
                let rtt = arrival
                    .wrapping_sub(block.last_sr)
                    .wrapping_sub(block.delay_since_last_sr);
                // A "negative" RTT means a bogus echo; ignore it.
                if i32::try_from(rtt).is_ok() {
                    self.rtt = Some(Duration::from_secs_f64(f64::from(rtt) / 65536.0));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn ntp_conversion() {
        assert_eq!(ntp_timestamp(UNIX_EPOCH) >> 32, NTP_UNIX_OFFSET);
        let half = UNIX_EPOCH + Duration::from_millis(1500);
        assert_eq!(ntp_timestamp(half), (NTP_UNIX_OFFSET + 1) << 32 | 1 << 31);
    }

    #[test]
    fn intervals_are_randomised_within_bounds() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let samples: Vec<Duration> = (0..100).map(|_| interval(&mut rng)).collect();
        assert!(samples
            .iter()
            .all(|d| (REPORT_INTERVAL / 2..REPORT_INTERVAL * 3 / 2).contains(d)));
        assert!(samples.iter().any(|d| *d != samples[0]));
        assert!(first_interval(&mut rng) < REPORT_INTERVAL * 3 / 4);
    }
}
