//! voxhire's call engine: everything between a SIP socket and a finished
//! interview, for any front door (the CLI today; an HTTP server, a browser
//! interview, several nodes later) to drive.
//!
//! - [`call`] is one call's lifecycle in either direction, Sans-IO (ring
//!   timeout, media, hang-up, how it ended); [`inbound`] accepts or refuses an
//!   inbound call;
//! - [`sip_endpoint`] runs the SIP user agent on a socket, [`call_router`] hands
//!   each call's events to the task that owns the call;
//! - [`media_task`] runs one call's RTP/RTCP (codec, jitter buffer, DTMF,
//!   recording), [`rtp_ports`] allocates its ports;
//! - [`interview`] turns an answered call into an interview (listener → NLU →
//!   dialog → speaker), sharing the models of [`interview::InterviewStack`];
//! - [`interview_call`] places one outbound interview call end to end, and
//!   [`outcome`] classifies how any outbound call ended;
//! - [`voicemail`] listens to the first seconds of an answered outbound call
//!   and deals with an answering machine;
//! - [`orphans`] keeps answered calls' dialogs and ends those a dead process
//!   left up;
//! - [`campaign_run`] carries out a campaign's schedule on real calls, writing
//!   each attempt down through an [`campaign_run::AttemptLog`];
//! - [`trunk`] reads the trunk file, [`summary`] is the per-call JSON line,
//!   [`redact`] keeps phone numbers out of logs.
#![forbid(unsafe_code)]

pub mod archive;
pub mod call;
pub mod call_router;
pub mod campaign_run;
pub mod inbound;
pub mod interview;
pub mod interview_call;
pub mod locate;
pub mod media_task;
pub mod orphans;
pub mod outcome;
pub mod redact;
pub mod rtp_ports;
pub mod sip_endpoint;
pub mod sip_stream;
pub mod summary;
pub mod trunk;
pub mod voicemail;
