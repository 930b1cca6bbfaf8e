//! Hot-word boosting for whisper.cpp: the terms a question expects are made likelier
//! while Whisper decodes, by adding to their tokens' logits at each step (shallow
//! fusion with a phrase list, as hot-word boosting in other recognisers does).
//!
//! The first token of every term gets a small bonus at every step; once the text
//! decoded so far ends with the first tokens of a term, its next token gets a
//! larger one, so a term Whisper has started is finished.
//!
//! whisper.cpp offers this only through a C callback with a raw user-data pointer,
//! so this crate holds the project's one piece of `unsafe` for it (the other crates
//! forbid unsafe code): [`attach`] ties the [`TokenBias`] to the decode's
//! parameters by lifetime, so the pointer cannot outlive it.

use serde::Deserialize;
use whisper_rs::FullParams;

/// How strongly terms are boosted, in logits (natural-log odds).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BiasWeights {
    /// Added to the first token of every term, at every step.
    pub entry: f32,
    /// Added to a term's next token once the text ends with its first tokens.
    pub next: f32,
}

impl BiasWeights {
    pub const OFF: BiasWeights = BiasWeights {
        entry: 0.0,
        next: 0.0,
    };

    pub fn is_off(&self) -> bool {
        self.entry <= 0.0 && self.next <= 0.0
    }
}

impl Default for BiasWeights {
    fn default() -> Self {
        // Chosen on the held-out dev split (`ASR_BIAS=entry,next cargo bench --bench
        // heldout_accuracy`, 2026-12-05): 0 / 1.5,4 / 2,6 / 3,6 / 3,8; 3,6 was
        // the best for both languages (docs/benchmarks.md).
        BiasWeights {
            entry: 3.0,
            next: 6.0,
        }
    }
}

/// One term as tokens.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Phrase {
    pub tokens: Vec<i32>,
    /// Whether its first token gets the entry bonus. A first token that is a
    /// fragment most words start with ("P" of "PHP", "K" of "Kafka") must not:
    /// pushed at every step, such fragments take over the decode ("PKPKPK…").
    pub entry: bool,
}

/// Terms as token sequences over a vocabulary of `n_vocab` tokens.
#[derive(Debug, Clone)]
pub struct TokenBias {
    phrases: Vec<Phrase>,
    weights: BiasWeights,
    n_vocab: usize,
}

impl TokenBias {
    pub fn new(mut phrases: Vec<Phrase>, weights: BiasWeights, n_vocab: usize) -> TokenBias {
        phrases.retain(|p| !p.tokens.is_empty());
        phrases.sort();
        phrases.dedup();
        TokenBias {
            phrases,
            weights,
            n_vocab,
        }
    }

    /// Nothing to boost: no phrases, or zero weights.
    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty() || self.weights.is_off()
    }

    /// Adds each term's bonus to `logits`, given the tokens decoded so far. Token
    /// ids outside `logits` are skipped.
    pub fn apply(&self, decoded: &[i32], logits: &mut [f32]) {
        for Phrase { tokens, entry } in &self.phrases {
            // The longest start of the phrase the decoded text ends with.
            let started = (1..tokens.len())
                .rev()
                .find(|&k| decoded.len() >= k && decoded[decoded.len() - k..] == tokens[..k]);
            let (token, bonus) = match started {
                Some(k) => (tokens[k], self.weights.next),
                None if *entry => (tokens[0], self.weights.entry),
                None => continue,
            };
            if let Some(l) = usize::try_from(token).ok().and_then(|i| logits.get_mut(i)) {
                *l += bonus;
            }
        }
    }
}

/// Makes the decode `params` will run boost `bias`'s terms. The bias is borrowed
/// for as long as the parameters live (the lifetime whisper-rs gives the prompt
/// tokens), so it outlives the `full` call that reads it.
pub fn attach<'a, 'b>(params: &mut FullParams<'a, 'b>, bias: &'b TokenBias) {
    if bias.is_empty() {
        return;
    }
    // SAFETY: whisper.cpp passes the user-data pointer back to `filter_logits`
    // only during the decode these parameters start; `bias` is borrowed for the
    // parameters' lifetime `'b` and only read through the pointer.
    unsafe {
        params.set_filter_logits_callback(Some(filter_logits));
        params.set_filter_logits_callback_user_data(
            bias as *const TokenBias as *mut std::ffi::c_void,
        );
    }
}

/// whisper.cpp's logits filter (`whisper_logits_filter_callback`).
///
/// # Safety
/// whisper.cpp calls it with `tokens` valid for `n_tokens` entries (or null),
/// `logits` valid for the vocabulary, and the user data [`attach`] set: a live
/// [`TokenBias`] built for this model's vocabulary.
unsafe extern "C" fn filter_logits(
    _ctx: *mut whisper_rs::WhisperSysContext,
    _state: *mut whisper_rs::WhisperSysState,
    tokens: *const whisper_rs::WhisperTokenData,
    n_tokens: std::os::raw::c_int,
    logits: *mut f32,
    user_data: *mut std::ffi::c_void,
) {
    if logits.is_null() || user_data.is_null() {
        return;
    }
    let bias = &*(user_data as *const TokenBias);
    let logits = std::slice::from_raw_parts_mut(logits, bias.n_vocab);
    let decoded: Vec<i32> = match usize::try_from(n_tokens) {
        Ok(n) if n > 0 && !tokens.is_null() => std::slice::from_raw_parts(tokens, n)
            .iter()
            .map(|t| t.id)
            .collect(),
        _ => Vec::new(),
    };
    bias.apply(&decoded, logits);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phrase(tokens: &[i32]) -> Phrase {
        Phrase {
            tokens: tokens.to_vec(),
            entry: true,
        }
    }

    fn bias() -> TokenBias {
        TokenBias::new(
            vec![
                phrase(&[5, 6, 7]),
                phrase(&[9]),
                phrase(&[]),
                Phrase {
                    tokens: vec![2, 3],
                    entry: false,
                },
            ],
            BiasWeights {
                entry: 1.0,
                next: 3.0,
            },
            10,
        )
    }

    #[test]
    fn first_tokens_get_the_entry_bonus_anywhere() {
        let mut logits = vec![0.0; 10];
        bias().apply(&[1, 4], &mut logits);
        assert_eq!(logits[5], 1.0);
        assert_eq!(logits[9], 1.0);
        assert_eq!(logits.iter().sum::<f32>(), 2.0);
    }

    #[test]
    fn a_started_term_is_pushed_to_its_next_token() {
        let mut logits = vec![0.0; 10];
        bias().apply(&[1, 5], &mut logits);
        assert_eq!(logits[6], 3.0);
        assert_eq!(
            logits[5], 0.0,
            "inside a term, its first token is not pushed"
        );
        let mut logits = vec![0.0; 10];
        bias().apply(&[5, 6], &mut logits);
        assert_eq!(logits[7], 3.0);
        let mut logits = vec![0.0; 10];
        bias().apply(&[5, 6, 7], &mut logits);
        assert_eq!(logits[5], 1.0, "a finished term starts over");
    }

    #[test]
    fn a_term_without_entry_is_only_finished() {
        let mut logits = vec![0.0; 10];
        bias().apply(&[], &mut logits);
        assert_eq!(logits[2], 0.0);
        bias().apply(&[2], &mut logits);
        assert_eq!(logits[3], 3.0);
    }

    #[test]
    fn tokens_outside_the_vocabulary_are_ignored() {
        let b = TokenBias::new(
            vec![phrase(&[-1]), phrase(&[50])],
            BiasWeights::default(),
            10,
        );
        let mut logits = vec![0.0; 10];
        b.apply(&[], &mut logits);
        assert!(logits.iter().all(|&l| l == 0.0));
    }

    #[test]
    fn zero_weights_or_no_phrases_boost_nothing() {
        assert!(TokenBias::new(vec![phrase(&[1])], BiasWeights::OFF, 10).is_empty());
        assert!(TokenBias::new(vec![], BiasWeights::default(), 10).is_empty());
    }
}
