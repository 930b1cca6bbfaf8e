//! Piper (VITS) voices through ONNX Runtime, English phonemes from espeak-ng.
//!
//! Front end, as Piper trains its voices: espeak-ng IPA per clause, decomposed to
//! NFD; each clause followed by its punctuation phoneme (`.` `?` `!`, or `,` `:`
//! `;` plus a space); every phoneme mapped through the voice's `phoneme_id_map`
//! and the ids laid out as BOS `^`, pad `_`, then each phoneme followed by a pad,
//! then EOS `$`. The model takes `input` i64 `[1, N]`, `input_lengths` `[1]` and
//! `scales` `[noise, length, noise_w]`, and returns `output` `[1, 1, 1, T]` at the
//! voice's rate (22,050 Hz for `en_US-joe-medium`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

use super::espeak::Espeak;
use super::text::{self, ClauseEnd};
use super::{Lang, TtsError, Voice};
use crate::models::{ModelDir, ModelError};

/// The product's English voice under the model directory (models/MANIFEST).
pub const JOE_MEDIUM: &str = "piper/en_US-joe-medium.onnx";

const BOS: char = '^';
const EOS: char = '$';
const PAD: char = '_';

#[derive(Debug, Deserialize)]
struct PiperConfig {
    audio: AudioConfig,
    espeak: EspeakConfig,
    #[serde(default)]
    inference: InferenceConfig,
    phoneme_id_map: HashMap<String, Vec<i64>>,
}

#[derive(Debug, Deserialize)]
struct AudioConfig {
    sample_rate: u32,
}

#[derive(Debug, Deserialize)]
struct EspeakConfig {
    voice: String,
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct InferenceConfig {
    noise_scale: f32,
    length_scale: f32,
    noise_w: f32,
}

impl Default for InferenceConfig {
    fn default() -> Self {
        InferenceConfig {
            noise_scale: 0.667,
            length_scale: 1.0,
            noise_w: 0.8,
        }
    }
}

/// A loaded Piper voice: one ONNX session shared by every call.
pub struct PiperVoice {
    name: String,
    sample_rate: u32,
    espeak: Espeak,
    ids: HashMap<char, Vec<i64>>,
    scales: [f32; 3],
    /// `Session::run` takes `&mut self`. One session using both cores finishes a
    /// sentence sooner than two sessions sharing them, so chunks queue here.
    session: Mutex<Session>,
}

impl std::fmt::Debug for PiperVoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PiperVoice")
            .field("name", &self.name)
            .field("sample_rate", &self.sample_rate)
            .field("espeak", &self.espeak.voice())
            .finish_non_exhaustive()
    }
}

impl PiperVoice {
    /// Loads the product's English voice, `en_US-joe-medium`.
    pub fn load(models: &ModelDir) -> Result<Self, TtsError> {
        Self::load_with_threads(models, default_threads())
    }

    /// [`PiperVoice::load`] with `threads` per synthesis.
    pub fn load_with_threads(models: &ModelDir, threads: usize) -> Result<Self, TtsError> {
        let onnx = models.file(JOE_MEDIUM)?;
        let config = models.file(&format!("{JOE_MEDIUM}.json"))?;
        Self::load_files(models, &onnx, &config, threads)
    }

    /// Loads a Piper voice from its `.onnx` and `.onnx.json`, `threads` per synthesis.
    pub fn load_files(
        models: &ModelDir,
        onnx: &Path,
        config: &Path,
        threads: usize,
    ) -> Result<Self, TtsError> {
        let config_err = |message: String| TtsError::Config {
            path: config.to_owned(),
            message,
        };
        let raw = std::fs::read_to_string(config).map_err(|e| config_err(e.to_string()))?;
        let parsed: PiperConfig = serde_json::from_str(&raw)
            .map_err(|e| config_err(format!("not a Piper voice config: {e}")))?;
        let mut ids = HashMap::new();
        for (symbol, id) in parsed.phoneme_id_map {
            let mut chars = symbol.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => {
                    ids.insert(c, id);
                }
                _ => {
                    return Err(config_err(format!(
                        "phoneme {symbol:?} is not one character"
                    )))
                }
            }
        }
        for required in [BOS, EOS, PAD] {
            if !ids.contains_key(&required) {
                return Err(config_err(format!("phoneme_id_map lacks {required:?}")));
            }
        }
        let env = models.onnxruntime()?;
        let session = session_builder(env, threads)
            .and_then(|mut b| b.commit_from_file(onnx))
            .map_err(|e| ModelError::Load {
                path: onnx.to_owned(),
                message: e.to_string(),
            })?;
        let name = onnx
            .file_name()
            .and_then(|n| n.to_str())
            .map_or("voice", |n| n.trim_end_matches(".onnx"));
        Ok(PiperVoice {
            name: format!("piper/{name}"),
            sample_rate: parsed.audio.sample_rate,
            espeak: Espeak::new(&parsed.espeak.voice),
            ids,
            scales: [
                parsed.inference.noise_scale,
                parsed.inference.length_scale,
                parsed.inference.noise_w,
            ],
            session: Mutex::new(session),
        })
    }

    /// Piper's phoneme string for `text`: espeak-ng IPA per clause with punctuation.
    /// Text ending without punctuation gets a full stop if it `ends_sentence`.
    pub fn phonemes(&self, text: &str, ends_sentence: bool) -> Result<String, TtsError> {
        let normalized = text::normalize_english(text);
        let clauses = text::clauses(&normalized);
        if clauses.is_empty() {
            return Ok(String::new());
        }
        // One espeak-ng run for the whole chunk; if it split the clauses where we did,
        // each line gets its clause's punctuation. Otherwise phonemise clause by clause.
        let lines = self.espeak.ipa_clauses(&normalized)?;
        let per_clause: Vec<String> = if lines.len() == clauses.len() {
            lines
        } else {
            clauses
                .iter()
                .map(|c| self.espeak.ipa_clauses(c.text).map(|l| l.join(" ")))
                .collect::<Result<_, _>>()?
        };
        let last = clauses.len() - 1;
        let mut out = String::new();
        for (i, (clause, ipa)) in clauses.iter().zip(per_clause).enumerate() {
            out.push_str(&ipa);
            let end = match clause.end {
                // Text ending without punctuation is read as a statement.
                ClauseEnd::None if i == last && ends_sentence => ClauseEnd::Period,
                other => other,
            };
            out.push_str(match end {
                ClauseEnd::Period => ".",
                ClauseEnd::Question => "?",
                ClauseEnd::Exclamation => "!",
                ClauseEnd::Comma => ", ",
                ClauseEnd::Colon => ": ",
                ClauseEnd::Semicolon => "; ",
                ClauseEnd::None => " ", // trimmed at the end
            });
            if end.is_sentence_end() && i != last {
                out.push(' ');
            }
        }
        Ok(out.trim_end().nfd().collect())
    }

    /// Model input ids for a phoneme string (unknown symbols are skipped).
    pub fn phoneme_ids(&self, phonemes: &str) -> Vec<i64> {
        let pad = &self.ids[&PAD];
        let mut out = self.ids[&BOS].clone();
        out.extend_from_slice(pad);
        for c in phonemes.chars() {
            match self.ids.get(&c) {
                Some(ids) => {
                    out.extend_from_slice(ids);
                    out.extend_from_slice(pad);
                }
                None => {
                    tracing::debug!(voice = %self.name, phoneme = %c, "phoneme not in the voice's map")
                }
            }
        }
        out.extend_from_slice(&self.ids[&EOS]);
        out
    }

    /// Runs the model on phoneme ids; audio at the native rate, peak-normalised.
    pub fn infer(&self, ids: Vec<i64>) -> Result<Vec<f32>, TtsError> {
        let fail = |e: ort::Error| TtsError::Inference {
            voice: self.name.clone(),
            message: e.to_string(),
        };
        let len = ids.len();
        let input = Tensor::from_array(([1usize, len], ids)).map_err(fail)?;
        let lengths = Tensor::from_array(([1usize], vec![len as i64])).map_err(fail)?;
        let scales = Tensor::from_array(([3usize], self.scales.to_vec())).map_err(fail)?;
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let outputs = session
            .run(ort::inputs![
                "input" => input,
                "input_lengths" => lengths,
                "scales" => scales,
            ])
            .map_err(fail)?;
        let (_, audio) = outputs["output"]
            .try_extract_tensor::<f32>()
            .map_err(fail)?;
        let rate = self.sample_rate as usize;
        Ok(peak_normalize(trim_leading_silence(audio, rate)))
    }
}

/// Piper starts each chunk with ~80 ms of near-silence; on the first chunk of a
/// reply that is dead air the candidate waits through. Keeps 20 ms before the
/// first 10 ms frame louder than 1 % of the peak (the trailing silence, which
/// paces sentences, stays).
fn trim_leading_silence(audio: &[f32], rate: usize) -> &[f32] {
    let frame = (rate / 100).max(1);
    let peak = audio.iter().fold(0.0f32, |m, &s| m.max(s.abs()));
    let threshold = peak * 0.01;
    let first = audio
        .chunks(frame)
        .position(|f| (f.iter().map(|s| s * s).sum::<f32>() / f.len() as f32).sqrt() > threshold);
    match first {
        Some(i) => &audio[(i * frame).saturating_sub(2 * frame)..],
        None => audio,
    }
}

impl Voice for PiperVoice {
    fn name(&self) -> &str {
        &self.name
    }

    fn lang(&self) -> Lang {
        Lang::En
    }

    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn synthesize_chunk(&self, text: &str, ends_sentence: bool) -> Result<Vec<f32>, TtsError> {
        let phonemes = self.phonemes(text, ends_sentence)?;
        let ids = self.phoneme_ids(&phonemes);
        // BOS, pad and EOS alone: nothing to say.
        if ids.len() <= 3 {
            return Err(TtsError::NoPhonemes {
                voice: self.name.clone(),
                text: text.to_owned(),
            });
        }
        self.infer(ids)
    }

    fn phrase_cut(&self, sentence: &str) -> Option<usize> {
        text::english_phrase_cut(sentence, 4)
    }
}

/// Threads for one synthesis by default: all cores. Synthesis is
/// latency-bound (the caller waits for the first sentence) and calls take
/// turns on the session anyway.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Session options shared by the TTS models: all optimisations, `threads`
/// threads that sleep rather than spin between operators. Spinning shaves a little
/// latency on an idle machine, but on a call server the cores are shared with other
/// calls' ASR and VAD, and spinning threads that lose their core stall every
/// operator (measured here under load: Kokoro 2 threads spinning 3.8–4.4 s for a
/// short phrase, not spinning 2.8–3.2 s).
pub(crate) fn session_builder(
    env: &ort::environment::Environment,
    threads: usize,
) -> Result<ort::session::builder::SessionBuilder, ort::Error> {
    let builder = Session::builder(env)?
        .with_optimization_level(GraphOptimizationLevel::Level3)?
        .with_intra_threads(threads.max(1))?
        .with_config_entry("session.intra_op.allow_spinning", "0")?;
    Ok(builder)
}

/// Scales to a peak of 0.9 (as Piper does, but with headroom for the resampler and
/// G.711); near-silent output (peak < 0.01) is not amplified beyond 90×.
pub(crate) fn peak_normalize(audio: &[f32]) -> Vec<f32> {
    let peak = audio.iter().fold(0.0f32, |m, &s| m.max(s.abs()));
    let gain = 0.9 / peak.max(0.01);
    audio.iter().map(|&s| s * gain).collect()
}

#[cfg(test)]
mod trim_tests {
    #[test]
    fn leading_silence_is_cut_to_twenty_ms() {
        let rate = 1000; // 10-sample frames
        let mut audio = vec![0.0f32; 80];
        audio.extend([0.5f32; 30]);
        audio.extend([0.0f32; 40]);
        let t = super::trim_leading_silence(&audio, rate);
        assert_eq!(t.len(), 20 + 30 + 40);
        assert_eq!(super::trim_leading_silence(&[0.0; 5], rate).len(), 5);
    }
}
