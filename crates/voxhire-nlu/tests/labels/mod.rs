//! The label syntax of the NLU test sets (tests/data/nlu_*.tsv) and of the
//! held-out speech set (tests/speech/heldout/MANIFEST.tsv): expected slot kinds,
//! intents, and slot values (`years_experience=4.5;skills=react|vue`, `*` for
//! any value), and whether an understanding has the labelled value.
//! Shared by nlu_accuracy.rs and the root package's held-out benchmark.
#![allow(dead_code)]

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveDateTime};
use voxhire_nlu::{Intent, SlotKind, SlotValue, Understanding};

pub fn parse_intent(s: &str) -> Intent {
    match s {
        "yes" => Intent::Yes,
        "no" => Intent::No,
        "repeat" => Intent::Repeat,
        "reschedule" => Intent::Reschedule,
        "opt_out" => Intent::OptOut,
        "answer" => Intent::Answer,
        "unclear" => Intent::Unclear,
        other => panic!("unknown intent {other:?}"),
    }
}

/// Expected slot kinds: a comma list or `-`; `at` names the line in panics.
pub fn parse_expected(col: &str, at: &str) -> Vec<SlotKind> {
    if col == "-" {
        return Vec::new();
    }
    col.split(',')
        .map(|k| k.parse().unwrap_or_else(|e| panic!("{at}: {e}")))
        .collect()
}

/// Labelled slots: `kind=value;…` or `-`.
pub fn parse_slots(col: &str, at: &str) -> Vec<(SlotKind, String)> {
    if col == "-" {
        return Vec::new();
    }
    col.split(';')
        .map(|kv| {
            let (k, v) = kv
                .split_once('=')
                .unwrap_or_else(|| panic!("{at}: slot {kv:?}"));
            let kind: SlotKind = k.parse().unwrap_or_else(|e| panic!("{at}: {e}"));
            (kind, v.to_string())
        })
        .collect()
}

/// Whether the understanding has slot `kind` with the annotated value.
pub fn slot_matches(u: &Understanding, kind: SlotKind, want: &str) -> Result<(), String> {
    let Some(slot) = u.slot(kind) else {
        return Err("missing".into());
    };
    if want == "*" {
        return Ok(());
    }
    let ok = match &slot.value {
        SlotValue::Years { years } => want.parse::<f32>().is_ok_and(|w| (w - years).abs() < 0.01),
        SlotValue::Skills { skills } => {
            let got: BTreeSet<&str> = skills.iter().map(String::as_str).collect();
            let want: BTreeSet<&str> = want.split('|').collect();
            got == want
        }
        SlotValue::Money { amount, .. } => want.parse::<u64>().is_ok_and(|w| w == *amount),
        SlotValue::Date { date } => want.parse::<NaiveDate>().is_ok_and(|w| w == *date),
        SlotValue::Days { days } => want.parse::<u32>().is_ok_and(|w| w == *days),
        SlotValue::DateTime { at } => {
            NaiveDateTime::parse_from_str(want, "%Y-%m-%dT%H:%M").is_ok_and(|w| w == *at)
        }
        SlotValue::Text { text } => !text.is_empty(),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("got {:?}", slot.value))
    }
}
