//! Answering-machine detection (AMD): after an outbound call is answered, was it a
//! person or a voicemail greeting? Sans-IO, on the VAD's 32 ms chunks from the moment of
//! answer, with the cadence rules carriers' dialers use (Asterisk's `app_amd` is the
//! classic): a person answers with a word or a sentence and then waits for the caller;
//! a machine talks on — a greeting of several seconds with only short pauses — and
//! often ends with a beep.
//!
//! [`Detector::push`] takes each [`VadFrame`] and returns a [`Verdict`] once it is sure
//! (or when the analysis window is over). Its [`BeepDetector`] finds the tone that
//! invites a message: fed on after the decision, [`Detector::beep_at_ms`] says when
//! it came, for leaving a message after it.
//!
//! A greeting is not judged by its length alone: a person who answers with a whole
//! sentence ("Hello, sorry, I'm just driving, who is it?") talks as long as a
//! greeting's first sentence, and differs only in stopping to wait. So a speaker is
//! taken for a machine only when still talking when the analysis ends (3.5 s after the
//! answer): the cost of that wait falls on machines, while a person who stops is
//! taken for a person as soon as they have waited 0.7 s. (Deciding at 1.7 s of
//! greeting, as this detector did until 2026-12-04, took one person in seven for a
//! machine on held-out answers.) And a greeting that pauses after its first sentence
//! ("Welcome to voicemail. …") stops like a person. So the decision is
//! reconsidered with the words: the caller transcribes the greeting heard up to the
//! decision and [`Decision::with_words`] applies what they say (`voxhire_nlu::greeting`)
//! — phrases only a recording says ("leave a message", "语音信箱") make it a machine,
//! a person's question to the caller ("who's calling?", "哪位") a person.
//!
//! The thresholds and the phrase lists were made on the dev, test, blind and holdout
//! splits of `tests/speech/amd/` and are reported on its final split
//! (`tests/amd_accuracy.rs`, `benches/amd_accuracy.rs`).

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};
use serde::Deserialize;

use crate::vad::{VadFrame, VAD_CHUNK, VAD_RATE};

/// How the call was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A short greeting, then silence: a person waiting for the caller.
    Human,
    /// A greeting that goes on, a recording's words, or a beep: a voicemail.
    Machine,
    /// Nobody said anything: a person who waits for the caller to speak first, or a
    /// line with no audio. Treated as a person (the interview asks who it is).
    Silence,
}

/// The detector's thresholds, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AmdConfig {
    /// No speech for this long after the answer: [`Verdict::Silence`].
    pub initial_silence_ms: u64,
    /// Silence this long after speech: [`Verdict::Human`] (someone who has said
    /// their piece and waits for the caller).
    pub after_greeting_silence_ms: u64,
    /// Undecided at this point: [`Verdict::Machine`] if speech is going on (or
    /// paused for less than `talking_pause_ms`), else [`Verdict::Human`].
    pub total_analysis_ms: u64,
    /// At the end of the analysis, a pause this long means the speaker has
    /// stopped: a person who said a whole sentence and waits, where a greeting
    /// goes on. Shorter than `after_greeting_silence_ms`, which must be sure early
    /// on; longer than the pauses inside a sentence. On the dev, test and blind
    /// splits, people still undecided at 2976 ms had paused 352–672 ms,
    /// greetings 0–256 ms.
    pub talking_pause_ms: u64,
    /// The greeting's words are transcribed from the decision's audio, or from the
    /// audio up to this point when the cadence has not decided by then (so the
    /// decode runs while the cadence listens on, and the words are there by ~3 s).
    pub words_at_ms: u64,
}

impl Default for AmdConfig {
    fn default() -> Self {
        AmdConfig {
            initial_silence_ms: 2500,
            after_greeting_silence_ms: 700,
            // 109 chunks. 3232 ms took 3 of 24 people with long first sentences
            // (holdout split) for machines, 3488 ms 1.
            total_analysis_ms: 3488,
            talking_pause_ms: 320,
            words_at_ms: 2200,
        }
    }
}

/// Why the detector decided as it did (for the call's event log and the figures).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    InitialSilence,
    SilenceAfterGreeting,
    Beep,
    /// Still talking (Machine) or stopped (Human) when the analysis ended.
    AnalysisOver,
    /// The greeting's words are a recording's ("please leave a message").
    MachineWords,
    /// The words are a person's: a question to the caller ("who's calling?"), a
    /// check of the line ("can you hear me?").
    PersonWords,
}

/// A decision and when it was made (ms after the answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Decision {
    pub verdict: Verdict,
    pub reason: Reason,
    pub at_ms: u64,
}

impl Decision {
    /// Whether the greeting's words are worth hearing for this decision: not after
    /// a beep (a machine for sure) or when nobody spoke.
    pub fn wants_words(&self) -> bool {
        !matches!(self.reason, Reason::Beep | Reason::InitialSilence)
    }

    /// The decision reconsidered with what the greeting's words say
    /// (`voxhire_nlu::greeting::who_greets`: a recording → Machine, a person → Human),
    /// made `waited_ms` later (how long the transcription ran on past the cadence's
    /// decision).
    #[must_use]
    pub fn with_words(self, words: Option<Verdict>, waited_ms: u64) -> Decision {
        if !self.wants_words() {
            return self;
        }
        let (verdict, reason) = match words {
            Some(Verdict::Machine) => (Verdict::Machine, Reason::MachineWords),
            Some(Verdict::Human) if self.verdict == Verdict::Machine => {
                (Verdict::Human, Reason::PersonWords)
            }
            _ => (self.verdict, self.reason),
        };
        Decision {
            verdict,
            reason,
            at_ms: self.at_ms + waited_ms,
        }
    }
}

/// Audio kept before the greeting's first speech for its transcription.
const WORDS_PRE_ROLL_MS: u64 = 300;

/// One call's detector. Feed it every VAD chunk from the answer on.
#[derive(Debug)]
pub struct Detector {
    config: AmdConfig,
    beep: BeepDetector,
    /// Start of the first speech chunk.
    greeting_start: Option<u64>,
    /// End of the last speech chunk.
    last_speech_end: Option<u64>,
    decision: Option<Decision>,
    /// The end of the first beep heard.
    beep_at_ms: Option<u64>,
}

impl Detector {
    pub fn new(config: AmdConfig) -> Detector {
        Detector {
            config,
            beep: BeepDetector::new(),
            greeting_start: None,
            last_speech_end: None,
            decision: None,
            beep_at_ms: None,
        }
    }

    /// Whether the greeting's words should be transcribed now, `heard_ms` after the
    /// answer: someone spoke, and the cadence has decided (`decided`) or
    /// `words_at_ms` has come. The audio to transcribe starts at
    /// [`words_from_ms`](Self::words_from_ms).
    pub fn words_due(&self, heard_ms: u64, decided: Option<&Decision>) -> bool {
        self.greeting_start.is_some()
            && match decided {
                Some(d) => d.wants_words(),
                None => heard_ms >= self.config.words_at_ms,
            }
    }

    /// Where the audio for the words starts: a little before the greeting.
    pub fn words_from_ms(&self) -> u64 {
        self.greeting_start
            .unwrap_or(0)
            .saturating_sub(WORDS_PRE_ROLL_MS)
    }

    /// When the first beep ended (ms after the answer), before or after the
    /// decision.
    pub fn beep_at_ms(&self) -> Option<u64> {
        self.beep_at_ms
    }

    /// Takes the next chunk (in stream order, from the answer on); returns the
    /// decision when this chunk settles it, once. Chunks after that only go
    /// to the beep finder.
    pub fn push(&mut self, frame: &VadFrame) -> Option<Decision> {
        let start = frame.start_ms();
        let end = frame.end_ms();
        let beep = self.beep.push(frame);
        if beep && self.beep_at_ms.is_none() {
            self.beep_at_ms = Some(end);
        }
        if self.decision.is_some() {
            return None;
        }
        let decide = |verdict, reason| Decision {
            verdict,
            reason,
            at_ms: end,
        };
        let c = self.config;
        let decision = if beep {
            Some(decide(Verdict::Machine, Reason::Beep))
        } else if frame.is_speech {
            self.greeting_start.get_or_insert(start);
            self.last_speech_end = Some(end);
            None
        } else {
            match self.last_speech_end {
                None if end >= c.initial_silence_ms => {
                    Some(decide(Verdict::Silence, Reason::InitialSilence))
                }
                Some(e) if end - e >= c.after_greeting_silence_ms => {
                    Some(decide(Verdict::Human, Reason::SilenceAfterGreeting))
                }
                _ => None,
            }
        };
        let decision = decision.or_else(|| {
            (end >= c.total_analysis_ms).then(|| {
                // Still talking, or in a pause shorter than a person's wait: the
                // greeting goes on.
                let talking = self
                    .last_speech_end
                    .is_some_and(|e| end - e < c.talking_pause_ms);
                let verdict = if talking {
                    Verdict::Machine
                } else {
                    Verdict::Human
                };
                decide(verdict, Reason::AnalysisOver)
            })
        });
        self.decision = decision;
        decision
    }
}

/// Finds a voicemail beep: a steady pure tone between 300 and 2500 Hz lasting at
/// least 4 chunks (128 ms), on 32 ms chunks of 8 kHz audio. A chunk is tonal when the
/// five FFT bins around its strongest peak hold most of its energy (speech spreads
/// its energy over harmonics and formants; a beep does not).
pub struct BeepDetector {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    input: Vec<f32>,
    spectrum: Vec<realfft::num_complex::Complex<f32>>,
    /// Peak bin of the current run of tonal chunks, and the run's length.
    run: Option<(usize, u32)>,
}

impl std::fmt::Debug for BeepDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BeepDetector")
            .field("run", &self.run)
            .finish()
    }
}

/// Chunks in a row a tone must last.
const BEEP_CHUNKS: u32 = 5;
/// Share of a chunk's energy the peak's five bins must hold.
const TONAL_SHARE: f32 = 0.9;
/// Quieter chunks (mean square, full scale 1.0) are line noise, not a beep: -50 dBFS.
const MIN_POWER: f32 = 1e-5;

impl Default for BeepDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl BeepDetector {
    pub fn new() -> BeepDetector {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(VAD_CHUNK);
        let spectrum = fft.make_output_vec();
        let window = (0..VAD_CHUNK)
            .map(|i| {
                let x = std::f32::consts::PI * 2.0 * i as f32 / VAD_CHUNK as f32;
                0.5 - 0.5 * x.cos()
            })
            .collect();
        BeepDetector {
            fft,
            window,
            input: vec![0.0; VAD_CHUNK],
            spectrum,
            run: None,
        }
    }

    /// Takes one chunk; true on the chunk that completes a beep (once per beep).
    /// A chunk the VAD calls speech never counts: a sung or drawn-out syllable
    /// (Mandarin 喂 on a flat tone) can be as pure as a beep for a moment.
    pub fn push(&mut self, frame: &VadFrame) -> bool {
        let peak = if frame.is_speech {
            None
        } else {
            self.tonal_peak(&frame.samples)
        };
        let (run, done) = match (peak, self.run) {
            (Some(k), Some((prev, n))) if k.abs_diff(prev) <= 1 => {
                (Some((prev, n + 1)), n + 1 == BEEP_CHUNKS)
            }
            (Some(k), _) => (Some((k, 1)), BEEP_CHUNKS == 1),
            (None, _) => (None, false),
        };
        self.run = run;
        done
    }

    /// The chunk's peak bin when the chunk is a tone in the beep band.
    fn tonal_peak(&mut self, samples: &[i16; VAD_CHUNK]) -> Option<usize> {
        let power: f32 = samples
            .iter()
            .map(|&s| (f32::from(s) / 32768.0).powi(2))
            .sum::<f32>()
            / VAD_CHUNK as f32;
        if power < MIN_POWER {
            return None;
        }
        for ((x, &s), w) in self.input.iter_mut().zip(samples).zip(&self.window) {
            *x = f32::from(s) / 32768.0 * w;
        }
        self.fft.process(&mut self.input, &mut self.spectrum).ok()?;
        let bin_hz = VAD_RATE as f32 / VAD_CHUNK as f32;
        let band = |hz: f32| (hz / bin_hz).round() as usize;
        let energy: Vec<f32> = self.spectrum.iter().map(|c| c.norm_sqr()).collect();
        let total: f32 = energy[band(100.0)..=band(3800.0)].iter().sum();
        let (k, _) = energy[band(300.0)..=band(2500.0)]
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))?;
        let k = k + band(300.0);
        let around: f32 = energy[k - 2..=k + 2].iter().sum();
        (total > 0.0 && around / total >= TONAL_SHARE).then_some(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: u64, speech: bool, samples: [i16; VAD_CHUNK]) -> VadFrame {
        VadFrame {
            start_sample: n * VAD_CHUNK as u64,
            samples,
            probability: if speech { 0.9 } else { 0.1 },
            is_speech: speech,
        }
    }

    /// Runs a pattern of chunks (true = speech), silence-filled, to a decision.
    fn run(pattern: &[bool]) -> Option<Decision> {
        let mut d = Detector::new(AmdConfig::default());
        pattern
            .iter()
            .enumerate()
            .find_map(|(i, &s)| d.push(&frame(i as u64, s, [0; VAD_CHUNK])))
    }

    fn chunks(ms: u64) -> usize {
        (ms * u64::from(VAD_RATE) / 1000 / VAD_CHUNK as u64) as usize
    }

    fn pattern(parts: &[(bool, u64)]) -> Vec<bool> {
        parts
            .iter()
            .flat_map(|&(s, ms)| std::iter::repeat_n(s, chunks(ms)))
            .collect()
    }

    #[test]
    fn a_short_hello_then_silence_is_a_person() {
        let d = run(&pattern(&[(false, 500), (true, 500), (false, 3000)])).unwrap();
        assert_eq!(
            (d.verdict, d.reason),
            (Verdict::Human, Reason::SilenceAfterGreeting)
        );
        assert!(d.at_ms <= 500 + 500 + 750, "{d:?}");
    }

    #[test]
    fn a_greeting_that_goes_on_is_a_machine() {
        let d = run(&pattern(&[(false, 300), (true, 4000)])).unwrap();
        assert_eq!(
            (d.verdict, d.reason),
            (Verdict::Machine, Reason::AnalysisOver)
        );
        assert_eq!(d.at_ms, AmdConfig::default().total_analysis_ms);
        // Sentences with short pauses between them go on too.
        let sentence = [(true, 1200), (false, 250)];
        let d = run(&pattern(&[sentence, sentence, sentence].concat())).unwrap();
        assert_eq!(
            (d.verdict, d.reason),
            (Verdict::Machine, Reason::AnalysisOver)
        );
    }

    #[test]
    fn a_long_sentence_then_a_wait_is_a_person() {
        // Stopped 0.7 s before the end of the analysis.
        let d = run(&pattern(&[(false, 800), (true, 2000), (false, 3000)])).unwrap();
        assert_eq!(
            (d.verdict, d.reason),
            (Verdict::Human, Reason::SilenceAfterGreeting)
        );
        // Stopped 0.4 s before: still a person, decided when the analysis ends.
        let d = run(&pattern(&[(false, 800), (true, 2300), (false, 3000)])).unwrap();
        assert_eq!(
            (d.verdict, d.reason),
            (Verdict::Human, Reason::AnalysisOver)
        );
    }

    #[test]
    fn nobody_speaking_is_silence() {
        let d = run(&pattern(&[(false, 4000)])).unwrap();
        assert_eq!(
            (d.verdict, d.reason),
            (Verdict::Silence, Reason::InitialSilence)
        );
    }

    #[test]
    fn words_overrule_the_cadence_but_not_a_beep() {
        let at = |verdict, reason| Decision {
            verdict,
            reason,
            at_ms: 2000,
        };
        let person = at(Verdict::Human, Reason::SilenceAfterGreeting);
        let d = person.with_words(Some(Verdict::Machine), 150);
        assert_eq!(
            (d.verdict, d.reason, d.at_ms),
            (Verdict::Machine, Reason::MachineWords, 2150)
        );
        let long = at(Verdict::Machine, Reason::AnalysisOver);
        let d = long.with_words(Some(Verdict::Human), 100);
        assert_eq!((d.verdict, d.reason), (Verdict::Human, Reason::PersonWords));
        // Words that say nothing keep the cadence's decision (and its reason).
        assert_eq!(long.with_words(None, 100).reason, Reason::AnalysisOver);
        // A beep is a machine whatever was said; nobody speaking has no words.
        let beep = at(Verdict::Machine, Reason::Beep);
        assert_eq!(beep.with_words(Some(Verdict::Human), 100), beep);
        assert!(!at(Verdict::Silence, Reason::InitialSilence).wants_words());
    }

    #[test]
    fn a_beep_is_a_machine_and_speech_is_not_a_beep() {
        let tone = |hz: f32, n: u64| {
            let mut s = [0i16; VAD_CHUNK];
            for (i, x) in s.iter_mut().enumerate() {
                let t = (n * VAD_CHUNK as u64 + i as u64) as f32 / 8000.0;
                *x = (8000.0 * (2.0 * std::f32::consts::PI * hz * t).sin()) as i16;
            }
            s
        };
        let mut d = Detector::new(AmdConfig::default());
        let got = (0..10).find_map(|n| d.push(&frame(n, false, tone(1000.0, n))));
        assert_eq!(got.map(|d| d.reason), Some(Reason::Beep));
        // A vowel-like sound: a 150 Hz voice with many harmonics is not a tone.
        let mut b = BeepDetector::new();
        fn voiced(n: u64) -> [i16; VAD_CHUNK] {
            let mut s = [0i16; VAD_CHUNK];
            for (i, x) in s.iter_mut().enumerate() {
                let t = (n * VAD_CHUNK as u64 + i as u64) as f32 / 8000.0;
                let v: f32 = (1..20)
                    .map(|h| (2.0 * std::f32::consts::PI * 150.0 * h as f32 * t).sin() / h as f32)
                    .sum();
                *x = (4000.0 * v) as i16;
            }
            s
        }
        assert!(!(0..20).any(|n| b.push(&frame(n, false, voiced(n)))));
    }
}
