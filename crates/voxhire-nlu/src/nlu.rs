//! The facade: one loaded [`Nlu`] shared by all calls turns a heard utterance into
//! an [`Understanding`].
//!
//! ```no_run
//! # fn env() -> &'static ort::environment::Environment { unimplemented!() }
//! use std::sync::Arc;
//! use voxhire_nlu::{Heard, IntentExamples, Lang, Nlu, NluContext, SlotKind};
//!
//! // Once per process (the ONNX Runtime environment comes from voxhire-speech's
//! // `ModelDir::onnxruntime()`):
//! let nlu = Arc::new(Nlu::load(env(), "models".as_ref(), &IntentExamples::default())?);
//! // Per turn:
//! let heard = Heard {
//!     text: "about five years mostly java".into(),
//!     lang: Lang::En,
//!     turn: 3,
//!     start_ms: 41_000,
//!     end_ms: 43_500,
//!     confidence: 0.9,
//! };
//! let ctx = NluContext { expected: vec![SlotKind::YearsExperience], ..Default::default() };
//! let understanding = nlu.understand(&heard, &ctx);
//! # Ok::<(), voxhire_nlu::NluError>(())
//! ```

pub(crate) mod error;
pub(crate) mod pool;

use std::path::Path;

use ort::environment::Environment;

use crate::embed::{cosine, MiniLm};
use crate::intent::{self, IntentClassifier, IntentScores, TurnCues};
use crate::lac::{time_spans, Lac, LacWord};
use crate::rules;
use crate::slots::{extract_slots, TaggerHints};
use crate::types::{
    Heard, IntentExamples, Lang, NluContext, SentenceSimilarity, SlotValue, Understanding,
};
use crate::types::{Intent, SlotKind};

pub use error::NluError;

/// The loaded models and examples. `Send + Sync`: share one behind an `Arc`;
/// each model holds a small pool of sessions, so concurrent calls rarely wait.
#[derive(Debug)]
pub struct Nlu {
    minilm: MiniLm,
    lac: Lac,
    classifier: IntentClassifier,
}

impl Nlu {
    /// Loads MiniLM and LAC from `models_root` and embeds the intent examples
    /// (built-in plus the script's `examples`). Measured: 1.7 s and ~385 MB RSS
    /// (two sessions per model on a 2-core machine) in a debug test build.
    pub fn load(
        env: &'static Environment,
        models_root: &Path,
        examples: &IntentExamples,
    ) -> Result<Nlu, NluError> {
        let minilm = MiniLm::load(env, models_root)?;
        let lac = Lac::load(env, models_root)?;
        let classifier = IntentClassifier::load(&minilm, examples)?;
        Ok(Nlu {
            minilm,
            lac,
            classifier,
        })
    }

    /// The intent and slots of one final utterance.
    ///
    /// Never fails: if a model run fails (it should not on any text), the turn is
    /// understood by rules and parsers alone and the failure is logged.
    pub fn understand(&self, heard: &Heard, ctx: &NluContext) -> Understanding {
        let words = match heard.lang {
            Lang::Zh => self.lac.tag(&heard.text).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "LAC failed; Mandarin turn without word tags");
                Vec::new()
            }),
            Lang::En => Vec::new(),
        };
        let hints = hints(&heard.text, &words);
        let slots = extract_slots(heard, ctx, &hints);
        let filled: Vec<_> = slots
            .iter()
            .filter(|s| ctx.expected.contains(&s.kind))
            .collect();
        let fills_expected = !filled.is_empty();
        let fills_only_free_text = filled
            .iter()
            .all(|s| matches!(s.value, SlotValue::Text { .. }));
        let rule = rules::rule_intent(&heard.text, heard.lang, ctx);
        // Similarity only matters when neither a rule nor a slot settled the turn.
        let settled = rule.is_some() || (fills_expected && !fills_only_free_text);

        let answers_callback = filled.iter().any(|s| s.kind == SlotKind::CallbackTime);
        let callback_said = slots.iter().any(|s| s.kind == SlotKind::CallbackTime);
        let (similar, mandarin, content_words, polarity, time_mentioned) = match heard.lang {
            Lang::En => {
                let similar = if settled {
                    IntentScores::default()
                } else {
                    self.embedding(&heard.text)
                        .map(|e| self.classifier.english_scores(&e))
                        .unwrap_or_default()
                };
                let content = intent::english_content_words(&heard.text);
                let polarity = intent::english_polarity(&heard.text);
                let time = callback_said || intent::english_mentions_time(&heard.text);
                (similar, None, content, polarity, time)
            }
            Lang::Zh => {
                let cues = intent::mandarin_cues(&heard.text, &words);
                let similar = self.classifier.mandarin_scores(&heard.text);
                let (content, polarity) = (cues.content_chars, cues.yes_no);
                let time = callback_said || cues.time;
                (similar, Some(cues), content, polarity, time)
            }
        };
        let cues = TurnCues {
            lang: heard.lang,
            yes_no: ctx.yes_no,
            rule,
            fills_expected,
            content_words,
            similar,
            polarity,
            fills_only_free_text,
            answers_callback,
            time_mentioned,
            call_back_asked: heard.lang == Lang::En && intent::english_asks_call_back(&heard.text),
            mandarin,
        };
        let (intent, intent_score) = intent::decide(&cues);
        tracing::debug!(
            ?intent,
            intent_score,
            slots = slots.len(),
            turn = heard.turn,
            "understood"
        );
        let mut slots = slots;
        if matches!(intent, Intent::Repeat | Intent::Reschedule | Intent::OptOut) {
            // Free text (a project) is the whole utterance; "sorry, what was the
            // question?" describes no project.
            slots.retain(|s| !matches!(s.value, SlotValue::Text { .. }));
        }
        Understanding {
            intent,
            intent_score: intent_score.clamp(0.0, 1.0),
            slots,
        }
    }

    /// The MiniLM embedding of an English text (unit length, 384 wide); `None` if
    /// the model run failed (logged).
    pub fn embed(&self, text: &str) -> Option<Vec<f32>> {
        self.embedding(text)
    }

    /// LAC's words of a Mandarin text; `None` if the model run failed (logged).
    pub fn tag_mandarin(&self, text: &str) -> Option<Vec<LacWord>> {
        self.lac
            .tag(text)
            .map_err(|e| tracing::warn!(error = %e, "LAC failed"))
            .ok()
    }

    fn embedding(&self, text: &str) -> Option<Vec<f32>> {
        self.minilm
            .embed(text)
            .map_err(|e| tracing::warn!(error = %e, "MiniLM failed"))
            .ok()
    }
}

/// What the slot parsers get from LAC: TIME spans to parse as times and the words
/// with their tags.
fn hints(text: &str, words: &[LacWord]) -> TaggerHints {
    TaggerHints {
        time_spans: time_spans(text, words),
        words: words
            .iter()
            .map(|w| (w.text.clone(), w.tag.clone()))
            .collect(),
    }
}

impl SentenceSimilarity for Nlu {
    /// English: cosine of MiniLM embeddings clamped to 0..1. Mandarin: `None`
    /// (MiniLM reads Chinese as unknown tokens).
    fn similarity(&self, a: &str, b: &str, lang: Lang) -> Option<f32> {
        match lang {
            Lang::En => {
                let e = self
                    .minilm
                    .embed_batch(&[a, b])
                    .map_err(|e| tracing::warn!(error = %e, "MiniLM failed"))
                    .ok()?;
                Some(cosine(&e[0], &e[1]).clamp(0.0, 1.0))
            }
            Lang::Zh => None,
        }
    }
}
