//! Script errors: each names the file, the key path and the line at fault, so a
//! recruiter can fix the script without reading code.

use std::fmt;
use std::path::PathBuf;

/// A key path into the script, printed the way a reader finds it in the file:
/// `questions[2].followups[0].when`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(pub(crate) Vec<Seg>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

impl KeyPath {
    pub(crate) fn root() -> Self {
        KeyPath(Vec::new())
    }
    pub(crate) fn key(&self, k: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_owned()));
        p
    }
    pub(crate) fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(top level)");
        }
        for (n, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if n == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// Why an interview script was refused.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("{file}: cannot read the interview script: {source}")]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not TOML, a wrong type or an unknown key (the message from the TOML parser
    /// names the key).
    #[error("{file}:{line}: {message}")]
    Syntax {
        file: PathBuf,
        line: usize,
        message: String,
    },
    /// Well-formed TOML that is not a usable interview.
    #[error("{file}:{line}: {key}: {message}")]
    Invalid {
        file: PathBuf,
        key: String,
        line: usize,
        message: String,
    },
    /// The script asks about or scores a protected attribute (age, gender, origin…).
    #[error(
        "{file}:{line}: {key}: refers to the protected attribute {term:?}; a screening interview \
         must not ask about or score age, gender, origin, marital or family status, religion, \
         health or disability"
    )]
    ProtectedAttribute {
        file: PathBuf,
        key: String,
        line: usize,
        term: String,
    },
}

impl ScriptError {
    /// The key path at fault, when there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ScriptError::Invalid { key, .. } | ScriptError::ProtectedAttribute { key, .. } => {
                Some(key)
            }
            _ => None,
        }
    }

    /// The 1-based line at fault, when there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ScriptError::Syntax { line, .. }
            | ScriptError::Invalid { line, .. }
            | ScriptError::ProtectedAttribute { line, .. } => Some(*line),
            ScriptError::Read { .. } => None,
        }
    }
}
