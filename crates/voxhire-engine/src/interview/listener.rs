//! The call's ears: received audio → Silero VAD → endpointer → streaming Whisper.
//!
//! One task per call. It owns the per-call VAD state, the endpointer and the
//! recogniser (the models behind them are shared by all calls) and sends the
//! session what it heard, with the timings the latency figures are made of.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use voxhire_speech::asr::{AsrEngine, Hotwords, Language, Recognition, StreamingRecognizer};
use voxhire_speech::endpoint::{EndpointConfig, EndpointEvent, Endpointer};
use voxhire_speech::vad::{SileroVad, VadConfig, VadStream};

/// What the session hears from the listener.
#[derive(Debug)]
pub enum Heard {
    /// The candidate started speaking (`min_speech_ms` of speech), `at` on the
    /// call's audio clock.
    SpeechStarted {
        at: Duration,
    },
    Partial {
        text: String,
    },
    /// A finished utterance — or, with `at_pause`, the utterance so far decoded
    /// while the candidate pauses (`pause_ms`, 80 ms, into the silence): exactly what the
    /// final will say if the silence lasts. It is sent once the decode is back
    /// and the silence has lasted [`COMMIT_AFTER`]. The session may commit such a
    /// turn now ([`ListenerControl::Commit`]) instead of waiting out the
    /// end-of-turn silence, when the answer is already complete.
    Final(FinalHeard),
}

#[derive(Debug)]
pub struct FinalHeard {
    pub text: String,
    pub confidence: f32,
    /// Speech start / end on the call's audio clock (≈ ms since answer).
    pub start: Duration,
    pub end: Duration,
    /// Wall time the candidate stopped speaking (end of the last speech frame).
    pub speech_end_at: Instant,
    /// Wall time the endpoint fired (after the end-of-turn silence); for a
    /// decode at a pause, when it came back.
    pub endpoint_at: Instant,
    /// Wall time the final transcript was ready.
    pub asr_ready_at: Instant,
    /// The speculative decode at the pause was used.
    pub speculative: bool,
    /// Decoded at a pause, before any endpoint (see [`Heard::Final`]).
    pub at_pause: bool,
    pub decode_ms: u64,
    /// Whisper threads the decode ran on.
    pub decode_threads: usize,
}

/// Changes the session makes while listening.
#[derive(Debug)]
pub enum ListenerControl {
    /// Vocabulary for Whisper for the current question: a prompt, and terms to
    /// boost while decoding.
    Vocabulary {
        prompt: Option<String>,
        hotwords: Option<Hotwords>,
    },
    Endpointing(EndpointConfig),
    /// End the utterance in progress now (the session committed the turn at a
    /// pause); its final comes at once from the decode already made.
    Commit,
    /// End the utterance from `start`, paused at `end`, once that silence
    /// lasts `silence` (an open answer that ended a sentence); forgotten if the
    /// candidate speaks again first. Its final is the decode at the pause.
    EndAfter {
        start: Duration,
        end: Duration,
        silence: Duration,
    },
}

pub struct ListenerParams {
    pub vad: Arc<SileroVad>,
    pub asr: Arc<AsrEngine>,
    pub language: Language,
    pub endpointing: EndpointConfig,
}

/// Silence after the voice before a decode at a pause is offered as the turn's
/// end: a complete answer is taken no sooner (people pause between "yes" and
/// "but only after March" for less), however fast the decode came back.
pub const COMMIT_AFTER: Duration = Duration::from_millis(250);

/// The endpointer and the recogniser, and the wall-clock bookkeeping between
/// them that turns audio-clock instants into latency figures.
struct Turns {
    endpointer: Endpointer,
    asr: StreamingRecognizer,
    /// (speech end, endpoint) wall times of each final still being decoded, in order.
    endpoints: VecDeque<(Instant, Instant)>,
    /// The pause the speculative decode is for: utterance start, speech end
    /// (audio clock) and the wall time the speech ended.
    pause: Option<(Duration, Duration, Instant)>,
    /// A decode at the pause that came back before [`COMMIT_AFTER`] of silence.
    held: Option<FinalHeard>,
    /// [`ListenerControl::EndAfter`]'s pause (start, end) and silence.
    end_after: Option<(Duration, Duration, Duration)>,
}

impl Turns {
    /// Wall time of an audio-clock instant, given that the newest audio arrived `now`.
    fn wall(&self, now: Instant, at: Duration) -> Instant {
        let behind = self.endpointer.now().saturating_sub(at);
        now.checked_sub(behind).unwrap_or(now)
    }

    /// Hands the endpointer's events to the recogniser, keeping the timings;
    /// returns the speech onsets among them (for barge-in).
    fn drain(&mut self, now: Instant) -> Vec<Duration> {
        let mut onsets = Vec::new();
        while let Some(event) = self.endpointer.poll_event() {
            let ended = match &event {
                EndpointEvent::SpeechStarted { at } => {
                    onsets.push(*at);
                    false
                }
                EndpointEvent::SpeechPaused { start, end, .. } => {
                    self.pause = Some((*start, *end, self.wall(now, *end)));
                    false
                }
                EndpointEvent::UtteranceEnded(u) => {
                    self.pause = None;
                    self.held = None;
                    self.endpoints.push_back((self.wall(now, u.end), now));
                    true
                }
                EndpointEvent::UtteranceProgress { .. } | EndpointEvent::SpeechResumed { .. } => {
                    false
                }
            };
            if let Err(e) = self.asr.handle_event(&event) {
                tracing::warn!(error = %e, "ASR refused an utterance");
                if ended {
                    self.endpoints.pop_back();
                }
            }
        }
        onsets
    }

    /// Whether the listener is still in the pause a decode from `start` to `end`
    /// was made for: the same utterance, no speech since.
    fn in_pause(&self, vad: &VadStream, start: Duration, end: Duration) -> bool {
        self.pause.is_some_and(|(s, e, _)| s == start && e == end)
            && !vad.in_speech()
            && self.endpointer.in_utterance()
    }

    /// Ends the utterance when the silence [`ListenerControl::EndAfter`] asked
    /// for is reached in its pause; forgets the request once the pause is over.
    fn end_if_due(&mut self, vad: &VadStream, now: Instant) {
        let Some((start, end, silence)) = self.end_after else {
            return;
        };
        if !self.in_pause(vad, start, end) {
            self.end_after = None;
        } else if self.endpointer.now() >= end + silence {
            self.end_after = None;
            if self.endpointer.flush() {
                self.drain(now);
            }
        }
    }

    /// The held decode at the pause, once the silence has lasted
    /// [`COMMIT_AFTER`]; dropped if the candidate spoke again.
    fn release_held(&mut self, vad: &VadStream, now: Instant) -> Option<FinalHeard> {
        let held = self.held.take()?;
        if !self.in_pause(vad, held.start, held.end) {
            return None;
        }
        if self.endpointer.now() < held.end + COMMIT_AFTER {
            self.held = Some(held);
            return None;
        }
        Some(FinalHeard {
            endpoint_at: now,
            asr_ready_at: now,
            ..held
        })
    }
}

/// Runs until the audio channel closes (the call's media ended).
/// (Long on purpose: one loop owning the call's VAD, endpointer and
/// recogniser state, fed by audio frames and control messages.)
pub async fn run(
    params: ListenerParams,
    mut audio: mpsc::Receiver<Arc<[i16]>>,
    mut control: mpsc::Receiver<ListenerControl>,
    heard: mpsc::Sender<Heard>,
) {
    let mut vad = VadStream::new(params.vad, VadConfig::default());
    let mut turns = Turns {
        endpointer: Endpointer::new(params.endpointing),
        asr: StreamingRecognizer::new(params.asr, params.language),
        endpoints: VecDeque::new(),
        pause: None,
        held: None,
        end_after: None,
    };
    let mut vad_failures = 0u64;
    loop {
        tokio::select! {
            frame = audio.recv() => {
                let Some(frame) = frame else { break };
                let frames = match vad.push(&frame) {
                    Ok(f) => f,
                    Err(e) => {
                        vad_failures += 1;
                        if vad_failures == 1 {
                            tracing::warn!(error = %e, "VAD failed; treating audio as silence");
                        }
                        continue;
                    }
                };
                for f in frames {
                    turns.endpointer.handle_frame(f.is_speech, &f.samples);
                }
                let now = Instant::now();
                for at in turns.drain(now) {
                    if heard.send(Heard::SpeechStarted { at }).await.is_err() {
                        return;
                    }
                }
                if let Some(f) = turns.release_held(&vad, now) {
                    if heard.send(Heard::Final(f)).await.is_err() {
                        return;
                    }
                }
                turns.end_if_due(&vad, now);
            }
            c = control.recv() => match c {
                Some(ListenerControl::Vocabulary { prompt, hotwords }) => {
                    turns.asr.set_prompt(prompt);
                    turns.asr.set_hotwords(hotwords);
                }
                Some(ListenerControl::Endpointing(e)) => turns.endpointer.set_config(e),
                Some(ListenerControl::Commit) => {
                    if turns.endpointer.flush() {
                        turns.drain(Instant::now());
                    }
                    turns.pause = None;
                    turns.held = None;
                    turns.end_after = None;
                }
                Some(ListenerControl::EndAfter { start, end, silence }) => {
                    turns.end_after = Some((start, end, silence));
                    turns.end_if_due(&vad, Instant::now());
                }
                None => break,
            },
            r = turns.asr.next_recognition() => {
                let now = Instant::now();
                let out = match r {
                    Ok(Recognition::Partial(h)) => {
                        if h.transcript.text.is_empty() { continue; }
                        match turns.pause {
                            // Still in the pause this decode is for: the same utterance,
                            // and audio up to this pause's speech end (a slow decode of
                            // an earlier pause of the same utterance would miss what the
                            // candidate said since — "No, I'm driving. Call me at ten?").
                            Some((start, end, speech_end_at))
                                if h.speculative
                                    && h.start == start
                                    && h.audio_end >= end
                                    && turns.in_pause(&vad, start, end) =>
                            {
                                let f = FinalHeard {
                                    confidence: h.transcript.confidence(),
                                    text: h.transcript.text,
                                    start,
                                    end,
                                    speech_end_at,
                                    endpoint_at: now,
                                    asr_ready_at: now,
                                    speculative: true,
                                    at_pause: true,
                                    decode_ms: h.transcript.decode_ms,
                                    decode_threads: h.transcript.threads,
                                };
                                turns.held = Some(f);
                                match turns.release_held(&vad, now) {
                                    Some(f) => Heard::Final(f),
                                    None => continue,
                                }
                            }
                            _ => Heard::Partial { text: h.transcript.text },
                        }
                    }
                    Ok(Recognition::Final(f)) => {
                        let (speech_end_at, endpoint_at) =
                            turns.endpoints.pop_front().unwrap_or((now, now));
                        Heard::Final(FinalHeard {
                            confidence: f.transcript.confidence(),
                            text: f.transcript.text,
                            start: f.start,
                            end: f.end,
                            speech_end_at,
                            endpoint_at,
                            asr_ready_at: now,
                            speculative: f.speculative,
                            at_pause: false,
                            decode_ms: f.transcript.decode_ms,
                            decode_threads: f.transcript.threads,
                        })
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "ASR decode failed");
                        turns.endpoints.pop_front();
                        continue;
                    }
                };
                if heard.send(out).await.is_err() {
                    return;
                }
            }
        }
    }
    if vad_failures > 0 {
        tracing::warn!(vad_failures, "VAD failures on this call");
    }
}
