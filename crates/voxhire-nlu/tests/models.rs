//! The real MiniLM and LAC models: embeddings that rank paraphrases above unrelated
//! sentences, and LAC tags for names, places, organisations and times.

use std::path::PathBuf;
use std::sync::OnceLock;

use voxhire_nlu::embed::{cosine, MiniLm, DIM};
use voxhire_nlu::lac::{time_spans, Lac};
use voxhire_nlu::{Heard, Intent, IntentExamples, Lang, Nlu, NluContext, SentenceSimilarity};
use voxhire_speech::models::ModelDir;

fn models() -> (&'static ort::environment::Environment, PathBuf) {
    let dir = ModelDir::locate();
    let env = dir
        .onnxruntime()
        .expect("ONNX Runtime (run scripts/fetch-models.sh)");
    (env, dir.root().to_path_buf())
}

fn minilm() -> &'static MiniLm {
    static M: OnceLock<MiniLm> = OnceLock::new();
    M.get_or_init(|| {
        let (env, root) = models();
        MiniLm::load(env, &root).expect("MiniLM (run scripts/fetch-models.sh)")
    })
}

fn lac() -> &'static Lac {
    static L: OnceLock<Lac> = OnceLock::new();
    L.get_or_init(|| {
        let (env, root) = models();
        Lac::load(env, &root).expect("LAC (run scripts/fetch-models.sh)")
    })
}

#[test]
fn embeddings_are_unit_length_and_batch_matches_single() {
    let m = minilm();
    let one = m.embed("i have five years of experience").unwrap();
    assert_eq!(one.len(), DIM);
    let norm: f32 = one.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
    // Padding in a batch must not change a sentence's embedding.
    let batch = m
        .embed_batch(&[
            "ok",
            "i have five years of experience",
            "a much longer sentence that forces the short ones to be padded quite a lot",
        ])
        .unwrap();
    assert!(
        cosine(&one, &batch[1]) > 0.999,
        "{}",
        cosine(&one, &batch[1])
    );
    // A long monologue is truncated, not rejected.
    let long = "i worked on the payment platform and the search service ".repeat(40);
    assert_eq!(m.embed(&long).unwrap().len(), DIM);
}

#[test]
fn paraphrases_are_closer_than_unrelated_sentences() {
    let m = minilm();
    let cases = [
        (
            "could you say that again please",
            "sorry i didn't catch that can you repeat",
            "i have worked with java for six years",
        ),
        (
            "please stop calling me",
            "take my number off your list",
            "i can start next monday",
        ),
        (
            "can you call me back tomorrow",
            "this is not a good time ring me later",
            "my expected salary is twenty thousand",
        ),
    ];
    for (a, para, other) in cases {
        let p = m.similarity(a, para).unwrap();
        let u = m.similarity(a, other).unwrap();
        assert!(p > u + 0.15, "{a:?}: paraphrase {p:.3} vs unrelated {u:.3}");
    }
}

#[test]
fn missing_model_names_the_file_and_the_fix() {
    let (env, _) = models();
    let e = MiniLm::load(env, std::path::Path::new("/nonexistent-models"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("/nonexistent-models/minilm/model.onnx")
            && e.contains("scripts/fetch-models.sh"),
        "{e}"
    );
    let e = Lac::load(env, std::path::Path::new("/nonexistent-models"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("/nonexistent-models/lac/") && e.contains("scripts/fetch-models.sh"),
        "{e}"
    );
}

fn tag_of(words: &[voxhire_nlu::lac::LacWord], word: &str) -> Option<String> {
    words.iter().find(|w| w.text == word).map(|w| w.tag.clone())
}

#[test]
fn lac_tags_people_places_organisations_and_times() {
    let l = lac();
    let words = l.tag("张伟在北京的华为公司工作").unwrap();
    let dump = format!("{words:?}");
    assert_eq!(tag_of(&words, "张伟").as_deref(), Some("PER"), "{dump}");
    assert_eq!(tag_of(&words, "北京").as_deref(), Some("LOC"), "{dump}");
    assert_eq!(tag_of(&words, "华为公司").as_deref(), Some("ORG"), "{dump}");

    let text = "你下周三下午两点再打给我吧";
    let words = l.tag(text).unwrap();
    let times = time_spans(text, &words);
    assert_eq!(times.len(), 1, "{words:?}");
    assert_eq!(&text[times[0].clone()], "下周三下午两点", "{words:?}");
    assert_eq!(tag_of(&words, "打").as_deref(), Some("v"), "{words:?}");
}

#[test]
fn lac_spans_cover_the_text_in_order() {
    let text = "我会Java和Python，做了五年 后端开发";
    let words = lac().tag(text).unwrap();
    let mut at = 0;
    for w in &words {
        assert_eq!(w.span.start, at, "{words:?}");
        assert_eq!(&text[w.span.clone()], w.text);
        at = w.span.end;
    }
    assert_eq!(at, text.len());
    assert!(lac().tag("").unwrap().is_empty());
    // Longer than one encoder run (256 characters): tagged in pieces, spans intact.
    let long = "我在北京做了五年后端开发，主要用Java。".repeat(20);
    let words = lac().tag(&long).unwrap();
    assert_eq!(
        words.iter().map(|w| w.text.as_str()).collect::<String>(),
        long
    );
    assert!(
        words.iter().filter(|w| w.tag == "LOC").count() >= 19,
        "{words:?}"
    );
}

fn nlu_with(examples: &IntentExamples) -> Nlu {
    let (env, root) = models();
    Nlu::load(env, &root, examples).expect("NLU models (run scripts/fetch-models.sh)")
}

fn heard(text: &str, lang: Lang) -> Heard {
    Heard {
        text: text.into(),
        lang,
        turn: 0,
        start_ms: 0,
        end_ms: 2_000,
        confidence: 0.9,
    }
}

#[test]
fn nlu_is_shared_across_threads_and_scores_similarity_in_english_only() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Nlu>();
    let nlu = std::sync::Arc::new(nlu_with(&IntentExamples::default()));
    let sim = |a: &str, b: &str, lang| nlu.similarity(a, b, lang);
    let para = sim(
        "i built a payment system for an online shop",
        "i developed the payments backend of an e-commerce site",
        Lang::En,
    )
    .expect("English has an embedding model");
    let other = sim(
        "i built a payment system for an online shop",
        "i like hiking with my dog",
        Lang::En,
    )
    .expect("English has an embedding model");
    assert!(
        (0.0..=1.0).contains(&para) && para > other + 0.2,
        "{para} vs {other}"
    );
    assert_eq!(sim("我做过支付系统", "我做过支付系统", Lang::Zh), None);

    let threads: Vec<_> = (0..4)
        .map(|_| {
            let nlu = nlu.clone();
            std::thread::spawn(move || {
                nlu.understand(
                    &heard("please stop calling me", Lang::En),
                    &NluContext::default(),
                )
                .intent
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), Intent::OptOut);
    }
}

#[test]
fn script_examples_teach_new_phrasings() {
    let text = "i am going with another recruitment agency";
    let plain = nlu_with(&IntentExamples::default());
    let before = plain.understand(&heard(text, Lang::En), &NluContext::default());
    assert_ne!(before.intent, Intent::OptOut, "{before:?}");
    let taught = nlu_with(&IntentExamples {
        examples: vec![(
            Intent::OptOut,
            Lang::En,
            "i'm going with a different agency".into(),
        )],
    });
    let after = taught.understand(&heard(text, Lang::En), &NluContext::default());
    assert_eq!(after.intent, Intent::OptOut, "{after:?}");
}

#[test]
fn debug_output_stays_short() {
    // Nlu is logged at start-up; it must not dump 58k vocabulary entries or embeddings.
    let nlu = nlu_with(&IntentExamples::default());
    let text = format!("{nlu:?}");
    assert!(text.len() < 1_000, "{} bytes: {text:.200}", text.len());
}
