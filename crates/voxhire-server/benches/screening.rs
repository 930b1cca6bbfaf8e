//! Screening time per résumé: the keyword and years pass alone, and with the
//! role similarity (MiniLM over every sentence), for an English and a
//! Mandarin résumé of a typical length, plus text out of a PDF and a DOCX.
//!
//! `cargo bench -p voxhire-server --bench screening`

use criterion::{criterion_group, criterion_main, Criterion};
use voxhire_lang::Lang;
use voxhire_nlu::embed::MiniLm;
use voxhire_server::resume::{extract, fixtures};
use voxhire_server::screening::{screen, similarity, Requirements};
use voxhire_speech::models::ModelDir;

const ENGLISH: &[&str] = &[
    "Alice Chen — Senior backend engineer",
    "Shanghai, open to remote work",
    "Six years of experience building payment and order services.",
    "2021–now: Backend engineer at PayCo. Built the payment gateway in Java and Spring Boot; event streams on Kafka; services on Kubernetes.",
    "Cut checkout latency by 35 percent by moving hot paths to Redis.",
    "2018–2021: Software engineer at ShopMart. REST APIs for the catalogue in Go; MySQL schema design and query tuning.",
    "Mentored four junior engineers and ran the team's code reviews.",
    "Education: BSc Computer Science, Fudan University, 2018.",
    "Skills: Java, Spring Boot, Go, Kafka, Kubernetes, MySQL, Redis, Docker, AWS.",
    "Languages: English (fluent), Mandarin (native).",
];

const MANDARIN: &[&str] = &[
    "张伟 — 高级后端工程师",
    "五年多后端开发经验，熟悉高并发系统设计。",
    "2020年至今：某电商公司后端开发，负责订单系统重构，主要用Java和Spring Cloud。",
    "服务部署在K8s上，消息队列使用Kafka，缓存使用Redis。",
    "2018年至2020年：某支付公司开发工程师，使用Go编写对账服务，数据库为MySQL。",
    "教育背景：浙江大学计算机科学学士。",
];

fn requirements() -> Requirements {
    Requirements {
        must_have: vec!["Java".into(), "Kafka".into()],
        nice_to_have: vec!["Kubernetes".into(), "Redis".into(), "Go".into()],
        min_years: Some(3.0),
        summary: Some("Backend engineer building payment services in Java".into()),
    }
}

fn bench(c: &mut Criterion) {
    let models = ModelDir::locate();
    let env = models
        .onnxruntime()
        .expect("onnxruntime (run scripts/setup.sh)");
    let minilm = MiniLm::load(env, models.root()).expect("MiniLM (run scripts/setup.sh)");
    let req = requirements();
    let en = ENGLISH.join("\n");
    let zh = MANDARIN.join("\n");
    let role = req.summary.clone().unwrap();

    let mut g = c.benchmark_group("screening");
    g.bench_function("english keywords+years", |b| {
        b.iter(|| screen(&en, Lang::En, &req, None))
    });
    g.bench_function("english with role similarity", |b| {
        b.iter(|| {
            let sim = similarity(&minilm, &en, &role).unwrap();
            screen(&en, Lang::En, &req, sim)
        })
    });
    g.bench_function("mandarin keywords+years", |b| {
        b.iter(|| screen(&zh, Lang::Zh, &req, None))
    });
    let pdf = fixtures::pdf(ENGLISH);
    let docx = fixtures::docx(MANDARIN);
    g.bench_function("pdf text extraction", |b| b.iter(|| extract(&pdf).unwrap()));
    g.bench_function("docx text extraction", |b| {
        b.iter(|| extract(&docx).unwrap())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
