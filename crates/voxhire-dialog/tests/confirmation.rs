//! The confirmation safety net: a scored number or date heard with low
//! confidence is read back in one turn; yes keeps it, a new value replaces it,
//! no withdraws it and offers the keypad (numbers) or asks again (dates). A value
//! heard clearly costs no turn.

mod common;

use common::*;
use voxhire_dialog::interview::{ConfirmOutcome, QuestionStatus};
use voxhire_dialog::{Action, DialogEventKind, InterviewScript, Status};
use voxhire_nlu::{Intent, Lang, SlotKind, SlotValue};

/// Whisper was unsure of the words (value confidence 0.3 < 0.5).
const UNSURE: f32 = 0.3;

#[test]
fn a_value_heard_clearly_is_not_read_back() {
    let (mut call, _) = en_to_first_question(Some("Alex"));
    let a = call.answer("six years", Intent::Answer, vec![years(6.0)]);
    assert_eq!(listening(&a).as_deref(), Some("skills"), "{a:?}");
    let report = call.iv.finish(None);
    assert!(report.questions[0].confirmations.is_empty());
}

#[test]
fn an_unsure_value_is_read_back_and_yes_keeps_it() {
    let (mut call, _) = en_to_first_question(Some("Alex"));
    call.asr_confidence = UNSURE;
    let a = call.answer("six years", Intent::Answer, vec![years(6.0)]);
    assert_eq!(said(&a), ["confirm.years_experience"]);
    assert_eq!(
        text_of(&a, "confirm.years_experience"),
        "Just to check: 6 years of experience, is that right?"
    );
    let Some(Action::Listen { context }) = a.last() else {
        panic!("{a:?}")
    };
    assert!(context.nlu.yes_no, "a read-back is a yes/no turn");
    assert_eq!(context.nlu.expected, [SlotKind::YearsExperience]);
    call.asr_confidence = 0.9;
    let a = call.answer("yes", Intent::Yes, vec![]);
    assert_eq!(listening(&a).as_deref(), Some("skills"));
    let report = call.iv.finish(None);
    let q = &report.questions[0];
    assert_eq!(q.points, 10.0);
    assert_eq!(q.confirmations.len(), 1);
    let c = &q.confirmations[0];
    assert_eq!(c.outcome, ConfirmOutcome::Confirmed);
    assert_eq!(c.value, Some(SlotValue::Years { years: 6.0 }));
    assert!((c.confidence - UNSURE).abs() < 1e-6);
    assert!(call.event_kinds().iter().any(|e| matches!(
        e,
        DialogEventKind::ConfirmResolved {
            outcome: ConfirmOutcome::Confirmed,
            ..
        }
    )));
}

#[test]
fn a_misheard_knockout_value_is_checked_before_it_knocks_out() {
    // Heard "one year" (a knockout) where the candidate said "nine years".
    let (mut call, _) = en_to_first_question(Some("Alex"));
    call.asr_confidence = UNSURE;
    let a = call.answer("one year", Intent::Answer, vec![years(1.0)]);
    assert_eq!(
        text_of(&a, "confirm.years_experience"),
        "Just to check: 1 year of experience, is that right?"
    );
    assert!(!a.contains(&Action::HangUp));
    // "No": the keypad is offered for a number.
    call.asr_confidence = 0.9;
    let a = call.answer("no", Intent::No, vec![]);
    assert_eq!(said(&a), ["key_in.years_experience"]);
    assert_eq!(listening(&a).as_deref(), Some("years.years_experience"));
    call.played();
    let a = call.keys("9#");
    assert_eq!(listening(&a).as_deref(), Some("skills"), "{a:?}");
    let report = call.iv.finish(None);
    assert_eq!(report.knockout, None);
    let q = &report.questions[0];
    assert_eq!(q.points, 10.0, "scored on the keyed value");
    assert_eq!(q.slots.len(), 1);
    assert_eq!(q.slots[0].value, SlotValue::Years { years: 9.0 });
    assert_eq!(q.slots[0].evidence.quote, "keyed 9");
    let c = &q.confirmations[0];
    assert_eq!(c.outcome, ConfirmOutcome::Keyed);
    assert_eq!(c.heard, SlotValue::Years { years: 1.0 });
    assert_eq!(c.reply, "9");
}

#[test]
fn a_correction_replaces_the_value_without_another_turn() {
    let (mut call, _) = Call::answered("interview-frontend.zh.toml", Lang::Zh, Some("王芳"));
    call.answer("可以", Intent::Yes, vec![]);
    call.answer("是我", Intent::Yes, vec![]);
    call.answer("方便", Intent::Yes, vec![]);
    call.answer("五年", Intent::Answer, vec![years(5.0)]);
    call.answer(
        "React和TypeScript",
        Intent::Answer,
        vec![skills(&["react", "typescript"])],
    );
    let a = call.answer("做了一个电商系统的重构", Intent::Answer, vec![]);
    assert_eq!(listening(&a).as_deref(), Some("salary"), "{a:?}");
    call.asr_confidence = UNSURE;
    let a = call.answer("两万五左右", Intent::Answer, vec![money(25_000, "CNY")]);
    assert_eq!(
        text_of(&a, "confirm.salary_monthly"),
        "您期望的月薪是两万五千元，对吗？"
    );
    call.asr_confidence = 0.9;
    let a = call.answer("不是，两万二", Intent::No, vec![money(22_000, "CNY")]);
    assert!(!said(&a).iter().any(|s| s.starts_with("confirm")), "{a:?}");
    let report = call.iv.finish(None);
    let q = report.questions.iter().find(|q| q.id == "salary").unwrap();
    assert_eq!(q.status, QuestionStatus::Answered);
    assert_eq!(
        q.slots.iter().map(|s| &s.value).collect::<Vec<_>>(),
        [&SlotValue::Money {
            amount: 22_000,
            currency: "CNY".into()
        }]
    );
    assert_eq!(q.confirmations[0].outcome, ConfirmOutcome::Corrected);
}

#[test]
fn a_rejected_date_is_withdrawn_and_asked_for_again() {
    let (mut call, _) = en_to_first_question(Some("Alex"));
    call.answer("six years", Intent::Answer, vec![years(6.0)]);
    call.answer(
        "spring cloud kubernetes",
        Intent::Answer,
        vec![skills(&["spring-cloud", "kubernetes"])],
    );
    call.answer("I rebuilt the billing system", Intent::Answer, vec![]);
    let a = call.answer(
        "about twelve thousand",
        Intent::Answer,
        vec![money(12_000, "USD")],
    );
    assert_eq!(listening(&a).as_deref(), Some("start"), "{a:?}");
    call.asr_confidence = UNSURE;
    let a = call.answer(
        "the first of december",
        Intent::Answer,
        vec![start_date(2026, 12, 1)],
    );
    assert_eq!(
        text_of(&a, "confirm.start_date"),
        "So you could start on Tuesday, December 1, is that right?"
    );
    call.asr_confidence = 0.9;
    let a = call.answer("no", Intent::No, vec![]);
    assert_eq!(said(&a), ["questions.start.reprompt_no_match"]);
    assert_eq!(listening(&a).as_deref(), Some("start"));
    let report = call.iv.finish(None);
    let q = report.questions.iter().find(|q| q.id == "start").unwrap();
    assert!(q.slots.is_empty(), "the rejected date is not scored");
    assert_eq!(q.points, 0.0);
    assert_eq!(q.confirmations[0].outcome, ConfirmOutcome::Rejected);
    // The second answer is heard clearly and ends the interview.
    let a = call.answer("in thirty days", Intent::Answer, vec![notice_days(30)]);
    assert_eq!(said(&a), ["closing.completed"]);
    let report = call.iv.finish(None);
    assert_eq!(report.status, Status::Completed);
    let q = report.questions.iter().find(|q| q.id == "start").unwrap();
    assert_eq!(q.points, 10.0);
}

#[test]
fn no_reply_to_a_read_back_keeps_the_value_as_heard() {
    let (mut call, _) = en_to_first_question(Some("Alex"));
    call.asr_confidence = UNSURE;
    call.answer("six years", Intent::Answer, vec![years(6.0)]);
    call.played();
    let a = call.silence();
    assert_eq!(
        said(&a),
        ["no_input", "confirm.years_experience", "dtmf_yes_no"],
        "one retry, with the keypad hint"
    );
    call.played();
    let a = call.silence();
    assert_eq!(listening(&a).as_deref(), Some("skills"));
    let report = call.iv.finish(None);
    assert_eq!(report.questions[0].points, 10.0);
    assert_eq!(
        report.questions[0].confirmations[0].outcome,
        ConfirmOutcome::Unconfirmed
    );
}

#[test]
fn keypad_yes_and_a_pause_after_the_digits_complete_the_turn() {
    let (mut call, _) = en_to_first_question(Some("Alex"));
    call.asr_confidence = UNSURE;
    call.answer("six years", Intent::Answer, vec![years(6.0)]);
    call.played();
    let a = call.keys("2"); // 2 = no
    assert_eq!(said(&a), ["key_in.years_experience"]);
    call.played();
    call.keys("12");
    let a = call.silence(); // no pound key: the pause ends the number
    assert_eq!(listening(&a).as_deref(), Some("skills"), "{a:?}");
    let report = call.iv.finish(None);
    assert_eq!(
        report.questions[0].slots[0].value,
        SlotValue::Years { years: 12.0 }
    );
}

#[test]
fn keys_that_make_no_value_are_asked_again_then_given_up() {
    let (mut call, _) = Call::answered("interview-frontend.zh.toml", Lang::Zh, Some("王芳"));
    call.answer("可以", Intent::Yes, vec![]);
    call.answer("是我", Intent::Yes, vec![]);
    call.answer("方便", Intent::Yes, vec![]);
    call.asr_confidence = UNSURE;
    call.answer("五年", Intent::Answer, vec![years(5.0)]);
    call.asr_confidence = 0.9;
    let a = call.answer("不对", Intent::No, vec![]);
    assert_eq!(said(&a), ["key_in.years_experience"]);
    assert_eq!(
        text_of(&a, "key_in.years_experience"),
        "不好意思。请在键盘上输入您的工作年数，然后按井号键。"
    );
    call.played();
    let a = call.keys("99#"); // more than 60 years: not a value
    assert_eq!(said(&a), ["no_match", "key_in.years_experience"]);
    call.played();
    let a = call.keys("*#");
    assert_eq!(listening(&a).as_deref(), Some("stack"), "{a:?}");
    let report = call.iv.finish(None);
    let q = &report.questions[0];
    assert!(
        q.slots.is_empty(),
        "the value the candidate denied is not scored"
    );
    assert_eq!(q.status, QuestionStatus::Asked);
    assert_eq!(q.confirmations[0].outcome, ConfirmOutcome::Rejected);
    assert_eq!(q.confirmations[0].heard, SlotValue::Years { years: 5.0 });
}

#[test]
fn hanging_up_during_a_read_back_keeps_the_value_as_heard() {
    let (mut call, _) = en_to_first_question(Some("Alex"));
    call.asr_confidence = UNSURE;
    call.answer("six years", Intent::Answer, vec![years(6.0)]);
    call.input(voxhire_dialog::Input::HangUp);
    let report = call.iv.finish(None);
    assert_eq!(report.status, Status::HungUp);
    assert_eq!(report.questions[0].slots.len(), 1);
    assert_eq!(
        report.questions[0].confirmations[0].outcome,
        ConfirmOutcome::Unconfirmed
    );
}

#[test]
fn confirm_below_zero_never_reads_back() {
    let text = std::fs::read_to_string(config("interview-java-backend.en.toml"))
        .unwrap()
        .replace("max_retries = 2", "max_retries = 2\nconfirm_below = 0");
    let script = InterviewScript::from_str(&text, "never.toml").unwrap();
    assert_eq!(script.confirm_below(), 0.0);
}

#[test]
fn script_confirm_lines_are_validated_with_file_and_key() {
    let base = std::fs::read_to_string(config("interview-java-backend.en.toml")).unwrap();
    let with = |extra: &str| {
        let text = base.replace(
            "[prompts.en.closing]",
            &format!("{extra}\n\n[prompts.en.closing]"),
        );
        InterviewScript::from_str(&text, "bad.toml")
            .expect_err("refused")
            .to_string()
    };
    let e = with("[prompts.en.confirm]\nsalary_monthly = \"So that's a month?\"");
    assert!(
        e.contains("prompts.en.confirm.salary_monthly") && e.contains("{value}"),
        "{e}"
    );
    let e = with("[prompts.en.confirm]\nskills = \"So {value}?\"");
    assert!(
        e.contains("prompts.en.confirm.skills") && e.contains("years_experience"),
        "{e}"
    );
    let e = with("[prompts.en.key_in]\nsalary_monthly = \"Type {value}\"");
    assert!(e.contains("only filled in confirm lines"), "{e}");
    let text = base.replace("max_retries = 2", "max_retries = 2\nconfirm_below = 1.5");
    let e = InterviewScript::from_str(&text, "bad.toml")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("dialog.confirm_below") && e.contains("bad.toml"),
        "{e}"
    );
}
