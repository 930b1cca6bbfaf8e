//! Recognition and understanding on the held-out phone-band answers
//! (tests/speech/heldout): WER (English), mixed error rate (Mandarin: characters
//! and Latin words), per-utterance decode time, intent and per-slot accuracy —
//! the figures the ASR and NLU choices are made by.
//!
//!     cargo bench --bench heldout_accuracy                  # the dev split
//!     HELDOUT_SPLIT=test cargo bench --bench heldout_accuracy
//!
//! Options, to compare decoders side by side (defaults: the product's):
//! `ASR_ZH_PROMPT="…"` (the Mandarin preamble; empty for none), `ASR_BEAM=N`,
//! `ASR_THREADS=N`, `ASR_WEIGHTS=f16` (default q8_0), `HELDOUT_MISSES=1` (print every clip that lost anything),
//! `HELDOUT_TRANSCRIPTS=1` (every clip's transcript and confidence, to diff two builds),
//! `HELDOUT_CONFIDENCE=1` (ASR and slot confidence of every labelled value, right or not),
//! `HELDOUT_TAIL_MS=N` (cut each clip N ms after its voice, as a live call's decode
//! at a pause sees it), `ASR_PAD=N` (encoder frames of context beyond the audio),
//! `HELDOUT_STREAM=1` (each clip through the VAD, the endpointer and the streaming
//! recogniser as a call hears it; decode time is then the last decode's),
//! `ASR_EN_MODEL=base` (English through multilingual base instead of tiny.en).

#[path = "../tests/heldout/mod.rs"]
mod heldout;

use std::time::Instant;

use voxhire_nlu::{IntentExamples, Lang, Nlu};
use voxhire_speech::asr::{AsrConfig, AsrEngine};
use voxhire_speech::models::ModelDir;

/// The confirmation safety net on these clips: of the scored numbers and dates
/// the NLU filled, how many wrong ones the dialog's read-back would catch and
/// how many right ones it would cost a turn, at the default threshold.
fn read_backs(results: &[heldout::ClipResult]) {
    let threshold = voxhire_dialog::script::confirm::DEFAULT_CONFIRM_BELOW;
    for lang in [Lang::En, Lang::Zh] {
        let (mut wrong, mut caught, mut right, mut cost) = (0, 0, 0, 0);
        for r in results.iter().filter(|r| r.clip.lang == lang) {
            for (kind, miss) in &r.slots {
                if !voxhire_dialog::script::confirm::CONFIRMABLE.contains(kind) {
                    continue;
                }
                let Some(slot) = r.understanding.slot(*kind) else {
                    continue;
                };
                let read_back =
                    voxhire_dialog::interview::value_confidence(slot, r.confidence) < threshold;
                if miss.is_some() {
                    wrong += 1;
                    caught += usize::from(read_back);
                } else {
                    right += 1;
                    cost += usize::from(read_back);
                }
            }
        }
        println!(
            "read-back {lang} (below {threshold}): wrong values caught {caught}/{wrong}; right values read back {cost}/{right}"
        );
    }
}

fn main() {
    // `cargo bench` passes --bench; nothing else is taken from the command line.
    let split = std::env::var("HELDOUT_SPLIT").unwrap_or_else(|_| "dev".into());
    let mut config = AsrConfig::default();
    if let Ok(p) = std::env::var("ASR_ZH_PROMPT") {
        config.mandarin_prompt = p;
    }
    if std::env::var("ASR_WEIGHTS").as_deref() == Ok("f16") {
        config.weights = voxhire_speech::asr::Weights::F16;
    }
    if let Some(b) = std::env::var("ASR_BEAM").ok().and_then(|v| v.parse().ok()) {
        config.beam_size = b;
    }
    if let Some(t) = std::env::var("ASR_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        config.threads_per_worker = t;
        config.workers = 1;
    }
    if std::env::var("ASR_EN_MODEL").as_deref() == Ok("base") {
        config.english_model = voxhire_speech::asr::EnglishModel::Base;
    }
    if let Some(p) = std::env::var("ASR_PAD").ok().and_then(|v| v.parse().ok()) {
        config.audio_ctx_pad = p;
    }
    if let Ok(b) = std::env::var("ASR_BIAS") {
        // "entry,next" in logits, e.g. ASR_BIAS=1.5,4
        let w: Vec<f32> = b.split(',').filter_map(|v| v.trim().parse().ok()).collect();
        if let [entry, next] = w[..] {
            config.bias = voxhire_speech::asr::BiasWeights { entry, next };
        }
    }
    let models = ModelDir::locate();
    let asr =
        AsrEngine::load(&models, config).expect("Whisper models (run scripts/fetch-models.sh)");
    let env = models
        .onnxruntime()
        .expect("ONNX Runtime (run scripts/fetch-models.sh)");
    let nlu = Nlu::load(env, models.root(), &IntentExamples::default())
        .expect("NLU models (run scripts/fetch-models.sh)");
    let prompts = heldout::Prompts::from_example_scripts();
    let clips = heldout::clips(&split);
    println!(
        "held-out {split}: {} clips; ASR {:?} weights, {} worker(s) x {} thread(s), beam {}, zh preamble {:?}, bias {:?}",
        clips.len(),
        asr.config().weights,
        asr.config().workers,
        asr.config().threads_per_worker,
        asr.config().beam_size,
        asr.config().mandarin_prompt,
        asr.config().bias
    );
    let started = Instant::now();
    let tail_ms = std::env::var("HELDOUT_TAIL_MS")
        .ok()
        .and_then(|v| v.parse().ok());
    let results = match std::env::var("HELDOUT_STREAM").as_deref() {
        Ok("1") => {
            let vad = voxhire_speech::vad::SileroVad::load(&models)
                .expect("Silero VAD (run scripts/fetch-models.sh)");
            println!("decoded as a call hears it: VAD, endpointer, the decode at the last pause");
            heldout::evaluate_streaming(&clips, &asr, &vad, &nlu, &prompts)
        }
        Ok(other) => panic!("HELDOUT_STREAM={other:?}: 1 or unset"),
        Err(_) => heldout::evaluate(&clips, &asr, &nlu, &prompts, tail_ms),
    };
    if std::env::var_os("HELDOUT_MISSES").is_some() {
        heldout::print_misses(&results);
    }
    if std::env::var_os("HELDOUT_TRANSCRIPTS").is_some() {
        // Every clip's transcript and confidence: diff two runs to see whether a
        // decoder change altered what is heard.
        for r in &results {
            println!(
                "transcript\t{}\t{:.4}\t{}",
                r.clip.id, r.confidence, r.heard
            );
        }
    }
    read_backs(&results);
    if std::env::var_os("HELDOUT_CONFIDENCE").is_some() {
        // One line per labelled value slot the NLU filled: what a confirmation
        // threshold is chosen by (right values confirmed cost a turn; wrong ones
        // not confirmed reach the report).
        println!("confidence\tid\tslot\tasr\tslot_conf\tright");
        for r in &results {
            for (kind, miss) in &r.slots {
                if let Some(slot) = r.understanding.slot(*kind) {
                    println!(
                        "confidence\t{}\t{}\t{:.3}\t{:.2}\t{}",
                        r.clip.id,
                        kind.name(),
                        r.confidence,
                        slot.confidence,
                        miss.is_none()
                    );
                }
            }
        }
    }
    for lang in [Lang::En, Lang::Zh] {
        println!("{}", heldout::Figures::of(&results, lang).summary(lang));
    }
    println!("wall {:.1} s", started.elapsed().as_secs_f64());
}
