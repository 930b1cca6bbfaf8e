//! What a call leaves behind for its caller: the one JSON line `voxhire call`
//! and `voxhire serve` print per call (and the candidate simulator per INVITE),
//! and the WAV a plain (non-interview) call plays.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::media_task::MediaReport;

/// The one JSON line `voxhire call` prints; `voxhire serve` prints the same shape per call.
#[derive(Debug, Serialize)]
pub struct CallSummary {
    pub call_id: String,
    pub outcome: &'static str,
    pub sip_status: u16,
    pub codec: Option<&'static str>,
    /// The media was SRTP (keyed in the SDP).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub srtp: bool,
    pub duration_ms: u64,
    pub rtp: RtpSummary,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub dtmf: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording: Option<String>,
}

/// The call's RTP as we received it (see `voxhire_media::stats::RtpStats`):
/// `jitter_ms` is the running estimate at the end of the call.
#[derive(Debug, Default, Serialize)]
pub struct RtpSummary {
    pub sent: u64,
    pub received: u64,
    pub lost: u64,
    pub jitter_ms: f64,
    pub invalid: u64,
    pub duplicates: u64,
    /// Arrived after their playout slot.
    pub late: u64,
    /// Playout frames concealed (loss and jitter-buffer underruns).
    pub concealed: u64,
    /// Send ticks we skipped because we fell behind the clock.
    pub skipped_ticks: u64,
    /// SRTP/SRTCP packets that failed authentication (or were replays), dropped.
    #[serde(skip_serializing_if = "is_zero")]
    pub srtp_rejected: u64,
}

pub(crate) fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl RtpSummary {
    pub fn from_report(r: Option<&MediaReport>) -> RtpSummary {
        r.map(|r| RtpSummary {
            sent: r.rtp.sent,
            received: r.rtp.received,
            lost: r.rtp.lost,
            jitter_ms: (r.rtp.jitter_ms * 100.0).round() / 100.0,
            invalid: r.rtp.invalid,
            duplicates: r.rtp.duplicates,
            late: r.rtp.late,
            concealed: r.rtp.concealed,
            skipped_ticks: r.rtp.skipped_ticks,
            srtp_rejected: r.srtp_rejected,
        })
        .unwrap_or_default()
    }
}

/// Reads `--play`: any WAV, as 8 kHz mono.
pub fn load_play(path: &Option<PathBuf>) -> Result<Option<Arc<Vec<i16>>>> {
    path.as_ref()
        .map(|p| {
            voxhire_media::wav::read_wav_mono(p, voxhire_media::PCM_RATE)
                .map(Arc::new)
                .with_context(|| format!("reading --play {}", p.display()))
        })
        .transpose()
}
