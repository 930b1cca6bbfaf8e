//! Raw TOML → [`InterviewScript`], refusing anything the interview could trip
//! over during a call: a missing line in an offered language, an unknown slot, a
//! condition that does not parse or reads a slot the question never asks for, a
//! rubric without points, a protected attribute.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use voxhire_nlu::skills::SkillTaxonomy;
use voxhire_nlu::{Intent, IntentExamples, Lang, SlotKind};

use super::condition::{normalize_skill, Condition, ConditionError};
use super::error::{KeyPath, ScriptError};
use super::locate::Locator;
use super::model::*;
use super::protected::{check_term, check_text};
use super::raw::*;
use super::InterviewScript;
use crate::io::EndpointSettings;

struct Ctx {
    file: PathBuf,
    loc: Locator,
}

type R<T> = Result<T, ScriptError>;

impl Ctx {
    fn invalid(&self, key: &KeyPath, message: impl Into<String>) -> ScriptError {
        ScriptError::Invalid {
            file: self.file.clone(),
            key: key.to_string(),
            line: self.loc.line(key),
            message: message.into(),
        }
    }

    fn protected(&self, key: &KeyPath, term: String) -> ScriptError {
        ScriptError::ProtectedAttribute {
            file: self.file.clone(),
            key: key.to_string(),
            line: self.loc.line(key),
            term,
        }
    }

    fn required<'a, T>(&self, v: &'a Option<T>, key: &KeyPath) -> R<&'a T> {
        v.as_ref().ok_or_else(|| self.invalid(key, "missing"))
    }

    fn identifier(&self, v: &Option<String>, key: &KeyPath) -> R<String> {
        let id = self.required(v, key)?.trim().to_owned();
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(self.invalid(key, format!("{id:?}: use letters, digits, _ and -")));
        }
        if let Some(term) = check_term(&id) {
            return Err(self.protected(key, term));
        }
        Ok(id)
    }

    /// A line the agent says: not empty, no placeholder but `{name}`, nothing
    /// protected.
    fn line(&self, text: &str, key: &KeyPath) -> R<String> {
        let text = text.trim();
        if text.is_empty() {
            return Err(self.invalid(key, "empty line"));
        }
        let without_name = text.replace("{name}", "");
        if without_name.contains('{') || without_name.contains('}') {
            return Err(self.invalid(
                key,
                "unknown placeholder (only {name}, the candidate's name, is filled in)",
            ));
        }
        if let Some(term) = check_text(text) {
            return Err(self.protected(key, term));
        }
        Ok(text.to_owned())
    }

    fn required_line(&self, v: &Option<String>, key: &KeyPath) -> R<String> {
        let text = v
            .as_ref()
            .ok_or_else(|| self.invalid(key, "missing line"))?;
        self.line(text, key)
    }

    /// A per-language text that every offered language must have.
    fn per_lang(
        &self,
        v: &Option<RawPerLang<String>>,
        langs: &[Lang],
        key: &KeyPath,
    ) -> R<PerLang<String>> {
        let raw = v.clone().unwrap_or_default();
        for &lang in langs {
            if raw_get(&raw, lang).is_none() {
                return Err(self.invalid(
                    &key.key(lang.code()),
                    format!("missing the {lang} text (the script offers {lang})"),
                ));
            }
        }
        self.optional_per_lang(&Some(raw), key)
    }

    fn optional_per_lang(
        &self,
        v: &Option<RawPerLang<String>>,
        key: &KeyPath,
    ) -> R<PerLang<String>> {
        let Some(raw) = v else {
            return Ok(PerLang::default());
        };
        let mut out = PerLang::default();
        if let Some(t) = &raw.en {
            out.en = Some(self.line(t, &key.key("en"))?);
        }
        if let Some(t) = &raw.zh {
            out.zh = Some(self.line(t, &key.key("zh"))?);
        }
        Ok(out)
    }

    fn slots(&self, names: &[String], key: &KeyPath) -> R<Vec<SlotKind>> {
        let mut out = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let k = key.index(i);
            if let Some(term) = check_term(name) {
                return Err(self.protected(&k, term));
            }
            let kind: SlotKind = name.parse().map_err(|e: String| self.invalid(&k, e))?;
            if kind == SlotKind::CallbackTime {
                return Err(self.invalid(
                    &k,
                    "callback_time is asked by the dialog itself, not by a question",
                ));
            }
            if !out.contains(&kind) {
                out.push(kind);
            }
        }
        Ok(out)
    }

    /// A skill id of the NLU's taxonomy: a synonym ("k8s", "Spring Cloud",
    /// 小程序) is accepted and stored as its canonical id, an unknown skill is
    /// refused (it could never be matched, silently costing candidates points).
    fn skill(&self, name: &str, key: &KeyPath) -> R<String> {
        let taxonomy = SkillTaxonomy::builtin();
        let normalized = normalize_skill(name);
        if let Some(id) = taxonomy.ids().find(|id| normalize_skill(id) == normalized) {
            return Ok(id.to_owned());
        }
        match taxonomy.canonical(name).or_else(|| taxonomy.canonical(&normalized)) {
            Some(id) => Ok(id.to_owned()),
            None => Err(self.invalid(
                key,
                format!(
                    "unknown skill {name:?}: the NLU's taxonomy (crates/voxhire-nlu/data/skills.toml) \
                     has no such skill or synonym"
                ),
            )),
        }
    }

    /// A condition that may only read slots in `allowed`.
    fn condition(&self, v: &Option<String>, allowed: &[SlotKind], key: &KeyPath) -> R<Condition> {
        let text = self.required(v, key)?;
        let mut cond = Condition::parse(text).map_err(|e| match e {
            ConditionError::Protected(term) => self.protected(key, term),
            other => self.invalid(key, format!("bad condition: {other}")),
        })?;
        for id in cond.skill_ids_mut() {
            *id = self.skill(id, key)?;
        }
        for slot in cond.slots() {
            if !allowed.contains(&slot) {
                let names: Vec<_> = allowed.iter().map(|k| k.name()).collect();
                return Err(self.invalid(
                    key,
                    format!(
                        "{text:?} reads the slot {} which this question does not ask for (it asks for: {})",
                        slot.name(),
                        names.join(", ")
                    ),
                ));
            }
        }
        Ok(cond)
    }

    fn endpointing(
        &self,
        raw: &RawEndpointing,
        base: EndpointSettings,
        key: &KeyPath,
    ) -> R<EndpointSettings> {
        let e = EndpointSettings {
            min_speech_ms: raw.min_speech_ms.unwrap_or(base.min_speech_ms),
            end_of_turn_silence_ms: raw
                .end_of_turn_silence_ms
                .unwrap_or(base.end_of_turn_silence_ms),
            max_utterance_ms: raw.max_utterance_ms.unwrap_or(base.max_utterance_ms),
            no_input_timeout_ms: raw.no_input_timeout_ms.unwrap_or(base.no_input_timeout_ms),
        };
        let checks = [
            ("min_speech_ms", e.min_speech_ms, 20, 2_000),
            (
                "end_of_turn_silence_ms",
                e.end_of_turn_silence_ms,
                100,
                5_000,
            ),
            ("max_utterance_ms", e.max_utterance_ms, 1_000, 120_000),
            ("no_input_timeout_ms", e.no_input_timeout_ms, 1_000, 60_000),
        ];
        for (name, value, lo, hi) in checks {
            if !(lo..=hi).contains(&value) {
                return Err(
                    self.invalid(&key.key(name), format!("{value} is outside {lo}..={hi} ms"))
                );
            }
        }
        Ok(e)
    }

    fn points(&self, v: Option<f32>, key: &KeyPath) -> R<f32> {
        let p = v.ok_or_else(|| self.invalid(key, "missing"))?;
        if !(p.is_finite() && p >= 0.0) {
            return Err(self.invalid(key, format!("{p}: points must be a number ≥ 0")));
        }
        Ok(p)
    }
}

fn raw_get<T>(raw: &RawPerLang<T>, lang: Lang) -> Option<&T> {
    match lang {
        Lang::En => raw.en.as_ref(),
        Lang::Zh => raw.zh.as_ref(),
    }
}

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
        let fixed = fixed_texts(&cx, raw_texts, &key)?;
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
        let q = question(
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

fn fixed_texts(cx: &Ctx, raw: &RawFixedTexts, key: &KeyPath) -> R<FixedTexts> {
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
    })
}

fn question(
    cx: &Ctx,
    rq: &RawQuestion,
    langs: &[Lang],
    script_endpointing: EndpointSettings,
    script_barge_in: bool,
    script_retries: u32,
    key: &KeyPath,
) -> R<Question> {
    let id = cx.identifier(&rq.id, &key.key("id"))?;
    let slots = cx.slots(&rq.slots, &key.key("slots"))?;
    if slots.is_empty() {
        return Err(cx.invalid(
            &key.key("slots"),
            "a question must expect at least one slot (years_experience, skills, salary_monthly, start_date, notice_period, project)",
        ));
    }
    let prompt = cx.per_lang(&rq.prompt, langs, &key.key("prompt"))?;
    let reprompt_no_input =
        cx.per_lang(&rq.reprompt_no_input, langs, &key.key("reprompt_no_input"))?;
    let reprompt_no_match =
        cx.per_lang(&rq.reprompt_no_match, langs, &key.key("reprompt_no_match"))?;
    let asr_prompt = cx.optional_per_lang(&rq.asr_prompt, &key.key("asr_prompt"))?;
    let max_retries = rq.max_retries.unwrap_or(script_retries);
    if max_retries > 5 {
        return Err(cx.invalid(
            &key.key("max_retries"),
            "more than 5 retries wears a candidate out",
        ));
    }
    let endpointing =
        cx.endpointing(&rq.endpointing, script_endpointing, &key.key("endpointing"))?;

    // Follow-ups may bring slots of their own; conditions of the question
    // (knockouts, rubric tiers) may read any slot the question or a follow-up asks.
    let mut followups = Vec::new();
    let mut all_slots = slots.clone();
    let mut fids = HashSet::new();
    for (j, rf) in rq.followups.iter().enumerate() {
        let fk = key.key("followups").index(j);
        let fid = cx.identifier(&rf.id, &fk.key("id"))?;
        if !fids.insert(fid.clone()) {
            return Err(cx.invalid(&fk.key("id"), format!("follow-up id {fid:?} is used twice")));
        }
        let mut fslots = cx.slots(&rf.slots, &fk.key("slots"))?;
        if fslots.is_empty() {
            fslots = slots.clone();
        }
        // A follow-up's condition reads what was said before it.
        let when = cx.condition(&rf.when, &all_slots, &fk.key("when"))?;
        for s in &fslots {
            if !all_slots.contains(s) {
                all_slots.push(*s);
            }
        }
        followups.push(FollowUp {
            id: fid,
            when,
            prompt: cx.per_lang(&rf.prompt, langs, &fk.key("prompt"))?,
            slots: fslots,
            asr_prompt: cx.optional_per_lang(&rf.asr_prompt, &fk.key("asr_prompt"))?,
            reprompt_no_input: cx
                .optional_per_lang(&rf.reprompt_no_input, &fk.key("reprompt_no_input"))?,
            reprompt_no_match: cx
                .optional_per_lang(&rf.reprompt_no_match, &fk.key("reprompt_no_match"))?,
        });
    }

    let mut knockouts = Vec::new();
    for (j, rk) in rq.knockout.iter().enumerate() {
        let kk = key.key("knockout").index(j);
        let when = cx.condition(&rk.when, &all_slots, &kk.key("when"))?;
        let reason = cx
            .required(&rk.reason, &kk.key("reason"))?
            .trim()
            .to_owned();
        if reason.is_empty() {
            return Err(cx.invalid(&kk.key("reason"), "say why (it goes into the report)"));
        }
        if let Some(term) = check_text(&reason) {
            return Err(cx.protected(&kk.key("reason"), term));
        }
        knockouts.push(Knockout { when, reason });
    }

    let rubric = rq
        .rubric
        .as_ref()
        .map(|r| rubric(cx, r, langs, &all_slots, &key.key("rubric")))
        .transpose()?;

    Ok(Question {
        id,
        prompt,
        slots,
        asr_prompt,
        reprompt_no_input,
        reprompt_no_match,
        max_retries,
        barge_in: rq.barge_in.unwrap_or(script_barge_in),
        endpointing,
        followups,
        knockouts,
        rubric,
    })
}

fn rubric(cx: &Ctx, r: &RawRubric, langs: &[Lang], slots: &[SlotKind], key: &KeyPath) -> R<Rubric> {
    let weight = r.weight.unwrap_or(1.0);
    if !(weight.is_finite() && weight > 0.0) {
        return Err(cx.invalid(
            &key.key("weight"),
            format!("{weight}: the weight must be > 0"),
        ));
    }
    let mut tiers = Vec::new();
    for (i, t) in r.tiers.iter().enumerate() {
        let tk = key.key("tiers").index(i);
        tiers.push(Tier {
            when: cx.condition(&t.when, slots, &tk.key("when"))?,
            points: cx.points(t.points, &tk.key("points"))?,
        });
    }
    let skills = match &r.skills {
        None => None,
        Some(s) => {
            let sk = key.key("skills");
            if !slots.contains(&SlotKind::Skills) {
                return Err(cx.invalid(
                    &sk,
                    "scores skills but the question does not ask for the skills slot",
                ));
            }
            if s.required.is_empty() {
                return Err(cx.invalid(&sk.key("required"), "list the skills that earn points"));
            }
            let mut required: Vec<String> = Vec::new();
            for (i, id) in s.required.iter().enumerate() {
                let ik = sk.key("required").index(i);
                if let Some(term) = check_term(id) {
                    return Err(cx.protected(&ik, term));
                }
                let id = cx.skill(id, &ik)?;
                if required.contains(&id) {
                    return Err(cx.invalid(&ik, format!("{id} is listed twice")));
                }
                required.push(id);
            }
            Some(SkillRule {
                required,
                points_each: cx.points(s.points_each, &sk.key("points_each"))?,
            })
        }
    };
    let similarity = match &r.similarity {
        None => None,
        Some(s) => {
            let sk = key.key("similarity");
            let reference = cx.per_lang(&s.reference, langs, &sk.key("reference"))?;
            let mut keywords = PerLang::default();
            if let Some(k) = &s.keywords {
                for (lang, list) in [(Lang::En, &k.en), (Lang::Zh, &k.zh)] {
                    let Some(list) = list else { continue };
                    let lk = sk.key("keywords").key(lang.code());
                    let mut out = Vec::new();
                    for (i, word) in list.iter().enumerate() {
                        let w = word.trim().to_lowercase();
                        if w.is_empty() {
                            return Err(cx.invalid(&lk.index(i), "empty keyword"));
                        }
                        if let Some(term) = check_term(&w) {
                            return Err(cx.protected(&lk.index(i), term));
                        }
                        out.push(w);
                    }
                    match lang {
                        Lang::En => keywords.en = Some(out),
                        Lang::Zh => keywords.zh = Some(out),
                    }
                }
            }
            let floor = s.floor.unwrap_or(0.2);
            let full = s.full.unwrap_or(0.7);
            if !(0.0..1.0).contains(&floor) || !(floor < full && full <= 1.0) {
                return Err(cx.invalid(
                    &sk.key("full"),
                    format!("need 0 ≤ floor ({floor}) < full ({full}) ≤ 1"),
                ));
            }
            let keywords_full = s.keywords_full.unwrap_or(0.5);
            if !(keywords_full > 0.0 && keywords_full <= 1.0) {
                return Err(cx.invalid(&sk.key("keywords_full"), "a share of keywords in (0, 1]"));
            }
            Some(SimilarityRule {
                points: cx.points(s.points, &sk.key("points"))?,
                reference,
                keywords,
                floor,
                full,
                keywords_full,
            })
        }
    };
    let rubric = Rubric {
        weight,
        tiers,
        skills,
        similarity,
    };
    if rubric.max_points() <= 0.0 {
        return Err(cx.invalid(
            key,
            "the rubric gives no points (add tiers, skills or similarity)",
        ));
    }
    Ok(rubric)
}
