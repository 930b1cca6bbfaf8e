//! Broken scripts are refused with the file, the key path and the line.

mod common;

use voxhire_dialog::InterviewScript;
use voxhire_dialog::ScriptError;

fn english() -> String {
    std::fs::read_to_string(common::config("interview-java-backend.en.toml"))
        .expect("example script")
}

/// The 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the script"));
    text[..at].matches('\n').count() + 1
}

fn refuse(text: &str) -> ScriptError {
    match InterviewScript::from_str(text, "scripts/bad.toml") {
        Ok(_) => panic!("the script was accepted"),
        Err(e) => e,
    }
}

fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} must occur once");
    text.replace(from, to)
}

#[test]
fn unknown_slot_name_is_refused_at_its_line() {
    let text = replace_once(
        &english(),
        r#"slots = ["years_experience"]"#,
        r#"slots = ["years_experiance"]"#,
    );
    let e = refuse(&text);
    assert_eq!(e.key(), Some("questions[0].slots[0]"));
    assert_eq!(e.line(), Some(line_of(&text, "years_experiance")));
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "scripts/bad.toml:{}: questions[0].slots[0]:",
            e.line().unwrap()
        )),
        "{msg}"
    );
    assert!(msg.contains("unknown slot \"years_experiance\""), "{msg}");
}

#[test]
fn bad_condition_is_refused_at_its_line() {
    let text = replace_once(
        &english(),
        r#"when = "years_experience < 2""#,
        r#"when = "years_experience << 2""#,
    );
    let e = refuse(&text);
    assert_eq!(e.key(), Some("questions[0].knockout[0].when"));
    assert_eq!(e.line(), Some(line_of(&text, "years_experience << 2")));
    assert!(e.to_string().contains("unknown operator \"<<\""), "{e}");
}

#[test]
fn follow_up_condition_on_a_slot_the_question_does_not_ask_is_refused() {
    let text = replace_once(
        &english(),
        r#"when = "missing_skill:kubernetes or missing_skill:spring_cloud""#,
        r#"when = "salary_monthly > 10000""#,
    );
    let e = refuse(&text);
    assert_eq!(e.key(), Some("questions[1].followups[0].when"));
    assert_eq!(e.line(), Some(line_of(&text, "salary_monthly > 10000")));
    assert!(e.to_string().contains("does not ask for"), "{e}");
}

#[test]
fn missing_language_text_names_the_question_and_language() {
    let text = replace_once(
        &english(),
        "prompt.en = \"What monthly salary are you looking for?\"\n",
        "",
    );
    let e = refuse(&text);
    assert_eq!(e.key(), Some("questions[3].prompt.en"));
    // The key is absent: the error points at the question's header.
    let header = line_of(&text, "id = \"salary\"") - 1;
    assert_eq!(e.line(), Some(header));
    assert!(e.to_string().contains("missing the en text"), "{e}");
}

#[test]
fn offering_a_language_without_its_lines_is_refused() {
    let text = replace_once(
        &english(),
        r#"languages = ["en"]"#,
        r#"languages = ["en", "zh"]"#,
    );
    let e = refuse(&text);
    assert_eq!(e.key(), Some("prompts.zh"));
    assert!(e.to_string().contains("missing the zh lines"), "{e}");
}

#[test]
fn missing_closing_line_is_refused() {
    let text = replace_once(
        &english(),
        "wrong_person = \"Sorry to bother you. Have a nice day. Goodbye.\"\n",
        "",
    );
    let e = refuse(&text);
    assert_eq!(e.key(), Some("prompts.en.closing.wrong_person"));
    assert_eq!(e.line(), Some(line_of(&text, "[prompts.en.closing]")));
}

#[test]
fn protected_attribute_in_a_question_is_refused() {
    let text = replace_once(
        &english(),
        "prompt.en = \"How many years have you worked on Java backends?\"",
        "prompt.en = \"How old are you, and how many years have you worked on Java?\"",
    );
    let e = refuse(&text);
    assert!(matches!(e, ScriptError::ProtectedAttribute { .. }), "{e}");
    assert_eq!(e.key(), Some("questions[0].prompt.en"));
    assert_eq!(e.line(), Some(line_of(&text, "How old are you")));
    assert!(
        e.to_string().contains("protected attribute \"how old\""),
        "{e}"
    );
}

#[test]
fn protected_attribute_as_slot_or_condition_is_refused() {
    let text = replace_once(
        &english(),
        r#"slots = ["years_experience"]"#,
        r#"slots = ["years_experience", "age"]"#,
    );
    let e = refuse(&text);
    assert!(matches!(e, ScriptError::ProtectedAttribute { .. }), "{e}");
    assert_eq!(e.key(), Some("questions[0].slots[1]"));

    let text = replace_once(
        &english(),
        r#"when = "years_experience < 2""#,
        r#"when = "marital_status == 1""#,
    );
    let e = refuse(&text);
    assert!(matches!(e, ScriptError::ProtectedAttribute { .. }), "{e}");
    assert_eq!(e.key(), Some("questions[0].knockout[0].when"));

    let text = replace_once(&english(), r#"id = "salary""#, r#"id = "gender""#);
    assert!(matches!(
        refuse(&text),
        ScriptError::ProtectedAttribute { .. }
    ));
}

#[test]
fn unknown_key_is_a_syntax_error_with_its_line() {
    let text = replace_once(
        &english(),
        "asr_prompt.en = \"per month, thousand, dollars\"",
        "asr_promt.en = \"per month\"",
    );
    let e = refuse(&text);
    assert!(matches!(e, ScriptError::Syntax { .. }), "{e}");
    assert_eq!(e.line(), Some(line_of(&text, "asr_promt")));
    assert!(e.to_string().contains("asr_promt"), "{e}");
}

#[test]
fn rubric_without_points_and_bad_placeholder_are_refused() {
    let text = replace_once(
        &english(),
        "identity = \"Am I speaking with {name}?\"",
        "identity = \"Am I speaking with {first_name}?\"",
    );
    let e = refuse(&text);
    assert_eq!(e.key(), Some("prompts.en.identity"));
    assert!(e.to_string().contains("placeholder"), "{e}");

    let text = replace_once(&english(), "points_each = 2 }", "points_each = 0 }");
    let e = refuse(&text);
    assert_eq!(e.key(), Some("questions[1].rubric"));
}

#[test]
fn unreadable_file_names_the_file() {
    let Err(e) = InterviewScript::load("/nonexistent/interview.toml") else {
        panic!("a missing file was accepted")
    };
    assert!(
        e.to_string()
            .starts_with("/nonexistent/interview.toml: cannot read"),
        "{e}"
    );
}

#[test]
fn wrong_type_quotes_the_line() {
    let text = replace_once(&english(), "weight = 3\ntiers", "weight = \"high\"\ntiers");
    let e = refuse(&text);
    assert!(matches!(e, ScriptError::Syntax { .. }), "{e}");
    assert_eq!(e.line(), Some(line_of(&text, "weight = \"high\"")));
    assert!(e.to_string().contains("(at `weight = \"high\"`)"), "{e}");
}

#[test]
fn unknown_skill_is_refused_and_synonyms_become_canonical_ids() {
    let text = replace_once(
        &english(),
        r#""kafka", "mysql""#,
        r#""kafkaesque", "mysql""#,
    );
    let e = refuse(&text);
    assert_eq!(e.key(), Some("questions[1].rubric.skills.required[2]"));
    assert!(
        e.to_string().contains("unknown skill \"kafkaesque\""),
        "{e}"
    );

    let text = replace_once(
        &english(),
        r#"missing_skill:kubernetes or"#,
        r#"missing_skill:cobol_9000 or"#,
    );
    let e = refuse(&text);
    assert_eq!(e.key(), Some("questions[1].followups[0].when"));

    // "k8s" is a synonym of kubernetes: accepted, stored as the canonical id.
    let text = replace_once(
        &english(),
        r#"required = ["spring_cloud", "kubernetes""#,
        r#"required = ["Spring Cloud", "k8s""#,
    );
    let script = InterviewScript::from_str(&text, "ok.toml").unwrap_or_else(|e| panic!("{e}"));
    let rule = script.questions()[1]
        .rubric
        .as_ref()
        .and_then(|r| r.skills.as_ref())
        .expect("skills rule");
    assert_eq!(
        rule.required[..2],
        ["spring_cloud".to_owned(), "kubernetes".to_owned()]
    );
}
