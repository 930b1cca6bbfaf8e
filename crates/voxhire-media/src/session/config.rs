//! What a [`MediaSession`](super::MediaSession) is built from and what it hands back.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use thiserror::Error;

use crate::codec::{CodecError, CodecKind};
use crate::dtmf::DtmfError;
use crate::jitter::JitterConfig;

/// The negotiated parameters of one call's audio stream.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    pub codec: CodecKind,
    /// Payload type of the codec as negotiated in SDP.
    pub payload_type: u8,
    /// Payload type of `telephone-event` if the peer accepted it (RFC 4733 §7).
    pub dtmf_payload_type: Option<u8>,
    /// Where to send RTP until a packet from the peer latches the address.
    pub remote_rtp: SocketAddr,
    /// Where to send RTCP; `None` means the RTP port + 1 (RFC 3550 §11).
    pub remote_rtcp: Option<SocketAddr>,
    pub ssrc: u32,
    /// RFC 3550 §5.1: the initial sequence number and timestamp should be random.
    pub initial_seq: u16,
    pub initial_timestamp: u32,
    /// RTCP canonical name (RFC 3550 §6.5.1).
    pub cname: String,
    /// Seeds the randomisation of RTCP report intervals (RFC 3550 §6.3.5).
    pub seed: u64,
    /// Wall-clock time at the `now` passed to `MediaSession::new`; Sender Report NTP
    /// timestamps are derived from it, since the session reads no clock.
    pub start_wallclock: SystemTime,
    pub jitter: JitterConfig,
}

impl MediaConfig {
    /// A configuration with the codec's default payload type, no DTMF, and SSRC,
    /// initial sequence number and timestamp drawn from `seed`, so a call can be
    /// replayed byte for byte.
    pub fn new(
        codec: CodecKind,
        remote_rtp: SocketAddr,
        seed: u64,
        start_wallclock: SystemTime,
    ) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let ssrc = rng.random();
        Self {
            codec,
            payload_type: codec.default_payload_type(),
            dtmf_payload_type: None,
            remote_rtp,
            remote_rtcp: None,
            ssrc,
            initial_seq: rng.random(),
            initial_timestamp: rng.random(),
            cname: format!("voxhire-{ssrc:08x}"),
            seed: rng.random(),
            start_wallclock,
            jitter: JitterConfig::default(),
        }
    }
}

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub dst: SocketAddr,
    pub kind: TransmitKind,
    pub payload: Vec<u8>,
}

/// Which socket a [`Transmit`] leaves from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransmitKind {
    Rtp,
    Rtcp,
}

/// Something the application should know about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// One 20 ms frame (160 samples at 8 kHz) of the peer's audio, every tick.
    Audio(Vec<i16>),
    /// The peer pressed a key (RFC 4733), reported once per key press.
    Dtmf { digit: char, duration: Duration },
    /// RTP is now sent to this address, where the peer's RTP comes from (RFC 4961).
    RemoteLatched(SocketAddr),
    /// The peer's source left with an RTCP BYE (RFC 3550 §6.6).
    RemoteBye,
}

/// Errors from the session API; the peer's garbage never surfaces here, it is
/// counted in the statistics.
#[derive(Debug, Error)]
pub enum MediaError {
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error("payload type {0} is outside 0..=127")]
    BadPayloadType(u8),
    #[error("the peer did not negotiate telephone-event, DTMF cannot be sent")]
    DtmfNotNegotiated,
    #[error(transparent)]
    Dtmf(#[from] DtmfError),
    #[error("the media session has ended")]
    Closed,
}
