//! Thousands of random calls (a seeded generator, so failures replay): the
//! dialog never panics, never arms a timer once finished, always says something
//! before it listens, and every call ends with a report that serialises.

mod common;

use std::collections::BTreeSet;

use common::*;
use voxhire_dialog::interview::ConfirmOutcome;
use voxhire_dialog::{Action, Input, Status};
use voxhire_nlu::{Intent, Lang};

/// xorshift64*: small, deterministic, good enough to pick inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Mostly cooperative candidates, so that some calls get to the end.
fn intent(rng: &mut Rng) -> Intent {
    match rng.below(40) {
        0 => Intent::OptOut,
        1 => Intent::Reschedule,
        2 | 3 => Intent::Repeat,
        4 | 5 => Intent::No,
        6..=8 => Intent::Unclear,
        9..=20 => Intent::Yes,
        _ => Intent::Answer,
    }
}

fn random_call(
    seed: u64,
    script_name: &str,
    lang: Lang,
    outcomes: &mut BTreeSet<&'static str>,
) -> Status {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let name = (rng.below(2) == 0).then_some("Sam");
    let (mut call, first) = Call::answered(script_name, lang, name);
    let mut batch = first;
    let mut keypad = false;
    for _ in 0..200 {
        if listening(&batch).is_some() {
            // At a key-in step the candidate mostly presses keys.
            keypad = said(&batch).iter().any(|s| s.starts_with("key_in."));
        }
        // Whenever the dialog listens, it has just said what it listens for.
        if batch.iter().any(|a| matches!(a, Action::Listen { .. })) {
            assert!(
                !said(&batch).is_empty(),
                "seed {seed}: Listen without a Say: {batch:?}"
            );
        }
        if call.iv.is_finished() {
            assert_eq!(call.iv.poll_timeout(), None, "seed {seed}");
            break;
        }
        let fired = call.wait(rng.below(3000));
        if !fired.is_empty() || call.iv.is_finished() {
            batch = fired;
            continue;
        }
        if keypad && rng.below(2) == 0 {
            batch = call.input(Input::Dtmf(['1', '5', '0', '#'][rng.below(4) as usize]));
            continue;
        }
        batch = match rng.below(9) {
            0 => call.input(Input::SpeechStarted),
            1 | 2 => call.input(Input::PlaybackFinished),
            3 => call.input(Input::Dtmf(
                ['1', '2', '5', '#', '0', '*', '9'][rng.below(7) as usize],
            )),
            4 => match call.iv.poll_timeout() {
                Some(_) => call.silence(),
                None => call.input(Input::PlaybackFinished),
            },
            5 if rng.below(20) == 0 => call.input(Input::HangUp),
            _ => {
                let intent = intent(&mut rng);
                let slots = match rng.below(7) {
                    0 => vec![years(rng.below(12) as f32)],
                    1 => vec![skills(
                        &["kubernetes", "react", "kafka"][..1 + rng.below(3) as usize],
                    )],
                    2 => vec![money(5_000 + rng.below(40) * 1_000, "USD")],
                    3 => vec![notice_days(rng.below(90) as u32)],
                    4 => vec![callback(local(2026, 11, 27, 10, 0))],
                    5 => vec![start_date(2026, 12, 1)],
                    6 if rng.below(2) == 0 => vec![years(6.0), start_date(2026, 12, 1)],
                    _ => vec![],
                };
                // Sometimes Whisper was unsure: values get read back.
                call.asr_confidence = [0.9, 0.3][rng.below(2) as usize];
                call.reply("some words the candidate said", intent, slots)
            }
        };
    }
    if !call.iv.is_finished() {
        call.input(Input::HangUp);
    }
    assert!(call.iv.is_finished(), "seed {seed}");
    let report = call.iv.finish(None);
    assert!(
        (0.0..=100.0).contains(&report.score),
        "seed {seed}: {}",
        report.score
    );
    serde_json::to_string(&report).expect("report serialises");
    for q in &report.questions {
        for c in &q.confirmations {
            outcomes.insert(match c.outcome {
                ConfirmOutcome::Confirmed => "confirmed",
                ConfirmOutcome::Corrected => "corrected",
                ConfirmOutcome::Keyed => "keyed",
                ConfirmOutcome::Rejected => "rejected",
                ConfirmOutcome::Unconfirmed => "unconfirmed",
            });
        }
    }
    report.status
}

#[test]
fn random_calls_never_wedge_or_panic() {
    let mut statuses = BTreeSet::new();
    let mut outcomes = BTreeSet::new();
    for seed in 0..1000 {
        let en = random_call(
            seed,
            "interview-java-backend.en.toml",
            Lang::En,
            &mut outcomes,
        );
        statuses.insert(en.name());
        let zh = random_call(seed, "interview-frontend.zh.toml", Lang::Zh, &mut outcomes);
        statuses.insert(zh.name());
    }
    // Every way a read-back can end was reached.
    assert_eq!(
        outcomes.into_iter().collect::<Vec<_>>(),
        ["confirmed", "corrected", "keyed", "rejected", "unconfirmed"]
    );
    // The generator reaches the interesting endings, so the checks above ran on them.
    for s in [
        "opted_out",
        "rescheduled",
        "declined_consent",
        "hung_up",
        "completed",
        "knocked_out",
    ] {
        assert!(
            statuses.contains(s),
            "no random call ended {s}: {statuses:?}"
        );
    }
}
