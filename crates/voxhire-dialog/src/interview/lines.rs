//! What the agent says at each step, and what it listens for.

use std::time::Duration;

use voxhire_nlu::SlotKind;

use super::event::RepromptReason;
use super::flow::Ask;
use super::{Interview, Phase};
use crate::io::{ListenContext, NluContextSpec};

impl Interview {
    /// The lines of the current step: (prompt id, text, barge-in).
    pub(super) fn lines(&self, how: Ask) -> Vec<(String, String, bool)> {
        let t = self.script.texts(self.lang);
        let lang = self.lang;
        let b = self.script.barge_in;
        let generic = |reason| match reason {
            RepromptReason::NoInput => ("no_input".to_owned(), t.no_input.clone(), b),
            RepromptReason::NoMatch => ("no_match".to_owned(), t.no_match.clone(), b),
        };
        let line = |id: &str, text: &str, barge_in| (id.to_owned(), text.to_owned(), barge_in);
        // A yes/no step: the question, and after a failed answer the DTMF hint.
        let yes_no = |id: &str, text: &str| match how {
            Ask::First | Ask::Repeat => vec![line(id, text, b)],
            Ask::Retry(reason) => vec![
                generic(reason),
                line(id, text, b),
                line("dtmf_yes_no", &t.dtmf_yes_no, b),
            ],
        };
        match self.phase {
            Phase::Ringing | Phase::Ended => Vec::new(),
            Phase::Consent => {
                let mut out = match how {
                    Ask::First => vec![
                        line("greeting", &t.greeting, false),
                        line("disclosure", &t.disclosure, false),
                    ],
                    Ask::Repeat => vec![line("disclosure", &t.disclosure, false)],
                    Ask::Retry(_) => Vec::new(),
                };
                out.extend(yes_no("consent_question", &t.consent_question));
                out
            }
            Phase::Identity => match (&self.candidate_name, &t.identity_no_name) {
                (None, Some(no_name)) => yes_no("identity_no_name", no_name),
                _ => yes_no("identity", &t.identity),
            },
            Phase::GoodTime => yes_no("good_time", &t.good_time),
            Phase::CallbackTime => {
                let ask = line("callback_question", &t.callback_question, b);
                match how {
                    Ask::Retry(reason) => vec![generic(reason), ask],
                    _ => vec![ask],
                }
            }
            Phase::Confirm { kind, .. } => yes_no(
                &format!("confirm.{}", kind.name()),
                &self.confirm_line(kind),
            ),
            Phase::KeyIn { kind, .. } => {
                let text = t.key_in.get(&kind).map_or("", String::as_str);
                let ask = line(&format!("key_in.{}", kind.name()), text, b);
                match how {
                    Ask::Retry(reason) => vec![generic(reason), ask],
                    _ => vec![ask],
                }
            }
            Phase::Question { q, follow: None } => {
                let question = &self.script.questions()[q];
                let base = format!("questions.{}", question.id);
                let bi = question.barge_in;
                match how {
                    Ask::First | Ask::Repeat => {
                        vec![line(
                            &format!("{base}.prompt"),
                            question.prompt.text(lang),
                            bi,
                        )]
                    }
                    Ask::Retry(RepromptReason::NoInput) => vec![line(
                        &format!("{base}.reprompt_no_input"),
                        question.reprompt_no_input.text(lang),
                        bi,
                    )],
                    Ask::Retry(RepromptReason::NoMatch) => vec![line(
                        &format!("{base}.reprompt_no_match"),
                        question.reprompt_no_match.text(lang),
                        bi,
                    )],
                }
            }
            Phase::Question { q, follow: Some(f) } => {
                let question = &self.script.questions()[q];
                let fu = &question.followups[f];
                let base = format!("questions.{}.followups.{}", question.id, fu.id);
                let bi = question.barge_in;
                let prompt = line(&format!("{base}.prompt"), fu.prompt.text(lang), bi);
                let own = |reason| match reason {
                    RepromptReason::NoInput => {
                        ("reprompt_no_input", fu.reprompt_no_input.get(lang))
                    }
                    RepromptReason::NoMatch => {
                        ("reprompt_no_match", fu.reprompt_no_match.get(lang))
                    }
                };
                match how {
                    Ask::First | Ask::Repeat => vec![prompt],
                    Ask::Retry(reason) => match own(reason) {
                        (key, Some(text)) => vec![line(&format!("{base}.{key}"), text, bi)],
                        (_, None) => vec![generic(reason), prompt],
                    },
                }
            }
        }
    }

    pub(super) fn listen_context(&self) -> ListenContext {
        let lang = self.lang;
        let (endpointing, asr_prompt, expected) = match self.phase {
            Phase::Question { q, follow } => {
                let question = &self.script.questions()[q];
                match follow {
                    None => (
                        question.endpointing,
                        question.asr_prompt.get(lang).cloned(),
                        question.slots.clone(),
                    ),
                    Some(f) => {
                        let fu = &question.followups[f];
                        (
                            question.endpointing,
                            fu.asr_prompt
                                .get(lang)
                                .or(question.asr_prompt.get(lang))
                                .cloned(),
                            fu.slots.clone(),
                        )
                    }
                }
            }
            // The read-back listens for yes/no or the value again (a correction).
            Phase::Confirm { q, kind, .. } | Phase::KeyIn { q, kind, .. } => {
                (self.script.questions()[q].endpointing, None, vec![kind])
            }
            Phase::GoodTime | Phase::CallbackTime => (
                self.script.endpointing(),
                None,
                vec![SlotKind::CallbackTime],
            ),
            _ => (self.script.endpointing(), None, Vec::new()),
        };
        let resumable = match self.phase {
            Phase::Question { q, .. } => {
                expected.contains(&SlotKind::Project) && q + 1 < self.script.questions().len()
            }
            _ => false,
        };
        ListenContext {
            resumable,
            question: self.step_key(),
            asr_prompt,
            no_input_timeout: Duration::from_millis(u64::from(endpointing.no_input_timeout_ms)),
            endpointing,
            nlu: NluContextSpec {
                expected,
                yes_no: self.phase.is_yes_no(),
            },
        }
    }
}
