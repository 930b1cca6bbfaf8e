//! `voxhire campaign run FILE`: dial a campaign's candidates through the trunk,
//! with its concurrency, pacing, calling windows, retries and do-not-call list,
//! interview each one who answers, and end with a summary table and
//! `<out_dir>/summary.json`.
//!
//! The decisions are the Sans-IO `voxhire_campaign::Scheduler`'s; this driver
//! owns the clock, the SIP endpoint and the calls. Every attempt is written to
//! the campaign's SQLite store before its INVITE leaves and again when it ends,
//! so a rerun after a crash or Ctrl-C never calls anyone twice by accident.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::watch;
use tokio::task::JoinSet;
use voxhire_campaign::{
    Address, AttemptOutcome, CampaignConfig, CandidateStatus, DoNotCallList, Scheduler, Store,
};
use voxhire_dialog::report::{Report, Status};
use voxhire_dialog::InterviewScript;
use voxhire_nlu::Lang;
use voxhire_sip::message::{NameAddr, Uri};

use voxhire_engine::call_router::CallRouter;
use voxhire_engine::interview::session::InterviewParams;
use voxhire_engine::interview::InterviewStack;
use voxhire_engine::interview_call::{CallOutcome, CallRecord, DialRequest, Dialer};
use voxhire_engine::rtp_ports::RtpPorts;
use voxhire_engine::sip_endpoint;
use voxhire_engine::trunk::Trunk;

#[derive(clap::Subcommand)]
pub enum CampaignCommand {
    /// Run (or resume) a campaign: dial every candidate not yet finished.
    Run(RunArgs),
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// The campaign file (TOML), e.g. config/campaign.toml.
    file: PathBuf,
    /// Our SIP address (port 0 = any free port).
    #[arg(long, value_name = "ADDR", alias = "bind", default_value = "0.0.0.0:0")]
    sip: SocketAddr,
    /// RTP port range for the calls.
    #[arg(long, default_value = "16384-32767", value_name = "LO-HI")]
    rtp_ports: String,
    /// No progress bar (also off when stderr is not a terminal).
    #[arg(long)]
    quiet: bool,
    /// Most interviews this machine runs at once, whatever the campaign's
    /// max_concurrent_calls says. Default: cores × the per-core figure measured
    /// by benches/interview_capacity.rs.
    #[arg(long)]
    max_calls: Option<usize>,
    /// Keep running until the callbacks candidates asked for are made (at the
    /// time they asked, within the calling window). Without it the run ends
    /// when only callbacks are left, and a later run makes those that are due.
    #[arg(long)]
    wait_for_callbacks: bool,
}

pub async fn run(cmd: CampaignCommand) -> Result<()> {
    match cmd {
        CampaignCommand::Run(args) => run_campaign(args).await,
    }
}

/// What one finished call task reports.
struct Finished {
    candidate_id: String,
    attempt_no: u32,
    address: Address,
    record: Result<CallRecord>,
}

/// (Long on purpose: the set-up steps in the order a user reads them in the
/// error messages, each one call; the running is [`Runner`].)
async fn run_campaign(args: RunArgs) -> Result<()> {
    let mut config = CampaignConfig::load(&args.file)?;
    let machine = args
        .max_calls
        .unwrap_or_else(voxhire_engine::interview::interview_capacity);
    if machine == 0 {
        anyhow::bail!("--max-calls must be at least 1");
    }
    if config.max_concurrent_calls > machine {
        eprintln!(
            "campaign: {}: max_concurrent_calls = {} is more than this machine holds; \
             dialling at most {machine} at once (--max-calls to change)",
            args.file.display(),
            config.max_concurrent_calls
        );
        config.max_concurrent_calls = machine;
    }
    let candidates = voxhire_campaign::load_candidates(
        &config.candidates,
        config.default_language,
        config.default_timezone,
    )?;
    let dnc = do_not_call(&config)?;
    let trunk = match &config.trunk {
        Some(p) => Trunk::load(p)?,
        None => Trunk::default(),
    };
    let (scripts, needed) = load_scripts(&config, &candidates)?;
    std::fs::create_dir_all(&config.out_dir)
        .with_context(|| format!("creating {}", config.out_dir.display()))?;
    let store = Store::open(&config.store_path())?;
    let prior = store.attempts(&config.name)?;
    let name = config.name.clone();
    let out_dir = config.out_dir.clone();
    let opt_outs = config.opt_outs.clone();
    let max_concurrent = config.max_concurrent_calls;
    let total = candidates.len();
    let sched = Scheduler::new(config, candidates, dnc, &prior, Utc::now())?;
    let wait_for_callbacks = args.wait_for_callbacks;
    if sched.is_finished() || (!wait_for_callbacks && sched.only_callbacks_left_later(Utc::now())) {
        // A rerun of a finished campaign: no models to load, nobody to call.
        let summary = sched.summary();
        let path = voxhire_campaign::write_summary(&out_dir, &summary)?;
        println!("{}", summary.render_table());
        println!(
            "campaign {name}: nobody left to call now; summary: {}",
            path.display()
        );
        print_pending_callbacks(&sched);
        return Ok(());
    }

    eprintln!(
        "campaign {name}: {total} candidates, up to {max_concurrent} calls at once; loading models…"
    );
    let tuning = super::tuning_from_env()?;
    let stack = Arc::new(
        tokio::task::spawn_blocking(move || InterviewStack::load(&needed, max_concurrent, &tuning))
            .await??,
    );
    let ports = Arc::new(RtpPorts::parse(&args.rtp_ports).context("--rtp-ports")?);
    let dialer = Arc::new(open_dialer(&args, &trunk, ports, stack.clone()).await?);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut runner = Runner {
        name,
        store,
        sched,
        scripts,
        stack,
        dialer,
        proxy: trunk.proxy,
        opt_outs,
        wait_for_callbacks,
        calls: JoinSet::new(),
        stop_tx,
        stop_rx,
        progress: progress_bar(total as u64, args.quiet),
    };
    if let Err(e) = runner.run().await {
        // Nothing half-done is left behind: every call in progress ends with
        // BYE and what can still be recorded is; the store keeps each attempt
        // started, so a rerun resumes.
        runner
            .progress
            .println(format!("error: {e:#}; hanging up the calls in progress"));
        runner.hang_up_all().await;
        runner.progress.finish_and_clear();
        return Err(e);
    }
    runner.progress.finish_and_clear();
    let summary = runner.sched.summary();
    let path = voxhire_campaign::write_summary(&out_dir, &summary)?;
    println!("{}", summary.render_table());
    println!("summary: {}", path.display());
    print_pending_callbacks(&runner.sched);
    Ok(())
}

/// The recruiter's do-not-call list plus the opt-outs heard on earlier calls
/// (this campaign's or another's); the recruiter's list is only read.
fn do_not_call(config: &CampaignConfig) -> Result<DoNotCallList> {
    // A configured list that is missing is an error, not an empty list: a typo
    // in its path must not quietly call people who asked not to be called.
    let mut dnc = match &config.do_not_call {
        Some(p) => DoNotCallList::load(p)?,
        None => DoNotCallList::new(),
    };
    if config.opt_outs.exists() {
        dnc.merge(DoNotCallList::load(&config.opt_outs)?);
    }
    Ok(dnc)
}

type Scripts = HashMap<PathBuf, Arc<InterviewScript>>;
/// The (script, language) pairs whose prompts the stack prepares.
type Needed = Vec<(Arc<InterviewScript>, Lang)>;

/// Every script the list needs, loaded and validated before anyone is called,
/// and the (script, language) pairs whose prompts the stack prepares.
fn load_scripts(
    config: &CampaignConfig,
    candidates: &[voxhire_campaign::Candidate],
) -> Result<(Scripts, Needed)> {
    let mut scripts: Scripts = HashMap::new();
    let mut needed: Needed = Vec::new();
    for c in candidates {
        let Some(path) = config.script_for(c.language) else {
            continue;
        };
        let script = match scripts.get(path) {
            Some(s) => s.clone(),
            None => {
                let s =
                    Arc::new(InterviewScript::load(path).with_context(|| {
                        format!("loading the interview script {}", path.display())
                    })?);
                scripts.insert(path.to_path_buf(), s.clone());
                s
            }
        };
        let lang = c.language;
        if !script.languages().contains(&lang) {
            bail!(
                "{}: candidate {:?} speaks {lang}, but {} has no {lang} texts",
                config.candidates.display(),
                c.id,
                path.display()
            );
        }
        if !needed
            .iter()
            .any(|(s, l)| Arc::ptr_eq(s, &script) && *l == lang)
        {
            needed.push((script, lang));
        }
    }
    Ok((scripts, needed))
}

/// The SIP endpoint and what every call of the campaign shares.
async fn open_dialer(
    args: &RunArgs,
    trunk: &Trunk,
    ports: Arc<RtpPorts>,
    stack: Arc<InterviewStack>,
) -> Result<Dialer> {
    let toward = trunk
        .proxy
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 5060)));
    let opened = sip_endpoint::open(args.sip, toward, trunk.credentials.clone()).await?;
    let local = opened.local;
    let from = match &trunk.from {
        Some(uri) => NameAddr::new(uri.clone()),
        None => NameAddr::parse(&format!("<sip:voxhire@{local}>")).context("building From")?,
    };
    let (router, _other) = CallRouter::spawn(opened.events);
    Ok(Dialer {
        sip: opened.sip,
        router,
        ports,
        local_ip: local.ip(),
        proxy: trunk.proxy,
        codecs: trunk.codecs.clone(),
        from,
        stack,
    })
}

/// How long the calls in progress get to end (BYE and their files) when the
/// campaign stops on an error: a BYE transaction times out after 32 s.
const HANG_UP_GRACE: Duration = Duration::from_secs(40);

/// The running campaign: the scheduler's decisions carried out on real calls.
struct Runner {
    name: String,
    store: Store,
    sched: Scheduler,
    scripts: Scripts,
    stack: Arc<InterviewStack>,
    dialer: Arc<Dialer>,
    proxy: Option<SocketAddr>,
    opt_outs: PathBuf,
    wait_for_callbacks: bool,
    calls: JoinSet<Finished>,
    stop_tx: watch::Sender<bool>,
    stop_rx: watch::Receiver<bool>,
    progress: ProgressBar,
}

impl Runner {
    /// Dials, waits and records until nobody is left to call now (or Ctrl-C
    /// and the calls in progress have ended).
    async fn run(&mut self) -> Result<()> {
        let mut interrupted = false;
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        loop {
            if !interrupted {
                self.dial_due()?;
            }
            let callbacks_only =
                !self.wait_for_callbacks && self.sched.only_callbacks_left_later(Utc::now());
            if (self.sched.is_finished() || callbacks_only || interrupted) && self.calls.is_empty()
            {
                return Ok(());
            }
            let wake = self
                .sched
                .poll_timeout()
                .map(|t| (t - Utc::now()).to_std().unwrap_or(Duration::ZERO))
                .unwrap_or(Duration::from_secs(3600));
            tokio::select! {
                Some(done) = self.calls.join_next(), if !self.calls.is_empty() => {
                    let done = done.map_err(|e| anyhow::anyhow!("a call task panicked: {e}"))?;
                    self.finished(done)?;
                }
                _ = tokio::time::sleep(wake) => {}
                _ = &mut ctrl_c, if !interrupted => {
                    self.progress.println("interrupted: hanging up the calls in progress (run again to resume)");
                    interrupted = true;
                    let _ = self.stop_tx.send(true);
                }
            }
        }
    }

    /// Places every call the scheduler says is due now. The attempt is in the
    /// store before its INVITE leaves.
    fn dial_due(&mut self) -> Result<()> {
        while let Some(dial) = self.sched.poll_dial(Utc::now()) {
            let c = &dial.candidate;
            self.store
                .record_attempt_start(&self.name, &c.id, dial.attempt_no, Utc::now())?;
            self.progress
                .println(format!("dialling {} (attempt {})", c.id, dial.attempt_no));
            let target = match dial_target(&c.address, self.proxy) {
                Ok(t) => t,
                Err(e) => {
                    let outcome = AttemptOutcome::Failed {
                        reason: format!("{e:#}"),
                    };
                    let now = Utc::now();
                    self.store.record_attempt_end(
                        &self.name,
                        &c.id,
                        dial.attempt_no,
                        now,
                        &outcome,
                        None,
                    )?;
                    self.sched.handle_result(&c.id, outcome, now)?;
                    continue;
                }
            };
            let script = self
                .scripts
                .get(dial.script.as_path())
                .cloned()
                .context("the scheduler chose a script that was not loaded")?;
            let request = DialRequest {
                target,
                ring_timeout: dial
                    .ring_timeout
                    .to_std()
                    .unwrap_or(Duration::from_secs(30)),
                interview: InterviewParams {
                    script: script.clone(),
                    lang: c.language,
                    candidate_name: Some(c.name.clone()),
                    tz: c.timezone,
                    run_dir: dial.call_dir.clone(),
                },
            };
            let (dialer, stack, stop) = (
                self.dialer.clone(),
                self.stack.clone(),
                self.stop_rx.clone(),
            );
            let (candidate_id, attempt_no, address, name, lang) = (
                c.id.clone(),
                dial.attempt_no,
                c.address.clone(),
                c.name.clone(),
                c.language,
            );
            self.calls.spawn(async move {
                let record = async {
                    // The call's personalised lines ({name}) are made before it rings.
                    let s = stack.clone();
                    tokio::task::spawn_blocking(move || s.warm_for(&script, lang, Some(&name)))
                        .await??;
                    dialer.dial(request, stop).await
                }
                .await;
                Finished {
                    candidate_id,
                    attempt_no,
                    address,
                    record,
                }
            });
        }
        Ok(())
    }

    /// Records a finished call and tells the scheduler.
    fn finished(&mut self, done: Finished) -> Result<()> {
        let (outcome, report) = attempt_outcome(&done.record);
        let now = Utc::now();
        self.store.record_attempt_end(
            &self.name,
            &done.candidate_id,
            done.attempt_no,
            now,
            &outcome,
            report.as_deref(),
        )?;
        if matches!(outcome, AttemptOutcome::OptedOut) {
            if let Err(e) = self.store.add_do_not_call(done.address.as_str(), now) {
                tracing::warn!(error = %e, "cannot record the opt-out in the store");
            }
            voxhire_campaign::append_do_not_call(&self.opt_outs, done.address.as_str())
                .context("recording the opt-out")?;
        }
        self.progress
            .println(format!("{}: {}", done.candidate_id, describe(&outcome)));
        self.sched.handle_result(&done.candidate_id, outcome, now)?;
        self.progress
            .set_position(finished_count(&self.sched) as u64);
        Ok(())
    }

    /// Ends every call in progress (BYE, or CANCEL while ringing) and records
    /// what can be recorded, within [`HANG_UP_GRACE`].
    async fn hang_up_all(&mut self) {
        let _ = self.stop_tx.send(true);
        let deadline = tokio::time::Instant::now() + HANG_UP_GRACE;
        while !self.calls.is_empty() {
            match tokio::time::timeout_at(deadline, self.calls.join_next()).await {
                Ok(Some(Ok(done))) => {
                    let id = done.candidate_id.clone();
                    if let Err(e) = self.finished(done) {
                        tracing::warn!(candidate = %id, error = %format!("{e:#}"), "cannot record the ended call");
                    }
                }
                Ok(Some(Err(e))) => tracing::error!(error = %e, "a call task panicked"),
                Ok(None) => break,
                Err(_) => {
                    tracing::error!(calls = self.calls.len(), "calls did not end in time");
                    break;
                }
            }
        }
    }
}

/// The callbacks candidates asked for that this run did not make.
fn print_pending_callbacks(sched: &Scheduler) {
    let pending = sched.pending_callbacks();
    if pending.is_empty() {
        return;
    }
    for (id, at) in &pending {
        println!("callback pending: {id} at {at} (their local time)");
    }
    println!(
        "run the campaign again at or after those times to make them \
         (or keep it running with --wait-for-callbacks)"
    );
}

/// Candidates whose fate is settled (for the progress bar).
fn finished_count(sched: &Scheduler) -> usize {
    let s = sched.summary();
    s.rows
        .iter()
        .filter(|r| {
            !matches!(
                r.status,
                CandidateStatus::Pending
                    | CandidateStatus::InFlight
                    | CandidateStatus::OutsideWindow
            )
        })
        .count()
}

fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    if let Ok(style) =
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} candidates {msg}")
    {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.enable_steady_tick(Duration::from_millis(500));
    pb
}

/// A SIP URI as given, or a phone number through the trunk (`sip:<digits>@proxy`).
fn dial_target(address: &Address, proxy: Option<SocketAddr>) -> Result<Uri> {
    match address {
        Address::Sip(uri) => Uri::parse(uri).context("the candidate's SIP URI does not parse"),
        Address::Phone(number) => {
            let proxy =
                proxy.context("a phone number needs a trunk with a proxy to dial through")?;
            let digits = voxhire_campaign::normalise_number(number)
                .context("the candidate's phone number has no digits")?;
            Uri::parse(&format!("sip:{digits}@{proxy}")).context("building the trunk URI")
        }
    }
}

/// The scheduler's view of a finished call, and the report it left.
fn attempt_outcome(record: &Result<CallRecord>) -> (AttemptOutcome, Option<PathBuf>) {
    let record = match record {
        Ok(r) => r,
        Err(e) => {
            return (
                AttemptOutcome::Failed {
                    reason: format!("{e:#}"),
                },
                None,
            )
        }
    };
    match record.outcome {
        CallOutcome::Busy => return (AttemptOutcome::Busy, None),
        CallOutcome::NoAnswer => return (AttemptOutcome::NoAnswer, None),
        CallOutcome::Rejected => {
            let status = record.sip_status;
            return (AttemptOutcome::Rejected { status }, None);
        }
        CallOutcome::Failed => {
            let reason = format!("SIP {} {}", record.sip_status, record.reason)
                .trim()
                .to_string();
            return (AttemptOutcome::Failed { reason }, None);
        }
        CallOutcome::Cancelled | CallOutcome::Answered => {}
    }
    let Some(interview) = &record.interview else {
        return (
            AttemptOutcome::Failed {
                reason: "answered, but the interview did not run".into(),
            },
            None,
        );
    };
    let report = Some(interview.report_path.clone());
    (report_outcome(&interview.report), report)
}

/// Maps the dialog's report to the campaign's outcome.
fn report_outcome(report: &Report) -> AttemptOutcome {
    let score = Some(f64::from(report.score));
    match report.status {
        Status::Completed => AttemptOutcome::Completed {
            score,
            recommendation: report.recommendation.map(|r| r.name().to_string()),
        },
        Status::OptedOut => AttemptOutcome::OptedOut,
        Status::Rescheduled => match report.callback_at {
            Some(at) => AttemptOutcome::CallbackRequested { at },
            None => AttemptOutcome::Failed {
                reason: "rescheduled without a callback time".into(),
            },
        },
        Status::DeclinedConsent => AttemptOutcome::DeclinedConsent,
        Status::WrongPerson => AttemptOutcome::WrongPerson,
        Status::KnockedOut => AttemptOutcome::KnockedOut { score },
        Status::HungUp => AttemptOutcome::HungUp,
        // Answered, but no usable answer to the opening questions: try again later.
        Status::NoResponse | Status::InProgress | Status::NoAnswer => AttemptOutcome::Failed {
            reason: format!("interview ended as {}", report.status.name()),
        },
    }
}

fn describe(o: &AttemptOutcome) -> String {
    match o {
        AttemptOutcome::Completed {
            score: Some(s),
            recommendation,
        } => format!(
            "completed, score {s:.0}{}",
            recommendation
                .as_deref()
                .map(|r| format!(", {r}"))
                .unwrap_or_default()
        ),
        AttemptOutcome::CallbackRequested { at } => format!("callback requested for {at}"),
        AttemptOutcome::Failed { reason } => format!("failed: {reason}"),
        other => other.kind().replace('_', " "),
    }
}
