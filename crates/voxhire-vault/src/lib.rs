//! Encryption at rest for voxhire's archive and secrets.
//!
//! Envelope encryption with AES-256-GCM (RustCrypto's `aes-gcm`): every
//! object (a recording, a transcript, a report, a résumé, a TOTP secret) gets
//! its own random data key; the data key is wrapped by the current master key
//! ([`Keyring`]) and stored in the object's header with the master key's id.
//! Rotating the master key re-wraps the 48-byte wrapped key in each header
//! ([`rewrap`], [`rewrap_file`]) and never touches the media.
//!
//! Large objects are written and read as a STREAM (Hoang–Reyhanitabar–
//! Rogaway–Vizár, the `aead-stream` crate's big-endian 32-bit flavour):
//! 64 KiB chunks, each its own AEAD message with a counter and a last-chunk
//! flag in the nonce, so a 30-minute recording is never held in memory,
//! chunks cannot be reordered, dropped or truncated unnoticed, and any byte
//! range can be read by decrypting only the chunks it spans.
//!
//! Every object is bound to a *label* (what it is: `recording`, `totp:usr_…`):
//! the data key and each chunk are authenticated with it, so an object copied
//! over another does not open.
//!
//! Layout (all objects):
//! ```text
//! "VXV1" | kind (1 = sealed, 2 = stream of 64 KiB chunks, 3 = of 1 KiB) | master key id (8) |
//! wrap nonce (12) | wrapped data key (32 + 16 tag) | body nonce (12 sealed, 7 stream) |
//! body: one AEAD message (sealed) or STREAM chunks of CHUNK + 16 bytes, the last shorter or equal
//! ```
#![forbid(unsafe_code)]

pub mod keyring;
mod stream;

pub use keyring::{KeyId, Keyring, KeyringError, MasterKey};
pub use stream::{recover, OpenReader, SealWriter, CHUNK, LOG_CHUNK};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::Aes256Gcm;
use zeroize::Zeroizing;

pub const MAGIC: &[u8; 4] = b"VXV1";
const KIND_SEALED: u8 = 1;
const KIND_STREAM: u8 = 2;
/// A stream in 1 KiB chunks, for logs: a crash loses at most 1 KiB.
const KIND_STREAM_SMALL: u8 = 3;
const TAG: usize = 16;
/// Where the re-wrappable part (key id, wrap nonce, wrapped key) lies.
const WRAP_AT: usize = 5;
const WRAP_LEN: usize = 8 + 12 + 32 + TAG;
const FIXED: usize = WRAP_AT + WRAP_LEN;

/// An object that does not open.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("not an encrypted voxhire object")]
    NotSealed,
    #[error("encrypted under master key {0}, which is not in the keyring")]
    UnknownKey(String),
    #[error("the object was altered, truncated or is not the {0} it claims to be")]
    Tampered(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// True when `bytes` start like an encrypted object.
pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.len() >= FIXED && &bytes[..4] == MAGIC
}

/// The id of the master key an object's data key is wrapped with.
pub fn key_id(bytes: &[u8]) -> Option<KeyId> {
    is_sealed(bytes).then(|| bytes[WRAP_AT..WRAP_AT + 8].try_into().expect("8 bytes"))
}

fn cipher_for(key: &[u8; 32]) -> Aes256Gcm {
    Aes256Gcm::new_from_slice(key).expect("AES-256 takes a 32-byte key")
}

/// What the data key's wrapping authenticates besides the key itself.
fn header_aad(kind: u8, body_nonce: &[u8], label: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(5 + body_nonce.len() + label.len());
    aad.extend_from_slice(MAGIC);
    aad.push(kind);
    aad.extend_from_slice(body_nonce);
    aad.extend_from_slice(label.as_bytes());
    aad
}

/// What every body message authenticates: the format, the kind, the label.
fn body_aad(kind: u8, label: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(5 + label.len());
    aad.extend_from_slice(MAGIC);
    aad.push(kind);
    aad.extend_from_slice(label.as_bytes());
    aad
}

/// Writes a header for a fresh data key; returns the header and the key.
fn new_header(
    ring: &Keyring,
    kind: u8,
    body_nonce: &[u8],
    label: &str,
) -> (Vec<u8>, Zeroizing<[u8; 32]>) {
    let data_key = Zeroizing::new(rand::random::<[u8; 32]>());
    let mut header = Vec::with_capacity(FIXED + body_nonce.len());
    header.extend_from_slice(MAGIC);
    header.push(kind);
    header.extend_from_slice(&wrap(ring.current(), &data_key, kind, body_nonce, label));
    header.extend_from_slice(body_nonce);
    (header, data_key)
}

/// Key id, wrap nonce and wrapped data key (`WRAP_LEN` bytes).
fn wrap(
    master: &MasterKey,
    data_key: &[u8; 32],
    kind: u8,
    body_nonce: &[u8],
    label: &str,
) -> Vec<u8> {
    let nonce: [u8; 12] = rand::random();
    let cipher = cipher_for(&master.key);
    let wrapped = cipher
        .encrypt(
            &nonce.into(),
            Payload {
                msg: data_key,
                aad: &header_aad(kind, body_nonce, label),
            },
        )
        .expect("AES-GCM encrypts 32 bytes");
    let mut out = Vec::with_capacity(WRAP_LEN);
    out.extend_from_slice(&master.id);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&wrapped);
    out
}

/// The data key of an object whose header is `header` (at least the fixed
/// part and the body nonce).
fn unwrap(
    ring: &Keyring,
    header: &[u8],
    kind: u8,
    body_nonce: &[u8],
    label: &str,
) -> Result<Zeroizing<[u8; 32]>, VaultError> {
    let id: KeyId = header[WRAP_AT..WRAP_AT + 8].try_into().expect("8 bytes");
    let master = ring
        .get(&id)
        .ok_or_else(|| VaultError::UnknownKey(String::from_utf8_lossy(&id).into_owned()))?;
    let nonce: [u8; 12] = header[WRAP_AT + 8..WRAP_AT + 20]
        .try_into()
        .expect("12 bytes");
    let cipher = cipher_for(&master.key);
    let key = cipher
        .decrypt(
            &nonce.into(),
            Payload {
                msg: &header[WRAP_AT + 20..FIXED],
                aad: &header_aad(kind, body_nonce, label),
            },
        )
        .map_err(|_| VaultError::Tampered(label.to_owned()))?;
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&key);
    Ok(out)
}

/// Encrypts a small object (a secret, a JSON document) in one message.
pub fn seal(ring: &Keyring, label: &str, plaintext: &[u8]) -> Vec<u8> {
    let body_nonce: [u8; 12] = rand::random();
    let (mut out, data_key) = new_header(ring, KIND_SEALED, &body_nonce, label);
    let cipher = cipher_for(&data_key);
    let body = cipher
        .encrypt(
            &body_nonce.into(),
            Payload {
                msg: plaintext,
                aad: &body_aad(KIND_SEALED, label),
            },
        )
        .expect("AES-GCM encrypts any message under 64 GiB");
    out.extend_from_slice(&body);
    out
}

/// Decrypts what [`seal`] wrote.
pub fn open(ring: &Keyring, label: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    if !is_sealed(sealed) {
        return Err(VaultError::NotSealed);
    }
    if sealed[4] != KIND_SEALED || sealed.len() < FIXED + 12 + TAG {
        return Err(VaultError::Tampered(label.to_owned()));
    }
    let body_nonce = &sealed[FIXED..FIXED + 12];
    let data_key = unwrap(ring, sealed, KIND_SEALED, body_nonce, label)?;
    let cipher = cipher_for(&data_key);
    let nonce: [u8; 12] = body_nonce.try_into().expect("12 bytes");
    cipher
        .decrypt(
            &nonce.into(),
            Payload {
                msg: &sealed[FIXED + 12..],
                aad: &body_aad(KIND_SEALED, label),
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| VaultError::Tampered(label.to_owned()))
}

fn body_nonce_len(kind: u8) -> Option<usize> {
    match kind {
        KIND_SEALED => Some(12),
        KIND_STREAM | KIND_STREAM_SMALL => Some(stream::NONCE),
        _ => None,
    }
}

/// Re-wraps an object's data key under the keyring's current master key, in
/// place; the body is untouched. False when it already was.
pub fn rewrap(ring: &Keyring, label: &str, object: &mut [u8]) -> Result<bool, VaultError> {
    if !is_sealed(object) {
        return Err(VaultError::NotSealed);
    }
    let kind = object[4];
    let nonce_len = body_nonce_len(kind).ok_or_else(|| VaultError::Tampered(label.to_owned()))?;
    if object.len() < FIXED + nonce_len {
        return Err(VaultError::Tampered(label.to_owned()));
    }
    if object[WRAP_AT..WRAP_AT + 8] == ring.current().id {
        return Ok(false);
    }
    let body_nonce = object[FIXED..FIXED + nonce_len].to_vec();
    let data_key = unwrap(ring, object, kind, &body_nonce, label)?;
    let wrapped = wrap(ring.current(), &data_key, kind, &body_nonce, label);
    object[WRAP_AT..FIXED].copy_from_slice(&wrapped);
    Ok(true)
}

/// [`rewrap`] for a file: reads its header, writes the new wrapped key over
/// the old one (68 bytes inside the first disk sector) and syncs. The media
/// after the header is neither read nor rewritten.
pub fn rewrap_file(
    ring: &Keyring,
    label: &str,
    path: &std::path::Path,
) -> Result<bool, VaultError> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)?;
    let mut header = vec![0u8; FIXED + 12];
    let mut got = 0;
    while got < header.len() {
        match file.read(&mut header[got..])? {
            0 => break,
            n => got += n,
        }
    }
    header.truncate(got);
    if !rewrap(ring, label, &mut header)? {
        return Ok(false);
    }
    file.seek(SeekFrom::Start(WRAP_AT as u64))?;
    file.write_all(&header[WRAP_AT..FIXED])?;
    file.sync_data()?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_opens_with_its_label_only() {
        let ring = Keyring::generate();
        let sealed = seal(&ring, "totp:usr_1", b"JBSWY3DPEHPK3PXP");
        assert!(is_sealed(&sealed));
        assert!(!sealed.windows(16).any(|w| w == b"JBSWY3DPEHPK3PXP"));
        assert_eq!(
            open(&ring, "totp:usr_1", &sealed).unwrap().as_slice(),
            b"JBSWY3DPEHPK3PXP"
        );
        assert!(matches!(
            open(&ring, "totp:usr_2", &sealed),
            Err(VaultError::Tampered(_))
        ));
    }

    #[test]
    fn every_flipped_bit_is_caught() {
        let ring = Keyring::generate();
        let sealed = seal(&ring, "l", b"secret");
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(
                open(&ring, "l", &bad).is_err(),
                "byte {i} flipped and it still opened"
            );
        }
        assert!(open(&ring, "l", &sealed[..sealed.len() - 1]).is_err());
    }

    #[test]
    fn another_keyring_cannot_open() {
        let sealed = seal(&Keyring::generate(), "l", b"x");
        assert!(matches!(
            open(&Keyring::generate(), "l", &sealed),
            Err(VaultError::UnknownKey(_))
        ));
        assert!(matches!(
            open(&Keyring::generate(), "l", b"{\"json\": 1}"),
            Err(VaultError::NotSealed)
        ));
    }

    #[test]
    fn rotation_rewraps_the_key_and_keeps_the_body() {
        let mut ring = Keyring::generate();
        let old_id = ring.current().id;
        let mut sealed = seal(&ring, "l", b"payload");
        let body_before = sealed[FIXED..].to_vec();
        ring.push_fresh();
        assert!(rewrap(&ring, "l", &mut sealed).unwrap());
        assert!(!rewrap(&ring, "l", &mut sealed).unwrap(), "already current");
        assert_eq!(key_id(&sealed), Some(ring.current().id));
        assert_ne!(key_id(&sealed), Some(old_id));
        assert_eq!(sealed[FIXED..], body_before[..]);
        // The old key can now be dropped from the keyring.
        let lines = ring.to_lines();
        let current_only = Keyring::parse(lines.lines().last().unwrap(), "k").unwrap();
        assert_eq!(
            open(&current_only, "l", &sealed).unwrap().as_slice(),
            b"payload"
        );
    }
}
