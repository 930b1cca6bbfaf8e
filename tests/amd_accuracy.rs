//! Answering-machine detection on the splits of tests/speech/amd other than dev:
//! `test`, `blind` and `holdout` (each held out when it was made, then read and
//! tuned on — see make_amd_set.py) and `final` (made before the last change to the
//! detector, run once to report it). Cadence, then the greeting's words through
//! Whisper, as a call runs them. The floor sits under the figures measured when it
//! was set, so a regression fails; the figures are printed (`-- --nocapture`).

mod amd_set;

use voxhire_speech::amd::AmdConfig;
use voxhire_speech::asr::{AsrConfig, AsrEngine};
use voxhire_speech::models::ModelDir;
use voxhire_speech::vad::SileroVad;

/// Measured 2026-12-04 with the default thresholds (48 clips per split: 24 en,
/// 24 zh; half people, half voicemail), every beep found, none false:
/// test 47/48, blind 48/48, holdout 47/48, final 46/48 (95.8 %; the two left are
/// people whose first sentence ran past 3.5 s: "Hello, sorry, I was just in a
/// meeting. Who's calling?", 喂，你好，我这边有点吵，你再说一遍？).
const SPLITS: [&str; 4] = ["test", "blind", "holdout", "final"];
const MIN_ACCURACY: f64 = 0.93;
/// The cadence decides within this much audio (machines at 3488 ms; people when
/// they have waited 0.7 s). The words' decode starts by `words_at_ms` (2.2 s) and
/// is back before that on this machine, but that is a wall-clock figure for the
/// bench (`cargo bench --bench amd_accuracy`), not for a test.
const MAX_CADENCE_MS: u64 = 3500;

#[test]
fn people_and_voicemail_told_apart_within_three_and_a_half_seconds() {
    let vad =
        SileroVad::load(&ModelDir::locate()).expect("Silero VAD (run scripts/fetch-models.sh)");
    let asr = AsrEngine::load(&ModelDir::locate(), AsrConfig::default())
        .expect("Whisper models (run scripts/fetch-models.sh)");
    for split in SPLITS {
        let clips = amd_set::clips(split);
        assert!(
            clips.len() >= 48,
            "the {split} split has {} clips",
            clips.len()
        );
        let results = amd_set::run(&clips, &vad, AmdConfig::default(), Some(&asr));
        let all = amd_set::Figures::of(&results);
        println!("{}", all.summary(split));
        assert!(all.accuracy() >= MIN_ACCURACY, "{}", all.summary(split));
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
