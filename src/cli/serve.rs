//! `voxhire serve`: answer inbound calls, play a WAV (or echo), record each call.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::sync::{mpsc, watch};
use tracing::Instrument;
use voxhire_dialog::InterviewScript;
use voxhire_sip::sdp::SessionDescription;
use voxhire_sip::ua::{CallHandle, Event, RegisterParams};
use voxhire_sip::StatusCode;

use voxhire_engine::archive::Archive;
use voxhire_engine::call::{Action, Call, CallPolicy};
use voxhire_engine::inbound::{file_safe, Accepted, Answerer, MediaSetup};
use voxhire_engine::interview::outputs::EventLog;
use voxhire_engine::interview::session::{self, CallMedia, InterviewParams, InterviewResult};
use voxhire_engine::interview::{interview_lang, time_zone, InterviewStack};
use voxhire_engine::media_task::{MediaHandle, Recording};
use voxhire_engine::redact::Redacted;
use voxhire_engine::rtp_ports::RtpPorts;
use voxhire_engine::sip_endpoint::{self, SipEndpoint};
use voxhire_engine::sip_stream;
use voxhire_engine::summary::{load_play, CallSummary, RtpSummary};
use voxhire_engine::trunk::Trunk;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Our SIP address, where callers reach us.
    #[arg(
        long,
        value_name = "ADDR",
        alias = "listen",
        default_value = "0.0.0.0:5060"
    )]
    sip: SocketAddr,
    /// Also take SIP over TLS here (conventionally port 5061); needs
    /// --sip-tls-cert and --sip-tls-key. SIP over TCP is always taken on the
    /// --sip port.
    #[arg(long, value_name = "ADDR", requires_all = ["sip_tls_cert", "sip_tls_key"])]
    sip_tls: Option<SocketAddr>,
    /// Our certificate chain for SIP over TLS (PEM).
    #[arg(long, value_name = "FILE", requires = "sip_tls")]
    sip_tls_cert: Option<PathBuf>,
    /// The private key of --sip-tls-cert (PEM).
    #[arg(long, value_name = "FILE", requires = "sip_tls")]
    sip_tls_key: Option<PathBuf>,
    /// RTP port range for calls (RTP on even ports, RTCP on the next odd one).
    #[arg(long, default_value = "20000-20999", value_name = "LO-HI")]
    rtp_ports: String,
    /// WAV to play to each caller once answered.
    #[arg(long, conflicts_with = "echo")]
    play: Option<PathBuf>,
    /// Echo each caller's audio back to them.
    #[arg(long)]
    echo: bool,
    /// Directory for per-call recordings (stereo WAV: left = voxhire, right = caller).
    #[arg(long)]
    record_dir: Option<PathBuf>,
    /// Calls handled at once; more get 503 with Retry-After. Default: with
    /// --script, the interviews this machine holds (cores × the per-core figure
    /// measured by benches/interview_capacity.rs); otherwise 32.
    #[arg(long)]
    max_calls: Option<usize>,
    /// Trunk file: codecs offered, and a registrar to REGISTER with for inbound calls.
    #[arg(long)]
    trunk: Option<PathBuf>,
    /// Interview every caller with this script (TOML); each call's transcript,
    /// report, events and recording go to --out/<call>/.
    #[arg(long, conflicts_with_all = ["play", "echo", "record_dir"])]
    script: Option<PathBuf>,
    /// Directory for the interviews' run directories (with --script).
    #[arg(long, requires = "script", default_value = "runs/inbound")]
    out: PathBuf,
    /// Interview language (with --script; default: the script's first language).
    #[arg(long, requires = "script", value_parser = ["en", "zh"])]
    lang: Option<String>,
    /// The callers' IANA time zone, for callback times (with --script).
    #[arg(long, requires = "script", default_value = "UTC")]
    tz: String,
    #[command(flatten)]
    keys: super::security::KeyArgs,
}

/// What `--script` needs for each call.
struct InterviewSetup {
    stack: Arc<InterviewStack>,
    script: Arc<InterviewScript>,
    lang: voxhire_nlu::Lang,
    tz: chrono_tz::Tz,
}

impl InterviewSetup {
    async fn load(args: &ServeArgs) -> Result<Option<InterviewSetup>> {
        let Some(path) = &args.script else {
            return Ok(None);
        };
        let script = Arc::new(
            InterviewScript::load(path)
                .with_context(|| format!("loading the interview script {}", path.display()))?,
        );
        let lang = interview_lang(&script, args.lang.as_deref())?;
        let tz = time_zone(&args.tz)?;
        std::fs::create_dir_all(&args.out)
            .with_context(|| format!("creating --out {}", args.out.display()))?;
        let tuning = super::tuning_from_env()?;
        eprintln!("loading models and synthesising the script's prompts…");
        let s = script.clone();
        let max_calls = args.max_calls();
        let stack = tokio::task::spawn_blocking(move || {
            InterviewStack::load(&[(s, lang)], max_calls, &tuning)
        })
        .await??;
        Ok(Some(InterviewSetup {
            stack: Arc::new(stack),
            script,
            lang,
            tz,
        }))
    }
}

/// An interview waiting for the caller's ACK, then running.
struct CallInterview {
    pending: Option<(mpsc::Receiver<Arc<[i16]>>, std::path::PathBuf)>,
    events: EventLog,
    hangup: watch::Sender<bool>,
    report: Option<std::path::PathBuf>,
    /// The interview task has returned.
    done: bool,
}

struct ActiveCall {
    call_id: String,
    started: Instant,
    codec: &'static str,
    media: Option<Arc<MediaHandle>>,
    interview: Option<CallInterview>,
    /// The call's lifecycle (the engine's state machine).
    lifecycle: Call,
}

impl ActiveCall {
    /// The interview is still writing its files (it finishes the call itself).
    fn interview_running(&self) -> bool {
        self.interview
            .as_ref()
            .is_some_and(|i| i.pending.is_none() && !i.done)
    }
}

impl ServeArgs {
    fn max_calls(&self) -> usize {
        self.max_calls.unwrap_or(if self.script.is_some() {
            voxhire_engine::interview::interview_capacity()
        } else {
            32
        })
    }
}

/// Serves until SIGINT/SIGTERM, then drains. (Long on purpose: the set-up, then
/// one `select!` loop whose arms each call one `Server` method; the loop owns
/// the drain state.)
pub async fn run(args: ServeArgs) -> Result<()> {
    let trunk = match &args.trunk {
        Some(p) => Trunk::load_located(p).await?,
        None => Trunk::default(),
    };
    let play = load_play(&args.play)?;
    let interviews = InterviewSetup::load(&args).await?;
    let ports = Arc::new(RtpPorts::parse(&args.rtp_ports).context("--rtp-ports")?);
    if args.max_calls() == 0 {
        anyhow::bail!("--max-calls must be at least 1");
    }
    if let Some(dir) = &args.record_dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating --record-dir {}", dir.display()))?;
    }
    let toward = trunk
        .proxy
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 5060)));
    let mut options = trunk.sip_options()?;
    if let (Some(addr), Some(cert), Some(key)) =
        (args.sip_tls, &args.sip_tls_cert, &args.sip_tls_key)
    {
        let config = sip_stream::tls_server_config(cert, key, ["--sip-tls-cert", "--sip-tls-key"])?;
        options.tls_listen = Some((addr, Arc::new(config)));
    }
    let opened = sip_endpoint::open_with(args.sip, toward, options).await?;
    let (sip, mut events, bound) = (opened.sip, opened.events, opened.bound);
    let local_ip = opened.local.ip();
    register(&sip, &trunk).await?;
    let shutdown = super::shutdown_signal();
    let shown = |a: Option<SocketAddr>| a.map(|a| a.to_string());
    println!(
        "{}",
        serde_json::json!({"event": "listening", "sip": bound.to_string(),
            "sip_tcp": shown(opened.tcp), "sip_tls": shown(opened.tls)})
    );
    tracing::info!(%bound, tcp = ?opened.tcp, tls = ?opened.tls, max_calls = args.max_calls(), "serving");

    let mut server = Server {
        sip: &sip,
        args: &args,
        answerer: Answerer {
            sip: sip.clone(),
            ports,
            local_ip,
            codecs: trunk.codecs.clone(),
        },
        play,
        calls: HashMap::new(),
        finishing: tokio::task::JoinSet::new(),
        interviews,
        archive: args.keys.archive()?,
        running: tokio::task::JoinSet::new(),
        registered: false,
    };
    tokio::pin!(shutdown);
    let mut draining: Option<tokio::time::Instant> = None;
    loop {
        if draining.is_some() && server.calls.is_empty() && !server.registered {
            break;
        }
        let drain_deadline = async {
            match draining {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let next_timeout = server
            .calls
            .values()
            .filter_map(|c| c.lifecycle.poll_timeout())
            .min();
        let call_timer = async {
            match next_timeout {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ev = events.recv() => match ev {
                Some(ev) => server.handle(ev).await?,
                None => anyhow::bail!("the SIP task stopped unexpectedly"),
            },
            _ = call_timer => server.timeouts().await?,
            _ = &mut shutdown, if draining.is_none() => {
                server.stop_all().await?;
                // BYE transactions take at most 64·T1 = 32 s; don't wait longer than that.
                draining = Some(tokio::time::Instant::now() + Duration::from_secs(32));
            }
            _ = drain_deadline => {
                tracing::warn!(calls = server.calls.len(), "calls did not end in time; exiting");
                let pending: Vec<CallHandle> = server.calls.keys().copied().collect();
                for call in pending {
                    server.finish(call);
                }
                break;
            }
            Some(done) = server.finishing.join_next(), if !server.finishing.is_empty() => print_summary(done),
            Some(done) = server.running.join_next(), if !server.running.is_empty() => {
                match done {
                    Ok((call, result)) => server.interview_done(call, result).await?,
                    Err(e) => tracing::error!(error = %e, "interview task panicked"),
                }
            }
        }
    }
    while let Some(done) = server.finishing.join_next().await {
        print_summary(done);
    }
    Ok(())
}

/// REGISTERs with the trunk's registrar, if it has one (inbound calls then
/// reach us through it).
async fn register(sip: &SipEndpoint, trunk: &Trunk) -> Result<()> {
    let dst = trunk
        .proxy
        .or_else(|| trunk.registrar.as_ref().and_then(|r| r.socket_addr()));
    if let (Some(registrar), Some(dst)) = (&trunk.registrar, dst) {
        let aor = trunk.from.clone().unwrap_or_else(|| registrar.clone());
        sip.register(RegisterParams {
            registrar: registrar.clone(),
            dst,
            aor,
            expires: trunk.register_expires,
            keepalive: trunk.keepalive,
        })
        .await?;
    }
    Ok(())
}

fn print_summary(done: Result<Result<CallSummary>, tokio::task::JoinError>) {
    match done {
        Ok(Ok(summary)) => {
            let mut line = serde_json::to_value(&summary).unwrap_or_default();
            line["event"] = "call".into();
            println!("{line}");
        }
        Ok(Err(e)) => tracing::error!(error = %format!("{e:#}"), "finishing a call failed"),
        Err(e) => tracing::error!(error = %e, "call task panicked"),
    }
}

struct Server<'a> {
    sip: &'a SipEndpoint,
    args: &'a ServeArgs,
    answerer: Answerer,
    play: Option<Arc<Vec<i16>>>,
    calls: HashMap<CallHandle, ActiveCall>,
    finishing: tokio::task::JoinSet<Result<CallSummary>>,
    interviews: Option<InterviewSetup>,
    /// Whether the calls' files are sealed (--keys / VOXHIRE_MASTER_KEYS).
    archive: Archive,
    running: tokio::task::JoinSet<(CallHandle, Result<InterviewResult>)>,
    /// A binding exists at the trunk's registrar (removed on shutdown).
    registered: bool,
}

impl Server<'_> {
    async fn handle(&mut self, ev: Event) -> Result<()> {
        match ev {
            Event::IncomingCall {
                call,
                call_id,
                from,
                offer,
                ..
            } => {
                tracing::info!(%call_id, from = %Redacted(&from.uri.to_string()), "incoming call");
                self.incoming(call, call_id, offer).await?;
            }
            Event::Confirmed { call }
            | Event::Ended { call, .. }
            | Event::Cancelled { call }
            | Event::RemoteSdp { call, .. } => {
                if let Event::Ended { by, .. } = &ev {
                    tracing::info!(?by, "call ended");
                    if let Some(i) = self.calls.get(&call).and_then(|c| c.interview.as_ref()) {
                        i.events.log(
                            "sip",
                            &serde_json::json!({"event": "ended", "by": format!("{by:?}")}),
                        );
                    }
                }
                if let Some(c) = self.calls.get_mut(&call) {
                    c.lifecycle.handle_sip(Instant::now(), &ev);
                }
                self.pump(call).await?;
            }
            Event::Registered { expires } => {
                tracing::info!(expires, "registered with the trunk");
                self.registered = true;
            }
            Event::Unregistered => {
                tracing::info!("registration removed");
                self.registered = false;
            }
            Event::RegistrationFailed { status, reason } => {
                tracing::error!(status = status.code(), %reason, "registration failed");
                self.registered = false;
            }
            Event::Progress { .. } | Event::Answered { .. } | Event::Failed { .. } => {}
        }
        Ok(())
    }

    async fn incoming(
        &mut self,
        call: CallHandle,
        call_id: String,
        offer: Option<Vec<u8>>,
    ) -> Result<()> {
        if self.calls.len() >= self.args.max_calls() {
            tracing::warn!(%call_id, active = self.calls.len(), "at capacity; 503");
            self.answerer
                .refuse(call, StatusCode::SERVICE_UNAVAILABLE)
                .await?;
            self.log_refused(call_id, 503);
            return Ok(());
        }
        let run_dir = self
            .interviews
            .as_ref()
            .map(|_| self.args.out.join(file_safe(&call_id, 96)));
        let record_dir = self.args.record_dir.clone();
        let echo = self.args.echo;
        let archive = self.archive.clone();
        let mut interview = None;
        let setup = || -> Result<MediaSetup> {
            let Some(dir) = &run_dir else {
                let recording = record_dir
                    .map(|d| Recording::Stereo(d.join(format!("{}.wav", file_safe(&call_id, 96)))));
                return Ok(MediaSetup {
                    echo,
                    recording,
                    archive: archive.clone(),
                    tap: None,
                });
            };
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            let events = EventLog::create(&dir.join("events.jsonl"), &archive)?;
            events.log(
                "sip",
                &serde_json::json!({"event": "incoming", "call_id": call_id}),
            );
            // 1 s of audio: the listener never stalls that long.
            let (tx, rx) = mpsc::channel(50);
            let (hangup, _) = watch::channel(false);
            interview = Some(CallInterview {
                pending: Some((rx, dir.clone())),
                events,
                hangup,
                report: None,
                done: false,
            });
            Ok(MediaSetup {
                echo,
                recording: Some(Recording::Stereo(dir.join("recording.wav"))),
                archive: archive.clone(),
                tap: Some(tx),
            })
        };
        match self
            .answerer
            .accept(call, &call_id, offer.as_deref(), setup)
            .await?
        {
            Accepted::Answered { media, codec } => {
                if let Some(i) = &interview {
                    i.events.log(
                        "media",
                        &serde_json::json!({"event": "media", "codec": codec}),
                    );
                }
                self.calls.insert(
                    call,
                    ActiveCall {
                        call_id,
                        started: Instant::now(),
                        codec,
                        media: Some(Arc::new(media)),
                        interview,
                        lifecycle: Call::inbound(CallPolicy::default()),
                    },
                );
            }
            Accepted::Refused(status) => self.log_refused(call_id, status.code()),
        }
        Ok(())
    }

    /// Carries out what the call's lifecycle asks for; finishes a call that is
    /// over (once its interview, if any, has written its files).
    async fn pump(&mut self, call: CallHandle) -> Result<()> {
        loop {
            let Some(c) = self.calls.get_mut(&call) else {
                return Ok(());
            };
            let Some(action) = c.lifecycle.poll_action() else {
                break;
            };
            match action {
                Action::Begin if self.interviews.is_some() => self.start_interview(call),
                Action::Begin => {
                    if let (Some(m), Some(play)) = (&c.media, &self.play) {
                        m.play(play.clone()).await;
                    }
                }
                Action::StopConversation => {
                    if let Some(i) = &c.interview {
                        let _ = i.hangup.send(true);
                    }
                }
                Action::MoveMedia(sdp) | Action::StartMedia(sdp) => {
                    let addr = SessionDescription::parse(&sdp)
                        .ok()
                        .and_then(|s| s.audio_addr());
                    if let (Some(m), Some(addr)) = (&c.media, addr) {
                        m.update_remote(addr).await;
                    }
                }
                Action::HangUp => self.sip.hangup(call).await?,
            }
        }
        if let Some(c) = self.calls.get(&call) {
            if c.lifecycle.end().is_some() && !c.interview_running() {
                self.finish(call);
            }
        }
        Ok(())
    }

    /// Shutdown: every call's lifecycle is stopped (BYE, or 480 while
    /// ringing), and the registration removed.
    async fn stop_all(&mut self) -> Result<()> {
        tracing::info!(
            calls = self.calls.len(),
            "shutting down: hanging up calls in progress"
        );
        let calls: Vec<CallHandle> = self.calls.keys().copied().collect();
        for call in calls {
            if let Some(c) = self.calls.get_mut(&call) {
                c.lifecycle.handle_stop(Instant::now());
            }
            self.pump(call).await?;
        }
        if self.registered {
            self.sip.unregister().await?;
        }
        Ok(())
    }

    /// A call's timer expired (a BYE that never completed).
    async fn timeouts(&mut self) -> Result<()> {
        let now = Instant::now();
        let due: Vec<CallHandle> = self
            .calls
            .iter()
            .filter(|(_, c)| c.lifecycle.poll_timeout().is_some_and(|at| at <= now))
            .map(|(h, _)| *h)
            .collect();
        for call in due {
            if let Some(c) = self.calls.get_mut(&call) {
                c.lifecycle.handle_timeout(now);
            }
            self.pump(call).await?;
        }
        Ok(())
    }

    /// The caller's ACK: the interview starts.
    fn start_interview(&mut self, call: CallHandle) {
        let (Some(setup), Some(c)) = (&self.interviews, self.calls.get_mut(&call)) else {
            return;
        };
        let (Some(i), Some(media)) = (c.interview.as_mut(), c.media.clone()) else {
            return;
        };
        let Some((audio, run_dir)) = i.pending.take() else {
            return;
        };
        let call_media = CallMedia {
            dtmf: media.dtmf_events(),
            media,
            audio,
        };
        let params = InterviewParams {
            script: setup.script.clone(),
            lang: setup.lang,
            candidate_name: None,
            tz: setup.tz,
            run_dir,
            archive: self.archive.clone(),
        };
        let task = session::run(
            setup.stack.clone(),
            params,
            call_media,
            i.hangup.subscribe(),
            i.events.clone(),
        );
        let span = tracing::info_span!("call", call_id = %c.call_id);
        self.running
            .spawn(async move { (call, task.await) }.instrument(span));
    }

    /// The interview ended (the dialog said goodbye, or the caller hung up):
    /// the lifecycle hangs up if the call is still up, and finishes it.
    async fn interview_done(
        &mut self,
        call: CallHandle,
        result: Result<InterviewResult>,
    ) -> Result<()> {
        let Some(c) = self.calls.get_mut(&call) else {
            return Ok(());
        };
        if let Some(i) = c.interview.as_mut() {
            i.done = true;
            match result {
                Ok(r) => i.report = Some(r.report_path),
                Err(e) => tracing::error!(error = %format!("{e:#}"), "interview failed"),
            }
        }
        c.lifecycle.handle_conversation_done(Instant::now());
        self.pump(call).await
    }

    fn log_refused(&mut self, call_id: String, status: u16) {
        let summary = CallSummary {
            call_id,
            outcome: "rejected",
            sip_status: status,
            codec: None,
            srtp: false,
            duration_ms: 0,
            rtp: RtpSummary::default(),
            dtmf: String::new(),
            recording: None,
        };
        self.finishing.spawn(async move { Ok(summary) });
    }

    /// Stops the call's media in the background and queues its JSON line.
    fn finish(&mut self, call: CallHandle) {
        let Some(mut c) = self.calls.remove(&call) else {
            return;
        };
        // A call still up here is one the drain deadline gave up on.
        let (outcome, status) = c
            .lifecycle
            .end()
            .map_or(("answered", 200), |e| (e.outcome.name(), e.sip_status));
        let recording = self
            .args
            .record_dir
            .as_ref()
            .map(|d| d.join(format!("{}.wav", file_safe(&c.call_id, 96))));
        let media = c.media.take();
        let interview = c.interview.take();
        self.finishing.spawn(async move {
            let report = match media {
                Some(m) => Some(m.stop().await?),
                None => None,
            };
            let mut recording = recording.map(|p| p.display().to_string());
            if let Some(i) = interview {
                i.events.log(
                    "call",
                    &serde_json::json!({"event": "ended", "outcome": outcome,
                    "rtp": report.as_ref().map(|r| &r.rtp)}),
                );
                let events = i.events.finish()?;
                recording = events
                    .parent()
                    .map(|d| d.join("recording.wav").display().to_string());
                if let Some(path) = i.report {
                    tracing::info!(report = %path.display(), "interview written");
                }
            }
            let summary = CallSummary {
                call_id: c.call_id,
                outcome,
                sip_status: status,
                codec: Some(c.codec),
                srtp: report.as_ref().is_some_and(|r| r.srtp),
                duration_ms: c.started.elapsed().as_millis() as u64,
                rtp: RtpSummary::from_report(report.as_ref()),
                dtmf: report.map(|r| r.dtmf).unwrap_or_default(),
                recording,
            };
            Ok(summary)
        });
    }
}
