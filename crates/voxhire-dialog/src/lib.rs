//! The interview: a script (TOML) run by a Sans-IO state machine that is fed
//! call events with an explicit `now` and emits actions, then scored into a report.
//!
//! The engine's loop, on a virtual clock here:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::{Duration, Instant};
//! use voxhire_dialog::{Action, Input, Interview, InterviewScript};
//! use voxhire_nlu::Lang;
//!
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/interview-java-backend.en.toml");
//! let script = Arc::new(InterviewScript::load(path).unwrap());
//! let mut now = Instant::now();
//! let mut interview = Interview::new(script, Lang::En, Some("Alex".into()), now);
//! interview.handle_input(now, Input::Answered);
//! while !interview.is_finished() {
//!     while let Some(action) = interview.poll_action() {
//!         // Say → synthesise and play, then Input::PlaybackFinished; Listen → prime
//!         // the ASR; each final ASR result → NLU → Input::Final; HangUp → BYE.
//!         let _ = action;
//!     }
//!     interview.handle_input(now, Input::PlaybackFinished);
//!     // Nobody answers: the no-input timer fires, reprompts, and finally gives up.
//!     now = interview.poll_timeout().unwrap_or(now + Duration::from_secs(1));
//!     interview.handle_timeout(now);
//! }
//! while interview.poll_event().is_some() {}
//! let report = interview.finish(None);
//! assert_eq!(report.status.name(), "no_response");
//! ```
#![forbid(unsafe_code)]

pub mod interview;
pub mod io;
pub mod report;
pub mod score;
pub mod script;
pub mod slots;

pub use interview::{DialogEvent, DialogEventKind, Interview, RepromptReason};
pub use io::{Action, EndpointSettings, Input, ListenContext, NluContextSpec, PromptId};
pub use report::{QuestionReport, Recommendation, Report, Status};
pub use script::{InterviewScript, ScriptError};
