//! Keyword intents (rules.rs): opt-out, reschedule, repeat, yes/no on yes/no
//! questions, and None where the classifier should decide.

use voxhire_nlu::rules::rule_intent;
use voxhire_nlu::{Intent, Lang, NluContext};

fn check(lang: Lang, yes_no: bool, cases: &[(&str, Option<Intent>)]) {
    let ctx = NluContext {
        yes_no,
        ..Default::default()
    };
    let bad: Vec<String> = cases
        .iter()
        .filter_map(|(text, want)| {
            let got = rule_intent(text, lang, &ctx).map(|(i, _)| i);
            (got != *want).then(|| format!("{text:?}: got {got:?}, want {want:?}"))
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{} of {} wrong (yes_no={yes_no}):\n{}",
        bad.len(),
        cases.len(),
        bad.join("\n")
    );
}

use Intent::*;

#[test]
fn english_opt_out() {
    check(
        Lang::En,
        false,
        &[
            ("don't call me again", Some(OptOut)),
            ("dont call me again", Some(OptOut)),
            ("please do not call this number again", Some(OptOut)),
            ("remove me from your list", Some(OptOut)),
            ("take me off your list", Some(OptOut)),
            ("not interested stop calling", Some(OptOut)),
            ("Not interested, stop calling me.", Some(OptOut)),
            ("stop calling me", Some(OptOut)),
            ("never call me again", Some(OptOut)),
            ("delete my number", Some(OptOut)),
            ("i'm not interested", Some(OptOut)),
            ("don't call me", Some(OptOut)),
            ("unsubscribe", Some(OptOut)),
            ("leave me alone", Some(OptOut)),
            ("put me on your do not call list", Some(OptOut)),
            ("I found something else, please don't call", Some(OptOut)),
        ],
    );
}

#[test]
fn english_reschedule_and_repeat() {
    check(
        Lang::En,
        false,
        &[
            ("i'm busy right now", Some(Reschedule)),
            ("can you call me back later", Some(Reschedule)),
            ("could you call me tomorrow", Some(Reschedule)),
            ("call me back in an hour", Some(Reschedule)),
            ("i'm driving can we do this another time", Some(Reschedule)),
            ("not a good time", Some(Reschedule)),
            ("i'm in a meeting", Some(Reschedule)),
            ("try me again later", Some(Reschedule)),
            ("could we move this to saturday", Some(Reschedule)),
            ("could you try again around eight", Some(Reschedule)),
            ("don't call me now call me tomorrow", Some(Reschedule)),
            ("sorry, what?", Some(Repeat)),
            ("could you repeat that", Some(Repeat)),
            ("pardon", Some(Repeat)),
            ("sorry i didn't catch that", Some(Repeat)),
            ("what did you say", Some(Repeat)),
            ("can you say that again please", Some(Repeat)),
            ("huh", Some(Repeat)),
            ("you're breaking up", Some(Repeat)),
            ("sorry, you cut out there", Some(Repeat)),
            ("can you please repeat the last question", Some(Repeat)),
            ("hmm, what was that", Some(Repeat)),
            ("I have about five years of Java", None),
            ("what is the salary range for this role", None),
            ("i am interested in backend roles", None),
        ],
    );
}

#[test]
fn english_yes_no_only_on_yes_no_questions() {
    let cases = [
        ("yes", Some(Yes)),
        ("yeah", Some(Yes)),
        ("Yeah, that's me.", Some(Yes)),
        ("sure go ahead", Some(Yes)),
        ("Make sure go ahead.", Some(Yes)),
        ("Circle ahead.", Some(Yes)),
        ("I'd rather not go ahead", None),
        ("of course", Some(Yes)),
        ("uh yes it is", Some(Yes)),
        ("speaking", Some(Yes)),
        ("okay", Some(Yes)),
        ("no problem", Some(Yes)),
        ("i do", Some(Yes)),
        ("no", Some(No)),
        ("nope", Some(No)),
        ("not really", Some(No)),
        ("no thanks", Some(No)),
        ("i don't think so", Some(No)),
        ("not now", Some(No)),
        ("i'm busy", Some(No)),
        ("no call me tomorrow", Some(Reschedule)),
        ("not now maybe later", Some(Reschedule)),
        ("yes but i'm driving", Some(No)),
        ("I worked on payments mostly", None),
    ];
    check(Lang::En, true, &cases);
    // The same words on an open question: the classifier decides.
    check(
        Lang::En,
        false,
        &[("yes", None), ("no", None), ("sure", None)],
    );
}

#[test]
fn mandarin_opt_out_reschedule_repeat() {
    check(
        Lang::Zh,
        false,
        &[
            ("别再打了", Some(OptOut)),
            ("不要再给我打电话了", Some(OptOut)),
            ("把我的号码删掉", Some(OptOut)),
            ("以后别打了", Some(OptOut)),
            ("你们别骚扰我了", Some(OptOut)),
            ("不感兴趣", Some(OptOut)),
            ("别打了", Some(OptOut)),
            ("删除我的电话号码", Some(OptOut)),
            ("谢谢，我已经不找工作了", Some(OptOut)),
            ("算了，不找了", Some(OptOut)),
            ("现在不方便", Some(Reschedule)),
            ("晚点再打", Some(Reschedule)),
            ("明天再打给我吧", Some(Reschedule)),
            ("我在开会，等会儿再说", Some(Reschedule)),
            ("改天吧", Some(Reschedule)),
            ("能改到周六吗", Some(Reschedule)),
            ("我在开车", Some(Reschedule)),
            ("稍后联系我", Some(Reschedule)),
            ("别打了，明天下午再打", Some(Reschedule)),
            ("你说什么", Some(Repeat)),
            ("请再说一遍", Some(Repeat)),
            ("没听清", Some(Repeat)),
            ("信号不好，听不清", Some(Repeat)),
            ("什么？", Some(Repeat)),
            ("能重复一下吗", Some(Repeat)),
            ("我做了五年Java", None),
            ("期望薪资两万五", None),
        ],
    );
}

#[test]
fn mandarin_yes_no() {
    check(
        Lang::Zh,
        true,
        &[
            ("是的", Some(Yes)),
            ("对", Some(Yes)),
            ("对对对", Some(Yes)),
            ("可以", Some(Yes)),
            ("好的", Some(Yes)),
            ("没问题", Some(Yes)),
            ("是我", Some(Yes)),
            ("嗯，是我", Some(Yes)),
            ("行，你说吧", Some(Yes)),
            // Seen on the phone line: 方便 heard as 封电; the invitation still says yes.
            ("现在封电，你问吧？", Some(Yes)),
            ("现在方便", Some(Yes)),
            ("我现在可以", Some(Yes)),
            ("现在不方便", Some(No)),
            ("请讲", Some(Yes)),
            ("方便", Some(Yes)),
            ("不是", Some(No)),
            ("不行", Some(No)),
            ("不可以", Some(No)),
            ("不方便", Some(No)),
            ("不是我，你打错了", Some(No)),
            ("没有", Some(No)),
            ("不方便，明天再打吧", Some(Reschedule)),
            ("不太方便，晚点打", Some(Reschedule)),
            ("对不起，我在开会", Some(No)),
            ("是不是要面试", None),
            ("我在北京", None),
        ],
    );
    check(Lang::Zh, false, &[("是的", None), ("可以", None)]);
}
