//! The words and patterns behind [`super::rule_intent`], English regexes over
//! normalised text (lower case, no apostrophes: "dont call me") and Mandarin
//! substrings over text without spaces or punctuation.

use std::sync::LazyLock;

use regex::Regex;

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("rules.rs pattern {pattern:?}: {e}"))
}

pub(super) static EN_OPT_OUT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:(?:dont|do not|never|stop|quit|no more)\s+(?:ever\s+)?(?:call|calling|ring|ringing|phone|phoning|contact|contacting|bother|bothering|text|texting)(?:\s+\w+){0,3}?\s+(?:again|anymore|any more|ever)|stop (?:calling|contacting|bothering|ringing)|never (?:call|contact)|(?:remove|take|delete|erase|scratch|cross)\s+(?:me|my (?:number|name|details|info|information))(?:\s+\w+){0,3}?\s+(?:list|lists|database|system|records|off)|(?:remove|delete|erase) my (?:number|details|data)|take me off|unsubscribe|opt out|do not call list|leave me alone|this is harassment)\b",
    )
});
/// "don't call me" without "again": an opt-out unless a time says "not now".
pub(super) static EN_DONT_CALL: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\b(?:dont|do not)\s+(?:call|contact|ring|phone)(?:\s+(?:me|this number)\b|$)")
});
pub(super) static EN_NOT_INTERESTED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:not|no longer|am not) (?:really )?interested\b(?:$|\s+(?:thanks|thank you|at all|sorry|bye|goodbye))",
    )
});
pub(super) static EN_REPEAT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:repeat (?:that|it|the (?:\w+ )?question|yourself|please)|(?:can|could|would|will) you (?:please )?repeat|please repeat|you (?:cut|keep cutting|are cutting|re cutting) out|(?:youre|you are) cutting out|what was that$|(?:say|ask) (?:that|it|the question)?\s*(?:again|one more time)|come again|pardon|(?:didnt|did not|couldnt|could not|cant|can not|cannot) (?:quite )?(?:catch|hear|understand|get) (?:that|you|it|what you said|the question)|what did you (?:say|just say)|one more time please|youre breaking up|you are breaking up|the line is bad|say what)\b",
    )
});
pub(super) static EN_REPEAT_WHOLE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:(?:um|uh|oh|er)\s+)?(?:sorry|what|huh|eh|excuse me|sorry what|what sorry|sorry say again|hello|hello hello|what was that|sorry i missed that|i missed that)$",
    )
});
pub(super) static EN_RESCHEDULE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:call (?:me |us )?(?:back|later|again later|another time|some other time|tomorrow|tonight|this (?:afternoon|evening)|next week|in (?:an|a|half|one|two|three|\d+|a few|a couple)|at\s)|call back|try (?:me |us )?(?:again )?later|try (?:me |us )?again (?:around|at|in|tomorrow|tonight|this|on|next)|(?:move|push|postpone|shift) (?:this|it|the call|our call|the interview) (?:to|till|until|back)|(?:another|some other|a better) time|reschedule|(?:talk|speak|chat|do this) (?:later|tomorrow|another time)|(?:later|tomorrow) (?:please|would be better|is better|works better)|(?:can|could) we do (?:it|this) later)\b",
    )
});
pub(super) static EN_BUSY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:(?:im|i am) (?:a bit |kind of |really |very )?(?:busy|driving|in a meeting|at work|in class|on another call|not free|not available)|(?:its|it is) not (?:a )?good time|not a good time|bad time|(?:now|this) (?:is|isnt|is not) (?:a )?(?:bad|not good|not a good)|not good (?:right )?now|(?:cant|can not|cannot) talk|not now|not right now|in a meeting)\b",
    )
});
pub(super) static EN_TIME_CUE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:later|tomorrow|tonight|afternoon|evening|morning|next week|monday|tuesday|wednesday|thursday|friday|saturday|sunday|in an hour|in a few|in \w+ (?:hours|minutes)|back|\d+ ?(?:am|pm)|o clock|oclock)\b",
    )
});

pub(super) const ZH_OPT_OUT: [&str; 22] = [
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
pub(super) const ZH_DONT_CALL: [&str; 5] = [
    "别打了",
    "不要打了",
    "别给我打电话",
    "不要给我打电话",
    "不要打电话",
];
pub(super) const ZH_NOT_INTERESTED: [&str; 6] = [
    "不感兴趣",
    "没兴趣",
    "没有兴趣",
    "不考虑",
    "不找了",
    "不找工作",
];
pub(super) const ZH_REPEAT: [&str; 16] = [
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
pub(super) const ZH_REPEAT_WHOLE: [&str; 7] = ["什么", "啥", "啊", "哈", "喂", "喂喂", "什么什么"];
pub(super) const ZH_RESCHEDULE: [&str; 25] = [
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
pub(super) const ZH_BUSY: [&str; 12] = [
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
pub(super) const ZH_TIME_CUE: [&str; 16] = [
    "明天", "晚点", "晚上", "下午", "上午", "等会", "一会", "回头", "改天", "下周", "周", "星期",
    "点", "再打", "稍后", "过会",
];
pub(super) const ZH_YES: [&str; 24] = [
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
pub(super) const ZH_NO: [&str; 16] = [
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
pub(super) const EN_YES: [&str; 27] = [
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
pub(super) const EN_YES_WHOLE: [&str; 6] = ["i do", "i am", "i can", "i have", "fine", "please do"];
pub(super) const EN_NO: [&str; 10] = [
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
pub(super) const EN_NOT_NO: [&str; 5] = [
    "no problem",
    "no worries",
    "no doubt",
    "no no problem",
    "not bad",
];
