//! Streaming recognition for one call, on top of the shared [`AsrEngine`].
//!
//! Whisper is not a streaming model, so streaming is done by re-decoding:
//!
//! - every `progress_ms` of new speech ([`EndpointEvent::UtteranceProgress`]) the
//!   utterance so far is decoded for a partial hypothesis, at low priority and at
//!   most one at a time per call (if the last one hasn't come back, this one is
//!   skipped: partials must never pile up behind a slow machine);
//! - when the candidate pauses ([`EndpointEvent::SpeechPaused`], `pause_ms` into
//!   the silence) the utterance is decoded speculatively at final priority. If the
//!   silence lasts to the endpoint, the final's audio is identical, so that decode
//!   *is* the final and is ready after `decode time - (end_silence - pause)`:
//!   typically at once;
//! - otherwise the final is decoded when the endpoint fires.
//!
//! Results come out in order: partials of an utterance, then its final.
//!
//! ```no_run
//! # use voxhire_speech::asr::*; use voxhire_speech::endpoint::*;
//! # async fn call(engine: std::sync::Arc<AsrEngine>, mut endpointer: Endpointer) -> Result<(), AsrError> {
//! let mut asr = StreamingRecognizer::new(engine, Language::En);
//! asr.set_prompt(Some("Java, Spring Cloud, Kubernetes".into()));
//! // in the call's task, for each VAD frame:
//! while let Some(event) = endpointer.poll_event() {
//!     asr.handle_event(&event)?;
//! }
//! // and in a select! arm (cancel-safe):
//! match asr.next_recognition().await? {
//!     Recognition::Partial(h) => println!("… {}", h.transcript.text),
//!     Recognition::Final(f) => println!("{} ({} ms after the endpoint)", f.transcript.text, f.latency.as_millis()),
//! }
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::future::{poll_fn, Future as _};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use super::bias::Hotwords;
use super::engine::{AsrEngine, DecodeRequest, Listening, Priority, Ticket};
use super::{phone_to_asr, AsrError, Language, Transcript};
use crate::endpoint::{EndReason, EndpointEvent};

/// A hypothesis while the candidate is speaking (or pausing).
#[derive(Debug, Clone)]
pub struct Hypothesis {
    pub transcript: Transcript,
    /// Utterance start on the stream clock.
    pub start: Duration,
    /// How far into the stream the decoded audio reached.
    pub audio_end: Duration,
    /// Whether this was the speculative decode at a pause.
    pub speculative: bool,
}

/// The result for a finished utterance.
#[derive(Debug, Clone)]
pub struct FinalResult {
    pub transcript: Transcript,
    pub start: Duration,
    pub end: Duration,
    /// When the endpoint fired (stream clock).
    pub detected_at: Duration,
    pub reason: EndReason,
    /// Wall time from [`StreamingRecognizer::handle_event`] receiving the endpoint
    /// to the result being available: what the candidate waits through on top of
    /// the end-of-turn silence.
    pub latency: Duration,
    /// The speculative decode at the pause was reused.
    pub speculative: bool,
}

#[derive(Debug, Clone)]
pub enum Recognition {
    Partial(Hypothesis),
    Final(FinalResult),
}

enum Pending {
    Waiting(Ticket),
    Done(Transcript),
}

struct InFlight {
    ticket: Ticket,
    start: Duration,
    audio_end: Duration,
}

struct Speculative {
    start: Duration,
    end: Duration,
    audio_end: Duration,
    result: Pending,
}

struct PendingFinal {
    start: Duration,
    end: Duration,
    detected_at: Duration,
    reason: EndReason,
    endpoint_at: Instant,
    speculative: bool,
    result: Pending,
}

/// One call's recogniser. Feed it the call's [`EndpointEvent`]s; take results with
/// [`next_recognition`](Self::next_recognition) (async),
/// [`poll_recognition`](Self::poll_recognition) (non-blocking) or
/// [`wait_recognition`](Self::wait_recognition) (blocking, off the runtime).
pub struct StreamingRecognizer {
    engine: Arc<AsrEngine>,
    /// This call counts as listening while the recogniser lives (the engine
    /// gives a lone call's decodes every core).
    _listening: Listening,
    language: Language,
    prompt: Option<String>,
    hotwords: Option<Hotwords>,
    partial: Option<InFlight>,
    speculative: Option<Speculative>,
    finals: VecDeque<PendingFinal>,
    partials_skipped: u64,
}

impl std::fmt::Debug for StreamingRecognizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamingRecognizer")
            .field("language", &self.language)
            .field("finals_pending", &self.finals.len())
            .field("partials_skipped", &self.partials_skipped)
            .finish_non_exhaustive()
    }
}

impl StreamingRecognizer {
    pub fn new(engine: Arc<AsrEngine>, language: Language) -> Self {
        StreamingRecognizer {
            _listening: engine.listening(),
            engine,
            language,
            prompt: None,
            hotwords: None,
            partial: None,
            speculative: None,
            finals: VecDeque::new(),
            partials_skipped: 0,
        }
    }

    // Getters.

    pub fn language(&self) -> Language {
        self.language
    }

    /// Partials not decoded because the previous one was still running or the
    /// engine was busy.
    pub fn partials_skipped(&self) -> u64 {
        self.partials_skipped
    }

    /// Whether any decode is outstanding.
    pub fn is_idle(&self) -> bool {
        self.partial.is_none()
            && self.finals.is_empty()
            && !matches!(
                self.speculative,
                Some(Speculative {
                    result: Pending::Waiting(_),
                    ..
                })
            )
    }

    // Mutators.

    pub fn set_language(&mut self, language: Language) {
        self.language = language;
    }

    /// Expected vocabulary for the current question (names, skills, numbers).
    pub fn set_prompt(&mut self, prompt: Option<String>) {
        self.prompt = prompt;
    }

    /// Terms to boost while decoding the current question's answer.
    pub fn set_hotwords(&mut self, hotwords: Option<Hotwords>) {
        self.hotwords = hotwords;
    }

    // Inputs.

    /// Reacts to an endpointer event. Fails only when a final cannot be queued
    /// (engine busy or shut down): partials are skipped quietly under load.
    pub fn handle_event(&mut self, event: &EndpointEvent) -> Result<(), AsrError> {
        match event {
            EndpointEvent::SpeechStarted { .. } => {}
            EndpointEvent::UtteranceProgress { audio, start, now } => {
                if self.partial.is_some() {
                    self.partials_skipped += 1;
                    return Ok(());
                }
                match self.submit(audio, *start, Priority::Partial) {
                    Ok(ticket) => {
                        self.partial = Some(InFlight {
                            ticket,
                            start: *start,
                            audio_end: *now,
                        });
                    }
                    Err(AsrError::Busy { .. }) => self.partials_skipped += 1,
                    Err(e) => return Err(e),
                }
            }
            EndpointEvent::SpeechResumed { start } => {
                // What the pause's decode covers is no longer the utterance: drop
                // it (a running decode stops and frees its worker).
                if self.speculative.as_ref().is_some_and(|s| s.start == *start) {
                    self.speculative = None;
                }
            }
            EndpointEvent::SpeechPaused { audio, start, end } => {
                // The speculative decode supersedes a partial still waiting.
                self.partial = None;
                self.speculative = None;
                match self.submit(audio, *start, Priority::Final) {
                    Ok(ticket) => {
                        self.speculative = Some(Speculative {
                            start: *start,
                            end: *end,
                            audio_end: *start + samples_to_duration(audio.len()),
                            result: Pending::Waiting(ticket),
                        });
                    }
                    Err(AsrError::Busy { .. }) => self.partials_skipped += 1,
                    Err(e) => return Err(e),
                }
            }
            EndpointEvent::UtteranceEnded(u) => {
                let endpoint_at = Instant::now();
                self.partial = None;
                let speculative = self.speculative.take().filter(|s| {
                    u.reason == EndReason::Silence && s.end == u.end && s.start == u.start
                });
                let (result, speculative) = match speculative {
                    Some(s) => (s.result, true),
                    None => (
                        Pending::Waiting(self.submit(&u.audio, u.start, Priority::Final)?),
                        false,
                    ),
                };
                self.finals.push_back(PendingFinal {
                    start: u.start,
                    end: u.end,
                    detected_at: u.detected_at,
                    reason: u.reason,
                    endpoint_at,
                    speculative,
                    result,
                });
            }
        }
        Ok(())
    }

    fn submit(
        &self,
        audio: &[i16],
        start: Duration,
        priority: Priority,
    ) -> Result<Ticket, AsrError> {
        let request = DecodeRequest {
            audio: phone_to_asr(audio)?,
            language: self.language,
            prompt: self.prompt.clone(),
            hotwords: self.hotwords.clone(),
            offset_ms: start.as_millis() as u64,
        };
        self.engine.submit(request, priority)
    }

    // Outputs.

    /// The next result if one is ready.
    pub fn poll_recognition(&mut self) -> Option<Result<Recognition, AsrError>> {
        let mut cx = Context::from_waker(Waker::noop());
        match self.poll_next(&mut cx) {
            Poll::Ready(r) => Some(r),
            Poll::Pending => None,
        }
    }

    /// Waits for the next result; pending for ever while nothing is outstanding
    /// (use it in a `select!` beside the audio input). Cancel-safe.
    pub async fn next_recognition(&mut self) -> Result<Recognition, AsrError> {
        poll_fn(|cx| self.poll_next(cx)).await
    }

    /// Blocks for the next result; `None` when nothing is outstanding. Not on an
    /// async runtime's thread.
    pub fn wait_recognition(&mut self) -> Option<Result<Recognition, AsrError>> {
        struct Unpark(std::thread::Thread);
        impl Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        loop {
            match self.poll_next(&mut cx) {
                Poll::Ready(r) => return Some(r),
                Poll::Pending if self.is_idle() => return None,
                Poll::Pending => std::thread::park(),
            }
        }
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Result<Recognition, AsrError>> {
        // Finals first, in order; while one is outstanding, later partials wait.
        if let Some(front) = self.finals.front_mut() {
            let ready = match &mut front.result {
                Pending::Done(_) => true,
                Pending::Waiting(ticket) => match std::pin::Pin::new(ticket).poll(cx) {
                    Poll::Ready(r) => {
                        front.result = Pending::Done(match r {
                            Ok(t) => t,
                            Err(e) => {
                                self.finals.pop_front();
                                return Poll::Ready(Err(e));
                            }
                        });
                        true
                    }
                    Poll::Pending => false,
                },
            };
            if !ready {
                return Poll::Pending;
            }
            let Some(f) = self.finals.pop_front() else {
                return Poll::Pending;
            };
            let Pending::Done(transcript) = f.result else {
                return Poll::Pending;
            };
            return Poll::Ready(Ok(Recognition::Final(FinalResult {
                transcript,
                start: f.start,
                end: f.end,
                detected_at: f.detected_at,
                reason: f.reason,
                latency: f.endpoint_at.elapsed(),
                speculative: f.speculative,
            })));
        }
        if let Some(s) = &mut self.speculative {
            if let Pending::Waiting(ticket) = &mut s.result {
                if let Poll::Ready(r) = std::pin::Pin::new(ticket).poll(cx) {
                    match r {
                        Ok(t) => {
                            s.result = Pending::Done(t.clone());
                            return Poll::Ready(Ok(Recognition::Partial(Hypothesis {
                                transcript: t,
                                start: s.start,
                                audio_end: s.audio_end,
                                speculative: true,
                            })));
                        }
                        Err(e) => {
                            self.speculative = None;
                            tracing::warn!(error = %e, "speculative ASR decode failed");
                        }
                    }
                }
            }
        }
        if let Some(p) = &mut self.partial {
            if let Poll::Ready(r) = std::pin::Pin::new(&mut p.ticket).poll(cx) {
                let (start, audio_end) = (p.start, p.audio_end);
                self.partial = None;
                match r {
                    Ok(transcript) => {
                        return Poll::Ready(Ok(Recognition::Partial(Hypothesis {
                            transcript,
                            start,
                            audio_end,
                            speculative: false,
                        })))
                    }
                    Err(e) => tracing::warn!(error = %e, "partial ASR decode failed"),
                }
            }
        }
        Poll::Pending
    }
}

fn samples_to_duration(samples: usize) -> Duration {
    Duration::from_micros(samples as u64 * 1_000_000 / u64::from(voxhire_media::PCM_RATE))
}
