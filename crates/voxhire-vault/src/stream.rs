//! Streamed objects: [`SealWriter`] encrypts as it is written, chunk by
//! chunk; [`OpenReader`] decrypts only the chunks a read touches, so it can
//! seek (HTTP range requests on a recording).

use std::io::{self, Read, Seek, SeekFrom, Write};

use aead_stream::{NewStream, StreamBE32, StreamPrimitive};
use aes_gcm::Aes256Gcm;

use crate::{
    body_aad, new_header, unwrap, Keyring, VaultError, FIXED, KIND_STREAM, KIND_STREAM_SMALL, TAG,
};

/// Plaintext bytes per chunk.
pub const CHUNK: usize = 64 * 1024;
/// Plaintext bytes per chunk of a log ([`SealWriter::for_log`]).
pub const LOG_CHUNK: usize = 1024;

/// A stream kind's chunk size.
fn chunk_of(kind: u8) -> Option<usize> {
    match kind {
        KIND_STREAM => Some(CHUNK),
        KIND_STREAM_SMALL => Some(LOG_CHUNK),
        _ => None,
    }
}
/// STREAM's nonce prefix: 12 bytes less its 4-byte counter and last flag.
pub(crate) const NONCE: usize = 7;
#[cfg(test)]
const SEALED_CHUNK: u64 = (CHUNK + TAG) as u64;

type Stream = StreamBE32<Aes256Gcm>;

fn stream_for(data_key: &[u8; 32], nonce: &[u8]) -> Stream {
    let nonce: [u8; NONCE] = nonce.try_into().expect("7-byte STREAM nonce");
    Stream::from_aead(crate::cipher_for(data_key), &nonce.into())
}

/// Encrypts what is written to it into `inner`. Call [`SealWriter::finish`]:
/// an object left unfinished has no last chunk and will not open.
pub struct SealWriter<W: Write> {
    inner: W,
    chunk: usize,
    stream: Stream,
    aad: Vec<u8>,
    buf: Vec<u8>,
    position: u32,
}

impl<W: Write> SealWriter<W> {
    /// Writes the header (a fresh data key wrapped by the keyring's current
    /// master key) and returns the writer.
    pub fn new(ring: &Keyring, label: &str, inner: W) -> io::Result<SealWriter<W>> {
        Self::of_kind(ring, label, inner, KIND_STREAM)
    }

    /// A writer for a log: 1 KiB chunks, so a process that dies loses at most
    /// the last 1 KiB.
    pub fn for_log(ring: &Keyring, label: &str, inner: W) -> io::Result<SealWriter<W>> {
        Self::of_kind(ring, label, inner, KIND_STREAM_SMALL)
    }

    fn of_kind(ring: &Keyring, label: &str, mut inner: W, kind: u8) -> io::Result<SealWriter<W>> {
        let chunk = chunk_of(kind).expect("a stream kind");
        let nonce: [u8; NONCE] = rand::random();
        let (header, data_key) = new_header(ring, kind, &nonce, label);
        inner.write_all(&header)?;
        Ok(SealWriter {
            inner,
            chunk,
            stream: stream_for(&data_key, &nonce),
            aad: body_aad(kind, label),
            buf: Vec::with_capacity(chunk + TAG),
            position: 0,
        })
    }

    fn emit(&mut self, mut chunk: Vec<u8>, last: bool) -> io::Result<()> {
        self.stream
            .encrypt_in_place(self.position, last, &self.aad, &mut chunk)
            .map_err(|_| io::Error::other("AES-GCM refused a chunk"))?;
        self.position = self
            .position
            .checked_add(1)
            .ok_or_else(|| io::Error::other("object too large for one STREAM"))?;
        // A sealed chunk goes on to the sink at once (through any buffer):
        // what a crash can lose is only what is not sealed yet.
        self.inner.write_all(&chunk)?;
        self.inner.flush()
    }

    /// Encrypts the rest as the last chunk and returns the inner writer
    /// (flushed; syncing a file is the caller's).
    pub fn finish(mut self) -> io::Result<W> {
        let rest = std::mem::take(&mut self.buf);
        self.emit(rest, true)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for SealWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        // A full chunk is only sealed once more follows: the last chunk must
        // be marked last, and only `finish` knows which one that is.
        while self.buf.len() > self.chunk {
            let rest = self.buf.split_off(self.chunk);
            let mut chunk = std::mem::replace(&mut self.buf, rest);
            chunk.reserve(TAG);
            self.emit(chunk, false)?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Decrypts a streamed object, seekable by plaintext offset.
pub struct OpenReader<R: Read + Seek> {
    inner: R,
    /// Plaintext bytes per chunk, and with the tag.
    chunk: u64,
    sealed_chunk: u64,
    stream: Stream,
    aad: Vec<u8>,
    label: String,
    body_start: u64,
    body_len: u64,
    chunks: u64,
    plain_len: u64,
    pos: u64,
    /// The decrypted chunk `current` holds.
    plain: Vec<u8>,
    current: Option<u64>,
}

impl<R: Read + Seek> OpenReader<R> {
    /// Reads and checks the header; the body is read as it is asked for.
    pub fn new(ring: &Keyring, label: &str, mut inner: R) -> Result<OpenReader<R>, VaultError> {
        let total = inner.seek(SeekFrom::End(0))?;
        inner.seek(SeekFrom::Start(0))?;
        let mut header = vec![0u8; FIXED + NONCE];
        if total < header.len() as u64 {
            return Err(VaultError::NotSealed);
        }
        inner.read_exact(&mut header)?;
        if !crate::is_sealed(&header) {
            return Err(VaultError::NotSealed);
        }
        let tampered = || VaultError::Tampered(label.to_owned());
        let kind = header[4];
        let chunk = chunk_of(kind).ok_or_else(tampered)? as u64;
        let sealed_chunk = chunk + TAG as u64;
        let nonce = header[FIXED..].to_vec();
        let data_key = unwrap(ring, &header, kind, &nonce, label)?;
        let body_start = header.len() as u64;
        let body_len = total - body_start;
        let chunks = body_len.div_ceil(sealed_chunk);
        let last_len = body_len - chunks.saturating_sub(1) * sealed_chunk;
        if chunks == 0 || last_len < TAG as u64 || chunks > u64::from(u32::MAX) {
            return Err(tampered());
        }
        Ok(OpenReader {
            inner,
            chunk,
            sealed_chunk,
            stream: stream_for(&data_key, &nonce),
            aad: body_aad(kind, label),
            label: label.to_owned(),
            body_start,
            body_len,
            chunks,
            plain_len: body_len - chunks * TAG as u64,
            pos: 0,
            plain: Vec::new(),
            current: None,
        })
    }

    /// The plaintext's length.
    pub fn len(&self) -> u64 {
        self.plain_len
    }

    pub fn is_empty(&self) -> bool {
        self.plain_len == 0
    }

    fn load(&mut self, chunk: u64) -> io::Result<()> {
        if self.current == Some(chunk) {
            return Ok(());
        }
        let at = chunk * self.sealed_chunk;
        let len = self.sealed_chunk.min(self.body_len - at) as usize;
        self.inner.seek(SeekFrom::Start(self.body_start + at))?;
        let mut buf = vec![0u8; len];
        self.inner.read_exact(&mut buf)?;
        let last = chunk + 1 == self.chunks;
        self.stream
            .decrypt_in_place(chunk as u32, last, &self.aad, &mut buf)
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    VaultError::Tampered(self.label.clone()),
                )
            })?;
        self.plain = buf;
        self.current = Some(chunk);
        Ok(())
    }

    /// Reads everything left (a whole transcript or report).
    pub fn read_all(mut self) -> io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity((self.plain_len - self.pos.min(self.plain_len)) as usize);
        self.read_to_end(&mut out)?;
        Ok(out)
    }
}

impl<R: Read + Seek> Read for OpenReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.plain_len || out.is_empty() {
            return Ok(0);
        }
        let chunk = self.pos / self.chunk;
        self.load(chunk)?;
        let from = (self.pos - chunk * self.chunk) as usize;
        let n = (self.plain.len() - from).min(out.len());
        out[..n].copy_from_slice(&self.plain[from..from + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for OpenReader<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.plain_len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}

/// Reads what can be read of a streamed object that was never finished (the
/// process died while writing it): every whole chunk, in order, until one
/// does not open; a last chunk, if there is one, too. Writes the plaintext
/// to `out` and returns how many bytes, and whether the object was complete.
pub fn recover<R: Read + Seek, W: Write>(
    ring: &Keyring,
    label: &str,
    mut inner: R,
    out: &mut W,
) -> Result<(u64, bool), VaultError> {
    let mut header = vec![0u8; FIXED + NONCE];
    inner.seek(SeekFrom::Start(0))?;
    inner
        .read_exact(&mut header)
        .map_err(|_| VaultError::NotSealed)?;
    let kind = header[4];
    let Some(chunk) = chunk_of(kind).filter(|_| crate::is_sealed(&header)) else {
        return Err(VaultError::NotSealed);
    };
    let sealed_chunk = (chunk + TAG) as u64;
    let nonce = header[FIXED..].to_vec();
    let data_key = unwrap(ring, &header, kind, &nonce, label)?;
    let stream = stream_for(&data_key, &nonce);
    let aad = body_aad(kind, label);
    let mut written = 0u64;
    for position in 0..u32::MAX {
        let mut buf = Vec::with_capacity(sealed_chunk as usize);
        (&mut inner).take(sealed_chunk).read_to_end(&mut buf)?;
        if buf.len() < TAG {
            return Ok((written, false));
        }
        let mut as_middle = buf.clone();
        if stream
            .decrypt_in_place(position, false, &aad, &mut as_middle)
            .is_ok()
        {
            out.write_all(&as_middle)?;
            written += as_middle.len() as u64;
            continue;
        }
        if stream
            .decrypt_in_place(position, true, &aad, &mut buf)
            .is_ok()
        {
            out.write_all(&buf)?;
            return Ok((written + buf.len() as u64, true));
        }
        return Ok((written, false));
    }
    Ok((written, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn sealed(ring: &Keyring, label: &str, data: &[u8], writes: usize) -> Vec<u8> {
        let mut w = SealWriter::new(ring, label, Vec::new()).unwrap();
        for piece in data.chunks(writes.max(1)) {
            w.write_all(piece).unwrap();
        }
        w.finish().unwrap()
    }

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn round_trips_at_every_chunk_edge() {
        let ring = Keyring::generate();
        for n in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 17] {
            let data = pattern(n);
            for writes in [1, 160, 4096, CHUNK + 5] {
                let blob = sealed(&ring, "recording", &data, writes);
                let r = OpenReader::new(&ring, "recording", Cursor::new(blob)).unwrap();
                assert_eq!(r.len(), n as u64);
                assert_eq!(r.read_all().unwrap(), data, "n={n} writes={writes}");
            }
        }
    }

    #[test]
    fn reads_any_range_by_seeking() {
        let ring = Keyring::generate();
        let data = pattern(3 * CHUNK + 100);
        let blob = sealed(&ring, "recording", &data, 1000);
        let mut r = OpenReader::new(&ring, "recording", Cursor::new(blob)).unwrap();
        for (from, len) in [
            (0, 10),
            (CHUNK - 3, 9),
            (2 * CHUNK + 50, CHUNK),
            (3 * CHUNK + 90, 10),
        ] {
            r.seek(SeekFrom::Start(from as u64)).unwrap();
            let mut got = vec![0u8; len];
            r.read_exact(&mut got).unwrap();
            assert_eq!(got, data[from..from + len]);
        }
    }

    #[test]
    fn truncation_reordering_and_label_swaps_are_caught() {
        let ring = Keyring::generate();
        let data = pattern(3 * CHUNK);
        let blob = sealed(&ring, "recording", &data, CHUNK);
        let open_all = |b: Vec<u8>, label: &str| -> Result<Vec<u8>, String> {
            let r = OpenReader::new(&ring, label, Cursor::new(b)).map_err(|e| e.to_string())?;
            r.read_all().map_err(|e| e.to_string())
        };
        let header = FIXED + NONCE;
        // Dropping the last chunk: the new last one was not sealed as last.
        let cut = blob[..header + 2 * SEALED_CHUNK as usize].to_vec();
        assert!(open_all(cut, "recording").is_err());
        // Swapping two chunks.
        let mut swapped = blob.clone();
        let (a, b) = (header, header + SEALED_CHUNK as usize);
        let first = blob[a..b].to_vec();
        swapped.copy_within(b..b + SEALED_CHUNK as usize, a);
        swapped[b..b + SEALED_CHUNK as usize].copy_from_slice(&first);
        assert!(open_all(swapped, "recording").is_err());
        // Another object's label.
        assert!(open_all(blob.clone(), "transcript").is_err());
        // One flipped bit in the media.
        let mut flipped = blob.clone();
        flipped[header + 100] ^= 4;
        assert!(open_all(flipped, "recording").is_err());
        assert_eq!(open_all(blob, "recording").unwrap(), data);
    }

    #[test]
    fn an_unfinished_object_gives_back_its_whole_chunks() {
        let ring = Keyring::generate();
        let data = pattern(2 * CHUNK + 500);
        let mut w = SealWriter::new(&ring, "recording", Vec::new()).unwrap();
        w.write_all(&data).unwrap();
        // The process dies here: two whole chunks written, the rest buffered.
        let partial = w.inner.clone();
        let mut out = Vec::new();
        let (n, complete) = recover(&ring, "recording", Cursor::new(partial), &mut out).unwrap();
        assert_eq!((n, complete), (2 * CHUNK as u64, false));
        assert_eq!(out, data[..2 * CHUNK]);
        let whole = sealed(&ring, "recording", &data, 777);
        let mut out = Vec::new();
        assert_eq!(
            recover(&ring, "recording", Cursor::new(whole), &mut out).unwrap(),
            (data.len() as u64, true)
        );
        assert_eq!(out, data);
    }

    #[test]
    fn a_log_loses_at_most_its_last_kib() {
        let ring = Keyring::generate();
        let data = pattern(3 * LOG_CHUNK + 100);
        let mut w = SealWriter::for_log(&ring, "events", Vec::new()).unwrap();
        w.write_all(&data).unwrap();
        let partial = w.inner.clone();
        let mut out = Vec::new();
        assert_eq!(
            recover(&ring, "events", Cursor::new(partial), &mut out).unwrap(),
            (3 * LOG_CHUNK as u64, false)
        );
        let whole = w.finish().unwrap();
        let mut r = OpenReader::new(&ring, "events", Cursor::new(whole)).unwrap();
        r.seek(SeekFrom::Start(LOG_CHUNK as u64 + 5)).unwrap();
        let mut got = vec![0u8; 10];
        r.read_exact(&mut got).unwrap();
        assert_eq!(got, data[LOG_CHUNK + 5..LOG_CHUNK + 15]);
    }

    #[test]
    fn rewrap_file_changes_only_the_header() {
        let mut ring = Keyring::generate();
        let data = pattern(CHUNK + 9);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("recording.wav.vxv");
        std::fs::write(&path, sealed(&ring, "recording", &data, 999)).unwrap();
        let before = std::fs::read(&path).unwrap();
        ring.push_fresh();
        assert!(crate::rewrap_file(&ring, "recording", &path).unwrap());
        let after = std::fs::read(&path).unwrap();
        assert_eq!(after.len(), before.len());
        assert_eq!(
            after[FIXED..],
            before[FIXED..],
            "the media is not rewritten"
        );
        let newest = Keyring::parse(ring.to_lines().lines().last().unwrap(), "k").unwrap();
        let r = OpenReader::new(&newest, "recording", std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(r.read_all().unwrap(), data);
    }
}
