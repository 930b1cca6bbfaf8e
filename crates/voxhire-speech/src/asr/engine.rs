//! The shared ASR engine: loaded models and a bounded pool of decoding workers.
//!
//! Decoding is CPU-bound and takes 0.1–0.5 s, so it runs on dedicated threads,
//! never on the async runtime. Requests wait in two bounded queues, finals ahead of
//! partials (a final is what the candidate waits on; a partial is a nicety). A full
//! queue refuses the request at once. Dropping a [`Ticket`] cancels its request:
//! a queued one is never started, a running one stops between two graph nodes
//! (on a call, a decode at a pause is dropped the moment the candidate speaks
//! again, and under load those stale decodes were what finals waited behind).
//!
//! A decode that has the machine to itself — no other decode running or waiting,
//! at most one call [`listening`](AsrEngine::listening), and no other process
//! busy on the cores lately ([`CpuWatch`]) — runs on
//! `solo_threads` and the other workers wait for it; every other decode runs on
//! `threads_per_worker`. One call is answered sooner, and many calls never meet
//! a multi-threaded decode (whose spinning threads stall when a core is taken).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll};
use std::thread::JoinHandle;

use serde::Deserialize;
use tokio::sync::oneshot;

use super::bias::{BiasWeights, Hotwords};
use super::cpu::CpuWatch;
use super::whisper::{
    DecodeSettings, Decoder, LoadedModel, Weights, DEFAULT_AUDIO_CTX_PAD, DEFAULT_MANDARIN_PROMPT,
};
use super::{AsrError, AsrModel, EnglishModel, Language, Transcript};
use crate::models::ModelDir;

/// Engine sizing and model choice.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AsrConfig {
    /// Decoding threads (each decodes one request at a time).
    pub workers: usize,
    /// whisper.cpp threads per decode.
    pub threads_per_worker: usize,
    /// whisper.cpp threads for a decode that has the machine to itself (see the
    /// module's documentation); 1 or less than `threads_per_worker`: never more.
    pub solo_threads: usize,
    /// Requests that may wait, per priority, before [`AsrError::Busy`].
    pub queue_capacity: usize,
    pub english_model: EnglishModel,
    /// Encoder frames (20 ms each) of silence context beyond the audio's own.
    pub audio_ctx_pad: u32,
    /// Text put before every Mandarin decode's own prompt (the question's
    /// vocabulary). It sets the style Whisper continues in: simplified characters,
    /// Chinese punctuation, English terms in Latin letters. Empty: none.
    pub mandarin_prompt: String,
    /// Beam width; 0 or 1 decodes greedily.
    pub beam_size: u32,
    /// Quantised or f16 weights.
    pub weights: Weights,
    /// How strongly a request's hot words are boosted (zero: not at all).
    pub bias: BiasWeights,
    /// Load only these models (default: what `english_model` and Mandarin need).
    #[serde(skip)]
    pub only: Option<Vec<AsrModel>>,
}

impl Default for AsrConfig {
    fn default() -> Self {
        // One single-threaded worker per core. Two threads per decode are faster on
        // an idle machine, but ggml's threads spin at barriers: when anything else
        // wants a core (TTS, VAD, another call's decode) a two-thread decode took
        // 4-5x longer here (2.4-2.9 s instead of 0.5 s for 4 s of speech), while a
        // single-threaded one barely slowed. See benches/asr_latency.rs. A decode
        // with the machine to itself uses every core: one call's Mandarin answer
        // was heard ~190 ms sooner (benches/interview_latency.rs, 2026-12-05).
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        AsrConfig {
            workers: cores.max(1),
            threads_per_worker: 1,
            solo_threads: cores.max(1),
            queue_capacity: 8,
            english_model: EnglishModel::default(),
            audio_ctx_pad: DEFAULT_AUDIO_CTX_PAD,
            mandarin_prompt: DEFAULT_MANDARIN_PROMPT.to_owned(),
            beam_size: 0,
            weights: Weights::default(),
            bias: BiasWeights::default(),
            only: None,
        }
    }
}

impl AsrConfig {
    fn models(&self) -> Vec<AsrModel> {
        if let Some(only) = &self.only {
            return only.clone();
        }
        let mut m = vec![AsrModel::Base];
        if self.english_model == EnglishModel::TinyEn {
            m.push(AsrModel::TinyEn);
        }
        m
    }
}

/// How urgently a request is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// The end of a turn: the agent waits on it.
    Final,
    /// A hypothesis while the candidate is still speaking.
    Partial,
}

/// One decode.
#[derive(Debug, Clone)]
pub struct DecodeRequest {
    /// 16 kHz mono ([`super::phone_to_asr`] converts call audio).
    pub audio: Vec<f32>,
    pub language: Language,
    /// Expected vocabulary for this question ("Java, Spring Cloud, Kubernetes").
    pub prompt: Option<String>,
    /// Terms to make likelier while decoding (see [`Hotwords`]).
    pub hotwords: Option<Hotwords>,
    /// Where `audio` starts on the caller's clock (segment times are offset by it).
    pub offset_ms: u64,
}

struct Job {
    request: DecodeRequest,
    reply: oneshot::Sender<Result<Transcript, AsrError>>,
    cancelled: Arc<AtomicBool>,
}

#[derive(Default)]
struct Queues {
    finals: VecDeque<Job>,
    partials: VecDeque<Job>,
    /// Decodes running now.
    running: usize,
    /// One of them runs on `solo_threads`: no other may start until it ends.
    solo: bool,
    /// Whether other processes leave the cores free (a solo decode needs them).
    cpu: CpuWatch,
    shutdown: bool,
}

impl Queues {
    /// The next job that is still wanted.
    fn pop(&mut self) -> Option<Job> {
        while let Some(job) = self
            .finals
            .pop_front()
            .or_else(|| self.partials.pop_front())
        {
            if !job.cancelled.load(Ordering::Relaxed) && !job.reply.is_closed() {
                return Some(job);
            }
        }
        None
    }
}

struct Shared {
    queues: Mutex<Queues>,
    ready: Condvar,
    capacity: usize,
    /// Calls holding a [`Listening`].
    listening: AtomicUsize,
    threads: usize,
    solo_threads: usize,
    decoded: AtomicU64,
    stopped: AtomicU64,
}

/// What the engine has done since it was loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AsrStats {
    /// Decodes run to the end.
    pub decoded: u64,
    /// Decodes stopped part-way because their ticket was dropped.
    pub stopped: u64,
    /// Decodes running now (a decode is counted in `decoded` or `stopped` just
    /// before its result is sent, and leaves `running` just after).
    pub running: usize,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queues> {
        // Workers never panic while holding the lock; recover the data if one did.
        self.queues.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The process's speech recogniser: share it (`Arc`) among all calls.
pub struct AsrEngine {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
    config: AsrConfig,
    models: Vec<AsrModel>,
}

impl std::fmt::Debug for AsrEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsrEngine")
            .field("config", &self.config)
            .field("models", &self.models)
            .finish()
    }
}

impl AsrEngine {
    /// Loads the models and starts the workers (each warms its decoders up, so
    /// the first real request is as fast as the rest). Blocks until they are ready.
    pub fn load(models: &ModelDir, config: AsrConfig) -> Result<Arc<Self>, AsrError> {
        let kinds = config.models();
        let mut loaded = Vec::new();
        for &kind in &kinds {
            loaded.push(LoadedModel::load(models, kind, config.weights)?);
        }
        let shared = Arc::new(Shared {
            queues: Mutex::new(Queues::default()),
            ready: Condvar::new(),
            capacity: config.queue_capacity.max(1),
            listening: AtomicUsize::new(0),
            threads: config.threads_per_worker.max(1),
            solo_threads: config.solo_threads.max(config.threads_per_worker).max(1),
            decoded: AtomicU64::new(0),
            stopped: AtomicU64::new(0),
        });
        let mut workers = Vec::new();
        let mut startup = Vec::new();
        for i in 0..config.workers.max(1) {
            let (ready_tx, ready_rx) = std::sync::mpsc::channel();
            let loaded = loaded.clone();
            let shared = shared.clone();
            let settings = DecodeSettings {
                threads: config.threads_per_worker,
                audio_ctx_pad: config.audio_ctx_pad,
                mandarin_prompt: config.mandarin_prompt.clone(),
                beam_size: config.beam_size,
                bias: config.bias,
            };
            let handle = std::thread::Builder::new()
                .name(format!("asr-worker-{i}"))
                .spawn(move || {
                    let mut decoders = HashMap::new();
                    for model in loaded {
                        match Decoder::new(model.clone(), &settings) {
                            Ok(d) => {
                                decoders.insert(model.kind, d);
                            }
                            Err(e) => {
                                let _ = ready_tx.send(Err(e));
                                return;
                            }
                        }
                    }
                    let _ = ready_tx.send(Ok(()));
                    worker_loop(&shared, &mut decoders);
                })
                .map_err(|e| AsrError::Whisper {
                    model: kinds[0],
                    message: format!("cannot start a worker thread: {e}"),
                })?;
            workers.push(handle);
            startup.push(ready_rx);
        }
        let engine = AsrEngine {
            shared,
            workers,
            config,
            models: kinds,
        };
        for rx in startup {
            rx.recv().map_err(|_| AsrError::ShutDown)??;
        }
        Ok(Arc::new(engine))
    }

    pub fn config(&self) -> &AsrConfig {
        &self.config
    }

    pub fn stats(&self) -> AsrStats {
        AsrStats {
            decoded: self.shared.decoded.load(Ordering::Relaxed),
            stopped: self.shared.stopped.load(Ordering::Relaxed),
            running: self.shared.lock().running,
        }
    }

    /// Counts a call as listening until the guard is dropped. With two or more
    /// listening, every decode is single-threaded.
    pub fn listening(&self) -> Listening {
        self.shared.listening.fetch_add(1, Ordering::Relaxed);
        Listening {
            shared: self.shared.clone(),
        }
    }

    /// The model a request in `language` is decoded with.
    pub fn model_for(&self, language: Language) -> AsrModel {
        match language {
            Language::En
                if self.config.english_model == EnglishModel::TinyEn
                    && self.models.contains(&AsrModel::TinyEn) =>
            {
                AsrModel::TinyEn
            }
            _ if self.models.contains(&AsrModel::Base) => AsrModel::Base,
            _ => self.models[0],
        }
    }

    /// Queues a decode. Fails at once with [`AsrError::Busy`] when `queue_capacity`
    /// requests of this priority are already waiting.
    pub fn submit(&self, request: DecodeRequest, priority: Priority) -> Result<Ticket, AsrError> {
        let (reply, rx) = oneshot::channel();
        let cancelled = Arc::new(AtomicBool::new(false));
        let job = Job {
            request,
            reply,
            cancelled: cancelled.clone(),
        };
        {
            let mut q = self.shared.lock();
            if q.shutdown {
                return Err(AsrError::ShutDown);
            }
            let queue = match priority {
                Priority::Final => &mut q.finals,
                Priority::Partial => &mut q.partials,
            };
            // Requests whose tickets were dropped don't count against the limit.
            queue.retain(|j| !j.cancelled.load(Ordering::Relaxed));
            if queue.len() >= self.shared.capacity {
                return Err(AsrError::Busy {
                    capacity: self.shared.capacity,
                });
            }
            queue.push_back(job);
        }
        self.shared.ready.notify_one();
        Ok(Ticket { rx, cancelled })
    }

    /// Decodes and waits (for the CLI, tests and benches; never call it on the async
    /// runtime: await [`submit`](Self::submit)'s ticket instead).
    pub fn transcribe(&self, request: DecodeRequest) -> Result<Transcript, AsrError> {
        self.submit(request, Priority::Final)?.wait()
    }
}

impl Drop for AsrEngine {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.ready.notify_all();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

fn worker_loop(shared: &Shared, decoders: &mut HashMap<AsrModel, Decoder>) {
    loop {
        let (job, solo) = {
            let mut q = shared.lock();
            loop {
                if q.shutdown {
                    return;
                }
                if !q.solo {
                    if let Some(job) = q.pop() {
                        let solo = shared.solo_threads > shared.threads
                            && q.running == 0
                            && q.finals.is_empty()
                            && q.partials.is_empty()
                            && shared.listening.load(Ordering::Relaxed) <= 1
                            && q.cpu.others_quiet();
                        q.running += 1;
                        q.solo = solo;
                        break (job, solo);
                    }
                }
                q = shared.ready.wait(q).unwrap_or_else(|p| p.into_inner());
            }
        };
        let r = &job.request;
        let model = route(decoders, r.language);
        let threads = if solo {
            shared.solo_threads
        } else {
            shared.threads
        };
        let result = match decoders.get_mut(&model) {
            Some(decoder) => {
                decoder.set_threads(threads);
                decoder.decode(
                    &r.audio,
                    r.language,
                    r.prompt.as_deref(),
                    r.hotwords.as_ref(),
                    r.offset_ms,
                    Some(job.cancelled.clone()),
                )
            }
            None => Err(AsrError::ShutDown),
        };
        let counter = match result {
            Err(AsrError::Cancelled) => &shared.stopped,
            _ => &shared.decoded,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let _ = job.reply.send(result);
        let mut q = shared.lock();
        q.running -= 1;
        if solo {
            q.solo = false;
            drop(q);
            // Workers that found a job but waited for this one.
            shared.ready.notify_all();
        }
    }
}

/// A call listening for speech (from [`AsrEngine::listening`]): while two or
/// more are held, no decode takes more than one worker's threads.
pub struct Listening {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Listening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listening")
            .field("calls", &self.shared.listening.load(Ordering::Relaxed))
            .finish()
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.shared.listening.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Same rule as [`AsrEngine::model_for`], over the models this worker has.
fn route(decoders: &HashMap<AsrModel, Decoder>, language: Language) -> AsrModel {
    if language == Language::En && decoders.contains_key(&AsrModel::TinyEn) {
        AsrModel::TinyEn
    } else if decoders.contains_key(&AsrModel::Base) {
        AsrModel::Base
    } else {
        decoders.keys().next().copied().unwrap_or(AsrModel::Base)
    }
}

/// A queued decode's result: `.await` it, or [`wait`](Self::wait) off the runtime.
/// Dropping it cancels the request if it has not started.
#[derive(Debug)]
pub struct Ticket {
    rx: oneshot::Receiver<Result<Transcript, AsrError>>,
    cancelled: Arc<AtomicBool>,
}

impl Ticket {
    /// Blocks until the result is ready.
    pub fn wait(mut self) -> Result<Transcript, AsrError> {
        // A blocking receive on a oneshot: fine on any thread that is not a
        // runtime worker (tokio would panic there, and rightly).
        let rx = std::mem::replace(&mut self.rx, oneshot::channel().1);
        rx.blocking_recv().map_err(|_| AsrError::ShutDown)?
    }

    /// The result if it is ready, without waiting.
    pub fn try_result(&mut self) -> Option<Result<Transcript, AsrError>> {
        match self.rx.try_recv() {
            Ok(r) => Some(r),
            Err(oneshot::error::TryRecvError::Empty) => None,
            Err(oneshot::error::TryRecvError::Closed) => Some(Err(AsrError::ShutDown)),
        }
    }
}

impl Future for Ticket {
    type Output = Result<Transcript, AsrError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(AsrError::ShutDown)))
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }
}
