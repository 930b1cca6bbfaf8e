//! One interview on one answered call: the dialog state machine driven by what
//! the listener hears, the speaker's progress, DTMF, timers and the far end's
//! hang-up; and everything the call leaves behind.
//!
//! Per turn the session measures voice-to-voice latency — from the end of the
//! candidate's last speech frame to the first frame of the agent's reply leaving
//! — and splits it into endpoint wait (end-of-turn silence), ASR, NLU + dialog,
//! and TTS/playout, written to `events.jsonl` and summarised in the result.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use voxhire_dialog::{Action, Input, Interview, InterviewScript, ListenContext, Report};
use voxhire_media::stats::percentile;
use voxhire_nlu::{Heard as HeardUtterance, Lang, Understanding};

use super::listener::{self, FinalHeard, Heard, ListenerControl, ListenerParams};
use super::outputs::{self, EventLog};
use super::speaker::{Speaker, SpeakerCommand, Spoken};
pub use super::turn_taking::TurnLatency;
use super::turn_taking::{TurnOutput, TurnTaking};
use super::InterviewStack;
use crate::media_task::MediaHandle;

/// What the session needs to know about the call.
pub struct InterviewParams {
    pub script: Arc<InterviewScript>,
    pub lang: Lang,
    pub candidate_name: Option<String>,
    /// The candidate's time zone, for "call me tomorrow at ten".
    pub tz: chrono_tz::Tz,
    /// `runs/<campaign>/<candidate>/`.
    pub run_dir: PathBuf,
}

/// The media side of the call, handed to the session once answered.
pub struct CallMedia {
    pub media: Arc<MediaHandle>,
    pub audio: mpsc::Receiver<Arc<[i16]>>,
    pub dtmf: tokio::sync::broadcast::Receiver<char>,
}

/// The transcript's turns as the caller heard them: a line still playing
/// when the call ended is cut off there, lines never played are left out.
fn played_turns(mut turns: Vec<Turn>, ended_ms: u64) -> Vec<Turn> {
    for t in turns.iter_mut().filter(|t| t.played && t.end_ms == 0) {
        t.end_ms = ended_ms.max(t.start_ms);
        t.interrupted = true;
    }
    turns.retain(|t| t.played);
    turns
}

/// One transcript turn.
#[derive(Debug, Clone, Serialize)]
pub struct Turn {
    pub speaker: &'static str,
    pub text: String,
    pub language: Lang,
    pub start_ms: u64,
    pub end_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_id: Option<String>,
    /// Cut off: by the candidate speaking over it (barge-in), or by the
    /// call ending mid-line (`end_ms` is then where the call ended).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// The line reached the caller (agent lines queued but never played are
    /// left out of the transcript).
    #[serde(skip)]
    pub played: bool,
}

#[derive(Debug, Serialize)]
pub struct Transcript {
    pub language: Lang,
    pub turns: Vec<Turn>,
}

/// What the interview produced.
pub struct InterviewResult {
    pub report: Report,
    pub report_path: PathBuf,
    pub latencies: Vec<TurnLatency>,
    /// The far end hung up (rather than the dialog ending the call).
    pub remote_hangup: bool,
}

/// Runs the interview until the dialog hangs up or the far end does
/// (`hangup` turns true). The caller then sends the BYE and stops the media.
pub async fn run(
    stack: Arc<InterviewStack>,
    params: InterviewParams,
    call: CallMedia,
    mut hangup: watch::Receiver<bool>,
    events: EventLog,
) -> Result<InterviewResult> {
    let answered = Instant::now();
    let call_ms = move || answered.elapsed().as_millis() as i64;
    let script = params.script.clone();
    let lang = params.lang;
    let mut dialog = Interview::new(
        script.clone(),
        lang,
        params.candidate_name.clone(),
        answered,
    );

    let (heard_tx, mut heard_rx) = mpsc::channel(16);
    let (listen_ctl, listen_ctl_rx) = mpsc::channel(4);
    let listener = tokio::spawn(listener::run(
        ListenerParams {
            vad: stack.vad.clone(),
            asr: stack.asr.clone(),
            language: lang.into(),
            endpointing: super::endpoint_config(&script.endpointing(), stack.tuning.partial_ms),
        },
        call.audio,
        listen_ctl_rx,
        heard_tx,
    ));
    let (say_tx, say_rx) = mpsc::channel(16);
    let (spoken_tx, mut spoken_rx) = mpsc::channel(16);
    let speaker = Speaker {
        voice: stack.voice(lang)?,
        cache: stack.cache.clone(),
    };
    let speaker_task = tokio::spawn(speaker.run(call.media.clone(), say_rx, spoken_tx));
    let mut dtmf = call.dtmf;
    let mut dtmf_open = true;

    let mut turns: Vec<Turn> = Vec::new();
    let mut listening: Option<ListenContext> = None;
    let mut turn_taking = TurnTaking::default();
    let mut lines_playing = 0usize;
    let mut hangup_requested = false;
    let mut remote_hangup = *hangup.borrow();

    dialog.handle_input(Instant::now(), Input::Answered);
    loop {
        // Carry out what the dialog decided.
        while let Some(action) = dialog.poll_action() {
            events.log("dialog", &action_event(&action));
            match action {
                Action::Say { id, text, .. } => {
                    lines_playing += 1;
                    turns.push(Turn {
                        speaker: "agent",
                        text: text.clone(),
                        language: lang,
                        start_ms: call_ms().max(0) as u64,
                        end_ms: 0,
                        confidence: None,
                        prompt_id: Some(id.0.clone()),
                        interrupted: false,
                        played: false,
                    });
                    let _ = say_tx.send(SpeakerCommand::Say { id: id.0, text }).await;
                }
                Action::StopPlayback => {
                    let _ = say_tx.send(SpeakerCommand::Stop).await;
                }
                Action::Listen { context } => {
                    let _ = listen_ctl
                        .send(ListenerControl::Prompt(context.asr_prompt.clone()))
                        .await;
                    let _ = listen_ctl
                        .send(ListenerControl::Endpointing(super::endpoint_config(
                            &context.endpointing,
                            stack.tuning.partial_ms,
                        )))
                        .await;
                    turn_taking.handle_listen(context.nlu.clone());
                    listening = Some(context);
                }
                Action::ScheduleCallback { .. } | Action::MarkDoNotCall => {}
                Action::HangUp => hangup_requested = true,
            }
        }
        while let Some(ev) = dialog.poll_event() {
            events.log("dialog", &ev);
        }
        if remote_hangup || (hangup_requested && lines_playing == 0) {
            break;
        }
        let timeout = dialog.poll_timeout().map(tokio::time::Instant::from_std);
        tokio::select! {
            heard = heard_rx.recv() => match heard {
                None => {
                    // The media ended under us: treat as the far end hanging up.
                    remote_hangup = true;
                    dialog.handle_input(Instant::now(), Input::HangUp);
                }
                Some(Heard::SpeechStarted { at }) => {
                    events.log("vad", &serde_json::json!({"event": "speech_started", "audio_ms": at.as_millis() as u64}));
                    dialog.handle_input(Instant::now(), Input::SpeechStarted);
                }
                Some(Heard::Partial { text }) => {
                    dialog.handle_input(Instant::now(), Input::Partial { text });
                }
                Some(Heard::Final(f)) => {
                    if !turn_taking.wants(&f) {
                        // The endpoint final of a turn already taken at its pause.
                        turn_taking.handle_skipped(&f);
                        continue;
                    }
                    let heard = HeardUtterance {
                        text: f.text.clone(),
                        lang,
                        turn: 0,
                        start_ms: f.start.as_millis() as u64,
                        end_ms: f.end.as_millis() as u64,
                        confidence: f.confidence,
                    };
                    let understanding = understand(&stack, &heard, listening.as_ref(), params.tz).await;
                    turn_taking.handle_final(Instant::now(), f, understanding);
                    while let Some(out) = turn_taking.poll_output() {
                        match out {
                            TurnOutput::CommitUtterance => {
                                let _ = listen_ctl.send(ListenerControl::Commit).await;
                            }
                            TurnOutput::Answer { turn, heard: f, understanding } => {
                                let heard = HeardUtterance { turn, ..heard.clone() };
                                log_answer(&events, turn, &f, &heard, &understanding);
                                turns.push(Turn {
                                    speaker: "candidate",
                                    text: f.text.clone(),
                                    language: lang,
                                    start_ms: heard.start_ms,
                                    end_ms: heard.end_ms,
                                    confidence: Some(f.confidence),
                                    prompt_id: None,
                                    interrupted: false,
                                    played: true,
                                });
                                dialog.handle_input(Instant::now(), Input::Final { heard, understanding });
                            }
                            TurnOutput::Latency(l) => events.log("turn", &l),
                        }
                    }
                }
            },
            spoken = spoken_rx.recv() => match spoken {
                None => break,
                Some(Spoken::Started { id, at, cached, first_chunk_ms }) => {
                    if let Some(t) = turns.iter_mut().find(|t| !t.played && t.prompt_id.as_deref() == Some(id.as_str())) {
                        t.start_ms = call_ms().max(0) as u64;
                        t.played = true;
                    }
                    events.log("tts", &serde_json::json!({"event": "playing", "id": id, "cached": cached, "first_chunk_ms": first_chunk_ms}));
                    turn_taking.handle_agent_audio(at, cached);
                    while let Some(out) = turn_taking.poll_output() {
                        if let TurnOutput::Latency(l) = out {
                            events.log("turn", &l);
                        }
                    }
                }
                Some(Spoken::Finished { id, interrupted, audio_ms }) => {
                    lines_playing = lines_playing.saturating_sub(1);
                    if let Some(t) = turns.iter_mut().find(|t| t.played && t.end_ms == 0 && t.prompt_id.as_deref() == Some(id.as_str())) {
                        t.end_ms = if interrupted { call_ms().max(0) as u64 } else { t.start_ms.max(1) + audio_ms };
                        t.interrupted = interrupted;
                    }
                    events.log("tts", &serde_json::json!({"event": "played", "id": id, "interrupted": interrupted, "audio_ms": audio_ms}));
                    if lines_playing == 0 {
                        dialog.handle_input(Instant::now(), Input::PlaybackFinished);
                    }
                }
            },
            digit = dtmf.recv(), if dtmf_open => match digit {
                Ok(d) => {
                    events.log("media", &serde_json::json!({"event": "dtmf", "digit": d.to_string()}));
                    dialog.handle_input(Instant::now(), Input::Dtmf(d));
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "DTMF digits missed");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => dtmf_open = false,
            },
            changed = hangup.changed() => {
                if changed.is_err() || *hangup.borrow() {
                    remote_hangup = true;
                    events.log("sip", &serde_json::json!({"event": "remote_hangup"}));
                    dialog.handle_input(Instant::now(), Input::HangUp);
                }
            }
            _ = async { tokio::time::sleep_until(timeout.expect("guarded")).await }, if timeout.is_some() => {
                dialog.handle_timeout(Instant::now());
            }
        }
    }
    // Drain the dialog's last words into the log.
    while let Some(action) = dialog.poll_action() {
        events.log("dialog", &action_event(&action));
    }
    while let Some(ev) = dialog.poll_event() {
        events.log("dialog", &ev);
    }
    drop(say_tx);
    drop(listen_ctl);
    speaker_task.abort();
    listener.abort();

    let report = dialog.finish(Some(stack.nlu.as_ref()));
    let dir = &params.run_dir;
    let turns = played_turns(turns, call_ms().max(0) as u64);
    outputs::write_json(
        &dir.join("transcript.json"),
        &Transcript {
            language: lang,
            turns,
        },
    )?;
    let report_path = dir.join("report.json");
    outputs::write_json(&report_path, &report)?;
    let latencies = turn_taking.latencies().to_vec();
    if !latencies.is_empty() {
        events.log("turn", &latency_summary(&latencies));
    }
    Ok(InterviewResult {
        report,
        report_path,
        latencies,
        remote_hangup,
    })
}

/// The ASR and NLU events of a candidate's turn.
fn log_answer(
    events: &EventLog,
    turn: u32,
    f: &FinalHeard,
    heard: &HeardUtterance,
    understanding: &Understanding,
) {
    let ms = |a: Instant, b: Instant| b.saturating_duration_since(a).as_millis() as u64;
    events.log(
        "asr",
        &serde_json::json!({
            "event": "final", "turn": turn, "text": f.text, "confidence": f.confidence,
            "start_ms": heard.start_ms, "end_ms": heard.end_ms,
            "decode_ms": f.decode_ms, "speculative": f.speculative, "early_commit": f.at_pause,
            "endpoint_ms": ms(f.speech_end_at, f.endpoint_at),
            "asr_ms": ms(f.endpoint_at, f.asr_ready_at),
        }),
    );
    events.log(
        "nlu",
        &serde_json::json!({
            "event": "understood", "turn": turn, "understanding": understanding,
        }),
    );
}

async fn understand(
    stack: &Arc<InterviewStack>,
    heard: &HeardUtterance,
    listening: Option<&ListenContext>,
    tz: chrono_tz::Tz,
) -> Understanding {
    let local_now = chrono::Utc::now().with_timezone(&tz).naive_local();
    let ctx = listening
        .map(|l| l.nlu.at(local_now))
        .unwrap_or_else(|| voxhire_nlu::NluContext {
            local_now: Some(local_now),
            ..Default::default()
        });
    let nlu = stack.nlu.clone();
    let heard = heard.clone();
    // The models take a few ms: keep them off the runtime's threads.
    match tokio::task::spawn_blocking(move || nlu.understand(&heard, &ctx)).await {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(error = %e, "NLU task failed");
            Understanding {
                intent: voxhire_nlu::Intent::Unclear,
                intent_score: 0.0,
                slots: Vec::new(),
            }
        }
    }
}

#[derive(Serialize)]
struct LatencySummary {
    event: &'static str,
    turns: usize,
    p50_ms: u64,
    p95_ms: u64,
    max_ms: u64,
}

fn latency_summary(l: &[TurnLatency]) -> LatencySummary {
    let mut v: Vec<u64> = l.iter().map(|t| t.voice_to_voice_ms).collect();
    v.sort_unstable();
    LatencySummary {
        event: "voice_to_voice_summary",
        turns: v.len(),
        p50_ms: percentile(&v, 50),
        p95_ms: percentile(&v, 95),
        max_ms: v.last().copied().unwrap_or(0),
    }
}

fn action_event(a: &Action) -> serde_json::Value {
    match a {
        Action::Say { id, text, barge_in } => {
            serde_json::json!({"event": "say", "id": id.0, "text": text, "barge_in": barge_in})
        }
        Action::StopPlayback => serde_json::json!({"event": "stop_playback"}),
        Action::Listen { context } => serde_json::json!({
            "event": "listen", "question": context.question,
            "no_input_timeout_ms": context.no_input_timeout.as_millis() as u64,
        }),
        Action::ScheduleCallback { at } => {
            serde_json::json!({"event": "schedule_callback", "at": at.to_string()})
        }
        Action::MarkDoNotCall => serde_json::json!({"event": "mark_do_not_call"}),
        Action::HangUp => serde_json::json!({"event": "hang_up"}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: &str, start_ms: u64, end_ms: u64, played: bool) -> Turn {
        Turn {
            speaker: "agent",
            text: id.into(),
            language: Lang::En,
            start_ms,
            end_ms,
            confidence: None,
            prompt_id: Some(id.into()),
            interrupted: false,
            played,
        }
    }

    #[test]
    fn the_transcript_keeps_what_was_played_and_where_it_was_cut_off() {
        let turns = vec![
            agent("greeting", 100, 2_000, true),
            agent("disclosure", 2_100, 0, true), // the caller hung up mid-line
            agent("consent", 0, 0, false),       // queued, never played
        ];
        let kept = played_turns(turns, 3_500);
        assert_eq!(kept.len(), 2);
        assert_eq!((kept[0].end_ms, kept[0].interrupted), (2_000, false));
        assert_eq!((kept[1].end_ms, kept[1].interrupted), (3_500, true));
        let json = serde_json::to_value(&kept[1]).unwrap();
        assert_eq!(json["interrupted"], true);
        assert!(json.get("played").is_none());
    }
}
