//! The two example scripts in `config/` load, validate and list their lines.

use voxhire_dialog::InterviewScript;
use voxhire_nlu::{Intent, Lang};

fn config(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../config")
        .join(name)
}

#[test]
fn java_backend_english_script_loads() {
    let script = InterviewScript::load(config("interview-java-backend.en.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(script.id(), "java-backend-en");
    assert_eq!(script.languages(), &[Lang::En]);
    let ids: Vec<_> = script.questions().iter().map(|q| q.id.as_str()).collect();
    assert_eq!(ids, ["years", "skills", "project", "salary", "start"]);
    let prompts = script.prompts(Lang::En);
    let find = |id: &str| {
        prompts
            .iter()
            .find(|(p, _)| p.0 == id)
            .map(|(_, t)| t.clone())
    };
    assert!(find("greeting").unwrap().contains("Northwind Freight"));
    assert!(find("greeting")
        .unwrap()
        .contains("Senior Java Backend Engineer"));
    assert_eq!(find("identity").unwrap(), "Am I speaking with {name}?");
    assert!(find("questions.skills.followups.cloud_native.prompt").is_some());
    assert!(find("closing.knocked_out").is_some());
    assert!(script.prompts(Lang::Zh).is_empty());
    assert!(script.intent_examples().examples.contains(&(
        Intent::OptOut,
        Lang::En,
        "take me off your list".to_owned()
    )));
    // Spoken lines stay short enough for the phone.
    for (id, text) in &prompts {
        assert!(
            text.split_whitespace().count() <= 25,
            "{} is long: {text}",
            id.0
        );
    }
}

#[test]
fn frontend_mandarin_script_loads() {
    let script = InterviewScript::load(config("interview-frontend.zh.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(script.languages(), &[Lang::Zh]);
    let prompts = script.prompts(Lang::Zh);
    assert!(prompts
        .iter()
        .any(|(id, t)| id.0 == "greeting" && t.contains("前端开发工程师")));
    for (id, text) in &prompts {
        assert!(text.chars().count() <= 60, "{} is long: {text}", id.0);
    }
}
