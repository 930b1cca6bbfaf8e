//! Master keys: a key file (or `VOXHIRE_MASTER_KEYS`) of lines `<id> <key>`,
//! an 8-hex-digit id and 64 hex digits (32 bytes). The last line is the
//! current key, used to wrap new data keys; earlier lines still unwrap what
//! they wrapped until `voxhire keys rotate` has re-wrapped it. The keys never
//! go into the store, the archive or a log (`Debug` shows ids only).

use std::fmt;
use std::path::Path;

use zeroize::Zeroizing;

/// The environment variable that may hold the key lines instead of a file
/// (lines separated by newlines or `,`).
pub const ENV: &str = "VOXHIRE_MASTER_KEYS";

/// A master key's id: 8 hex digits, stored in the clear with every object
/// so the right key can be found.
pub type KeyId = [u8; 8];

pub struct MasterKey {
    pub id: KeyId,
    pub(crate) key: Zeroizing<[u8; 32]>,
}

impl MasterKey {
    pub fn id_str(&self) -> &str {
        std::str::from_utf8(&self.id).unwrap_or("?")
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey({})", self.id_str())
    }
}

/// A key file that cannot be used, with the place at fault.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("{source_name}:{line}: {why}")]
    Line {
        source_name: String,
        line: usize,
        why: String,
    },
    #[error("{source_name}: no key in it (make one with `voxhire keys generate`)")]
    Empty { source_name: String },
    #[error("reading the key file {path}: {error}")]
    Read { path: String, error: std::io::Error },
}

/// The master keys, oldest first; the last is current.
pub struct Keyring {
    keys: Vec<MasterKey>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.keys).finish()
    }
}

impl Keyring {
    /// Reads a key file.
    pub fn load(path: &Path) -> Result<Keyring, KeyringError> {
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|error| KeyringError::Read {
                    path: path.display().to_string(),
                    error,
                })?,
            );
        Keyring::parse(&text, &path.display().to_string())
    }

    /// Parses key lines; `source_name` names them in errors (a file's path,
    /// or the environment variable).
    pub fn parse(text: &str, source_name: &str) -> Result<Keyring, KeyringError> {
        let mut keys: Vec<MasterKey> = Vec::new();
        let lines = text.split(['\n', ',']);
        for (n, line) in lines.enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| KeyringError::Line {
                source_name: source_name.to_owned(),
                line: n + 1,
                why: why.to_owned(),
            };
            let mut parts = line.split_whitespace();
            let (Some(id), Some(hex_key), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(bad(
                    "expected `<id> <key>`: 8 hex digits, a space, 64 hex digits",
                ));
            };
            if id.len() != 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad("the id must be 8 hex digits"));
            }
            let mut key = Zeroizing::new([0u8; 32]);
            if hex_key.len() != 64 || hex::decode_to_slice(hex_key, key.as_mut()).is_err() {
                return Err(bad("the key must be 64 hex digits (32 bytes)"));
            }
            let id: KeyId = id
                .to_ascii_lowercase()
                .as_bytes()
                .try_into()
                .expect("8 bytes");
            if keys.iter().any(|k| k.id == id) {
                return Err(bad("this id is used by an earlier line"));
            }
            keys.push(MasterKey { id, key });
        }
        if keys.is_empty() {
            return Err(KeyringError::Empty {
                source_name: source_name.to_owned(),
            });
        }
        Ok(Keyring { keys })
    }

    /// The keys from `VOXHIRE_MASTER_KEYS`, if it is set.
    pub fn from_env() -> Option<Result<Keyring, KeyringError>> {
        let text = Zeroizing::new(std::env::var(ENV).ok()?);
        Some(Keyring::parse(&text, ENV))
    }

    /// A keyring of one fresh random key (tests, and `keys generate`).
    pub fn generate() -> Keyring {
        Keyring {
            keys: vec![fresh_key()],
        }
    }

    /// The key new objects are wrapped with.
    pub fn current(&self) -> &MasterKey {
        self.keys.last().expect("a keyring is never empty")
    }

    pub fn get(&self, id: &KeyId) -> Option<&MasterKey> {
        self.keys.iter().find(|k| &k.id == id)
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(MasterKey::id_str)
    }

    /// Adds a fresh key as the current one (what `keys rotate` appends to the
    /// key file before re-wrapping).
    pub fn push_fresh(&mut self) -> &MasterKey {
        let mut key = fresh_key();
        while self.get(&key.id).is_some() {
            key = fresh_key();
        }
        self.keys.push(key);
        self.current()
    }

    /// The key lines, oldest first, as a key file holds them.
    pub fn to_lines(&self) -> Zeroizing<String> {
        let mut out = String::new();
        for k in &self.keys {
            out.push_str(k.id_str());
            out.push(' ');
            out.push_str(&hex::encode(k.key.as_ref()));
            out.push('\n');
        }
        Zeroizing::new(out)
    }
}

fn fresh_key() -> MasterKey {
    let id = hex::encode(rand::random::<[u8; 4]>());
    MasterKey {
        id: id.as_bytes().try_into().expect("8 hex digits"),
        key: Zeroizing::new(rand::random::<[u8; 32]>()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_the_last_is_current() {
        let text = format!(
            "# voxhire master keys\n0000000a {}\n\n0000000b {}\n",
            "11".repeat(32),
            "22".repeat(32)
        );
        let ring = Keyring::parse(&text, "keys.txt").unwrap();
        assert_eq!(ring.current().id_str(), "0000000b");
        assert!(ring.get(b"0000000a").is_some());
        assert_eq!(
            ring.to_lines().as_str(),
            text.replace("# voxhire master keys\n", "")
                .replace("\n\n", "\n")
        );
    }

    #[test]
    fn names_the_line_at_fault() {
        let text = format!("0000000a {}\n0000000b 1234\n", "11".repeat(32));
        let err = Keyring::parse(&text, "keys.txt").unwrap_err().to_string();
        assert_eq!(err, "keys.txt:2: the key must be 64 hex digits (32 bytes)");
        let err = Keyring::parse("zz 00", "VOXHIRE_MASTER_KEYS")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("VOXHIRE_MASTER_KEYS:1: the id"), "{err}");
        let dup = format!("0000000a {k}\n0000000a {k}", k = "11".repeat(32));
        assert!(Keyring::parse(&dup, "k")
            .unwrap_err()
            .to_string()
            .contains("earlier line"));
        assert!(matches!(
            Keyring::parse("# nothing\n", "k"),
            Err(KeyringError::Empty { .. })
        ));
    }

    #[test]
    fn debug_never_shows_a_key() {
        let ring = Keyring::generate();
        let hex_key = hex::encode(ring.current().key.as_ref());
        assert!(!format!("{ring:?}").contains(&hex_key));
    }
}
