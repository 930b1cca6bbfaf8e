//! Per-call RTP statistics, serialisable into a call's report and metrics, and
//! the one percentile every latency figure (reports, benchmarks) is computed with.

/// What the remote end reported about our stream in its last reception report
/// (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct RemoteReport {
    /// Fraction of our packets lost in its last interval, 0.0–1.0.
    pub fraction_lost: f64,
    /// Our packets it has not received since the start.
    pub cumulative_lost: i64,
    /// Interarrival jitter it measured on our stream.
    pub jitter_ms: f64,
}

/// Counters for one media session.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct RtpStats {
    /// RTP packets sent, and their payload octets.
    pub sent: u64,
    pub sent_octets: u64,
    /// Valid RTP packets received from the remote, duplicates excluded.
    pub received: u64,
    /// Packets the remote sent that never arrived: expected minus received
    /// (RFC 3550 A.3), summed over its sources.
    pub lost: u64,
    pub duplicates: u64,
    /// Arrived after their playout slot (counted as received, not played).
    pub late: u64,
    /// Datagrams that were not RTP/RTCP, carried an unnegotiated payload type or
    /// jumped sequence numbers without confirmation.
    pub invalid: u64,
    /// Valid RTP from an address other than the latched remote.
    pub foreign_source: u64,
    /// Playout frames concealed: lost packets plus jitter-buffer underruns.
    pub concealed: u64,
    /// Payloads the codec could not decode (concealed instead).
    pub decode_errors: u64,
    /// Send ticks skipped because the caller fell too far behind the clock.
    pub skipped_ticks: u64,
    /// Interarrival jitter of the remote's stream (RFC 3550 A.8).
    pub jitter_ms: f64,
    /// Current jitter buffer target delay.
    pub playout_delay_ms: f64,
    pub rtcp_sent: u64,
    pub rtcp_received: u64,
    /// The remote's last report about our stream, if it sent one.
    pub remote: Option<RemoteReport>,
    /// Round-trip time from the remote's LSR/DLSR echo of our Sender Report.
    pub rtt_ms: Option<f64>,
}

/// Nearest-rank percentile (`p` from 0 to 100) of values sorted ascending:
/// the smallest value with at least `p` % of the values at or below it. The
/// default value (0) for no values.
pub fn percentile<T: Copy + Default>(sorted: &[T], p: u32) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let n = sorted.len() as u64;
    let rank = (u64::from(p.min(100)) * n).div_ceil(100).max(1) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// Sorts floating-point values for [`percentile`] (total order: NaN last).
pub fn sort_f64(values: &mut [f64]) {
    values.sort_by(|a, b| a.total_cmp(b));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<u64> = (1..=20).collect();
        assert_eq!(percentile(&v, 50), 10);
        assert_eq!(percentile(&v, 95), 19);
        assert_eq!(percentile(&v, 100), 20);
        assert_eq!(percentile(&v, 0), 1);
        assert_eq!(percentile(&v, 250), 20, "clamped to 100");
        assert_eq!(percentile(&[7u64], 95), 7);
        assert_eq!(percentile::<u64>(&[], 50), 0);
        let mut f = vec![3.0, f64::NAN, 1.0, 2.0];
        sort_f64(&mut f);
        assert_eq!(percentile(&f, 50), 2.0);
        assert_eq!(percentile(&f, 75), 3.0);
    }
}
