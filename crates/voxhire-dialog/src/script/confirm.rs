//! The confirmation safety net's lines: which values may be read back to the
//! candidate ("So that's 25,000 a month?") and keyed in on the keypad after a
//! failed confirmation, and the built-in lines for a script that names none.
//!
//! A script may override any of them under `[prompts.<lang>.confirm]` and
//! `[prompts.<lang>.key_in]`, keyed by slot name; a confirm line holds
//! `{value}`, which the dialog fills with the value as heard, in words the
//! voice reads naturally (see `crate::interview::confirm`).

use voxhire_nlu::{Lang, SlotKind};

/// A scored value heard with less confidence than this is read back (the
/// script's `[dialog] confirm_below`). Chosen on the held-out dev split
/// (`HELDOUT_CONFIDENCE=1 cargo bench --bench heldout_accuracy`): see the
/// read-back threshold in docs/benchmarks.md.
pub const DEFAULT_CONFIRM_BELOW: f32 = 0.65;

/// Values that are read back when heard with low confidence: the numbers and
/// dates rubrics and knockouts compare. (A skill list is not: reading back a
/// list is slow, and a missed skill costs points, never a wrong knockout.)
pub const CONFIRMABLE: [SlotKind; 4] = [
    SlotKind::YearsExperience,
    SlotKind::SalaryMonthly,
    SlotKind::StartDate,
    SlotKind::NoticePeriod,
];

/// Values that can be typed on a keypad (a plain number); a rejected date is
/// asked for again instead.
pub const KEYABLE: [SlotKind; 3] = [
    SlotKind::YearsExperience,
    SlotKind::SalaryMonthly,
    SlotKind::NoticePeriod,
];

/// The built-in confirm line for `kind` (`None`: not confirmable).
pub(crate) fn default_confirm(lang: Lang, kind: SlotKind) -> Option<&'static str> {
    Some(match (lang, kind) {
        (Lang::En, SlotKind::YearsExperience) => {
            "Just to check: {value} of experience, is that right?"
        }
        (Lang::En, SlotKind::SalaryMonthly) => "So that's {value} a month, is that right?",
        (Lang::En, SlotKind::StartDate) => "So you could start on {value}, is that right?",
        (Lang::En, SlotKind::NoticePeriod) => "So your notice period is {value}, is that right?",
        (Lang::Zh, SlotKind::YearsExperience) => "跟您确认一下，是{value}的经验，对吗？",
        (Lang::Zh, SlotKind::SalaryMonthly) => "您期望的月薪是{value}，对吗？",
        (Lang::Zh, SlotKind::StartDate) => "您可以在{value}入职，对吗？",
        (Lang::Zh, SlotKind::NoticePeriod) => "您的离职通知期是{value}，对吗？",
        _ => return None,
    })
}

/// The built-in key-in line for `kind` (`None`: cannot be keyed in).
pub(crate) fn default_key_in(lang: Lang, kind: SlotKind) -> Option<&'static str> {
    Some(match (lang, kind) {
        (Lang::En, SlotKind::YearsExperience) => {
            "Sorry about that. Please type the number of years on your keypad, then press the pound key."
        }
        (Lang::En, SlotKind::SalaryMonthly) => {
            "Sorry about that. Please type the monthly amount on your keypad, then press the pound key."
        }
        (Lang::En, SlotKind::NoticePeriod) => {
            "Sorry about that. Please type your notice period in days on your keypad, then press the pound key."
        }
        (Lang::Zh, SlotKind::YearsExperience) => "不好意思。请在键盘上输入您的工作年数，然后按井号键。",
        (Lang::Zh, SlotKind::SalaryMonthly) => "不好意思。请在键盘上输入期望月薪的金额，然后按井号键。",
        (Lang::Zh, SlotKind::NoticePeriod) => "不好意思。请在键盘上输入通知期的天数，然后按井号键。",
        _ => return None,
    })
}
