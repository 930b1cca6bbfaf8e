//! Errors, sorted by who is at fault: a file the recruiter wrote (config, CSV,
//! do-not-call list), the disk or database, or the caller misusing the API.
//! Every file error names the file and the line so the fix is one edit away.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum CampaignError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The campaign file is not valid TOML or has a field of the wrong type.
    #[error("{}:{line}: {message}", file.display())]
    Toml {
        file: PathBuf,
        line: usize,
        message: String,
    },

    /// The campaign file parsed, but a value is not acceptable.
    #[error("{}:{line}: `{key}`: {message}", file.display())]
    Config {
        file: PathBuf,
        key: String,
        line: usize,
        message: String,
    },

    /// A row of the candidate CSV is malformed or invalid.
    #[error("{}:{line}: {message}", file.display())]
    Candidates {
        file: PathBuf,
        line: u64,
        message: String,
    },

    /// A line of the do-not-call list is neither a phone number nor a SIP URI.
    #[error("{}:{line}: {message}", file.display())]
    DoNotCall {
        file: PathBuf,
        line: usize,
        message: String,
    },

    /// The SQLite store failed.
    #[error("campaign store {}: {source}", path.display())]
    Store {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    /// The store holds something this version cannot use (a newer schema, an
    /// attempt that does not exist, a row we cannot decode).
    #[error("campaign store {}: {message}", path.display())]
    StoreContents { path: PathBuf, message: String },

    /// API misuse: a result for a candidate that has no call in flight.
    #[error("candidate {candidate_id:?} has no call in flight")]
    NotInFlight { candidate_id: String },

    /// The summary could not be serialised.
    #[error("summary: {0}")]
    Json(#[from] serde_json::Error),
}

impl CampaignError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CampaignError::Io {
            path: path.into(),
            source,
        }
    }
}

/// 1-based line number of a byte offset in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}
