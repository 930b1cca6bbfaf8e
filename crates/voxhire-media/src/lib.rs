//! Sans-IO media for voxhire calls.
#![forbid(unsafe_code)]

use std::time::Duration;

pub mod codec;
pub mod dtmf;
pub mod g711;
pub mod jitter;
pub mod opus;
pub mod resample;
pub mod rtcp;
pub mod rtp;
pub mod wav;

/// Sample rate of all call audio inside voxhire.
pub const PCM_RATE: u32 = 8000;
/// Samples in one 20 ms frame at [`PCM_RATE`].
pub const FRAME_SAMPLES: usize = 160;
/// Packetisation time: one RTP packet carries one 20 ms frame.
pub const PTIME: Duration = Duration::from_millis(20);
