//! Text to speech: English with Piper (VITS), Mandarin with Kokoro-82M, both
//! through ONNX Runtime, streamed sentence by sentence, and a cache of the fixed
//! lines of an interview script.
//!
//! ```no_run
//! # use voxhire_speech::{models::ModelDir, tts::{Lang, Tts, PromptCache}};
//! let tts = Tts::load(&ModelDir::locate())?;
//! let voice = tts.voice(Lang::En)?;
//! // Each chunk (a sentence, or the first clause of a long first sentence) arrives
//! // as soon as it is synthesised: hand it to the RTP sender, then pull the next.
//! for chunk in voxhire_speech::tts::synthesize_stream(voice.clone(), "Hello! How many years of Java?", 8000)? {
//!     let chunk = chunk?;
//!     println!("{} samples of {:?}", chunk.samples.len(), chunk.text);
//! }
//! // Fixed script lines: synthesised once, shared by every call.
//! let cache = PromptCache::new(PromptCache::DEFAULT_CAPACITY_SAMPLES);
//! cache.warm(voice, ["Thank you for your time. Goodbye."])?;
//! # Ok::<(), voxhire_speech::tts::TtsError>(())
//! ```
//!
//! # espeak-ng and the licence of the voxhire binary
//!
//! Piper voices are trained on espeak-ng's IPA phonemes, so English needs espeak-ng.
//! espeak-ng is GPL-3.0; linking it (`espeakng-sys`) would make the `voxhire`
//! binary a GPL work. We run the Debian `espeak-ng` program as a separate process
//! instead ([`espeak`]): text goes in on stdin, IPA comes out on stdout. That is
//! "mere aggregation" under the GPL, so voxhire stays Apache-2.0 and espeak-ng is a
//! runtime dependency installed by the system's package manager. The cost is one
//! process start per sentence (≈ 15 ms here), small next to the synthesis itself.
//! Mandarin needs no espeak-ng: its front end ([`zh`]) is jieba segmentation +
//! pinyin, both MIT-licensed Rust crates, mapped to misaki's phoneme set.
//!
//! # Latency on this 2-core (AVX2, no AVX-512) machine
//!
//! `cargo bench -p voxhire-speech --bench tts`, with other builds and fuzzers
//! loading the machine (load average ≈ 3), 8 kHz output:
//!
//! | reply | first audio | whole reply | real-time factor |
//! |---|---|---|---|
//! | en, "Thanks, and how many years …?" (3.7 s) | 105 ms | 608 ms | 0.16 |
//! | en, "How many years of experience …?" (3.1 s) | 288 ms | 533 ms | 0.16 |
//! | zh, "好的，请问您有几年的开发经验？" (2.9 s) | 1.38 s | 4.2 s | 1.4 |
//! | zh, "请问您最快什么时候可以入职？" (3.1 s) | 1.58 s | 4.2 s | 1.4 |
//!
//! On an idle machine Piper's first chunk took 60–140 ms and its real-time factor
//! was 0.08. Kokoro is the slow part: ≈ 17 GMAC of convolution per second of
//! 24 kHz audio (its iSTFTNet decoder), 55–70 % of its time in `ConvInteger`
//! (a float copy of the model was no faster), and it generates ≈ 0.4 s of
//! silence before and 0.7 s after every chunk, which is trimmed but still costs.
//! Mandarin therefore relies on the [`PromptCache`] for the fixed lines of a
//! script; live Mandarin replies start 1–2 s after they are requested.

pub mod cache;
pub mod espeak;
pub mod kokoro;
pub mod piper;
mod stream;
pub mod text;
pub mod zh;

use std::sync::Arc;

pub use cache::PromptCache;
pub use kokoro::{KokoroModel, KokoroVoice};
pub use piper::{default_threads, PiperVoice};
pub use stream::{synthesize, synthesize_stream, AudioChunk, SpeechStream};

use crate::models::{ModelDir, ModelError};

/// Language of a voice and of the text given to it.
pub use voxhire_lang::Lang;

#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("nothing to say: the text is empty")]
    EmptyText,
    #[error(transparent)]
    UnknownLang(#[from] voxhire_lang::UnknownLang),
    #[error("no {0} voice is loaded")]
    NoVoice(Lang),
    #[error(
        "cannot run espeak-ng ({program}), the English phonemiser: {message}; \
         install it with `apt-get install espeak-ng` or set VOXHIRE_ESPEAK"
    )]
    EspeakMissing { program: String, message: String },
    #[error("espeak-ng failed: {0}")]
    Espeak(String),
    #[error("{path}: {message}")]
    Config {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("{voice}: inference failed: {message}")]
    Inference { voice: String, message: String },
    #[error("{voice}: nothing to synthesise in {text:?} (no known phonemes)")]
    NoPhonemes { voice: String, text: String },
    #[error("resampling synthesised audio: {0}")]
    Resample(#[from] voxhire_media::resample::ResampleError),
}

/// A loaded voice: turns one chunk of text (a sentence or a clause) into audio.
///
/// Implementations share one ONNX session per model among all calls; `synthesize_chunk`
/// may block while another call's chunk is being synthesised.
pub trait Voice: Send + Sync + std::fmt::Debug {
    /// Stable name, e.g. `piper/en_US-joe-medium`; part of the prompt-cache key.
    fn name(&self) -> &str;
    fn lang(&self) -> Lang;
    /// Native sample rate of [`Voice::synthesize_chunk`]'s output.
    fn sample_rate(&self) -> u32;
    /// Synthesises one chunk at the native rate, samples in [-1, 1]. `ends_sentence`
    /// is false for the head of a sentence cut early for latency: it ends on a
    /// pause, not a full stop.
    fn synthesize_chunk(&self, text: &str, ends_sentence: bool) -> Result<Vec<f32>, TtsError>;

    /// Where a long first sentence without a usable clause break may be cut (byte
    /// offset), so its first words can be sent sooner; `None` keeps it whole.
    fn phrase_cut(&self, _sentence: &str) -> Option<usize> {
        None
    }

    /// (max, min): a first sentence longer than `max` characters (a Chinese
    /// character is one) is cut in two so its first part is ready sooner, leaving
    /// at least `min` characters in that part. The default suits English: 30
    /// characters is about 1.5 s of speech.
    fn first_chunk_limits(&self) -> (usize, usize) {
        (30, 4)
    }
}

/// The product's voices: English = Piper `en_US-joe-medium`, Mandarin = Kokoro
/// `zf_xiaoxiao`.
#[derive(Debug, Clone)]
pub struct Tts {
    voices: Vec<Arc<dyn Voice>>,
}

/// Kokoro voice used for Mandarin.
pub const MANDARIN_VOICE: &str = "zf_xiaoxiao";

impl Tts {
    /// Loads both languages' voices.
    pub fn load(models: &ModelDir) -> Result<Self, TtsError> {
        Self::load_langs(models, &[Lang::En, Lang::Zh])
    }

    /// Loads only the voices of `langs` (each model takes a few hundred ms and
    /// 100–200 MB to load).
    pub fn load_langs(models: &ModelDir, langs: &[Lang]) -> Result<Self, TtsError> {
        Self::load_langs_with_threads(models, langs, piper::default_threads())
    }

    /// [`Tts::load_langs`] with `threads` per synthesis (default: all cores).
    pub fn load_langs_with_threads(
        models: &ModelDir,
        langs: &[Lang],
        threads: usize,
    ) -> Result<Self, TtsError> {
        let mut voices: Vec<Arc<dyn Voice>> = Vec::new();
        for &lang in langs {
            if voices.iter().any(|v| v.lang() == lang) {
                continue;
            }
            match lang {
                Lang::En => voices.push(Arc::new(PiperVoice::load_with_threads(models, threads)?)),
                Lang::Zh => {
                    let model = KokoroModel::load_with_threads(models, threads)?;
                    voices.push(Arc::new(KokoroVoice::load(models, model, MANDARIN_VOICE)?));
                }
            }
        }
        Ok(Tts { voices })
    }

    /// A set of voices assembled by the caller; the first of each language is used.
    pub fn from_voices(voices: Vec<Arc<dyn Voice>>) -> Self {
        Tts { voices }
    }

    /// The voice for `lang`.
    pub fn voice(&self, lang: Lang) -> Result<&Arc<dyn Voice>, TtsError> {
        self.voices
            .iter()
            .find(|v| v.lang() == lang)
            .ok_or(TtsError::NoVoice(lang))
    }
}
