//! Mandarin slot extraction, the way Whisper writes phone answers: Chinese
//! numerals and Arabic digits mixed, 两 and 二, 块 and 元, English skill names
//! inside Chinese sentences, punctuation or none. The call's local time is fixed
//! at Wednesday 2026-11-25 14:30.

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
    slots_with(text, expected, &TaggerHints::default())
}

fn slots_with(text: &str, expected: &[SlotKind], hints: &TaggerHints) -> Vec<Slot> {
    let heard = Heard {
        text: text.into(),
        lang: Lang::Zh,
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
    extract_slots(&heard, &ctx, hints)
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
            ("五年", years(5.0)),
            ("三年半", years(3.5)),
            ("快十年了", years(9.5)),
            ("两年", years(2.0)),
            ("二年", years(2.0)),
            ("一年半", years(1.5)),
            ("七八年吧", years(7.5)),
            ("五到六年", years(5.5)),
            ("半年", years(0.5)),
            ("十八个月", years(1.5)),
            ("一年多", years(1.0)),
            ("做前端有两年多", years(2.0)),
            ("十多年", years(10.0)),
            ("从2018年开始做开发", years(8.0)),
            ("我18年毕业的", years(8.0)),
            ("将近五年", years(4.5)),
            ("不到一年", years(0.5)),
            ("工作了3年", years(3.0)),
            ("大概六年左右", years(6.0)),
            ("五年以上", years(5.0)),
            ("嗯，我有三年的Java经验", years(3.0)),
            ("在阿里三年，在腾讯两年，一共五年", years(5.0)),
            ("我今年28岁", None),
            ("两年前换的工作", None),
            ("我没有五年", None),
        ],
    );
}

#[test]
fn salary_per_month() {
    check(
        SlotKind::SalaryMonthly,
        &[
            ("两万五", cny(25000)),
            ("二万五", cny(25000)),
            ("2万5", cny(25000)),
            ("一个月两万", cny(20000)),
            ("月薪三万", cny(30000)),
            ("年薪三十万", cny(25000)),
            ("三万块", cny(30000)),
            ("两万元", cny(20000)),
            ("15k到20k", cny(17500)),
            ("25k", cny(25000)),
            ("1.5万", cny(15000)),
            ("一万五左右", cny(15000)),
            ("现在两万，期望三万", cny(30000)),
            ("年薪36万", cny(30000)),
            ("两万美元", usd(20000)),
            ("三十万", cny(25000)),
            ("税前两万二", cny(22000)),
            ("月薪20k", cny(20000)),
            ("两到三万", cny(25000)),
            ("一万二一个月", cny(12000)),
            ("三万一个月", cny(30000)),
            ("三万一", cny(31000)),
            ("我做了五年", None),
        ],
    );
}

#[test]
fn notice_period() {
    check(
        SlotKind::NoticePeriod,
        &[
            ("三个月", days(90)),
            ("一个月", days(30)),
            ("离职需要一个月", days(30)),
            ("两周", days(14)),
            ("一个半月", days(45)),
            ("半个月", days(15)),
            ("两个星期", days(14)),
            ("不需要", days(0)),
            ("我已经离职了", days(0)),
            ("一周", days(7)),
            ("30天", days(30)),
            ("要提前一个月说", days(30)),
            ("交接两周就行", days(14)),
            ("十五天", days(15)),
            ("两个月", days(60)),
            ("马上就可以", days(0)),
        ],
    );
}

#[test]
fn start_date() {
    check(
        SlotKind::StartDate,
        &[
            ("下个月一号", on(12, 1)),
            ("下周一", on(11, 30)),
            ("两周后", on(12, 9)),
            ("马上", on(11, 25)),
            ("随时都可以", on(11, 25)),
            ("12月1号", on(12, 1)),
            ("十二月一日", on(12, 1)),
            ("明天", on(11, 26)),
            ("一个月以后", on(12, 25)),
            ("下周", on(11, 30)),
            ("下个月", on(12, 1)),
            ("月底", on(11, 30)),
            ("下个月初", on(12, 1)),
            ("三天后", on(11, 28)),
            ("1月5号", on(1, 5)),
            ("周五", on(11, 27)),
            ("下周五", on(12, 4)),
            ("后天", on(11, 27)),
            ("15号", on(12, 15)),
            ("下个月15号入职", on(12, 15)),
            ("下礼拜三", on(12, 2)),
            ("下下周一", on(12, 7)),
            ("下下周", on(12, 7)),
            ("我下个月中旬就可以入职", on(12, 15)),
            ("下个月下旬", on(12, 21)),
            ("星期天", on(11, 29)),
            // Homophones Whisper writes for the cue words (约底 for 月底, 夏周 for 下周).
            ("约底罢要交接以下。", on(11, 30)),
            ("夏周一可以倒港", on(11, 30)),
        ],
    );
}

#[test]
fn evidence_quotes_the_characters_heard() {
    let s = slots("约底吧", &[SlotKind::StartDate]);
    assert_eq!(
        s[0].value,
        SlotValue::Date {
            date: date(2026, 11, 30)
        }
    );
    assert_eq!(s[0].evidence.quote, "约底");
}

#[test]
fn callback_time() {
    check(
        SlotKind::CallbackTime,
        &[
            ("明天上午十点", when(11, 26, 10, 0)),
            ("周三下午两点", when(12, 2, 14, 0)),
            ("下周一上午", when(11, 30, 9, 0)),
            ("今晚八点", when(11, 25, 20, 0)),
            ("两个小时后", when(11, 25, 16, 30)),
            ("明天下午三点半", when(11, 26, 15, 30)),
            ("半小时后再打", when(11, 25, 15, 0)),
            ("后天上午9点", when(11, 27, 9, 0)),
            ("晚上七点", when(11, 25, 19, 0)),
            ("明早八点", when(11, 26, 8, 0)),
            ("下午四点以后", when(11, 25, 16, 0)),
            ("周五下午", when(11, 27, 14, 0)),
            ("明天中午", when(11, 26, 12, 0)),
            ("三点吧", when(11, 25, 15, 0)),
            ("十点", when(11, 26, 10, 0)),
            ("明天10:30", when(11, 26, 10, 30)),
            ("一个小时以后", when(11, 25, 15, 30)),
            ("下周三晚上八点", when(12, 2, 20, 0)),
            ("二十分钟后", when(11, 25, 14, 50)),
            ("明天八点一刻", when(11, 26, 8, 15)),
            ("明天这个时候再打吧", when(11, 26, 14, 30)),
            ("你明天再打吧", when(11, 26, 10, 0)),
            ("我工作五年了", None),
        ],
    );
}

#[test]
fn callback_reads_only_lac_time_spans_when_given() {
    // "3个项目" is no time; LAC tagged only 明天下午 as TIME.
    let text = "我做过3个项目，明天下午再打吧";
    let start = text.find("明天").expect("in text");
    let time = start..start + "明天下午".len();
    let hints = TaggerHints {
        time_spans: vec![time],
        words: vec![],
    };
    let s = slots_with(text, &[SlotKind::CallbackTime], &hints);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].value, when(11, 26, 14, 0).expect("some"));
    assert_eq!(s[0].evidence.quote, "明天下午");
}

#[test]
fn skills_in_mandarin_sentences() {
    check(
        SlotKind::Skills,
        &[
            ("主要是Java和Spring Boot", skills(&["java", "spring"])),
            (
                "做过微服务，用过k8s和docker",
                skills(&["microservices", "kubernetes", "docker"]),
            ),
            (
                "熟悉JVM调优，高并发，分布式",
                skills(&["jvm_tuning", "high_concurrency", "distributed_systems"]),
            ),
            (
                "redis、mysql、kafka都用过",
                skills(&["redis", "mysql", "kafka"]),
            ),
            ("前端用vue和typescript", skills(&["vue", "typescript"])),
            ("写过微信小程序", skills(&["wechat_mini_program"])),
            ("spring cloud那一套", skills(&["spring_cloud"])),
            ("容器编排", skills(&["kubernetes"])),
            ("用过Java，没用过Kafka", skills(&["java"])),
            ("没用过Kafka", None),
            ("postgres和mongodb", skills(&["postgresql", "mongodb"])),
            (
                "消息队列用的rocketmq",
                skills(&["message_queue", "rocketmq"]),
            ),
            ("Linux和Git都会", skills(&["linux", "git"])),
            (
                "react native和flutter",
                skills(&["react_native", "flutter"]),
            ),
            ("阿里云和AWS", skills(&["aliyun", "aws"])),
            ("我会java script", skills(&["javascript"])),
        ],
    );
}

#[test]
fn project_drops_fillers() {
    let s = slots(
        "嗯，那个，我做过一个电商的秒杀系统，呃，用Redis扛高并发",
        &[SlotKind::Project],
    );
    assert_eq!(
        s.iter()
            .find(|s| s.kind == SlotKind::Project)
            .map(|s| s.value.clone()),
        Some(SlotValue::Text {
            text: "我做过一个电商的秒杀系统，用Redis扛高并发".into()
        })
    );
}

#[test]
fn unexpected_salary_needs_a_currency_or_period() {
    let s = slots("五年，期望月薪三万", &[SlotKind::YearsExperience]);
    let kinds: Vec<SlotKind> = s.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        vec![SlotKind::YearsExperience, SlotKind::SalaryMonthly]
    );
    assert_eq!(s[1].evidence.quote, "月薪三万");
}

#[test]
fn negation_and_hypotheticals() {
    check(
        SlotKind::NoticePeriod,
        &[("我还没离职需要一个月", days(30))],
    );
    check(
        SlotKind::SalaryMonthly,
        &[
            ("如果是两万的话我不考虑", None),
            ("不是两万，是两万五", cny(25000)),
            ("不低于两万", cny(20000)),
        ],
    );
    check(
        SlotKind::YearsExperience,
        &[("没有五年，四年吧", years(4.0))],
    );
}
