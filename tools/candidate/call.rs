//! One answered call of the simulated candidate: the agent's audio goes through
//! Silero VAD into the [`TurnTaker`], whose decisions become played answers, DTMF
//! or a hang-up.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use voxhire_sip::ua::CallHandle;
use voxhire_speech::vad::{SileroVad, VadConfig, VadStream, VAD_CHUNK};

use super::scenario::{Action, Scenario};
use super::turn_taking::{Output, Plan, PlanKind, Response, Segment, TurnConfig, TurnTaker};
use voxhire_engine::media_task::MediaHandle;
use voxhire_engine::sip_endpoint::SipEndpoint;
use voxhire_engine::summary::RtpSummary;

/// Per RFC 4733 digit as sent by the media task (100 ms) plus the inter-digit gap a
/// receiver needs; the turn counts as over after this per digit.
const DTMF_PER_DIGIT: Duration = Duration::from_millis(150);
const FRAME: Duration = Duration::from_millis(20);

/// The JSON line printed for every INVITE.
#[derive(Debug, Serialize)]
pub struct CallLine {
    pub event: &'static str,
    pub user: String,
    pub call_id: String,
    /// 1 for this user's first INVITE since start-up.
    pub attempt: u32,
    /// busy, no_answer, not_found, rejected, completed (every turn taken, then the
    /// agent hung up), agent_hung_up (before our last turn), candidate_hung_up (a
    /// `hangup` turn), agent_silent / agent_never_hung_up (we gave up), error.
    pub outcome: &'static str,
    pub sip_status: u16,
    pub turns_played: usize,
    pub turns_total: usize,
    /// Agent speech segments heard (pauses shorter than --gap-ms merged).
    pub agent_speech_segments: usize,
    pub segments: Vec<Segment>,
    /// Voice-to-voice latency as the candidate hears it: end of each answer to the
    /// agent's next speech onset.
    pub responses: Vec<Response>,
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtp: Option<RtpSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl CallLine {
    /// A call that never got media: busy, no answer, unknown user.
    pub fn unanswered(
        user: String,
        call_id: String,
        attempt: u32,
        outcome: &'static str,
        status: u16,
    ) -> CallLine {
        CallLine {
            event: "call",
            user,
            call_id,
            attempt,
            outcome,
            sip_status: status,
            turns_played: 0,
            turns_total: 0,
            agent_speech_segments: 0,
            segments: Vec::new(),
            responses: Vec::new(),
            duration_ms: 0,
            rtp: None,
            recording: None,
            error: None,
        }
    }
}

/// Everything one answered call needs.
pub struct AnsweredCall {
    pub user: String,
    pub call_id: String,
    pub attempt: u32,
    pub scenario: Arc<Scenario>,
    pub sip: SipEndpoint,
    pub call: CallHandle,
    pub media: MediaHandle,
    /// The agent's audio, 20 ms frames from the media task.
    pub received: mpsc::Receiver<Arc<[i16]>>,
    /// Fires when the dialog ends (the agent's BYE, or ours completing).
    pub ended: oneshot::Receiver<()>,
    pub vad: Arc<SileroVad>,
    pub turn_config: TurnConfig,
    pub recording: Option<PathBuf>,
    pub answered_at: Instant,
}

enum Acting {
    Idle,
    /// Waiting for `prompts_played` to reach `target`.
    Playing {
        target: u32,
        trailing: Duration,
    },
    Dtmf {
        until: tokio::time::Instant,
    },
}

impl AnsweredCall {
    pub async fn run(mut self) -> CallLine {
        let turns_total = self.scenario.turns.len();
        let plans = self
            .scenario
            .turns
            .iter()
            .map(|t| Plan {
                barge_in_after: t.barge_in_after,
                kind: match t.action {
                    Action::Say(_) | Action::Dtmf(_) => PlanKind::Act,
                    Action::Silence(d) => PlanKind::Silence(d),
                    Action::Hangup => PlanKind::Hangup,
                },
            })
            .collect();
        let mut turns = TurnTaker::new(self.turn_config, plans, self.answered_at);
        let result = self.converse(&mut turns).await;
        turns.handle_ended();
        let (outcome, error) = match result {
            Ok(o) => (o, None),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "candidate call failed");
                let _ = self.sip.hangup(self.call).await;
                ("error", Some(format!("{e:#}")))
            }
        };
        let duration_ms = self.answered_at.elapsed().as_millis() as u64;
        let report = self.media.stop().await;
        let (rtp, error) = match report {
            Ok(r) => (Some(RtpSummary::from_report(Some(&r))), error),
            Err(e) => (None, error.or(Some(format!("media: {e:#}")))),
        };
        let segments = turns.segments();
        CallLine {
            event: "call",
            user: self.user,
            call_id: self.call_id,
            attempt: self.attempt,
            outcome,
            sip_status: 200,
            turns_played: turns.turns_taken(),
            turns_total,
            agent_speech_segments: segments.len(),
            segments,
            responses: turns.responses().to_vec(),
            duration_ms,
            rtp,
            recording: self.recording.map(|p| p.display().to_string()),
            error,
        }
    }

    /// Runs the turns until the call ends; returns the outcome.
    /// (Long on purpose: one loop over the simulated candidate's turns.)
    async fn converse(&mut self, turns: &mut TurnTaker) -> Result<&'static str> {
        let mut vad = VadStream::new(self.vad.clone(), VadConfig::default());
        let chunk = samples_to_duration(VAD_CHUNK as u64);
        // Instant of the agent stream's sample 0. The media task emits a frame every
        // 20 ms on a fixed grid, so position → time is exact up to this anchor.
        let mut stream_start: Option<Instant> = None;
        let mut played = self.media.prompts_played.clone();
        let mut acting = Acting::Idle;
        loop {
            while let Some(out) = turns.poll_output() {
                match out {
                    Output::Take { turn } => {
                        tracing::info!(
                            turn,
                            kind = self.scenario.turns[turn].action.kind(),
                            "candidate's turn"
                        );
                        match &self.scenario.turns[turn].action {
                            Action::Say(answer) => {
                                tracing::debug!(file = %answer.file.display(), "playing");
                                let target = *played.borrow_and_update() + 1;
                                self.media.play(answer.samples.clone()).await;
                                acting = Acting::Playing {
                                    target,
                                    trailing: answer.trailing_silence,
                                };
                            }
                            Action::Dtmf(digits) => {
                                self.media.send_dtmf(digits.clone()).await;
                                acting = Acting::Dtmf {
                                    until: tokio::time::Instant::now()
                                        + DTMF_PER_DIGIT * digits.len() as u32,
                                };
                            }
                            Action::Silence(_) => {}
                            Action::Hangup => {
                                self.sip.hangup(self.call).await?;
                                return Ok("candidate_hung_up");
                            }
                        }
                    }
                    Output::HangUp { after_last_turn } => {
                        tracing::warn!(after_last_turn, "giving up on the agent; hanging up");
                        self.sip.hangup(self.call).await?;
                        return Ok(if after_last_turn {
                            "agent_never_hung_up"
                        } else {
                            "agent_silent"
                        });
                    }
                }
            }
            let deadline = turns.poll_timeout().map(tokio::time::Instant::from_std);
            let dtmf_until = match acting {
                Acting::Dtmf { until } => Some(until),
                _ => None,
            };
            tokio::select! {
                frame = self.received.recv() => {
                    let Some(frame) = frame else {
                        anyhow::bail!("the media task stopped during the call");
                    };
                    let t0 = *stream_start.get_or_insert_with(|| Instant::now() - FRAME);
                    for v in vad.push(&frame).context("running Silero VAD on the agent's audio")? {
                        turns.handle_vad(t0 + samples_to_duration(v.start_sample), chunk, v.is_speech);
                    }
                }
                r = played.changed(), if matches!(acting, Acting::Playing { .. }) => {
                    r.context("the media task stopped during the call")?;
                    if let Acting::Playing { target, trailing } = acting {
                        if *played.borrow_and_update() >= target {
                            let now = Instant::now();
                            turns.action_done(now, now - trailing);
                            acting = Acting::Idle;
                        }
                    }
                }
                _ = sleep_until(dtmf_until), if dtmf_until.is_some() => {
                    let now = Instant::now();
                    turns.action_done(now, now);
                    acting = Acting::Idle;
                }
                _ = sleep_until(deadline), if deadline.is_some() => {
                    turns.handle_timeout(Instant::now());
                }
                _ = &mut self.ended => {
                    let done = turns.turns_taken() >= self.scenario.required_turns();
                    return Ok(if done { "completed" } else { "agent_hung_up" });
                }
            }
        }
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn samples_to_duration(samples: u64) -> Duration {
    Duration::from_micros(samples * 1_000_000 / u64::from(voxhire_media::PCM_RATE))
}
