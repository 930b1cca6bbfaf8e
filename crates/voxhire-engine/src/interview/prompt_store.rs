//! The prompt cache on disk: a script's fixed lines synthesised by an earlier
//! run are read back instead of synthesised again, so a campaign (or a test run)
//! starts in milliseconds even for the Mandarin voice, whose synthesis is slower
//! than real time on a small machine.
//!
//! One file per (voice, line) under `$VOXHIRE_PROMPT_CACHE` (default
//! `$XDG_CACHE_HOME/voxhire/prompts`, else `~/.cache/voxhire/prompts`): a
//! `VXP2` magic, the line's UTF-8 text (length-prefixed, checked on load so a
//! hash collision can never play the wrong line), then 8 kHz i16 samples.
//! Files are written atomically; a damaged or foreign file is ignored.

use std::path::PathBuf;
use std::sync::Arc;

use voxhire_speech::tts::{TtsError, Voice};

/// v2: English lines without Piper's leading silence (older files are ignored
/// and synthesised again).
const MAGIC: &[u8; 4] = b"VXP2";

#[derive(Debug, Clone)]
pub struct PromptStore {
    dir: PathBuf,
}

impl PromptStore {
    pub fn locate() -> PromptStore {
        let dir = std::env::var_os("VOXHIRE_PROMPT_CACHE")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("voxhire/prompts"))
            })
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/voxhire/prompts"))
            })
            .unwrap_or_else(|| PathBuf::from(".voxhire-prompts"));
        PromptStore { dir }
    }

    #[cfg(test)]
    pub fn new(dir: impl Into<PathBuf>) -> PromptStore {
        PromptStore { dir: dir.into() }
    }

    fn path(&self, voice: &str, text: &str) -> PathBuf {
        let voice_dir: String = voice
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir
            .join(voice_dir)
            .join(format!("{:016x}.vxp", fnv1a(text.as_bytes())))
    }

    /// The stored audio of `text` in `voice`, if a valid file holds it.
    pub fn load(&self, voice: &str, text: &str) -> Option<Vec<i16>> {
        let bytes = std::fs::read(self.path(voice, text)).ok()?;
        let rest = bytes.strip_prefix(MAGIC.as_slice())?;
        let (len, rest) = rest.split_first_chunk::<4>()?;
        let len = u32::from_le_bytes(*len) as usize;
        if rest.len() < len || &rest[..len] != text.as_bytes() {
            return None;
        }
        let audio = &rest[len..];
        if audio.len() % 2 != 0 || audio.is_empty() {
            return None;
        }
        Some(
            audio
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect(),
        )
    }

    /// The line's 8 kHz audio from the store, else synthesised and stored;
    /// `true` when it had to be synthesised.
    pub fn load_or_synthesize(
        &self,
        voice: &Arc<dyn Voice>,
        text: &str,
    ) -> Result<(Vec<i16>, bool), TtsError> {
        if let Some(audio) = self.load(voice.name(), text) {
            return Ok((audio, false));
        }
        let audio = voxhire_speech::tts::synthesize(voice.clone(), text, voxhire_media::PCM_RATE)?;
        self.save(voice.name(), text, &audio);
        Ok((audio, true))
    }

    /// Stores the audio; failures are logged (the cache is an optimisation).
    pub fn save(&self, voice: &str, text: &str, audio: &[i16]) {
        let path = self.path(voice, text);
        let mut bytes = Vec::with_capacity(8 + text.len() + audio.len() * 2);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&(text.len() as u32).to_le_bytes());
        bytes.extend_from_slice(text.as_bytes());
        for s in audio {
            bytes.extend_from_slice(&s.to_le_bytes());
        }
        if let Err(e) = super::outputs::write_atomic(&path, &bytes) {
            tracing::debug!(path = %path.display(), error = %format!("{e:#}"), "prompt not stored");
        }
    }
}

/// FNV-1a, 64 bits: a stable file name for a line (collisions are caught by the
/// stored text).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_checks_the_text() {
        let dir = tempfile::tempdir().unwrap();
        let store = PromptStore::new(dir.path());
        let audio: Vec<i16> = (0..800).map(|i| (i * 37 % 2000) as i16 - 1000).collect();
        assert_eq!(store.load("piper/joe", "Hello."), None);
        store.save("piper/joe", "Hello.", &audio);
        assert_eq!(
            store.load("piper/joe", "Hello.").as_deref(),
            Some(audio.as_slice())
        );
        assert_eq!(store.load("kokoro/zf", "Hello."), None, "keyed by voice");
        // A file whose stored text differs (a collision, or tampering) is not used.
        let path = store.path("piper/joe", "Hello.");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[8] = b'J';
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(store.load("piper/joe", "Hello."), None);
        std::fs::write(&path, b"garbage").unwrap();
        assert_eq!(store.load("piper/joe", "Hello."), None);
    }
}
