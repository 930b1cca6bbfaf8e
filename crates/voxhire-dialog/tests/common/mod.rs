//! A virtual-clock call driver for the dialog tests: it plays the engine (plays
//! lines out, feeds hand-made understandings) and collects actions and events.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime};
use voxhire_dialog::{Action, DialogEvent, DialogEventKind, Input, Interview, InterviewScript};
use voxhire_nlu::{Evidence, Heard, Intent, Lang, Slot, SlotKind, SlotValue, Understanding};

pub fn config(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../config")
        .join(name)
}

pub fn script(name: &str) -> Arc<InterviewScript> {
    Arc::new(InterviewScript::load(config(name)).unwrap_or_else(|e| panic!("{e}")))
}

pub struct Call {
    pub iv: Interview,
    pub t0: Instant,
    pub now: Instant,
    pub events: Vec<DialogEvent>,
    pub lang: Lang,
    /// The ASR confidence of the next finals (Whisper's mean token probability).
    pub asr_confidence: f32,
    turn: u32,
}

impl Call {
    /// An answered call; returns the call and the first actions.
    pub fn answered(script_name: &str, lang: Lang, name: Option<&str>) -> (Call, Vec<Action>) {
        let t0 = Instant::now();
        let iv = Interview::new(script(script_name), lang, name.map(str::to_owned), t0);
        let mut call = Call {
            iv,
            t0,
            now: t0,
            events: Vec::new(),
            lang,
            asr_confidence: 0.9,
            turn: 0,
        };
        call.iv.handle_input(t0, Input::Answered);
        let actions = call.drain();
        (call, actions)
    }

    pub fn ms(&self) -> u64 {
        self.now.duration_since(self.t0).as_millis() as u64
    }

    pub fn advance(&mut self, ms: u64) {
        self.now += Duration::from_millis(ms);
    }

    /// Lets `ms` pass, firing the timers that fall due on the way (as the engine
    /// does), and returns what they produced.
    pub fn wait(&mut self, ms: u64) -> Vec<Action> {
        let until = self.now + Duration::from_millis(ms);
        let mut out = Vec::new();
        while let Some(at) = self.iv.poll_timeout().filter(|at| *at <= until) {
            self.now = self.now.max(at);
            self.iv.handle_timeout(self.now);
            out.extend(self.drain());
        }
        self.now = until;
        out
    }

    pub fn drain(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        while let Some(a) = self.iv.poll_action() {
            out.push(a);
        }
        while let Some(e) = self.iv.poll_event() {
            // Every event must serialise for events.jsonl.
            serde_json::to_string(&e).expect("event serialises");
            self.events.push(e);
        }
        out
    }

    pub fn input(&mut self, input: Input) -> Vec<Action> {
        self.iv.handle_input(self.now, input);
        self.drain()
    }

    /// The queued lines play out (2 s later).
    pub fn played(&mut self) -> Vec<Action> {
        self.advance(2000);
        self.input(Input::PlaybackFinished)
    }

    /// The candidate speaks for 1.5 s and the NLU returns `intent` and `slots`.
    pub fn reply(
        &mut self,
        text: &str,
        intent: Intent,
        slots: Vec<(SlotKind, SlotValue)>,
    ) -> Vec<Action> {
        let mut out = self.input(Input::SpeechStarted);
        let start_ms = self.ms();
        self.advance(1500);
        out.extend(self.final_only(text, intent, slots, start_ms));
        out
    }

    /// A final result without the speech onset (the onset was fed separately).
    pub fn final_only(
        &mut self,
        text: &str,
        intent: Intent,
        slots: Vec<(SlotKind, SlotValue)>,
        start_ms: u64,
    ) -> Vec<Action> {
        let heard = Heard {
            text: text.to_owned(),
            lang: self.lang,
            turn: self.turn,
            start_ms,
            end_ms: self.ms(),
            confidence: self.asr_confidence,
        };
        self.turn += 1;
        let slots = slots
            .into_iter()
            .map(|(kind, value)| Slot {
                kind,
                value,
                evidence: Evidence {
                    quote: text.to_owned(),
                    turn: heard.turn,
                    start_ms: heard.start_ms,
                    end_ms: heard.end_ms,
                },
                confidence: 1.0,
            })
            .collect();
        self.input(Input::Final {
            heard,
            understanding: Understanding {
                intent,
                intent_score: 0.9,
                slots,
            },
        })
    }

    /// Lines play out, then the candidate answers.
    pub fn answer(
        &mut self,
        text: &str,
        intent: Intent,
        slots: Vec<(SlotKind, SlotValue)>,
    ) -> Vec<Action> {
        let mut out = self.played();
        out.extend(self.reply(text, intent, slots));
        out
    }

    /// Nothing happens until the next timer fires.
    pub fn silence(&mut self) -> Vec<Action> {
        let at = self.iv.poll_timeout().expect("a timer is armed");
        assert!(at >= self.now, "timer in the past");
        self.now = at;
        self.iv.handle_timeout(at);
        self.drain()
    }

    /// The candidate presses keys (RFC 4733 digits), 300 ms apart.
    pub fn keys(&mut self, digits: &str) -> Vec<Action> {
        let mut out = Vec::new();
        for d in digits.chars() {
            self.advance(300);
            out.extend(self.input(Input::Dtmf(d)));
        }
        out
    }

    pub fn event_kinds(&self) -> Vec<&DialogEventKind> {
        self.events.iter().map(|e| &e.kind).collect()
    }
}

/// The prompt ids of the `Say`s among `actions`, in order.
pub fn said(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Say { id, .. } => Some(id.0.clone()),
            _ => None,
        })
        .collect()
}

/// The text of the `Say` with this id.
pub fn text_of(actions: &[Action], prompt: &str) -> String {
    actions
        .iter()
        .find_map(|a| match a {
            Action::Say { id, text, .. } if id.0 == prompt => Some(text.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no Say {prompt} in {actions:?}"))
}

/// The question key of the last `Listen` among `actions`.
pub fn listening(actions: &[Action]) -> Option<String> {
    actions.iter().rev().find_map(|a| match a {
        Action::Listen { context } => Some(context.question.clone()),
        _ => None,
    })
}

pub fn years(y: f32) -> (SlotKind, SlotValue) {
    (SlotKind::YearsExperience, SlotValue::Years { years: y })
}
pub fn skills(s: &[&str]) -> (SlotKind, SlotValue) {
    (
        SlotKind::Skills,
        SlotValue::Skills {
            skills: s.iter().map(|s| s.to_string()).collect(),
        },
    )
}
pub fn money(amount: u64, currency: &str) -> (SlotKind, SlotValue) {
    (
        SlotKind::SalaryMonthly,
        SlotValue::Money {
            amount,
            currency: currency.to_owned(),
        },
    )
}
pub fn notice_days(days: u32) -> (SlotKind, SlotValue) {
    (SlotKind::NoticePeriod, SlotValue::Days { days })
}
pub fn start_date(y: i32, m: u32, d: u32) -> (SlotKind, SlotValue) {
    (
        SlotKind::StartDate,
        SlotValue::Date {
            date: NaiveDate::from_ymd_opt(y, m, d).expect("valid date"),
        },
    )
}
pub fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|d| d.and_hms_opt(h, min, 0))
        .expect("valid time")
}
pub fn callback(at: NaiveDateTime) -> (SlotKind, SlotValue) {
    (SlotKind::CallbackTime, SlotValue::DateTime { at })
}

/// Walks an English call up to the first question (consent, identity, good time).
pub fn en_to_first_question(name: Option<&str>) -> (Call, Vec<Action>) {
    let (mut call, _) = Call::answered("interview-java-backend.en.toml", Lang::En, name);
    call.answer("yes that's fine", Intent::Yes, vec![]);
    call.answer("yes speaking", Intent::Yes, vec![]);
    let actions = call.answer("sure go ahead", Intent::Yes, vec![]);
    assert_eq!(listening(&actions).as_deref(), Some("years"));
    (call, actions)
}
