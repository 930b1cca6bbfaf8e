//! Kokoro-82M v1.0 (StyleTTS2 + iSTFTNet) through ONNX Runtime: the Mandarin voice.
//!
//! Inputs: `tokens` i64 `[1, n + 2]` (phoneme ids from Kokoro's vocabulary between
//! two 0 pads, n ≤ 510), `style` f32 `[1, 256]` and `speed` f32 `[1]`; output `audio`
//! f32 at 24 kHz. A voice file is f32 [510, 1, 256]: one style vector per input
//! length, row n − 1 for n phonemes. The phonemes come from [`MandarinG2p`].

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use ort::session::Session;
use ort::value::Tensor;

use super::espeak::Espeak;
use super::piper::{peak_normalize, session_builder};
use super::zh::MandarinG2p;
use super::{Lang, TtsError, Voice};
use crate::models::{ModelDir, ModelError};

/// The model under the model directory (models/MANIFEST).
pub const MODEL_FILE: &str = "kokoro/kokoro-v1.0.int8.onnx";
/// Kokoro's output rate.
pub const SAMPLE_RATE: u32 = 24_000;
/// Longest phoneme sequence per run (the model's 512 positions minus the pads).
const MAX_PHONEMES: usize = 510;
const STYLE_DIM: usize = 256;

/// Kokoro's phoneme vocabulary (`vocab` of the model's config.json): symbol → id.
fn token_id(c: char) -> Option<i64> {
    Some(match c {
        ';' => 1,
        ':' => 2,
        ',' => 3,
        '.' => 4,
        '!' => 5,
        '?' => 6,
        '—' => 9,
        '…' => 10,
        '"' => 11,
        '(' => 12,
        ')' => 13,
        '“' => 14,
        '”' => 15,
        ' ' => 16,
        '\u{303}' => 17,
        'ʣ' => 18,
        'ʥ' => 19,
        'ʦ' => 20,
        'ʨ' => 21,
        'ᵝ' => 22,
        'ꭧ' => 23,
        'A' => 24,
        'I' => 25,
        'O' => 31,
        'Q' => 33,
        'S' => 35,
        'T' => 36,
        'W' => 39,
        'Y' => 41,
        'ᵊ' => 42,
        'a' => 43,
        'b' => 44,
        'c' => 45,
        'd' => 46,
        'e' => 47,
        'f' => 48,
        'h' => 50,
        'i' => 51,
        'j' => 52,
        'k' => 53,
        'l' => 54,
        'm' => 55,
        'n' => 56,
        'o' => 57,
        'p' => 58,
        'q' => 59,
        'r' => 60,
        's' => 61,
        't' => 62,
        'u' => 63,
        'v' => 64,
        'w' => 65,
        'x' => 66,
        'y' => 67,
        'z' => 68,
        'ɑ' => 69,
        'ɐ' => 70,
        'ɒ' => 71,
        'æ' => 72,
        'β' => 75,
        'ɔ' => 76,
        'ɕ' => 77,
        'ç' => 78,
        'ɖ' => 80,
        'ð' => 81,
        'ʤ' => 82,
        'ə' => 83,
        'ɚ' => 85,
        'ɛ' => 86,
        'ɜ' => 87,
        'ɟ' => 90,
        'ɡ' => 92,
        'ɥ' => 99,
        'ɨ' => 101,
        'ɪ' => 102,
        'ʝ' => 103,
        'ɯ' => 110,
        'ɰ' => 111,
        'ŋ' => 112,
        'ɳ' => 113,
        'ɲ' => 114,
        'ɴ' => 115,
        'ø' => 116,
        'ɸ' => 118,
        'θ' => 119,
        'œ' => 120,
        'ɹ' => 123,
        'ɾ' => 125,
        'ɻ' => 126,
        'ʁ' => 128,
        'ɽ' => 129,
        'ʂ' => 130,
        'ʃ' => 131,
        'ʈ' => 132,
        'ʧ' => 133,
        'ʊ' => 135,
        'ʋ' => 136,
        'ʌ' => 138,
        'ɣ' => 139,
        'ɤ' => 140,
        'χ' => 142,
        'ʎ' => 143,
        'ʒ' => 147,
        'ʔ' => 148,
        'ˈ' => 156,
        'ˌ' => 157,
        'ː' => 158,
        'ʰ' => 162,
        'ʲ' => 164,
        '↓' => 169,
        '→' => 171,
        '↗' => 172,
        '↘' => 173,
        'ᵻ' => 177,
        _ => return None,
    })
}

/// Token ids of a phoneme string; symbols outside the vocabulary are skipped.
pub fn tokens(phonemes: &str) -> Vec<i64> {
    phonemes.chars().filter_map(token_id).collect()
}

/// The loaded Kokoro model, shared by all its voices and calls.
pub struct KokoroModel {
    path: PathBuf,
    /// `Session::run` takes `&mut self`; one session on all cores (see PiperVoice).
    session: Mutex<Session>,
}

impl std::fmt::Debug for KokoroModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KokoroModel")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl KokoroModel {
    pub fn load(models: &ModelDir) -> Result<Arc<Self>, TtsError> {
        Self::load_with_threads(models, super::piper::default_threads())
    }

    /// [`KokoroModel::load`] with `threads` per synthesis.
    pub fn load_with_threads(models: &ModelDir, threads: usize) -> Result<Arc<Self>, TtsError> {
        let path = models.file(MODEL_FILE)?;
        let env = models.onnxruntime()?;
        let session = session_builder(env, threads)
            .and_then(|mut b| b.commit_from_file(&path))
            .map_err(|e| ModelError::Load {
                path: path.clone(),
                message: e.to_string(),
            })?;
        Ok(Arc::new(KokoroModel {
            path,
            session: Mutex::new(session),
        }))
    }

    /// Runs one sequence (≤ 510 tokens) with a style vector; 24 kHz audio.
    fn infer(&self, voice: &str, ids: &[i64], style: &[f32]) -> Result<Vec<f32>, TtsError> {
        let fail = |e: ort::Error| TtsError::Inference {
            voice: voice.to_owned(),
            message: e.to_string(),
        };
        let mut padded = Vec::with_capacity(ids.len() + 2);
        padded.push(0);
        padded.extend_from_slice(ids);
        padded.push(0);
        let n = padded.len();
        let tokens = Tensor::from_array(([1usize, n], padded)).map_err(fail)?;
        let style = Tensor::from_array(([1usize, STYLE_DIM], style.to_vec())).map_err(fail)?;
        let speed = Tensor::from_array(([1usize], vec![1.0f32])).map_err(fail)?;
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let outputs = session
            .run(ort::inputs![
                "tokens" => tokens,
                "style" => style,
                "speed" => speed,
            ])
            .map_err(fail)?;
        let (_, audio) = outputs["audio"].try_extract_tensor::<f32>().map_err(fail)?;
        Ok(audio.to_vec())
    }
}

/// A Kokoro Mandarin voice (`zf_*`, `zm_*`).
pub struct KokoroVoice {
    name: String,
    model: Arc<KokoroModel>,
    /// [510 × 256] style vectors, by input length.
    styles: Vec<f32>,
    g2p: MandarinG2p,
}

impl std::fmt::Debug for KokoroVoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KokoroVoice")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl KokoroVoice {
    /// Loads voice `voice` (e.g. `zf_xiaoxiao`) from `kokoro/voices/<voice>.bin`.
    pub fn load(models: &ModelDir, model: Arc<KokoroModel>, voice: &str) -> Result<Self, TtsError> {
        let path = models.file(&format!("kokoro/voices/{voice}.bin"))?;
        if !voice.starts_with('z') {
            return Err(TtsError::Config {
                path,
                message: "only Kokoro's Mandarin voices (zf_*, zm_*) are wired; English uses Piper"
                    .to_owned(),
            });
        }
        let bytes = std::fs::read(&path).map_err(|e| TtsError::Config {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if bytes.len() != MAX_PHONEMES * STYLE_DIM * 4 {
            return Err(TtsError::Config {
                path,
                message: format!(
                    "{} bytes; a Kokoro voice is f32 [510, 1, 256] ({} bytes)",
                    bytes.len(),
                    MAX_PHONEMES * STYLE_DIM * 4
                ),
            });
        }
        let styles = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Ok(KokoroVoice {
            name: format!("kokoro/{voice}"),
            model,
            styles,
            g2p: MandarinG2p::with_english(Espeak::new("en-us")),
        })
    }

    /// misaki phonemes of `text`.
    pub fn phonemes(&self, text: &str) -> Result<String, TtsError> {
        self.g2p.phonemes(text)
    }

    pub fn g2p(&self) -> &MandarinG2p {
        &self.g2p
    }

    fn style(&self, phonemes: usize) -> &[f32] {
        let row = phonemes.clamp(1, MAX_PHONEMES) - 1;
        &self.styles[row * STYLE_DIM..(row + 1) * STYLE_DIM]
    }
}

impl Voice for KokoroVoice {
    fn name(&self) -> &str {
        &self.name
    }

    fn lang(&self) -> Lang {
        Lang::Zh
    }

    fn sample_rate(&self) -> u32 {
        SAMPLE_RATE
    }

    fn synthesize_chunk(&self, text: &str, _ends_sentence: bool) -> Result<Vec<f32>, TtsError> {
        let ids = tokens(&self.phonemes(text)?);
        if ids.is_empty() {
            return Err(TtsError::NoPhonemes {
                voice: self.name.clone(),
                text: text.to_owned(),
            });
        }
        let mut audio = Vec::new();
        for piece in split_tokens(&ids, MAX_PHONEMES) {
            audio.extend(
                self.model
                    .infer(&self.name, piece, self.style(piece.len()))?,
            );
        }
        let mut audio = peak_normalize(trim_silence(&audio));
        fade_edges(&mut audio);
        Ok(audio)
    }

    fn phrase_cut(&self, sentence: &str) -> Option<usize> {
        self.g2p.phrase_cut(sentence, 3)
    }

    /// Mandarin carries about four syllables (characters) a second: a first chunk
    /// of up to 8 characters is ≈ 2 s of speech.
    fn first_chunk_limits(&self) -> (usize, usize) {
        (8, 2)
    }
}

/// Kokoro pads its output with ≈ 0.4 s of near-silence before the speech and
/// 0.5–0.8 s after it; the first would delay the first word heard on a call. Keeps
/// 40 ms before the first and 120 ms after the last 10 ms frame louder than 1 % of
/// the peak (the stream adds its own pause between sentences).
fn trim_silence(audio: &[f32]) -> &[f32] {
    const FRAME: usize = SAMPLE_RATE as usize / 100;
    let peak = audio.iter().fold(0.0f32, |m, &s| m.max(s.abs()));
    let threshold = peak * 0.01;
    let loud =
        |f: &[f32]| (f.iter().map(|s| s * s).sum::<f32>() / f.len() as f32).sqrt() > threshold;
    let frames: Vec<&[f32]> = audio.chunks(FRAME).collect();
    let Some(first) = frames.iter().position(|f| loud(f)) else {
        return audio;
    };
    let last = frames.iter().rposition(|f| loud(f)).unwrap_or(first);
    let start = (first * FRAME).saturating_sub(FRAME * 4);
    let end = ((last + 1) * FRAME + FRAME * 12).min(audio.len());
    &audio[start..end]
}

/// 5 ms fade-in and 20 ms fade-out, so a trimmed edge does not click.
fn fade_edges(audio: &mut [f32]) {
    let fade_in = (SAMPLE_RATE as usize / 200).min(audio.len());
    for (i, s) in audio[..fade_in].iter_mut().enumerate() {
        *s *= i as f32 / fade_in as f32;
    }
    let fade_out = (SAMPLE_RATE as usize / 50).min(audio.len());
    let n = audio.len();
    for (i, s) in audio[n - fade_out..].iter_mut().enumerate() {
        *s *= 1.0 - i as f32 / fade_out as f32;
    }
}

/// Splits an over-long token sequence at spaces (word boundaries), else anywhere.
fn split_tokens(ids: &[i64], max: usize) -> Vec<&[i64]> {
    const SPACE: i64 = 16;
    let mut out = Vec::new();
    let mut rest = ids;
    while rest.len() > max {
        let cut = rest[..max]
            .iter()
            .rposition(|&t| t == SPACE)
            .filter(|&p| p > 0)
            .unwrap_or(max);
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_covers_mandarin_phonemes() {
        assert_eq!(tokens("ni↓xau↓."), vec![56, 51, 169, 66, 43, 63, 169, 4]);
        // Every symbol the syllable table can produce has an id.
        for s in ["ꭧʰɨ→", "ʨʰjʊ↗ŋ", "ɕɥɛ↘n", "ʦʰwə↓n", "ɻɚ", "kʰɤ", "ʂy"]
        {
            assert_eq!(tokens(s).len(), s.chars().count(), "{s}");
        }
        assert!(tokens("☃").is_empty());
    }

    #[test]
    fn long_sequences_split_at_spaces() {
        let ids = [1, 2, 16, 3, 4, 16, 5];
        let parts = split_tokens(&ids, 4);
        assert_eq!(parts, vec![&ids[..2], &ids[2..5], &ids[5..]]);
        assert_eq!(split_tokens(&[1; 5], 2).len(), 3);
    }

    #[test]
    fn silence_around_speech_is_trimmed_to_a_margin() {
        let frame = SAMPLE_RATE as usize / 100;
        let mut audio = vec![0.0f32; 40 * frame];
        audio.extend(std::iter::repeat_n(0.5f32, 10 * frame));
        audio.extend(vec![0.0f32; 70 * frame]);
        let trimmed = trim_silence(&audio);
        assert_eq!(trimmed.len(), (4 + 10 + 12) * frame);
        assert!(trim_silence(&[0.0; 100]).len() == 100);
    }
}
