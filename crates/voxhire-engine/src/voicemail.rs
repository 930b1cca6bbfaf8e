//! The first seconds of an answered outbound call when answering-machine detection
//! is on: listen (without speaking) until [`voxhire_speech::amd::Detector`] decides
//! whether a person or a voicemail answered — within 3.5 s — and check that decision
//! against the greeting's words (one Whisper decode of what was heard); then either
//! hand the call to the interview, or deal with the machine as the campaign says: hang
//! up (and retry later), or wait for the beep and leave a short message.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};
use voxhire_nlu::greeting::{self, Greeter};
use voxhire_nlu::Lang;
use voxhire_speech::amd::{AmdConfig, Decision, Detector, Verdict};
use voxhire_speech::asr::{phone_to_asr, AsrError, DecodeRequest, Priority, Ticket};
use voxhire_speech::vad::{VadConfig, VadStream, VAD_RATE};

use crate::interview::outputs::EventLog;
use crate::interview::InterviewStack;
use crate::media_task::MediaHandle;

/// What to do when a machine answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnMachine {
    /// Hang up at once; the attempt ends as `voicemail` (retried if the campaign's
    /// retry rules list it).
    #[default]
    HangUp,
    /// Wait for the beep (or the greeting's end), say the message, hang up.
    LeaveMessage,
}

/// Answering-machine detection for a campaign's calls.
#[derive(Debug, Clone, PartialEq)]
pub struct AmdPolicy {
    pub config: AmdConfig,
    pub on_machine: OnMachine,
    /// The message left after the beep (`None`: [`default_message`]).
    pub message: Option<String>,
}

/// The message a campaign leaves when it does not give its own: who called and
/// that we will call again, with no personal details (anyone may hear a voicemail).
pub fn default_message(lang: Lang) -> &'static str {
    match lang {
        Lang::En => {
            "Hello, this is an automated recruiting assistant calling about your job \
             application. We will call you again later. Thank you, goodbye."
        }
        Lang::Zh => {
            "您好，这里是招聘助理，关于您的求职申请给您来电。我们稍后会再给您打电话。谢谢，再见。"
        }
    }
}

/// How a machine-answered call went.
#[derive(Debug, Clone, Serialize)]
pub struct Voicemail {
    pub decision: Decision,
    /// The message was played to the end.
    pub message_left: bool,
    /// When the beep was heard (ms after the answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beep_at_ms: Option<u64>,
}

/// Waits for the greeting's end this long at most before leaving the message anyway.
const MAX_GREETING_WAIT: Duration = Duration::from_secs(30);
/// A greeting with no beep has ended after this much silence.
const END_OF_GREETING_SILENCE_MS: u64 = 1200;

/// One call's audio, through the VAD, counted from the answer.
struct Ear {
    audio: mpsc::Receiver<Arc<[i16]>>,
    vad: VadStream,
}

impl Ear {
    /// The next VAD chunks; `None` when the call's audio ended (hang-up).
    async fn next(&mut self) -> Result<Option<Vec<voxhire_speech::vad::VadFrame>>> {
        match self.audio.recv().await {
            Some(frame) => Ok(Some(self.vad.push(&frame).context("VAD")?)),
            None => Ok(None),
        }
    }
}

/// What listening to the answer found.
pub enum Screened {
    /// A person (or nobody speaking): the interview gets the call's audio back.
    Person(mpsc::Receiver<Arc<[i16]>>),
    Machine(Voicemail),
    /// The far end hung up (or the call was stopped) while we listened.
    Gone,
}

/// Listens to the first seconds of the call, then acts on a machine as `policy` says.
/// Logs the decision to the call's events.
pub async fn screen(
    stack: &InterviewStack,
    policy: &AmdPolicy,
    lang: Lang,
    media: &MediaHandle,
    audio: mpsc::Receiver<Arc<[i16]>>,
    hangup: &mut watch::Receiver<bool>,
    events: &EventLog,
) -> Result<Screened> {
    let mut ear = Ear {
        audio,
        vad: VadStream::new(stack.vad.clone(), VadConfig::default()),
    };
    let mut detector = Detector::new(policy.config);
    // The line from the answer on, for the words, and their decode once asked.
    let mut heard: Vec<i16> = Vec::new();
    let mut words: Option<Result<Ticket, AsrError>> = None;
    // RTP that never comes must not hold the call: decide on the clock as well.
    let deadline =
        tokio::time::Instant::now() + Duration::from_millis(policy.config.total_analysis_ms + 500);
    let decision = loop {
        let frames = tokio::select! {
            f = ear.next() => f?,
            _ = hangup.changed() => None,
            _ = tokio::time::sleep_until(deadline) => {
                break Decision { verdict: Verdict::Silence, reason: voxhire_speech::amd::Reason::InitialSilence,
                                 at_ms: policy.config.total_analysis_ms + 500 };
            }
        };
        let Some(frames) = frames else {
            return Ok(Screened::Gone);
        };
        let mut decided = None;
        for f in &frames {
            // Every chunk goes in: after the decision the detector still listens
            // for the beep.
            heard.extend_from_slice(&f.samples);
            decided = decided.or(detector.push(f));
        }
        let heard_ms = heard.len() as u64 * 1000 / u64::from(VAD_RATE);
        if words.is_none() && detector.words_due(heard_ms, decided.as_ref()) {
            words = Some(ask_words(stack, lang, &heard, detector.words_from_ms()));
        }
        if let Some(d) = decided {
            break d;
        }
    };
    let decision = match words {
        Some(asked) if decision.wants_words() => with_words(asked, decision, events).await,
        _ => decision,
    };
    events.log(
        "amd",
        &serde_json::json!({"event": "decision", "verdict": decision.verdict, "reason": decision.reason, "at_ms": decision.at_ms}),
    );
    tracing::info!(verdict = ?decision.verdict, reason = ?decision.reason, at_ms = decision.at_ms, "answering-machine detection");
    if decision.verdict != Verdict::Machine {
        return Ok(Screened::Person(ear.audio));
    }
    let mut voicemail = Voicemail {
        decision,
        message_left: false,
        beep_at_ms: detector.beep_at_ms(),
    };
    if policy.on_machine == OnMachine::LeaveMessage {
        let text = policy.message.as_deref().unwrap_or(default_message(lang));
        if voicemail.beep_at_ms.is_none() {
            voicemail.beep_at_ms =
                wait_for_the_beep(&mut ear, &mut detector, decision.at_ms, hangup).await?;
        }
        if *hangup.borrow() {
            return Ok(Screened::Machine(voicemail));
        }
        voicemail.message_left = say(stack, lang, media, text, hangup).await?;
        events.log(
            "amd",
            &serde_json::json!({"event": "message", "left": voicemail.message_left, "beep_at_ms": voicemail.beep_at_ms}),
        );
    }
    Ok(Screened::Machine(voicemail))
}

/// Queues the decode of what was heard from `from_ms` (just before the greeting) on.
fn ask_words(
    stack: &InterviewStack,
    lang: Lang,
    heard: &[i16],
    from_ms: u64,
) -> Result<Ticket, AsrError> {
    let from = ((from_ms * u64::from(VAD_RATE) / 1000) as usize).min(heard.len());
    let request = DecodeRequest {
        audio: phone_to_asr(&heard[from..])?,
        language: lang.into(),
        prompt: None,
        hotwords: None,
        offset_ms: from_ms,
    };
    stack.asr.submit(request, Priority::Final)
}

/// What the greeting's words say of who answered ([`greeting::who_greets`]), as
/// the detector's verdict.
pub fn words_verdict(text: &str) -> Option<Verdict> {
    greeting::who_greets(text).map(|g| match g {
        Greeter::Recording => Verdict::Machine,
        Greeter::Person => Verdict::Human,
    })
}

/// The cadence's decision checked against the greeting's words (see
/// [`words_verdict`]), once their decode is back. A decode that fails keeps the
/// cadence's decision.
async fn with_words(
    asked: Result<Ticket, AsrError>,
    cadence: Decision,
    events: &EventLog,
) -> Decision {
    let decided = Instant::now();
    let transcript = match asked {
        Ok(ticket) => ticket.await,
        Err(e) => Err(e),
    };
    match transcript {
        Ok(t) => {
            let words = words_verdict(&t.text);
            let waited_ms = decided.elapsed().as_millis() as u64;
            events.log(
                "amd",
                &serde_json::json!({"event": "words", "text": t.text, "say": words,
                                    "decode_ms": t.decode_ms, "waited_ms": waited_ms}),
            );
            cadence.with_words(words, waited_ms)
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot transcribe the greeting; deciding on its cadence alone");
            cadence
        }
    }
}

/// Listens until the beep, or until the greeting has ended (silence after speech)
/// when there is no beep, or 30 s at most. Returns when the beep was heard.
async fn wait_for_the_beep(
    ear: &mut Ear,
    detector: &mut Detector,
    from_ms: u64,
    hangup: &mut watch::Receiver<bool>,
) -> Result<Option<u64>> {
    let give_up = tokio::time::Instant::now() + MAX_GREETING_WAIT;
    let mut last_speech_end = from_ms;
    loop {
        let frames = tokio::select! {
            f = ear.next() => f?,
            _ = hangup.changed() => None,
            _ = tokio::time::sleep_until(give_up) => return Ok(None),
        };
        let Some(frames) = frames else {
            return Ok(None);
        };
        for f in &frames {
            let end = f.end_ms();
            detector.push(f);
            if let Some(at) = detector.beep_at_ms() {
                return Ok(Some(at));
            }
            if f.is_speech {
                last_speech_end = end;
            } else if end - last_speech_end >= END_OF_GREETING_SILENCE_MS {
                return Ok(None);
            }
        }
    }
}

/// Plays `text` and waits until it has been sent; false if the call ended first.
async fn say(
    stack: &InterviewStack,
    lang: Lang,
    media: &MediaHandle,
    text: &str,
    hangup: &mut watch::Receiver<bool>,
) -> Result<bool> {
    let voice = stack.voice(lang)?;
    let text = text.to_owned();
    let started = Instant::now();
    let samples = tokio::task::spawn_blocking(move || {
        voxhire_speech::tts::synthesize(voice, &text, voxhire_media::PCM_RATE)
    })
    .await??;
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "voicemail message synthesised"
    );
    let mut playout = media.playout();
    let until = playout.borrow().queued_total + samples.len() as u64;
    media.play(Arc::new(samples)).await;
    loop {
        if playout.borrow_and_update().sent_total >= until {
            return Ok(true);
        }
        tokio::select! {
            changed = playout.changed() => if changed.is_err() { return Ok(false) },
            _ = hangup.changed() => return Ok(false),
        }
    }
}
