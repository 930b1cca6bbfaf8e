//! voxhire's understanding of what a candidate said: one intent per turn and the
//! slots the current question asks for, in English and Mandarin, each slot with
//! the words it came from.
//!
//! The types in [`types`] are the contract with `voxhire-dialog` (which decides
//! what to do with an [`Understanding`]) and with the call engine (which feeds
//! [`Heard`] utterances in).
#![forbid(unsafe_code)]

pub mod types;

pub use types::{
    Evidence, Heard, Intent, IntentExamples, Lang, NluContext, SentenceSimilarity, Slot, SlotKind,
    SlotValue, Understanding,
};
