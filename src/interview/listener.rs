//! The call's ears: received audio → Silero VAD → endpointer → streaming Whisper.
//!
//! One task per call. It owns the per-call VAD state, the endpointer and the
//! recogniser (the models behind them are shared by all calls) and sends the
//! session what it heard, with the timings the latency figures are made of.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use voxhire_speech::asr::{AsrEngine, Language, Recognition, StreamingRecognizer};
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
    /// The candidate has paused (200 ms into the silence) and the utterance so
    /// far is decoded: exactly what the final will say if the silence lasts. The
    /// session may commit the turn now ([`ListenerControl::Commit`]) instead of
    /// waiting out the end-of-turn silence, when the answer is already complete.
    Paused(FinalHeard),
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
    /// Wall time the endpoint fired (after the end-of-turn silence).
    pub endpoint_at: Instant,
    /// Wall time the final transcript was ready.
    pub asr_ready_at: Instant,
    /// The speculative decode at the pause was used.
    pub speculative: bool,
    pub decode_ms: u64,
}

/// Changes the session makes while listening.
#[derive(Debug)]
pub enum ListenerControl {
    /// Vocabulary for Whisper for the current question.
    Prompt(Option<String>),
    Endpointing(EndpointConfig),
    /// End the utterance in progress now (the session committed the turn at a
    /// pause); its final comes at once from the decode already made.
    Commit,
}

pub struct ListenerParams {
    pub vad: Arc<SileroVad>,
    pub asr: Arc<AsrEngine>,
    pub language: Language,
    pub endpointing: EndpointConfig,
}

/// Runs until the audio channel closes (the call's media ended).
pub async fn run(
    params: ListenerParams,
    mut audio: mpsc::Receiver<Arc<[i16]>>,
    mut control: mpsc::Receiver<ListenerControl>,
    heard: mpsc::Sender<Heard>,
) {
    let mut vad = VadStream::new(params.vad, VadConfig::default());
    let mut endpointer = Endpointer::new(params.endpointing);
    let mut asr = StreamingRecognizer::new(params.asr, params.language);
    // Wall time each pending final's endpoint fired, in order.
    let mut endpoints: std::collections::VecDeque<(Instant, Instant)> = Default::default();
    let mut vad_failures = 0u64;
    // The pause the speculative decode is for: utterance start, speech end (audio
    // clock) and the wall time the speech ended.
    let mut pause: Option<(Duration, Duration, Instant)> = None;
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
                    endpointer.handle_frame(f.is_speech, &f.samples);
                }
                let now = Instant::now();
                while let Some(event) = endpointer.poll_event() {
                    match &event {
                        EndpointEvent::SpeechStarted { at } => {
                            if heard.send(Heard::SpeechStarted { at: *at }).await.is_err() {
                                return;
                            }
                        }
                        EndpointEvent::SpeechPaused { start, end, .. } => {
                            let behind = endpointer.now().saturating_sub(*end);
                            pause = Some((*start, *end, now.checked_sub(behind).unwrap_or(now)));
                        }
                        EndpointEvent::UtteranceEnded(u) => {
                            pause = None;
                            let behind = endpointer.now().saturating_sub(u.end);
                            endpoints.push_back((now.checked_sub(behind).unwrap_or(now), now));
                        }
                        _ => {}
                    }
                    if let Err(e) = asr.handle_event(&event) {
                        tracing::warn!(error = %e, "ASR refused an utterance");
                        if matches!(event, EndpointEvent::UtteranceEnded(_)) {
                            endpoints.pop_back();
                        }
                    }
                }
            }
            c = control.recv() => match c {
                Some(ListenerControl::Prompt(p)) => asr.set_prompt(p),
                Some(ListenerControl::Endpointing(e)) => endpointer.set_config(e),
                Some(ListenerControl::Commit) => {
                    if endpointer.flush() {
                        let now = Instant::now();
                        while let Some(event) = endpointer.poll_event() {
                            if let EndpointEvent::UtteranceEnded(u) = &event {
                                let behind = endpointer.now().saturating_sub(u.end);
                                endpoints.push_back((now.checked_sub(behind).unwrap_or(now), now));
                            }
                            if let Err(e) = asr.handle_event(&event) {
                                tracing::warn!(error = %e, "ASR refused a committed utterance");
                                endpoints.pop_back();
                            }
                        }
                    }
                    pause = None;
                }
                None => break,
            },
            r = asr.next_recognition() => {
                let out = match r {
                    Ok(Recognition::Partial(h)) => {
                        if h.transcript.text.is_empty() { continue; }
                        match pause {
                            // Still pausing after the utterance this decode is for.
                            Some((start, end, speech_end_at))
                                if h.speculative && start == h.start && !vad.in_speech() && endpointer.in_utterance() =>
                            {
                                let now = Instant::now();
                                Heard::Paused(FinalHeard {
                                    confidence: h.transcript.confidence(),
                                    text: h.transcript.text,
                                    start,
                                    end,
                                    speech_end_at,
                                    endpoint_at: now,
                                    asr_ready_at: now,
                                    speculative: true,
                                    decode_ms: h.transcript.decode_ms,
                                })
                            }
                            _ => Heard::Partial { text: h.transcript.text },
                        }
                    }
                    Ok(Recognition::Final(f)) => {
                        let (speech_end_at, endpoint_at) =
                            endpoints.pop_front().unwrap_or((Instant::now(), Instant::now()));
                        Heard::Final(FinalHeard {
                            confidence: f.transcript.confidence(),
                            text: f.transcript.text,
                            start: f.start,
                            end: f.end,
                            speech_end_at,
                            endpoint_at,
                            asr_ready_at: Instant::now(),
                            speculative: f.speculative,
                            decode_ms: f.transcript.decode_ms,
                        })
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "ASR decode failed");
                        endpoints.pop_front();
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
