//! Time to understand one turn, English (MiniLM) and Mandarin (LAC), with the
//! models loaded once as in a call. `cargo bench -p voxhire-nlu --bench nlu`.

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};
use voxhire_nlu::{Heard, IntentExamples, Lang, Nlu, NluContext, SlotKind};
use voxhire_speech::models::ModelDir;

fn heard(text: &str, lang: Lang) -> Heard {
    Heard {
        text: text.to_string(),
        lang,
        turn: 3,
        start_ms: 40_000,
        end_ms: 43_000,
        confidence: 0.9,
    }
}

fn bench(c: &mut Criterion) {
    let dir = ModelDir::locate();
    let env = dir
        .onnxruntime()
        .expect("ONNX Runtime (run scripts/fetch-models.sh)");
    let nlu = Nlu::load(env, dir.root(), &IntentExamples::default())
        .expect("NLU models (run scripts/fetch-models.sh)");
    let ctx = |expected: Vec<SlotKind>, yes_no: bool| NluContext {
        expected,
        local_now: NaiveDate::from_ymd_opt(2026, 11, 26).and_then(|d| d.and_hms_opt(10, 30, 0)),
        yes_no,
    };

    let mut g = c.benchmark_group("understand");
    // A turn no rule or slot settles: the embedding kNN runs.
    let en_open = heard(
        "well i worked at a logistics company as an analyst",
        Lang::En,
    );
    let open = ctx(vec![], false);
    g.bench_function("en_open_answer", |b| {
        b.iter(|| nlu.understand(&en_open, &open))
    });
    let en_slot = heard(
        "i mostly use java and spring boot and some cooper netties",
        Lang::En,
    );
    let skills = ctx(vec![SlotKind::Skills], false);
    g.bench_function("en_skills", |b| {
        b.iter(|| nlu.understand(&en_slot, &skills))
    });
    let en_yes_no = heard("im driving right now can you call me back later", Lang::En);
    let yes_no = ctx(vec![], true);
    g.bench_function("en_yes_no", |b| {
        b.iter(|| nlu.understand(&en_yes_no, &yes_no))
    });

    let zh_callback = heard("我在开会，你下周三下午两点再打给我吧", Lang::Zh);
    let years = ctx(vec![SlotKind::YearsExperience], false);
    g.bench_function("zh_reschedule", |b| {
        b.iter(|| nlu.understand(&zh_callback, &years))
    });
    let zh_project = heard(
        "我做过一个电商平台的支付系统，每天处理一百万订单，我负责后端和数据库设计",
        Lang::Zh,
    );
    let project = ctx(vec![SlotKind::Project], false);
    g.bench_function("zh_project", |b| {
        b.iter(|| nlu.understand(&zh_project, &project))
    });
    g.finish();

    // The model runs alone, to see what the turn time is made of.
    let mut g = c.benchmark_group("models");
    g.bench_function("minilm_embed_10_words", |b| {
        b.iter(|| nlu.embed("well i worked at a logistics company as an analyst"))
    });
    g.bench_function("lac_tag_17_chars", |b| {
        b.iter(|| nlu.tag_mandarin("我在开会，你下周三下午两点再打给我吧"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
