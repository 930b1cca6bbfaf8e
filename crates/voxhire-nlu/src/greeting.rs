//! Who answered an outbound call, from the words at its start: a recording
//! ("…please leave a message after the tone", "您拨打的电话暂时无法接通") or a person
//! ("Hello? Who's calling?", "喂，哪位？"). Answering-machine detection
//! (`voxhire_speech::amd`) decides on the greeting's cadence and beep; the call
//! transcribes the first two seconds or so of the greeting and asks
//! [`who_greets`] to confirm or overrule it.
//!
//! Only what one side says and the other does not counts: a recording talks about
//! the callee's absence, the caller's message or the number dialled; a person asks
//! the caller something or checks the line. An opening both say ("Hi, this is
//! Mark.") says nothing.
//!
//! English is matched on whole words, apostrophes dropped. Mandarin is matched by
//! sound, as the code-switch layer matches skill names (`skills::sounds`): Whisper
//! often writes a phone line's 您拨打的 as 您不打的 or 您播打的, 请问 as 请文. Both
//! languages' phrases are looked for whatever the call's language: a Mandarin
//! speaker's phone may play an English carrier greeting.
//!
//! The phrases were gathered on the dev, test and blind splits of
//! `tests/speech/amd/` plus the standard carrier messages; the holdout split is
//! only reported on (`benches/amd_accuracy.rs`).

use crate::skills::sounds::Reading;

/// Who the words at the start of a call are from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Greeter {
    /// A voicemail greeting or a carrier's announcement.
    Recording,
    /// Someone who answered the phone.
    Person,
}

/// What only a recording says, English: lower case, apostrophes dropped.
const RECORDING_EN: &[&str] = &[
    // The callee's absence.
    "not available",
    "unavailable",
    "not answering",
    "cant come to the phone",
    "cannot come to the phone",
    "cant take your call",
    "cannot take your call",
    "unable to take your call",
    "cant answer",
    "cannot answer",
    "unable to answer",
    "not able to answer",
    "cant pick up",
    "cannot pick up",
    "cant talk",
    "away from the phone",
    "away from my desk",
    "out of the office",
    "switched off",
    "missed your call",
    // The caller and what they dialled.
    "youve reached",
    "you have reached",
    "you have called",
    "you are calling",
    "youre calling",
    "you have dialed",
    "you dialed",
    "trying to reach",
    "thank you for calling",
    "thanks for calling",
    "the subscriber",
    "customer you",
    "the number you",
    "the person you",
    "the party you",
    "has been forwarded",
    "please try again later",
    "try your call again",
    // The message.
    "voicemail",
    "voice mail",
    "voice message",
    "mailbox",
    "message box",
    "leave a message",
    "leave a short message",
    "leave a brief message",
    "leave a detailed message",
    "leave your message",
    "leave me a message",
    "leave your name",
    "record your message",
    "after the tone",
    "after the beep",
    "at the tone",
    "at the beep",
    "get back to you",
    "call you back",
    "return your call",
];

/// The same, Mandarin, matched by sound.
const RECORDING_ZH: &[&str] = &[
    "留言",
    "信箱",
    "提示音",
    "嘀声",
    "无人接听",
    "无法接听",
    "无法接通",
    "不方便接",
    "不能接听",
    "接不了电话",
    "没法接",
    "您拨打的",
    "您所拨打",
    "您呼叫的",
    "您所呼叫",
    "对方",
    "用户",
    "暂时",
    "机主",
    "欢迎致电",
    "欢迎使用",
    "稍后再拨",
    "开始录音",
    // The carriers' other standard messages: switched off, no such number, busy.
    "已关机",
    "空号",
    "通话中",
];

/// What only a person says: a question to whoever called, a check of the line,
/// taking the call. English.
const PERSON_EN: &[&str] = &[
    "who is this",
    "whos this",
    "who is calling",
    "whos calling",
    "who am i speaking",
    "who am i talking",
    "who is speaking",
    "whos speaking",
    "who is there",
    "whos there",
    "anyone there",
    "on the line",
    "may i ask who",
    "can i help you",
    "how can i help",
    "what can i do for you",
    "can you hear me",
    "hear me",
    "speaking",
    "this is she",
    "this is he",
    "this is him",
    "this is her",
];

const PERSON_ZH: &[&str] = &[
    "哪位",
    "谁呀",
    "谁啊",
    "是谁",
    "找谁",
    "什么事",
    "请问",
    "啥事",
    "请讲",
    "你说",
    "您说",
    "喂喂",
    "听得到",
    "听得见",
    "听得清",
];

/// Who the words heard at the start of a call are from: [`Greeter::Recording`] for
/// a recording's phrase, [`Greeter::Person`] for a person's (or any question — a
/// greeting does not ask the caller anything), `None` when they say neither. A
/// recording's phrase wins over a person's ("Who's calling? Leave a message.").
pub fn who_greets(text: &str) -> Option<Greeter> {
    let english = format!(
        " {} ",
        text.to_lowercase()
            .replace(['\'', '’'], "")
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mandarin = Reading::of(text);
    let says = |en: &[&str], zh: &[&str]| {
        en.iter().any(|p| english.contains(&format!(" {p} ")))
            || zh.iter().any(|p| sounds_like(&mandarin, p))
    };
    if says(RECORDING_EN, RECORDING_ZH) {
        Some(Greeter::Recording)
    } else if says(PERSON_EN, PERSON_ZH) || text.contains(['?', '？']) {
        Some(Greeter::Person)
    } else {
        None
    }
}

/// Whether `phrase` is heard in `reading`: the same sounds, with a slip allowed
/// from three syllables on and two slips from four (stricter than a skill name's
/// budget: these phrases are short and common, and 三十 must not be 啥事).
fn sounds_like(reading: &Reading, phrase: &str) -> bool {
    let units = Reading::of(phrase).units();
    let allowed = match units.len() {
        0..=2 => 0.0,
        3 => 0.5,
        _ => 1.0,
    };
    reading.find(&units).iter().any(|m| m.cost <= allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recordings_words() {
        for text in [
            "Welcome to voicemail.",
            "You've reached Sam, I CAN'T take your call",
            "The cellular customer you have called is",
            "Thank you for calling Lisa.",
            "您好，请在提示音后留言。",
            // Heard over a phone line: 您拨打的 as 您不打的, 机主 as 集主.
            "您好您不打的用户。",
            "欢迎至电集主在15",
        ] {
            assert_eq!(who_greets(text), Some(Greeter::Recording), "{text}");
        }
    }

    #[test]
    fn a_persons_words() {
        for text in [
            "Hello? Who's calling?",
            "Olivia Brown speaking.",
            "Hello, can you hear me",
            "Yes, hello, this is she.",
            "喂，你好，哪位？",
            // 请问 heard as 请文; any question is a person's.
            "您好请文您找呢",
            "微微挺得挺触吗?",
        ] {
            assert_eq!(who_greets(text), Some(Greeter::Person), "{text}");
        }
    }

    #[test]
    fn a_recordings_phrase_wins_and_an_opening_both_say_is_neither() {
        assert_eq!(
            who_greets("Who's calling? Leave a message."),
            Some(Greeter::Recording)
        );
        for text in [
            "Hello, this is Mark.",
            "Hi, it's Mike.",
            "你好，我是刘强。",
            // Words, not parts of words: "mailboxes" is not "mailbox".
            "I sell mailboxes",
            // Sounds near a phrase but not it: 六年 is not 留言, 三十 is not 啥事.
            "做了六年",
            "您柏大理电话三十五。",
            "",
        ] {
            assert_eq!(who_greets(text), None, "{text}");
        }
    }
}
