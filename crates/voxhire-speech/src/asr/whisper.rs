//! One Whisper model and the decoding settings that make it fast on short phone
//! utterances. A [`LoadedModel`] is shared by all workers; each worker owns a
//! [`Decoder`] (its own `WhisperState`, reused request after request).

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Deserialize;
use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use voxhire_whisper_bias::{BiasWeights, Phrase, TokenBias};

use super::bias::Hotwords;
use super::filter::{self, Evidence};
use super::{AsrError, Language, Segment, Transcript, ASR_RATE, MAX_AUDIO_MS};
use crate::models::{ModelDir, ModelError};

/// The Whisper models voxhire ships (models/MANIFEST).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AsrModel {
    /// Multilingual base: Mandarin, and language detection.
    Base,
    /// English-only tiny.
    TinyEn,
}

impl AsrModel {
    pub fn file(self, weights: Weights) -> &'static str {
        match (self, weights) {
            (AsrModel::Base, Weights::F16) => "whisper/ggml-base.bin",
            (AsrModel::Base, Weights::Q8_0) => "whisper/ggml-base-q8_0.bin",
            (AsrModel::TinyEn, Weights::F16) => "whisper/ggml-tiny.en.bin",
            (AsrModel::TinyEn, Weights::Q8_0) => "whisper/ggml-tiny.en-q8_0.bin",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            AsrModel::Base => "base",
            AsrModel::TinyEn => "tiny.en",
        }
    }
}

impl fmt::Display for AsrModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the model's weights are stored (scripts/fetch-models.sh makes both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weights {
    /// 8-bit blocks (ggml q8_0): half the memory, faster decodes, accuracy within
    /// noise of f16 on the held-out set (see docs/benchmarks.md).
    #[default]
    Q8_0,
    F16,
}

/// Which model decodes English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnglishModel {
    /// English-only tiny: on the phone-band test set (tests/speech/asr) WER 2.8 %
    /// against base's 4.4 %, at less than half base's decode time.
    #[default]
    TinyEn,
    Base,
}

/// Mandarin preamble before the question's own prompt: it sets the register
/// (simplified characters, Chinese punctuation) without naming anything a
/// candidate might say. Chosen on the held-out dev set (`cargo bench --bench
/// heldout_accuracy`, 50 Mandarin clips, q8_0, greedy): none 25.0 % error / 20
/// of 32 slots; the old "以下是普通话的句子。" 23.8 % / 20 (and it leaked into
/// hard clips: "啥普通话念得…"); a sample answer naming Java and MySQL 23.1 % /
/// 22, but it talked Whisper into those names ("主要用Java" for "主要用React" in
/// an e2e call); "嗯，好的。" 24.1 % / 23.
pub const DEFAULT_MANDARIN_PROMPT: &str = "嗯，好的。";

/// How a worker decodes (from [`AsrConfig`](super::AsrConfig)).
#[derive(Debug, Clone)]
pub(crate) struct DecodeSettings {
    pub threads: usize,
    pub audio_ctx_pad: u32,
    pub mandarin_prompt: String,
    pub beam_size: u32,
    pub bias: BiasWeights,
}

/// Frames of encoder context added to the audio's own by default. MODELS.md saw
/// base loop with +64 and not with +192. On the phone-band test set +128 with the
/// tight token cap and the runaway cut (`filter::cut_runaway`) kept WER and CER
/// at the +192 figures (en WER 2.8 %, zh CER unchanged) for 13-17 % less CPU per
/// decode; +64 was faster still but looped on 2 of 21 English clips (WER 7.8 %).
pub const DEFAULT_AUDIO_CTX_PAD: u32 = 128;

/// Letters a term's first token needs for the entry bonus (see `distinctive`).
const MIN_ENTRY_LETTERS: usize = 3;

/// Encoder frames per second of audio.
const FRAMES_PER_SECOND: usize = 50;

/// Longest vocabulary prompt accepted, in bytes. Keeps the tokenizer's output below
/// its buffer (a token is at least one byte) and Whisper's prompt budget.
const MAX_PROMPT_BYTES: usize = 600;

/// A model loaded once for the whole process.
pub(crate) struct LoadedModel {
    pub kind: AsrModel,
    pub context: WhisperContext,
    pub multilingual: bool,
}

impl LoadedModel {
    pub fn load(
        models: &ModelDir,
        kind: AsrModel,
        weights: Weights,
    ) -> Result<Arc<Self>, AsrError> {
        whisper_rs::install_logging_hooks();
        let path = models.file(kind.file(weights))?;
        let mut params = WhisperContextParameters::default();
        params.use_gpu(false);
        let context = WhisperContext::new_with_params(&path, params).map_err(|e| {
            AsrError::Model(ModelError::Load {
                path: path.clone(),
                message: format!(
                    "{e} (is it a whisper.cpp ggml file? re-run scripts/fetch-models.sh)"
                ),
            })
        })?;
        let multilingual = context.is_multilingual();
        Ok(Arc::new(LoadedModel {
            kind,
            context,
            multilingual,
        }))
    }
}

/// The cancel flag of the request being decoded, read by whisper.cpp's abort
/// callback between the nodes of every encoder and decoder graph: a request whose
/// ticket is dropped mid-decode (a pause decode the candidate has talked over)
/// stops within milliseconds and frees its worker for a decode somebody waits on.
#[derive(Clone, Default)]
struct AbortSlot(Arc<Mutex<Option<Arc<AtomicBool>>>>);

impl AbortSlot {
    fn set(&self, flag: Option<Arc<AtomicBool>>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = flag;
    }

    fn aborted(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
    }
}

/// A worker's decoding state for one model.
pub(crate) struct Decoder {
    model: Arc<LoadedModel>,
    state: WhisperState,
    threads: usize,
    audio_ctx_pad: i32,
    /// Parameters per language, built once: whisper-rs leaks the C string behind
    /// `set_language`, so building them per decode would leak per decode.
    params_en: FullParams<'static, 'static>,
    params_zh: FullParams<'static, 'static>,
    mandarin_prompt: Vec<i32>,
    /// The last vocabulary prompt and its tokens (a call asks the same question's
    /// prompt for every partial).
    prompt_cache: Option<(String, Vec<i32>)>,
    bias_weights: BiasWeights,
    /// The last hot-word list and its tokens (boxed: whisper.cpp holds a pointer
    /// to it during a decode).
    bias_cache: Option<(Hotwords, Box<TokenBias>)>,
    abort: AbortSlot,
}

fn whisper_err(model: AsrModel) -> impl Fn(whisper_rs::WhisperError) -> AsrError {
    move |e| AsrError::Whisper {
        model,
        message: e.to_string(),
    }
}

fn base_params(
    language: &'static str,
    threads: usize,
    beam_size: u32,
    abort: &AbortSlot,
) -> FullParams<'static, 'static> {
    let strategy = if beam_size > 1 {
        SamplingStrategy::BeamSearch {
            beam_size: beam_size as i32,
            patience: -1.0,
        }
    } else {
        SamplingStrategy::Greedy { best_of: 1 }
    };
    let mut p = FullParams::new(strategy);
    p.set_language(Some(language));
    p.set_n_threads(threads as i32);
    p.set_translate(false);
    p.set_no_timestamps(true);
    p.set_single_segment(true);
    p.set_no_context(true);
    // Non-speech tokens ([Music], ♪ …) are never an answer.
    p.set_suppress_nst(true);
    // No temperature fallback: bounded latency matters more than rescuing the rare
    // failed decode (a fallback pass costs seconds).
    p.set_temperature(0.0);
    p.set_temperature_inc(0.0);
    p.set_print_special(false);
    p.set_print_progress(false);
    p.set_print_realtime(false);
    p.set_print_timestamps(false);
    // Set once per decoder (whisper-rs leaks the closure's box on every set).
    // Passed as a `Box<dyn FnMut>`: whisper-rs 0.16 stores the closure as a
    // `Box<dyn FnMut() -> bool>` but its trampoline reads the pointer as the
    // closure's own type `F`, which is only right when `F` is that box (a bare
    // closure crashes on the first call).
    let abort = abort.clone();
    let check: Box<dyn FnMut() -> bool> = Box::new(move || abort.aborted());
    p.set_abort_callback_safe(check);
    p
}

impl Decoder {
    pub fn new(model: Arc<LoadedModel>, settings: &DecodeSettings) -> Result<Self, AsrError> {
        let err = whisper_err(model.kind);
        let state = model.context.create_state().map_err(&err)?;
        let preamble = settings.mandarin_prompt.trim();
        let mandarin_prompt = if model.multilingual && !preamble.is_empty() {
            model.context.tokenize(preamble, 128).map_err(&err)?
        } else {
            Vec::new()
        };
        let threads = settings.threads.max(1);
        let abort = AbortSlot::default();
        let mut decoder = Decoder {
            params_en: base_params("en", threads, settings.beam_size, &abort),
            params_zh: base_params("zh", threads, settings.beam_size, &abort),
            model,
            state,
            threads,
            audio_ctx_pad: settings.audio_ctx_pad.min(1500) as i32,
            mandarin_prompt,
            prompt_cache: None,
            bias_weights: settings.bias,
            bias_cache: None,
            abort,
        };
        // Warm up: the first decode allocates the compute buffers; do it here, not
        // in a candidate's first answer. It also leaves the state's encoder context
        // at a short-utterance size, which language detection relies on (below).
        let silence = vec![0.0f32; ASR_RATE as usize];
        decoder.decode(&silence, Language::En, None, None, 0, None)?;
        Ok(decoder)
    }

    /// whisper.cpp threads for the decodes from now on.
    pub fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }

    fn prompt_tokens(&mut self, prompt: &str) -> Result<Vec<i32>, AsrError> {
        if let Some((text, tokens)) = &self.prompt_cache {
            if text == prompt {
                return Ok(tokens.clone());
            }
        }
        let mut end = prompt.len().min(MAX_PROMPT_BYTES);
        while !prompt.is_char_boundary(end) {
            end -= 1;
        }
        let clean: String = prompt[..end].chars().filter(|&c| c != '\0').collect();
        let tokens = self
            .model
            .context
            .tokenize(&clean, MAX_PROMPT_BYTES + 16)
            .map_err(whisper_err(self.model.kind))?;
        self.prompt_cache = Some((prompt.to_owned(), tokens.clone()));
        Ok(tokens)
    }

    /// Caches `hotwords` as token sequences, each with and without a leading space.
    fn token_bias(&mut self, hotwords: &Hotwords) -> Result<(), AsrError> {
        let fresh = !matches!(&self.bias_cache, Some((h, _)) if h.same(hotwords));
        if fresh {
            let err = whisper_err(self.model.kind);
            let mut phrases = Vec::new();
            for term in hotwords.terms() {
                for text in [term.clone(), format!(" {term}")] {
                    let tokens = self
                        .model
                        .context
                        .tokenize(&text, text.len() + 8)
                        .map_err(&err)?;
                    let entry = tokens.first().is_some_and(|&t| self.distinctive(t));
                    phrases.push(Phrase { tokens, entry });
                }
            }
            let n_vocab = usize::try_from(self.model.context.n_vocab()).unwrap_or(0);
            let bias = TokenBias::new(phrases, self.bias_weights, n_vocab);
            self.bias_cache = Some((hotwords.clone(), Box::new(bias)));
        }
        Ok(())
    }

    /// Whether a term's first token says much on its own: a CJK character or at
    /// least three letters ("React", " Py"), not "P" or " K".
    fn distinctive(&self, token: i32) -> bool {
        let Ok(bytes) = self.model.context.token_to_bytes(token) else {
            return false;
        };
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim();
        !text.is_ascii() || text.len() >= MIN_ENTRY_LETTERS
    }

    /// English or Mandarin, whichever Whisper finds likelier.
    ///
    /// whisper.cpp's own "auto" encodes the full 30 s window before the sized one
    /// (its detection runs before `audio_ctx` is applied), which triples the cost.
    /// Here detection runs on this state's mel with the encoder context the state
    /// kept from its previous decode (≥ 178 frames ≈ 3.6 s, thanks to the warm-up):
    /// enough audio to tell English from Mandarin, at the cost of one short encode.
    fn detect(&mut self, audio: &[f32]) -> Result<Language, AsrError> {
        let err = whisper_err(self.model.kind);
        if !self.model.multilingual {
            return Ok(Language::En);
        }
        self.state.pcm_to_mel(audio, self.threads).map_err(&err)?;
        let (_, probs) = self.state.lang_detect(0, self.threads).map_err(&err)?;
        let p = |code| {
            whisper_rs::get_lang_id(code)
                .and_then(|id| probs.get(id as usize).copied())
                .unwrap_or(0.0)
        };
        Ok(if p("zh") > p("en") {
            Language::Zh
        } else {
            Language::En
        })
    }

    /// Decodes 16 kHz mono audio (at most 30 s). `offset_ms` places the segment on
    /// the caller's clock. Once `cancel` is set the decode stops
    /// ([`AsrError::Cancelled`]).
    pub fn decode(
        &mut self,
        audio: &[f32],
        language: Language,
        prompt: Option<&str>,
        hotwords: Option<&Hotwords>,
        offset_ms: u64,
        cancel: Option<Arc<AtomicBool>>,
    ) -> Result<Transcript, AsrError> {
        let started = Instant::now();
        let kind = self.model.kind;
        let err = whisper_err(kind);
        let audio_ms = audio.len() as u64 * 1000 / u64::from(ASR_RATE);
        if audio_ms > MAX_AUDIO_MS {
            return Err(AsrError::TooLong { ms: audio_ms });
        }
        let language = match language {
            Language::Auto => self.detect(audio)?,
            other => other,
        };
        let language = if self.model.multilingual {
            language
        } else {
            Language::En
        };

        let mut tokens = Vec::new();
        if language == Language::Zh {
            tokens.extend_from_slice(&self.mandarin_prompt);
        }
        if let Some(p) = prompt.filter(|p| !p.trim().is_empty()) {
            tokens.extend(self.prompt_tokens(p)?);
        }

        let frames = audio.len().div_ceil(ASR_RATE as usize / FRAMES_PER_SECOND);
        let audio_ctx = (frames as i32 + self.audio_ctx_pad).min(self.model.context.n_audio_ctx());
        // Loop guard: room for fast speech and no more, so a decode that starts
        // repeating itself stops early (loops are collapsed afterwards). English runs
        // at most ~4.5 tokens/s; Mandarin at one or two tokens per character, ~6/s.
        let max_tokens = match language {
            Language::Zh => (audio_ms as i32 + 99) / 100 + 16,
            _ => (audio_ms as i32 * 6 + 999) / 1000 + 10,
        };
        let mut params = match language {
            Language::Zh => self.params_zh.clone(),
            _ => self.params_en.clone(),
        };
        params.set_n_threads(self.threads as i32);
        params.set_audio_ctx(audio_ctx);
        params.set_max_tokens(max_tokens);
        params.set_tokens(&tokens);
        let bias = match hotwords.filter(|h| !h.is_empty() && !self.bias_weights.is_off()) {
            Some(h) => {
                self.token_bias(h)?;
                self.bias_cache.as_ref().map(|(_, b)| &**b)
            }
            None => None,
        };
        if let Some(b) = bias {
            voxhire_whisper_bias::attach(&mut params, b);
        }
        self.abort.set(cancel);
        let full = self.state.full(params, audio);
        // Cancelled only if whisper.cpp stopped for it: a decode that finished
        // before its ticket was dropped is a decode like any other.
        let aborted = full.is_err() && self.abort.aborted();
        self.abort.set(None);
        if aborted {
            return Err(AsrError::Cancelled);
        }
        full.map_err(&err)?;

        let eot = self.model.context.token_eot();
        let mut raw_text = String::new();
        let mut log_p = 0.0f64;
        let mut n_tokens = 0usize;
        let mut no_speech_prob = 0.0f32;
        for segment in self.state.as_iter() {
            raw_text.push_str(&segment.to_str_lossy().map_err(&err)?);
            no_speech_prob = no_speech_prob.max(segment.no_speech_probability());
            for i in 0..segment.n_tokens() {
                if let Some(token) = segment.get_token(i) {
                    let data = token.token_data();
                    if data.id < eot {
                        log_p += f64::from(data.p.max(1e-6)).ln();
                        n_tokens += 1;
                    }
                }
            }
        }
        let confidence = if n_tokens == 0 {
            0.0
        } else {
            // Three decimals: more would be noise in a transcript.
            (((log_p / n_tokens as f64).exp() * 1000.0).round() / 1000.0) as f32
        };
        let raw_text = match language {
            Language::Zh => super::chinese::normalise(&raw_text),
            _ => raw_text,
        };
        let (mut text, _looped) = filter::collapse_loops(raw_text.trim());
        if n_tokens + 1 >= max_tokens as usize {
            // The cut keeps text up to where it starts copying itself, which can
            // leave one whole copy too many ("Fine. Fine. Fi" → "Fine. Fine.").
            text = filter::collapse_loops(&filter::cut_runaway(&text).0).0;
        }
        let evidence = Evidence {
            no_speech_prob,
            confidence,
            rms_dbfs: filter::rms_dbfs(audio),
        };
        let suppressed = filter::judge(&text, prompt, &evidence);
        let (text, segments, suppressed) = match suppressed {
            Some(reason) => (String::new(), Vec::new(), Some((reason, text))),
            None => {
                let segment = Segment {
                    start_ms: offset_ms,
                    end_ms: offset_ms + audio_ms,
                    text: text.clone(),
                    confidence,
                };
                (text, vec![segment], None)
            }
        };
        Ok(Transcript {
            text,
            language,
            segments,
            decode_ms: started.elapsed().as_millis() as u64,
            threads: self.threads,
            no_speech_prob,
            model: kind,
            suppressed,
        })
    }
}
