//! The contract between the dialog state machine and the call engine that drives it.
//!
//! The engine feeds [`Input`]s with `now` and drains [`Action`]s; the dialog never
//! touches audio, sockets or the clock.

use std::time::Duration;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use voxhire_nlu::{Heard, NluContext, Understanding};

/// Names one line the agent says: the script key (`"greeting"`,
/// `"questions.years.prompt"`, `"questions.years.reprompt_no_input"`…), stable across
/// calls so the engine can key its prompt cache and the transcript by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PromptId(pub String);

/// What happened on the call.
#[derive(Debug, Clone)]
pub enum Input {
    /// The candidate answered (200 OK/ACK): the interview starts.
    Answered,
    /// Every `Say` so far has been played out or stopped: the agent is silent.
    /// Sent once each time the queue of lines drains (not once per line); the
    /// no-input timer starts here.
    PlaybackFinished,
    /// The candidate started speaking (VAD onset). While the agent talks and the
    /// line allows barge-in, the dialog answers with `StopPlayback`.
    SpeechStarted,
    /// A partial hypothesis while the candidate speaks.
    Partial { text: String },
    /// A final utterance and its understanding (the engine runs the NLU with
    /// [`ListenContext::nlu`]).
    Final {
        heard: Heard,
        understanding: Understanding,
    },
    /// The candidate went on with the open answer the dialog just took: their
    /// voice came back within the engine's resume window after it (see
    /// [`ListenContext::resumable`]), usually over the agent's next line. The
    /// words are added to that answer and the current line is said again, so an
    /// answer taken at a sentence's end loses nothing when it was not over.
    /// Words that answer the current step instead are taken as its answer.
    Resumed {
        heard: Heard,
        understanding: Understanding,
    },
    /// An RFC 4733 digit.
    Dtmf(char),
    /// The far end hung up (BYE/CANCEL) or the media died.
    HangUp,
}

/// What the engine must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Say a line. `text` is final (names filled in); `barge_in` says whether
    /// candidate speech may interrupt it (a disclosure may not).
    Say {
        id: PromptId,
        text: String,
        barge_in: bool,
    },
    /// Stop what is playing now and drop the queued lines (barge-in); the
    /// `PlaybackFinished` follows when they are gone.
    StopPlayback,
    /// Listening has started; the ASR may be primed with `context.asr_prompt`.
    Listen { context: ListenContext },
    /// Book a callback at this local time (candidate's time zone).
    ScheduleCallback { at: NaiveDateTime },
    /// Put the candidate on the do-not-call list.
    MarkDoNotCall,
    /// End the call (BYE) once the queued audio has played.
    HangUp,
}

/// What the dialog is listening for.
#[derive(Debug, Clone, PartialEq)]
pub struct ListenContext {
    /// The question being answered (script key).
    pub question: String,
    /// Vocabulary to prime Whisper with (skills, numbers the question expects).
    pub asr_prompt: Option<String>,
    /// How long after the prompt ends before "no input".
    pub no_input_timeout: Duration,
    /// Endpointing for this turn (the script's, overridden per question: an open
    /// question gets a longer end-of-turn silence than a yes/no).
    pub endpointing: EndpointSettings,
    /// Given to the NLU for this turn.
    pub nlu: NluContextSpec,
    /// An open answer (a project) with a step after it: the engine may take it
    /// at a sentence's end rather than after the whole end-of-turn silence,
    /// because speech that goes on right after can still be added to it
    /// ([`Input::Resumed`]).
    pub resumable: bool,
}

/// How the engine cuts the candidate's speech into turns, from the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointSettings {
    /// Shorter bursts are noise, not speech.
    pub min_speech_ms: u32,
    /// Silence that ends the candidate's turn.
    pub end_of_turn_silence_ms: u32,
    /// A turn is cut after this long even without a pause.
    pub max_utterance_ms: u32,
    /// Silence after the prompt has played before the dialog reprompts.
    pub no_input_timeout_ms: u32,
}

impl Default for EndpointSettings {
    /// Phone-screen defaults: a 700 ms pause ends a turn (fast, but people pause
    /// mid-sentence less than that on a call), 6 s of silence is "no input".
    fn default() -> Self {
        EndpointSettings {
            min_speech_ms: 200,
            end_of_turn_silence_ms: 700,
            max_utterance_ms: 30_000,
            no_input_timeout_ms: 6_000,
        }
    }
}

/// [`NluContext`] without the clock reading (the engine adds `local_now`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NluContextSpec {
    pub expected: Vec<voxhire_nlu::SlotKind>,
    pub yes_no: bool,
}

impl NluContextSpec {
    pub fn at(&self, local_now: NaiveDateTime) -> NluContext {
        NluContext {
            expected: self.expected.clone(),
            local_now: Some(local_now),
            yes_no: self.yes_no,
        }
    }
}
