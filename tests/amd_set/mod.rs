//! The answering-machine detection set (tests/speech/amd, made by
//! tests/speech/make-amd-set.sh): each clip through the real Silero VAD and the
//! detector as a call would run them, and the figures. Shared by
//! `tests/amd_accuracy.rs` (the test split) and `benches/amd_accuracy.rs` (either).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use voxhire_engine::voicemail;
use voxhire_speech::amd::{AmdConfig, Decision, Detector, Verdict};
use voxhire_speech::asr::{phone_to_asr, AsrEngine, DecodeRequest, Language};
use voxhire_speech::vad::{SileroVad, VadConfig, VadStream};

pub struct Clip {
    pub id: String,
    pub lang: String,
    pub human: bool,
    pub kind: String,
    /// Where the beep starts, if the greeting has one (seconds).
    pub beep_start_s: Option<f64>,
    pub text: String,
    pub path: PathBuf,
}

fn set_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/speech/amd")
}

/// The clips of one split (`dev` or `test`).
pub fn clips(split: &str) -> Vec<Clip> {
    let manifest = std::fs::read_to_string(set_dir().join("MANIFEST.tsv"))
        .expect("tests/speech/amd/MANIFEST.tsv (tests/speech/make-amd-set.sh makes it)");
    manifest
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|f| f[1] == split)
        .map(|f| Clip {
            id: f[0].to_owned(),
            lang: f[2].to_owned(),
            human: f[4] == "human",
            kind: f[5].to_owned(),
            beep_start_s: f[9].parse().ok(),
            text: f[11].to_owned(),
            path: set_dir().join(format!("{}.ulaw", f[0])),
        })
        .collect()
}

#[derive(Clone)]
pub struct ClipResult {
    /// The decision as the call makes it (with the words' decode time, wall clock).
    pub decision: Decision,
    /// What Whisper heard of the greeting, when the words were asked.
    pub words: Option<String>,
    /// The cadence's decision, before the words (its `at_ms` is audio time: the same
    /// on any machine).
    pub cadence: Decision,
    /// The audio the words were heard in (ms from the answer).
    pub words_span: Option<(u64, u64)>,
    /// The VAD's speech, (start, end) ms from the answer, over the whole clip.
    pub speech: Vec<(u64, u64)>,
    /// When the beep detector fired (ms from the answer), run on after the decision.
    pub beep_at_ms: Option<u64>,
}

impl ClipResult {
    /// A person is right when not called a machine (silence is treated as a person).
    pub fn correct(&self, clip: &Clip) -> bool {
        (self.decision.verdict == Verdict::Machine) != clip.human
    }
}

/// Runs one clip's audio, in 20 ms RTP frames, through the VAD and the detector,
/// then (with `asr`) checks the decision against the greeting's words as a call
/// does (`voxhire-engine` `voicemail`): one decode of the audio from just before the
/// greeting to the decision or to `words_at_ms`, whichever came first. In a call the
/// decode runs from then while the line plays on, so the decision is ready at the
/// later of the cadence's decision and the decode's end.
pub fn evaluate(
    clip: &Clip,
    vad: &Arc<SileroVad>,
    config: AmdConfig,
    asr: Option<&AsrEngine>,
) -> ClipResult {
    let bytes = std::fs::read(&clip.path).expect("clip");
    let pcm = voxhire_media::g711::decode_ulaw(&bytes);
    let mut stream = VadStream::new(vad.clone(), VadConfig::default());
    let mut detector = Detector::new(config);
    let mut decision = None;
    // (audio from, to) for the words, in ms, when they became due.
    let mut words_span = None;
    let mut speech: Vec<(u64, u64)> = Vec::new();
    for frame in pcm.chunks(160) {
        for f in stream.push(frame).expect("VAD") {
            decision = decision.or(detector.push(&f));
            match speech.last_mut() {
                Some((_, end)) if f.is_speech && *end == f.start_ms() => *end = f.end_ms(),
                _ if f.is_speech => speech.push((f.start_ms(), f.end_ms())),
                _ => {}
            }
            if words_span.is_none() && detector.words_due(f.end_ms(), decision.as_ref()) {
                words_span = Some((detector.words_from_ms(), f.end_ms()));
            }
        }
    }
    let mut decision = decision.expect("the detector decides within the clip");
    let cadence = decision;
    let mut words = None;
    if let (Some(asr), Some((from_ms, to_ms))) =
        (asr, words_span.filter(|_| decision.wants_words()))
    {
        let sample = |ms: u64| ((ms * 8) as usize).min(pcm.len());
        let started = std::time::Instant::now();
        let t = asr
            .transcribe(DecodeRequest {
                audio: phone_to_asr(&pcm[sample(from_ms)..sample(to_ms)]).expect("resample"),
                language: if clip.lang == "zh" {
                    Language::Zh
                } else {
                    Language::En
                },
                prompt: None,
                hotwords: None,
                offset_ms: from_ms,
            })
            .expect("Whisper decodes the greeting");
        let ready_ms = to_ms + started.elapsed().as_millis() as u64;
        let waited = ready_ms.saturating_sub(decision.at_ms);
        decision = decision.with_words(voicemail::words_verdict(&t.text), waited);
        words = Some(t.text);
    }
    ClipResult {
        cadence,
        words_span,
        speech,
        decision,
        words,
        beep_at_ms: detector.beep_at_ms(),
    }
}

/// Accuracy and decision times over a set of results.
pub struct Figures {
    pub clips: usize,
    pub correct: usize,
    pub humans_as_machines: usize,
    pub machines_as_humans: usize,
    /// When the clips were decided (p50, max, ms after the answer).
    pub decided_ms: (u64, u64),
    /// When the people were decided (p50, max): how long a person waits.
    pub people_decided_ms: (u64, u64),
    /// The cadence's latest decision (audio time, machine-independent).
    pub cadence_max_ms: u64,
    pub beeps: usize,
    pub beeps_found: usize,
    pub false_beeps: usize,
}

impl Figures {
    pub fn of(results: &[(&Clip, ClipResult)]) -> Figures {
        let decided = |people_only: bool| {
            let mut at: Vec<u64> = results
                .iter()
                .filter(|(c, _)| c.human || !people_only)
                .map(|(_, r)| r.decision.at_ms)
                .collect();
            at.sort_unstable();
            (
                at.get(at.len() / 2).copied().unwrap_or(0),
                at.last().copied().unwrap_or(0),
            )
        };
        let beep_ok = |c: &Clip, r: &ClipResult| match (c.beep_start_s, r.beep_at_ms) {
            (Some(start), Some(at)) => {
                let start = (start * 1000.0) as u64;
                at >= start && at <= start + 400
            }
            _ => false,
        };
        Figures {
            clips: results.len(),
            correct: results.iter().filter(|(c, r)| r.correct(c)).count(),
            humans_as_machines: results
                .iter()
                .filter(|(c, r)| c.human && !r.correct(c))
                .count(),
            machines_as_humans: results
                .iter()
                .filter(|(c, r)| !c.human && !r.correct(c))
                .count(),
            decided_ms: decided(false),
            people_decided_ms: decided(true),
            cadence_max_ms: results
                .iter()
                .map(|(_, r)| r.cadence.at_ms)
                .max()
                .unwrap_or(0),
            beeps: results
                .iter()
                .filter(|(c, _)| c.beep_start_s.is_some())
                .count(),
            beeps_found: results.iter().filter(|(c, r)| beep_ok(c, r)).count(),
            false_beeps: results
                .iter()
                .filter(|(c, r)| r.beep_at_ms.is_some() && !beep_ok(c, r))
                .count(),
        }
    }

    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.clips.max(1) as f64
    }

    pub fn summary(&self, name: &str) -> String {
        format!(
            "{name}: {}/{} right ({:.1} %): {} people taken for machines, {} machines for people; \
             decided at p50 {} ms, max {} ms after the answer (people p50 {} ms, max {} ms); \
             beeps found {}/{} (false {})",
            self.correct,
            self.clips,
            self.accuracy() * 100.0,
            self.humans_as_machines,
            self.machines_as_humans,
            self.decided_ms.0,
            self.decided_ms.1,
            self.people_decided_ms.0,
            self.people_decided_ms.1,
            self.beeps_found,
            self.beeps,
            self.false_beeps
        )
    }
}

/// Runs every clip and prints the misses.
pub fn run<'a>(
    clips: &'a [Clip],
    vad: &Arc<SileroVad>,
    config: AmdConfig,
    asr: Option<&AsrEngine>,
) -> Vec<(&'a Clip, ClipResult)> {
    let results: Vec<_> = clips
        .iter()
        .map(|c| (c, evaluate(c, vad, config, asr)))
        .collect();
    let every = std::env::var("AMD_VERBOSE").is_ok_and(|v| v == "1");
    for (c, r) in &results {
        if every {
            println!(
                "clip {} {} {:?}: cadence {:?} {:?} at {} → {:?} {:?} at {}; words {:?} {:?}",
                c.id,
                if c.human { "human" } else { "machine" },
                c.text,
                r.cadence.verdict,
                r.cadence.reason,
                r.cadence.at_ms,
                r.decision.verdict,
                r.decision.reason,
                r.decision.at_ms,
                r.words_span,
                r.words.as_deref().unwrap_or("-")
            );
            println!("  speech {:?}", r.speech);
        }
        if !r.correct(c) {
            println!(
                "miss {} ({}, {}): {:?} at {} ms ({:?}) — {} — heard {:?}",
                c.id,
                if c.human { "human" } else { "machine" },
                c.kind,
                r.decision.verdict,
                r.decision.at_ms,
                r.decision.reason,
                c.text,
                r.words.as_deref().unwrap_or("-")
            );
        }
    }
    results
}
