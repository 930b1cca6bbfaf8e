//! A whole interview, English and Mandarin, from the answer to the report.

mod common;

use common::*;
use voxhire_dialog::{Action, Recommendation, Status};
use voxhire_nlu::{Intent, Lang, SentenceSimilarity};

/// A fixed embedding similarity, so the expected score is exact.
struct FixedSimilarity(f32);

impl SentenceSimilarity for FixedSimilarity {
    fn similarity(&self, _a: &str, _b: &str, lang: Lang) -> Option<f32> {
        (lang == Lang::En).then_some(self.0)
    }
}

#[test]
fn english_interview_completes_with_expected_score() {
    let (mut call, first) = Call::answered(
        "interview-java-backend.en.toml",
        Lang::En,
        Some("Alex Chen"),
    );
    assert_eq!(said(&first), ["greeting", "disclosure", "consent_question"]);
    assert!(text_of(&first, "greeting").contains("Northwind Freight"));
    assert!(matches!(first.last(), Some(Action::Listen { context }) if context.nlu.yes_no));

    let a = call.answer("yes that's fine", Intent::Yes, vec![]);
    assert_eq!(said(&a), ["identity"]);
    assert_eq!(text_of(&a, "identity"), "Am I speaking with Alex Chen?");
    let a = call.answer("yes speaking", Intent::Yes, vec![]);
    assert_eq!(said(&a), ["good_time"]);
    let a = call.answer("sure", Intent::Yes, vec![]);
    assert_eq!(said(&a), ["questions.years.prompt"]);
    let Some(Action::Listen { context }) = a.last() else {
        panic!("{a:?}")
    };
    assert_eq!(
        context.nlu.expected,
        [voxhire_nlu::SlotKind::YearsExperience]
    );
    assert_eq!(
        context.endpointing.end_of_turn_silence_ms, 600,
        "per-question endpointing"
    );

    let a = call.answer("about six years", Intent::Answer, vec![years(6.0)]);
    assert_eq!(said(&a), ["questions.skills.prompt"]);
    let a = call.answer(
        "spring cloud kafka and mysql",
        Intent::Answer,
        vec![skills(&["spring_cloud", "kafka", "mysql"])],
    );
    // Kubernetes is missing: the follow-up asks about a project.
    assert_eq!(said(&a), ["questions.skills.followups.cloud_native.prompt"]);
    let a = call.answer(
        "we ran the order services on k8s with docker",
        Intent::Answer,
        vec![skills(&["kubernetes", "docker"])],
    );
    assert_eq!(said(&a), ["questions.project.prompt"]);
    let Some(Action::Listen { context }) = a.last() else {
        panic!("{a:?}")
    };
    assert_eq!(context.endpointing.end_of_turn_silence_ms, 1200);
    let a = call.answer(
        "I built a shipment tracking service in Spring Boot with Kafka events and a Redis cache",
        Intent::Answer,
        vec![],
    );
    assert_eq!(said(&a), ["questions.salary.prompt"]);
    let a = call.answer(
        "around eleven thousand a month",
        Intent::Answer,
        vec![money(11_000, "USD")],
    );
    assert_eq!(said(&a), ["questions.start.prompt"]);
    let a = call.answer(
        "I have one month notice",
        Intent::Answer,
        vec![notice_days(30)],
    );
    assert_eq!(said(&a), ["closing.completed"]);
    assert_eq!(a.last(), Some(&Action::HangUp));
    assert!(call.iv.is_finished());
    assert_eq!(call.iv.poll_timeout(), None);

    let report = call.iv.finish(Some(&FixedSimilarity(0.61)));
    assert_eq!(report.status, Status::Completed);
    let points: Vec<(f32, f32)> = report
        .questions
        .iter()
        .map(|q| (q.points, q.max_points))
        .collect();
    // years ≥ 5: 10/10; 4 of 5 skills: 8/10; similarity (0.61-0.25)/(0.7-0.25): 8/10;
    // salary ≤ 12000: 10/10; notice ≤ 30 days: 10/10.
    assert_eq!(
        points,
        [
            (10.0, 10.0),
            (8.0, 10.0),
            (8.0, 10.0),
            (10.0, 10.0),
            (10.0, 10.0)
        ]
    );
    // (3·1 + 2·0.8 + 3·0.8 + 1 + 1) / 10
    assert_eq!(report.score, 90.0);
    assert_eq!(report.recommendation, Some(Recommendation::Advance));
    let skills_q = &report.questions[1];
    assert_eq!(skills_q.followups_asked, ["cloud_native"]);
    assert!(
        skills_q.rules[0].detail.contains("not named redis"),
        "{}",
        skills_q.rules[0].detail
    );
    assert_eq!(
        skills_q.rules[0].evidence.len(),
        2,
        "one quote per answer that named skills"
    );
    let years_q = &report.questions[0];
    assert_eq!(years_q.rules[0].rule, "tier: years_experience >= 5");
    assert_eq!(years_q.rules[0].evidence[0].quote, "about six years");
    assert!(report.questions[2].rules[0].rule.contains("embedding"));
    assert_eq!(
        report.consent.as_ref().map(|c| (c.yes, c.via)),
        Some((true, "speech"))
    );

    // The audit trail: JSON lines with the event name, slot evidence, the outcome.
    let lines: Vec<serde_json::Value> = call
        .events
        .iter()
        .map(|e| serde_json::to_value(e).expect("event serialises"))
        .collect();
    let first_slot = lines
        .iter()
        .find(|l| l["event"] == "slot_filled")
        .expect("a slot_filled event");
    assert_eq!(first_slot["question"], "years");
    assert_eq!(first_slot["slot"]["evidence"]["quote"], "about six years");
    let last = lines.last().expect("events");
    assert_eq!(last["event"], "outcome");
    assert_eq!(last["status"], "completed");
    assert!(last["at_ms"].as_u64().unwrap_or(0) > 0);
    assert!(
        !lines.iter().any(|l| l.to_string().contains("Alex Chen")),
        "the candidate's name stays out of the events"
    );
    assert!(format!("{:?}", call.iv).contains("<redacted>"));

    let json = serde_json::to_value(&report).expect("report serialises");
    assert_eq!(json["status"], "completed");
    assert_eq!(json["recommendation"], "advance");
    assert_eq!(json["questions"][0]["slots"][0]["value"]["years"], 6.0);
}

#[test]
fn mandarin_interview_completes_with_keyword_scoring() {
    let (mut call, first) = Call::answered("interview-frontend.zh.toml", Lang::Zh, Some("王芳"));
    assert_eq!(said(&first), ["greeting", "disclosure", "consent_question"]);
    assert!(text_of(&first, "greeting").contains("星河云科技"));
    let a = call.answer("可以", Intent::Yes, vec![]);
    assert_eq!(text_of(&a, "identity"), "请问是王芳吗？");
    call.answer("是我", Intent::Yes, vec![]);
    let a = call.answer("方便", Intent::Yes, vec![]);
    assert_eq!(said(&a), ["questions.years.prompt"]);
    call.answer("四年左右", Intent::Answer, vec![years(4.0)]);
    let a = call.answer(
        "React Vue 还有 TypeScript",
        Intent::Answer,
        vec![skills(&["react", "vue", "typescript"])],
    );
    // TypeScript named: no follow-up.
    assert_eq!(said(&a), ["questions.project.prompt"]);
    call.answer("我负责小程序的前端，做过首屏优化", Intent::Answer, vec![]);
    call.answer("两万", Intent::Answer, vec![money(20_000, "CNY")]);
    let a = call.answer("下个月一号", Intent::Answer, vec![start_date(2026, 12, 1)]);
    assert_eq!(said(&a), ["closing.completed"]);

    let report = call.iv.finish(None);
    let points: Vec<f32> = report.questions.iter().map(|q| q.points).collect();
    // years 4 ≥ 3: 7; three of four skills at 2.5: 7.5; keywords 负责 小程序 首屏 优化 =
    // 4 of 10, all points at 50 %: 8; salary ≤ 25000: 10; a start date: 8.
    assert_eq!(points, [7.0, 7.5, 8.0, 10.0, 8.0]);
    // (3·0.7 + 2·0.75 + 3·0.8 + 1 + 0.8) / 10
    assert_eq!(report.score, 78.0);
    assert_eq!(report.recommendation, Some(Recommendation::Advance));
    assert!(report.questions[2].rules[0].rule.contains("keywords"));
    // A similarity model without Mandarin gives the same keyword score.
    let with_model = call.iv.finish(Some(&FixedSimilarity(0.9)));
    assert_eq!(with_model.score, 78.0);
}
