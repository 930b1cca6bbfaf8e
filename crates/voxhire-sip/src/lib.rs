//! Sans-IO SIP user agent for voxhire.
#![forbid(unsafe_code)]

pub mod message;
mod method;
mod status;

pub use message::{Request, Response, SipMessage};
pub use method::Method;
pub use status::StatusCode;
pub mod auth;
pub mod dialog;
pub mod sdp;
pub mod transaction;
pub mod ua;
