//! English slot extraction, the way Whisper writes phone answers: lower case,
//! no punctuation, numbers as words or digits, ASR homophones. The call's local
//! time is fixed at Wednesday 2026-11-25 14:30.

use chrono::{NaiveDate, NaiveDateTime};
use voxhire_nlu::slots::{extract_slots, TaggerHints};
use voxhire_nlu::{Heard, Lang, NluContext, Slot, SlotKind, SlotValue};

fn now() -> NaiveDateTime {
    at(2026, 11, 25, 14, 30)
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
    date(y, m, d).and_hms_opt(h, min, 0).expect("valid time")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn slots(text: &str, expected: &[SlotKind]) -> Vec<Slot> {
    let heard = Heard {
        text: text.into(),
        lang: Lang::En,
        turn: 4,
        start_ms: 30_000,
        end_ms: 33_000,
        confidence: 0.9,
    };
    let ctx = NluContext {
        expected: expected.to_vec(),
        local_now: Some(now()),
        yes_no: false,
    };
    extract_slots(&heard, &ctx, &TaggerHints::default())
}

fn value(text: &str, kind: SlotKind) -> Option<SlotValue> {
    slots(text, &[kind])
        .into_iter()
        .find(|s| s.kind == kind)
        .map(|s| s.value)
}

fn check(kind: SlotKind, cases: &[(&str, Option<SlotValue>)]) {
    let bad: Vec<String> = cases
        .iter()
        .filter_map(|(text, want)| {
            let got = value(text, kind);
            (got != *want).then(|| format!("{text:?}: got {got:?}, want {want:?}"))
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{} of {} wrong:\n{}",
        bad.len(),
        cases.len(),
        bad.join("\n")
    );
}

fn years(y: f32) -> Option<SlotValue> {
    Some(SlotValue::Years { years: y })
}
fn usd(amount: u64) -> Option<SlotValue> {
    Some(SlotValue::Money {
        amount,
        currency: "USD".into(),
    })
}
fn cny(amount: u64) -> Option<SlotValue> {
    Some(SlotValue::Money {
        amount,
        currency: "CNY".into(),
    })
}
fn days(d: u32) -> Option<SlotValue> {
    Some(SlotValue::Days { days: d })
}
fn on(m: u32, d: u32) -> Option<SlotValue> {
    Some(SlotValue::Date {
        date: date(if m >= 11 { 2026 } else { 2027 }, m, d),
    })
}
fn when(m: u32, d: u32, h: u32, min: u32) -> Option<SlotValue> {
    Some(SlotValue::DateTime {
        at: at(2026, m, d, h, min),
    })
}
fn skills(ids: &[&str]) -> Option<SlotValue> {
    Some(SlotValue::Skills {
        skills: ids.iter().map(|s| s.to_string()).collect(),
    })
}

#[test]
fn years_of_experience() {
    check(
        SlotKind::YearsExperience,
        &[
            ("about seven years", years(7.0)),
            ("7 yrs", years(7.0)),
            ("five and a half years", years(5.5)),
            ("a year and a half", years(1.5)),
            ("since 2018", years(8.0)),
            ("since twenty eighteen", years(8.0)),
            ("i started in 2019", years(7.0)),
            ("10+ years", years(10.0)),
            ("over ten years", years(10.0)),
            ("almost ten years", years(9.5)),
            ("less than a year", years(0.5)),
            ("two years and six months", years(2.5)),
            ("about a decade", years(10.0)),
            ("eighteen months", years(1.5)),
            ("six months", years(0.5)),
            ("i have been coding for twelve years", years(12.0)),
            ("five years of java mostly", years(5.0)),
            ("um one year", years(1.0)),
            ("a couple of years", years(2.0)),
            ("nearly 4 years", years(3.5)),
            ("I'd say four or five years", years(4.5)),
            ("5 to 7 years", years(6.0)),
            (
                "Three years at Alibaba and two years at Tencent so five years in total",
                years(5.0),
            ),
            ("I'm 25 years old", None),
            ("two years ago i moved", None),
            ("i don't have five years", None),
            ("i like java a lot", None),
        ],
    );
}

#[test]
fn salary_per_month() {
    check(
        SlotKind::SalaryMonthly,
        &[
            ("twenty-five thousand a month", usd(25000)),
            ("25k", usd(25000)),
            ("about 30k monthly", usd(30000)),
            ("300k a year", usd(25000)),
            ("8,000 dollars per month", usd(8000)),
            ("twenty five k", usd(25000)),
            ("somewhere between 25 and 30k", usd(27500)),
            ("25 to 30k", usd(27500)),
            ("thirty thousand yuan", cny(30000)),
            ("20k rmb a month", cny(20000)),
            ("$120,000 a year", usd(10000)),
            ("a hundred and twenty thousand annually", usd(10000)),
            ("i make 20k now and i want 30k", usd(30000)),
            ("forty grand a month", usd(40000)),
            ("15000 bucks", usd(15000)),
            ("my expectation is 18k per month", usd(18000)),
            ("150k", usd(12500)),
            ("two point five k", usd(2500)),
            ("five years", None),
            ("i would not take less than", None),
        ],
    );
}

#[test]
fn annual_salary_is_quoted_with_its_period_and_less_sure() {
    let s = slots("i am looking for 300k a year", &[SlotKind::SalaryMonthly]);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].evidence.quote, "300k a year");
    assert_eq!(s[0].confidence, 0.8);
    let s = slots("25k a month", &[SlotKind::SalaryMonthly]);
    assert_eq!(s[0].confidence, 0.95);
}

#[test]
fn notice_period() {
    check(
        SlotKind::NoticePeriod,
        &[
            ("one month notice", days(30)),
            ("two weeks", days(14)),
            ("two weeks notice", days(14)),
            ("a month's notice", days(30)),
            ("30 days", days(30)),
            ("three months", days(90)),
            ("i need to give my company a month", days(30)),
            ("a month and a half", days(45)),
            ("no notice", days(0)),
            ("i don't need to give notice", days(0)),
            ("about two weeks", days(14)),
            ("90 days notice", days(90)),
            ("one week", days(7)),
            ("a fortnight", days(14)),
            ("six weeks", days(42)),
            ("i can start immediately", days(0)),
        ],
    );
}

#[test]
fn start_date() {
    check(
        SlotKind::StartDate,
        &[
            ("next monday", on(11, 30)),
            ("monday", on(11, 30)),
            ("march 1st", on(3, 1)),
            ("the first of next month", on(12, 1)),
            ("in two weeks", on(12, 9)),
            ("immediately", on(11, 25)),
            ("i can start right away", on(11, 25)),
            ("tomorrow", on(11, 26)),
            ("next friday", on(12, 4)),
            ("this friday", on(11, 27)),
            ("december 15th", on(12, 15)),
            ("the 15th of december", on(12, 15)),
            ("in a month", on(12, 25)),
            ("asap", on(11, 25)),
            ("next week", on(11, 30)),
            ("on january 5", on(1, 5)),
            ("two weeks from now", on(12, 9)),
            ("wednesday", on(12, 2)),
            ("the twenty-first of january", on(1, 21)),
            ("i could start the week after next", on(12, 7)),
            ("probably by mid december", on(12, 15)),
            ("end of the month", on(11, 30)),
            ("the end of next month", on(12, 31)),
            ("early january", on(1, 1)),
            (
                "i need to give one month notice so i could start on the first of next month",
                on(12, 1),
            ),
            ("one month notice", on(12, 25)),
            ("no idea", None),
        ],
    );
}

#[test]
fn callback_time() {
    check(
        SlotKind::CallbackTime,
        &[
            ("tomorrow at ten", when(11, 26, 10, 0)),
            ("tomorrow morning", when(11, 26, 9, 0)),
            ("wednesday afternoon at two", when(12, 2, 14, 0)),
            ("after 6 pm today", when(11, 25, 18, 0)),
            ("in two hours", when(11, 25, 16, 30)),
            ("call me at four", when(11, 25, 16, 0)),
            ("at eight", when(11, 25, 20, 0)),
            ("call me at ten", when(11, 26, 10, 0)),
            ("tomorrow at 3 pm", when(11, 26, 15, 0)),
            ("friday at 10:30", when(11, 27, 10, 30)),
            ("next monday morning", when(11, 30, 9, 0)),
            ("this evening", when(11, 25, 19, 0)),
            ("tonight at nine", when(11, 25, 21, 0)),
            ("in half an hour", when(11, 25, 15, 0)),
            ("in 30 minutes", when(11, 25, 15, 0)),
            ("tomorrow at half past two", when(11, 26, 14, 30)),
            ("around noon tomorrow", when(11, 26, 12, 0)),
            ("ten thirty tomorrow", when(11, 26, 10, 30)),
            ("call me back tomorrow", when(11, 26, 10, 0)),
            ("monday at 9 am", when(11, 30, 9, 0)),
            ("an hour from now", when(11, 25, 15, 30)),
            ("tomorrow at 7 p.m.", when(11, 26, 19, 0)),
            // Whisper writes "nine thirty" as figures.
            ("tomorrow morning at 930.", when(11, 26, 9, 30)),
            ("call me at 1030 tomorrow", when(11, 26, 10, 30)),
            ("tomorrow 245 pm", when(11, 26, 14, 45)),
            ("i have five years", None),
        ],
    );
}

#[test]
fn skills_with_asr_spellings() {
    check(
        SlotKind::Skills,
        &[
            (
                "java spring boot and mysql",
                skills(&["java", "spring", "mysql"]),
            ),
            (
                "mostly java script and react",
                skills(&["javascript", "react"]),
            ),
            (
                "we run everything on cooper netties",
                skills(&["kubernetes"]),
            ),
            (
                "k8s docker and kafka",
                skills(&["kubernetes", "docker", "kafka"]),
            ),
            ("view js and type script", skills(&["vue", "typescript"])),
            (
                "springboot spring clouds micro services",
                skills(&["spring", "spring_cloud", "microservices"]),
            ),
            ("redis and postgres", skills(&["redis", "postgresql"])),
            (
                "node js graph ql and mongo db",
                skills(&["node", "graphql", "mongodb"]),
            ),
            ("elastic search on aws", skills(&["elasticsearch", "aws"])),
            (
                "angular html css and webpack",
                skills(&["angular", "html_css", "webpack"]),
            ),
            ("vite and vue three", skills(&["vite", "vue"])),
            (
                "linux git and ci cd with jenkins",
                skills(&["linux", "git", "ci_cd", "jenkins"]),
            ),
            (
                "jvm tuning high concurrency distributed systems",
                skills(&["jvm_tuning", "high_concurrency", "distributed_systems"]),
            ),
            ("java java and more java", skills(&["java"])),
            ("i know java but i have never used kafka", skills(&["java"])),
            ("I have never used Kafka", None),
            ("nothing really", None),
        ],
    );
}

#[test]
fn project_is_the_answer_without_fillers() {
    let s = slots(
        "um so basically I built a payment gateway in Java uh handling 5k requests per second",
        &[SlotKind::Project],
    );
    let p = s
        .iter()
        .find(|s| s.kind == SlotKind::Project)
        .map(|s| s.value.clone());
    assert_eq!(
        p,
        Some(SlotValue::Text {
            text: "I built a payment gateway in Java handling 5k requests per second".into()
        })
    );
    assert!(slots(
        "um so basically I built a thing",
        &[SlotKind::YearsExperience]
    )
    .iter()
    .all(|s| s.kind != SlotKind::Project));
}

#[test]
fn unexpected_slots_only_when_clear() {
    // Not asked, but a salary with a period is unambiguous.
    let s = slots(
        "five years and i want 30k a month",
        &[SlotKind::YearsExperience],
    );
    let kinds: Vec<SlotKind> = s.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        vec![SlotKind::YearsExperience, SlotKind::SalaryMonthly]
    );
    // A bare number is not a salary when the question was about years.
    let s = slots("five years maybe 30", &[SlotKind::YearsExperience]);
    assert_eq!(s.len(), 1);
    // "spring" alone is a season unless skills were asked for.
    assert!(slots("i moved here in the spring", &[SlotKind::StartDate]).is_empty());
    // "go ahead" is not Go unless skills were asked for.
    assert!(slots("Sure, go ahead.", &[]).is_empty());
    assert_eq!(
        value("Go and Python", SlotKind::Skills),
        skills(&["golang", "python"])
    );
}

#[test]
fn evidence_quotes_the_words_and_carries_the_turn() {
    let s = slots(
        "well i guess about seven years give or take",
        &[SlotKind::YearsExperience],
    );
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].evidence.quote, "about seven years");
    assert_eq!(
        (
            s[0].evidence.turn,
            s[0].evidence.start_ms,
            s[0].evidence.end_ms
        ),
        (4, 30_000, 33_000)
    );
    assert_eq!(s[0].confidence, 0.85);
}

#[test]
fn negation_and_hypotheticals_are_told_from_qualifiers() {
    check(
        SlotKind::SalaryMonthly,
        &[
            ("no less than 30k a month", usd(30000)),
            ("not sure maybe 25k", usd(25000)),
            ("if it were 40k a month i would move", None),
            ("it's not 20k", None),
        ],
    );
    check(
        SlotKind::StartDate,
        &[
            ("i can't start until next monday", on(11, 30)),
            ("i don't know maybe next friday", on(12, 4)),
        ],
    );
    check(
        SlotKind::YearsExperience,
        &[
            ("i don't have five years", None),
            ("not more than three years", years(3.0)),
        ],
    );
}

#[test]
fn a_time_in_a_not_now_answer_is_a_callback_even_unasked() {
    for (text, want) in [
        (
            "Now is bad. How about tomorrow morning?",
            when(11, 26, 9, 0),
        ),
        (
            "im cooking dinner could you try again around eight",
            when(11, 25, 20, 0),
        ),
        ("i'm busy, maybe friday afternoon", when(11, 27, 14, 0)),
    ] {
        let got = slots(text, &[])
            .into_iter()
            .find(|s| s.kind == SlotKind::CallbackTime)
            .map(|s| s.value);
        assert_eq!(got, want, "{text}");
    }
    // A date in an answer about something else is not a callback.
    assert!(slots(
        "i moved to shanghai on march 1st",
        &[SlotKind::YearsExperience]
    )
    .is_empty());
}
