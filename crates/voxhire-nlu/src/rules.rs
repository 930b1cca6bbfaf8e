//! Intents certain enough from the words alone to skip the classifier: opt-out
//! ("don't call me again", 别再打了, 把我的号码删掉), reschedule ("call me back
//! later", 晚点再打, 明天再打给我吧), repeat ("pardon?", 没听清), and a plain yes or
//! no to a yes/no question. Anything else is `None`: the classifier decides.
//!
//! Order matters and says what wins: an opt-out over everything; a request to
//! repeat; a request to call back; then yes/no. "Not convenient" / "busy" /
//! 不方便 to a yes/no question ("is this a good time?") is a No — the dialog asks
//! when to call — and becomes Reschedule when a time or "later" comes with it
//! (不方便，明天再打). Outside yes/no questions it is Reschedule.
//!
//! ```
//! use voxhire_nlu::{rules::rule_intent, Intent, Lang, NluContext};
//! let yes_no = NluContext { yes_no: true, ..Default::default() };
//! assert_eq!(rule_intent("yeah that's me", Lang::En, &yes_no).map(|r| r.0), Some(Intent::Yes));
//! assert_eq!(rule_intent("不方便", Lang::Zh, &yes_no).map(|r| r.0), Some(Intent::No));
//! assert_eq!(rule_intent("不方便，明天再打吧", Lang::Zh, &yes_no).map(|r| r.0), Some(Intent::Reschedule));
//! assert_eq!(rule_intent("please don't call me again", Lang::En, &yes_no).map(|r| r.0), Some(Intent::OptOut));
//! ```

mod phrases;

use crate::types::{Intent, Lang, NluContext};
use phrases::*;

/// English text for matching: lower case, apostrophes dropped ("don't" → "dont"),
/// punctuation to spaces, single spaces.
fn normalize_en(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\'' | '’' => {}
            c if c.is_alphanumeric() => s.extend(c.to_lowercase()),
            _ => s.push(' '),
        }
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Mandarin text for matching: no spaces or punctuation, ASCII lower-cased.
fn normalize_zh(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Starts with `phrase` as whole words.
fn starts_with_words(text: &str, phrase: &str) -> bool {
    text.strip_prefix(phrase)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
}

fn strip_fillers_en(mut s: &str) -> &str {
    loop {
        let before = s.len();
        for f in [
            "um ", "uh ", "oh ", "er ", "well ", "so ", "hmm ", "hello ", "hi ",
        ] {
            s = s.strip_prefix(f).unwrap_or(s);
        }
        if s.len() == before {
            return s;
        }
    }
}

fn strip_fillers_zh(mut s: &str) -> &str {
    loop {
        let before = s.len();
        for f in ["嗯", "呃", "啊", "哦", "喂", "额", "那个"] {
            // A lone 嗯嗯 is a yes; keep the last sound if nothing follows it.
            if let Some(rest) = s.strip_prefix(f) {
                if !rest.is_empty() && !rest.starts_with('嗯') {
                    s = rest;
                }
            }
        }
        if s.len() == before {
            return s;
        }
    }
}

/// The intent of `text` when rules are sure of it; `None` lets the classifier decide.
pub fn rule_intent(text: &str, lang: Lang, ctx: &NluContext) -> Option<(Intent, f32)> {
    let en = normalize_en(text);
    let zh = normalize_zh(text);
    if en.is_empty() {
        return None;
    }
    // Candidates mix languages; both rule sets run, the heard language decides yes/no.
    let has = |list: &[&str]| list.iter().any(|w| zh.contains(w));
    let time_cue = EN_TIME_CUE.is_match(&en) || has(&ZH_TIME_CUE);

    if EN_OPT_OUT.is_match(&en) || has(&ZH_OPT_OUT) {
        return Some((Intent::OptOut, 0.95));
    }
    if EN_DONT_CALL.is_match(&en) || has(&ZH_DONT_CALL) {
        return Some(if time_cue {
            (Intent::Reschedule, 0.85)
        } else {
            (Intent::OptOut, 0.85)
        });
    }
    if EN_NOT_INTERESTED.is_match(&en) || has(&ZH_NOT_INTERESTED) {
        return Some((Intent::OptOut, 0.75));
    }
    if EN_REPEAT.is_match(&en)
        || EN_REPEAT_WHOLE.is_match(&en)
        || has(&ZH_REPEAT)
        || ZH_REPEAT_WHOLE.contains(&zh.as_str())
    {
        return Some((Intent::Repeat, 0.9));
    }
    if EN_RESCHEDULE.is_match(&en) || has(&ZH_RESCHEDULE) {
        return Some((Intent::Reschedule, 0.9));
    }
    let busy = EN_BUSY.is_match(&en) || has(&ZH_BUSY);
    if ctx.yes_no {
        match yes_no(&en, &zh, lang) {
            // "Yes, but I'm driving": not a yes to "is this a good time?".
            Some((Intent::Yes, _)) if busy => {}
            Some((Intent::No, _)) if time_cue => return Some((Intent::Reschedule, 0.85)),
            Some(answer) => return Some(answer),
            None => {}
        }
        if busy {
            return Some(if time_cue {
                (Intent::Reschedule, 0.85)
            } else {
                (Intent::No, 0.85)
            });
        }
        return None;
    }
    busy.then_some((Intent::Reschedule, 0.8))
}

/// A plain yes or no at the start of the answer.
/// "Go ahead" in Mandarin.
const ZH_GO_AHEAD: [&str; 8] = [
    "你问吧",
    "您问吧",
    "问吧",
    "你说吧",
    "您说吧",
    "请讲",
    "开始吧",
    "直接问",
];

fn yes_no(en: &str, zh: &str, lang: Lang) -> Option<(Intent, f32)> {
    match lang {
        Lang::En => {
            let s = strip_fillers_en(en);
            let sure = |phrase: &str| if s == phrase { 0.95 } else { 0.85 };
            if let Some(p) = EN_NOT_NO.iter().find(|p| starts_with_words(s, p)) {
                return Some((Intent::Yes, sure(p)));
            }
            if let Some(p) = EN_NO.iter().find(|p| starts_with_words(s, p)) {
                return Some((Intent::No, sure(p)));
            }
            if let Some(p) = EN_YES.iter().find(|p| starts_with_words(s, p)) {
                return Some((Intent::Yes, sure(p)));
            }
            if EN_YES_WHOLE.contains(&s) {
                return Some((Intent::Yes, 0.9));
            }
            // "… go ahead" / "fire ahead" however it starts ("sure, go ahead" is
            // often heard as "make sure go ahead" or "circle ahead"), unless negated.
            let words: Vec<&str> = s.split(' ').collect();
            let negated = words.iter().any(|w| {
                [
                    "not", "no", "dont", "never", "cant", "wont", "rather", "later",
                ]
                .contains(w)
            });
            (words.last() == Some(&"ahead") && !negated).then_some((Intent::Yes, 0.8))
        }
        Lang::Zh => {
            let s = strip_fillers_zh(zh);
            // "现在方便" / "我现在可以": the yes or no follows the time word.
            let s = ["我现在", "现在", "目前"]
                .iter()
                .find_map(|w| s.strip_prefix(w))
                .map(|r| r.trim_start_matches([',', '，', ' ']))
                .filter(|r| !r.is_empty())
                .unwrap_or(s);
            let short = s.chars().count() <= 4;
            let conf = if short { 0.95 } else { 0.85 };
            if s.starts_with("是不是")
                || s.starts_with("对不对")
                || s.starts_with("好不好")
                || s.starts_with("可不可以")
            {
                return None;
            }
            if s.starts_with("没有问题") || s.starts_with("没问题") {
                return Some((Intent::Yes, conf));
            }
            if ZH_NO.iter().any(|p| s.starts_with(p)) {
                // 不错 / 不客气 are not a no.
                if s.starts_with("不错") || s.starts_with("不客气") {
                    return Some((Intent::Yes, 0.7));
                }
                return Some((Intent::No, conf));
            }
            if ["对不起", "好像", "是吗", "行不行", "方便吗"]
                .iter()
                .any(|p| s.starts_with(p))
            {
                return None;
            }
            if s == "嗯" {
                return Some((Intent::Yes, 0.7));
            }
            if ZH_YES.iter().any(|p| s.starts_with(p)) {
                return Some((Intent::Yes, conf));
            }
            // "…，你问吧": an invitation to go ahead anywhere in a short answer (the
            // words before it may be misheard, as 方便 → 封电 on a phone line).
            (s.chars().count() <= 12 && ZH_GO_AHEAD.iter().any(|p| s.contains(p)))
                .then_some((Intent::Yes, 0.85))
        }
    }
}
