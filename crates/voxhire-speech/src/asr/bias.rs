//! The terms a question expects, boosted while Whisper decodes
//! (`voxhire-whisper-bias` does the boosting).
//!
//! A prompt alone tells Whisper base what to expect, but on a phone line it still
//! writes an English product name inside Mandarin as whatever English or
//! characters it sounds nearest to ("它是准制作的" for "Spring Cloud和"). Boosting
//! works per decoding step; terms are matched in token ids, with and without a
//! leading space (Whisper writes "用React" but "use React").

use std::sync::Arc;

pub use voxhire_whisper_bias::BiasWeights;

/// The terms to boost for one question, shared by every decode of it (cheap to
/// clone; decoders tokenize a list once and reuse it while it stays the same).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hotwords(Arc<[String]>);

impl Hotwords {
    pub fn new<I, S>(terms: I) -> Hotwords
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut terms: Vec<String> = terms
            .into_iter()
            .map(Into::into)
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
        terms.sort();
        terms.dedup();
        Hotwords(terms.into())
    }

    pub fn terms(&self) -> &[String] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The same list (not merely equal terms): a decoder's cache key.
    pub(crate) fn same(&self, other: &Hotwords) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hotwords_are_trimmed_and_deduplicated() {
        let h = Hotwords::new(["React", " React ", "", "Go"]);
        assert_eq!(h.terms(), ["Go", "React"]);
        assert!(h.same(&h.clone()));
        assert!(!h.same(&Hotwords::new(["Go", "React"])));
    }
}
