//! The safety net for values the rubric scores: a number or a date heard with
//! low confidence is read back in one short turn ("So that's 25,000 a month, is
//! that right?" / 您期望的月薪是两万五千，对吗？). Yes keeps it, a new value
//! replaces it, no withdraws it and offers the keypad for a number (a date is
//! asked for again). A value heard clearly is never read back: it costs no turn.
//!
//! Whatever happens, the report keeps the value as first heard and what became
//! of it ([`Confirmation`]).

use std::time::Instant;

use chrono::Datelike;
use serde::Serialize;
use voxhire_nlu::{Evidence, Lang, Slot, SlotKind, SlotValue};

use super::event::DialogEventKind;
use super::record::QuestionStatus;
use super::{Interview, Phase};
use crate::script::confirm::{CONFIRMABLE, KEYABLE};

/// How sure the dialog is that a value was heard right: Whisper's confidence
/// in the words (mean token probability). The extractor's own confidence (a
/// vague "four or five years" is less sure) was tried as a factor: on the
/// held-out dev split it read back 7 of 30 right values to catch the same 2
/// wrong ones that the ASR's alone catches reading back 4 (docs/benchmarks.md, the read-back threshold).
pub fn value_confidence(_slot: &Slot, asr_confidence: f32) -> f32 {
    asr_confidence.clamp(0.0, 1.0)
}

/// What became of a value that was read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmOutcome {
    /// The candidate said yes (or pressed 1).
    Confirmed,
    /// The candidate gave another value, which replaced it.
    Corrected,
    /// The candidate said no and typed the number on the keypad.
    Keyed,
    /// The candidate said no and gave no usable value: it is not scored.
    Rejected,
    /// No usable reply (or the call ended): the value is kept as heard.
    Unconfirmed,
}

/// One read-back, for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Confirmation {
    /// The follow-up the value answered, if not the main question.
    pub followup: Option<String>,
    pub slot: SlotKind,
    /// The value as first heard, and how sure the dialog was of it.
    pub heard: SlotValue,
    pub confidence: f32,
    pub outcome: ConfirmOutcome,
    /// The value scored in the end (`None` when rejected).
    pub value: Option<SlotValue>,
    /// The candidate's reply: the words, or the digits keyed.
    pub reply: String,
}

/// The value being read back or keyed in.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub slot: Slot,
    pub confidence: f32,
}

impl Interview {
    /// The first slot of an answer that must be read back, if any.
    pub(super) fn to_confirm(&self, q: usize, slots: &[Slot], asr: f32) -> Option<Pending> {
        let threshold = self.script.confirm_below();
        if threshold <= 0.0 {
            return None;
        }
        let scored = self.script.questions()[q].scored_slots();
        slots
            .iter()
            .filter(|s| CONFIRMABLE.contains(&s.kind) && scored.contains(&s.kind))
            .map(|s| Pending {
                slot: s.clone(),
                confidence: value_confidence(s, asr),
            })
            .find(|p| p.confidence < threshold)
            .filter(|p| render(&p.slot.value, self.lang).is_some())
    }

    /// Starts reading `pending` back.
    pub(super) fn start_confirmation(
        &mut self,
        now: Instant,
        q: usize,
        follow: Option<usize>,
        pending: Pending,
    ) {
        let kind = pending.slot.kind;
        self.pending = Some(pending);
        self.enter(now, Phase::Confirm { q, follow, kind });
        let question = self.step_key();
        let confidence = self.pending.as_ref().map_or(0.0, |p| p.confidence);
        self.event(
            now,
            DialogEventKind::ConfirmAsked {
                question,
                slot: kind,
                confidence,
            },
        );
    }

    /// The read-back line for the pending value.
    pub(super) fn confirm_line(&self, kind: SlotKind) -> String {
        let template = self
            .script
            .texts(self.lang)
            .confirm
            .get(&kind)
            .cloned()
            .unwrap_or_default();
        let value = self
            .pending
            .as_ref()
            .and_then(|p| render(&p.slot.value, self.lang))
            .unwrap_or_default();
        template.replace("{value}", &value)
    }

    /// Closes the read-back: `value` is what is scored now (`None`: nothing).
    pub(super) fn resolve(
        &mut self,
        now: Instant,
        q: usize,
        outcome: ConfirmOutcome,
        value: Option<Slot>,
        reply: String,
    ) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        let (kind, followup) = match self.phase {
            Phase::Confirm { kind, follow, .. } | Phase::KeyIn { kind, follow, .. } => {
                (kind, self.followup_id(q, follow))
            }
            _ => (pending.slot.kind, None),
        };
        let record = &mut self.records[q];
        match outcome {
            ConfirmOutcome::Confirmed | ConfirmOutcome::Unconfirmed => {}
            _ => record.replace_last(kind, value.clone()),
        }
        if record.slots.is_empty() && record.status == QuestionStatus::Answered {
            record.status = QuestionStatus::Asked;
        }
        let scored = match outcome {
            ConfirmOutcome::Confirmed | ConfirmOutcome::Unconfirmed => {
                Some(pending.slot.value.clone())
            }
            _ => value.map(|s| s.value),
        };
        record.confirmations.push(Confirmation {
            followup,
            slot: kind,
            heard: pending.slot.value,
            confidence: pending.confidence,
            outcome,
            value: scored.clone(),
            reply,
        });
        let question = self.step_key();
        self.event(
            now,
            DialogEventKind::ConfirmResolved {
                question,
                slot: kind,
                outcome,
                value: scored,
            },
        );
    }

    /// The digits keyed so far, read as the pending slot's value.
    pub(super) fn keyed_slot(&self, kind: SlotKind, now: Instant) -> Option<Slot> {
        let n: u64 = self.keyed.parse().ok()?;
        let value = match kind {
            SlotKind::YearsExperience if n <= 60 => SlotValue::Years { years: n as f32 },
            SlotKind::SalaryMonthly if n > 0 => SlotValue::Money {
                amount: n,
                currency: match self.pending.as_ref().map(|p| &p.slot.value) {
                    Some(SlotValue::Money { currency, .. }) => currency.clone(),
                    _ => default_currency(self.lang).to_owned(),
                },
            },
            SlotKind::NoticePeriod if n <= 366 => SlotValue::Days { days: n as u32 },
            _ => return None,
        };
        let at = self.at_ms(now);
        Some(Slot {
            kind,
            value,
            evidence: Evidence {
                quote: format!("keyed {}", self.keyed),
                turn: self.pending.as_ref().map_or(0, |p| p.slot.evidence.turn),
                start_ms: at,
                end_ms: at,
            },
            confidence: 1.0,
        })
    }

    /// Whether `kind` can be typed on the keypad.
    pub(super) fn keyable(kind: SlotKind) -> bool {
        KEYABLE.contains(&kind)
    }
}

fn default_currency(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "USD",
        Lang::Zh => "CNY",
    }
}

/// A value in words the voice reads naturally (`None`: not read back).
pub fn render(value: &SlotValue, lang: Lang) -> Option<String> {
    Some(match (value, lang) {
        (SlotValue::Years { years }, Lang::En) => {
            let n = fmt_decimal(*years);
            if n == "1" {
                "1 year".to_owned()
            } else {
                format!("{n} years")
            }
        }
        (SlotValue::Years { years }, Lang::Zh) => {
            let whole = years.trunc();
            let frac = years - whole;
            if frac.abs() < 0.01 {
                format!("{}年", zh_number(whole as u64, true))
            } else if (frac - 0.5).abs() < 0.01 {
                format!("{}年半", zh_number(whole as u64, true))
            } else {
                format!("{}年", fmt_decimal(*years))
            }
        }
        (SlotValue::Money { amount, currency }, Lang::En) => {
            let n = thousands(*amount);
            match currency.as_str() {
                "USD" => format!("{n} dollars"),
                "CNY" | "RMB" => format!("{n} yuan"),
                "EUR" => format!("{n} euros"),
                "GBP" => format!("{n} pounds"),
                _ => n,
            }
        }
        (SlotValue::Money { amount, currency }, Lang::Zh) => {
            let unit = match currency.as_str() {
                "USD" => "美元",
                "EUR" => "欧元",
                "GBP" => "英镑",
                _ => "元",
            };
            format!("{}{unit}", zh_number(*amount, true))
        }
        (SlotValue::Date { date }, Lang::En) => date.format("%A, %B %-d").to_string(),
        (SlotValue::Date { date }, Lang::Zh) => format!(
            "{}月{}号",
            zh_number(u64::from(date.month()), false),
            zh_number(u64::from(date.day()), false)
        ),
        (SlotValue::Days { days }, Lang::En) => {
            if *days == 1 {
                "1 day".to_owned()
            } else {
                format!("{days} days")
            }
        }
        (SlotValue::Days { days }, Lang::Zh) => format!("{}天", zh_number(u64::from(*days), true)),
        _ => return None,
    })
}

fn fmt_decimal(x: f32) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_owned)
}

/// 25000 → "25,000".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

const ZH_DIGITS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/// A number in Chinese numerals as said aloud: 25000 → 两万五千, 12 → 十二,
/// 20500 → 两万零五百. `liang`: a leading 2 before a unit is 两 (a quantity),
/// not 二 (a month or day number). Numbers from 10^8 up are left as digits.
pub fn zh_number(n: u64, liang: bool) -> String {
    if n >= 100_000_000 {
        return n.to_string();
    }
    match n {
        0 => return "零".to_owned(),
        2 if liang => return "两".to_owned(),
        1..=9_999 => return zh_group(n, true, liang),
        _ => {}
    }
    let (high, low) = (n / 10_000, n % 10_000);
    let mut out = zh_group(high, true, liang);
    if out == "二" && liang {
        out = "两".to_owned();
    }
    out.push('万');
    if low > 0 {
        if low < 1000 {
            out.push('零');
        }
        out.push_str(&zh_group(low, false, liang));
    }
    out
}

/// 1..=9999. `first`: nothing precedes it (十二, not 一十二).
fn zh_group(n: u64, first: bool, liang: bool) -> String {
    const UNITS: [&str; 4] = ["千", "百", "十", ""];
    let digits = [n / 1000, n / 100 % 10, n / 10 % 10, n % 10];
    let mut out = String::new();
    let (mut started, mut zero) = (false, false);
    for (i, &d) in digits.iter().enumerate() {
        if d == 0 {
            zero |= started;
            continue;
        }
        if zero {
            out.push('零');
            zero = false;
        }
        let skip_one = i == 2 && d == 1 && !started && first;
        if !skip_one {
            if d == 2 && i < 2 && liang && !started {
                out.push('两');
            } else {
                out.push(ZH_DIGITS[d as usize]);
            }
        }
        out.push_str(UNITS[i]);
        started = true;
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    #[test]
    fn chinese_numbers_read_as_said() {
        for (n, want) in [
            (0, "零"),
            (10, "十"),
            (12, "十二"),
            (30, "三十"),
            (105, "一百零五"),
            (2000, "两千"),
            (8000, "八千"),
            (20_000, "两万"),
            (25_000, "两万五千"),
            (20_500, "两万零五百"),
            (120_000, "十二万"),
            (35_800, "三万五千八百"),
            (1_000_010, "一百万零一十"),
        ] {
            assert_eq!(zh_number(n, true), want, "{n}");
        }
        assert_eq!(zh_number(2, false), "二");
        assert_eq!(zh_number(2, true), "两");
        assert_eq!(zh_number(12, false), "十二");
    }

    #[test]
    fn values_read_back_in_each_language() {
        let money = SlotValue::Money {
            amount: 25_000,
            currency: "CNY".into(),
        };
        assert_eq!(render(&money, Lang::Zh).unwrap(), "两万五千元");
        assert_eq!(render(&money, Lang::En).unwrap(), "25,000 yuan");
        let years = SlotValue::Years { years: 4.5 };
        assert_eq!(render(&years, Lang::Zh).unwrap(), "四年半");
        assert_eq!(render(&years, Lang::En).unwrap(), "4.5 years");
        assert_eq!(
            render(&SlotValue::Years { years: 2.0 }, Lang::Zh).unwrap(),
            "两年"
        );
        let date = SlotValue::Date {
            date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        };
        assert_eq!(render(&date, Lang::Zh).unwrap(), "十二月一号");
        assert_eq!(render(&date, Lang::En).unwrap(), "Tuesday, December 1");
        assert_eq!(
            render(&SlotValue::Days { days: 30 }, Lang::Zh).unwrap(),
            "三十天"
        );
        assert!(render(&SlotValue::Skills { skills: vec![] }, Lang::En).is_none());
    }
}
