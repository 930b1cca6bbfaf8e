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
        let mut reader = OpenReader::new(keys, &label(path), file)
            .with_context(|| format!("decrypting {}", path.display()))?;
        let len = reader.len();
        return Ok(OpenedFile {
            len,
            reader: match streamed_wav_header(&mut reader, len)? {
                Some(head) => Box::new(WithHeader {
                    inner: reader,
                    head,
                    pos: 0,
                }),
                None => Box::new(reader),
            },
        });
    }
    let len = file.metadata()?.len();
    Ok(OpenedFile {
        len,
        reader: Box::new(file),
    })
}

/// A sealed recording was streamed (`WavWriter::to_sink`): its header says
/// "length unknown". Its real header, given the plaintext length; None for
/// anything else.
fn streamed_wav_header(
    reader: &mut (impl Read + Seek),
    len: u64,
) -> std::io::Result<Option<[u8; voxhire_media::wav::HEADER_LEN]>> {
    use voxhire_media::wav::{set_header_len, HEADER_LEN, STREAMING_LEN};
    let mut head = [0u8; HEADER_LEN];
    if len < HEADER_LEN as u64 {
        return Ok(None);
    }
    reader.read_exact(&mut head)?;
    reader.rewind()?;
    if &head[0..4] != b"RIFF" || head[40..44] != STREAMING_LEN.to_le_bytes() {
        return Ok(None);
    }
    set_header_len(&mut head, len);
    Ok(Some(head))
}

/// A reader whose first bytes are `head` instead of what the file holds.
struct WithHeader<R> {
    inner: R,
    head: [u8; voxhire_media::wav::HEADER_LEN],
    pos: u64,
}

impl<R: Read> Read for WithHeader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(start) = usize::try_from(self.pos)
            .ok()
            .filter(|s| *s < self.head.len())
        {
            let k = (self.head.len() - start).min(n);
            buf[..k].copy_from_slice(&self.head[start..start + k]);
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for WithHeader<R> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        self.pos = self.inner.seek(to)?;
        Ok(self.pos)
    }
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
        if n == 4 && &magic == voxhire_vault::MAGIC {
            // Re-sealed whole into a new file, then put in place.
            let keys = keys.with_context(|| {
                format!("{} is sealed: the master key is needed", partial.display())
            })?;
            let tmp = run_dir.join(format!("{name}.repairing"));
            let mut out = Archive::sealed(keys.clone()).append(&done, &tmp)?;
            voxhire_vault::recover(keys, &label(&done), file, &mut out)
                .with_context(|| format!("recovering {}", partial.display()))?;
            out.finish()?;
            std::fs::rename(&tmp, &done)
                .with_context(|| format!("finishing {}", done.display()))?;
            std::fs::remove_file(&partial)?;
        } else {
            drop(file);
            trim_in_place(&partial, name == "recording.wav")
                .with_context(|| format!("repairing {}", partial.display()))?;
            std::fs::rename(&partial, &done)
                .with_context(|| format!("finishing {}", done.display()))?;
        }
        repaired.push(name);
    }
    Ok(repaired)
}

/// A plain partial file made whole where it lies: a recording cut to whole
/// stereo frames with its header's sizes to match, a log cut after its last
/// whole line.
fn trim_in_place(path: &Path, wav: bool) -> std::io::Result<()> {
    use std::io::SeekFrom;
    use voxhire_media::wav::{set_header_len, HEADER_LEN};
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)?;
    let len = file.metadata()?.len();
    let keep = if wav {
        let keep = HEADER_LEN as u64 + len.saturating_sub(HEADER_LEN as u64) / 4 * 4;
        // Cut off before its header was whole: an empty stereo recording.
        let mut head = voxhire_media::wav::header(2, 0);
        if len >= HEADER_LEN as u64 {
            file.read_exact(&mut head)?;
        }
        set_header_len(&mut head, keep);
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&head)?;
        keep
    } else {
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        bytes
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i as u64 + 1)
    };
    file.set_len(keep)?;
    file.sync_all()
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
    fn a_sealed_streamed_recording_reads_with_its_real_header() {
        use voxhire_media::wav::{WavChannels, WavWriter};
        let dir = tempfile::tempdir().unwrap();
        let keys = Arc::new(Keyring::generate());
        let path = dir.path().join("c/1/recording.wav");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let partial = path.with_extension("wav.partial");
        let sink = Box::new(
            Archive::sealed(keys.clone())
                .append(&path, &partial)
                .unwrap(),
        );
        let mut w = WavWriter::to_sink(&path, &partial, WavChannels::Stereo, sink).unwrap();
        w.write_stereo(&[1; 800], &[2; 800]).unwrap();
        w.finalize().unwrap();
        let bytes = read(&path, Some(&keys)).unwrap();
        assert_eq!(bytes.len(), 44 + 3200);
        assert_eq!(u32::from_le_bytes(bytes[40..44].try_into().unwrap()), 3200);
        // And from the middle of the header, as a range request reads it.
        let mut opened = open(&path, Some(&keys)).unwrap();
        opened.reader.seek(std::io::SeekFrom::Start(40)).unwrap();
        let mut size = [0u8; 4];
        opened.reader.read_exact(&mut size).unwrap();
        assert_eq!(u32::from_le_bytes(size), 3200);
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
