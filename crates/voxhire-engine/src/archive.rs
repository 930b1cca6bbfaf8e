//! How a call's files are kept: in the clear, or sealed under the master
//! keys (`voxhire-vault`) so that no recording, transcript, report or event
//! log is ever on disk in plaintext, not even while the call runs.
//!
//! A sealed file is bound to its place in the archive (its last three path
//! components, e.g. `cand_1/2/report.json`): copied over another
//! candidate's file, it does not open.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use serde::Serialize;
use voxhire_media::wav::WavSink;
use voxhire_vault::{Keyring, OpenReader, SealWriter};

#[derive(Clone, Default)]
pub struct Archive {
    keys: Option<Arc<Keyring>>,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.keys.is_some() {
            "Archive(sealed)"
        } else {
            "Archive(plain)"
        })
    }
}

/// What a sealed file is bound to.
pub fn label(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .rev()
        .take(3)
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.into_iter().rev().collect::<Vec<_>>().join("/")
}

/// An open file being appended to: plain or sealed.
pub enum Appender {
    Plain(BufWriter<File>),
    Sealed(Box<SealWriter<BufWriter<File>>>),
}

impl Write for Appender {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        match self {
            Appender::Plain(w) => w.write(b),
            Appender::Sealed(w) => w.write(b),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Appender::Plain(w) => w.flush(),
            Appender::Sealed(w) => w.flush(),
        }
    }
}

impl Appender {
    /// Completes the file (a sealed one gets its last chunk) and syncs it.
    pub fn finish(self) -> std::io::Result<()> {
        let out = match self {
            Appender::Plain(w) => w,
            Appender::Sealed(w) => w.finish()?,
        };
        out.into_inner().map_err(|e| e.into_error())?.sync_all()
    }
}

impl WavSink for Appender {
    fn finish(self: Box<Self>) -> std::io::Result<()> {
        Appender::finish(*self)
    }
}

impl Archive {
    /// Files in the clear.
    pub fn plain() -> Archive {
        Archive { keys: None }
    }

    /// Files sealed under `keys`' current master key.
    pub fn sealed(keys: Arc<Keyring>) -> Archive {
        Archive { keys: Some(keys) }
    }

    pub fn is_sealed(&self) -> bool {
        self.keys.is_some()
    }

    /// The keys files are sealed under, if they are.
    pub fn keys(&self) -> Option<&Arc<Keyring>> {
        self.keys.as_ref()
    }

    /// Writes a whole file atomically (temp, fsync, rename, fsync).
    pub fn write(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        let sealed;
        let bytes = match &self.keys {
            Some(keys) => {
                // The STREAM format, like every archive file, so one reader
                // (and range reads) serves them all.
                let mut w =
                    SealWriter::new(keys, &label(path), Vec::with_capacity(bytes.len() + 128))?;
                w.write_all(bytes)?;
                sealed = w.finish()?;
                &sealed[..]
            }
            None => bytes,
        };
        crate::interview::outputs::write_atomic(path, bytes)
    }

    /// Serialises `value` as pretty JSON into `path`, atomically.
    pub fn write_json(&self, path: &Path, value: &impl Serialize) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(value).context("serialising JSON")?;
        bytes.push(b'\n');
        self.write(path, &bytes)
    }

    /// Opens `partial` to append what will become `path` (the label is the
    /// final path's).
    pub fn append(&self, path: &Path, partial: &Path) -> Result<Appender> {
        self.open_appender(path, partial, false)
    }

    /// [`Archive::append`] for a log: sealed in 1 KiB chunks, so a crash
    /// loses at most the last 1 KiB of it.
    pub fn append_log(&self, path: &Path, partial: &Path) -> Result<Appender> {
        self.open_appender(path, partial, true)
    }

    fn open_appender(&self, path: &Path, partial: &Path, log: bool) -> Result<Appender> {
        let file = BufWriter::new(
            File::create(partial).with_context(|| format!("creating {}", partial.display()))?,
        );
        Ok(match &self.keys {
            Some(keys) => Appender::Sealed(Box::new(
                if log {
                    SealWriter::for_log(keys, &label(path), file)
                } else {
                    SealWriter::new(keys, &label(path), file)
                }
                .with_context(|| format!("writing {}", partial.display()))?,
            )),
            None => Appender::Plain(file),
        })
    }
}

/// A call file opened for reading, sealed or not: its plaintext length and
/// a seekable reader over the plaintext.
pub struct OpenedFile {
    pub len: u64,
    pub reader: Box<dyn ReadSeek>,
    pub sealed: bool,
}

pub trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

/// Opens a call file, decrypting it if it is sealed (with `keys`; a sealed
/// file without keys is an error naming what is missing).
pub fn open(path: &Path, keys: Option<&Keyring>) -> Result<OpenedFile> {
    let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic)?;
    file.rewind()?;
    if n == 4 && &magic == voxhire_vault::MAGIC {
        let keys = keys.with_context(|| {
            format!(
                "{} is encrypted: give the master key (--keys or VOXHIRE_MASTER_KEYS)",
                path.display()
            )
        })?;
        let reader = OpenReader::new(keys, &label(path), file)
            .with_context(|| format!("decrypting {}", path.display()))?;
        return Ok(OpenedFile {
            len: reader.len(),
            reader: Box::new(reader),
            sealed: true,
        });
    }
    let len = file.metadata()?.len();
    Ok(OpenedFile {
        len,
        reader: Box::new(file),
        sealed: false,
    })
}

/// Reads a whole call file as plaintext.
pub fn read(path: &Path, keys: Option<&Keyring>) -> Result<Vec<u8>> {
    let mut opened = open(path, keys)?;
    let mut out = Vec::with_capacity(opened.len as usize);
    opened
        .reader
        .read_to_end(&mut out)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(out)
}

/// Re-wraps the data key of every sealed file under `dir` with the
/// keyring's current master key (`voxhire keys rotate`); the media is not
/// rewritten. Returns how many files changed.
pub fn rewrap_all(dir: &Path, keys: &Keyring) -> Result<usize> {
    let mut changed = 0;
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let entries = std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))?;
        for e in entries {
            let path = e?.path();
            if path.is_dir() {
                todo.push(path);
                continue;
            }
            let mut magic = [0u8; 4];
            let n = File::open(&path)
                .and_then(|mut f| f.read(&mut magic))
                .unwrap_or(0);
            if n < 4 || &magic != voxhire_vault::MAGIC {
                continue;
            }
            // A file still being written is labelled by its final name.
            let name = path.to_string_lossy();
            let target = Path::new(name.strip_suffix(".partial").unwrap_or(&name));
            if voxhire_vault::rewrap_file(keys, &label(target), &path)
                .with_context(|| format!("re-wrapping {}", path.display()))?
            {
                changed += 1;
            }
        }
    }
    Ok(changed)
}

/// After a crash: makes the files a call was writing when the process died
/// (`recording.wav.partial`, `events.jsonl.partial`) into finished ones, as
/// much of them as was written. A sealed file keeps every whole chunk; a
/// plain recording gets a header matching its length; a plain event log
/// loses only a half-written last line. Returns the files repaired.
pub fn repair_partials(run_dir: &Path, keys: Option<&Arc<Keyring>>) -> Result<Vec<&'static str>> {
    let mut repaired = Vec::new();
    for name in ["recording.wav", "events.jsonl"] {
        let (done, partial) = (run_dir.join(name), run_dir.join(format!("{name}.partial")));
        if !partial.is_file() || done.exists() {
            continue;
        }
        let mut file =
            File::open(&partial).with_context(|| format!("opening {}", partial.display()))?;
        let mut magic = [0u8; 4];
        let n = file.read(&mut magic)?;
        file.rewind()?;
        let tmp = run_dir.join(format!("{name}.repairing"));
        if n == 4 && &magic == voxhire_vault::MAGIC {
            let keys = keys.with_context(|| {
                format!("{} is sealed: the master key is needed", partial.display())
            })?;
            let mut out = Archive::sealed(keys.clone()).append(&done, &tmp)?;
            voxhire_vault::recover(keys, &label(&done), file, &mut out)
                .with_context(|| format!("recovering {}", partial.display()))?;
            out.finish()?;
        } else {
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)?;
            if name == "recording.wav" {
                // Whole stereo frames after the header; sizes to match.
                let frames = bytes.len().saturating_sub(voxhire_media::wav::HEADER_LEN) / 4 * 4;
                bytes.truncate(voxhire_media::wav::HEADER_LEN + frames);
                let len = bytes.len() as u64;
                voxhire_media::wav::set_header_len(&mut bytes, len);
            } else {
                let keep = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
                bytes.truncate(keep);
            }
            std::fs::write(&tmp, &bytes).with_context(|| format!("writing {}", tmp.display()))?;
            File::open(&tmp).and_then(|f| f.sync_all())?;
        }
        std::fs::rename(&tmp, &done).with_context(|| format!("finishing {}", done.display()))?;
        std::fs::remove_file(&partial)?;
        repaired.push(name);
    }
    Ok(repaired)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_files_hold_no_plaintext_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Arc::new(Keyring::generate());
        let archive = Archive::sealed(keys.clone());
        let report = dir.path().join("cand_1/1/report.json");
        archive
            .write_json(&report, &serde_json::json!({"name": "Wang Fang"}))
            .unwrap();
        let raw = std::fs::read(&report).unwrap();
        assert!(!raw.windows(4).any(|w| w == b"Wang"));
        assert_eq!(raw[0], b'V', "not JSON on disk");
        let back: serde_json::Value =
            serde_json::from_slice(&read(&report, Some(&keys)).unwrap()).unwrap();
        assert_eq!(back["name"], "Wang Fang");
        assert!(read(&report, None)
            .unwrap_err()
            .to_string()
            .contains("master key"));
        // Moved over another candidate's report, it does not open.
        let other = dir.path().join("cand_2/1/report.json");
        std::fs::create_dir_all(other.parent().unwrap()).unwrap();
        std::fs::copy(&report, &other).unwrap();
        assert!(read(&other, Some(&keys)).is_err());
    }

    #[test]
    fn rotation_rewraps_every_sealed_file_and_skips_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = Keyring::generate();
        let archive = Archive::sealed(Arc::new(Keyring::parse(&ring.to_lines(), "k").unwrap()));
        let report = dir.path().join("c/1/report.json");
        archive.write(&report, b"{}").unwrap();
        std::fs::write(dir.path().join("c/1/script.toml"), b"[plain]").unwrap();
        ring.push_fresh();
        assert_eq!(rewrap_all(dir.path(), &ring).unwrap(), 1);
        assert_eq!(rewrap_all(dir.path(), &ring).unwrap(), 0, "already current");
        let newest = Keyring::parse(ring.to_lines().lines().last().unwrap(), "k").unwrap();
        assert_eq!(read(&report, Some(&newest)).unwrap(), b"{}");
    }

    #[test]
    fn partial_files_left_by_a_crash_are_repaired() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Arc::new(Keyring::generate());
        let run = dir.path().join("cand_1/1");
        std::fs::create_dir_all(&run).unwrap();
        // A sealed event log the process never finished: 70 KiB written.
        let events = run.join("events.jsonl");
        let mut a = Archive::sealed(keys.clone())
            .append(&events, &run.join("events.jsonl.partial"))
            .unwrap();
        let line = b"{\"event\":\"turn\"}\n";
        for _ in 0..(70 * 1024 / line.len()) {
            a.write_all(line).unwrap();
        }
        a.flush().unwrap();
        std::mem::forget(a); // the process died: no last chunk
                             // A plain recording whose header was last updated long ago.
        let mut wav = voxhire_media::wav::header(2, 4).to_vec();
        wav.extend_from_slice(&[1u8; 4 * 100 + 3]);
        std::fs::write(run.join("recording.wav.partial"), &wav).unwrap();

        let fixed = repair_partials(&run, Some(&keys)).unwrap();
        assert_eq!(fixed, ["recording.wav", "events.jsonl"]);
        let back = read(&events, Some(&keys)).unwrap();
        assert_eq!(back.len(), 64 * 1024, "every whole chunk");
        let rec = std::fs::read(run.join("recording.wav")).unwrap();
        assert_eq!(
            u32::from_le_bytes(rec[40..44].try_into().unwrap()),
            400,
            "whole frames only"
        );
        assert!(
            !run.join("recording.wav.partial").exists()
                && !run.join("events.jsonl.partial").exists()
        );
        assert!(
            repair_partials(&run, Some(&keys)).unwrap().is_empty(),
            "nothing left to repair"
        );
    }

    #[test]
    fn appended_files_seal_as_they_go() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Arc::new(Keyring::generate());
        let path = dir.path().join("c/1/events.jsonl");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let partial = path.with_extension("jsonl.partial");
        let mut a = Archive::sealed(keys.clone())
            .append(&path, &partial)
            .unwrap();
        a.write_all(b"{\"event\":\"invite\"}\n").unwrap();
        a.finish().unwrap();
        std::fs::rename(&partial, &path).unwrap();
        assert_eq!(
            read(&path, Some(&keys)).unwrap(),
            b"{\"event\":\"invite\"}\n"
        );
        let plain = dir.path().join("c/1/plain.jsonl");
        let mut a = Archive::plain().append(&plain, &plain).unwrap();
        a.write_all(b"x").unwrap();
        a.finish().unwrap();
        assert_eq!(read(&plain, None).unwrap(), b"x");
    }
}
