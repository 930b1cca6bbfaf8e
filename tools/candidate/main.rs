//! `voxhire-candidate`: a simulated job candidate for the end-to-end interview
//! tests and benches (not a product command).
//!
//! A SIP UAS that answers every INVITE as the candidate the called user names
//! (`sip:alice@…` plays `DIR/alice.toml`, see [`scenario`]): the first attempts can
//! be busy or unanswered, then, turn by turn, it waits for the agent to finish
//! speaking (Silero VAD on the received audio, [`turn_taking`]) and plays a recorded
//! answer. One JSON line per INVITE on stdout ([`call::CallLine`]).

#![forbid(unsafe_code)]

mod call;
pub mod scenario;
pub mod turn_taking;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use voxhire_sip::message::NameAddr;
use voxhire_sip::sdp::Codec;
use voxhire_sip::ua::{CallHandle, Event};
use voxhire_sip::StatusCode;
use voxhire_speech::models::ModelDir;
use voxhire_speech::vad::SileroVad;

use call::{AnsweredCall, CallLine};
use scenario::Scenario;
use turn_taking::TurnConfig;
use voxhire_engine::archive::Archive;
use voxhire_engine::inbound::{file_safe, Accepted, Answerer, MediaSetup};
use voxhire_engine::media_task::Recording;
use voxhire_engine::rtp_ports::RtpPorts;
use voxhire_engine::sip_endpoint::{self, SipEndpoint};

#[derive(clap::Parser)]
#[command(
    name = "voxhire-candidate",
    version,
    about = "A simulated job candidate: answers SIP calls and plays recorded answers turn by turn (for voxhire's tests and benches)"
)]
pub struct CandidateArgs {
    /// Our SIP address, where voxhire calls the candidates.
    #[arg(
        long,
        value_name = "ADDR",
        alias = "listen",
        default_value = "127.0.0.1:5090"
    )]
    sip: SocketAddr,
    /// Directory of scenarios: the called user `alice` (or `alice+N`, another
    /// number with the same answers) selects `DIR/alice.toml`.
    #[arg(long, value_name = "DIR")]
    scenarios: PathBuf,
    /// RTP port range for calls.
    #[arg(long, default_value = "21000-21999", value_name = "LO-HI")]
    rtp_ports: String,
    /// Directory for per-call stereo recordings (left = candidate, right = agent).
    #[arg(long, value_name = "DIR")]
    record_dir: Option<PathBuf>,
    /// Agent silence (ms) after at least 300 ms of its speech that ends its turn.
    #[arg(long, default_value_t = 600, value_name = "MS")]
    gap_ms: u64,
    /// Hang up after this long without agent speech, or after the last turn.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    idle_timeout: u64,
}

/// A call ringing unanswered on purpose (`no_answer_attempts`) until CANCEL.
struct Ringing {
    user: String,
    call_id: String,
    attempt: u32,
}

struct Candidate {
    sip: SipEndpoint,
    args: CandidateArgs,
    /// Answers the calls the scenario picks up: G.711 first, like the
    /// handsets voxhire calls.
    answerer: Answerer,
    scenarios: HashMap<String, Arc<Scenario>>,
    vad: Arc<SileroVad>,
    /// INVITEs seen per user since start-up.
    attempts: HashMap<String, u32>,
    ringing: HashMap<CallHandle, Ringing>,
    /// Answered calls: fire to tell the call's task the dialog ended.
    answered: HashMap<CallHandle, oneshot::Sender<()>>,
    lines: JoinSet<CallLine>,
}

fn main() -> std::process::ExitCode {
    use clap::Parser;
    let args = CandidateArgs::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "voxhire_candidate=info,voxhire_engine=info".into()),
        )
        .init();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
        .and_then(|rt| rt.block_on(run(args)));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: CandidateArgs) -> Result<()> {
    let scenarios: HashMap<String, Arc<Scenario>> = Scenario::load_dir(&args.scenarios)?
        .into_iter()
        .map(|s| {
            tracing::debug!(user = %s.user, path = %s.path.display(), turns = s.turns.len(), "scenario");
            (s.user.clone(), Arc::new(s))
        })
        .collect();
    let ports = RtpPorts::parse(&args.rtp_ports).context("--rtp-ports")?;
    if let Some(dir) = &args.record_dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating --record-dir {}", dir.display()))?;
    }
    // One session per core, shared by every call (a 32 ms chunk costs ~0.1 ms).
    let vad = SileroVad::load(&ModelDir::locate())
        .context("loading Silero VAD (run scripts/fetch-models.sh)")?;
    let opened =
        sip_endpoint::open(args.sip, SocketAddr::from(([127, 0, 0, 1], 5060)), None).await?;
    let (sip, mut events, bound) = (opened.sip, opened.events, opened.bound);
    let local_ip = opened.local.ip();
    let mut users: Vec<&String> = scenarios.keys().collect();
    users.sort();
    println!(
        "{}",
        serde_json::json!({"event": "listening", "sip": bound.to_string(), "users": users})
    );
    tracing::info!(%bound, scenarios = scenarios.len(), "candidate simulator ready");

    let mut c = Candidate {
        sip: sip.clone(),
        args,
        answerer: Answerer {
            sip,
            ports: Arc::new(ports),
            local_ip,
            codecs: vec![Codec::Pcmu, Codec::Pcma, Codec::Opus],
        },
        scenarios,
        vad,
        attempts: HashMap::new(),
        ringing: HashMap::new(),
        answered: HashMap::new(),
        lines: JoinSet::new(),
    };
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            ev = events.recv() => match ev {
                Some(ev) => c.handle(ev).await?,
                None => anyhow::bail!("the SIP task stopped unexpectedly"),
            },
            Some(line) = c.lines.join_next(), if !c.lines.is_empty() => print_line(line),
            _ = &mut shutdown => break,
        }
    }
    tracing::info!(
        calls = c.answered.len(),
        "shutting down: hanging up calls in progress"
    );
    for call in c.answered.keys().chain(c.ringing.keys()) {
        c.sip.hangup(*call).await?;
    }
    // Let the BYEs go out and the calls write their lines, but don't hang around.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while !c.lines.is_empty() {
        tokio::select! {
            Some(line) = c.lines.join_next() => print_line(line),
            Some(Event::Ended { call, .. }) = events.recv() => c.ended(call),
            _ = tokio::time::sleep_until(deadline) => break,
        }
    }
    Ok(())
}

fn print_line(line: Result<CallLine, tokio::task::JoinError>) {
    match line.map(|l| serde_json::to_string(&l)) {
        Ok(Ok(json)) => println!("{json}"),
        Ok(Err(e)) => tracing::error!(error = %e, "cannot serialise a call line"),
        Err(e) => tracing::error!(error = %e, "call task panicked"),
    }
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    // Say which signal: an unexpected stop in a test run is otherwise a mystery.
    tokio::select! {
        r = tokio::signal::ctrl_c() => match r {
            Ok(()) => tracing::info!("SIGINT received"),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGINT; only SIGTERM stops the simulator");
                term.recv().await;
                tracing::info!("SIGTERM received");
            }
        },
        _ = term.recv() => tracing::info!("SIGTERM received"),
    }
}

/// The called user: the user part of the To URI, which a direct call (no proxy
/// rewriting) carries identically in the Request-URI.
fn called_user(to: &NameAddr) -> Option<String> {
    to.uri.sip().and_then(|u| u.user.clone())
}

impl Candidate {
    async fn handle(&mut self, ev: Event) -> Result<()> {
        match ev {
            Event::IncomingCall {
                call,
                call_id,
                to,
                offer,
                ..
            } => self.incoming(call, call_id, &to, offer).await?,
            Event::Cancelled { call } => {
                if let Some(r) = self.ringing.remove(&call) {
                    tracing::info!(user = %r.user, "caller cancelled while ringing");
                    self.line(CallLine::unanswered(
                        r.user,
                        r.call_id,
                        r.attempt,
                        "no_answer",
                        487,
                    ));
                }
            }
            Event::Ended { call, .. } => self.ended(call),
            Event::RemoteSdp { .. }
            | Event::Confirmed { .. }
            | Event::Progress { .. }
            | Event::Answered { .. }
            | Event::Failed { .. }
            | Event::Registered { .. }
            | Event::Unregistered
            | Event::RegistrationFailed { .. } => {}
        }
        Ok(())
    }

    fn ended(&mut self, call: CallHandle) {
        if let Some(tx) = self.answered.remove(&call) {
            let _ = tx.send(());
        }
    }

    fn line(&mut self, line: CallLine) {
        self.lines.spawn(async move { line });
    }

    /// (Long on purpose: the scenario's script for this attempt read top to
    /// bottom: not found, busy, ringing out, then answered.)
    async fn incoming(
        &mut self,
        call: CallHandle,
        call_id: String,
        to: &NameAddr,
        offer: Option<Vec<u8>>,
    ) -> Result<()> {
        let user = called_user(to).unwrap_or_default();
        // `alice+3` is another candidate played by alice's scenario (load tests
        // need many distinct numbers); attempts are counted per full user.
        let scenario = self.scenarios.get(&user).or_else(|| {
            user.split_once('+')
                .and_then(|(base, _)| self.scenarios.get(base))
        });
        let Some(scenario) = scenario.cloned() else {
            tracing::warn!(%user, "no scenario for this user; 404");
            self.sip
                .reject(call, StatusCode::NOT_FOUND, Vec::new())
                .await?;
            self.line(CallLine::unanswered(user, call_id, 0, "not_found", 404));
            return Ok(());
        };
        let attempt = {
            let n = self.attempts.entry(user.clone()).or_insert(0);
            *n += 1;
            *n
        };
        if attempt <= scenario.busy_attempts {
            tracing::info!(%user, attempt, "busy (scenario); 486");
            self.sip
                .reject(call, StatusCode::BUSY_HERE, Vec::new())
                .await?;
            self.line(CallLine::unanswered(user, call_id, attempt, "busy", 486));
            return Ok(());
        }
        if attempt <= scenario.busy_attempts + scenario.no_answer_attempts {
            tracing::info!(%user, attempt, "ringing without answering (scenario)");
            self.sip.ring(call).await?;
            self.ringing.insert(
                call,
                Ringing {
                    user,
                    call_id,
                    attempt,
                },
            );
            return Ok(());
        }
        let recording = self
            .args
            .record_dir
            .as_ref()
            .map(|d| d.join(format!("{user}-{attempt}-{}.wav", file_safe(&call_id, 64))));
        // 100 frames = 2 s: VAD keeps up easily, but a busy 2-core machine stalls.
        let (tap, received) = mpsc::channel(100);
        let setup = || {
            Ok(MediaSetup {
                echo: false,
                recording: recording.clone().map(Recording::Stereo),
                archive: Archive::plain(),
                tap: Some(tap),
            })
        };
        let media = match self
            .answerer
            .accept(call, &call_id, offer.as_deref(), setup)
            .await?
        {
            Accepted::Answered { media, .. } => media,
            Accepted::Refused(status) => {
                self.line(CallLine::unanswered(
                    user,
                    call_id,
                    attempt,
                    "rejected",
                    status.code(),
                ));
                return Ok(());
            }
        };
        tracing::info!(%user, attempt, %call_id, "answered");
        let (ended_tx, ended) = oneshot::channel();
        self.answered.insert(call, ended_tx);
        let task = AnsweredCall {
            user,
            call_id,
            attempt,
            scenario,
            sip: self.sip.clone(),
            call,
            media,
            received,
            ended,
            vad: self.vad.clone(),
            turn_config: TurnConfig {
                gap: Duration::from_millis(self.args.gap_ms),
                idle_timeout: Duration::from_secs(self.args.idle_timeout),
                ..TurnConfig::default()
            },
            recording,
            answered_at: Instant::now(),
        };
        let span = tracing::info_span!("call", user = %task.user, attempt);
        self.lines
            .spawn(tracing::Instrument::instrument(task.run(), span));
        Ok(())
    }
}
