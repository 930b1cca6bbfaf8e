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

use std::sync::LazyLock;

use regex::Regex;

use crate::types::{Intent, Lang, NluContext};

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("rules.rs pattern {pattern:?}: {e}"))
}

static EN_OPT_OUT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:(?:dont|do not|never|stop|quit|no more)\s+(?:ever\s+)?(?:call|calling|ring|ringing|phone|phoning|contact|contacting|bother|bothering|text|texting)(?:\s+\w+){0,3}?\s+(?:again|anymore|any more|ever)|stop (?:calling|contacting|bothering|ringing)|never (?:call|contact)|(?:remove|take|delete|erase|scratch|cross)\s+(?:me|my (?:number|name|details|info|information))(?:\s+\w+){0,3}?\s+(?:list|lists|database|system|records|off)|(?:remove|delete|erase) my (?:number|details|data)|take me off|unsubscribe|opt out|do not call list|leave me alone|this is harassment)\b",
    )
});
/// "don't call me" without "again": an opt-out unless a time says "not now".
static EN_DONT_CALL: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b(?:dont|do not)\s+(?:call|contact|ring|phone)\s+(?:me|this number)\b"));
static EN_NOT_INTERESTED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:not|no longer|am not) (?:really )?interested\b(?:$|\s+(?:thanks|thank you|at all|sorry|bye|goodbye))",
    )
});
static EN_REPEAT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:repeat (?:that|it|the question|yourself|please)|(?:say|ask) (?:that|it|the question)?\s*(?:again|one more time)|come again|pardon|(?:didnt|did not|couldnt|could not|cant|can not|cannot) (?:quite )?(?:catch|hear|understand|get) (?:that|you|it|what you said|the question)|what did you (?:say|just say)|one more time please|youre breaking up|you are breaking up|the line is bad|say what)\b",
    )
});
static EN_REPEAT_WHOLE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:(?:um|uh|oh|er)\s+)?(?:sorry|what|huh|eh|excuse me|sorry what|what sorry|sorry say again|hello|hello hello|what was that|sorry i missed that|i missed that)$",
    )
});
static EN_RESCHEDULE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:call (?:me |us )?(?:back|later|again later|another time|some other time|tomorrow|tonight|this (?:afternoon|evening)|next week|in (?:an|a|half|one|two|three|\d+|a few|a couple)|at\s)|call back|try (?:me |us )?(?:again )?later|try (?:me |us )?again (?:around|at|in|tomorrow|tonight|this|on|next)|(?:move|push|postpone|shift) (?:this|it|the call|our call|the interview) (?:to|till|until|back)|(?:another|some other|a better) time|reschedule|(?:talk|speak|chat|do this) (?:later|tomorrow|another time)|(?:later|tomorrow) (?:please|would be better|is better|works better)|(?:can|could) we do (?:it|this) later)\b",
    )
});
static EN_BUSY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:(?:im|i am) (?:a bit |kind of |really |very )?(?:busy|driving|in a meeting|at work|in class|on another call|not free|not available)|(?:its|it is) not (?:a )?good time|not a good time|bad time|(?:now|this) (?:is|isnt|is not) (?:a )?(?:bad|not good|not a good)|not good (?:right )?now|(?:cant|can not|cannot) talk|not now|not right now|in a meeting)\b",
    )
});
static EN_TIME_CUE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:later|tomorrow|tonight|afternoon|evening|morning|next week|monday|tuesday|wednesday|thursday|friday|saturday|sunday|in an hour|in a few|in \w+ (?:hours|minutes)|back|\d+ ?(?:am|pm)|o clock|oclock)\b",
    )
});

const ZH_OPT_OUT: [&str; 22] = [
    "别再打",
    "不要再打",
    "别再给我打",
    "不要再给我打",
    "别再联系",
    "不要再联系",
    "以后别打",
    "以后不要打",
    "以后都别",
    "以后都不要",
    "号码删",
    "删掉我的",
    "删除我的",
    "删了我的",
    "我的号码删",
    "拉黑",
    "别骚扰",
    "不要骚扰",
    "骚扰电话",
    "别烦我",
    "不要再打扰",
    "别再打扰",
];
const ZH_DONT_CALL: [&str; 5] = [
    "别打了",
    "不要打了",
    "别给我打电话",
    "不要给我打电话",
    "不要打电话",
];
const ZH_NOT_INTERESTED: [&str; 4] = ["不感兴趣", "没兴趣", "没有兴趣", "不考虑"];
const ZH_REPEAT: [&str; 16] = [
    "你说什么",
    "您说什么",
    "再说一遍",
    "再说一次",
    "再讲一遍",
    "再讲一次",
    "重复一下",
    "重复一遍",
    "没听清",
    "听不清",
    "没听到",
    "没听见",
    "听不到",
    "听不见",
    "说的什么",
    "刚才说什么",
];
const ZH_REPEAT_WHOLE: [&str; 7] = ["什么", "啥", "啊", "哈", "喂", "喂喂", "什么什么"];
const ZH_RESCHEDULE: [&str; 25] = [
    "晚点再",
    "晚点打",
    "晚一点",
    "晚些",
    "等会再",
    "等会儿",
    "等一会",
    "过会",
    "一会儿再",
    "一会再",
    "明天再",
    "回头再",
    "改天",
    "再打给我",
    "再打过来",
    "稍后",
    "晚上再",
    "下午再",
    "上午再",
    "回电",
    "再联系",
    "换个时间",
    "改到",
    "推到",
    "换到",
];
const ZH_BUSY: [&str; 12] = [
    "不方便",
    "在忙",
    "很忙",
    "正忙",
    "在开会",
    "开会呢",
    "在开车",
    "开车呢",
    "没空",
    "没时间",
    "现在不行",
    "上班呢",
];
const ZH_TIME_CUE: [&str; 16] = [
    "明天", "晚点", "晚上", "下午", "上午", "等会", "一会", "回头", "改天", "下周", "周", "星期",
    "点", "再打", "稍后", "过会",
];
const ZH_YES: [&str; 24] = [
    "没问题",
    "没有问题",
    "是的",
    "是啊",
    "是我",
    "对的",
    "对对",
    "对",
    "可以",
    "好的",
    "好啊",
    "好",
    "行",
    "当然",
    "方便",
    "有空",
    "请说",
    "你说",
    "您说",
    "说吧",
    "来吧",
    "是",
    "嗯嗯",
    "ok",
];
const ZH_NO: [&str; 16] = [
    "不是",
    "不对",
    "不行",
    "不可以",
    "不用",
    "不要",
    "不方便",
    "不太方便",
    "没有",
    "没空",
    "算了",
    "不想",
    "不需要",
    "不了",
    "不好",
    "不",
];
const EN_YES: [&str; 27] = [
    "yes",
    "yeah",
    "yep",
    "yup",
    "yea",
    "ya",
    "sure",
    "ok",
    "okay",
    "alright",
    "all right",
    "of course",
    "certainly",
    "absolutely",
    "definitely",
    "correct",
    "right",
    "exactly",
    "thats me",
    "this is he",
    "this is she",
    "speaking",
    "go ahead",
    "sounds good",
    "why not",
    "uh huh",
    "mhm",
];
const EN_YES_WHOLE: [&str; 6] = ["i do", "i am", "i can", "i have", "fine", "please do"];
const EN_NO: [&str; 10] = [
    "no",
    "nope",
    "nah",
    "not really",
    "not now",
    "not at the moment",
    "i dont think so",
    "negative",
    "no thanks",
    "no thank you",
];
const EN_NOT_NO: [&str; 5] = [
    "no problem",
    "no worries",
    "no doubt",
    "no no problem",
    "not bad",
];

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
            EN_YES_WHOLE.contains(&s).then_some((Intent::Yes, 0.9))
        }
        Lang::Zh => {
            let s = strip_fillers_zh(zh);
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
            ZH_YES
                .iter()
                .any(|p| s.starts_with(p))
                .then_some((Intent::Yes, conf))
        }
    }
}
