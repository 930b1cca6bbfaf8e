//! Recognition and understanding on the held-out test split (tests/speech/heldout):
//! the answers were never tuned on (tuning used the dev split through
//! `cargo bench --bench heldout_accuracy`). Thresholds sit a little under the
//! figures measured when they were set, so a regression fails; the figures are
//! printed (`-- --nocapture`).

mod heldout;

use voxhire_nlu::{IntentExamples, Lang, Nlu};
use voxhire_speech::asr::{phone_to_asr, AsrConfig, AsrEngine, DecodeRequest, Language};
use voxhire_speech::models::ModelDir;

/// Measured 2026-12-03 (q8_0, greedy, preamble "嗯，好的。"), test split, 70 + 70
/// clips: WER en 15.8 %, mixed error rate zh 27.3 %, slots en 82.2 % (37/45),
/// zh 43.5 % (20/46; skills 0/11: Whisper base does not hear English product
/// names from these two Mandarin voices over G.711 — the model is the ceiling).
/// With the skills taxonomy's names boosted (2026-12-05): WER en 13.7 %, zh
/// 26.7 %, slots unchanged. The limits leave room for run-to-run noise; a regression past them fails.
const MAX_WER_EN: f64 = 0.20;
const MAX_MER_ZH: f64 = 0.32;
const MIN_SLOTS_EN: f64 = 0.75;
const MIN_SLOTS_ZH: f64 = 0.35;

#[test]
fn held_out_answers_through_a_phone_line() {
    let models = ModelDir::locate();
    let asr = AsrEngine::load(&models, AsrConfig::default())
        .expect("Whisper models (run scripts/fetch-models.sh)");
    let env = models
        .onnxruntime()
        .expect("ONNX Runtime (run scripts/fetch-models.sh)");
    let nlu = Nlu::load(env, models.root(), &IntentExamples::default())
        .expect("NLU models (run scripts/fetch-models.sh)");
    let clips = heldout::clips("test");
    let zh = clips.iter().filter(|c| c.lang == Lang::Zh).count();
    assert!(zh >= 50 && clips.len() - zh >= 50, "test split too small");
    let results = heldout::evaluate(
        &clips,
        &asr,
        &nlu,
        &heldout::Prompts::from_example_scripts(),
        None,
    );
    heldout::print_misses(&results);
    let en = heldout::Figures::of(&results, Lang::En);
    let zh = heldout::Figures::of(&results, Lang::Zh);
    println!("{}\n{}", en.summary(Lang::En), zh.summary(Lang::Zh));
    assert!(en.error_rate() <= MAX_WER_EN, "{}", en.summary(Lang::En));
    assert!(zh.error_rate() <= MAX_MER_ZH, "{}", zh.summary(Lang::Zh));
    assert!(
        en.slot_accuracy() >= MIN_SLOTS_EN,
        "{}",
        en.summary(Lang::En)
    );
    assert!(
        zh.slot_accuracy() >= MIN_SLOTS_ZH,
        "{}",
        zh.summary(Lang::Zh)
    );
}

/// A skills answer Whisper base mishears outright ("它是准制作的制作品" for
/// "Spring Cloud和Kubernetes", dev split, tuned on) is heard as Spring Cloud
/// once the taxonomy's names are boosted, as a live call boosts them.
#[test]
fn skill_names_are_boosted_while_a_skills_answer_is_decoded() {
    let models = ModelDir::locate();
    let asr = AsrEngine::load(&models, AsrConfig::default())
        .expect("Whisper models (run scripts/fetch-models.sh)");
    let clip = heldout::clips("dev")
        .into_iter()
        .find(|c| c.id == "zh-dev-036")
        .expect("zh-dev-036 in the held-out set");
    let prompt = heldout::Prompts::from_example_scripts().for_clip(&clip);
    let bytes = std::fs::read(heldout::dir().join("zh-dev-036.ulaw")).expect("clip");
    let audio = phone_to_asr(&voxhire_media::g711::decode_ulaw(&bytes)).expect("resample");
    let heard = |hotwords| {
        asr.transcribe(DecodeRequest {
            audio: audio.clone(),
            language: Language::Zh,
            prompt: prompt.clone(),
            hotwords,
            offset_ms: 0,
        })
        .expect("decode")
        .text
    };
    let plain = heard(None);
    let boosted = heard(Some(voxhire_engine::interview::skill_hotwords()));
    println!("{} | plain: {plain} | boosted: {boosted}", clip.text);
    assert!(!plain.contains("Spring Cloud"), "{plain}");
    assert!(boosted.contains("Spring Cloud"), "{boosted}");
}
