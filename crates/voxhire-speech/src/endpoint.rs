//! Endpointing: turns per-frame VAD decisions into utterances.
//!
//! Sans-IO and model-free: the caller feeds each VAD frame's decision and audio,
//! the endpointer keeps its own clock from the samples it has seen (8 kHz, so a
//! replayed recording gives the same decisions as the live call) and queues
//! [`EndpointEvent`]s for [`Endpointer::poll_event`].
//!
//! ```
//! use voxhire_speech::endpoint::{Endpointer, EndpointConfig, EndpointEvent};
//! let mut ep = Endpointer::new(EndpointConfig::default());
//! // In a call: `for f in vad.push(&rtp_frame)? { ep.handle_frame(f.is_speech, &f.samples) }`
//! for i in 0..100 {
//!     let speech = (10..60).contains(&i); // 32 ms frames: 1.6 s of speech
//!     ep.handle_frame(speech, &[0i16; 256]);
//!     while let Some(event) = ep.poll_event() {
//!         match event {
//!             EndpointEvent::SpeechStarted { at } => println!("barge-in at {at:?}"),
//!             EndpointEvent::UtteranceProgress { audio, .. } => println!("partial over {} samples", audio.len()),
//!             EndpointEvent::SpeechPaused { audio, .. } => println!("speculative final over {} samples", audio.len()),
//!             EndpointEvent::SpeechResumed { .. } => println!("the speculative final is stale"),
//!             EndpointEvent::UtteranceEnded(u) => println!("final: {:?}..{:?} {:?}", u.start, u.end, u.reason),
//!         }
//!     }
//! }
//! ```

use std::collections::VecDeque;
use std::time::Duration;

use serde::Deserialize;

/// Rate of the audio the endpointer sees (the call's rate).
const RATE: u64 = voxhire_media::PCM_RATE as u64;

/// Tunable per interview script (and per question): these decide whether the agent
/// feels fast or rude.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EndpointConfig {
    /// Speech needed before an utterance counts as started (filters coughs, clicks).
    pub min_speech_ms: u32,
    /// Silence after speech that ends the candidate's turn.
    pub end_silence_ms: u32,
    /// An utterance longer than this is cut (and the next one starts).
    pub max_utterance_ms: u32,
    /// Audio kept before the detected start (VAD onsets lag the first phoneme).
    pub pre_roll_ms: u32,
    /// Silence after speech that counts as a pause: [`EndpointEvent::SpeechPaused`]
    /// is sent then (the speculative decode starts), and it is the most trailing
    /// silence an utterance keeps. Shorter means an earlier reply when the answer
    /// is complete, and more speculative decodes of mid-sentence pauses.
    pub pause_ms: u32,
    /// New audio between two [`EndpointEvent::UtteranceProgress`] events (partial ASR).
    pub progress_ms: u32,
    /// How far back from the VAD's last speech frame the end of speech may be moved
    /// to where the voice itself stopped (see [`Endpointer`]'s voice end). Silero's
    /// decision trails the voice by 30-260 ms (its context window, the hysteresis);
    /// every silence above counts from the voice's end. 0: from the VAD's.
    pub voice_end_trim_ms: u32,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        EndpointConfig {
            min_speech_ms: 200,
            end_silence_ms: 600,
            max_utterance_ms: 15_000,
            pre_roll_ms: 200,
            // 80 ms after the voice's end; Silero's decision trails the voice by
            // 30-260 ms (about 100 ms on the example calls), so the pause is
            // usually heard at the VAD's first silent frame. The decode then runs
            // while the silence goes on; 150 ms (until 2026-12-04) started it
            // ~60 ms later. Whisper reads 80 ms of closing silence as well as 150
            // (held-out dev, clips cut 80 / 150 ms after the voice: WER 12.4 /
            // 12.8 %, Mandarin error 22.2 / 23.1 %).
            pause_ms: 80,
            progress_ms: 700,
            voice_end_trim_ms: 256,
        }
    }
}

/// Why an utterance ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// `end_silence_ms` of silence after speech.
    Silence,
    /// `max_utterance_ms` reached while still speaking.
    MaxLength,
}

/// A finished utterance and its timings (all on the stream's sample clock).
#[derive(Debug, Clone, PartialEq)]
pub struct Utterance {
    /// 8 kHz audio: pre-roll, the speech, and up to `pause_ms` of the silence after it.
    pub audio: Vec<i16>,
    /// Stream time of `audio[0]`.
    pub audio_start: Duration,
    /// Start of the first speech frame.
    pub start: Duration,
    /// End of the voice: the last speech frame's end, moved back to where the voice
    /// stopped standing out of the line (see [`Endpointer`]).
    pub end: Duration,
    /// When the endpoint fired: `end + end_silence` for [`EndReason::Silence`].
    /// `detected_at - end` is the endpointing delay the candidate waits through.
    pub detected_at: Duration,
    pub reason: EndReason,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EndpointEvent {
    /// `min_speech_ms` of speech seen; `at` is when that speech began (for barge-in).
    SpeechStarted {
        at: Duration,
    },
    /// `progress_ms` more audio of the utterance in progress: time for a partial.
    UtteranceProgress {
        /// The utterance so far (from the pre-roll on).
        audio: Vec<i16>,
        start: Duration,
        now: Duration,
    },
    /// The candidate has paused for `pause_ms`: `audio` is exactly what
    /// [`EndpointEvent::UtteranceEnded`] will carry if the pause lasts to
    /// `end_silence_ms`. Decoding it now hides the decode inside the rest of the
    /// end-of-turn silence. Not sent if `pause_ms >= end_silence_ms`.
    SpeechPaused {
        audio: Vec<i16>,
        start: Duration,
        /// End of the voice (the final's `end`, if no speech follows).
        end: Duration,
    },
    /// Speech again after [`EndpointEvent::SpeechPaused`], in the same utterance:
    /// the pause's audio is no longer what the final will carry (a decode of it
    /// can be dropped).
    SpeechResumed {
        /// Start of the utterance.
        start: Duration,
    },
    UtteranceEnded(Utterance),
}

#[derive(Debug)]
enum State {
    /// No speech: only the pre-roll ring is kept.
    Idle,
    /// Speech seen, not yet `min_speech_ms` of it.
    Onset {
        /// Sample position of the first speech frame.
        start: u64,
        speech: u64,
        silence: u64,
    },
    /// In an utterance.
    Speaking {
        start: u64,
        /// Sample position just after the last speech frame.
        last_speech_end: u64,
        /// Speech position (sample clock) at the last progress event.
        progressed: u64,
        /// Whether SpeechPaused was sent for the current `last_speech_end`.
        paused: bool,
    },
}

/// Where, inside the VAD's speech, the voice last stood out of the line: the
/// end of speech the candidate hears, which the VAD's decision trails.
#[derive(Debug, Default)]
struct VoiceEnd {
    /// The line's noise (RMS), followed on the VAD's silent frames: it falls at
    /// once and rises slowly, so a burst of noise barely moves it.
    noise: Option<f32>,
    /// Loudest [`LOUDNESS_STEP`] of the utterance in progress.
    peak: f32,
    /// Sample position just after the last loud step of speech.
    end: u64,
}

/// Loudness is judged per 8 ms.
const LOUDNESS_STEP: usize = 64;
/// Voice is at least 10 dB above the noise,
const ABOVE_NOISE: f32 = 3.16;
/// no more than 30 dB below the utterance's loudest (a soft final consonant is
/// voice; the VAD's trailing frames of breath and line noise are not),
const BELOW_PEAK: f32 = 0.0316;
/// and above -60 dBFS.
const MIN_VOICE_RMS: f32 = 33.0;
/// The noise estimate rises at most this much per frame (~2.5 dB a second).
const NOISE_RISE: f32 = 1.01;

fn rms(samples: &[i16]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len() as f64).sqrt() as f32
}

impl VoiceEnd {
    /// Takes one VAD frame starting at sample `at`.
    fn observe(&mut self, is_speech: bool, at: u64, frame: &[i16]) {
        if !is_speech {
            let level = rms(frame);
            self.noise = Some(match self.noise {
                Some(n) if level > n => level.min(n * NOISE_RISE),
                _ => level,
            });
            return;
        }
        // No allocation per frame: one pass for the peak, then from the end back to
        // the last loud step (usually the frame's last).
        self.peak = frame
            .chunks(LOUDNESS_STEP)
            .map(rms)
            .fold(self.peak, f32::max);
        let threshold = (self.noise.unwrap_or(0.0) * ABOVE_NOISE)
            .max(self.peak * BELOW_PEAK)
            .max(MIN_VOICE_RMS);
        if let Some(i) = frame
            .chunks(LOUDNESS_STEP)
            .rposition(|step| rms(step) >= threshold)
        {
            self.end = at + ((i + 1) * LOUDNESS_STEP).min(frame.len()) as u64;
        }
    }
}

/// One call's endpointer.
///
/// Silences count from the voice's end, not the VAD's: within the last
/// `voice_end_trim_ms` of the VAD's speech, the last 8 ms that is 10 dB above the
/// line's noise and within 30 dB of the utterance's loudest. The VAD still decides
/// whether the candidate is speaking (a pause needs a silent frame), so this moves
/// when a pause or the end of turn is heard, never whether.
#[derive(Debug)]
pub struct Endpointer {
    config: EndpointConfig,
    state: State,
    /// Audio of the current onset/utterance, starting `pre_roll` before it; while
    /// idle, the last `pre_roll` of audio.
    audio: Vec<i16>,
    /// Stream position of `audio[0]`.
    audio_start: u64,
    /// Samples seen so far: the clock.
    now: u64,
    voice: VoiceEnd,
    events: VecDeque<EndpointEvent>,
}

fn samples(ms: u32) -> u64 {
    u64::from(ms) * RATE / 1000
}

fn time(samples: u64) -> Duration {
    Duration::from_micros(samples * 1_000_000 / RATE)
}

impl Endpointer {
    pub fn new(config: EndpointConfig) -> Self {
        Endpointer {
            config,
            state: State::Idle,
            audio: Vec::new(),
            audio_start: 0,
            now: 0,
            voice: VoiceEnd::default(),
            events: VecDeque::new(),
        }
    }

    // Getters.

    pub fn config(&self) -> EndpointConfig {
        self.config
    }

    /// Stream time: the audio fed so far.
    pub fn now(&self) -> Duration {
        time(self.now)
    }

    /// Whether an utterance has started and not yet ended.
    pub fn in_utterance(&self) -> bool {
        matches!(self.state, State::Speaking { .. })
    }

    // Inputs.

    /// Feeds one VAD frame: its decision and its 8 kHz audio (any length).
    pub fn handle_frame(&mut self, is_speech: bool, frame: &[i16]) {
        let frame_start = self.now;
        let len = frame.len() as u64;
        self.now += len;
        self.audio.extend_from_slice(frame);
        if is_speech && matches!(self.state, State::Idle) {
            self.voice.peak = 0.0;
        }
        self.voice.observe(is_speech, frame_start, frame);
        let c = self.config;
        self.state = match std::mem::replace(&mut self.state, State::Idle) {
            State::Idle if is_speech => self.onset_or_start(frame_start, len, 0),
            State::Idle => {
                self.trim_to_pre_roll();
                State::Idle
            }
            State::Onset {
                start,
                speech,
                silence,
            } => {
                if is_speech {
                    self.onset_or_start(start, speech + len, silence)
                } else if silence + len > samples(c.min_speech_ms) {
                    // A blip (cough, click) followed by more silence than the speech
                    // it needed: forget it.
                    self.trim_to_pre_roll();
                    State::Idle
                } else {
                    State::Onset {
                        start,
                        speech,
                        silence: silence + len,
                    }
                }
            }
            State::Speaking {
                start,
                last_speech_end,
                progressed,
                paused,
            } => {
                let last_speech_end = if is_speech { self.now } else { last_speech_end };
                let voice_end = self.voice_end(start, last_speech_end);
                let silence = self.now - voice_end;
                if !is_speech && silence >= samples(c.end_silence_ms) {
                    self.end(start, voice_end, EndReason::Silence);
                    State::Idle
                } else if self.now - start >= samples(c.max_utterance_ms) {
                    // Cut while speaking: the next piece goes on from here.
                    self.end(start, last_speech_end, EndReason::MaxLength);
                    State::Idle
                } else if !is_speech && !paused && silence >= samples(c.pause_ms) {
                    self.events.push_back(EndpointEvent::SpeechPaused {
                        audio: self.audio[..self.utterance_len(voice_end)].to_vec(),
                        start: time(start),
                        end: time(voice_end),
                    });
                    State::Speaking {
                        start,
                        last_speech_end,
                        progressed,
                        paused: true,
                    }
                } else {
                    if paused && is_speech {
                        self.events
                            .push_back(EndpointEvent::SpeechResumed { start: time(start) });
                    }
                    let progressed = self.maybe_progress(start, last_speech_end, progressed);
                    State::Speaking {
                        start,
                        last_speech_end,
                        progressed,
                        paused: paused && !is_speech,
                    }
                }
            }
        };
    }

    /// Changes the tuning (e.g. per question); applies from the next frame.
    pub fn set_config(&mut self, config: EndpointConfig) {
        self.config = config;
    }

    /// Ends the utterance in progress now (the call hung up, or the agent decided the
    /// candidate is done). Returns whether one was in progress.
    pub fn flush(&mut self) -> bool {
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Speaking {
                start,
                last_speech_end,
                ..
            } => {
                let voice_end = self.voice_end(start, last_speech_end);
                self.end(start, voice_end, EndReason::Silence);
                true
            }
            _ => {
                self.trim_to_pre_roll();
                false
            }
        }
    }

    // Outputs.

    #[must_use]
    pub fn poll_event(&mut self) -> Option<EndpointEvent> {
        self.events.pop_front()
    }

    // Internals.

    /// The end of the voice in an utterance from `start` whose last VAD speech
    /// frame ended at `last_speech_end` (see [`Endpointer`]).
    fn voice_end(&self, start: u64, last_speech_end: u64) -> u64 {
        let earliest = last_speech_end
            .saturating_sub(samples(self.config.voice_end_trim_ms))
            .max(start);
        self.voice.end.clamp(earliest, last_speech_end)
    }

    fn onset_or_start(&mut self, start: u64, speech: u64, silence: u64) -> State {
        if speech >= samples(self.config.min_speech_ms) {
            self.events
                .push_back(EndpointEvent::SpeechStarted { at: time(start) });
            State::Speaking {
                start,
                last_speech_end: self.now,
                progressed: self.now,
                paused: false,
            }
        } else {
            State::Onset {
                start,
                speech,
                silence,
            }
        }
    }

    /// A progress event once speech has advanced `progress_ms` past the last one.
    /// Trailing silence doesn't count: a partial over it would only repeat the last
    /// one while the final decode is about to start.
    fn maybe_progress(&mut self, start: u64, last_speech_end: u64, progressed: u64) -> u64 {
        let step = samples(self.config.progress_ms).max(1);
        if last_speech_end >= progressed + step {
            self.events.push_back(EndpointEvent::UtteranceProgress {
                audio: self.audio.clone(),
                start: time(start),
                now: time(self.now),
            });
            last_speech_end
        } else {
            progressed
        }
    }

    /// Length of the utterance's audio if it ends with the speech at `last_speech_end`:
    /// up to pre_roll of the closing silence is kept (Whisper does better with a
    /// little silence after the last word, but every 20 ms costs decode time).
    fn utterance_len(&self, last_speech_end: u64) -> usize {
        let keep_until = (last_speech_end + samples(self.config.pause_ms)).min(self.now);
        (keep_until.saturating_sub(self.audio_start) as usize).min(self.audio.len())
    }

    fn end(&mut self, start: u64, last_speech_end: u64, reason: EndReason) {
        let keep = self.utterance_len(last_speech_end);
        let keep_until = self.audio_start + keep as u64;
        let tail = self.audio.split_off(keep);
        let audio = std::mem::replace(&mut self.audio, tail);
        self.events
            .push_back(EndpointEvent::UtteranceEnded(Utterance {
                audio,
                audio_start: time(self.audio_start),
                start: time(start),
                end: time(last_speech_end),
                detected_at: time(self.now),
                reason,
            }));
        self.audio_start = keep_until.max(self.audio_start);
        self.trim_to_pre_roll();
    }

    /// While idle: keep only the last `pre_roll` of audio.
    fn trim_to_pre_roll(&mut self) {
        let keep = samples(self.config.pre_roll_ms) as usize;
        if self.audio.len() > keep {
            let drop = self.audio.len() - keep;
            self.audio.drain(..drop);
            self.audio_start += drop as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 32 ms VAD frames; each frame's samples carry its index so audio can be traced.
    const FRAME: usize = 256;

    fn frame(i: usize) -> Vec<i16> {
        vec![i as i16; FRAME]
    }

    fn ms(frames: usize) -> Duration {
        time((frames * FRAME) as u64)
    }

    /// Runs a VAD decision pattern ('#' speech, '.' silence) and collects the events.
    fn run(config: EndpointConfig, pattern: &str) -> Vec<EndpointEvent> {
        let mut ep = Endpointer::new(config);
        let mut events = Vec::new();
        for (i, c) in pattern.chars().filter(|c| !c.is_whitespace()).enumerate() {
            ep.handle_frame(c == '#', &frame(i));
            while let Some(e) = ep.poll_event() {
                events.push(e);
            }
        }
        events
    }

    /// The VAD's decisions alone (the frames here carry indices, not sound).
    fn no_progress() -> EndpointConfig {
        EndpointConfig {
            progress_ms: 1_000_000,
            voice_end_trim_ms: 0,
            ..EndpointConfig::default()
        }
    }

    fn ended(events: &[EndpointEvent]) -> Vec<&Utterance> {
        events
            .iter()
            .filter_map(|e| match e {
                EndpointEvent::UtteranceEnded(u) => Some(u),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn one_utterance_ends_after_the_silence() {
        // 10 frames silence, 30 speech (~1 s), 25 silence (800 ms > 600).
        let pattern = format!("{}{}{}", ".".repeat(10), "#".repeat(30), ".".repeat(25));
        let events = run(no_progress(), &pattern);
        assert_eq!(events[0], EndpointEvent::SpeechStarted { at: ms(10) });
        let u = ended(&events);
        assert_eq!(u.len(), 1);
        let u = u[0];
        assert_eq!(u.reason, EndReason::Silence);
        assert_eq!(u.start, ms(10));
        assert_eq!(u.end, ms(40));
        // 600 ms of silence = 18.75 frames: fires at the end of the 19th silent frame.
        assert_eq!(u.detected_at, ms(40 + 19));
        // Pre-roll: 200 ms = 6.25 frames → starts 1600 samples before speech;
        // the pause's worth (80 ms, 640 samples) of trailing silence is kept.
        assert_eq!(u.audio_start, ms(10) - Duration::from_millis(200));
        let expected_len = 1600 + 30 * FRAME + 640;
        assert_eq!(u.audio.len(), expected_len);
        // The first speech frame's samples sit right after the pre-roll.
        assert_eq!(u.audio[1600], 10);
        assert_eq!(u.audio[1600 + 30 * FRAME - 1], 39);
    }

    #[test]
    fn pause_carries_exactly_the_final_audio() {
        // Speech, a 300 ms pause (pause event, speech resumes), speech, silence.
        let pattern = format!(
            "{}{}{}{}{}",
            ".".repeat(10),
            "#".repeat(20),
            ".".repeat(9),
            "#".repeat(20),
            ".".repeat(25)
        );
        let events = run(no_progress(), &pattern);
        let pauses: Vec<(&Vec<i16>, Duration)> = events
            .iter()
            .filter_map(|e| match e {
                EndpointEvent::SpeechPaused { audio, end, .. } => Some((audio, *end)),
                _ => None,
            })
            .collect();
        assert_eq!(pauses.len(), 2, "one per pause");
        assert_eq!(pauses[0].1, ms(30));
        let u = ended(&events)[0];
        assert_eq!(pauses[1].1, u.end);
        assert_eq!(pauses[1].0, &u.audio, "speculative audio = final audio");
        // The pause is announced 150 ms (5 frames) after the last speech.
        let at = events
            .iter()
            .position(|e| matches!(e, EndpointEvent::SpeechPaused { end, .. } if *end == u.end))
            .unwrap();
        assert!(matches!(events[at + 1], EndpointEvent::UtteranceEnded(_)));
    }

    #[test]
    fn speech_after_a_pause_is_announced_once() {
        // Speech, a 300 ms pause, speech, a frame too short for a pause, speech, silence.
        let pattern = format!(
            "{}{}{}{}.{}{}",
            ".".repeat(10),
            "#".repeat(20),
            ".".repeat(9),
            "#".repeat(20),
            "#".repeat(20),
            ".".repeat(25)
        );
        let events = run(no_progress(), &pattern);
        let kinds: Vec<&str> = events
            .iter()
            .map(|e| match e {
                EndpointEvent::SpeechStarted { .. } => "started",
                EndpointEvent::UtteranceProgress { .. } => "progress",
                EndpointEvent::SpeechPaused { .. } => "paused",
                EndpointEvent::SpeechResumed { .. } => "resumed",
                EndpointEvent::UtteranceEnded(_) => "ended",
            })
            .collect();
        assert_eq!(kinds, ["started", "paused", "resumed", "paused", "ended"]);
        let resumed = events
            .iter()
            .find(|e| matches!(e, EndpointEvent::SpeechResumed { .. }));
        assert_eq!(
            resumed,
            Some(&EndpointEvent::SpeechResumed { start: ms(10) })
        );
    }

    #[test]
    fn short_blips_are_not_speech() {
        // 3 frames (96 ms) < 200 ms, twice, separated by silence.
        let events = run(no_progress(), "....###.............###..............");
        assert!(events.is_empty(), "{events:?}");
    }

    #[test]
    fn onset_tolerates_a_short_gap() {
        // 4 speech, 2 silence, 4 speech: 256 ms of speech within the onset.
        let events = run(no_progress(), "..####..####......................");
        assert_eq!(events[0], EndpointEvent::SpeechStarted { at: ms(2) });
        assert_eq!(ended(&events).len(), 1);
    }

    #[test]
    fn a_pause_shorter_than_end_silence_keeps_the_turn() {
        // 300 ms pause (~9 frames) inside the answer.
        let pattern = format!(
            "{}{}{}{}",
            "#".repeat(20),
            ".".repeat(9),
            "#".repeat(20),
            ".".repeat(30)
        );
        let events = run(no_progress(), &pattern);
        let u = ended(&events);
        assert_eq!(u.len(), 1);
        assert_eq!((u[0].start, u[0].end), (ms(0), ms(49)));
    }

    #[test]
    fn long_speech_is_cut_at_max_length() {
        let config = EndpointConfig {
            max_utterance_ms: 2000,
            ..no_progress()
        };
        // ~5 s of speech then silence: cut at 2 s, 2 s, then the rest ends by silence.
        let pattern = format!("{}{}", "#".repeat(160), ".".repeat(30));
        let events = run(config, &pattern);
        let u = ended(&events);
        let reasons: Vec<EndReason> = u.iter().map(|u| u.reason).collect();
        assert_eq!(
            reasons,
            [
                EndReason::MaxLength,
                EndReason::MaxLength,
                EndReason::Silence
            ]
        );
        for u in &u[..2] {
            let dur = u.detected_at - u.start;
            assert!(dur >= Duration::from_millis(2000) && dur < Duration::from_millis(2040));
        }
        // No audio is lost between cut pieces: each next one starts where speech resumes.
        let started: Vec<Duration> = events
            .iter()
            .filter_map(|e| match e {
                EndpointEvent::SpeechStarted { at } => Some(*at),
                _ => None,
            })
            .collect();
        assert_eq!(started.len(), 3);
        assert_eq!(started[1], u[0].detected_at);
    }

    #[test]
    fn progress_every_700_ms_of_utterance() {
        // 3 s of speech then silence.
        let pattern = format!("{}{}", "#".repeat(94), ".".repeat(25));
        let config = EndpointConfig {
            voice_end_trim_ms: 0,
            ..EndpointConfig::default()
        };
        let events = run(config, &pattern);
        let progress: Vec<(usize, Duration)> = events
            .iter()
            .filter_map(|e| match e {
                EndpointEvent::UtteranceProgress { audio, now, .. } => Some((audio.len(), *now)),
                _ => None,
            })
            .collect();
        // Started after 7 frames (224 ms); then one per 700 ms of further speech
        // (22 frames), up to the end of speech at frame 94: at frames 29, 51, 73.
        // None in the trailing silence.
        let at: Vec<usize> = progress.iter().map(|&(len, _)| len / FRAME).collect();
        assert_eq!(at, [29, 51, 73]);
        assert_eq!(progress[0].1, ms(29));
        assert!(matches!(
            events.last(),
            Some(EndpointEvent::UtteranceEnded(_))
        ));
    }

    #[test]
    fn frame_size_does_not_change_decisions() {
        // 20 ms RTP-sized frames give the same utterance bounds on the sample clock.
        let mut ep = Endpointer::new(no_progress());
        let mut ended_at = None;
        for i in 0..150 {
            ep.handle_frame((20..100).contains(&i), &[1i16; 160]);
            while let Some(e) = ep.poll_event() {
                if let EndpointEvent::UtteranceEnded(u) = e {
                    ended_at = Some((u.start, u.end, u.detected_at));
                }
            }
        }
        let (start, end, detected) = ended_at.expect("an utterance");
        assert_eq!(start, Duration::from_millis(400));
        assert_eq!(end, Duration::from_millis(2000));
        assert_eq!(detected, Duration::from_millis(2600));
    }

    #[test]
    fn flush_ends_the_utterance_in_progress() {
        let mut ep = Endpointer::new(no_progress());
        for i in 0..20 {
            ep.handle_frame(true, &frame(i));
        }
        assert!(ep.in_utterance());
        assert!(ep.flush());
        let mut events = Vec::new();
        while let Some(e) = ep.poll_event() {
            events.push(e);
        }
        assert_eq!(ended(&events).len(), 1);
        assert!(!ep.flush());
    }

    /// A 32 ms frame of line noise (RMS ≈ 100) with a 1 kHz tone of `amplitude`.
    fn sound(i: usize, amplitude: f32) -> Vec<i16> {
        let mut x = (i as u32).wrapping_mul(2_654_435_761) | 1;
        (0..FRAME)
            .map(|n| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let noise = (x % 347) as f32 - 173.0;
                let t = (i * FRAME + n) as f32 / RATE as f32;
                let tone = amplitude * (2.0 * std::f32::consts::PI * 1000.0 * t).sin();
                (noise + tone) as i16
            })
            .collect()
    }

    /// Feeds `(VAD decision, tone amplitude)` frames; returns the events with the
    /// frame each came after.
    fn run_sound(config: EndpointConfig, frames: &[(bool, f32)]) -> Vec<(usize, EndpointEvent)> {
        let mut ep = Endpointer::new(config);
        let mut events = Vec::new();
        for (i, &(speech, amplitude)) in frames.iter().enumerate() {
            ep.handle_frame(speech, &sound(i, amplitude));
            while let Some(e) = ep.poll_event() {
                events.push((i, e));
            }
        }
        events
    }

    /// `n` frames of each kind, in order.
    fn frames(parts: &[(usize, bool, f32)]) -> Vec<(bool, f32)> {
        parts
            .iter()
            .flat_map(|&(n, speech, amplitude)| std::iter::repeat_n((speech, amplitude), n))
            .collect()
    }

    const LOUD: f32 = 8000.0;

    fn first_utterance(events: &[(usize, EndpointEvent)]) -> Utterance {
        events
            .iter()
            .find_map(|(_, e)| match e {
                EndpointEvent::UtteranceEnded(u) => Some(u.clone()),
                _ => None,
            })
            .expect("an utterance")
    }

    #[test]
    fn silences_count_from_the_voice_not_from_the_vads_trailing_frames() {
        // Noise, 30 frames of voice, then 5 frames (160 ms) the VAD still calls
        // speech but that hold only the line's noise, then silence.
        let f = frames(&[
            (10, false, 0.0),
            (30, true, LOUD),
            (5, true, 0.0),
            (40, false, 0.0),
        ]);
        let events = run_sound(no_progress_with_trim(), &f);
        let (paused_after, end) = events
            .iter()
            .find_map(|(i, e)| match e {
                EndpointEvent::SpeechPaused { end, .. } => Some((*i, *end)),
                _ => None,
            })
            .expect("a pause");
        assert_eq!(end, ms(40), "the voice ended with frame 39");
        // 80 ms after the voice is inside the VAD's trailing frames: the pause is
        // heard at the first silent frame, not 5 frames after it.
        assert_eq!(paused_after, 45);
        let u = first_utterance(&events);
        assert_eq!(u.end, ms(40));
        // 600 ms of silence after the voice = 18.75 frames.
        assert_eq!(u.detected_at, ms(40 + 19));
        // The audio keeps the pause (80 ms) after the voice, not after the VAD's end.
        assert_eq!(u.audio.len(), 1600 + 30 * FRAME + 640);
    }

    #[test]
    fn a_soft_last_sound_is_still_voice() {
        // The answer ends in 3 frames 20 dB below its loudest, well above the noise.
        let f = frames(&[
            (10, false, 0.0),
            (30, true, LOUD),
            (3, true, LOUD / 10.0),
            (2, true, 0.0),
            (40, false, 0.0),
        ]);
        let events = run_sound(no_progress_with_trim(), &f);
        let u = first_utterance(&events);
        assert_eq!(u.end, ms(43));
    }

    #[test]
    fn the_voice_end_moves_back_at_most_the_trim() {
        // 20 frames (640 ms) of trailing VAD speech with no voice in them: the end
        // moves back 256 ms (8 frames) from the VAD's, no further.
        let f = frames(&[
            (10, false, 0.0),
            (30, true, LOUD),
            (20, true, 0.0),
            (40, false, 0.0),
        ]);
        let events = run_sound(no_progress_with_trim(), &f);
        let u = first_utterance(&events);
        assert_eq!(u.end, ms(60 - 8));
        // Without the trim, the VAD's end as it was.
        let vad_only = run_sound(no_progress(), &f);
        assert!(vad_only.iter().any(|(_, e)| matches!(e,
            EndpointEvent::UtteranceEnded(u) if u.end == ms(60))));
    }

    fn no_progress_with_trim() -> EndpointConfig {
        EndpointConfig {
            voice_end_trim_ms: EndpointConfig::default().voice_end_trim_ms,
            ..no_progress()
        }
    }

    #[test]
    fn config_deserialises_partially() {
        let c: EndpointConfig = serde_json::from_str(r#"{"end_silence_ms": 450}"#).unwrap();
        assert_eq!(c.end_silence_ms, 450);
        assert_eq!(c.min_speech_ms, 200);
        assert!(serde_json::from_str::<EndpointConfig>(r#"{"end_silence": 1}"#).is_err());
    }
}
