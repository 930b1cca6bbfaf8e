//! Streamed objects: [`SealWriter`] encrypts as it is written, chunk by
//! chunk; [`OpenReader`] decrypts only the chunks a read touches, so it can
//! seek (HTTP range requests on a recording).

use std::io::{self, Read, Seek, SeekFrom, Write};

use aead_stream::{NewStream, StreamBE32, StreamPrimitive};
use aes_gcm::Aes256Gcm;

use crate::{body_aad, new_header, unwrap, Keyring, VaultError, FIXED, KIND_STREAM, TAG};

/// Plaintext bytes per chunk.
pub const CHUNK: usize = 64 * 1024;
/// STREAM's nonce prefix: 12 bytes less its 4-byte counter and last flag.
pub(crate) const NONCE: usize = 7;
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
    stream: Stream,
    aad: Vec<u8>,
    buf: Vec<u8>,
    position: u32,
}

impl<W: Write> SealWriter<W> {
    /// Writes the header (a fresh data key wrapped by the keyring's current
    /// master key) and returns the writer.
    pub fn new(ring: &Keyring, label: &str, mut inner: W) -> io::Result<SealWriter<W>> {
        let nonce: [u8; NONCE] = rand::random();
        let (header, data_key) = new_header(ring, KIND_STREAM, &nonce, label);
        inner.write_all(&header)?;
        Ok(SealWriter {
            inner,
            stream: stream_for(&data_key, &nonce),
            aad: body_aad(KIND_STREAM, label),
            buf: Vec::with_capacity(CHUNK + TAG),
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
        self.inner.write_all(&chunk)
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
        while self.buf.len() > CHUNK {
            let rest = self.buf.split_off(CHUNK);
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
        if header[4] != KIND_STREAM {
            return Err(tampered());
        }
        let nonce = header[FIXED..].to_vec();
        let data_key = unwrap(ring, &header, KIND_STREAM, &nonce, label)?;
        let body_start = header.len() as u64;
        let body_len = total - body_start;
        let chunks = body_len.div_ceil(SEALED_CHUNK);
        let last_len = body_len - chunks.saturating_sub(1) * SEALED_CHUNK;
        if chunks == 0 || last_len < TAG as u64 || chunks > u64::from(u32::MAX) {
            return Err(tampered());
        }
        Ok(OpenReader {
            inner,
            stream: stream_for(&data_key, &nonce),
            aad: body_aad(KIND_STREAM, label),
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
        let at = chunk * SEALED_CHUNK;
        let len = SEALED_CHUNK.min(self.body_len - at) as usize;
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
        let chunk = self.pos / CHUNK as u64;
        self.load(chunk)?;
        let from = (self.pos - chunk * CHUNK as u64) as usize;
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
