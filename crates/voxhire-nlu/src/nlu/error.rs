//! What can go wrong loading or running the NLU models; every load error names the
//! file at fault and the command that fixes it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum NluError {
    #[error(
        "model file {path} is missing: run scripts/fetch-models.sh (it fetches and verifies every model)"
    )]
    Missing { path: PathBuf },
    #[error(
        "cannot load {path}: {message} (run scripts/fetch-models.sh to fetch a verified copy)"
    )]
    Load { path: PathBuf, message: String },
    #[error(
        "{path} line {line}: {message} (run scripts/fetch-models.sh to fetch a verified copy)"
    )]
    Format {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// The runtime refused a run (out of memory, a shape the model file does not
    /// accept): the model named is at fault, not the utterance.
    #[error("{model} inference failed: {message}")]
    Inference {
        model: &'static str,
        message: String,
    },
}

/// The path of a model file under the models root, checked to exist.
pub(crate) fn model_file(root: &std::path::Path, relative: &str) -> Result<PathBuf, NluError> {
    let path = root.join(relative);
    if path.is_file() {
        Ok(path)
    } else {
        Err(NluError::Missing { path })
    }
}

/// Reads a model side file (dictionary, tokenizer, transitions).
pub(crate) fn read_model_file(path: &std::path::Path) -> Result<Vec<u8>, NluError> {
    std::fs::read(path).map_err(|e| NluError::Load {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}
