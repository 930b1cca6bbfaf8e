//! Mandarin intent cues: MiniLM reads Chinese as `[UNK]`, so Mandarin turns are
//! compared with examples by character n-gram overlap, and LAC's tags supply the
//! rest (a TIME word next to a call-back verb, how many content words were said).

use std::collections::HashSet;

use crate::lac::LacWord;
use crate::types::Intent;

/// Fillers and sentence-final particles: they carry no intent.
const FILLERS: &[char] = &[
    '嗯', '啊', '呃', '哦', '吧', '呀', '呢', '嘛', '哈', '诶', '唉', '额',
];

fn is_content(c: char) -> bool {
    c.is_alphanumeric() && !FILLERS.contains(&c)
}

/// Characters and character bigrams of an utterance, fillers and punctuation dropped.
#[derive(Debug, Clone, Default)]
pub(crate) struct Grams(HashSet<String>);

impl Grams {
    pub(crate) fn of(text: &str) -> Self {
        let chars: Vec<char> = text.chars().filter(|&c| is_content(c)).collect();
        let mut set: HashSet<String> = chars.iter().map(|c| c.to_string()).collect();
        set.extend(chars.windows(2).map(|w| w.iter().collect::<String>()));
        Grams(set)
    }

    /// Dice coefficient: 2|A∩B| / (|A|+|B|), 0..1.
    pub(crate) fn dice(&self, other: &Grams) -> f32 {
        let total = self.0.len() + other.0.len();
        if total == 0 {
            return 0.0;
        }
        let shared = self.0.intersection(&other.0).count();
        2.0 * shared as f32 / total as f32
    }
}

/// What LAC's tagging says about a Mandarin turn's intent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MandarinCues {
    /// A time (LAC TIME, or 晚点/待会/改天) with a call-back verb (打, 联系, 再聊 …),
    /// or a busy phrase (在开会, 在开车, 没空): "call me later".
    pub reschedule: bool,
    /// A time word (LAC TIME) or 晚点/待会/改天.
    pub time: bool,
    /// An opt-out phrase (别再打, 不要联系, 找到工作了, 不感兴趣).
    pub opt_out: bool,
    /// A short request to hear the question again (没听清, 再讲一下, 说慢一点, 哪个问题).
    pub repeat: bool,
    /// Keyword yes or no (是/对/好/可以 vs 不/没), for yes/no questions.
    pub yes_no: Option<Intent>,
    /// Characters in content words (not punctuation, particles, fillers or
    /// pronouns: 你那个 / 这个嘛 is someone thinking, not an answer).
    pub content_chars: usize,
}

const LATER: &[&str] = &[
    "晚点",
    "晚一点",
    "待会",
    "等会",
    "一会儿",
    "改天",
    "下次",
    "回头",
    "过会",
];
const CALL_BACK: &[&str] = &[
    "打",
    "联系",
    "回电",
    "再聊",
    "再说",
    "再谈",
    "找我",
    "打过来",
    "来电",
];
const BUSY: &[&str] = &[
    "在开会",
    "在开车",
    "没空",
    "在忙",
    "很忙",
    "不方便",
    "不太方便",
    "没时间",
    "在上班",
    "换个时间",
    "换时间",
    "改个时间",
];
/// Asking to hear the question again; only counted in short turns (a long answer
/// may well mention 没听到 in passing).
const REPEAT: &[&str] = &[
    "再说一遍",
    "再说一次",
    "再讲",
    "重复",
    "说慢",
    "讲慢",
    "慢一点",
    "大声",
    "大点声",
    "没听清",
    "没听到",
    "听不清",
    "听不到",
    "哪个问题",
    "什么问题",
    "问的什么",
    "问什么",
    "说什么",
    "说啥",
];
const REPEAT_MAX_CHARS: usize = 15;

/// Phrases that end the interview: checked before the reschedule cue, since
/// 以后不要再打了 has both a time word and 打.
const OPT_OUT: &[&str] = &[
    "不要再打",
    "别再打",
    "别打了",
    "不要打了",
    "不要联系",
    "别联系",
    "不要再联系",
    "不用再联系",
    "找到工作",
    "不找工作",
    "不找了",
    "不感兴趣",
    "没兴趣",
    "号码删",
    "删掉我的",
    "放弃",
    "不想面试",
    "不面试了",
    "骚扰",
];
const NO: &[&str] = &[
    "不太",
    "不是",
    "不对",
    "不行",
    "不用",
    "没有",
    "不可以",
    "不要",
    "不想",
    "不会",
    "不同意",
    "不方便",
    "不愿意",
    "没",
    "不",
];
const YES: &[&str] = &[
    "没问题",
    "是",
    "对",
    "好",
    "可以",
    "行",
    "方便",
    "当然",
    "同意",
    "会",
    "有",
    "愿意",
    "嗯",
];

/// Cues from the text and its LAC words.
pub fn mandarin_cues(text: &str, words: &[LacWord]) -> MandarinCues {
    let has_time = words.iter().any(|w| w.tag == "TIME") || LATER.iter().any(|l| text.contains(l));
    let call_back = CALL_BACK.iter().any(|v| text.contains(v));
    let busy = BUSY.iter().any(|b| text.contains(b));
    let content_chars = words
        .iter()
        .filter(|w| !matches!(w.tag.as_str(), "w" | "xc" | "u" | "r"))
        .map(|w| w.text.chars().filter(|&c| is_content(c)).count())
        .sum();
    MandarinCues {
        reschedule: (has_time && call_back) || busy,
        time: has_time,
        opt_out: OPT_OUT.iter().any(|p| text.contains(p)),
        repeat: text.chars().filter(|&c| is_content(c)).count() <= REPEAT_MAX_CHARS
            && REPEAT.iter().any(|p| text.contains(p)),
        yes_no: yes_no(text),
        content_chars,
    }
}

/// Keyword yes/no: a negation first (不是, 没有), since 不是 contains 是; 没问题 is yes.
fn yes_no(text: &str) -> Option<Intent> {
    let t: String = text
        .chars()
        .filter(|&c| is_content(c) || c == '嗯')
        .collect();
    if t.contains("没问题") || t.contains("没关系") {
        return Some(Intent::Yes);
    }
    if NO.iter().any(|n| t.starts_with(n)) || NO[..NO.len() - 2].iter().any(|n| t.contains(n)) {
        return Some(Intent::No);
    }
    if YES.iter().any(|y| t.contains(y)) {
        return Some(Intent::Yes);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negations_win_over_the_yes_inside_them() {
        assert_eq!(yes_no("不是的"), Some(Intent::No));
        assert_eq!(yes_no("嗯 没有"), Some(Intent::No));
        assert_eq!(yes_no("没问题"), Some(Intent::Yes));
        assert_eq!(yes_no("对 是我"), Some(Intent::Yes));
        assert_eq!(yes_no("张伟"), None);
    }

    #[test]
    fn opt_out_phrases_are_not_reschedules() {
        let words = [LacWord {
            text: "以后".into(),
            tag: "TIME".into(),
            span: 0..6,
        }];
        let c = mandarin_cues("以后不要再打了", &words);
        assert!(c.opt_out);
        let c = mandarin_cues("现在不太方便，换个时间吧。", &[]);
        assert!(c.reschedule && !c.opt_out);
        assert_eq!(c.yes_no, Some(Intent::No));
    }

    #[test]
    fn short_requests_to_repeat() {
        assert!(mandarin_cues("你能说慢一点吗", &[]).repeat);
        assert!(mandarin_cues("哪个问题？", &[]).repeat);
        assert!(mandarin_cues("啊？你说啥？", &[]).repeat);
        assert!(!mandarin_cues("我做了五年后端开发", &[]).repeat);
        let long =
            "我之前负责的项目很多，刚才信号不好没听到你说的第二部分，但是第一个问题我可以回答";
        assert!(!mandarin_cues(long, &[]).repeat);
    }

    #[test]
    fn pronouns_and_particles_are_not_content() {
        let w = |text: &str, tag: &str| LacWord {
            text: text.into(),
            tag: tag.into(),
            span: 0..0,
        };
        let thinking = mandarin_cues("你那个", &[w("你", "r"), w("那个", "r")]);
        assert_eq!(thinking.content_chars, 0);
        let words = [w("我", "r"), w("做", "v"), w("了", "u"), w("五年", "TIME")];
        assert_eq!(mandarin_cues("我做了五年", &words).content_chars, 3);
    }

    #[test]
    fn dice_ignores_fillers_and_punctuation() {
        let a = Grams::of("嗯，没听清");
        let b = Grams::of("没听清");
        assert!((a.dice(&b) - 1.0).abs() < 1e-6);
        assert!(Grams::of("我在开会").dice(&Grams::of("五年经验")) < 0.1);
        assert_eq!(Grams::of("").dice(&Grams::of("")), 0.0);
    }
}
