//! The audio codecs voxhire negotiates, behind one encoder and one decoder type.
//!
//! PCMU and PCMA are RFC 3551 §4.5.14 static payload types 0 and 8; Opus is dynamic
//! (RFC 7587), conventionally 111. All three carry 20 ms frames of 8 kHz mono audio
//! inside voxhire.

use thiserror::Error;

use crate::g711;
use crate::opus::{OpusDecoder, OpusEncoder, OpusError, OPUS_RTP_CLOCK_RATE};
use crate::{FRAME_SAMPLES, PCM_RATE};

/// A negotiated audio codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum CodecKind {
    Pcmu,
    Pcma,
    Opus,
}

impl CodecKind {
    /// The payload type to offer when the peer has not chosen one.
    pub fn default_payload_type(self) -> u8 {
        match self {
            Self::Pcmu => 0,
            Self::Pcma => 8,
            Self::Opus => 111,
        }
    }

    /// RTP timestamp clock rate (RFC 3551 §4.5.14; RFC 7587 §4.1 for Opus).
    pub fn clock_rate(self) -> u32 {
        match self {
            Self::Pcmu | Self::Pcma => PCM_RATE,
            Self::Opus => OPUS_RTP_CLOCK_RATE,
        }
    }

    /// RTP timestamp increment for one 20 ms frame: 160 for G.711, 960 for Opus.
    pub fn rtp_timestamp_step(self) -> u32 {
        self.clock_rate() / 50
    }

    /// Encoding name in an SDP `a=rtpmap` line.
    pub fn sdp_name(self) -> &'static str {
        match self {
            Self::Pcmu => "PCMU",
            Self::Pcma => "PCMA",
            Self::Opus => "opus",
        }
    }

    /// The full `a=rtpmap` encoding: name, clock rate and, for Opus, the mandatory
    /// channel count of 2 (RFC 7587 §7).
    pub fn rtpmap(self) -> &'static str {
        match self {
            Self::Pcmu => "PCMU/8000",
            Self::Pcma => "PCMA/8000",
            Self::Opus => "opus/48000/2",
        }
    }

    /// Recognises an `a=rtpmap` encoding (`PCMU/8000`, `opus/48000/2`; names are
    /// case-insensitive per RFC 4855 §3).
    pub fn from_rtpmap(encoding: &str) -> Option<Self> {
        let mut parts = encoding.trim().split('/');
        let name = parts.next()?;
        let rate: u32 = parts.next()?.parse().ok()?;
        [Self::Pcmu, Self::Pcma, Self::Opus]
            .into_iter()
            .find(|c| c.sdp_name().eq_ignore_ascii_case(name) && c.clock_rate() == rate)
    }
}

/// A codec failed. Decode errors are the peer's (a corrupt payload); encode errors
/// come from libopus and are not expected with valid frames.
#[derive(Debug, Error)]
pub enum CodecError {
    #[error(transparent)]
    Opus(#[from] OpusError),
}

/// Encodes 20 ms frames of 8 kHz audio for one RTP stream.
#[derive(Debug)]
pub enum AudioEncoder {
    Pcmu,
    Pcma,
    Opus(Box<OpusEncoder>),
}

impl AudioEncoder {
    pub fn new(kind: CodecKind) -> Result<Self, CodecError> {
        Ok(match kind {
            CodecKind::Pcmu => Self::Pcmu,
            CodecKind::Pcma => Self::Pcma,
            CodecKind::Opus => Self::Opus(Box::new(OpusEncoder::new()?)),
        })
    }

    /// Encodes one frame into an RTP payload.
    pub fn encode(&mut self, frame: &[i16; FRAME_SAMPLES]) -> Result<Vec<u8>, CodecError> {
        Ok(match self {
            Self::Pcmu => g711::encode_ulaw(frame),
            Self::Pcma => g711::encode_alaw(frame),
            Self::Opus(enc) => enc.encode(frame)?,
        })
    }
}

/// G.711 concealment gain for the 1st, 2nd, … consecutive missing frame: the last
/// good frame is replayed, attenuated, and reaches silence after 60 ms. Replaying a
/// 20 ms frame sounds buzzy, so it must not last; G.711 Appendix I's pitch-based
/// concealment would do better on long losses but speech recognition only needs the
/// gap not to click.
const G711_PLC_GAINS: [f32; 3] = [0.8, 0.5, 0.2];

/// Decodes RTP payloads to 8 kHz audio and conceals lost packets.
#[derive(Debug)]
pub enum AudioDecoder {
    G711 {
        law: G711Law,
        /// The last frame decoded, replayed (attenuated) to conceal a loss.
        last_frame: Vec<i16>,
        /// Consecutive frames concealed so far.
        concealed: usize,
    },
    Opus(Box<OpusDecoder>),
}

/// Which G.711 companding law a decoder applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum G711Law {
    Ulaw,
    Alaw,
}

impl AudioDecoder {
    pub fn new(kind: CodecKind) -> Result<Self, CodecError> {
        let g711 = |law| Self::G711 {
            law,
            last_frame: vec![0; FRAME_SAMPLES],
            concealed: 0,
        };
        Ok(match kind {
            CodecKind::Pcmu => g711(G711Law::Ulaw),
            CodecKind::Pcma => g711(G711Law::Alaw),
            CodecKind::Opus => Self::Opus(Box::new(OpusDecoder::new()?)),
        })
    }

    /// Decodes one payload. G.711 yields one sample per byte, Opus whatever duration
    /// the packet holds; with the negotiated 20 ms ptime both give 160 samples.
    pub fn decode(&mut self, payload: &[u8]) -> Result<Vec<i16>, CodecError> {
        match self {
            Self::G711 {
                law,
                last_frame,
                concealed,
            } => {
                let pcm = match law {
                    G711Law::Ulaw => g711::decode_ulaw(payload),
                    G711Law::Alaw => g711::decode_alaw(payload),
                };
                *concealed = 0;
                if pcm.len() >= FRAME_SAMPLES {
                    last_frame.copy_from_slice(&pcm[pcm.len() - FRAME_SAMPLES..]);
                }
                Ok(pcm)
            }
            Self::Opus(dec) => Ok(dec.decode(payload)?),
        }
    }

    /// Produces one 20 ms frame in place of a missing packet: Opus's own PLC, or for
    /// G.711 the last frame replayed with a fading gain, then silence.
    pub fn conceal(&mut self) -> Result<Vec<i16>, CodecError> {
        match self {
            Self::G711 {
                last_frame,
                concealed,
                ..
            } => {
                let gain = |n: usize| G711_PLC_GAINS.get(n).copied().unwrap_or(0.0);
                let (from, to) = (
                    if *concealed == 0 {
                        1.0
                    } else {
                        gain(*concealed - 1)
                    },
                    gain(*concealed),
                );
                *concealed += 1;
                // Ramp the gain across the frame so no step is audible at its edges.
                let n = last_frame.len() as f32;
                Ok(last_frame
                    .iter()
                    .enumerate()
                    .map(|(i, &s)| {
                        let g = from + (to - from) * (i as f32 + 1.0) / n;
                        (f32::from(s) * g) as i16
                    })
                    .collect())
            }
            Self::Opus(dec) => Ok(dec.conceal()?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codec_parameters() {
        assert_eq!(CodecKind::Pcmu.rtp_timestamp_step(), 160);
        assert_eq!(CodecKind::Pcma.rtp_timestamp_step(), 160);
        assert_eq!(CodecKind::Opus.rtp_timestamp_step(), 960);
        assert_eq!(CodecKind::Opus.clock_rate(), 48_000);
        assert_eq!(CodecKind::Pcma.default_payload_type(), 8);
        assert_eq!(CodecKind::from_rtpmap("pcmu/8000"), Some(CodecKind::Pcmu));
        assert_eq!(
            CodecKind::from_rtpmap("opus/48000/2"),
            Some(CodecKind::Opus)
        );
        assert_eq!(CodecKind::from_rtpmap("PCMU/16000"), None);
        assert_eq!(CodecKind::from_rtpmap("G729/8000"), None);
        assert_eq!(CodecKind::from_rtpmap("PCMA"), None);
    }

    #[test]
    fn every_codec_round_trips_a_frame() {
        let frame: [i16; FRAME_SAMPLES] = std::array::from_fn(|i| ((i as i16) - 80) * 100);
        for kind in [CodecKind::Pcmu, CodecKind::Pcma, CodecKind::Opus] {
            let mut enc = AudioEncoder::new(kind).unwrap();
            let mut dec = AudioDecoder::new(kind).unwrap();
            let payload = enc.encode(&frame).unwrap();
            assert_eq!(
                dec.decode(&payload).unwrap().len(),
                FRAME_SAMPLES,
                "{kind:?}"
            );
            assert_eq!(dec.conceal().unwrap().len(), FRAME_SAMPLES, "{kind:?}");
        }
    }

    #[test]
    fn g711_concealment_fades_to_silence() {
        let mut dec = AudioDecoder::new(CodecKind::Pcmu).unwrap();
        let loud = g711::encode_ulaw(&[10_000; FRAME_SAMPLES]);
        dec.decode(&loud).unwrap();
        let peaks: Vec<i16> = (0..5)
            .map(|_| dec.conceal().unwrap().into_iter().max().unwrap())
            .collect();
        assert!(
            peaks.windows(2).all(|w| w[1] < w[0] || w[1] == 0),
            "{peaks:?}"
        );
        assert!(peaks[0] > 5_000);
        assert_eq!(peaks[4], 0);
        // A good packet resets the fade.
        dec.decode(&loud).unwrap();
        assert!(dec.conceal().unwrap()[0] > 9_000);
    }
}
