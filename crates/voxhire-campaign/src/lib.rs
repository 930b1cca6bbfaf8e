//! voxhire's call campaigns: a recruiter's campaign file and candidate list,
//! a do-not-call list, a Sans-IO [`Scheduler`] that decides who to dial and
//! when, a SQLite [`Store`] that remembers every attempt across restarts,
//! and the end-of-campaign [`CampaignSummary`].
//!
//! The scheduler never reads a clock or touches the network: the call
//! engine's driver owns both. Its loop, on a virtual clock here:
//!
//! ```
//! use chrono::{DateTime, TimeDelta, Utc};
//! use voxhire_campaign::{AttemptOutcome, CampaignConfig, DoNotCallList, Scheduler, Store};
//! # fn main() -> Result<(), voxhire_campaign::CampaignError> {
//! # let dir = tempfile::tempdir().map_err(|e| voxhire_campaign::CampaignError::Io { path: ".".into(), source: e })?;
//! let config = CampaignConfig::parse(
//!     "name = \"demo\"\nscript = \"s.toml\"\ncandidates = \"c.csv\"\nmax_concurrent_calls = 1\n",
//!     std::path::Path::new("campaign.toml"),
//! )?;
//! let candidates = voxhire_campaign::parse_candidates(
//!     "id,name,uri,language,timezone\nalice,Alice,sip:alice@127.0.0.1:5090,en,UTC\n",
//!     std::path::Path::new("c.csv"), config.default_language, None,
//! )?;
//! let store = Store::open(&dir.path().join("campaign.sqlite"))?;
//! let mut now: DateTime<Utc> = "2026-11-24T10:00:00Z".parse().unwrap();
//! let prior = store.attempts(&config.name)?;
//! let name = config.name.clone();
//! let mut sched = Scheduler::new(config, candidates, DoNotCallList::new(), &prior, now)?;
//! while !sched.is_finished() {
//!     while let Some(dial) = sched.poll_dial(now) {
//!         // Written before the INVITE goes out: a crash never causes a silent redial.
//!         store.record_attempt_start(&name, &dial.candidate.id, dial.attempt_no, now)?;
//!         // … the call engine runs the interview; here it completes at once …
//!         let outcome = AttemptOutcome::Completed { score: Some(80.0), recommendation: None };
//!         store.record_attempt_end(&name, &dial.candidate.id, dial.attempt_no, now, &outcome, None)?;
//!         sched.handle_result(&dial.candidate.id, outcome, now)?;
//!     }
//!     // Sleep until the next wake-up (or a call result, in a real driver).
//!     match sched.poll_timeout() {
//!         Some(t) => now = t.max(now + TimeDelta::milliseconds(1)),
//!         None => break,
//!     }
//! }
//! assert_eq!(sched.summary().completed, 1);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod address;
mod atomic;
mod candidates;
mod config;
mod dnc;
mod error;
mod outcome;
mod scheduler;
mod store;
mod summary;
mod window;

pub use address::{mask, normalise_number, Address};
pub use atomic::write_atomic;
pub use candidates::{load_candidates, parse_candidates, Candidate, Language};
pub use config::{
    is_safe_name, AnsweringMachine, CampaignConfig, MachineAction, RetryField, RetryPolicy, Scripts,
};
pub use dnc::{append as append_do_not_call, DoNotCallList};
pub use error::CampaignError;
pub use outcome::{AttemptOutcome, AttemptRecord};
pub use scheduler::{Dial, Elsewhere, Scheduler};
pub use store::{DialogWriter, Store};
pub use summary::{write_summary, CampaignSummary, CandidateRow, CandidateStatus};
pub use window::{CallingWindow, WindowField};
