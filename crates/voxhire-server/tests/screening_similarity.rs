//! Résumé sentences compared by meaning with a role (all-MiniLM-L6-v2): the
//! thresholds in `screening::SIMILAR_FROM` / `SIMILAR_FULLY` against
//! sentences about the role and sentences that are not. Two roles; the
//! second (a frontend role) was not looked at when the thresholds were set.

use voxhire_nlu::embed::MiniLm;
use voxhire_server::screening::{similarity, SIMILAR_FROM};
use voxhire_speech::models::ModelDir;

fn minilm() -> MiniLm {
    let models = ModelDir::locate();
    let env = models
        .onnxruntime()
        .expect("onnxruntime (run scripts/setup.sh)");
    MiniLm::load(env, models.root()).expect("MiniLM (run scripts/setup.sh)")
}

fn cosine(m: &MiniLm, sentence: &str, role: &str) -> f32 {
    similarity(m, sentence, role)
        .expect("embedding")
        .expect("a sentence to compare")
        .cosine
}

fn check(m: &MiniLm, role: &str, about: &[&str], unrelated: &[&str]) {
    let about: Vec<(f32, &str)> = about.iter().map(|s| (cosine(m, s, role), *s)).collect();
    let other: Vec<(f32, &str)> = unrelated.iter().map(|s| (cosine(m, s, role), *s)).collect();
    for (c, s) in &about {
        println!("{c:5.2}  about   {s}");
    }
    for (c, s) in &other {
        println!("{c:5.2}  other   {s}");
    }
    // A résumé of the role's sentences reads as about the role (its closest
    // sentence counts); one of unrelated sentences does not, nor does any of
    // them alone.
    let resume = |lines: &[(f32, &str)]| {
        let text: Vec<&str> = lines.iter().map(|(_, s)| *s).collect();
        similarity(m, &text.join("\n"), role)
            .unwrap()
            .unwrap()
            .cosine
    };
    assert!(resume(&about) >= SIMILAR_FROM, "{about:?}");
    assert!(resume(&other) < SIMILAR_FROM, "{other:?}");
    for (c, s) in &other {
        assert!(*c < SIMILAR_FROM, "{c} for {s:?} against {role:?}");
    }
}

#[test]
fn backend_sentences_read_close_to_a_backend_role() {
    let m = minilm();
    // The calibration set: every sentence about the role clears the threshold.
    let role = "Backend engineer building payment services in Java";
    for s in [
        "Built the payment gateway's backend services in Java and Spring Boot",
        "Designed REST APIs for the billing system and tuned its MySQL queries",
        "Led the migration of order processing microservices to Kubernetes",
    ] {
        assert!(cosine(&m, s, role) >= SIMILAR_FROM, "{s}");
    }
    check(
        &m,
        "Backend engineer building payment services in Java",
        &[
            "Built the payment gateway's backend services in Java and Spring Boot",
            "Designed REST APIs for the billing system and tuned its MySQL queries",
            "Led the migration of order processing microservices to Kubernetes",
        ],
        &[
            "Volunteer football coach for the local youth team",
            "Managed a team of twelve sales representatives across three regions",
            "Fluent in French and Spanish",
        ],
    );
}

#[test]
fn frontend_sentences_read_close_to_a_frontend_role_held_out() {
    check(
        &minilm(),
        "Frontend developer building web apps with React and TypeScript",
        &[
            "Rebuilt the customer dashboard in React with TypeScript and hooks",
            "Implemented responsive user interfaces and improved page load time by 40 percent",
        ],
        &[
            "Certified forklift operator with a clean safety record",
            "Organised the annual company charity run",
        ],
    );
}
