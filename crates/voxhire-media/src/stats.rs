//! Per-call RTP statistics, serialisable into a call's report and metrics.

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
