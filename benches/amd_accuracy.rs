//! Answering-machine detection on the AMD set (tests/speech/amd): accuracy, what it
//! got wrong, when it decided, and the beeps found, per language. Tune on dev, report
//! on test:
//!
//!     cargo bench --bench amd_accuracy              # the dev split
//!     AMD_SPLIT=test cargo bench --bench amd_accuracy
//!     AMD_WORDS=0 cargo bench --bench amd_accuracy  # cadence alone, no Whisper
//!     AMD_VERBOSE=1 …                               # every clip: cadence, words, decision

#[path = "../tests/amd_set/mod.rs"]
mod amd_set;

use voxhire_speech::amd::AmdConfig;
use voxhire_speech::asr::{AsrConfig, AsrEngine};
use voxhire_speech::models::ModelDir;
use voxhire_speech::vad::SileroVad;

fn main() {
    let split = std::env::var("AMD_SPLIT").unwrap_or_else(|_| "dev".into());
    let vad =
        SileroVad::load(&ModelDir::locate()).expect("Silero VAD (run scripts/fetch-models.sh)");
    let clips = amd_set::clips(&split);
    let started = std::time::Instant::now();
    // AMD_CONFIG='{"total_analysis_ms": 3232}' tries other thresholds.
    let config: AmdConfig = match std::env::var("AMD_CONFIG") {
        Ok(json) => serde_json::from_str(&json).expect("AMD_CONFIG: AmdConfig fields as JSON"),
        Err(_) => AmdConfig::default(),
    };
    println!("{config:?}");
    let asr = (std::env::var("AMD_WORDS").as_deref() != Ok("0")).then(|| {
        AsrEngine::load(&ModelDir::locate(), AsrConfig::default())
            .expect("Whisper models (run scripts/fetch-models.sh)")
    });
    println!(
        "{}",
        if asr.is_some() {
            "cadence, then the greeting's words (Whisper)"
        } else {
            "cadence alone"
        }
    );
    let results = amd_set::run(&clips, &vad, config, asr.as_deref());
    for lang in ["en", "zh"] {
        let of: Vec<_> = results
            .iter()
            .filter(|(c, _)| c.lang == lang)
            .map(|(c, r)| (*c, r.clone()))
            .collect();
        println!(
            "{}",
            amd_set::Figures::of(&of).summary(&format!("{split} {lang}"))
        );
    }
    println!(
        "{}",
        amd_set::Figures::of(&results).summary(&format!("{split} all"))
    );
    println!(
        "({} clips in {:.1} s)",
        clips.len(),
        started.elapsed().as_secs_f64()
    );
}
