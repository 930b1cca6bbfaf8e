//! A small pool of ONNX sessions for one model file.
//!
//! `ort`'s `Session::run` takes `&mut self`, so a model shared by all calls is held
//! as a few sessions (one per core), each behind a mutex; a turn takes whichever is
//! free. Each session runs on one thread: an utterance is far too small to split,
//! and parallelism comes from several calls using several sessions.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use ort::environment::Environment;
use ort::session::Session;

use super::error::NluError;

pub(crate) struct SessionPool {
    sessions: Vec<Mutex<Session>>,
    next: AtomicUsize,
    path: PathBuf,
}

impl std::fmt::Debug for SessionPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionPool")
            .field("path", &self.path)
            .field("sessions", &self.sessions.len())
            .finish()
    }
}

impl SessionPool {
    /// Loads `path` into `size` sessions (at least one), checking that the model
    /// has the named inputs so a wrong file fails here and not on the first call.
    pub(crate) fn load(
        env: &'static Environment,
        path: &Path,
        size: usize,
        inputs: &[&str],
    ) -> Result<Self, NluError> {
        let load_err = |message: String| NluError::Load {
            path: path.to_path_buf(),
            message,
        };
        let mut sessions = Vec::new();
        for _ in 0..size.max(1) {
            let session = Session::builder(env)
                .and_then(|b| b.with_intra_threads(1).map_err(Into::into))
                .and_then(|b| b.with_inter_threads(1).map_err(Into::into))
                .and_then(|mut b| b.commit_from_file(path))
                .map_err(|e| load_err(e.to_string()))?;
            for name in inputs {
                if !session.inputs().iter().any(|i| i.name() == *name) {
                    let have: Vec<_> = session.inputs().iter().map(|i| i.name()).collect();
                    return Err(load_err(format!(
                        "the model has no input {name:?} (it has {have:?}): not the expected model"
                    )));
                }
            }
            sessions.push(Mutex::new(session));
        }
        Ok(SessionPool {
            sessions,
            next: AtomicUsize::new(0),
            path: path.to_path_buf(),
        })
    }

    /// A free session, or the next one in turn when all are busy.
    pub(crate) fn get(&self) -> MutexGuard<'_, Session> {
        let n = self.sessions.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Ok(guard) = self.sessions[(start + i) % n].try_lock() {
                return guard;
            }
        }
        // A poisoned session is still usable: a run keeps no state between calls.
        self.sessions[start % n]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

/// Sessions per model: one per core (at most 4; the machine this runs on has 2).
pub(crate) fn default_pool_size() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().min(4))
}
