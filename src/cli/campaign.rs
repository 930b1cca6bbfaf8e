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
    // A configured list that is missing is an error, not an empty list: a typo
    // in its path must not quietly call people who asked not to be called.
    let mut dnc = match &config.do_not_call {
        Some(p) => DoNotCallList::load(p)?,
        None => DoNotCallList::new(),
    };
    // Opt-outs heard on earlier calls (this campaign's or another's) are never
    // called either; the list the recruiter gave is only read.
    if config.opt_outs.exists() {
        dnc.merge(DoNotCallList::load(&config.opt_outs)?);
    }
    let trunk = match &config.trunk {
        Some(p) => Trunk::load(p)?,
        None => Trunk::default(),
    };
    // Every script the list needs, loaded and validated before anyone is called.
    let mut scripts: HashMap<PathBuf, Arc<InterviewScript>> = HashMap::new();
    let mut needed: Vec<(Arc<InterviewScript>, Lang)> = Vec::new();
    for c in &candidates {
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
    std::fs::create_dir_all(&config.out_dir)
        .with_context(|| format!("creating {}", config.out_dir.display()))?;
    let store = Store::open(&config.store_path())?;
    let prior = store.attempts(&config.name)?;
    let name = config.name.clone();
    let out_dir = config.out_dir.clone();
    let opt_outs = config.opt_outs.clone();
    let max_concurrent = config.max_concurrent_calls;
    let total = candidates.len();
    let mut sched = Scheduler::new(config, candidates, dnc, &prior, Utc::now())?;
    let wait_for_callbacks = args.wait_for_callbacks;
    let callbacks_only =
        |s: &Scheduler| !wait_for_callbacks && s.only_callbacks_left_later(Utc::now());
    if sched.is_finished() || callbacks_only(&sched) {
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
    let toward = trunk
        .proxy
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 5060)));
    let opened = sip_endpoint::open(args.sip, toward, trunk.credentials.clone()).await?;
    let (local, local_ip) = (opened.local, opened.local.ip());
    let from = match &trunk.from {
        Some(uri) => NameAddr::new(uri.clone()),
        None => NameAddr::parse(&format!("<sip:voxhire@{local}>")).context("building From")?,
    };
    let (router, _other) = CallRouter::spawn(opened.events);
    let dialer = Arc::new(Dialer {
        sip: opened.sip,
        router,
        ports,
        local_ip,
        proxy: trunk.proxy,
        codecs: trunk.codecs.clone(),
        from,
        stack: stack.clone(),
    });

    let progress = progress_bar(total as u64, args.quiet);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut calls: JoinSet<Finished> = JoinSet::new();
    let mut interrupted = false;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        while !interrupted {
            let Some(dial) = sched.poll_dial(Utc::now()) else {
                break;
            };
            let c = &dial.candidate;
            store.record_attempt_start(&name, &c.id, dial.attempt_no, Utc::now())?;
            progress.println(format!("dialling {} (attempt {})", c.id, dial.attempt_no));
            let target = match dial_target(&c.address, trunk.proxy) {
                Ok(t) => t,
                Err(e) => {
                    let outcome = AttemptOutcome::Failed {
                        reason: format!("{e:#}"),
                    };
                    store.record_attempt_end(
                        &name,
                        &c.id,
                        dial.attempt_no,
                        Utc::now(),
                        &outcome,
                        None,
                    )?;
                    sched.handle_result(&c.id, outcome, Utc::now())?;
                    continue;
                }
            };
            let lang = c.language;
            let script = scripts
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
                    lang,
                    candidate_name: Some(c.name.clone()),
                    tz: c.timezone,
                    run_dir: dial.call_dir.clone(),
                },
            };
            let (dialer, stack, stop) = (dialer.clone(), stack.clone(), stop_rx.clone());
            let (candidate_id, attempt_no, address, name_) = (
                c.id.clone(),
                dial.attempt_no,
                c.address.clone(),
                c.name.clone(),
            );
            calls.spawn(async move {
                let record = async {
                    // The call's personalised lines ({name}) are made before it rings.
                    let s = stack.clone();
                    tokio::task::spawn_blocking(move || s.warm_for(&script, lang, Some(&name_)))
                        .await??;
                    let record = dialer.dial(request, stop).await?;
                    Ok(record)
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
        if (sched.is_finished() || callbacks_only(&sched)) && calls.is_empty() {
            break;
        }
        if interrupted && calls.is_empty() {
            break;
        }
        let wake = sched
            .poll_timeout()
            .map(|t| (t - Utc::now()).to_std().unwrap_or(Duration::ZERO))
            .unwrap_or(Duration::from_secs(3600));
        tokio::select! {
            Some(done) = calls.join_next(), if !calls.is_empty() => {
                let done = match done {
                    Ok(d) => d,
                    Err(e) => bail!("a call task panicked: {e}"),
                };
                let (outcome, report) = attempt_outcome(&done.record);
                let now = Utc::now();
                store.record_attempt_end(&name, &done.candidate_id, done.attempt_no, now, &outcome, report.as_deref())?;
                if matches!(outcome, AttemptOutcome::OptedOut) {
                    if let Err(e) = store.add_do_not_call(done.address.as_str(), now) {
                        tracing::warn!(error = %e, "cannot record the opt-out in the store");
                    }
                    voxhire_campaign::append_do_not_call(&opt_outs, done.address.as_str())?;
                }
                progress.println(format!("{}: {}", done.candidate_id, describe(&outcome)));
                sched.handle_result(&done.candidate_id, outcome, now)?;
                progress.set_position(finished_count(&sched) as u64);
            }
            _ = tokio::time::sleep(wake) => {}
            _ = &mut ctrl_c, if !interrupted => {
                progress.println("interrupted: hanging up the calls in progress (run again to resume)");
                interrupted = true;
                let _ = stop_tx.send(true);
            }
        }
    }
    progress.finish_and_clear();
    let summary = sched.summary();
    let path = voxhire_campaign::write_summary(&out_dir, &summary)?;
    println!("{}", summary.render_table());
    println!("summary: {}", path.display());
    print_pending_callbacks(&sched);
    Ok(())
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
