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
use voxhire_nlu::{Heard as HeardUtterance, Lang, SlotKind, Understanding};

use super::listener::{self, FinalHeard, Heard, ListenerControl, ListenerParams};
use super::outputs::EventLog;
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
    /// Whether the call's files are sealed.
    pub archive: crate::archive::Archive,
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
///
/// (Long because it is one `select!` over the call's inputs; each arm is one
/// [`Session`] method.)
pub async fn run(
    stack: Arc<InterviewStack>,
    params: InterviewParams,
    call: CallMedia,
    mut hangup: watch::Receiver<bool>,
    events: EventLog,
) -> Result<InterviewResult> {
    let answered = Instant::now();
    let lang = params.lang;
    let script = params.script.clone();
    let (heard_tx, mut heard_rx) = mpsc::channel(16);
    let (listen_ctl, listen_ctl_rx) = mpsc::channel(4);
    let listener = tokio::spawn(listener::run(
        ListenerParams {
            vad: stack.vad.clone(),
            asr: stack.asr.clone(),
            language: lang.into(),
            endpointing: super::endpoint_config(&script.endpointing(), &stack.tuning),
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
    let stack_open_silence = match stack.tuning.open_silence_ms {
        Some(0) => None,
        Some(ms) => Some(std::time::Duration::from_millis(u64::from(ms))),
        None => Some(super::turn_taking::OPEN_SILENCE),
    };
    let mut s = Session {
        dialog: Interview::new(script, lang, params.candidate_name.clone(), answered),
        remote_hangup: *hangup.borrow(),
        stack,
        params,
        events,
        answered,
        say_tx,
        listen_ctl,
        turns: Vec::new(),
        listening: None,
        open_listen: None,
        turn_taking: TurnTaking::new(stack_open_silence),
        lines_playing: 0,
        hangup_requested: false,
    };

    s.dialog.handle_input(Instant::now(), Input::Answered);
    loop {
        s.carry_out().await;
        if s.remote_hangup || (s.hangup_requested && s.lines_playing == 0) {
            break;
        }
        let timeout = s.dialog.poll_timeout().map(tokio::time::Instant::from_std);
        tokio::select! {
            heard = heard_rx.recv() => s.heard(heard).await,
            spoken = spoken_rx.recv() => match spoken {
                Some(spoken) => s.spoken(spoken),
                None => break,
            },
            digit = dtmf.recv(), if dtmf_open => match digit {
                Ok(d) => {
                    s.events.log("media", &serde_json::json!({"event": "dtmf", "digit": d.to_string()}));
                    s.dialog.handle_input(Instant::now(), Input::Dtmf(d));
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "DTMF digits missed");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => dtmf_open = false,
            },
            changed = hangup.changed() => {
                if changed.is_err() || *hangup.borrow() {
                    s.events.log("sip", &serde_json::json!({"event": "remote_hangup"}));
                    s.far_end_gone();
                }
            }
            _ = async { tokio::time::sleep_until(timeout.expect("guarded")).await }, if timeout.is_some() => {
                s.dialog.handle_timeout(Instant::now());
            }
        }
    }
    speaker_task.abort();
    listener.abort();
    s.finish()
}

/// One interview in progress: the dialog, the channels to the listener and
/// the speaker, and what the transcript and latency figures collect.
struct Session {
    stack: Arc<InterviewStack>,
    params: InterviewParams,
    events: EventLog,
    dialog: Interview,
    /// The answer: the origin of the transcript's times.
    answered: Instant,
    say_tx: mpsc::Sender<SpeakerCommand>,
    listen_ctl: mpsc::Sender<ListenerControl>,
    turns: Vec<Turn>,
    listening: Option<ListenContext>,
    /// The question of the last answer taken, when it was an open one the
    /// candidate may go on with.
    open_listen: Option<ListenContext>,
    turn_taking: TurnTaking,
    lines_playing: usize,
    hangup_requested: bool,
    remote_hangup: bool,
}

impl Session {
    fn call_ms(&self) -> u64 {
        self.answered.elapsed().as_millis() as u64
    }

    /// Carries out what the dialog decided, and logs its events.
    async fn carry_out(&mut self) {
        while let Some(action) = self.dialog.poll_action() {
            self.events.log("dialog", &action_event(&action));
            match action {
                Action::Say { id, text, .. } => {
                    self.lines_playing += 1;
                    self.turns.push(Turn {
                        speaker: "agent",
                        text: text.clone(),
                        language: self.params.lang,
                        start_ms: self.call_ms(),
                        end_ms: 0,
                        confidence: None,
                        prompt_id: Some(id.0.clone()),
                        interrupted: false,
                        played: false,
                    });
                    let _ = self
                        .say_tx
                        .send(SpeakerCommand::Say { id: id.0, text })
                        .await;
                }
                Action::StopPlayback => {
                    let _ = self.say_tx.send(SpeakerCommand::Stop).await;
                }
                Action::Listen { context } => {
                    self.listen_for(&context).await;
                    self.turn_taking
                        .handle_listen(context.nlu.clone(), context.resumable);
                    self.listening = Some(context);
                }
                Action::ScheduleCallback { .. } | Action::MarkDoNotCall => {}
                Action::HangUp => self.hangup_requested = true,
            }
        }
        while let Some(ev) = self.dialog.poll_event() {
            self.events.log("dialog", &ev);
        }
    }

    /// Primes the listener for answers to `context`'s question.
    async fn listen_for(&self, context: &ListenContext) {
        let endpointing = super::endpoint_config(&context.endpointing, &self.stack.tuning);
        let hotwords = context
            .nlu
            .expected
            .contains(&SlotKind::Skills)
            .then(|| self.stack.skill_hotwords.clone())
            .flatten();
        let vocabulary = ListenerControl::Vocabulary {
            prompt: context.asr_prompt.clone(),
            hotwords,
        };
        let _ = self.listen_ctl.send(vocabulary).await;
        let _ = self
            .listen_ctl
            .send(ListenerControl::Endpointing(endpointing))
            .await;
    }

    /// The far end hung up, or the media ended under us.
    fn far_end_gone(&mut self) {
        self.remote_hangup = true;
        self.dialog.handle_input(Instant::now(), Input::HangUp);
    }

    /// What the listener heard.
    async fn heard(&mut self, heard: Option<Heard>) {
        match heard {
            // The media ended under us: treat as the far end hanging up.
            None => self.far_end_gone(),
            Some(Heard::SpeechStarted { at }) => {
                self.events.log(
                    "vad",
                    &serde_json::json!({"event": "speech_started", "audio_ms": at.as_millis() as u64}),
                );
                let now = Instant::now();
                self.turn_taking
                    .handle_speech_started(now, at, self.lines_playing > 0);
                self.turn_outputs().await;
                self.dialog.handle_input(now, Input::SpeechStarted);
            }
            Some(Heard::Partial { text }) => {
                self.dialog
                    .handle_input(Instant::now(), Input::Partial { text });
            }
            Some(Heard::Final(f)) => self.final_heard(f).await,
        }
    }

    /// A final transcript: understood, then taken as the answer now, at the
    /// endpoint, or skipped (a turn already taken at its pause).
    async fn final_heard(&mut self, f: FinalHeard) {
        if !self.turn_taking.wants(&f) {
            self.turn_taking.handle_skipped(&f);
            return;
        }
        let heard = self.utterance(&f, 0);
        let understanding =
            understand(&self.stack, &heard, self.listening.as_ref(), self.params.tz).await;
        self.turn_taking
            .handle_final(Instant::now(), f, understanding);
        self.turn_outputs().await;
    }

    /// The dialog's view of what the listener heard, as turn `turn`.
    fn utterance(&self, f: &FinalHeard, turn: u32) -> HeardUtterance {
        HeardUtterance {
            text: f.text.clone(),
            lang: self.params.lang,
            turn,
            start_ms: f.start.as_millis() as u64,
            end_ms: f.end.as_millis() as u64,
            confidence: f.confidence,
        }
    }

    /// Carries out what turn-taking decided.
    async fn turn_outputs(&mut self) {
        while let Some(out) = self.turn_taking.poll_output() {
            match out {
                TurnOutput::CommitUtterance => {
                    let _ = self.listen_ctl.send(ListenerControl::Commit).await;
                }
                TurnOutput::EndUtterance {
                    start,
                    end,
                    silence,
                } => {
                    let _ = self
                        .listen_ctl
                        .send(ListenerControl::EndAfter {
                            start,
                            end,
                            silence,
                        })
                        .await;
                }
                TurnOutput::Resuming => {
                    self.events
                        .log("turn", &serde_json::json!({"event": "resuming"}));
                    if let Some(open) = self.open_listen.clone() {
                        self.listen_for(&open).await;
                    }
                }
                TurnOutput::Answer {
                    turn,
                    heard: f,
                    understanding,
                    resumed,
                } => {
                    let heard = self.utterance(&f, turn);
                    log_answer(&self.events, turn, &f, &heard, &understanding, resumed);
                    self.turns.push(Turn {
                        speaker: "candidate",
                        text: f.text.clone(),
                        language: self.params.lang,
                        start_ms: heard.start_ms,
                        end_ms: heard.end_ms,
                        confidence: Some(f.confidence),
                        prompt_id: None,
                        interrupted: false,
                        played: true,
                    });
                    if !resumed {
                        self.open_listen = self.listening.clone().filter(|l| l.resumable);
                    }
                    let input = if resumed {
                        Input::Resumed {
                            heard,
                            understanding,
                        }
                    } else {
                        Input::Final {
                            heard,
                            understanding,
                        }
                    };
                    self.dialog.handle_input(Instant::now(), input);
                }
                TurnOutput::Latency(l) => self.events.log("turn", &l),
            }
        }
    }

    /// The speaker started or finished a line.
    fn spoken(&mut self, spoken: Spoken) {
        let now_ms = self.call_ms();
        match spoken {
            Spoken::Started {
                id,
                at,
                cached,
                first_chunk_ms,
            } => {
                let line = self
                    .turns
                    .iter_mut()
                    .find(|t| !t.played && t.prompt_id.as_deref() == Some(id.as_str()));
                if let Some(t) = line {
                    t.start_ms = now_ms;
                    t.played = true;
                }
                self.events.log(
                    "tts",
                    &serde_json::json!({"event": "playing", "id": id, "cached": cached, "first_chunk_ms": first_chunk_ms}),
                );
                self.turn_taking.handle_agent_audio(at, cached);
                while let Some(out) = self.turn_taking.poll_output() {
                    // Only a latency comes of the agent's audio.
                    if let TurnOutput::Latency(l) = out {
                        self.events.log("turn", &l);
                    }
                }
            }
            Spoken::Finished {
                id,
                interrupted,
                audio_ms,
            } => {
                self.lines_playing = self.lines_playing.saturating_sub(1);
                let line = self.turns.iter_mut().find(|t| {
                    t.played && t.end_ms == 0 && t.prompt_id.as_deref() == Some(id.as_str())
                });
                if let Some(t) = line {
                    t.end_ms = if interrupted {
                        now_ms
                    } else {
                        t.start_ms.max(1) + audio_ms
                    };
                    t.interrupted = interrupted;
                }
                self.events.log(
                    "tts",
                    &serde_json::json!({"event": "played", "id": id, "interrupted": interrupted, "audio_ms": audio_ms}),
                );
                if self.lines_playing == 0 {
                    self.dialog
                        .handle_input(Instant::now(), Input::PlaybackFinished);
                }
            }
        }
    }

    /// The dialog's last words into the log, then the transcript and report.
    fn finish(mut self) -> Result<InterviewResult> {
        while let Some(action) = self.dialog.poll_action() {
            self.events.log("dialog", &action_event(&action));
        }
        while let Some(ev) = self.dialog.poll_event() {
            self.events.log("dialog", &ev);
        }
        let report = self.dialog.finish(Some(self.stack.nlu.as_ref()));
        let dir = &self.params.run_dir;
        let ended_ms = self.call_ms();
        let turns = played_turns(std::mem::take(&mut self.turns), ended_ms);
        self.params.archive.write_json(
            &dir.join("transcript.json"),
            &Transcript {
                language: self.params.lang,
                turns,
            },
        )?;
        let report_path = dir.join("report.json");
        self.params.archive.write_json(&report_path, &report)?;
        let latencies = self.turn_taking.latencies().to_vec();
        if !latencies.is_empty() {
            self.events.log("turn", &latency_summary(&latencies));
        }
        Ok(InterviewResult {
            report,
            report_path,
            latencies,
            remote_hangup: self.remote_hangup,
        })
    }
}

/// The ASR and NLU events of a candidate's turn.
fn log_answer(
    events: &EventLog,
    turn: u32,
    f: &FinalHeard,
    heard: &HeardUtterance,
    understanding: &Understanding,
    resumed: bool,
) {
    let ms = |a: Instant, b: Instant| b.saturating_duration_since(a).as_millis() as u64;
    events.log(
        "asr",
        &serde_json::json!({
            "event": "final", "turn": turn, "text": f.text, "confidence": f.confidence,
            "start_ms": heard.start_ms, "end_ms": heard.end_ms,
            "decode_ms": f.decode_ms, "threads": f.decode_threads, "speculative": f.speculative, "early_commit": f.at_pause, "resumed": resumed,
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
