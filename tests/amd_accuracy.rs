//! Answering-machine detection on the held-out splits of tests/speech/amd: `test`
//! (voices and sentences never tuned on; tuning used the dev split through
//! `cargo bench --bench amd_accuracy`) and `blind` (made after the greeting-words
//! phrase lists, run once and not tuned on since). Cadence, then the greeting's words
//! through Whisper, as a call runs them. The floors sit a little under the figures
//! measured when they were set, so a regression fails; the figures are printed
//! (`-- --nocapture`).

mod amd_set;

use voxhire_speech::amd::AmdConfig;
use voxhire_speech::asr::{AsrConfig, AsrEngine};
use voxhire_speech::models::ModelDir;
use voxhire_speech::vad::SileroVad;

/// Measured 2026-12-04 with the default thresholds (48 clips per split: 24 en,
/// 24 zh; half people, half voicemail), every decision within 2976 ms of the answer,
/// every beep found, none false:
/// - test: 46/48 (95.8 %; cadence alone 44/48). Left: a person who said "Hello, Baker
///   residence." and a greeting whose first sentence ("Hello, this is Kevin.") has
///   none of a recording's phrases.
/// - blind: 41/48 (85.4 %; the same with cadence alone). Seven people taken for
///   machines, six English: answers of two phrases or said twice run past the
///   cadence's greeting length, and their words are a person's but not among the
///   questions the list knows ("can you hear me?", "Jenkins speaking").
const MIN_ACCURACY: [(&str, f64); 2] = [("test", 0.93), ("blind", 0.83)];
/// The cadence decides within this much audio; the words' decode starts by
/// `words_at_ms` (2.2 s) and took at most 0.8 s here, but that is a wall-clock
/// figure for the bench (`cargo bench --bench amd_accuracy`), not for a test.
const MAX_CADENCE_MS: u64 = 3000;

#[test]
fn people_and_voicemail_told_apart_within_three_seconds() {
    let vad =
        SileroVad::load(&ModelDir::locate()).expect("Silero VAD (run scripts/fetch-models.sh)");
    let asr = AsrEngine::load(&ModelDir::locate(), AsrConfig::default())
        .expect("Whisper models (run scripts/fetch-models.sh)");
    for (split, floor) in MIN_ACCURACY {
        let clips = amd_set::clips(split);
        assert!(
            clips.len() >= 48,
            "the {split} split has {} clips",
            clips.len()
        );
        let results = amd_set::run(&clips, &vad, AmdConfig::default(), Some(&asr));
        let all = amd_set::Figures::of(&results);
        println!("{}", all.summary(split));
        assert!(all.accuracy() >= floor, "{}", all.summary(split));
        assert!(
            all.cadence_max_ms <= MAX_CADENCE_MS,
            "{}",
            all.summary(split)
        );
        assert_eq!(
            (all.beeps_found, all.false_beeps),
            (all.beeps, 0),
            "{}",
            all.summary(split)
        );
    }
}
