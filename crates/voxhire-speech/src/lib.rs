//! voxhire's ears and voice: voice activity detection, endpointing, speech
//! recognition and synthesis with local models (no cloud).
//!
//! Models live under a model directory (default `models/` of the checkout, filled by
//! `scripts/fetch-models.sh`); [`models::ModelDir`] finds them and says how to fetch
//! what is missing.
#![forbid(unsafe_code)]

pub mod amd;
pub mod asr;
pub mod endpoint;
pub mod models;
pub mod tts;
pub mod vad;
