//! No input makes the parsers panic: every prefix and suffix (at character
//! boundaries) of a mixed corpus, with every slot expected, yes/no on and off.

use chrono::NaiveDate;
use voxhire_nlu::numbers::find_numbers;
use voxhire_nlu::rules::rule_intent;
use voxhire_nlu::skills::SkillTaxonomy;
use voxhire_nlu::slots::{extract_slots, TaggerHints};
use voxhire_nlu::{Heard, Lang, NluContext, SlotKind};

const CORPUS: &[&str] = &[
    "about seven years, 25k a month, next monday at 10:30 a.m. — k8s/docker/c++",
    "我18年毕业，月薪2万5，下个月一号入职，明天下午三点半再打，用过k8s、没用过Kafka",
    "twenty-five thousand and a half point , 1,000,000 $ ¥ ￥ 1.5万 一点五 十点五十 两万零五",
    "the 31st of february, 2月30号, 13月1号, 25:99, 99 pm, at 0, half past twelve",
    "🙂 emoji 😀 和 ü ß  mixed ½ ⅓ ⅔ 〇 幺 两 俩 半个 个半 年半 多年",
    "no no no, not, never - - - . . . ，。？！、 ,,, in in in a a a",
];

#[test]
fn parsers_survive_every_slice() {
    let now = NaiveDate::from_ymd_opt(2026, 12, 31).and_then(|d| d.and_hms_opt(23, 59, 0));
    let tax = SkillTaxonomy::builtin();
    let mut runs = 0;
    for text in CORPUS {
        let cuts: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .collect();
        for &a in &cuts {
            for slice in [&text[a..], &text[..a]] {
                for (lang, yes_no) in [(Lang::En, false), (Lang::Zh, true)] {
                    let heard = Heard {
                        text: slice.to_string(),
                        lang,
                        turn: 0,
                        start_ms: 0,
                        end_ms: 0,
                        confidence: 1.0,
                    };
                    let ctx = NluContext {
                        expected: SlotKind::ALL.to_vec(),
                        local_now: now,
                        yes_no,
                    };
                    // A LAC span that may cut through anything.
                    let whole = 0..slice.len();
                    let hints = TaggerHints {
                        time_spans: vec![whole.clone()],
                        words: Vec::new(),
                    };
                    for slot in extract_slots(&heard, &ctx, &hints) {
                        assert!(
                            slot.confidence > 0.0 && slot.confidence <= 1.0,
                            "{slice:?}: {slot:?}"
                        );
                        assert!(
                            slice.contains(slot.evidence.quote.as_str()),
                            "{slice:?}: {slot:?}"
                        );
                    }
                    let _ = rule_intent(slice, lang, &ctx);
                    let _ = tax.find(slice, lang);
                    let _ = find_numbers(slice);
                    runs += 1;
                }
            }
        }
    }
    assert!(runs > 1000, "{runs}");
}
