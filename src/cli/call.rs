//! `voxhire call`: one outbound call, end to end.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::net::UdpSocket;
use tracing::Instrument;
use voxhire_sip::message::{NameAddr, Uri};
use voxhire_sip::sdp::{self, SessionDescription};
use voxhire_sip::ua::{CallHandle, Event, InviteParams};

use voxhire_engine::archive::Archive;
use voxhire_engine::call::{Action, Call, CallPolicy, Expired};
use voxhire_engine::call_router::CallRouter;
use voxhire_engine::interview::session::InterviewParams;
use voxhire_engine::interview::{interview_lang, time_zone, InterviewStack};
use voxhire_engine::interview_call::{summary_json, summary_line, DialRequest, Dialer, Outbound};
use voxhire_engine::media_task::{MediaHandle, MediaParams, Recording};
use voxhire_engine::redact::Redacted;
use voxhire_engine::rtp_ports::RtpPorts;
use voxhire_engine::sip_endpoint::{self, SipEndpoint};
use voxhire_engine::summary::{load_play, CallSummary, RtpSummary};
use voxhire_engine::trunk::Trunk;

#[derive(clap::Args)]
pub struct CallArgs {
    /// Who to call, e.g. sip:candidate@127.0.0.1:5080
    uri: String,
    /// Our SIP address (port 0 = any free port).
    #[arg(long, value_name = "ADDR", alias = "bind", default_value = "0.0.0.0:0")]
    sip: SocketAddr,
    /// Our identity in From (default: the trunk's `from`, else sip:voxhire@<bound address>).
    #[arg(long)]
    from: Option<String>,
    /// Trunk file (TOML): proxy, credentials, codecs.
    #[arg(long)]
    trunk: Option<PathBuf>,
    /// Offer SRTP keyed in the SDP (SDES, AES_CM_128_HMAC_SHA1_80), as `srtp = true`
    /// in the trunk file does: a far end that answers in the clear fails the call.
    #[arg(long)]
    srtp: bool,
    /// WAV to play once the call is answered (any rate, mono or stereo; resampled to 8 kHz).
    #[arg(long)]
    play: Option<PathBuf>,
    /// Where to record the far end's audio (8 kHz mono WAV).
    #[arg(long)]
    record: Option<PathBuf>,
    /// Seal the recording and the interview's files under these master keys.
    #[command(flatten)]
    keys: super::security::KeyArgs,
    /// Hang up this many seconds after the answer (default: when the WAV has played,
    /// or when the far end hangs up if nothing is played).
    #[arg(long, value_name = "SECS")]
    hangup_after: Option<f64>,
    /// Give up (CANCEL) if not answered within this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    ring_timeout: f64,
    /// DTMF digits (0-9, *, #, A-D) to send as RFC 4733 events once answered.
    #[arg(long, value_name = "DIGITS")]
    dtmf: Option<String>,
    /// RTP port range.
    #[arg(long, default_value = "16384-32767", value_name = "LO-HI")]
    rtp_ports: String,
    /// Run this interview script (TOML) on the call instead of playing a WAV:
    /// writes transcript.json, report.json, events.jsonl and recording.wav to --out.
    #[arg(long, conflicts_with_all = ["play", "record", "hangup_after", "dtmf"])]
    script: Option<PathBuf>,
    /// The call's run directory (with --script).
    #[arg(long, requires = "script", default_value = "runs/call")]
    out: PathBuf,
    /// Interview language (with --script; default: the script's first language).
    #[arg(long, requires = "script", value_parser = ["en", "zh"])]
    lang: Option<String>,
    /// The candidate's name, used in the greeting and identity check (with --script).
    #[arg(long, requires = "script")]
    candidate_name: Option<String>,
    /// The candidate's IANA time zone, for callback times (with --script).
    #[arg(long, requires = "script", default_value = "UTC")]
    tz: String,
    /// Listen before speaking and decide whether a person or an answering machine
    /// answered (a person as soon as they stop and wait, a machine by 3.5 s); on a
    /// machine, `hang_up` or `leave_message` (after the beep). Off by default (with
    /// --script).
    #[arg(long, requires = "script", value_parser = ["hang_up", "leave_message"], value_name = "ON_MACHINE")]
    answering_machine: Option<String>,
}

/// A duration flag: finite, not negative, at most a day (a larger value is a
/// typo, and would overflow the timers).
fn seconds(s: f64, what: &str) -> Result<Duration> {
    const DAY: f64 = 86_400.0;
    if !s.is_finite() || !(0.0..=DAY).contains(&s) {
        bail!("{what} must be a number of seconds from 0 to {DAY}, got {s}");
    }
    Ok(Duration::from_secs_f64(s))
}

pub async fn run(args: CallArgs) -> Result<()> {
    let target = Uri::parse(&args.uri)
        .filter(|u| u.sip().is_some())
        .with_context(|| {
            format!(
                "{:?} is not a sip: URI (e.g. sip:alice@127.0.0.1:5080)",
                args.uri
            )
        })?;
    let mut trunk = match &args.trunk {
        Some(p) => Trunk::load_located(p).await?,
        None => Trunk::default(),
    };
    trunk.srtp |= args.srtp;
    if let Some(script) = &args.script {
        return run_interview(&args, script, target, trunk).await;
    }
    let ring_timeout = seconds(args.ring_timeout, "--ring-timeout")?;
    let hangup_after = args
        .hangup_after
        .map(|s| seconds(s, "--hangup-after"))
        .transpose()?;
    let play = load_play(&args.play)?;
    if let Some(d) = &args.dtmf {
        if let Some(bad) = d.chars().find(|c| !"0123456789*#ABCDabcd".contains(*c)) {
            bail!("--dtmf: {bad:?} is not a DTMF digit (0-9, *, #, A-D)");
        }
    }
    let ports = RtpPorts::parse(&args.rtp_ports).context("--rtp-ports")?;

    let seed = rand::random();
    let Outgoing {
        sip,
        events,
        local_ip,
        from,
        dst,
    } = open_sip(&args, &trunk, &target).await?;

    let (rtp, rtcp) = ports.bind(local_ip).await?;
    let rtp_addr = SocketAddr::new(local_ip, rtp.local_addr()?.port());
    let (offer, srtp_key) = sdp::offer(seed >> 1, rtp_addr, &trunk.codecs).secured_if(trunk.srtp);
    let (dst, alternates) = match &trunk.route {
        Some(route) => route.next_hops().await,
        None => (dst, Vec::new()),
    };
    tracing::info!(to = %Redacted(&args.uri), via = %dst, srtp = trunk.srtp, "calling");
    let (call, call_id) = sip
        .invite(InviteParams {
            target,
            dst,
            alternates,
            from,
            sdp: offer.to_bytes(),
        })
        .await?;
    let span = tracing::info_span!("call", %call_id);
    let outbound = PlainCall {
        sip: &sip,
        call,
        codecs: trunk.codecs.clone(),
        srtp_key,
        sockets: Some((rtp, rtcp)),
        media: None,
        play,
        record: args.record.clone(),
        archive: args.keys.archive()?,
        seed,
        call_id: call_id.clone(),
        codec: None,
    };
    let policy = CallPolicy {
        ring_timeout,
        hangup_after,
        early_media: true,
    };
    let summary = drive(outbound, events, &args, policy)
        .instrument(span)
        .await?;
    println!("{}", serde_json::to_string(&summary)?);
    Ok(())
}

/// Runs one placed call to its end: the thin driver of the engine's [`Call`]
/// (ring timeout, media, hang-up rules), plus Ctrl-C or SIGTERM.
/// (Long on purpose: one `select!` loop over the call's inputs; the decisions
/// are the engine's `Call`, the arms only feed it.)
async fn drive(
    mut outbound: PlainCall<'_>,
    mut events: tokio::sync::mpsc::UnboundedReceiver<Event>,
    args: &CallArgs,
    policy: CallPolicy,
) -> Result<CallSummary> {
    let started = Instant::now();
    let mut call = Call::outbound(started, policy);
    let mut interrupted = false;
    let ctrl_c = super::shutdown_signal(); // or SIGTERM
    tokio::pin!(ctrl_c);

    loop {
        while let Some(action) = call.poll_action() {
            outbound.act(action, &mut call, args).await?;
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
        // Without --hangup-after, a played WAV ends the call once it has played.
        let playback_done = async {
            match (
                &outbound.media,
                call.is_up() && policy.hangup_after.is_none(),
            ) {
                (Some(m), true) if outbound.play.is_some() => {
                    let mut rx = m.prompts_played.clone();
                    let _ = rx.wait_for(|n| *n >= 1).await;
                }
                _ => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            ev = events.recv() => {
                let Some(ev) = ev else { bail!("the SIP task stopped unexpectedly") };
                match &ev {
                    Event::Progress { status, .. } => tracing::info!(status = status.code(), "progress"),
                    Event::Answered { .. } => tracing::info!("answered"),
                    Event::Failed { status, reason, .. } => {
                        tracing::info!(status = status.code(), %reason, "call not answered")
                    }
                    Event::Ended { by, .. } => tracing::info!(?by, "call ended"),
                    _ => {}
                }
                call.handle_sip(Instant::now(), &ev);
            }
            _ = timer => match call.handle_timeout(Instant::now()) {
                Some(Expired::Ring) => tracing::info!(secs = policy.ring_timeout.as_secs_f64(), "ring timeout; cancelling"),
                Some(Expired::HangupAfter) => tracing::info!("hang-up time reached"),
                Some(Expired::Ending) => tracing::warn!("the hang-up never completed; call over"),
                None => {}
            },
            _ = playback_done => {
                tracing::info!("prompt played; hanging up");
                call.handle_conversation_done(Instant::now());
            }
            _ = &mut ctrl_c, if !interrupted => {
                tracing::info!("interrupted; hanging up");
                interrupted = true;
                call.handle_stop(Instant::now());
            }
        }
    }
    let report = match outbound.media.take() {
        Some(m) => Some(m.stop().await?),
        None => None,
    };
    let end = call.end().expect("the loop ends with the call");
    Ok(CallSummary {
        call_id: outbound.call_id,
        outcome: end.outcome.name(),
        sip_status: end.sip_status,
        codec: outbound.codec,
        srtp: report.as_ref().is_some_and(|r| r.srtp),
        duration_ms: started.elapsed().as_millis() as u64,
        rtp: RtpSummary::from_report(report.as_ref()),
        dtmf: report.map(|r| r.dtmf).unwrap_or_default(),
        recording: args.record.as_ref().map(|p| p.display().to_string()),
    })
}

struct PlainCall<'a> {
    sip: &'a SipEndpoint,
    call: CallHandle,
    codecs: Vec<voxhire_sip::sdp::Codec>,
    /// Our SRTP key, when the offer was secured.
    srtp_key: Option<sdp::SrtpKey>,
    sockets: Option<(UdpSocket, UdpSocket)>,
    media: Option<MediaHandle>,
    play: Option<Arc<Vec<i16>>>,
    record: Option<PathBuf>,
    archive: Archive,
    seed: u64,
    call_id: String,
    codec: Option<&'static str>,
}

impl PlainCall<'_> {
    async fn act(&mut self, action: Action, call: &mut Call, args: &CallArgs) -> Result<()> {
        match action {
            Action::StartMedia(sdp) => {
                if let Err(e) = self.start_media(&sdp) {
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
                if let (Some(m), Some(play)) = (&self.media, &self.play) {
                    m.play(play.clone()).await;
                }
                if let (Some(m), Some(digits)) = (&self.media, &args.dtmf) {
                    m.send_dtmf(digits.to_ascii_uppercase()).await;
                }
            }
            Action::StopConversation => {}
            Action::HangUp => self.sip.hangup(self.call).await?,
        }
        Ok(())
    }

    /// Starts media on the first SDP answer (early or final).
    fn start_media(&mut self, sdp: &[u8]) -> Result<()> {
        let answer = SessionDescription::parse(sdp).context("the answer's SDP")?;
        let negotiated = sdp::accept_answer(&answer, &self.codecs, self.srtp_key.as_ref())?;
        let Some((rtp, rtcp)) = self.sockets.take() else {
            return Ok(());
        };
        self.codec = Some(negotiated.codec.name());
        tracing::info!(codec = negotiated.codec.name(), remote = %negotiated.remote,
            srtp = negotiated.srtp.is_some(), "media starting");
        self.media = Some(MediaHandle::start(
            rtp,
            rtcp,
            MediaParams {
                negotiated,
                echo: false,
                recording: self.record.clone().map(Recording::Remote),
                archive: self.archive.clone(),
                seed: self.seed,
                call_id: self.call_id.clone(),
            },
        )?);
        Ok(())
    }
}

/// The SIP side of an outbound call: the endpoint, where the INVITE goes and who
/// it is from.
struct Outgoing {
    sip: SipEndpoint,
    events: tokio::sync::mpsc::UnboundedReceiver<Event>,
    local_ip: std::net::IpAddr,
    from: NameAddr,
    /// The trunk's proxy, else the target URI's own host.
    dst: SocketAddr,
}

async fn open_sip(args: &CallArgs, trunk: &Trunk, target: &Uri) -> Result<Outgoing> {
    let dst = match trunk.proxy {
        Some(p) => p,
        None => target.socket_addr().with_context(|| {
            format!(
                "{} has no IP address host; give a trunk with a proxy",
                Redacted(&args.uri)
            )
        })?,
    };
    let opened = sip_endpoint::open_with(args.sip, dst, trunk.sip_options()?).await?;
    let local = opened.local;
    let from = match (&args.from, &trunk.from) {
        (Some(f), _) => {
            NameAddr::parse(f).with_context(|| format!("--from {f:?} is not a SIP address"))?
        }
        (None, Some(uri)) => NameAddr::new(uri.clone()),
        (None, None) => {
            NameAddr::parse(&format!("<sip:voxhire@{local}>")).context("building From")?
        }
    };
    Ok(Outgoing {
        sip: opened.sip,
        events: opened.events,
        local_ip: local.ip(),
        from,
        dst,
    })
}

/// `voxhire call --script`: one interview on one outbound call.
async fn run_interview(
    args: &CallArgs,
    script_path: &Path,
    target: Uri,
    trunk: Trunk,
) -> Result<()> {
    let script = Arc::new(
        voxhire_dialog::InterviewScript::load(script_path)
            .with_context(|| format!("loading the interview script {}", script_path.display()))?,
    );
    let lang = interview_lang(&script, args.lang.as_deref())?;
    let tz = time_zone(&args.tz)?;
    let ring_timeout = seconds(args.ring_timeout, "--ring-timeout")?;
    let ports = Arc::new(RtpPorts::parse(&args.rtp_ports).context("--rtp-ports")?);
    let Outgoing {
        sip,
        events,
        local_ip,
        from,
        dst,
    } = open_sip(args, &trunk, &target).await?;
    let tuning = super::tuning_from_env()?;
    eprintln!("loading models and synthesising the script's prompts…");
    let stack = {
        let script = script.clone();
        tokio::task::spawn_blocking(move || InterviewStack::load(&[(script, lang)], 1, &tuning))
            .await??
    };
    stack.warm_for(&script, lang, args.candidate_name.as_deref())?;
    let stack = Arc::new(stack);
    let (router, _other) = CallRouter::spawn(events);
    let dialer = Dialer {
        line: Arc::new(Outbound {
            sip,
            router,
            ports,
            local_ip,
            proxy: trunk.proxy,
            route: trunk.route.clone(),
            codecs: trunk.codecs.clone(),
            srtp: trunk.srtp,
            from,
        }),
        stack,
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let interrupted = super::shutdown_signal();
    tokio::spawn(async move {
        interrupted.await;
        tracing::info!("interrupted; hanging up");
        let _ = stop_tx.send(true);
    });
    tracing::info!(to = %Redacted(&args.uri), via = %dst, "calling");
    let record = dialer
        .dial(
            DialRequest {
                target,
                ring_timeout,
                interview: InterviewParams {
                    script,
                    lang,
                    candidate_name: args.candidate_name.clone(),
                    tz,
                    run_dir: args.out.clone(),
                    archive: args.keys.archive()?,
                },
                // One call, no store: nothing to end it from after a crash.
                keep_dialog: None,
                amd: args.answering_machine.as_deref().map(|on| {
                    voxhire_engine::campaign_run::amd_policy(&voxhire_campaign::AnsweringMachine {
                        on_machine: voxhire_campaign::MachineAction::parse(on)
                            .expect("clap allows only the two actions"),
                        message: None,
                    })
                }),
            },
            stop_rx,
        )
        .await?;
    match &record.interview {
        Some(r) => eprintln!("report: {}", r.report_path.display()),
        None => eprintln!(
            "no interview: the call was not answered ({})",
            record.outcome.name()
        ),
    }
    eprintln!("{}", summary_line(&record));
    println!("{}", summary_json(&record));
    Ok(())
}
