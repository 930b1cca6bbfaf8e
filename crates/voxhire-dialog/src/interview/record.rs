//! What the dialog keeps of the call for the report.

use serde::Serialize;
use voxhire_nlu::{Heard, Intent, Slot, SlotKind, SlotValue};

use super::confirm::Confirmation;
use super::event::RepromptReason;
use crate::slots::SlotTable;

/// One utterance heard while a question (or one of its follow-ups) was open.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnswerTurn {
    /// The follow-up it answered, if not the main question.
    pub followup: Option<String>,
    pub text: String,
    pub turn: u32,
    pub start_ms: u64,
    pub end_ms: u64,
    pub intent: Intent,
    pub asr_confidence: f32,
    /// Whether it filled a slot the question asks for.
    pub matched: bool,
}

impl AnswerTurn {
    pub(crate) fn new(
        followup: Option<String>,
        heard: &Heard,
        intent: Intent,
        matched: bool,
    ) -> Self {
        AnswerTurn {
            followup,
            text: heard.text.clone(),
            turn: heard.turn,
            start_ms: heard.start_ms,
            end_ms: heard.end_ms,
            intent,
            asr_confidence: heard.confidence,
            matched,
        }
    }
}

/// The answer to a yes/no step (consent, identity, good time) and how it came.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct YesNoAnswer {
    pub yes: bool,
    /// `speech` or `dtmf`.
    pub via: &'static str,
    /// The words (speech) or the digit (DTMF).
    pub quote: String,
    pub turn: Option<u32>,
    pub at_ms: u64,
}

/// Where a question stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionStatus {
    NotAsked,
    /// Asked, the call ended before an answer.
    Asked,
    Answered,
    /// Given up after the retries.
    Unanswered,
}

#[derive(Debug, Clone)]
pub(crate) struct QuestionRecord {
    pub status: QuestionStatus,
    pub unanswered: Option<RepromptReason>,
    pub followups_asked: Vec<String>,
    pub turns: Vec<AnswerTurn>,
    /// Slots as heard, each with its own evidence.
    pub slots: Vec<Slot>,
    /// The same, merged (what conditions and rubrics read).
    pub table: SlotTable,
    /// Values read back to the candidate, and what became of them.
    pub confirmations: Vec<Confirmation>,
}

impl QuestionRecord {
    pub fn new() -> Self {
        QuestionRecord {
            status: QuestionStatus::NotAsked,
            unanswered: None,
            followups_asked: Vec::new(),
            turns: Vec::new(),
            slots: Vec::new(),
            table: SlotTable::default(),
            confirmations: Vec::new(),
        }
    }

    /// Replaces the latest slot of `kind` (the value read back) with `by`, or
    /// withdraws it, and re-merges the table.
    pub fn replace_last(&mut self, kind: SlotKind, by: Option<Slot>) {
        if let Some(i) = self.slots.iter().rposition(|s| s.kind == kind) {
            self.slots.remove(i);
        }
        self.slots.extend(by);
        self.table = SlotTable::default();
        for s in &self.slots {
            self.table.insert(s.clone());
        }
    }
}

impl QuestionRecord {
    /// Adds what the candidate said after their open answer was taken to it:
    /// one more turn, and the project's text and evidence run on to its end.
    pub fn add_to_open_answer(&mut self, heard: &Heard, intent: Intent) {
        self.turns.push(AnswerTurn::new(
            None,
            heard,
            intent,
            !heard.text.trim().is_empty(),
        ));
        let Some(last) = self.slots.iter().rposition(|s| s.kind == SlotKind::Project) else {
            return;
        };
        let mut slot = self.slots[last].clone();
        let join = |a: &str, b: &str| {
            let b = b.trim();
            let cjk = |c: Option<char>| c.is_some_and(|c| ('\u{3000}'..='\u{9fff}').contains(&c));
            if cjk(a.chars().last()) || cjk(b.chars().next()) {
                format!("{a}{b}")
            } else {
                format!("{a} {b}")
            }
        };
        if let SlotValue::Text { text } = &mut slot.value {
            *text = join(text, &heard.text);
        }
        slot.evidence.quote = join(&slot.evidence.quote, &heard.text);
        slot.evidence.end_ms = heard.end_ms;
        self.replace_last(SlotKind::Project, Some(slot));
    }
}

/// The knockout that ended the interview.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnockoutRecord {
    pub question: String,
    pub rule: String,
    pub reason: String,
    pub evidence: Vec<voxhire_nlu::Evidence>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use voxhire_nlu::{Evidence, Lang, SlotValue};

    fn heard(text: &str, lang: Lang, start_ms: u64, end_ms: u64) -> Heard {
        Heard {
            text: text.into(),
            lang,
            turn: 0,
            start_ms,
            end_ms,
            confidence: 0.9,
        }
    }

    fn project_answer(text: &str) -> QuestionRecord {
        let mut r = QuestionRecord::new();
        r.slots.push(Slot {
            kind: SlotKind::Project,
            value: SlotValue::Text { text: text.into() },
            evidence: Evidence {
                quote: text.into(),
                turn: 3,
                start_ms: 1_000,
                end_ms: 5_000,
            },
            confidence: 0.9,
        });
        r
    }

    fn project_text(r: &QuestionRecord) -> String {
        match &r.table.get(SlotKind::Project).expect("project").value {
            SlotValue::Text { text } => text.clone(),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn what_goes_on_is_added_to_the_open_answer_in_its_script() {
        let mut r = project_answer("我负责过公司商城网站的重构。");
        r.add_to_open_answer(
            &heard("页面加载时间缩短了一半。", Lang::Zh, 6_000, 8_000),
            Intent::Answer,
        );
        assert_eq!(
            project_text(&r),
            "我负责过公司商城网站的重构。页面加载时间缩短了一半。"
        );
        let slot = r.table.get(SlotKind::Project).unwrap();
        assert_eq!(
            (slot.evidence.start_ms, slot.evidence.end_ms),
            (1_000, 8_000)
        );
        assert_eq!(r.turns.len(), 1);
        assert_eq!(r.slots.len(), 1, "one answer, not two");

        let mut r = project_answer("I led the migration.");
        r.add_to_open_answer(
            &heard("It cut latency by half.", Lang::En, 6_000, 8_000),
            Intent::Answer,
        );
        assert_eq!(
            project_text(&r),
            "I led the migration. It cut latency by half."
        );
    }
}
