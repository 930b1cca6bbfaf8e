//! Finding model files and the ONNX Runtime library, with errors that say which
//! command fixes a missing piece.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// What went wrong loading a model; every variant names the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model file {path} is missing: run scripts/fetch-models.sh (it fetches and verifies every model)")]
    Missing { path: PathBuf },
    #[error(
        "ONNX Runtime library not found at {path}: run scripts/fetch-models.sh, or set ORT_DYLIB_PATH \
         to a libonnxruntime.so (1.22 or newer)"
    )]
    OrtLibraryMissing { path: PathBuf },
    #[error("ONNX Runtime could not be initialised from {path}: {message}")]
    OrtInit { path: PathBuf, message: String },
    #[error("cannot load {path}: {message}")]
    Load { path: PathBuf, message: String },
}

/// The directory holding the models (`models/` layout of `models/MANIFEST`).
#[derive(Debug, Clone)]
pub struct ModelDir {
    root: PathBuf,
}

impl ModelDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ModelDir { root: root.into() }
    }

    /// `$VOXHIRE_MODELS`, else `models/` next to the executable's checkout (found by
    /// walking up from the current directory and from the executable), else `./models`.
    pub fn locate() -> Self {
        if let Some(dir) = std::env::var_os("VOXHIRE_MODELS") {
            return ModelDir::new(dir);
        }
        let starts = [
            std::env::current_dir().ok(),
            std::env::current_exe()
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf)),
        ];
        for start in starts.into_iter().flatten() {
            for dir in start.ancestors() {
                if dir.join("models").join("MANIFEST").is_file() {
                    return ModelDir::new(dir.join("models"));
                }
            }
        }
        ModelDir::new("models")
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of a model file, checked to exist.
    pub fn file(&self, relative: &str) -> Result<PathBuf, ModelError> {
        let path = self.root.join(relative);
        if path.is_file() {
            Ok(path)
        } else {
            Err(ModelError::Missing { path })
        }
    }

    /// The process's ONNX Runtime environment, initialised once from
    /// `$ORT_DYLIB_PATH` or the fetched `onnxruntime/libonnxruntime.so`. Without
    /// this, `ort` would panic on first use; here the caller gets an error naming
    /// the file and the fix. Build sessions with `Session::builder(env)`.
    pub fn onnxruntime(&self) -> Result<&'static ort::environment::Environment, ModelError> {
        static ENV: OnceLock<Result<ort::environment::Environment, (PathBuf, String)>> =
            OnceLock::new();
        let path = std::env::var_os("ORT_DYLIB_PATH")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.root.join("onnxruntime").join("libonnxruntime.so"));
        if ENV.get().is_none() && !path.is_file() {
            return Err(ModelError::OrtLibraryMissing { path });
        }
        let env = ENV.get_or_init(|| {
            ort::init_from(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| b.with_name("voxhire").build().map_err(|e| e.to_string()))
                .map_err(|message| (path.clone(), message))
        });
        env.as_ref().map_err(|(path, message)| ModelError::OrtInit {
            path: path.clone(),
            message: message.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_model_names_the_fix() {
        let dir = ModelDir::new("/nonexistent-models");
        let e = dir.file("silero_vad.onnx").unwrap_err().to_string();
        assert!(
            e.contains("/nonexistent-models/silero_vad.onnx")
                && e.contains("scripts/fetch-models.sh"),
            "{e}"
        );
    }

    #[test]
    fn onnxruntime_loads_from_the_fetched_models() {
        let dir = ModelDir::locate();
        dir.onnxruntime()
            .expect("ONNX Runtime from models/ (run scripts/fetch-models.sh)");
    }
}
