//! Crash-safe file writes: a reader sees the old file or the new one, never
//! half of one (ARCHITECTURE principle 5: nothing lost).

use std::fs::File;
use std::io::Write;
use std::path::Path;

use crate::error::CampaignError;

/// Writes `bytes` to `path` via a temp file in the same directory: write,
/// fsync, rename over `path`, fsync the directory so the rename itself is
/// durable.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CampaignError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| CampaignError::io(path, std::io::Error::other("not a file path")))?;
    let tmp = dir.join(format!(".{}.tmp", file_name.to_string_lossy()));
    let io = |p: &Path| {
        let p = p.to_owned();
        move |e| CampaignError::io(p, e)
    };
    {
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(io(path))?;
    sync_dir(dir)
}

/// fsync a directory so entries created or renamed in it survive a crash.
pub fn sync_dir(dir: &Path) -> Result<(), CampaignError> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| CampaignError::io(dir, e))
}
