//! A virtual-clock harness: the scheduler plus a fake call engine whose
//! calls last a scripted time and end with a scripted outcome.
#![allow(dead_code)]

use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};
use voxhire_campaign::{
    parse_candidates, AttemptOutcome, AttemptRecord, CampaignConfig, Candidate, Dial,
    DoNotCallList, Scheduler,
};

pub fn t(s: &str) -> DateTime<Utc> {
    s.parse().expect("test timestamp")
}

/// A campaign with the required keys plus `extra` (top-level keys first,
/// then tables).
pub fn config(extra: &str) -> CampaignConfig {
    let text = format!("name = \"test\"\nscript = \"s.toml\"\ncandidates = \"c.csv\"\n{extra}");
    CampaignConfig::parse(&text, Path::new("campaign.toml")).expect("test config is valid")
}

/// Candidates `(id, uri, timezone)`, all English.
pub fn candidates(rows: &[(&str, &str, &str)]) -> Vec<Candidate> {
    let mut csv = String::from("id,name,uri,language,timezone\n");
    for (id, uri, tz) in rows {
        csv.push_str(&format!("{id},Person {id},{uri},en,{tz}\n"));
    }
    parse_candidates(
        &csv,
        Path::new("c.csv"),
        voxhire_campaign::Language::En,
        None,
    )
    .expect("test csv is valid")
}

/// `n` local candidates `c1…cn` in UTC.
pub fn local(n: usize) -> Vec<Candidate> {
    let rows: Vec<(String, String)> = (1..=n)
        .map(|i| (format!("c{i}"), format!("sip:c{i}@127.0.0.1:5090")))
        .collect();
    let refs: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|(id, uri)| (id.as_str(), uri.as_str(), "UTC"))
        .collect();
    candidates(&refs)
}

pub fn scheduler(
    config: CampaignConfig,
    candidates: Vec<Candidate>,
    dnc: DoNotCallList,
    prior: &[AttemptRecord],
    now: DateTime<Utc>,
) -> Scheduler {
    Scheduler::new(config, candidates, dnc, prior, now).expect("scheduler")
}

/// One dial as the fake engine saw it.
#[derive(Debug, Clone)]
pub struct Placed {
    pub at: DateTime<Utc>,
    pub candidate_id: String,
    pub attempt_no: u32,
    pub in_flight_after: usize,
}

/// Runs the campaign to the end (or `limit`) on a virtual clock. `engine`
/// decides each call's length and outcome from the dial.
pub fn run(
    sched: &mut Scheduler,
    mut now: DateTime<Utc>,
    limit: DateTime<Utc>,
    mut engine: impl FnMut(&Dial) -> (TimeDelta, AttemptOutcome),
) -> Vec<Placed> {
    let mut placed = Vec::new();
    let mut calls: Vec<(DateTime<Utc>, String, AttemptOutcome)> = Vec::new();
    while !sched.is_finished() && now <= limit {
        while let Some(dial) = sched.poll_dial(now) {
            let (length, outcome) = engine(&dial);
            placed.push(Placed {
                at: now,
                candidate_id: dial.candidate.id.clone(),
                attempt_no: dial.attempt_no,
                in_flight_after: sched.in_flight(),
            });
            calls.push((now + length, dial.candidate.id.clone(), outcome));
        }
        let next_end = calls.iter().map(|c| c.0).min();
        let wake = match (sched.poll_timeout(), next_end) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => match a.or(b) {
                Some(w) => w,
                None => break,
            },
        };
        assert!(
            wake >= now,
            "poll_timeout went back in time: {wake} < {now}"
        );
        // A timeout equal to now with nothing dialled would spin forever.
        now = if wake == now && next_end != Some(now) {
            panic!("scheduler says something is due at {now} but poll_dial gave nothing")
        } else {
            wake
        };
        let (ended, running): (Vec<_>, Vec<_>) = calls.into_iter().partition(|c| c.0 <= now);
        calls = running;
        for (_, id, outcome) in ended {
            sched
                .handle_result(&id, outcome, now)
                .expect("call was in flight");
        }
    }
    placed
}

pub fn completed(score: f64) -> AttemptOutcome {
    AttemptOutcome::Completed {
        score: Some(score),
        recommendation: Some("advance".into()),
    }
}
