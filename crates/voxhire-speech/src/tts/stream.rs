//! Synthesis chunk by chunk, so the first sentence can play while the rest is made.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use voxhire_media::resample;

use super::text::{self, Chunk};
use super::{TtsError, Voice};

/// Silence after each sentence (Piper's default `sentence_silence`).
const SENTENCE_PAUSE: Duration = Duration::from_millis(200);
/// Silence after the first part of a sentence cut early for latency: a comma's
/// pause, so the join sounds like phrasing rather than a splice.
const CLAUSE_PAUSE: Duration = Duration::from_millis(100);

/// Audio of one chunk of the text.
#[derive(Debug, Clone)]
pub struct AudioChunk {
    /// 0 for the first chunk.
    pub index: usize,
    /// The text this audio speaks.
    pub text: String,
    /// Mono 16-bit samples at `sample_rate`, including the pause after a sentence.
    pub samples: Vec<i16>,
    pub sample_rate: u32,
    /// Time spent synthesising (and resampling) this chunk.
    pub synthesis_time: Duration,
    /// True for the last chunk of the text.
    pub is_last: bool,
}

impl AudioChunk {
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(self.sample_rate))
    }
}

/// An iterator over a text's audio, one [`AudioChunk`] per sentence (the first
/// sentence possibly in two). Each `next()` synthesises one chunk, so the caller
/// can send the first chunk while it pulls the second; run it on a blocking thread
/// (`tokio::task::spawn_blocking`) feeding a bounded channel to overlap the two.
/// After an error the iterator ends.
pub struct SpeechStream {
    voice: Arc<dyn Voice>,
    chunks: VecDeque<Chunk>,
    out_rate: u32,
    index: usize,
}

impl std::fmt::Debug for SpeechStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpeechStream")
            .field("voice", &self.voice.name())
            .field("chunks_left", &self.chunks.len())
            .field("out_rate", &self.out_rate)
            .finish()
    }
}

/// Starts streaming `text` in `voice` at `out_rate` Hz (8000 for a call, or
/// `voice.sample_rate()` for the native rate). Fails at once on empty text.
pub fn synthesize_stream(
    voice: Arc<dyn Voice>,
    text: &str,
    out_rate: u32,
) -> Result<SpeechStream, TtsError> {
    let phrase_cut = |sentence: &str| voice.phrase_cut(sentence);
    let (max_chars, min_chars) = voice.first_chunk_limits();
    let cut = text::FirstCut {
        max_chars,
        min_chars,
        phrase_cut: &phrase_cut,
    };
    let chunks: VecDeque<Chunk> = text::plan_chunks(text, &cut).into();
    if chunks.is_empty() {
        return Err(TtsError::EmptyText);
    }
    Ok(SpeechStream {
        voice,
        chunks,
        out_rate,
        index: 0,
    })
}

/// Synthesises all of `text` at `out_rate` Hz.
pub fn synthesize(voice: Arc<dyn Voice>, text: &str, out_rate: u32) -> Result<Vec<i16>, TtsError> {
    let mut out = Vec::new();
    for chunk in synthesize_stream(voice, text, out_rate)? {
        out.extend(chunk?.samples);
    }
    Ok(out)
}

impl SpeechStream {
    fn render(&self, chunk: &Chunk) -> Result<Vec<i16>, TtsError> {
        let native = self.voice.sample_rate();
        let mut audio = self
            .voice
            .synthesize_chunk(&chunk.text, chunk.ends_sentence)?;
        let pause = if !chunk.ends_sentence {
            CLAUSE_PAUSE
        } else if !self.chunks.is_empty() {
            SENTENCE_PAUSE
        } else {
            Duration::ZERO
        };
        audio.resize(
            audio.len() + (pause.as_secs_f64() * f64::from(native)) as usize,
            0.0,
        );
        let audio = if native == self.out_rate {
            audio
        } else {
            resample::resample(&audio, native, self.out_rate)?
        };
        Ok(resample::to_i16(&audio))
    }
}

impl Iterator for SpeechStream {
    type Item = Result<AudioChunk, TtsError>;

    fn next(&mut self) -> Option<Self::Item> {
        let chunk = self.chunks.pop_front()?;
        let started = Instant::now();
        match self.render(&chunk) {
            Ok(samples) => {
                let index = self.index;
                self.index += 1;
                Some(Ok(AudioChunk {
                    index,
                    text: chunk.text,
                    samples,
                    sample_rate: self.out_rate,
                    synthesis_time: started.elapsed(),
                    is_last: self.chunks.is_empty(),
                }))
            }
            Err(e) => {
                self.chunks.clear();
                Some(Err(e))
            }
        }
    }
}
