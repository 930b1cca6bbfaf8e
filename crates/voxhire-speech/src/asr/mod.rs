//! Speech recognition with Whisper (whisper.cpp via `whisper-rs`), fast enough for a
//! live call on two cores.
//!
//! - [`AsrEngine`]: the loaded models (one `WhisperContext` each, shared by every
//!   call) and a bounded worker pool. Callers [`submit`](AsrEngine::submit) a
//!   [`DecodeRequest`] and get a [`Ticket`] (a future, or `wait()` when blocking);
//!   a full queue is an error ([`AsrError::Busy`]), never an unbounded backlog.
//! - [`StreamingRecognizer`]: one per call. It turns [`EndpointEvent`]s into partial
//!   hypotheses while the candidate speaks and a final result when the endpoint
//!   fires, decoding speculatively at the first pause so the final is usually ready
//!   by the time the end-of-turn silence has elapsed.
//!
//! Decoding follows what was measured to be fast and stable for short utterances
//! (../shared/MODELS.md): greedy, `audio_ctx` sized to the audio plus 128 frames of
//! pad, no timestamps, one segment, no cross-utterance context, a token cap as a loop
//! guard, a Mandarin prompt that keeps output in simplified Chinese, and the
//! English-only tiny model for English.
//!
//! [`EndpointEvent`]: crate::endpoint::EndpointEvent

mod bias;
pub mod chinese;
mod cpu;
mod engine;
mod filter;
mod streaming;
mod whisper;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use bias::{BiasWeights, Hotwords};
pub use engine::{AsrConfig, AsrEngine, AsrStats, DecodeRequest, Listening, Priority, Ticket};
pub use filter::Suppression;
pub use streaming::{FinalResult, Hypothesis, Recognition, StreamingRecognizer};
pub use whisper::{
    AsrModel, EnglishModel, Weights, DEFAULT_AUDIO_CTX_PAD, DEFAULT_MANDARIN_PROMPT,
};

use crate::models::ModelError;

/// Sample rate Whisper takes.
pub const ASR_RATE: u32 = 16_000;

/// Longest audio one decode accepts: Whisper's window.
pub const MAX_AUDIO_MS: u64 = 30_000;

#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Every worker is busy and the queue is full: shed load (skip a partial,
    /// refuse a call) rather than queue without bound.
    #[error("ASR queue full ({capacity} requests waiting)")]
    Busy { capacity: usize },
    #[error("the ASR engine has shut down")]
    ShutDown,
    /// The request was withdrawn (its ticket dropped) while it was decoded.
    #[error("the decode was cancelled")]
    Cancelled,
    #[error(
        "audio of {ms} ms is longer than Whisper's 30 s window: split it into utterances first"
    )]
    TooLong { ms: u64 },
    #[error("resampling to 16 kHz failed: {0}")]
    Resample(#[from] voxhire_media::resample::ResampleError),
    #[error("Whisper ({model}) failed: {message}")]
    Whisper { model: AsrModel, message: String },
}

/// The language to recognise: one of voxhire's [`voxhire_lang::Lang`]s, or
/// auto-detection between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Detect English or Mandarin (the two voxhire interviews in).
    #[default]
    Auto,
    En,
    /// Mandarin; output in simplified characters.
    Zh,
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::Auto => "auto",
            Language::En => "en",
            Language::Zh => "zh",
        }
    }
}

impl From<voxhire_lang::Lang> for Language {
    fn from(lang: voxhire_lang::Lang) -> Language {
        match lang {
            voxhire_lang::Lang::En => Language::En,
            voxhire_lang::Lang::Zh => Language::Zh,
        }
    }
}

impl Language {
    /// The language to recognise, `None` for auto-detection.
    pub fn lang(self) -> Option<voxhire_lang::Lang> {
        match self {
            Language::Auto => None,
            Language::En => Some(voxhire_lang::Lang::En),
            Language::Zh => Some(voxhire_lang::Lang::Zh),
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Language {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Language::Auto),
            "en" | "english" => Ok(Language::En),
            "zh" | "cmn" | "mandarin" | "chinese" => Ok(Language::Zh),
            _ => Err(format!("unknown language {s:?}: expected auto, en or zh")),
        }
    }
}

/// A stretch of recognised text; times are on the stream's clock (the request's
/// `offset_ms` plus the position in the decoded audio).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
    /// Geometric mean of the text tokens' probabilities, 0–1.
    pub confidence: f32,
}

/// One decode's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    /// The text, empty when nothing was said or the output was suppressed.
    pub text: String,
    /// `en` or `zh` (detected when the request said `auto`).
    pub language: Language,
    pub segments: Vec<Segment>,
    /// Wall time inside the worker: resampling, language detection, decoding.
    pub decode_ms: u64,
    /// whisper.cpp threads it ran on (more than one only when the decode had
    /// the machine to itself: see [`AsrEngine`]).
    pub threads: usize,
    /// Whisper's probability that the audio held no speech.
    pub no_speech_prob: f32,
    pub model: AsrModel,
    /// Why Whisper's output was dropped, if it was (the raw text is kept here).
    pub suppressed: Option<(Suppression, String)>,
}

impl Transcript {
    /// Mean segment confidence (0 when there is no text).
    pub fn confidence(&self) -> f32 {
        if self.segments.is_empty() {
            0.0
        } else {
            self.segments.iter().map(|s| s.confidence).sum::<f32>() / self.segments.len() as f32
        }
    }
}

/// 8 kHz phone audio to Whisper's 16 kHz floats.
pub fn phone_to_asr(audio: &[i16]) -> Result<Vec<f32>, AsrError> {
    Ok(voxhire_media::resample::resample(
        &voxhire_media::resample::to_f32(audio),
        voxhire_media::PCM_RATE,
        ASR_RATE,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_parses_and_prints() {
        for (s, l) in [
            ("auto", Language::Auto),
            ("EN", Language::En),
            ("zh", Language::Zh),
        ] {
            assert_eq!(s.parse::<Language>().unwrap(), l);
        }
        assert_eq!(Language::Zh.to_string(), "zh");
        let e = "fr".parse::<Language>().unwrap_err();
        assert!(e.contains("auto, en or zh"), "{e}");
    }
}
