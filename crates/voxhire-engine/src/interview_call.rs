//! One outbound interview call: INVITE through the trunk, ring timeout, media
//! with the listener tap, the interview session, BYE, and the call's files.
//! Used by `voxhire call --script` and by `voxhire campaign run`.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::sync::{mpsc, watch};
use tracing::Instrument;
use voxhire_sip::message::{NameAddr, Uri};
use voxhire_sip::sdp::{self, Codec, SessionDescription};
use voxhire_sip::ua::{Event, InviteParams};

use crate::call_router::CallRouter;
use crate::interview::outputs::EventLog;
use crate::interview::session::{self, CallMedia, InterviewParams, InterviewResult};
use crate::interview::InterviewStack;
use crate::media_task::{MediaHandle, MediaParams, MediaReport, Recording};
pub use crate::outcome::CallOutcome;
use crate::redact::Redacted;
use crate::rtp_ports::RtpPorts;
use crate::sip_endpoint::SipEndpoint;

/// What every outbound interview call of a process shares.
pub struct Dialer {
    pub sip: SipEndpoint,
    pub router: CallRouter,
    pub ports: Arc<RtpPorts>,
    pub local_ip: IpAddr,
    /// The trunk's proxy: where every INVITE goes (else the URI's own host).
    pub proxy: Option<SocketAddr>,
    pub codecs: Vec<Codec>,
    pub from: NameAddr,
    pub stack: Arc<InterviewStack>,
}

pub struct DialRequest {
    pub target: Uri,
    pub ring_timeout: Duration,
    pub interview: InterviewParams,
}

pub struct CallRecord {
    pub call_id: String,
    pub outcome: CallOutcome,
    pub sip_status: u16,
    pub reason: String,
    pub duration_ms: u64,
    pub interview: Option<InterviewResult>,
    pub media: Option<MediaReport>,
    pub run_dir: PathBuf,
}

impl Dialer {
    /// Places the call and runs the interview to its end. `stop` turning true
    /// hangs up (CANCEL or BYE) and ends the call early; the files are written
    /// either way.
    pub async fn dial(&self, req: DialRequest, stop: watch::Receiver<bool>) -> Result<CallRecord> {
        let dst = match self.proxy {
            Some(p) => p,
            None => req.target.socket_addr().with_context(|| {
                format!(
                    "{} has no IP address host; give a trunk with a proxy",
                    Redacted(&req.target.to_string())
                )
            })?,
        };
        let run_dir = req.interview.run_dir.clone();
        std::fs::create_dir_all(&run_dir)
            .with_context(|| format!("creating {}", run_dir.display()))?;
        let events = EventLog::create(&run_dir.join("events.jsonl"))?;
        let (rtp, rtcp) = self.ports.bind(self.local_ip).await?;
        let rtp_addr = SocketAddr::new(self.local_ip, rtp.local_addr()?.port());
        let seed: u64 = rand::random();
        let offer = sdp::offer(seed >> 1, rtp_addr, &self.codecs);
        let (call, call_id) = self
            .sip
            .invite(InviteParams {
                target: req.target.clone(),
                dst,
                from: self.from.clone(),
                sdp: offer.to_bytes(),
            })
            .await?;
        let sip_events = self.router.register(call);
        events.log(
            "sip",
            &serde_json::json!({"event": "invite", "call_id": call_id, "via": dst.to_string()}),
        );
        let span = tracing::info_span!("call", %call_id);
        let mut run = CallRun {
            dialer: self,
            call,
            call_id: call_id.clone(),
            events,
            sockets: Some((rtp, rtcp)),
            seed,
            media: None,
            session: None,
            hangup_tx: None,
        };
        let record = run.drive(req, sip_events, stop).instrument(span).await;
        self.router.forget(call);
        let log = run.events.clone();
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                log.log(
                    "call",
                    &serde_json::json!({"event": "error", "error": format!("{e:#}")}),
                );
                let _ = log.finish();
                return Err(e);
            }
        };
        log.log(
            "call",
            &serde_json::json!({"event": "ended", "outcome": record.outcome, "sip_status": record.sip_status,
                "duration_ms": record.duration_ms, "rtp": record.media.as_ref().map(|m| &m.rtp)}),
        );
        log.finish()?;
        Ok(record)
    }
}

struct CallRun<'a> {
    dialer: &'a Dialer,
    call: voxhire_sip::ua::CallHandle,
    call_id: String,
    events: EventLog,
    sockets: Option<(tokio::net::UdpSocket, tokio::net::UdpSocket)>,
    seed: u64,
    media: Option<Arc<MediaHandle>>,
    session: Option<tokio::task::JoinHandle<Result<InterviewResult>>>,
    hangup_tx: Option<watch::Sender<bool>>,
}

impl CallRun<'_> {
    async fn drive(
        &mut self,
        req: DialRequest,
        mut sip_events: mpsc::UnboundedReceiver<Event>,
        mut stop: watch::Receiver<bool>,
    ) -> Result<CallRecord> {
        let started = Instant::now();
        let sip = &self.dialer.sip;
        let ring_deadline = tokio::time::Instant::now() + req.ring_timeout;
        let mut interview_params = Some(req.interview);
        let run_dir = interview_params
            .as_ref()
            .map(|p| p.run_dir.clone())
            .unwrap_or_default();
        let mut answered = false;
        let mut cancelled_for_timeout = false;
        let mut stopped = false;
        let mut bye_sent = false;
        let mut status = 0u16;
        let mut reason = String::new();
        let mut outcome = CallOutcome::Failed;
        let mut interview: Option<InterviewResult> = None;
        loop {
            let session_done = async {
                match self.session.as_mut() {
                    Some(h) => h.await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                ev = sip_events.recv() => {
                    let Some(ev) = ev else { anyhow::bail!("the SIP task stopped unexpectedly") };
                    match ev {
                        Event::Progress { status: s, .. } => {
                            status = s.code();
                            self.events.log("sip", &serde_json::json!({"event": "progress", "status": s.code()}));
                        }
                        Event::Answered { sdp, .. } => {
                            status = 200;
                            self.events.log("sip", &serde_json::json!({"event": "answered"}));
                            if answered {
                                continue; // a retransmitted 2xx
                            }
                            answered = true;
                            outcome = CallOutcome::Answered;
                            match interview_params.take() {
                                Some(p) => self.start(&sdp, p).await?,
                                None => {}
                            }
                            if self.session.is_none() && !bye_sent {
                                sip.hangup(self.call).await?;
                                bye_sent = true;
                            }
                        }
                        Event::Failed { status: s, reason: r, .. } => {
                            status = s.code();
                            reason = r;
                            outcome = CallOutcome::of_failure(s.code(), cancelled_for_timeout, stopped);
                            self.events.log("sip", &serde_json::json!({"event": "failed", "status": status, "reason": reason}));
                            break;
                        }
                        Event::Ended { by, .. } => {
                            self.events.log("sip", &serde_json::json!({"event": "ended", "by": format!("{by:?}")}));
                            if let Some(tx) = &self.hangup_tx {
                                let _ = tx.send(true);
                            }
                            if let Some(h) = self.session.take() {
                                interview = finish_session(h).await;
                            }
                            break;
                        }
                        Event::RemoteSdp { sdp, .. } => {
                            if let (Some(m), Ok(s)) = (&self.media, SessionDescription::parse(&sdp)) {
                                if let Some(addr) = s.audio_addr() {
                                    m.update_remote(addr).await;
                                }
                            }
                        }
                        _ => {}
                    }
                }
                done = session_done => {
                    self.session = None;
                    interview = match done {
                        Ok(Ok(r)) => Some(r),
                        Ok(Err(e)) => { tracing::error!(error = %format!("{e:#}"), "interview failed"); None }
                        Err(e) => { tracing::error!(error = %e, "interview task panicked"); None }
                    };
                    if !bye_sent {
                        self.events.log("sip", &serde_json::json!({"event": "bye"}));
                        sip.hangup(self.call).await?;
                        bye_sent = true;
                    }
                }
                _ = tokio::time::sleep_until(ring_deadline), if !answered && !cancelled_for_timeout => {
                    tracing::info!(secs = req.ring_timeout.as_secs_f64(), "ring timeout; cancelling");
                    self.events.log("sip", &serde_json::json!({"event": "ring_timeout"}));
                    cancelled_for_timeout = true;
                    sip.hangup(self.call).await?;
                }
                changed = stop.changed(), if !stopped => {
                    if changed.is_err() || *stop.borrow() {
                        stopped = true;
                        self.events.log("call", &serde_json::json!({"event": "interrupted"}));
                        if let Some(tx) = &self.hangup_tx {
                            let _ = tx.send(true);
                        }
                        if !bye_sent {
                            sip.hangup(self.call).await?;
                            bye_sent = true;
                        }
                        if answered {
                            outcome = CallOutcome::Cancelled;
                        }
                    }
                }
            }
        }
        let media = match self.media.take() {
            Some(m) => Some(m.stop().await?),
            None => None,
        };
        Ok(CallRecord {
            call_id: self.call_id.clone(),
            outcome,
            sip_status: status,
            reason,
            duration_ms: started.elapsed().as_millis() as u64,
            interview,
            media,
            run_dir,
        })
    }

    /// Starts media and the interview on the answer's SDP.
    async fn start(&mut self, sdp_bytes: &[u8], params: InterviewParams) -> Result<()> {
        let answer = SessionDescription::parse(sdp_bytes).context("the answer's SDP")?;
        let negotiated = match sdp::accept_answer(&answer, &self.dialer.codecs) {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "unusable SDP answer; hanging up");
                return Ok(());
            }
        };
        let Some((rtp, rtcp)) = self.sockets.take() else {
            return Ok(());
        };
        self.events.log(
            "media",
            &serde_json::json!({"event": "media", "codec": negotiated.codec.name(), "remote": negotiated.remote.to_string()}),
        );
        // 1 s of audio: the listener never stalls that long (VAD is ~0.2 ms a frame).
        let (audio_tx, audio_rx) = mpsc::channel(50);
        let media = Arc::new(MediaHandle::start_with_tap(
            rtp,
            rtcp,
            MediaParams {
                negotiated,
                echo: false,
                recording: Some(Recording::Stereo(params.run_dir.join("recording.wav"))),
                seed: self.seed,
                call_id: self.call_id.clone(),
            },
            Some(audio_tx),
        )?);
        let dtmf = media.dtmf_events();
        let (hangup_tx, hangup_rx) = watch::channel(false);
        self.hangup_tx = Some(hangup_tx);
        self.media = Some(media.clone());
        let call = CallMedia {
            media,
            audio: audio_rx,
            dtmf,
        };
        let stack = self.dialer.stack.clone();
        let events = self.events.clone();
        self.session = Some(tokio::spawn(
            session::run(stack, params, call, hangup_rx, events).in_current_span(),
        ));
        Ok(())
    }
}

async fn finish_session(
    h: tokio::task::JoinHandle<Result<InterviewResult>>,
) -> Option<InterviewResult> {
    match tokio::time::timeout(Duration::from_secs(10), h).await {
        Ok(Ok(Ok(r))) => Some(r),
        Ok(Ok(Err(e))) => {
            tracing::error!(error = %format!("{e:#}"), "interview failed");
            None
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "interview task panicked");
            None
        }
        Err(_) => {
            tracing::error!("interview did not finish within 10 s of the hang-up");
            None
        }
    }
}

/// A one-line human summary of an interview: status, score, recommendation and
/// the turns' voice-to-voice latency.
pub fn summary_line(record: &CallRecord) -> String {
    let Some(r) = &record.interview else {
        return format!(
            "{}: SIP {} {}",
            record.outcome.name(),
            record.sip_status,
            record.reason
        );
    };
    let report = &r.report;
    let mut lats: Vec<u64> = r.latencies.iter().map(|l| l.voice_to_voice_ms).collect();
    lats.sort_unstable();
    let lat = if lats.is_empty() {
        String::new()
    } else {
        format!(
            " · voice-to-voice p50 {} ms p95 {} ms over {} turns",
            session::percentile(&lats, 50),
            session::percentile(&lats, 95),
            lats.len()
        )
    };
    let recommendation = report.recommendation.map_or("-", |r| r.name());
    let callback = report
        .callback_at
        .map(|at| format!(" · callback {at}"))
        .unwrap_or_default();
    format!(
        "{} · score {:.0}/100 · {}{}{} · call {}",
        report.status.name(),
        report.score,
        recommendation,
        callback,
        lat,
        record.call_id
    )
}
