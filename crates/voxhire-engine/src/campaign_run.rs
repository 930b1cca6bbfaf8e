//! A campaign on real calls: the Sans-IO [`Scheduler`]'s decisions carried
//! out by the [`Dialer`], each attempt written down through an [`AttemptLog`]
//! before its INVITE leaves and again when it ends. The same runner serves
//! `voxhire campaign run` (its log is the campaign's SQLite file) and the back
//! office's server (its log is the server's store, the candidate's status and
//! the webhook outbox).

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::Utc;
use tokio::sync::watch;
use tokio::task::JoinSet;
use voxhire_campaign::{Address, AttemptOutcome, Candidate, Dial, Elsewhere, Scheduler};
use voxhire_dialog::report::{Report, Status};
use voxhire_dialog::InterviewScript;
use voxhire_sip::message::Uri;

use crate::interview::session::InterviewParams;
use crate::interview::InterviewStack;
use crate::interview_call::{CallOutcome, CallRecord, DialRequest, Dialer};
use crate::orphans::DialogKeeper;
use crate::voicemail::{AmdPolicy, OnMachine};

/// Scripts by path, as the scheduler names them.
pub type Scripts = HashMap<PathBuf, Arc<InterviewScript>>;

/// How long the calls in progress get to end (BYE and their files) when the
/// campaign stops on an error: a BYE transaction times out after 32 s.
const HANG_UP_GRACE: Duration = Duration::from_secs(40);

/// A finished attempt, as the log receives it.
pub struct Finished {
    pub candidate_id: String,
    pub attempt_no: u32,
    pub address: Address,
    /// The campaign's view of how it went.
    pub outcome: AttemptOutcome,
    /// The call's record (or why there is none).
    pub record: Result<CallRecord>,
}

impl Finished {
    /// The report the interview left, if it ran.
    pub fn report_path(&self) -> Option<&std::path::Path> {
        self.record
            .as_ref()
            .ok()
            .and_then(|r| r.interview.as_ref())
            .map(|i| i.report_path.as_path())
    }
}

/// Whether this node may place a call ([`AttemptLog::started`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The attempt is on record as this node's: dial.
    Granted,
    /// Another node sharing the store has the candidate (or has settled
    /// them): do not dial; the scheduler takes the store's view instead.
    Elsewhere(Elsewhere),
}

/// Where a campaign writes its attempts down. An error from either method
/// stops the campaign: its calls in progress are hung up first.
pub trait AttemptLog {
    /// Before the INVITE of `dial` leaves (the call's files will be in its
    /// `call_dir`). A log that several nodes share claims the attempt here,
    /// and may refuse it.
    fn started(&mut self, dial: &Dial) -> impl Future<Output = Result<Claim>> + Send;

    /// What keeps the attempt's dialog once it is answered, so that a later
    /// run can end the call if this one dies (see [`crate::orphans`]); `None`
    /// keeps nothing.
    fn dialog_keeper(&self, _candidate: &Candidate, _attempt_no: u32) -> Option<DialogKeeper> {
        None
    }

    /// When the attempt has ended.
    fn ended(&mut self, done: &Finished) -> impl Future<Output = Result<()>> + Send;

    /// A line for whoever watches (a progress bar, the log).
    fn notice(&self, line: &str) {
        tracing::info!("{line}");
    }

    /// The scheduler has taken a finished attempt into account (progress).
    fn settled(&mut self, _sched: &Scheduler) {}
}

/// What a campaign's controller asks of it, through a `watch` channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Control {
    /// Dial whoever is due.
    #[default]
    Run,
    /// Dial nobody new; the calls in progress finish their interviews, then
    /// [`CampaignRun::run`] returns. Back to `Run` before then carries on.
    Pause,
    /// Hang up the calls in progress now (BYE, or CANCEL while ringing), then
    /// return.
    Stop,
}

/// Why [`CampaignRun::run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Nobody is left to call (now, or ever when callbacks are not awaited).
    Done,
    /// Paused, and the calls in progress have finished.
    Paused,
    /// Stopped, and the calls in progress have been hung up.
    Stopped,
}

/// A running campaign. See the module documentation.
pub struct CampaignRun<L> {
    pub sched: Scheduler,
    pub log: L,
    scripts: Scripts,
    stack: Arc<InterviewStack>,
    dialer: Arc<Dialer>,
    wait_for_callbacks: bool,
    archive: crate::archive::Archive,
    calls: JoinSet<(String, u32, Address, Result<CallRecord>)>,
    stop_tx: watch::Sender<bool>,
    stop_rx: watch::Receiver<bool>,
}

impl<L: AttemptLog> CampaignRun<L> {
    pub fn new(
        sched: Scheduler,
        log: L,
        scripts: Scripts,
        dialer: Arc<Dialer>,
        wait_for_callbacks: bool,
    ) -> CampaignRun<L> {
        let (stop_tx, stop_rx) = watch::channel(false);
        CampaignRun {
            sched,
            log,
            scripts,
            stack: dialer.stack.clone(),
            dialer,
            wait_for_callbacks,
            archive: crate::archive::Archive::plain(),
            calls: JoinSet::new(),
            stop_tx,
            stop_rx,
        }
    }

    /// Writes the calls' files sealed (or in the clear, the default).
    pub fn with_archive(mut self, archive: crate::archive::Archive) -> Self {
        self.archive = archive;
        self
    }

    /// Dials, waits and records until nobody is left to call now, or
    /// `control` asks it to pause or stop and the calls in progress have ended
    /// (finished, or hung up with BYE or CANCEL). On an error, hangs up the
    /// calls in progress, records what it can, and returns the error.
    /// It may be run again after it has returned `Paused`.
    pub async fn run(&mut self, control: watch::Receiver<Control>) -> Result<Ended> {
        let result = self.run_inner(control).await;
        if let Err(e) = &result {
            self.log
                .notice(&format!("error: {e:#}; hanging up the calls in progress"));
            self.hang_up_all().await;
        }
        result
    }

    async fn run_inner(&mut self, mut control: watch::Receiver<Control>) -> Result<Ended> {
        let mut hung_up = false;
        loop {
            let mode = *control.borrow_and_update();
            if mode == Control::Stop && !hung_up {
                self.log
                    .notice("stopping: hanging up the calls in progress (run again to resume)");
                let _ = self.stop_tx.send(true);
                hung_up = true;
            }
            if mode == Control::Run {
                self.dial_due().await?;
            }
            let callbacks_only =
                !self.wait_for_callbacks && self.sched.only_callbacks_left_later(Utc::now());
            let done_dialling = self.sched.is_finished() || callbacks_only || mode != Control::Run;
            if done_dialling && self.calls.is_empty() {
                return Ok(match mode {
                    Control::Run => Ended::Done,
                    Control::Pause => Ended::Paused,
                    Control::Stop => Ended::Stopped,
                });
            }
            let wake = self
                .sched
                .poll_timeout()
                .map(|t| (t - Utc::now()).to_std().unwrap_or(Duration::ZERO))
                .unwrap_or(Duration::from_secs(3600));
            tokio::select! {
                Some(done) = self.calls.join_next(), if !self.calls.is_empty() => {
                    let done = done.map_err(|e| anyhow::anyhow!("a call task panicked: {e}"))?;
                    self.finished(done).await?;
                }
                _ = tokio::time::sleep(wake) => {}
                changed = control.changed(), if !hung_up => {
                    if changed.is_err() {
                        // The controller is gone: nobody can resume us.
                        let _ = self.stop_tx.send(true);
                        hung_up = true;
                    } else if *control.borrow() == Control::Pause {
                        self.log.notice("pausing: no new calls; the calls in progress finish");
                    }
                }
            }
        }
    }

    /// Places every call the scheduler says is due now. The attempt is
    /// logged before its INVITE leaves.
    async fn dial_due(&mut self) -> Result<()> {
        while let Some(dial) = self.sched.poll_dial(Utc::now()) {
            let c = &dial.candidate;
            if let Claim::Elsewhere(elsewhere) = self.log.started(&dial).await? {
                tracing::debug!(candidate = %c.id, attempt = dial.attempt_no, ?elsewhere.busy_until, "another node has the candidate");
                self.sched.handle_elsewhere(&c.id, &elsewhere, Utc::now())?;
                continue;
            }
            self.log
                .notice(&format!("dialling {} (attempt {})", c.id, dial.attempt_no));
            let target = match dial_target(&c.address, self.dialer.line.proxy) {
                Ok(t) => t,
                Err(e) => {
                    let done = Finished {
                        candidate_id: c.id.clone(),
                        attempt_no: dial.attempt_no,
                        address: c.address.clone(),
                        outcome: AttemptOutcome::Failed {
                            reason: format!("{e:#}"),
                        },
                        record: Err(e),
                    };
                    self.log.ended(&done).await?;
                    self.sched
                        .handle_result(&done.candidate_id, done.outcome, Utc::now())?;
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
                    archive: self.archive.clone(),
                },
                keep_dialog: self.log.dialog_keeper(c, dial.attempt_no),
                amd: self
                    .sched
                    .config()
                    .answering_machine
                    .as_ref()
                    .map(amd_policy),
            };
            let (dialer, stack, stop) = (
                self.dialer.clone(),
                self.stack.clone(),
                self.stop_rx.clone(),
            );
            let (id, attempt_no, address, name, lang) = (
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
                (id, attempt_no, address, record)
            });
        }
        Ok(())
    }

    /// Logs a finished call and tells the scheduler.
    async fn finished(
        &mut self,
        (candidate_id, attempt_no, address, record): (String, u32, Address, Result<CallRecord>),
    ) -> Result<()> {
        let done = Finished {
            outcome: attempt_outcome(&record),
            candidate_id,
            attempt_no,
            address,
            record,
        };
        self.log.ended(&done).await?;
        self.log.notice(&format!(
            "{}: {}",
            done.candidate_id,
            describe(&done.outcome)
        ));
        self.sched
            .handle_result(&done.candidate_id, done.outcome, Utc::now())?;
        self.log.settled(&self.sched);
        Ok(())
    }

    /// Ends every call in progress (BYE, or CANCEL while ringing) and logs
    /// what can be logged, within [`HANG_UP_GRACE`].
    async fn hang_up_all(&mut self) {
        let _ = self.stop_tx.send(true);
        let deadline = tokio::time::Instant::now() + HANG_UP_GRACE;
        while !self.calls.is_empty() {
            match tokio::time::timeout_at(deadline, self.calls.join_next()).await {
                Ok(Some(Ok(done))) => {
                    let id = done.0.clone();
                    if let Err(e) = self.finished(done).await {
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

/// A SIP URI as given, or a phone number through the trunk (`sip:<digits>@proxy`).
pub fn dial_target(address: &Address, proxy: Option<SocketAddr>) -> Result<Uri> {
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

/// The engine's detection policy from the campaign's `[answering_machine]`.
pub fn amd_policy(a: &voxhire_campaign::AnsweringMachine) -> AmdPolicy {
    AmdPolicy {
        config: voxhire_speech::amd::AmdConfig::default(),
        on_machine: match a.on_machine {
            voxhire_campaign::MachineAction::HangUp => OnMachine::HangUp,
            voxhire_campaign::MachineAction::LeaveMessage => OnMachine::LeaveMessage,
        },
        message: a.message.clone(),
    }
}

/// The campaign's view of a finished call.
pub fn attempt_outcome(record: &Result<CallRecord>) -> AttemptOutcome {
    let record = match record {
        Ok(r) => r,
        Err(e) => {
            return AttemptOutcome::Failed {
                reason: format!("{e:#}"),
            }
        }
    };
    match record.outcome {
        CallOutcome::Busy => return AttemptOutcome::Busy,
        CallOutcome::NoAnswer => return AttemptOutcome::NoAnswer,
        CallOutcome::Voicemail => return AttemptOutcome::Voicemail,
        CallOutcome::Rejected => {
            return AttemptOutcome::Rejected {
                status: record.sip_status,
            }
        }
        CallOutcome::Failed => {
            let reason = format!("SIP {} {}", record.sip_status, record.reason)
                .trim()
                .to_string();
            return AttemptOutcome::Failed { reason };
        }
        CallOutcome::Cancelled | CallOutcome::Answered => {}
    }
    match &record.interview {
        Some(interview) => report_outcome(&interview.report),
        None => AttemptOutcome::Failed {
            reason: "answered, but the interview did not run".into(),
        },
    }
}

/// Maps the dialog's report to the campaign's outcome.
pub fn report_outcome(report: &Report) -> AttemptOutcome {
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

/// A short human description of an attempt's outcome.
pub fn describe(o: &AttemptOutcome) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_number_goes_through_the_trunk_and_needs_one() {
        let proxy: SocketAddr = "192.0.2.1:5060".parse().unwrap();
        let phone = Address::Phone("+86 138-0000-0000".into());
        assert_eq!(
            dial_target(&phone, Some(proxy)).unwrap().to_string(),
            "sip:+8613800000000@192.0.2.1:5060"
        );
        let e = dial_target(&phone, None).unwrap_err();
        assert!(e.to_string().contains("needs a trunk"), "{e}");
        let sip = Address::Sip("sip:alice@127.0.0.1:5090".into());
        assert_eq!(
            dial_target(&sip, None).unwrap().to_string(),
            "sip:alice@127.0.0.1:5090"
        );
    }

    #[test]
    fn call_outcomes_become_attempt_outcomes() {
        let record = |outcome, sip_status| CallRecord {
            call_id: "c".into(),
            outcome,
            sip_status,
            reason: String::new(),
            duration_ms: 0,
            interview: None,
            voicemail: None,
            media: None,
            run_dir: PathBuf::new(),
        };
        assert_eq!(
            attempt_outcome(&Ok(record(CallOutcome::Busy, 486))),
            AttemptOutcome::Busy
        );
        assert_eq!(
            attempt_outcome(&Ok(record(CallOutcome::Rejected, 603))),
            AttemptOutcome::Rejected { status: 603 }
        );
        assert_eq!(
            attempt_outcome(&Ok(record(CallOutcome::NoAnswer, 487))),
            AttemptOutcome::NoAnswer
        );
        assert_eq!(
            attempt_outcome(&Ok(record(CallOutcome::Voicemail, 200))),
            AttemptOutcome::Voicemail
        );
        assert!(matches!(
            attempt_outcome(&Ok(record(CallOutcome::Answered, 200))),
            AttemptOutcome::Failed { .. }
        ));
        assert!(matches!(
            attempt_outcome(&Err(anyhow::anyhow!("no RTP ports"))),
            AttemptOutcome::Failed { reason } if reason == "no RTP ports"
        ));
    }
}
