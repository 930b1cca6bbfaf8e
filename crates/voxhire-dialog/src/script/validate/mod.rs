//! Raw TOML → [`InterviewScript`], refusing anything the interview could trip
//! over during a call: a missing line in an offered language, an unknown slot, a
//! condition that does not parse or reads a slot the question never asks for, a
//! rubric without points, a protected attribute.

mod ctx;
mod question;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use voxhire_nlu::{Intent, IntentExamples, Lang, SlotKind};

use super::confirm::{
    default_confirm, default_key_in, CONFIRMABLE, DEFAULT_CONFIRM_BELOW, KEYABLE,
};
use super::error::{KeyPath, ScriptError};
use super::locate::Locator;
use super::model::*;
use super::raw::*;
use super::InterviewScript;
use crate::io::EndpointSettings;
use ctx::{Ctx, R};

fn syntax_error(file: &Path, text: &str, e: toml::de::Error) -> ScriptError {
    let line = e.span().map_or(1, |s| {
        text.as_bytes()[..s.start.min(text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    });
    // serde's type errors do not name the key: quote the line instead.
    let source = text.lines().nth(line - 1).unwrap_or("").trim();
    let message = e.message().trim();
    ScriptError::Syntax {
        file: file.to_owned(),
        line,
        message: if source.is_empty() || message.contains(source) {
            message.to_owned()
        } else {
            format!("{message} (at `{source}`)")
        },
    }
}

pub(super) fn validate(text: &str, file: &Path) -> R<InterviewScript> {
    let raw: RawScript = toml::from_str(text).map_err(|e| syntax_error(file, text, e))?;
    let cx = Ctx {
        file: file.to_owned(),
        loc: Locator::new(text),
    };
    let root = KeyPath::root();

    let id = cx.identifier(&raw.id, &root.key("id"))?;
    let title = cx.required_line(&raw.title, &root.key("title"))?;
    let company = cx.required_line(&raw.company, &root.key("company"))?;
    let role = cx.required_line(&raw.role, &root.key("role"))?;

    let lang_key = root.key("languages");
    let names = cx.required(&raw.languages, &lang_key)?;
    if names.is_empty() {
        return Err(cx.invalid(&lang_key, "offer at least one language (en, zh)"));
    }
    let mut languages = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let lang = match name.as_str() {
            "en" => Lang::En,
            "zh" => Lang::Zh,
            other => {
                return Err(cx.invalid(
                    &lang_key.index(i),
                    format!("unknown language {other:?} (en or zh)"),
                ))
            }
        };
        if languages.contains(&lang) {
            return Err(cx.invalid(&lang_key.index(i), format!("{lang} is listed twice")));
        }
        languages.push(lang);
    }

    let endpointing = cx.endpointing(
        &raw.endpointing,
        EndpointSettings::default(),
        &root.key("endpointing"),
    )?;
    let barge_in = raw.dialog.barge_in.unwrap_or(true);
    let confirm_below = raw.dialog.confirm_below.unwrap_or(DEFAULT_CONFIRM_BELOW);
    if !(0.0..=1.0).contains(&confirm_below) {
        return Err(cx.invalid(
            &root.key("dialog").key("confirm_below"),
            format!("{confirm_below} is not a confidence: use 0 (never confirm) to 1"),
        ));
    }
    let max_retries = raw.dialog.max_retries.unwrap_or(2);
    if max_retries > 5 {
        return Err(cx.invalid(
            &root.key("dialog").key("max_retries"),
            "more than 5 retries wears a candidate out",
        ));
    }

    let sk = root.key("scoring");
    let advance_at = raw.scoring.advance_at.unwrap_or(70.0);
    let hold_at = raw.scoring.hold_at.unwrap_or(50.0);
    if !(0.0..=100.0).contains(&hold_at)
        || !(0.0..=100.0).contains(&advance_at)
        || hold_at > advance_at
    {
        return Err(cx.invalid(
            &sk.key("hold_at"),
            format!("need 0 ≤ hold_at ({hold_at}) ≤ advance_at ({advance_at}) ≤ 100"),
        ));
    }

    // Fixed lines per language.
    let pk = root.key("prompts");
    for name in raw.prompts.keys() {
        if !languages.iter().any(|l| l.code() == name) {
            return Err(cx.invalid(
                &pk.key(name),
                format!("lines for {name:?}, which `languages` does not offer"),
            ));
        }
    }
    let mut texts = PerLang::default();
    for &lang in &languages {
        let key = pk.key(lang.code());
        let raw_texts = raw.prompts.get(lang.code()).ok_or_else(|| {
            cx.invalid(
                &key,
                format!("missing the {lang} lines (the script offers {lang})"),
            )
        })?;
        let fixed = fixed_texts(&cx, raw_texts, lang, &key)?;
        match lang {
            Lang::En => texts.en = Some(fixed),
            Lang::Zh => texts.zh = Some(fixed),
        }
    }

    // Questions.
    let qk = root.key("questions");
    if raw.questions.is_empty() {
        return Err(cx.invalid(&qk, "no questions ([[questions]])"));
    }
    let mut questions = Vec::new();
    let mut ids = HashSet::new();
    for (i, rq) in raw.questions.iter().enumerate() {
        let key = qk.index(i);
        let q = question::question(
            &cx,
            rq,
            &languages,
            endpointing,
            barge_in,
            max_retries,
            &key,
        )?;
        if !ids.insert(q.id.clone()) {
            return Err(cx.invalid(
                &key.key("id"),
                format!("question id {:?} is used twice", q.id),
            ));
        }
        questions.push(q);
    }

    // Intent examples.
    let ik = root.key("intent_examples");
    let mut examples = Vec::new();
    for (lang_name, by_intent) in &raw.intent_examples {
        let lang = match lang_name.as_str() {
            "en" => Lang::En,
            "zh" => Lang::Zh,
            other => return Err(cx.invalid(&ik.key(other), format!("unknown language {other:?}"))),
        };
        for (intent_name, list) in by_intent {
            let key = ik.key(lang_name).key(intent_name);
            let intent = parse_intent(intent_name).ok_or_else(|| {
                cx.invalid(
                    &key,
                    format!(
                        "unknown intent {intent_name:?} (yes, no, repeat, reschedule, opt_out, answer, unclear)"
                    ),
                )
            })?;
            for (j, example) in list.iter().enumerate() {
                let text = example.trim();
                if text.is_empty() {
                    return Err(cx.invalid(&key.index(j), "empty example"));
                }
                examples.push((intent, lang, text.to_owned()));
            }
        }
    }

    Ok(InterviewScript {
        path: file.to_owned(),
        id,
        title,
        company,
        role,
        languages,
        texts,
        endpointing,
        barge_in,
        max_retries,
        confirm_below,
        thresholds: Thresholds {
            advance_at,
            hold_at,
        },
        questions,
        intent_examples: IntentExamples { examples },
    })
}

fn parse_intent(name: &str) -> Option<Intent> {
    Some(match name {
        "yes" => Intent::Yes,
        "no" => Intent::No,
        "repeat" => Intent::Repeat,
        "reschedule" => Intent::Reschedule,
        "opt_out" => Intent::OptOut,
        "answer" => Intent::Answer,
        "unclear" => Intent::Unclear,
        _ => return None,
    })
}

/// The read-back (`confirm`) or keypad (`key_in`) lines: the script's where it
/// has them, the built-in ones for the rest of `kinds`.
fn slot_lines(
    cx: &Ctx,
    raw: &BTreeMap<String, String>,
    kinds: &[SlotKind],
    default: impl Fn(SlotKind) -> Option<&'static str>,
    with_value: bool,
    key: &KeyPath,
) -> R<BTreeMap<SlotKind, String>> {
    let mut out = BTreeMap::new();
    for (name, text) in raw {
        let k = key.key(name);
        let kind = name
            .parse::<SlotKind>()
            .ok()
            .filter(|kind| kinds.contains(kind))
            .ok_or_else(|| {
                let names: Vec<_> = kinds.iter().map(|k| k.name()).collect();
                cx.invalid(&k, format!("no such line: use one of {}", names.join(", ")))
            })?;
        let has_value = text.contains("{value}");
        if with_value && !has_value {
            return Err(cx.invalid(&k, "put {value} where the value heard is read back"));
        }
        // The placeholder checks of an ordinary line, with {value} taken out.
        cx.line(&text.replace("{value}", " "), &k)?;
        if !with_value && has_value {
            return Err(cx.invalid(&k, "{value} is only filled in confirm lines"));
        }
        out.insert(kind, text.trim().to_owned());
    }
    for &kind in kinds {
        if let (false, Some(line)) = (out.contains_key(&kind), default(kind)) {
            out.insert(kind, line.to_owned());
        }
    }
    Ok(out)
}

fn fixed_texts(cx: &Ctx, raw: &RawFixedTexts, lang: Lang, key: &KeyPath) -> R<FixedTexts> {
    let l = |v: &Option<String>, name: &str| cx.required_line(v, &key.key(name));
    let ck = key.key("closing");
    let c = |v: &Option<String>, name: &str| cx.required_line(v, &ck.key(name));
    let identity = l(&raw.identity, "identity")?;
    if !identity.contains("{name}") {
        return Err(cx.invalid(
            &key.key("identity"),
            "the identity check must name the candidate: put {name} in it",
        ));
    }
    Ok(FixedTexts {
        greeting: l(&raw.greeting, "greeting")?,
        disclosure: l(&raw.disclosure, "disclosure")?,
        consent_question: l(&raw.consent_question, "consent_question")?,
        identity,
        identity_no_name: raw
            .identity_no_name
            .as_ref()
            .map(|t| cx.line(t, &key.key("identity_no_name")))
            .transpose()?,
        good_time: l(&raw.good_time, "good_time")?,
        callback_question: l(&raw.callback_question, "callback_question")?,
        no_input: l(&raw.no_input, "no_input")?,
        no_match: l(&raw.no_match, "no_match")?,
        dtmf_yes_no: l(&raw.dtmf_yes_no, "dtmf_yes_no")?,
        closing: Closings {
            completed: c(&raw.closing.completed, "completed")?,
            opted_out: c(&raw.closing.opted_out, "opted_out")?,
            rescheduled: c(&raw.closing.rescheduled, "rescheduled")?,
            declined_consent: c(&raw.closing.declined_consent, "declined_consent")?,
            wrong_person: c(&raw.closing.wrong_person, "wrong_person")?,
            knocked_out: c(&raw.closing.knocked_out, "knocked_out")?,
            no_response: c(&raw.closing.no_response, "no_response")?,
        },
        confirm: slot_lines(
            cx,
            &raw.confirm,
            &CONFIRMABLE,
            |k| default_confirm(lang, k),
            true,
            &key.key("confirm"),
        )?,
        key_in: slot_lines(
            cx,
            &raw.key_in,
            &KEYABLE,
            |k| default_key_in(lang, k),
            false,
            &key.key("key_in"),
        )?,
    })
}
