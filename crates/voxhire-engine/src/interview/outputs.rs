//! What a call leaves behind in its run directory: `transcript.json`,
//! `report.json`, `events.jsonl` and `recording.wav` (the media task writes that
//! one). Every file is written to a temporary name, fsynced and renamed into
//! place, then the directory is fsynced: a reader (or a crash) never sees half a
//! file, and a finished interview is never lost. [`Archive`] decides whether
//! they are sealed.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::archive::{Appender, Archive};

/// Writes `bytes` to `path` atomically (temp + fsync + rename + fsync of the
/// directory, [`voxhire_campaign::write_atomic`]), creating the directory first.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(voxhire_campaign::write_atomic(path, bytes)?)
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

/// `events.jsonl`, appended line by line while the call runs (to
/// `events.jsonl.partial`, so a crash leaves the audit trail so far) and renamed
/// into place when the call ends. Cheap to clone: the SIP side and the dialog
/// side of a call write to the same log.
#[derive(Clone)]
pub struct EventLog {
    inner: Arc<Mutex<LogFile>>,
    origin: Instant,
}

struct LogFile {
    path: PathBuf,
    partial: PathBuf,
    out: Option<Appender>,
}

#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    /// Wall clock, milliseconds since the Unix epoch.
    ts_ms: u64,
    /// Milliseconds since the call started (INVITE sent or received).
    t_ms: u64,
    source: &'a str,
    #[serde(flatten)]
    event: &'a T,
}

impl EventLog {
    pub fn create(path: &Path, archive: &Archive) -> Result<EventLog> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let partial = partial_path(path);
        let out = archive.append_log(path, &partial)?;
        Ok(EventLog {
            inner: Arc::new(Mutex::new(LogFile {
                path: path.to_path_buf(),
                partial,
                out: Some(out),
            })),
            origin: Instant::now(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LogFile> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends one event. `source` is `sip`, `dialog`, `asr`, `nlu`, `tts`, `turn`…
    /// Write errors are logged, not fatal: the call goes on.
    pub fn log(&self, source: &str, event: &impl Serialize) {
        let ts_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let line = Line {
            ts_ms,
            t_ms: self.origin.elapsed().as_millis() as u64,
            source,
            event,
        };
        let mut file = self.lock();
        let partial = file.partial.clone();
        let Some(out) = file.out.as_mut() else { return };
        // Each line reaches the file (or, sealed, its 1 KiB chunk) at once:
        // a process killed mid-call leaves the log up to that point.
        let result = serde_json::to_writer(&mut *out, &line)
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush());
        if let Err(e) = result {
            tracing::warn!(path = %partial.display(), error = %e, "cannot write event");
        }
    }

    /// Flushes, fsyncs and renames the log into place; later events are dropped.
    pub fn finish(&self) -> Result<PathBuf> {
        let mut file = self.lock();
        let (path, partial) = (file.path.clone(), file.partial.clone());
        let Some(out) = file.out.take() else {
            return Ok(path);
        };
        out.finish()
            .and_then(|()| std::fs::rename(&partial, &path))
            .with_context(|| format!("finishing {}", path.display()))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_leaves_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/report.json");
        Archive::plain()
            .write_json(&path, &serde_json::json!({"score": 81}))
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"score\": 81"), "{text}");
        let left: Vec<_> = std::fs::read_dir(dir.path().join("a/b"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["report.json"], "no temporary file left behind");
    }

    #[test]
    fn event_log_is_partial_until_finished() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let log = EventLog::create(&path, &Archive::plain()).unwrap();
        log.log("sip", &serde_json::json!({"event": "invite"}));
        log.clone().log(
            "dialog",
            &serde_json::json!({"event": "say", "id": "greeting"}),
        );
        assert!(!path.exists() && dir.path().join("events.jsonl.partial").exists());
        log.finish().unwrap();
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["source"], "sip");
        assert!(lines[0]["t_ms"].as_u64().unwrap() <= lines[1]["t_ms"].as_u64().unwrap());
        assert_eq!(lines[1]["id"], "greeting");
        assert!(lines[1]["ts_ms"].as_u64().unwrap() > 1_700_000_000_000);
    }
}
