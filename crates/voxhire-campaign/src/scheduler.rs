//! Who to dial next, and when — a Sans-IO state machine.
//!
//! The caller passes `now` in; the scheduler never reads a clock, never
//! dials and never writes. It decides under five constraints: at most
//! `max_concurrent_calls` calls in flight, a minimum gap between call starts
//! (pacing), each candidate's calling window in their own time zone, the
//! retry backoff after busy / no answer / failure, and the do-not-call list.
//!
//! A rerun of the same campaign is built from the store's records (`prior`):
//! anyone who was reached and gave a final answer (completed, opted out,
//! asked for a callback, declined …) is never dialled again; an attempt that
//! started and never ended (the process died mid-call) counts as a failure,
//! so it is retried only while retries remain.
//!
//! A candidate who asks to be called back at a time is dialled again at that
//! time, their local time, within the calling window (at most
//! [`MAX_CALLBACKS`] times): the request is not final.

use std::path::PathBuf;

use chrono::{DateTime, TimeDelta, Utc};

use crate::candidates::Candidate;
use crate::config::CampaignConfig;
use crate::dnc::DoNotCallList;
use crate::error::CampaignError;
use crate::outcome::{AttemptOutcome, AttemptRecord};

/// Callback requests honoured per candidate; a further one is final.
pub const MAX_CALLBACKS: u32 = 2;

/// A call to place now. Record it in the store *before* sending the INVITE.
#[derive(Debug, Clone, PartialEq)]
pub struct Dial {
    pub candidate: Candidate,
    /// 1 for the first call to this candidate.
    pub attempt_no: u32,
    /// The interview script for the candidate's language.
    pub script: PathBuf,
    /// Where this attempt's transcript, report, events and recording go
    /// (`<out_dir>/<candidate>/<attempt>`).
    pub call_dir: PathBuf,
    pub ring_timeout: TimeDelta,
    /// The candidate's ended attempts this scheduler knows of. A store that
    /// several nodes share may know more (another node's, or one a dead
    /// node left): then the dial is refused and the scheduler catches up
    /// ([`Scheduler::handle_elsewhere`]) before its retry rules decide.
    pub known_attempts: u32,
}

/// A candidate another node sharing the campaign's store has, or has had:
/// what that store says of them when this node's claim was refused.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Elsewhere {
    /// Their ended attempts, from every node.
    pub attempts: Vec<AttemptRecord>,
    /// Attempts started so far, ended or not (the next one is this + 1).
    pub attempts_made: u32,
    /// Until when another node holds them (on a call, or about to be).
    pub busy_until: Option<DateTime<Utc>>,
    /// They are not to be called again (settled, erased, opted out).
    pub closed: bool,
}

/// Where a candidate stands.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum State {
    /// May be dialled once `not_before` (if any) has passed and the window is open.
    Waiting {
        not_before: Option<DateTime<Utc>>,
    },
    InFlight {
        attempt_no: u32,
    },
    /// Never dialled: on the do-not-call list.
    SkippedDnc,
    /// Reached and settled, or out of retries; `last` is the final outcome.
    Done {
        last: AttemptOutcome,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) candidate: Candidate,
    pub(crate) state: State,
    /// Attempts made so far, including earlier runs.
    pub(crate) attempts: u32,
    /// Highest attempt number used so far (earlier runs included).
    pub(crate) last_attempt_no: u32,
    pub(crate) answered: bool,
    pub(crate) report_path: Option<PathBuf>,
    pub(crate) last_outcome: Option<AttemptOutcome>,
    /// Callback requests honoured so far (earlier runs included).
    pub(crate) callbacks: u32,
}

#[derive(Debug)]
pub struct Scheduler {
    pub(crate) config: CampaignConfig,
    pub(crate) entries: Vec<Entry>,
    in_flight: usize,
    last_dial_at: Option<DateTime<Utc>>,
    /// `last_dial_at` before the latest dial, restored when that dial is
    /// given up ([`Scheduler::handle_elsewhere`]): no call left, no gap owed.
    dial_before: Option<DateTime<Utc>>,
    /// The latest `now` seen: `poll_timeout` and `summary` take no clock.
    pub(crate) now: DateTime<Utc>,
}

impl Scheduler {
    /// Builds the schedule. Fails when a candidate's language has no script
    /// in `[scripts]` (naming the CSV line), before anyone is called.
    pub fn new(
        config: CampaignConfig,
        candidates: Vec<Candidate>,
        dnc: DoNotCallList,
        prior: &[AttemptRecord],
        now: DateTime<Utc>,
    ) -> Result<Scheduler, CampaignError> {
        for c in &candidates {
            if config.script_for(c.language).is_none() {
                return Err(CampaignError::Candidates {
                    file: config.candidates.clone(),
                    line: c.line,
                    message: format!(
                        "candidate {:?} speaks {} but {} has no [scripts] entry for it",
                        c.id,
                        c.language,
                        config.file.display()
                    ),
                });
            }
        }
        let mut s = Scheduler {
            entries: candidates.into_iter().map(Entry::fresh).collect(),
            config,
            in_flight: 0,
            last_dial_at: None,
            dial_before: None,
            now,
        };
        s.replay(prior);
        for e in &mut s.entries {
            if matches!(e.state, State::Waiting { .. }) && dnc.contains(&e.candidate.address) {
                e.state = State::SkippedDnc;
            }
        }
        Ok(s)
    }

    // ---- getters ----

    pub fn config(&self) -> &CampaignConfig {
        &self.config
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// True when nobody is waiting to be dialled and no call is in flight.
    pub fn is_finished(&self) -> bool {
        self.entries
            .iter()
            .all(|e| matches!(e.state, State::SkippedDnc | State::Done { .. }))
    }

    /// True when nothing is left to do except callbacks that candidates asked
    /// for and that are not due at `now` (the CLI may stop there and be run
    /// again later).
    pub fn only_callbacks_left_later(&self, now: DateTime<Utc>) -> bool {
        let window = &self.config.calling_window;
        self.entries.iter().all(|e| match e.state {
            State::SkippedDnc | State::Done { .. } => true,
            State::Waiting { not_before } => {
                e.awaits_callback()
                    && !(not_before.is_none_or(|t| t <= now)
                        && window.is_open(now, e.candidate.timezone))
            }
            State::InFlight { .. } => false,
        })
    }

    /// The callbacks still to make: candidate id and the local time asked for.
    pub fn pending_callbacks(&self) -> Vec<(String, chrono::NaiveDateTime)> {
        self.entries
            .iter()
            .filter(|e| matches!(e.state, State::Waiting { .. }))
            .filter_map(|e| match e.last_outcome {
                Some(AttemptOutcome::CallbackRequested { at }) => {
                    Some((e.candidate.id.clone(), at))
                }
                _ => None,
            })
            .collect()
    }

    /// The report path the call engine writes for one attempt.
    pub fn report_path_for(&self, candidate_id: &str, attempt_no: u32) -> PathBuf {
        self.config
            .attempt_dir(candidate_id, attempt_no)
            .join("report.json")
    }

    // ---- poll ----

    /// The next call to place at `now`, if any. Call repeatedly until `None`,
    /// then wait until [`Scheduler::poll_timeout`] or a call result.
    #[must_use]
    pub fn poll_dial(&mut self, now: DateTime<Utc>) -> Option<Dial> {
        self.now = self.now.max(now);
        if self.in_flight >= self.config.max_concurrent_calls {
            return None;
        }
        if self.pacing_end().is_some_and(|t| now < t) {
            return None;
        }
        let window = &self.config.calling_window;
        let i = self.entries.iter().position(|e| match e.state {
            State::Waiting { not_before } => {
                not_before.is_none_or(|t| t <= now) && window.is_open(now, e.candidate.timezone)
            }
            _ => false,
        })?;
        let e = &mut self.entries[i];
        e.attempts += 1;
        e.last_attempt_no += 1;
        e.state = State::InFlight {
            attempt_no: e.last_attempt_no,
        };
        self.in_flight += 1;
        self.dial_before = self.last_dial_at;
        self.last_dial_at = Some(now);
        let candidate = e.candidate.clone();
        let attempt_no = e.last_attempt_no;
        let known_attempts = e.attempts - 1;
        let script = self
            .config
            .script_for(candidate.language)
            .map(PathBuf::from)
            .unwrap_or_default(); // checked in `new`
        Some(Dial {
            call_dir: self.config.attempt_dir(&candidate.id, attempt_no),
            candidate,
            attempt_no,
            script,
            ring_timeout: self.config.ring_timeout,
            known_attempts,
        })
    }

    /// The next instant at which `poll_dial` may return a call without any
    /// call result arriving first: the end of the pacing gap, a retry's
    /// backoff, a calling window opening. `None` when finished or when only a
    /// call result can unblock (all lines busy).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<DateTime<Utc>> {
        if self.in_flight >= self.config.max_concurrent_calls {
            return None;
        }
        let floor = match self.pacing_end() {
            Some(p) => p.max(self.now),
            None => self.now,
        };
        self.entries
            .iter()
            .filter_map(|e| match e.state {
                State::Waiting { not_before } => {
                    let from = not_before.map_or(floor, |t| t.max(floor));
                    self.config
                        .calling_window
                        .next_open(from, e.candidate.timezone)
                }
                _ => None,
            })
            .min()
    }

    // ---- handle ----

    /// The call engine reports how an attempt ended. Busy, no answer and
    /// failure are retried after the backoff while attempts remain (and the
    /// config lists them in `retry.on`); every other outcome is final.
    pub fn handle_result(
        &mut self,
        candidate_id: &str,
        outcome: AttemptOutcome,
        now: DateTime<Utc>,
    ) -> Result<(), CampaignError> {
        self.now = self.now.max(now);
        let i = self.take_in_flight(candidate_id)?;
        if let State::InFlight { attempt_no } = self.entries[i].state {
            if matches!(
                outcome,
                AttemptOutcome::Completed { .. } | AttemptOutcome::KnockedOut { .. }
            ) {
                self.entries[i].report_path = Some(self.report_path_for(candidate_id, attempt_no));
            }
        }
        self.settle(i, outcome, now);
        Ok(())
    }

    /// The dial [`Scheduler::poll_dial`] just returned for `candidate_id` did
    /// not happen: another node sharing the campaign's store has the
    /// candidate. `elsewhere` is the store's view of them; the entry is
    /// rebuilt from it as [`Scheduler::new`] builds it from `prior`, and waits
    /// out the other node's claim.
    pub fn handle_elsewhere(
        &mut self,
        candidate_id: &str,
        elsewhere: &Elsewhere,
        now: DateTime<Utc>,
    ) -> Result<(), CampaignError> {
        self.now = self.now.max(now);
        let i = self.take_in_flight(candidate_id)?;
        self.last_dial_at = self.dial_before;
        let e = &mut self.entries[i];
        *e = Entry::fresh(e.candidate.clone());
        let records: Vec<AttemptRecord> = elsewhere
            .attempts
            .iter()
            .filter(|r| r.candidate_id == candidate_id)
            .cloned()
            .collect();
        self.replay(&records);
        let e = &mut self.entries[i];
        e.last_attempt_no = e.last_attempt_no.max(elsewhere.attempts_made);
        if let State::Waiting { not_before } = e.state {
            e.state = if elsewhere.closed {
                State::Done {
                    last: e.last_outcome.clone().unwrap_or(AttemptOutcome::Failed {
                        reason: "no longer to be called (changed outside this campaign)".to_owned(),
                    }),
                }
            } else {
                // While the other node holds the candidate, look again when
                // its claim would lapse; never sooner than a second from now.
                let recheck = elsewhere
                    .busy_until
                    .unwrap_or(now)
                    .max(now + TimeDelta::seconds(1));
                State::Waiting {
                    not_before: Some(not_before.map_or(recheck, |t| t.max(recheck))),
                }
            };
        }
        Ok(())
    }

    // ---- internals ----

    /// The entry of `candidate_id`'s call in flight, no longer counted as in
    /// flight; an error if there is no such call.
    fn take_in_flight(&mut self, candidate_id: &str) -> Result<usize, CampaignError> {
        let i = self
            .index_of(candidate_id)
            .filter(|&i| matches!(self.entries[i].state, State::InFlight { .. }))
            .ok_or_else(|| CampaignError::NotInFlight {
                candidate_id: candidate_id.to_owned(),
            })?;
        self.in_flight -= 1;
        Ok(i)
    }

    /// Applies attempt records, oldest first, to the entries they name.
    fn replay(&mut self, records: &[AttemptRecord]) {
        let mut records: Vec<&AttemptRecord> = records.iter().collect();
        records.sort_by_key(|r| r.attempt_no);
        for r in records {
            // Records of people no longer on the list are history, not work.
            let Some(i) = self.index_of(&r.candidate_id) else {
                continue;
            };
            let e = &mut self.entries[i];
            e.attempts += 1;
            e.last_attempt_no = e.last_attempt_no.max(r.attempt_no);
            if r.report_path.is_some() {
                e.report_path = r.report_path.clone();
            }
            self.settle(i, r.effective_outcome(), r.effective_end());
        }
    }

    fn index_of(&self, candidate_id: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.candidate.id == candidate_id)
    }

    fn pacing_end(&self) -> Option<DateTime<Utc>> {
        self.last_dial_at.map(|t| t + self.config.min_gap)
    }

    /// Applies an attempt's outcome to entry `i` (whose `attempts` already
    /// counts it). A candidate already settled stays settled.
    fn settle(&mut self, i: usize, outcome: AttemptOutcome, at: DateTime<Utc>) {
        let retry = &self.config.retry;
        let e = &mut self.entries[i];
        if matches!(e.state, State::Done { .. } | State::SkippedDnc) {
            return;
        }
        e.answered |= outcome.answered();
        e.last_outcome = Some(outcome.clone());
        if let AttemptOutcome::CallbackRequested { at } = outcome {
            if e.callbacks < MAX_CALLBACKS {
                e.callbacks += 1;
                e.state = State::Waiting {
                    not_before: Some(local_to_utc(at, e.candidate.timezone)),
                };
                return;
            }
        }
        let retryable = match &outcome {
            AttemptOutcome::Busy => retry.on_busy,
            AttemptOutcome::NoAnswer => retry.on_no_answer,
            AttemptOutcome::Voicemail => retry.on_voicemail,
            AttemptOutcome::Rejected { .. } => retry.on_rejected,
            AttemptOutcome::Failed { .. } => retry.on_failed,
            _ => false,
        };
        e.state = if retryable && e.attempts < retry.max_attempts {
            State::Waiting {
                not_before: Some(at + retry.backoff_after(e.attempts)),
            }
        } else {
            State::Done { last: outcome }
        };
    }
}

impl Entry {
    /// A candidate nobody has called yet.
    fn fresh(candidate: Candidate) -> Entry {
        Entry {
            candidate,
            state: State::Waiting { not_before: None },
            attempts: 0,
            last_attempt_no: 0,
            answered: false,
            report_path: None,
            last_outcome: None,
            callbacks: 0,
        }
    }

    /// Waiting only because the candidate asked to be called back later.
    fn awaits_callback(&self) -> bool {
        matches!(self.state, State::Waiting { .. })
            && matches!(
                self.last_outcome,
                Some(AttemptOutcome::CallbackRequested { .. })
            )
    }
}

/// A local time in `tz` as UTC; a time that falls in a DST gap is taken an
/// hour later, an ambiguous one at its first occurrence.
fn local_to_utc(at: chrono::NaiveDateTime, tz: chrono_tz::Tz) -> DateTime<Utc> {
    use chrono::TimeZone;
    match tz.from_local_datetime(&at) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.with_timezone(&Utc)
        }
        chrono::LocalResult::None => tz
            .from_local_datetime(&(at + TimeDelta::hours(1)))
            .earliest()
            .map_or_else(|| at.and_utc(), |t| t.with_timezone(&Utc)),
    }
}
