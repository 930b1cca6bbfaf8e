//! Voice activity detection with Silero VAD (ONNX via `ort`), run directly on 8 kHz
//! phone audio: no resampling before the VAD.
//!
//! [`SileroVad`] is the loaded model, shared by every call (`Arc`); each call owns a
//! [`VadStream`] with the model's recurrent state, the 32-sample context and the
//! speech/non-speech hysteresis. Feed it audio in any frame size (RTP's 20 ms
//! frames) and it returns one [`VadFrame`] per 32 ms chunk the model has seen.
//!
//! ```no_run
//! # use voxhire_speech::{models::ModelDir, vad::{SileroVad, VadStream, VadConfig}};
//! let vad = SileroVad::load(&ModelDir::locate())?;
//! let mut stream = VadStream::new(vad, VadConfig::default());
//! let rtp_frame = [0i16; 160];
//! for frame in stream.push(&rtp_frame)? {
//!     println!("{} ms: p={:.2} speech={}", frame.start_ms(), frame.probability, frame.is_speech);
//! }
//! # Ok::<(), voxhire_speech::vad::VadError>(())
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use ort::session::Session;
use ort::value::Tensor;
use serde::Deserialize;

use crate::models::{ModelDir, ModelError};

/// Sample rate the VAD runs at: the call's own rate.
pub const VAD_RATE: u32 = voxhire_media::PCM_RATE;
/// New samples per model call at 8 kHz (32 ms), fixed by Silero.
pub const VAD_CHUNK: usize = 256;
/// Samples of the previous chunk prepended to each call at 8 kHz (Silero's context).
const CONTEXT: usize = 32;
/// Silero's recurrent state: [2, batch = 1, 128].
const STATE_LEN: usize = 2 * 128;
/// Path of the model under the model directory (models/MANIFEST).
pub const MODEL_FILE: &str = "silero_vad.onnx";

#[derive(Debug, thiserror::Error)]
pub enum VadError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("Silero VAD inference failed: {0}")]
    Inference(String),
}

fn inference<E: std::fmt::Display>(e: E) -> VadError {
    VadError::Inference(e.to_string())
}

/// Hysteresis thresholds on the speech probability.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VadConfig {
    /// A chunk with probability at or above this starts speech.
    pub start_threshold: f32,
    /// While in speech, a chunk below this ends it; between the two thresholds the
    /// previous decision holds, so a breathy syllable doesn't flap the decision.
    pub end_threshold: f32,
}

impl Default for VadConfig {
    fn default() -> Self {
        VadConfig {
            start_threshold: 0.5,
            end_threshold: 0.35,
        }
    }
}

/// The loaded Silero model, shared by all calls.
///
/// `ort`'s `Session::run` takes `&mut self`, so the model is held as a small pool of
/// sessions (one per core by default), each behind a mutex; a call takes whichever
/// is free. A session costs a few MB, a chunk ~0.1 ms, so contention is brief.
pub struct SileroVad {
    sessions: Vec<Mutex<Session>>,
    next: AtomicUsize,
}

impl std::fmt::Debug for SileroVad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SileroVad")
            .field("sessions", &self.sessions.len())
            .finish()
    }
}

impl SileroVad {
    /// Loads `silero_vad.onnx` with one session per available core.
    pub fn load(models: &ModelDir) -> Result<Arc<Self>, VadError> {
        let n = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::load_with_sessions(models, n)
    }

    /// Loads the model with a pool of `sessions` sessions (at least one).
    pub fn load_with_sessions(models: &ModelDir, sessions: usize) -> Result<Arc<Self>, VadError> {
        let path = models.file(MODEL_FILE)?;
        let env = models.onnxruntime()?;
        let load_err = |message: String| {
            VadError::Model(ModelError::Load {
                path: path.clone(),
                message,
            })
        };
        let mut pool = Vec::new();
        for _ in 0..sessions.max(1) {
            // One thread per session: a 288-sample chunk is far too small to split,
            // and parallelism comes from several calls using several sessions.
            let session = Session::builder(env)
                .and_then(|b| b.with_intra_threads(1).map_err(Into::into))
                .and_then(|b| b.with_inter_threads(1).map_err(Into::into))
                .and_then(|mut b| b.commit_from_file(&path))
                .map_err(|e| load_err(e.to_string()))?;
            pool.push(Mutex::new(session));
        }
        Ok(Arc::new(SileroVad {
            sessions: pool,
            next: AtomicUsize::new(0),
        }))
    }

    fn session(&self) -> MutexGuard<'_, Session> {
        let n = self.sessions.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Ok(guard) = self.sessions[(start + i) % n].try_lock() {
                return guard;
            }
        }
        // All busy: wait for ours. A poisoned session is still usable: its state is
        // entirely in the call's `VadState`, passed in on every run.
        let m = &self.sessions[start % n];
        m.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Speech probability of one 32 ms chunk, advancing `state`.
    pub fn probability(
        &self,
        state: &mut VadState,
        chunk: &[i16; VAD_CHUNK],
    ) -> Result<f32, VadError> {
        let mut input = Vec::with_capacity(CONTEXT + VAD_CHUNK);
        input.extend_from_slice(&state.context);
        input.extend(chunk.iter().map(|&s| f32::from(s) / 32768.0));
        state
            .context
            .copy_from_slice(&input[input.len() - CONTEXT..]);
        let input =
            Tensor::from_array(([1usize, CONTEXT + VAD_CHUNK], input)).map_err(inference)?;
        let recurrent =
            Tensor::from_array(([2usize, 1, 128], state.recurrent.to_vec())).map_err(inference)?;
        let sr = Tensor::from_array(((), vec![i64::from(VAD_RATE)])).map_err(inference)?;

        let mut session = self.session();
        let outputs = session
            .run(ort::inputs![
                "input" => input,
                "state" => recurrent,
                "sr" => sr,
            ])
            .map_err(inference)?;
        let (_, p) = outputs["output"]
            .try_extract_tensor::<f32>()
            .map_err(inference)?;
        let (_, next) = outputs["stateN"]
            .try_extract_tensor::<f32>()
            .map_err(inference)?;
        if next.len() != STATE_LEN || p.is_empty() {
            return Err(VadError::Inference(format!(
                "unexpected output sizes: output {}, stateN {}",
                p.len(),
                next.len()
            )));
        }
        state.recurrent.copy_from_slice(next);
        Ok(p[0])
    }
}

/// One call's Silero state: the recurrent state tensor and the last 32 samples.
#[derive(Clone)]
pub struct VadState {
    recurrent: [f32; STATE_LEN],
    context: [f32; CONTEXT],
}

impl Default for VadState {
    fn default() -> Self {
        VadState {
            recurrent: [0.0; STATE_LEN],
            context: [0.0; CONTEXT],
        }
    }
}

impl std::fmt::Debug for VadState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VadState")
    }
}

/// The VAD's verdict on one 32 ms chunk, with the chunk's audio.
#[derive(Debug, Clone)]
pub struct VadFrame {
    /// Position of the chunk's first sample in the stream (8 kHz samples).
    pub start_sample: u64,
    /// The chunk (8 kHz).
    pub samples: [i16; VAD_CHUNK],
    /// Silero's speech probability.
    pub probability: f32,
    /// The decision after hysteresis.
    pub is_speech: bool,
}

impl VadFrame {
    pub fn start_ms(&self) -> u64 {
        self.start_sample * 1000 / u64::from(VAD_RATE)
    }

    /// Where the chunk ends (ms).
    pub fn end_ms(&self) -> u64 {
        (self.start_sample + VAD_CHUNK as u64) * 1000 / u64::from(VAD_RATE)
    }
}

/// One call's voice activity detector: chunking, model state and hysteresis.
#[derive(Debug)]
pub struct VadStream {
    model: Arc<SileroVad>,
    config: VadConfig,
    state: VadState,
    pending: Vec<i16>,
    /// Stream position of `pending[0]`.
    pending_start: u64,
    in_speech: bool,
}

impl VadStream {
    pub fn new(model: Arc<SileroVad>, config: VadConfig) -> Self {
        VadStream {
            model,
            config,
            state: VadState::default(),
            pending: Vec::with_capacity(2 * VAD_CHUNK),
            pending_start: 0,
            in_speech: false,
        }
    }

    pub fn config(&self) -> VadConfig {
        self.config
    }

    pub fn set_config(&mut self, config: VadConfig) {
        self.config = config;
    }

    /// Whether the last chunk was judged speech.
    pub fn in_speech(&self) -> bool {
        self.in_speech
    }

    /// Feeds 8 kHz audio of any length; returns a frame for every whole 32 ms chunk
    /// completed (the remainder waits for the next call).
    pub fn push(&mut self, samples: &[i16]) -> Result<Vec<VadFrame>, VadError> {
        self.pending.extend_from_slice(samples);
        let mut frames = Vec::new();
        let mut offset = 0;
        while self.pending.len() - offset >= VAD_CHUNK {
            let mut chunk = [0i16; VAD_CHUNK];
            chunk.copy_from_slice(&self.pending[offset..offset + VAD_CHUNK]);
            let probability = self.model.probability(&mut self.state, &chunk)?;
            self.in_speech = decide(self.config, self.in_speech, probability);
            frames.push(VadFrame {
                start_sample: self.pending_start + offset as u64,
                samples: chunk,
                probability,
                is_speech: self.in_speech,
            });
            offset += VAD_CHUNK;
        }
        self.pending.drain(..offset);
        self.pending_start += offset as u64;
        Ok(frames)
    }

    /// Forgets the model state and any partial chunk (a new stream on the same call).
    pub fn reset(&mut self) {
        self.state = VadState::default();
        self.pending.clear();
        self.pending_start = 0;
        self.in_speech = false;
    }
}

/// Hysteresis: start at `start_threshold`, stay until below `end_threshold`.
fn decide(config: VadConfig, in_speech: bool, probability: f32) -> bool {
    if in_speech {
        probability >= config.end_threshold
    } else {
        probability >= config.start_threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hysteresis_holds_between_thresholds() {
        let c = VadConfig::default();
        let probs = [0.1, 0.4, 0.6, 0.4, 0.36, 0.3, 0.45, 0.5];
        let mut in_speech = false;
        let decisions: Vec<bool> = probs
            .iter()
            .map(|&p| {
                in_speech = decide(c, in_speech, p);
                in_speech
            })
            .collect();
        assert_eq!(
            decisions,
            [false, false, true, true, true, false, false, true]
        );
    }

    #[test]
    fn config_deserialises_with_defaults() {
        let c: VadConfig = serde_json::from_str(r#"{"start_threshold":0.6}"#).unwrap();
        assert_eq!(c.start_threshold, 0.6);
        assert_eq!(c.end_threshold, 0.35);
    }
}

#[cfg(test)]
mod model_tests {
    use super::*;

    fn candidate_audio() -> Vec<i16> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/audio/candidate-en.wav"
        );
        voxhire_media::wav::read_wav_mono(path, VAD_RATE).expect("tests/audio/candidate-en.wav")
    }

    fn vad() -> Arc<SileroVad> {
        SileroVad::load_with_sessions(&ModelDir::locate(), 1)
            .expect("Silero VAD (run scripts/fetch-models.sh)")
    }

    #[test]
    fn silence_is_not_speech_and_speech_is() {
        let model = vad();
        let mut stream = VadStream::new(model, VadConfig::default());
        let silence = stream.push(&[0i16; 8000]).unwrap();
        assert_eq!(silence.len(), 8000 / VAD_CHUNK);
        assert!(silence.iter().all(|f| !f.is_speech && f.probability < 0.2));

        let audio = candidate_audio();
        // Feed as 20 ms RTP frames: chunking must not depend on the frame size.
        let frames: Vec<VadFrame> = audio
            .chunks(160)
            .flat_map(|f| stream.push(f).unwrap())
            .collect();
        let speech = frames.iter().filter(|f| f.is_speech).count();
        let total = frames.len();
        // The fixture is ~4 s of continuous speech between 0.2 s pads.
        assert!(
            speech * 10 >= total * 7,
            "speech in {speech} of {total} chunks"
        );
        assert!(!frames[0].is_speech, "the 200 ms lead-in pad is silence");
        assert_eq!(frames[0].start_sample, 8000 - 8000 % VAD_CHUNK as u64);
    }

    #[test]
    fn calls_do_not_share_state() {
        let model = vad();
        let audio = candidate_audio();
        let run = |stream: &mut VadStream| -> Vec<f32> {
            stream
                .push(&audio)
                .unwrap()
                .iter()
                .map(|f| f.probability)
                .collect()
        };
        let mut a = VadStream::new(model.clone(), VadConfig::default());
        let mut b = VadStream::new(model.clone(), VadConfig::default());
        let first = run(&mut a);
        // Interleave another call on the same model: `a`'s results must not change.
        let _ = b.push(&audio[..4000]).unwrap();
        a.reset();
        let again = run(&mut a);
        for (x, y) in first.iter().zip(&again) {
            assert!((x - y).abs() < 1e-4, "{x} vs {y}");
        }
    }
}
