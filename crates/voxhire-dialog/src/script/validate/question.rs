//! A question: its lines, slots, follow-ups, knockouts and rubric.

use std::collections::HashSet;

use voxhire_nlu::{Lang, SlotKind};

use super::super::error::KeyPath;
use super::super::model::*;
use super::super::protected::{check_term, check_text};
use super::super::raw::*;
use super::ctx::{Ctx, R};
use crate::io::EndpointSettings;

pub(super) fn question(
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
            if !((0.0..1.0).contains(&floor) && floor < full && full <= 1.0) {
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
