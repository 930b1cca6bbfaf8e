//! Reprompts, retries, barge-in, repeat and DTMF, on a virtual clock.

mod common;

use std::time::Duration;

use common::*;
use voxhire_dialog::interview::QuestionStatus;
use voxhire_dialog::{Action, DialogEventKind, Input, RepromptReason, Status};
use voxhire_nlu::{Intent, Lang};

#[test]
fn reprompt_on_no_input_then_answer() {
    let (mut call, _) = en_to_first_question(Some("Alex"));
    // No timer while the question is still playing.
    assert_eq!(call.iv.poll_timeout(), None);
    call.played();
    let finished_at = call.now;
    assert_eq!(
        call.iv.poll_timeout(),
        Some(finished_at + Duration::from_millis(6000))
    );
    let a = call.silence();
    assert_eq!(said(&a), ["questions.years.reprompt_no_input"]);
    assert_eq!(listening(&a).as_deref(), Some("years"));
    assert!(call.event_kinds().contains(&&DialogEventKind::Reprompt {
        question: "years".into(),
        reason: RepromptReason::NoInput,
        attempt: 1,
    }));
    let a = call.answer("five years", Intent::Answer, vec![years(5.0)]);
    assert_eq!(said(&a), ["questions.skills.prompt"]);
    let report = call.iv.finish(None);
    assert_eq!(report.questions[0].status, QuestionStatus::Answered);
}

#[test]
fn no_input_after_max_retries_skips_the_question() {
    let (mut call, _) = en_to_first_question(Some("Alex"));
    call.played();
    assert_eq!(said(&call.silence()), ["questions.years.reprompt_no_input"]);
    call.played();
    assert_eq!(said(&call.silence()), ["questions.years.reprompt_no_input"]);
    call.played();
    // Third silence: max_retries = 2 is used up, the question is skipped.
    let a = call.silence();
    assert_eq!(said(&a), ["questions.skills.prompt"]);
    assert!(call
        .event_kinds()
        .contains(&&DialogEventKind::QuestionSkipped {
            question: "years".into(),
            reason: RepromptReason::NoInput,
        }));
    let report = call.iv.finish(None);
    assert_eq!(report.questions[0].status, QuestionStatus::Unanswered);
    assert_eq!(
        report.questions[0].unanswered_reason,
        Some(RepromptReason::NoInput)
    );
    assert_eq!(report.questions[0].points, 0.0);
    assert_eq!(report.questions[1].status, QuestionStatus::Asked);
}

#[test]
fn no_match_reprompts_with_the_no_match_line() {
    let (mut call, _) = en_to_first_question(Some("Alex"));
    let a = call.answer("I like turtles", Intent::Answer, vec![]);
    assert_eq!(said(&a), ["questions.years.reprompt_no_match"]);
    let a = call.answer("seven", Intent::Answer, vec![years(7.0)]);
    assert_eq!(said(&a), ["questions.skills.prompt"]);
    let report = call.iv.finish(None);
    let turns: Vec<(&str, bool)> = report.questions[0]
        .answers
        .iter()
        .map(|t| (t.text.as_str(), t.matched))
        .collect();
    assert_eq!(turns, [("I like turtles", false), ("seven", true)]);
}

#[test]
fn barge_in_stops_playback_and_the_turn_goes_to_the_candidate() {
    let (mut call, _) = en_to_first_question(Some("Alex"));
    call.advance(800);
    // The candidate talks over the question: playback stops at once.
    let a = call.input(Input::SpeechStarted);
    assert_eq!(a, [Action::StopPlayback]);
    assert!(call.event_kinds().contains(&&DialogEventKind::BargeIn {
        prompt: "questions.years.prompt".into()
    }));
    // A second onset before the engine confirms does not stop twice.
    assert!(call.input(Input::SpeechStarted).is_empty());
    call.advance(100);
    call.input(Input::PlaybackFinished);
    call.advance(1400);
    let a = call.final_only("eight years", Intent::Answer, vec![years(8.0)], 800);
    assert_eq!(said(&a), ["questions.skills.prompt"]);
}

#[test]
fn speech_over_the_disclosure_does_not_stop_it_and_is_not_an_answer() {
    let (mut call, _) = Call::answered("interview-java-backend.en.toml", Lang::En, Some("Alex"));
    call.advance(500);
    assert!(
        call.input(Input::SpeechStarted).is_empty(),
        "the disclosure may not be interrupted"
    );
    call.advance(700);
    let a = call.final_only("hello? who is this", Intent::Unclear, vec![], 500);
    assert!(a.is_empty(), "{a:?}");
    assert!(call
        .event_kinds()
        .contains(&&DialogEventKind::SpokeOverPrompt {
            prompt: "consent_question".into()
        }));
    // After the lines, the consent question is answered normally.
    let a = call.answer("yes ok", Intent::Yes, vec![]);
    assert_eq!(said(&a), ["identity"]);
}

#[test]
fn repeat_says_the_question_again_without_using_a_retry() {
    let (mut call, _) = en_to_first_question(Some("Alex"));
    let a = call.answer("sorry what was the question", Intent::Repeat, vec![]);
    assert_eq!(said(&a), ["questions.years.prompt"]);
    let a = call.answer("pardon?", Intent::Repeat, vec![]);
    assert_eq!(said(&a), ["questions.years.prompt"]);
    // Both retries are still there.
    call.played();
    assert_eq!(said(&call.silence()), ["questions.years.reprompt_no_input"]);
    call.played();
    assert_eq!(said(&call.silence()), ["questions.years.reprompt_no_input"]);
    let repeats = call
        .event_kinds()
        .iter()
        .filter(|e| matches!(e, DialogEventKind::Repeat { .. }))
        .count();
    assert_eq!(repeats, 2);
}

#[test]
fn dtmf_fallback_press_1_gives_consent() {
    let (mut call, _) = Call::answered("interview-java-backend.en.toml", Lang::En, Some("Alex"));
    let a = call.answer("mmm what", Intent::Unclear, vec![]);
    // After a failed yes/no: ask again and offer the keypad.
    assert_eq!(said(&a), ["no_match", "consent_question", "dtmf_yes_no"]);
    assert!(text_of(&a, "dtmf_yes_no").contains("press 1"));
    call.played();
    let a = call.input(Input::Dtmf('1'));
    assert_eq!(said(&a), ["identity"]);
    let report = call.iv.finish(None);
    let consent = report.consent.expect("consent recorded");
    assert!(consent.yes);
    assert_eq!(consent.via, "dtmf");
    assert_eq!(consent.quote, "1");
}

#[test]
fn dtmf_2_at_consent_declines_and_ends_the_call() {
    let (mut call, _) = Call::answered("interview-java-backend.en.toml", Lang::En, Some("Alex"));
    call.played();
    let a = call.input(Input::Dtmf('2'));
    assert_eq!(said(&a), ["closing.declined_consent"]);
    assert_eq!(a.last(), Some(&Action::HangUp));
    assert_eq!(call.iv.finish(None).status, Status::DeclinedConsent);
}

#[test]
fn digits_during_a_question_are_not_answers() {
    let (mut call, _) = en_to_first_question(Some("Alex"));
    call.played();
    let timer = call.iv.poll_timeout();
    assert!(call.input(Input::Dtmf('1')).is_empty());
    assert_eq!(call.iv.poll_timeout(), timer);
}

#[test]
fn silence_at_consent_ends_with_no_response() {
    let (mut call, _) = Call::answered("interview-java-backend.en.toml", Lang::En, Some("Alex"));
    call.played();
    assert_eq!(
        said(&call.silence()),
        ["no_input", "consent_question", "dtmf_yes_no"]
    );
    call.played();
    call.silence();
    call.played();
    let a = call.silence();
    assert_eq!(said(&a), ["closing.no_response"]);
    assert_eq!(call.iv.finish(None).status, Status::NoResponse);
}

#[test]
fn wrong_person_closes_politely() {
    let (mut call, _) = Call::answered("interview-java-backend.en.toml", Lang::En, Some("Alex"));
    call.answer("yes", Intent::Yes, vec![]);
    let a = call.answer("no you have the wrong number", Intent::No, vec![]);
    assert_eq!(said(&a), ["closing.wrong_person"]);
    assert_eq!(call.iv.finish(None).status, Status::WrongPerson);
}

#[test]
fn without_a_name_the_identity_check_asks_about_the_application() {
    let (mut call, _) = Call::answered("interview-java-backend.en.toml", Lang::En, None);
    let a = call.answer("yes", Intent::Yes, vec![]);
    assert_eq!(said(&a), ["identity_no_name"]);
}

#[test]
fn a_long_turn_without_a_final_falls_back_to_no_input() {
    let (mut call, _) = en_to_first_question(Some("Alex"));
    call.played();
    call.advance(1000);
    call.input(Input::SpeechStarted);
    // The no-input timer waits for the longest turn (30 s) plus the timeout.
    assert_eq!(
        call.iv.poll_timeout(),
        Some(call.now + Duration::from_millis(36_000))
    );
    assert_eq!(said(&call.silence()), ["questions.years.reprompt_no_input"]);
}

/// English utterance turn 9, heard from `start_ms` to `end_ms`.
fn heard_at(text: &str, start_ms: u64, end_ms: u64) -> voxhire_nlu::Heard {
    voxhire_nlu::Heard {
        text: text.into(),
        lang: Lang::En,
        turn: 9,
        start_ms,
        end_ms,
        confidence: 0.9,
    }
}

/// Walks the English call to the project question.
fn en_to_project() -> Call {
    let (mut call, _) = en_to_first_question(Some("Alex"));
    call.answer("six years", Intent::Answer, vec![years(6.0)]);
    let a = call.answer(
        "spring cloud kafka mysql redis and kubernetes",
        Intent::Answer,
        vec![skills(&[
            "spring_cloud",
            "kafka",
            "mysql",
            "redis",
            "kubernetes",
        ])],
    );
    assert_eq!(said(&a), ["questions.project.prompt"]);
    let Some(Action::Listen { context }) = a.last() else {
        panic!("{a:?}")
    };
    assert!(context.resumable, "an open question with a step after it");
    call
}

#[test]
fn an_open_answer_that_goes_on_is_added_to_and_the_next_line_said_again() {
    let mut call = en_to_project();
    let a = call.answer(
        "I moved our payment service to microservices.",
        Intent::Answer,
        vec![],
    );
    assert_eq!(said(&a), ["questions.salary.prompt"]);
    // The candidate goes on over the salary question: it stops.
    call.advance(700);
    let a = call.input(Input::SpeechStarted);
    assert_eq!(a, [Action::StopPlayback]);
    let start_ms = call.ms();
    call.advance(2000);
    let heard = heard_at("It cut latency by half.", start_ms, call.ms());
    let understanding = voxhire_nlu::Understanding {
        intent: Intent::Answer,
        intent_score: 0.9,
        slots: Vec::new(),
    };
    let a = call.input(Input::Resumed {
        heard,
        understanding,
    });
    assert_eq!(
        said(&a),
        ["questions.salary.prompt"],
        "said again, no retry"
    );
    assert_eq!(listening(&a).as_deref(), Some("salary"));
    assert!(call
        .event_kinds()
        .contains(&&DialogEventKind::AnswerResumed {
            question: "project".into(),
            turn: 9,
        }));
    let report = call.iv.finish(None);
    let project = &report.questions[2];
    assert_eq!(project.answers.len(), 2);
    let texts: Vec<String> = project
        .slots
        .iter()
        .filter_map(|s| match &s.value {
            voxhire_nlu::SlotValue::Text { text } => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        texts,
        ["I moved our payment service to microservices. It cut latency by half."]
    );
    assert_eq!(project.slots[0].evidence.end_ms, call.ms());
    // The salary question is answered as usual afterwards.
    let a = call.answer(
        "twelve thousand",
        Intent::Answer,
        vec![money(12_000, "USD")],
    );
    assert_eq!(said(&a), ["questions.start.prompt"]);
}

#[test]
fn words_that_answer_the_next_question_are_its_answer_not_a_resumption() {
    let mut call = en_to_project();
    call.answer(
        "I moved our payment service to microservices.",
        Intent::Answer,
        vec![],
    );
    call.advance(500);
    call.input(Input::SpeechStarted);
    let start_ms = call.ms();
    call.advance(1500);
    let heard = heard_at("About twelve thousand.", start_ms, call.ms());
    let salary = call.iv.finish(None).questions[3].status;
    assert_eq!(salary, QuestionStatus::Asked);
    let (kind, value) = money(12_000, "USD");
    let understanding = voxhire_nlu::Understanding {
        intent: Intent::Answer,
        intent_score: 0.9,
        slots: vec![voxhire_nlu::Slot {
            kind,
            value,
            evidence: voxhire_nlu::Evidence {
                quote: heard.text.clone(),
                turn: 9,
                start_ms,
                end_ms: heard.end_ms,
            },
            confidence: 1.0,
        }],
    };
    let a = call.input(Input::Resumed {
        heard,
        understanding,
    });
    assert_eq!(said(&a), ["questions.start.prompt"]);
    let report = call.iv.finish(None);
    assert_eq!(report.questions[2].answers.len(), 1);
    assert_eq!(report.questions[3].status, QuestionStatus::Answered);
}

#[test]
fn an_open_last_question_is_not_resumable() {
    // Nothing could be added to the last answer: the call closes after it, so
    // the engine must wait out the whole end-of-turn silence there.
    let text = std::fs::read_to_string(config("interview-java-backend.en.toml")).unwrap();
    let salary = text.find("[[questions]]\nid = \"salary\"").unwrap();
    let intents = text.find("[intent_examples.en]").unwrap();
    let cut = format!("{}{}", &text[..salary], &text[intents..]);
    let script = voxhire_dialog::InterviewScript::from_str(&cut, "cut.toml").unwrap();
    assert_eq!(script.questions().last().unwrap().id, "project");
    let t0 = std::time::Instant::now();
    let mut iv = voxhire_dialog::Interview::new(std::sync::Arc::new(script), Lang::En, None, t0);
    iv.handle_input(t0, Input::Answered);
    // Walk to the project question by DTMF yes and spoken answers.
    let mut contexts = Vec::new();
    let mut drain = |iv: &mut voxhire_dialog::Interview| {
        while let Some(a) = iv.poll_action() {
            if let Action::Listen { context } = a {
                contexts.push(context);
            }
        }
    };
    drain(&mut iv);
    for _ in 0..3 {
        iv.handle_input(t0, Input::PlaybackFinished);
        iv.handle_input(t0, Input::Dtmf('1'));
        drain(&mut iv);
    }
    let answer = |kind, value| voxhire_nlu::Understanding {
        intent: Intent::Answer,
        intent_score: 0.9,
        slots: vec![voxhire_nlu::Slot {
            kind,
            value,
            evidence: voxhire_nlu::Evidence {
                quote: String::new(),
                turn: 0,
                start_ms: 0,
                end_ms: 0,
            },
            confidence: 1.0,
        }],
    };
    let heard = |text: &str| voxhire_nlu::Heard {
        text: text.into(),
        lang: Lang::En,
        turn: 0,
        start_ms: 0,
        end_ms: 0,
        confidence: 0.9,
    };
    for (text, (kind, value)) in [
        ("six years", years(6.0)),
        (
            "spring cloud kafka mysql redis kubernetes",
            skills(&["spring_cloud", "kafka", "mysql", "redis", "kubernetes"]),
        ),
    ] {
        iv.handle_input(
            t0,
            Input::Final {
                heard: heard(text),
                understanding: answer(kind, value),
            },
        );
        drain(&mut iv);
    }
    let last = contexts.last().unwrap();
    assert_eq!(last.question, "project");
    assert!(!last.resumable);
}
