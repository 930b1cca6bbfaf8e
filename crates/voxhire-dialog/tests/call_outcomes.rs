//! The ways a call ends early: opt-out, reschedule, knockout, hang-up.

mod common;

use common::*;
use voxhire_dialog::interview::QuestionStatus;
use voxhire_dialog::{Action, Input, Recommendation, Status};
use voxhire_nlu::{Intent, Lang};

#[test]
fn opt_out_mid_interview_marks_do_not_call_and_hangs_up() {
    let (mut call, _) = en_to_first_question(Some("Alex"));
    call.answer("six years", Intent::Answer, vec![years(6.0)]);
    let a = call.answer(
        "actually please don't call me again",
        Intent::OptOut,
        vec![],
    );
    assert_eq!(a[0], Action::MarkDoNotCall);
    assert_eq!(said(&a), ["closing.opted_out"]);
    assert_eq!(a.last(), Some(&Action::HangUp));
    assert!(call.iv.is_finished());
    let report = call.iv.finish(None);
    assert_eq!(report.status, Status::OptedOut);
    assert!(report.do_not_call);
    assert_eq!(report.recommendation, None);
    assert_eq!(
        report.questions[0].points, 10.0,
        "what was answered is kept"
    );
}

#[test]
fn not_a_good_time_call_me_tomorrow_at_ten_schedules_the_callback() {
    let (mut call, _) = Call::answered("interview-java-backend.en.toml", Lang::En, Some("Alex"));
    call.answer("yes", Intent::Yes, vec![]);
    call.answer("yes it's me", Intent::Yes, vec![]);
    // The call runs on 2026-11-26 local time; the NLU resolved "tomorrow at ten".
    let tomorrow_ten = local(2026, 11, 27, 10, 0);
    let a = call.answer(
        "not a good time, call me tomorrow at ten",
        Intent::Reschedule,
        vec![callback(tomorrow_ten)],
    );
    assert_eq!(a[0], Action::ScheduleCallback { at: tomorrow_ten });
    assert_eq!(said(&a), ["closing.rescheduled"]);
    assert_eq!(a.last(), Some(&Action::HangUp));
    let report = call.iv.finish(None);
    assert_eq!(report.status, Status::Rescheduled);
    assert_eq!(report.callback_at, Some(tomorrow_ten));
}

#[test]
fn a_time_instead_of_yes_or_no_to_good_time_schedules_directly() {
    let (mut call, _) = Call::answered("interview-java-backend.en.toml", Lang::En, Some("Alex"));
    call.answer("yes", Intent::Yes, vec![]);
    call.answer("yes", Intent::Yes, vec![]);
    let at = local(2026, 11, 27, 10, 0);
    let a = call.answer(
        "tomorrow at ten would be better",
        Intent::Answer,
        vec![callback(at)],
    );
    assert_eq!(a[0], Action::ScheduleCallback { at });
    assert_eq!(said(&a), ["closing.rescheduled"]);
}

#[test]
fn no_to_good_time_asks_when_to_call_back() {
    let (mut call, _) = Call::answered("interview-java-backend.en.toml", Lang::En, Some("Alex"));
    call.answer("yes", Intent::Yes, vec![]);
    call.answer("yes", Intent::Yes, vec![]);
    let a = call.answer("no sorry I'm busy", Intent::No, vec![]);
    assert_eq!(said(&a), ["callback_question"]);
    let Some(Action::Listen { context }) = a.last() else {
        panic!("{a:?}")
    };
    assert_eq!(context.nlu.expected, [voxhire_nlu::SlotKind::CallbackTime]);
    let a = call.answer("hmm", Intent::Unclear, vec![]);
    assert_eq!(said(&a), ["no_match", "callback_question"]);
    let at = local(2026, 11, 28, 14, 0);
    let a = call.answer("saturday at two pm", Intent::Answer, vec![callback(at)]);
    assert_eq!(a[0], Action::ScheduleCallback { at });
    assert_eq!(call.iv.finish(None).good_time.map(|g| g.yes), Some(false));
}

#[test]
fn reschedule_mid_question_goes_to_the_callback_flow() {
    let (mut call, _) = en_to_first_question(Some("Alex"));
    let a = call.answer("can you call me later", Intent::Reschedule, vec![]);
    assert_eq!(said(&a), ["callback_question"]);
}

#[test]
fn knockout_closes_politely_and_rejects() {
    let (mut call, _) = en_to_first_question(Some("Alex"));
    let a = call.answer("about a year", Intent::Answer, vec![years(1.0)]);
    assert_eq!(said(&a), ["closing.knocked_out"]);
    assert_eq!(a.last(), Some(&Action::HangUp));
    let report = call.iv.finish(None);
    assert_eq!(report.status, Status::KnockedOut);
    assert_eq!(report.recommendation, Some(Recommendation::Reject));
    let k = report.knockout.expect("knockout recorded");
    assert_eq!(k.rule, "years_experience < 2");
    assert_eq!(k.evidence[0].quote, "about a year");
    assert!(report
        .recommendation_reason
        .contains("knocked out at years"));
}

#[test]
fn hang_up_mid_question_gives_a_partial_report() {
    let (mut call, _) = en_to_first_question(Some("Alex"));
    call.answer("six years", Intent::Answer, vec![years(6.0)]);
    call.answer(
        "kubernetes spring cloud kafka",
        Intent::Answer,
        vec![skills(&["kubernetes", "spring-cloud", "kafka"])],
    );
    call.played();
    call.advance(3000);
    let a = call.input(Input::HangUp);
    assert!(a.is_empty(), "nothing to say to a closed line: {a:?}");
    assert!(call.iv.is_finished());
    assert_eq!(call.iv.poll_timeout(), None);
    // Late input changes nothing.
    assert!(call.input(Input::SpeechStarted).is_empty());
    let report = call.iv.finish(None);
    assert_eq!(report.status, Status::HungUp);
    assert_eq!(report.recommendation, None);
    let statuses: Vec<QuestionStatus> = report.questions.iter().map(|q| q.status).collect();
    use QuestionStatus::*;
    assert_eq!(statuses, [Answered, Answered, Asked, NotAsked, NotAsked]);
    // spring-cloud and spring_cloud are one skill: 3 of 5 at 2 points.
    assert_eq!(report.questions[1].points, 6.0);
    // (3·1 + 2·0.6) / 10 over all scored questions.
    assert_eq!(report.score, 42.0);
    assert!(report.duration_ms.is_some());
}

#[test]
fn unanswered_call_reports_no_answer() {
    let script = script("interview-java-backend.en.toml");
    let t0 = std::time::Instant::now();
    let mut iv = voxhire_dialog::Interview::new(script, Lang::En, None, t0);
    iv.handle_input(t0, Input::HangUp);
    assert!(iv.is_finished());
    assert_eq!(iv.finish(None).status, Status::NoAnswer);
}

#[test]
fn an_unoffered_language_falls_back_to_the_script_language() {
    let (call, first) = Call::answered("interview-frontend.zh.toml", Lang::En, None);
    assert_eq!(call.iv.lang(), Lang::Zh);
    assert!(text_of(&first, "greeting").contains("星河云科技"));
}
