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
use voxhire_media::stats::percentile;
use voxhire_sip::message::{NameAddr, Uri};
use voxhire_sip::sdp::{self, Codec, SessionDescription};
use voxhire_sip::ua::{Event, InviteParams};

use crate::call::{Action, Call, CallPolicy, Expired};
use crate::call_router::CallRouter;
use crate::interview::outputs::EventLog;
use crate::interview::session::{self, CallMedia, InterviewParams, InterviewResult};
use crate::interview::InterviewStack;
use crate::media_task::{MediaHandle, MediaParams, MediaReport, Recording};
use crate::orphans::DialogKeeper;
pub use crate::outcome::CallOutcome;
use crate::redact::Redacted;
use crate::rtp_ports::RtpPorts;
use crate::sip_endpoint::SipEndpoint;
use crate::trunk::ProxyRoute;
use crate::voicemail::{self, AmdPolicy, Screened, Voicemail};

/// The SIP side every outbound call of a process shares: the endpoint, the
/// router of its events, the RTP ports, and who and where we call from.
pub struct Outbound {
    pub sip: SipEndpoint,
    pub router: CallRouter,
    pub ports: Arc<RtpPorts>,
    pub local_ip: IpAddr,
    /// The trunk's proxy: where every INVITE goes (else the URI's own host).
    pub proxy: Option<SocketAddr>,
    /// The proxy given by name: located again for each call.
    pub route: Option<Arc<ProxyRoute>>,
    pub codecs: Vec<Codec>,
    /// Offer SRTP (SDES) on every call; an answer in the clear fails the call.
    pub srtp: bool,
    pub from: NameAddr,
}

/// Places interview calls: the shared SIP side, and the models of the
/// interviews (per script set; a server holds one per job).
pub struct Dialer {
    pub line: Arc<Outbound>,
    pub stack: Arc<InterviewStack>,
}

pub struct DialRequest {
    pub target: Uri,
    pub ring_timeout: Duration,
    pub interview: InterviewParams,
    /// Where the answered call's dialog is kept while it is up, so that a
    /// later run can end it if this process dies (`None`: not kept).
    pub keep_dialog: Option<DialogKeeper>,
    /// Answering-machine detection before the interview (`None`: off, the
    /// interview starts as soon as the call is answered).
    pub amd: Option<AmdPolicy>,
}

pub struct CallRecord {
    pub call_id: String,
    pub outcome: CallOutcome,
    pub sip_status: u16,
    pub reason: String,
    pub duration_ms: u64,
    pub interview: Option<InterviewResult>,
    /// A machine answered (then `outcome` is `Voicemail` and there is no interview).
    pub voicemail: Option<Voicemail>,
    pub media: Option<MediaReport>,
    pub run_dir: PathBuf,
}

/// What the answered call's conversation task produced.
enum Conversation {
    Interview(Box<InterviewResult>),
    Voicemail(Voicemail),
    /// Gone before the interview began (hung up during detection).
    Nothing,
}

impl Dialer {
    /// Places the call and runs the interview to its end. `stop` turning true
    /// hangs up (CANCEL or BYE) and ends the call early; the files are written
    /// either way.
    pub async fn dial(&self, req: DialRequest, stop: watch::Receiver<bool>) -> Result<CallRecord> {
        let (dst, alternates) = match (&self.line.route, self.line.proxy) {
            (Some(route), _) => route.next_hops().await,
            (None, Some(p)) => (p, Vec::new()),
            (None, None) => (
                req.target.socket_addr().with_context(|| {
                    format!(
                        "{} has no IP address host; give a trunk with a proxy",
                        Redacted(&req.target.to_string())
                    )
                })?,
                Vec::new(),
            ),
        };
        let run_dir = req.interview.run_dir.clone();
        std::fs::create_dir_all(&run_dir)
            .with_context(|| format!("creating {}", run_dir.display()))?;
        let events = EventLog::create(&run_dir.join("events.jsonl"), &req.interview.archive)?;
        let (rtp, rtcp) = self.line.ports.bind(self.line.local_ip).await?;
        let rtp_addr = SocketAddr::new(self.line.local_ip, rtp.local_addr()?.port());
        let seed: u64 = rand::random();
        let (offer, srtp_key) =
            sdp::offer(seed >> 1, rtp_addr, &self.line.codecs).secured_if(self.line.srtp);
        let (call, call_id) = self
            .line
            .sip
            .invite(InviteParams {
                target: req.target.clone(),
                dst,
                alternates,
                from: self.line.from.clone(),
                sdp: offer.to_bytes(),
            })
            .await?;
        let sip_events = self.line.router.register(call);
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
            srtp_key,
            media: None,
            audio: None,
            session: None,
            hangup_tx: None,
        };
        let record = run.drive(req, sip_events, stop).instrument(span).await;
        self.line.router.forget(call);
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
    /// Our SRTP key, when the offer was secured.
    srtp_key: Option<sdp::SrtpKey>,
    media: Option<Arc<MediaHandle>>,
    /// The media's audio, until the interview takes it.
    audio: Option<mpsc::Receiver<Arc<[i16]>>>,
    session: Option<tokio::task::JoinHandle<Result<Conversation>>>,
    hangup_tx: Option<watch::Sender<bool>>,
}

impl CallRun<'_> {
    /// The thin driver of [`Call`]: feeds it SIP events, the interview's end,
    /// the stop signal and its timers, and carries out its actions.
    /// (Long on purpose: one `select!` loop over the call's inputs; the
    /// decisions are [`Call`]'s, the arms only feed it.)
    async fn drive(
        &mut self,
        req: DialRequest,
        mut sip_events: mpsc::UnboundedReceiver<Event>,
        mut stop: watch::Receiver<bool>,
    ) -> Result<CallRecord> {
        let started = Instant::now();
        let mut call = Call::outbound(
            started,
            CallPolicy {
                ring_timeout: req.ring_timeout,
                ..CallPolicy::default()
            },
        );
        let run_dir = req.interview.run_dir.clone();
        let mut keep_dialog = req.keep_dialog;
        let amd = req.amd;
        let mut params = Some(req.interview);
        let mut conversation = Conversation::Nothing;
        let mut stopped = false;
        loop {
            while let Some(action) = call.poll_action() {
                self.act(action, &mut call, &mut params, &amd).await?;
            }
            if call.end().is_some() {
                break;
            }
            let timeout = call.poll_timeout();
            let timer = async {
                match timeout {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            let session_done = async {
                match self.session.as_mut() {
                    Some(h) => h.await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                ev = sip_events.recv() => {
                    let Some(ev) = ev else { anyhow::bail!("the SIP task stopped unexpectedly") };
                    self.log_sip(&ev);
                    if let Event::Answered { dialog, .. } = &ev {
                        let kept = match keep_dialog.take() {
                            Some(keep) => keep(dialog.clone()).await,
                            None => Ok(()),
                        };
                        if let Err(e) = kept {
                            tracing::warn!(error = %format!("{e:#}"), "could not keep the dialog; a crash now would leave the call up");
                        }
                    }
                    call.handle_sip(Instant::now(), &ev);
                }
                done = session_done => {
                    self.session = None;
                    conversation = match done {
                        Ok(Ok(c)) => c,
                        Ok(Err(e)) => { tracing::error!(error = %format!("{e:#}"), "interview failed"); Conversation::Nothing }
                        Err(e) => { tracing::error!(error = %e, "interview task panicked"); Conversation::Nothing }
                    };
                    call.handle_conversation_done(Instant::now());
                }
                _ = timer => match call.handle_timeout(Instant::now()) {
                    Some(Expired::Ring) => {
                        tracing::info!(secs = req.ring_timeout.as_secs_f64(), "ring timeout; cancelling");
                        self.events.log("sip", &serde_json::json!({"event": "ring_timeout"}));
                    }
                    Some(Expired::Ending) => tracing::warn!("the hang-up never completed; call over"),
                    _ => {}
                },
                changed = stop.changed(), if !stopped => {
                    if changed.is_err() || *stop.borrow() {
                        stopped = true;
                        self.events.log("call", &serde_json::json!({"event": "interrupted"}));
                        call.handle_stop(Instant::now());
                    }
                }
            }
        }
        // The far end hung up mid-interview: the interview writes its files.
        if let Some(h) = self.session.take() {
            conversation = finish_session(h).await;
        }
        let media = match self.media.take() {
            Some(m) => Some(m.stop().await?),
            None => None,
        };
        let end = call.end().cloned().expect("the loop ends with the call");
        let (interview, voicemail) = match conversation {
            Conversation::Interview(i) => (Some(*i), None),
            Conversation::Voicemail(v) => (None, Some(v)),
            Conversation::Nothing => (None, None),
        };
        Ok(CallRecord {
            call_id: self.call_id.clone(),
            // The call was answered, SIP-wise; by whom is the detector's word.
            outcome: if voicemail.is_some() {
                CallOutcome::Voicemail
            } else {
                end.outcome
            },
            sip_status: end.sip_status,
            reason: end.reason,
            duration_ms: started.elapsed().as_millis() as u64,
            interview,
            voicemail,
            media,
            run_dir,
        })
    }

    async fn act(
        &mut self,
        action: Action,
        call: &mut Call,
        params: &mut Option<InterviewParams>,
        amd: &Option<AmdPolicy>,
    ) -> Result<()> {
        match action {
            Action::StartMedia(sdp) => {
                let Some(p) = params.as_ref() else {
                    return Ok(());
                };
                let recording = p.run_dir.join("recording.wav");
                let archive = p.archive.clone();
                if let Err(e) = self.start_media(&sdp, recording, archive) {
                    tracing::warn!(error = %format!("{e:#}"), "unusable SDP answer; hanging up");
                    call.handle_media_refused(Instant::now(), format!("{e:#}"));
                }
            }
            Action::MoveMedia(sdp) => {
                if let (Some(m), Ok(s)) = (&self.media, SessionDescription::parse(&sdp)) {
                    if let Some(addr) = s.audio_addr() {
                        m.update_remote(addr).await;
                    }
                }
            }
            Action::Begin => {
                if let (Some(p), Some(media), Some(audio)) =
                    (params.take(), self.media.clone(), self.audio.take())
                {
                    self.begin_interview(p, media, audio, amd.clone());
                }
            }
            Action::StopConversation => {
                if let Some(tx) = &self.hangup_tx {
                    let _ = tx.send(true);
                }
            }
            Action::HangUp => {
                self.events
                    .log("sip", &serde_json::json!({"event": "hangup"}));
                self.dialer.line.sip.hangup(self.call).await?;
            }
        }
        Ok(())
    }

    fn log_sip(&self, ev: &Event) {
        let line = match ev {
            Event::Progress { status, .. } => {
                serde_json::json!({"event": "progress", "status": status.code()})
            }
            Event::Answered { .. } => serde_json::json!({"event": "answered"}),
            Event::Failed { status, reason, .. } => {
                serde_json::json!({"event": "failed", "status": status.code(), "reason": reason})
            }
            Event::Ended { by, .. } => {
                serde_json::json!({"event": "ended", "by": format!("{by:?}")})
            }
            _ => return,
        };
        self.events.log("sip", &line);
    }

    /// Starts media (recording both sides, the listener's tap) on the answer's SDP.
    fn start_media(
        &mut self,
        sdp_bytes: &[u8],
        recording: PathBuf,
        archive: crate::archive::Archive,
    ) -> Result<()> {
        let answer = SessionDescription::parse(sdp_bytes).context("the answer's SDP")?;
        let negotiated =
            sdp::accept_answer(&answer, &self.dialer.line.codecs, self.srtp_key.as_ref())?;
        let Some((rtp, rtcp)) = self.sockets.take() else {
            return Ok(());
        };
        self.events.log(
            "media",
            &serde_json::json!({"event": "media", "codec": negotiated.codec.name(), "remote": negotiated.remote.to_string(),
                                "srtp": negotiated.srtp.is_some()}),
        );
        // 1 s of audio: the listener never stalls that long (VAD is ~0.2 ms a frame).
        let (audio_tx, audio_rx) = mpsc::channel(50);
        self.media = Some(Arc::new(MediaHandle::start_with_tap(
            rtp,
            rtcp,
            MediaParams {
                negotiated,
                echo: false,
                recording: Some(Recording::Stereo(recording)),
                archive,
                seed: self.seed,
                call_id: self.call_id.clone(),
            },
            Some(audio_tx),
        )?));
        self.audio = Some(audio_rx);
        Ok(())
    }

    fn begin_interview(
        &mut self,
        params: InterviewParams,
        media: Arc<MediaHandle>,
        audio: mpsc::Receiver<Arc<[i16]>>,
        amd: Option<AmdPolicy>,
    ) {
        let dtmf = media.dtmf_events();
        let (hangup_tx, mut hangup_rx) = watch::channel(false);
        self.hangup_tx = Some(hangup_tx);
        let stack = self.dialer.stack.clone();
        let events = self.events.clone();
        let conversation = async move {
            // With detection on, the call is listened to before anyone speaks.
            let audio = match amd {
                None => audio,
                Some(policy) => {
                    match voicemail::screen(
                        &stack,
                        &policy,
                        params.lang,
                        &media,
                        audio,
                        &mut hangup_rx,
                        &events,
                    )
                    .await?
                    {
                        Screened::Person(audio) => audio,
                        Screened::Machine(v) => return Ok(Conversation::Voicemail(v)),
                        Screened::Gone => return Ok(Conversation::Nothing),
                    }
                }
            };
            let call = CallMedia { media, audio, dtmf };
            session::run(stack, params, call, hangup_rx, events)
                .await
                .map(|i| Conversation::Interview(Box::new(i)))
        };
        self.session = Some(tokio::spawn(conversation.in_current_span()));
    }
}

async fn finish_session(h: tokio::task::JoinHandle<Result<Conversation>>) -> Conversation {
    match tokio::time::timeout(Duration::from_secs(10), h).await {
        Ok(Ok(Ok(c))) => c,
        Ok(Ok(Err(e))) => {
            tracing::error!(error = %format!("{e:#}"), "interview failed");
            Conversation::Nothing
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "interview task panicked");
            Conversation::Nothing
        }
        Err(_) => {
            tracing::error!("interview did not finish within 10 s of the hang-up");
            Conversation::Nothing
        }
    }
}

/// An interview call as one JSON line (`voxhire call --script`'s output): how
/// the call went, and when answered how the interview ended, its score and
/// files, and the turns' voice-to-voice latency.
pub fn summary_json(record: &CallRecord) -> serde_json::Value {
    let mut line = serde_json::json!({
        "call_id": record.call_id,
        "outcome": record.outcome,
        "sip_status": record.sip_status,
        "duration_ms": record.duration_ms,
        "run_dir": record.run_dir.display().to_string(),
        "rtp": crate::summary::RtpSummary::from_report(record.media.as_ref()),
    });
    if !record.reason.is_empty() {
        line["reason"] = record.reason.clone().into();
    }
    if record.media.as_ref().is_some_and(|m| m.srtp) {
        line["srtp"] = true.into();
    }
    if let Some(v) = &record.voicemail {
        line["voicemail"] = serde_json::json!(v);
    }
    if let Some(r) = &record.interview {
        let mut lats: Vec<u64> = r.latencies.iter().map(|l| l.voice_to_voice_ms).collect();
        lats.sort_unstable();
        line["status"] = r.report.status.name().into();
        line["score"] = serde_json::json!(r.report.score);
        line["recommendation"] = r.report.recommendation.map(|x| x.name()).into();
        line["callback_at"] = serde_json::json!(r.report.callback_at);
        line["report"] = r.report_path.display().to_string().into();
        line["voice_to_voice_ms"] = serde_json::json!({
            "turns": lats.len(),
            "p50": percentile(&lats, 50),
            "p95": percentile(&lats, 95),
        });
    }
    line
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
            percentile(&lats, 50),
            percentile(&lats, 95),
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
