//! The held-out phone-band answer set (tests/speech/heldout, made by
//! tests/speech/make-heldout-set.sh): interview answers in English and Mandarin
//! by several voices through G.711, with reference text and slot labels, split
//! into `dev` (tuned on) and `test` (only reported).
//!
//! [`evaluate`] runs each clip the way a live call does — Whisper with the
//! script's vocabulary prompt for the question the answer belongs to, then the
//! NLU with that question's context — and scores recognition (WER English,
//! mixed character/word error rate Mandarin) and understanding (intent, and each
//! labelled slot's value). Used by `tests/heldout_accuracy.rs` (thresholds) and
//! `benches/heldout_accuracy.rs` (figures and options).
#![allow(dead_code)]

#[path = "../../crates/voxhire-nlu/tests/labels/mod.rs"]
mod labels;
#[path = "../../crates/voxhire-speech/tests/score/mod.rs"]
mod score;

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use voxhire_dialog::InterviewScript;
use voxhire_nlu::{Heard, Intent, Lang, Nlu, NluContext, SlotKind, Understanding};
use voxhire_speech::asr::{
    phone_to_asr, AsrEngine, DecodeRequest, Hotwords, Language, Priority, Recognition,
    StreamingRecognizer, Ticket, Transcript,
};
use voxhire_speech::endpoint::{EndpointConfig, EndpointEvent, Endpointer};
use voxhire_speech::vad::{SileroVad, VadConfig, VadStream};

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/speech/heldout")
}

#[derive(Debug, Clone)]
pub struct Clip {
    pub id: String,
    pub split: String,
    pub lang: Lang,
    pub voice: String,
    pub text: String,
    pub expected: Vec<SlotKind>,
    pub yes_no: bool,
    pub intent: Intent,
    pub slots: Vec<(SlotKind, String)>,
}

/// Clips of `split` ("dev", "test" or "all").
pub fn clips(split: &str) -> Vec<Clip> {
    let manifest = dir().join("MANIFEST.tsv");
    let text = std::fs::read_to_string(&manifest).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (regenerate with tests/speech/make-heldout-set.sh)",
            manifest.display()
        )
    });
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let at = format!("{}:{}", manifest.display(), i + 1);
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 11, "{at}: expected 11 columns");
        if split != "all" && f[1] != split {
            continue;
        }
        out.push(Clip {
            id: f[0].to_string(),
            split: f[1].to_string(),
            lang: match f[2] {
                "zh" => Lang::Zh,
                "en" => Lang::En,
                other => panic!("{at}: language {other:?}"),
            },
            voice: f[3].to_string(),
            text: f[6].to_string(),
            expected: labels::parse_expected(f[7], &at),
            yes_no: f[8] == "yn",
            intent: labels::parse_intent(f[9]),
            slots: labels::parse_slots(f[10], &at),
        });
    }
    out
}

/// The vocabulary prompt a live call gives Whisper for each question, from the
/// example scripts (by the slot kinds the question asks for).
pub struct Prompts {
    by_kind: BTreeMap<(Lang, SlotKind), String>,
    skills: Hotwords,
}

impl Prompts {
    pub fn from_example_scripts() -> Prompts {
        let mut by_kind = BTreeMap::new();
        for file in [
            "config/interview-java-backend.en.toml",
            "config/interview-frontend.zh.toml",
        ] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
            let script =
                InterviewScript::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            for q in script.questions() {
                for lang in [Lang::En, Lang::Zh] {
                    let Some(p) = q.asr_prompt.get(lang) else {
                        continue;
                    };
                    for kind in &q.slots {
                        by_kind.entry((lang, *kind)).or_insert_with(|| p.clone());
                    }
                }
            }
        }
        Prompts {
            by_kind,
            skills: voxhire_engine::interview::skill_hotwords(),
        }
    }

    /// Skill names to boost, for an answer to a skills question, as a live call
    /// does (`ASR_HOTWORDS=0`: none).
    pub fn hotwords_for_clip(&self, clip: &Clip) -> Option<Hotwords> {
        if std::env::var("ASR_HOTWORDS").as_deref() == Ok("0") {
            return None;
        }
        clip.expected
            .contains(&SlotKind::Skills)
            .then(|| self.skills.clone())
    }

    pub fn for_clip(&self, clip: &Clip) -> Option<String> {
        clip.expected
            .iter()
            .find_map(|k| self.by_kind.get(&(clip.lang, *k)).cloned())
    }
}

/// What one clip gave.
#[derive(Debug)]
pub struct ClipResult {
    pub clip: Clip,
    pub heard: String,
    pub decode_ms: u64,
    /// Whisper's confidence (mean token probability).
    pub confidence: f32,
    /// Edit distance and reference length in units (words / characters + Latin words).
    pub errors: usize,
    pub units: usize,
    pub intent_ok: bool,
    /// Per labelled slot: kind, and the miss (None when right).
    pub slots: Vec<(SlotKind, Option<String>)>,
    pub understanding: Understanding,
}

fn local_now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 26)
        .and_then(|d| d.and_hms_opt(10, 30, 0))
        .expect("valid date")
}

/// `pcm` cut `tail_ms` after its last 8 ms within 35 dB of its loudest: the
/// silence a live call's decode sees after the voice, whatever the clip carries.
pub fn trim_tail(mut pcm: Vec<i16>, tail_ms: u32) -> Vec<i16> {
    const FRAME: usize = 64;
    let energy = |f: &[i16]| f.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / f.len() as f64;
    let peak = pcm.chunks(FRAME).map(energy).fold(0.0, f64::max);
    let floor = peak * 10f64.powf(-35.0 / 10.0);
    let last_loud = pcm
        .chunks(FRAME)
        .rposition(|f| energy(f) >= floor)
        .map_or(0, |i| i + 1);
    pcm.truncate(last_loud * FRAME + tail_ms as usize * 8);
    pcm
}

fn read_clip(clip: &Clip) -> Vec<i16> {
    let path = dir().join(format!("{}.ulaw", clip.id));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    voxhire_media::g711::decode_ulaw(&bytes)
}

fn language(lang: Lang) -> Language {
    match lang {
        Lang::Zh => Language::Zh,
        Lang::En => Language::En,
    }
}

/// Recognises every clip as a live call does: 20 ms frames through the VAD and
/// the endpointer (a pause decode at 80 ms of silence, the final at 700 ms) into
/// a [`StreamingRecognizer`], one clip after another. Each pause decode is
/// waited for before the audio goes on (as when it comes back while the
/// candidate is still talking); the result is the utterances' finals joined,
/// its decode time the last final's.
pub fn evaluate_streaming(
    clips: &[Clip],
    asr: &Arc<AsrEngine>,
    vad: &Arc<SileroVad>,
    nlu: &Nlu,
    prompts: &Prompts,
) -> Vec<ClipResult> {
    let decoded = clips
        .iter()
        .map(|clip| {
            let mut pcm = read_clip(clip);
            pcm.extend(std::iter::repeat_n(0i16, 8 * 1500));
            let mut vad = VadStream::new(vad.clone(), VadConfig::default());
            let mut endpointer = Endpointer::new(EndpointConfig {
                end_silence_ms: 700,
                max_utterance_ms: 60_000,
                progress_ms: 60_000,
                ..EndpointConfig::default()
            });
            let mut rec = StreamingRecognizer::new(asr.clone(), language(clip.lang));
            rec.set_prompt(prompts.for_clip(clip));
            rec.set_hotwords(prompts.hotwords_for_clip(clip));
            let mut finals: Vec<Transcript> = Vec::new();
            let take = |r: Recognition, finals: &mut Vec<Transcript>| {
                if let Recognition::Final(f) = r {
                    finals.push(f.transcript);
                }
            };
            for frame in pcm.chunks(160) {
                for f in vad.push(frame).expect("VAD") {
                    endpointer.handle_frame(f.is_speech, &f.samples);
                }
                while let Some(event) = endpointer.poll_event() {
                    let paused = matches!(event, EndpointEvent::SpeechPaused { .. });
                    rec.handle_event(&event).expect("ASR accepts the utterance");
                    if paused {
                        if let Some(r) = rec.wait_recognition() {
                            take(r.expect("decode"), &mut finals);
                        }
                    }
                }
            }
            if endpointer.flush() {
                while let Some(event) = endpointer.poll_event() {
                    rec.handle_event(&event).expect("ASR accepts the utterance");
                }
            }
            while let Some(r) = rec.wait_recognition() {
                take(r.expect("decode"), &mut finals);
            }
            let mut t = finals
                .pop()
                .unwrap_or_else(|| panic!("{}: nothing heard", clip.id));
            if !finals.is_empty() {
                let sep = if clip.lang == Lang::Zh { "" } else { " " };
                let mut text: Vec<String> = finals.iter().map(|f| f.text.clone()).collect();
                text.push(t.text.clone());
                t.text = text.join(sep);
                let mut segments: Vec<_> = finals.into_iter().flat_map(|f| f.segments).collect();
                segments.append(&mut t.segments);
                t.segments = segments;
            }
            (clip, t)
        })
        .collect();
    score(decoded, nlu)
}

/// Recognises and understands every clip (keeping every ASR worker busy);
/// `tail_ms` trims each clip's closing silence to that (see [`trim_tail`]).
pub fn evaluate(
    clips: &[Clip],
    asr: &AsrEngine,
    nlu: &Nlu,
    prompts: &Prompts,
    tail_ms: Option<u32>,
) -> Vec<ClipResult> {
    let window = asr.config().workers * 2;
    let mut pending: VecDeque<(&Clip, Ticket)> = VecDeque::new();
    let mut decoded = Vec::new();
    for clip in clips {
        let pcm = read_clip(clip);
        let pcm = match tail_ms {
            Some(ms) => trim_tail(pcm, ms),
            None => pcm,
        };
        let request = DecodeRequest {
            audio: phone_to_asr(&pcm).expect("resampling"),
            language: language(clip.lang),
            prompt: prompts.for_clip(clip),
            hotwords: prompts.hotwords_for_clip(clip),
            offset_ms: 0,
        };
        if pending.len() >= window {
            let (c, t) = pending.pop_front().expect("non-empty");
            decoded.push((c, t.wait().expect("decode")));
        }
        pending.push_back((clip, asr.submit(request, Priority::Final).expect("submit")));
    }
    for (c, t) in pending {
        decoded.push((c, t.wait().expect("decode")));
    }
    score(decoded, nlu)
}

/// Scores and understands what was heard of each clip.
fn score(decoded: Vec<(&Clip, Transcript)>, nlu: &Nlu) -> Vec<ClipResult> {
    decoded
        .into_iter()
        .enumerate()
        .map(|(turn, (clip, t))| {
            let (errors, units) = match clip.lang {
                Lang::Zh => {
                    let (r, h) = (
                        score::normalise_zh(&clip.text),
                        score::normalise_zh(&t.text),
                    );
                    (score::edit_distance(&r, &h), r.len())
                }
                Lang::En => {
                    let (r, h) = (
                        score::normalise_en(&clip.text),
                        score::normalise_en(&t.text),
                    );
                    (score::edit_distance(&r, &h), r.len())
                }
            };
            let heard = Heard {
                text: t.text.clone(),
                lang: clip.lang,
                turn: turn as u32,
                start_ms: 0,
                end_ms: 0,
                confidence: t.confidence(),
            };
            let ctx = NluContext {
                expected: clip.expected.clone(),
                local_now: Some(local_now()),
                yes_no: clip.yes_no,
            };
            let u = nlu.understand(&heard, &ctx);
            let slots = clip
                .slots
                .iter()
                .map(|(kind, want)| (*kind, labels::slot_matches(&u, *kind, want).err()))
                .collect();
            ClipResult {
                clip: clip.clone(),
                heard: t.text.clone(),
                decode_ms: t.decode_ms,
                confidence: t.confidence(),
                errors,
                units,
                intent_ok: u.intent == clip.intent,
                slots,
                understanding: u,
            }
        })
        .collect()
}

/// Figures for one language.
#[derive(Debug, Default, Clone)]
pub struct Figures {
    pub clips: usize,
    pub errors: usize,
    pub units: usize,
    pub decode_ms: Vec<u64>,
    pub intents: (usize, usize),
    /// Per slot kind: (right, labelled).
    pub slots: BTreeMap<&'static str, (usize, usize)>,
}

impl Figures {
    pub fn of(results: &[ClipResult], lang: Lang) -> Figures {
        let mut f = Figures::default();
        for r in results.iter().filter(|r| r.clip.lang == lang) {
            f.clips += 1;
            f.errors += r.errors;
            f.units += r.units;
            f.decode_ms.push(r.decode_ms);
            f.intents.1 += 1;
            f.intents.0 += usize::from(r.intent_ok);
            for (kind, miss) in &r.slots {
                let e = f.slots.entry(kind.name()).or_default();
                e.1 += 1;
                e.0 += usize::from(miss.is_none());
            }
        }
        f.decode_ms.sort_unstable();
        f
    }

    /// WER (English) or mixed error rate (Mandarin).
    pub fn error_rate(&self) -> f64 {
        self.errors as f64 / self.units.max(1) as f64
    }

    pub fn slot_accuracy(&self) -> f64 {
        let (ok, n) = self
            .slots
            .values()
            .fold((0, 0), |(a, b), (ok, n)| (a + ok, b + n));
        ok as f64 / n.max(1) as f64
    }

    pub fn decode_percentile(&self, p: usize) -> u64 {
        if self.decode_ms.is_empty() {
            return 0;
        }
        let rank = (p * self.decode_ms.len()).div_ceil(100).max(1);
        self.decode_ms[rank.min(self.decode_ms.len()) - 1]
    }

    pub fn summary(&self, lang: Lang) -> String {
        let name = if lang == Lang::Zh {
            "CER/MER zh"
        } else {
            "WER en"
        };
        let mut s = format!(
            "{name}: {:.1} % over {} clips; decode p50 {} ms p95 {} ms; intents {}/{}; slots {:.1} %",
            100.0 * self.error_rate(),
            self.clips,
            self.decode_percentile(50),
            self.decode_percentile(95),
            self.intents.0,
            self.intents.1,
            100.0 * self.slot_accuracy()
        );
        for (kind, (ok, n)) in &self.slots {
            s.push_str(&format!("; {kind} {ok}/{n}"));
        }
        s
    }
}

/// One line per clip that lost anything (for `--nocapture` / the bench).
pub fn print_misses(results: &[ClipResult]) {
    for r in results {
        let slot_misses: Vec<String> = r
            .slots
            .iter()
            .filter_map(|(k, m)| m.as_ref().map(|m| format!("{}: {m}", k.name())))
            .collect();
        if r.errors == 0 && r.intent_ok && slot_misses.is_empty() {
            continue;
        }
        println!(
            "{:<12} {:<12} {:>2}/{:<2} {:>5} ms  {}  |  {}{}{}",
            r.clip.id,
            r.clip.voice,
            r.errors,
            r.units,
            r.decode_ms,
            r.clip.text,
            r.heard,
            if r.intent_ok {
                String::new()
            } else {
                format!("  [intent {:?}]", r.understanding.intent)
            },
            if slot_misses.is_empty() {
                String::new()
            } else {
                format!("  [{}]", slot_misses.join("; "))
            }
        );
    }
}
