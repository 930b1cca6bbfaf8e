//! The facade: one loaded [`Nlu`] shared by all calls turns a heard utterance into
//! an [`Understanding`](crate::Understanding).

pub(crate) mod error;
pub(crate) mod pool;

pub use error::NluError;
