//! The interview: a script (TOML) run by a Sans-IO state machine that is fed
//! call events with an explicit `now` and emits actions, then scored into a report.
#![forbid(unsafe_code)]

pub mod io;
pub mod script;
pub mod slots;

pub use io::{Action, EndpointSettings, Input, ListenContext, NluContextSpec, PromptId};
pub use script::{InterviewScript, ScriptError};
