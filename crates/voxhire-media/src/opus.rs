//! Opus (RFC 6716) for telephony, through `audiopus` and the system libopus.
//!
//! The codec runs at voxhire's internal 8 kHz mono (narrowband, VoIP application),
//! while RFC 7587 §4.1 fixes the RTP clock at 48 kHz whatever the audio bandwidth:
//! a 20 ms frame advances the RTP timestamp by 960. libopus resamples internally, so
//! an 8 kHz decoder accepts packets from a fullband encoder and vice versa.
//!
//! Packet loss concealment is libopus's own: decoding a missing packet (a null
//! packet) extrapolates from the decoder state (RFC 6716 §4.4).

use audiopus::coder::{Decoder, Encoder};
use audiopus::packet::Packet;
use audiopus::{Application, Channels, MutSignals, SampleRate};
use thiserror::Error;

use crate::FRAME_SAMPLES;

/// RTP clock rate of Opus, independent of the coded bandwidth (RFC 7587 §4.1).
pub const OPUS_RTP_CLOCK_RATE: u32 = 48_000;

/// Largest Opus packet duration (120 ms, RFC 6716 §3.2.5) in samples at 8 kHz.
const MAX_PACKET_SAMPLES: usize = 960;
/// RFC 6716 §3.2.1: a packet is at most 1275 bytes per frame; 20 ms is one frame.
const MAX_PACKET_BYTES: usize = 1275;

/// An error reported by libopus.
#[derive(Debug, Error)]
#[error("opus: {0}")]
pub struct OpusError(#[from] audiopus::Error);

/// 8 kHz mono Opus encoder producing one packet per 20 ms frame.
pub struct OpusEncoder {
    inner: Encoder,
}

impl OpusEncoder {
    pub fn new() -> Result<Self, OpusError> {
        Ok(Self {
            inner: Encoder::new(SampleRate::Hz8000, Channels::Mono, Application::Voip)?,
        })
    }

    /// Encodes one 20 ms frame.
    pub fn encode(&mut self, frame: &[i16; FRAME_SAMPLES]) -> Result<Vec<u8>, OpusError> {
        let mut out = vec![0u8; MAX_PACKET_BYTES];
        let len = self.inner.encode(frame, &mut out)?;
        out.truncate(len);
        Ok(out)
    }
}

/// 8 kHz mono Opus decoder with packet loss concealment.
pub struct OpusDecoder {
    inner: Decoder,
}

impl OpusDecoder {
    pub fn new() -> Result<Self, OpusError> {
        Ok(Self {
            inner: Decoder::new(SampleRate::Hz8000, Channels::Mono)?,
        })
    }

    /// Decodes one packet, which may hold 2.5 to 120 ms of audio.
    pub fn decode(&mut self, packet: &[u8]) -> Result<Vec<i16>, OpusError> {
        let packet = Packet::try_from(packet)?;
        self.run(Some(packet), MAX_PACKET_SAMPLES)
    }

    /// Synthesises one 20 ms frame in place of a lost packet.
    pub fn conceal(&mut self) -> Result<Vec<i16>, OpusError> {
        self.run(None, FRAME_SAMPLES)
    }

    fn run(&mut self, packet: Option<Packet<'_>>, capacity: usize) -> Result<Vec<i16>, OpusError> {
        let mut out = vec![0i16; capacity];
        let signals = MutSignals::try_from(&mut out[..])?;
        let samples = self.inner.decode(packet, signals, false)?;
        out.truncate(samples);
        Ok(out)
    }
}

impl std::fmt::Debug for OpusEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpusEncoder { 8 kHz mono VoIP }")
    }
}

impl std::fmt::Debug for OpusDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpusDecoder { 8 kHz mono }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(frame: usize) -> [i16; FRAME_SAMPLES] {
        std::array::from_fn(|i| {
            let t = (frame * FRAME_SAMPLES + i) as f64 / 8000.0;
            (8000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16
        })
    }

    fn energy(samples: &[i16]) -> f64 {
        samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len() as f64
    }

    #[test]
    fn round_trip_keeps_the_signal() {
        let mut enc = OpusEncoder::new().unwrap();
        let mut dec = OpusDecoder::new().unwrap();
        let mut decoded = Vec::new();
        for frame in 0..50 {
            let packet = enc.encode(&tone(frame)).unwrap();
            assert!(!packet.is_empty() && packet.len() < 200);
            let pcm = dec.decode(&packet).unwrap();
            assert_eq!(pcm.len(), FRAME_SAMPLES);
            decoded.extend(pcm);
        }
        // Skip the codec's start-up; then the energy matches the input within 3 dB.
        let input: Vec<i16> = (10..50).flat_map(tone).collect();
        let ratio = energy(&decoded[10 * FRAME_SAMPLES..]) / energy(&input);
        assert!((0.5..2.0).contains(&ratio), "energy ratio {ratio}");
    }

    #[test]
    fn conceals_a_lost_packet() {
        let mut enc = OpusEncoder::new().unwrap();
        let mut dec = OpusDecoder::new().unwrap();
        for frame in 0..10 {
            dec.decode(&enc.encode(&tone(frame)).unwrap()).unwrap();
        }
        let plc = dec.conceal().unwrap();
        assert_eq!(plc.len(), FRAME_SAMPLES);
        assert!(energy(&plc) > 1000.0, "PLC continues the tone");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut dec = OpusDecoder::new().unwrap();
        assert!(dec.decode(&[]).is_err());
        // TOC code 3 (arbitrary frame count) with a truncated frame-count byte.
        assert!(dec.decode(&[0x03]).is_err());
        for b in 0..=255u8 {
            let _ = dec.decode(&[b, 0xff, 0x00, 0x12]);
        }
    }
}
