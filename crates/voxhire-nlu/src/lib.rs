//! voxhire's understanding of what a candidate said: one intent per turn and the
//! slots the current question asks for, in English and Mandarin, each slot with
//! the words it came from.
//!
//! The types in [`types`] are the contract with `voxhire-dialog` (which decides
//! what to do with an [`Understanding`]) and with the call engine (which feeds
//! [`Heard`] utterances in).
#![forbid(unsafe_code)]

pub mod types;

// Rules and parsers: numbers (digits, English words, Chinese numerals), the skill
// taxonomy, slot extraction, keyword intents.
pub mod numbers;
pub mod rules;
pub mod skills;
pub mod slots;

// Models: MiniLM sentence embeddings (English intents, answer similarity), Baidu
// LAC (Mandarin segmentation/NER/TIME), the intent classifier and the facade.
pub mod embed;
pub mod greeting;
pub mod intent;
pub mod lac;
mod nlu;

pub use nlu::{Nlu, NluError};
pub use types::{
    Evidence, Heard, Intent, IntentExamples, Lang, NluContext, SentenceSimilarity, Slot, SlotKind,
    SlotValue, Understanding,
};
