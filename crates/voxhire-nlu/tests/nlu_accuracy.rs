//! Intent and slot accuracy of the real models and parsers over interview-style
//! utterances as phone-band Whisper transcribes them (tests/data/nlu_{en,zh}.tsv).
//!
//! Prints per-language accuracy and every miss; run with `--nocapture` to see them:
//! `cargo test -p voxhire-nlu --test nlu_accuracy -- --nocapture`.

use std::path::Path;
use std::sync::OnceLock;

use chrono::{NaiveDate, NaiveDateTime};
use voxhire_nlu::{Heard, Intent, IntentExamples, Lang, Nlu, NluContext, SlotKind};
use voxhire_speech::models::ModelDir;

mod labels;

/// Thresholds a few points under what was measured, so a regression fails.
/// Measured 2026-11-26 (debug build, `-- --nocapture`): nlu_en.tsv intents 90/90,
/// slots 40/41; nlu_zh.tsv intents 84/85, slots 37/40. Those two sets were used to
/// write the examples and tune the thresholds, so they overstate accuracy.
const MIN_INTENT_EN: f32 = 0.93;
const MIN_SLOT_EN: f32 = 0.9;
const MIN_INTENT_ZH: f32 = 0.93;
const MIN_SLOT_ZH: f32 = 0.85;
/// The held-out sets were written after tuning and measured once: en intents 39/44
/// (88.6 %), slots 20/22; zh intents 35/40 (87.5 %), slots 18/19. These are the
/// honest figures for unseen phrasings. Their misses then prompted generic fixes
/// (Mandarin repeat/opt-out phrase cues, a few more English examples): 42/44 and
/// 39/40 after, which no longer count as unseen.
const MIN_INTENT_EN_HELD_OUT: f32 = 0.84;
const MIN_SLOT_EN_HELD_OUT: f32 = 0.85;
const MIN_INTENT_ZH_HELD_OUT: f32 = 0.82;
const MIN_SLOT_ZH_HELD_OUT: f32 = 0.85;
/// The second held-out sets, written after the last classifier change and
/// measured once: en intents 27/31 (87.1 %), slots 12/14; zh intents 28/30
/// (93.3 %), slots 13/13. Its English reschedule misses then prompted the
/// call-back cue ("ring me tomorrow"): 30/31 after, no longer unseen.
const MIN_INTENT_EN_HELD_OUT_2: f32 = 0.83;
const MIN_SLOT_EN_HELD_OUT_2: f32 = 0.8;
const MIN_INTENT_ZH_HELD_OUT_2: f32 = 0.88;
const MIN_SLOT_ZH_HELD_OUT_2: f32 = 0.9;

fn nlu() -> &'static Nlu {
    static NLU: OnceLock<Nlu> = OnceLock::new();
    NLU.get_or_init(|| {
        let dir = ModelDir::locate();
        let env = dir
            .onnxruntime()
            .expect("ONNX Runtime (run scripts/fetch-models.sh)");
        Nlu::load(env, dir.root(), &IntentExamples::default())
            .expect("NLU models (run scripts/fetch-models.sh)")
    })
}

fn local_now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 26)
        .and_then(|d| d.and_hms_opt(10, 30, 0))
        .expect("valid date")
}

struct Case {
    line: usize,
    text: String,
    ctx: NluContext,
    intent: Intent,
    slots: Vec<(SlotKind, String)>,
}

fn load_cases(file: &str) -> Vec<Case> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 5, "{file}:{}: expected 5 columns", i + 1);
        let at = format!("{file}:{}", i + 1);
        let expected = labels::parse_expected(cols[1], &at);
        let slots = labels::parse_slots(cols[4], &at);
        cases.push(Case {
            line: i + 1,
            text: cols[0].to_string(),
            ctx: NluContext {
                expected,
                local_now: Some(local_now()),
                yes_no: cols[2] == "yn",
            },
            intent: labels::parse_intent(cols[3]),
            slots,
        });
    }
    cases
}

struct Score {
    intents: (usize, usize),
    slots: (usize, usize),
    /// Expected-kind slots extracted where the annotation has none.
    spurious: usize,
}

fn run(file: &str, lang: Lang, min_cases: usize) -> Score {
    let cases = load_cases(file);
    assert!(
        cases.len() >= min_cases,
        "{file}: only {} cases",
        cases.len()
    );
    let nlu = nlu();
    let mut score = Score {
        intents: (0, 0),
        slots: (0, 0),
        spurious: 0,
    };
    for (turn, c) in cases.iter().enumerate() {
        let heard = Heard {
            text: c.text.clone(),
            lang,
            turn: turn as u32,
            start_ms: 1_000,
            end_ms: 3_000,
            confidence: 0.9,
        };
        let u = nlu.understand(&heard, &c.ctx);
        score.intents.1 += 1;
        if u.intent == c.intent {
            score.intents.0 += 1;
        } else {
            println!(
                "{file}:{} intent {:?} (score {:.2}), want {:?}: {:?}",
                c.line, u.intent, u.intent_score, c.intent, c.text
            );
        }
        for (kind, want) in &c.slots {
            score.slots.1 += 1;
            match labels::slot_matches(&u, *kind, want) {
                Ok(()) => score.slots.0 += 1,
                Err(why) => println!(
                    "{file}:{} slot {} want {want}: {why}: {:?}",
                    c.line,
                    kind.name(),
                    c.text
                ),
            }
        }
        for s in &u.slots {
            if c.ctx.expected.contains(&s.kind) && !c.slots.iter().any(|(k, _)| *k == s.kind) {
                score.spurious += 1;
                println!(
                    "{file}:{} spurious {} {:?}: {:?}",
                    c.line,
                    s.kind.name(),
                    s.value,
                    c.text
                );
            }
        }
    }
    let pct = |(a, b): (usize, usize)| if b == 0 { 1.0 } else { a as f32 / b as f32 };
    println!(
        "{file}: intent accuracy {}/{} = {:.1} %, slot accuracy {}/{} = {:.1} %, spurious expected slots {}",
        score.intents.0,
        score.intents.1,
        100.0 * pct(score.intents),
        score.slots.0,
        score.slots.1,
        100.0 * pct(score.slots),
        score.spurious
    );
    score
}

fn ratio((a, b): (usize, usize)) -> f32 {
    a as f32 / b.max(1) as f32
}

#[test]
fn english_intents_and_slots() {
    let s = run("nlu_en.tsv", Lang::En, 80);
    assert!(
        ratio(s.intents) >= MIN_INTENT_EN,
        "English intent accuracy {:?}",
        s.intents
    );
    assert!(
        ratio(s.slots) >= MIN_SLOT_EN,
        "English slot accuracy {:?}",
        s.slots
    );
}

#[test]
fn mandarin_intents_and_slots() {
    let s = run("nlu_zh.tsv", Lang::Zh, 80);
    assert!(
        ratio(s.intents) >= MIN_INTENT_ZH,
        "Mandarin intent accuracy {:?}",
        s.intents
    );
    assert!(
        ratio(s.slots) >= MIN_SLOT_ZH,
        "Mandarin slot accuracy {:?}",
        s.slots
    );
}

#[test]
fn english_held_out() {
    let s = run("nlu_en_holdout.tsv", Lang::En, 40);
    assert!(
        ratio(s.intents) >= MIN_INTENT_EN_HELD_OUT,
        "English held-out intents {:?}",
        s.intents
    );
    assert!(
        ratio(s.slots) >= MIN_SLOT_EN_HELD_OUT,
        "English held-out slots {:?}",
        s.slots
    );
}

#[test]
fn mandarin_held_out() {
    let s = run("nlu_zh_holdout.tsv", Lang::Zh, 40);
    assert!(
        ratio(s.intents) >= MIN_INTENT_ZH_HELD_OUT,
        "Mandarin held-out intents {:?}",
        s.intents
    );
    assert!(
        ratio(s.slots) >= MIN_SLOT_ZH_HELD_OUT,
        "Mandarin held-out slots {:?}",
        s.slots
    );
}

#[test]
fn english_second_held_out() {
    let s = run("nlu_en_holdout2.tsv", Lang::En, 30);
    assert!(
        ratio(s.intents) >= MIN_INTENT_EN_HELD_OUT_2,
        "English held-out 2 intents {:?}",
        s.intents
    );
    assert!(
        ratio(s.slots) >= MIN_SLOT_EN_HELD_OUT_2,
        "English held-out 2 slots {:?}",
        s.slots
    );
}

#[test]
fn mandarin_second_held_out() {
    let s = run("nlu_zh_holdout2.tsv", Lang::Zh, 30);
    assert!(
        ratio(s.intents) >= MIN_INTENT_ZH_HELD_OUT_2,
        "Mandarin held-out 2 intents {:?}",
        s.intents
    );
    assert!(
        ratio(s.slots) >= MIN_SLOT_ZH_HELD_OUT_2,
        "Mandarin held-out 2 slots {:?}",
        s.slots
    );
}
