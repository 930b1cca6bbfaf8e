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
use voxhire_campaign::{
    AttemptOutcome, CampaignConfig, Candidate, CandidateStatus, Dial, DoNotCallList, Scheduler,
    Store,
};
use voxhire_dialog::InterviewScript;
use voxhire_nlu::Lang;
use voxhire_sip::message::NameAddr;

use voxhire_engine::archive::Archive;
use voxhire_engine::call_router::CallRouter;
use voxhire_engine::campaign_run::{AttemptLog, CampaignRun, Claim, Control, Finished, Scripts};
use voxhire_engine::interview::InterviewStack;
use voxhire_engine::interview_call::{Dialer, Outbound};
use voxhire_engine::orphans::{self, DialogKeeper, OrphanEnd};
use voxhire_engine::redact::Redacted;
use voxhire_engine::rtp_ports::RtpPorts;
use voxhire_engine::sip_endpoint;
use voxhire_engine::trunk::Trunk;
use voxhire_sip::dialog::DialogState;

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
    /// Seal every call's recording, transcript, report and events under
    /// these master keys (default: VOXHIRE_MASTER_KEYS if set).
    #[command(flatten)]
    keys: super::security::KeyArgs,
}

pub async fn run(cmd: CampaignCommand) -> Result<()> {
    match cmd {
        CampaignCommand::Run(args) => run_campaign(args).await,
    }
}

/// Sets up and runs one campaign from its file and the flags.
///
/// (Long on purpose: the set-up steps in the order a user reads them in the
/// error messages, each one call; the running is the engine's `CampaignRun`.)
async fn run_campaign(args: RunArgs) -> Result<()> {
    let archive = args.keys.archive()?;
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
        Some(p) => Trunk::load_located(p).await?,
        None => Trunk::default(),
    };
    let (scripts, needed) = load_scripts(&config, &candidates)?;
    std::fs::create_dir_all(&config.out_dir)
        .with_context(|| format!("creating {}", config.out_dir.display()))?;
    let store = Store::open(&config.store_path())?;
    let orphans = close_interrupted(&store, &config, &archive)?;
    let ports = Arc::new(RtpPorts::parse(&args.rtp_ports).context("--rtp-ports")?);
    // The calls the last run left up are ended before anyone is dialled (or
    // the retry would find the candidate's phone still in the dead call).
    let mut line = None;
    if !orphans.is_empty() {
        let l = Arc::new(open_line(&args, &trunk, ports.clone()).await?);
        end_orphaned_calls(&l, orphans).await;
        line = Some(l);
    }
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
    let line = match line {
        Some(l) => l,
        None => Arc::new(open_line(&args, &trunk, ports).await?),
    };
    let dialer = Arc::new(Dialer { line, stack });
    let log = CliLog {
        name,
        keys: archive.keys().cloned(),
        store,
        opt_outs,
        progress: progress_bar(total as u64, args.quiet),
    };
    let mut run =
        CampaignRun::new(sched, log, scripts, dialer, wait_for_callbacks).with_archive(archive);
    let (control_tx, control_rx) = watch::channel(Control::Run);
    // Ctrl-C or SIGTERM (a service manager stopping us): hang up and record.
    let stop = super::shutdown_signal();
    tokio::spawn(async move {
        stop.await;
        let _ = control_tx.send(Control::Stop);
        // Keep the sender: a dropped controller also stops the campaign.
        std::future::pending::<()>().await;
    });
    let result = run.run(control_rx).await;
    run.log.progress.finish_and_clear();
    result?;
    let summary = run.sched.summary();
    let path = voxhire_campaign::write_summary(&out_dir, &summary)?;
    println!("{}", summary.render_table());
    println!("summary: {}", path.display());
    print_pending_callbacks(&run.sched);
    Ok(())
}

/// The CLI's record of a campaign: its SQLite store, the opt-out list and
/// the progress bar.
struct CliLog {
    name: String,
    /// Seal what the store keeps of a call's dialog (when the run seals).
    keys: Option<Arc<voxhire_vault::Keyring>>,
    store: Store,
    opt_outs: PathBuf,
    progress: ProgressBar,
}

impl AttemptLog for CliLog {
    async fn started(&mut self, dial: &Dial) -> Result<Claim> {
        // The campaign file's store has one user: this process (it is locked).
        self.store.record_attempt_start(
            &self.name,
            &dial.candidate.id,
            dial.attempt_no,
            Utc::now(),
        )?;
        Ok(Claim::Granted)
    }

    fn dialog_keeper(&self, candidate: &Candidate, attempt_no: u32) -> Option<DialogKeeper> {
        let writer = self
            .store
            .dialog_writer(&self.name, &candidate.id, attempt_no);
        let label = dialog_label(&self.name, &candidate.id, attempt_no);
        let keys = self.keys.clone();
        Some(Box::new(move |state| {
            Box::pin(async move {
                let bytes = orphans::seal_state(keys.as_deref(), &label, &state);
                tokio::task::spawn_blocking(move || writer.keep(&bytes)).await??;
                Ok(())
            })
        }))
    }

    async fn ended(&mut self, done: &Finished) -> Result<()> {
        let now = Utc::now();
        self.store.record_attempt_end(
            &self.name,
            &done.candidate_id,
            done.attempt_no,
            now,
            &done.outcome,
            done.report_path(),
        )?;
        if matches!(done.outcome, AttemptOutcome::OptedOut) {
            if let Err(e) = self.store.add_do_not_call(done.address.as_str(), now) {
                tracing::warn!(error = %e, "cannot record the opt-out in the store");
            }
            voxhire_campaign::append_do_not_call(&self.opt_outs, done.address.as_str())
                .context("recording the opt-out")?;
        }
        Ok(())
    }

    fn notice(&self, line: &str) {
        self.progress.println(line);
    }

    fn settled(&mut self, sched: &Scheduler) {
        self.progress.set_position(finished_count(sched) as u64);
    }
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
/// The SIP side of the run's calls, through the trunk.
async fn open_line(args: &RunArgs, trunk: &Trunk, ports: Arc<RtpPorts>) -> Result<Outbound> {
    let toward = trunk
        .proxy
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 5060)));
    let opened = sip_endpoint::open_with(args.sip, toward, trunk.sip_options()?).await?;
    let local = opened.local;
    let from = match &trunk.from {
        Some(uri) => NameAddr::new(uri.clone()),
        None => NameAddr::parse(&format!("<sip:voxhire@{local}>")).context("building From")?,
    };
    let (router, _other) = CallRouter::spawn(opened.events);
    Ok(Outbound {
        sip: opened.sip,
        router,
        ports,
        local_ip: local.ip(),
        proxy: trunk.proxy,
        route: trunk.route.clone(),
        codecs: trunk.codecs.clone(),
        srtp: trunk.srtp,
        from,
    })
}

/// BYE for each call a killed run left up; says on stderr how each went.
async fn end_orphaned_calls(line: &Outbound, orphans: Vec<(String, DialogState)>) {
    let (who, dialogs): (Vec<String>, Vec<DialogState>) = orphans.into_iter().unzip();
    for (who, (call_id, how)) in who.iter().zip(orphans::end_orphans(line, dialogs).await) {
        let how = match how {
            OrphanEnd::Ended => "ended with BYE",
            OrphanEnd::Unreadable => "its kept dialog is unreadable; left to time out",
            OrphanEnd::NoAnswer => "BYE sent, no answer",
        };
        eprintln!(
            "{who}: call {} left up by the last run: {how}",
            Redacted(&call_id)
        );
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

/// Attempts a killed run left open (started, never ended): closed as
/// interrupted, with the recording and event log they were writing repaired
/// and kept, before the scheduler decides on retries.
/// What binds a kept dialog to its attempt when sealed.
fn dialog_label(campaign: &str, candidate: &str, attempt_no: u32) -> String {
    format!("{campaign}:{candidate}:{attempt_no}:dialog")
}

fn close_interrupted(
    store: &Store,
    config: &CampaignConfig,
    archive: &Archive,
) -> Result<Vec<(String, DialogState)>> {
    let mut orphans = Vec::new();
    for a in store
        .attempts(&config.name)?
        .iter()
        .filter(|a| a.ended_at.is_none())
    {
        if let Some(bytes) = store.dialog(&config.name, &a.candidate_id, a.attempt_no)? {
            let label = dialog_label(&config.name, &a.candidate_id, a.attempt_no);
            match orphans::open_state(archive.keys().map(|k| &**k), &label, &bytes) {
                Ok(state) => orphans.push((a.candidate_id.clone(), state)),
                Err(e) => eprintln!(
                    "attempt {} of {}: {e:#}; its call is left to time out",
                    a.attempt_no, a.candidate_id
                ),
            }
        }
        let dir = config.attempt_dir(&a.candidate_id, a.attempt_no);
        let repaired = voxhire_engine::archive::repair_partials(&dir, archive.keys())?;
        store.record_attempt_end(
            &config.name,
            &a.candidate_id,
            a.attempt_no,
            Utc::now(),
            &AttemptOutcome::interrupted(),
            None,
        )?;
        eprintln!(
            "attempt {} of {} was cut off by the last run; closed as interrupted (kept: {})",
            a.attempt_no,
            a.candidate_id,
            if repaired.is_empty() {
                "nothing".to_owned()
            } else {
                repaired.join(", ")
            }
        );
    }
    Ok(orphans)
}
