//! The fixed lines of an interview script ("Thanks for your time", each question),
//! synthesised once and shared by every call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{stream, TtsError, Voice};

/// Audio is cached at the call rate.
pub const CACHE_RATE: u32 = voxhire_media::PCM_RATE;

type Key = (String, String);

struct Entry {
    audio: Arc<Vec<i16>>,
    last_used: u64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Key, Entry>,
    samples: usize,
    clock: u64,
    hits: u64,
    misses: u64,
}

/// A thread-safe cache of 8 kHz prompt audio keyed by (voice name, text), bounded by
/// the total number of samples held; the least recently used lines go first.
///
/// Two calls missing the same line at once both synthesise it and the second
/// result replaces the first: wasted work, never wrong audio, and no lock is held
/// during synthesis.
pub struct PromptCache {
    capacity_samples: usize,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for PromptCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("PromptCache")
            .field("lines", &inner.entries.len())
            .field("samples", &inner.samples)
            .field("capacity_samples", &self.capacity_samples)
            .finish()
    }
}

impl PromptCache {
    /// 30 minutes of 8 kHz audio, about 29 MB: far more than any script's fixed lines.
    pub const DEFAULT_CAPACITY_SAMPLES: usize = 30 * 60 * CACHE_RATE as usize;

    pub fn new(capacity_samples: usize) -> Self {
        PromptCache {
            capacity_samples,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The map is consistent after every statement; a panic elsewhere can't break it.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached audio of `text` in `voice`, if present.
    pub fn get(&self, voice: &str, text: &str) -> Option<Arc<Vec<i16>>> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        let key = (voice.to_owned(), normalize_key(text));
        match inner.entries.get_mut(&key) {
            Some(entry) => {
                entry.last_used = now;
                let audio = entry.audio.clone();
                inner.hits += 1;
                Some(audio)
            }
            None => {
                inner.misses += 1;
                None
            }
        }
    }

    /// The audio of `text` in `voice` at 8 kHz: from the cache, or synthesised and
    /// stored.
    pub fn get_or_synthesize(
        &self,
        voice: &Arc<dyn Voice>,
        text: &str,
    ) -> Result<Arc<Vec<i16>>, TtsError> {
        if let Some(audio) = self.get(voice.name(), text) {
            return Ok(audio);
        }
        let audio = Arc::new(stream::synthesize(voice.clone(), text, CACHE_RATE)?);
        self.insert(voice.name(), text, audio.clone());
        Ok(audio)
    }

    /// Synthesises every line not yet cached (at start-up); returns how many were
    /// synthesised.
    pub fn warm<'a>(
        &self,
        voice: &Arc<dyn Voice>,
        lines: impl IntoIterator<Item = &'a str>,
    ) -> Result<usize, TtsError> {
        let mut made = 0;
        for line in lines {
            if self.contains(voice.name(), line) {
                continue;
            }
            let audio = Arc::new(stream::synthesize(voice.clone(), line, CACHE_RATE)?);
            self.insert(voice.name(), line, audio);
            made += 1;
        }
        Ok(made)
    }

    /// Whether the line is cached (does not count as a use).
    pub fn contains(&self, voice: &str, text: &str) -> bool {
        self.lock()
            .entries
            .contains_key(&(voice.to_owned(), normalize_key(text)))
    }

    /// Stores audio, evicting least recently used lines to stay within capacity.
    /// Audio longer than the whole capacity is not stored.
    pub fn insert(&self, voice: &str, text: &str, audio: Arc<Vec<i16>>) {
        if audio.len() > self.capacity_samples {
            return;
        }
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        let key = (voice.to_owned(), normalize_key(text));
        if let Some(old) = inner.entries.remove(&key) {
            inner.samples -= old.audio.len();
        }
        while inner.samples + audio.len() > self.capacity_samples {
            let Some(oldest) = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(e) = inner.entries.remove(&oldest) {
                inner.samples -= e.audio.len();
            }
        }
        inner.samples += audio.len();
        inner.entries.insert(
            key,
            Entry {
                audio,
                last_used: now,
            },
        );
    }

    /// Number of cached lines.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Samples held, all lines together.
    pub fn samples(&self) -> usize {
        self.lock().samples
    }

    /// (hits, misses) of [`get`](Self::get) and [`get_or_synthesize`](Self::get_or_synthesize).
    pub fn stats(&self) -> (u64, u64) {
        let inner = self.lock();
        (inner.hits, inner.misses)
    }
}

/// Lines differing only in surrounding or repeated whitespace are the same line.
fn normalize_key(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_recently_used_lines_are_evicted_first() {
        let cache = PromptCache::new(10);
        cache.insert("v", "a", Arc::new(vec![0; 4]));
        cache.insert("v", "b", Arc::new(vec![0; 4]));
        assert!(cache.get("v", "a").is_some()); // a is now newer than b
        cache.insert("v", "c", Arc::new(vec![0; 4]));
        assert!(cache.contains("v", "a"));
        assert!(!cache.contains("v", "b"));
        assert!(cache.contains("v", "c"));
        assert_eq!(cache.samples(), 8);
        // Too big for the whole cache: not stored, nothing evicted.
        cache.insert("v", "huge", Arc::new(vec![0; 11]));
        assert_eq!(cache.len(), 2);
        // Keys ignore whitespace differences and include the voice.
        assert!(cache.get("v", "  a ").is_some());
        assert!(cache.get("w", "a").is_none());
        assert_eq!(cache.stats(), (2, 1));
    }
}
