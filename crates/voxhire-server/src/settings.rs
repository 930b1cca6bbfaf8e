//! A job's campaign settings as the API takes them: when candidates may be
//! called, how often an unanswered call is retried, how long a phone rings.
//! Checked by the same rules as a campaign file's `[calling_window]` and
//! `[retry]` ([`CallingWindow::from_parts`], [`RetryPolicy::from_parts`]).

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use voxhire_campaign::{
    AnsweringMachine, CallingWindow, MachineAction, RetryField, RetryPolicy, WindowField,
};

use crate::error::ApiError;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignSettings {
    /// The candidate's local days and hours; default: any time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calling_window: Option<WindowSettings>,
    /// Default: 3 calls, 60 s then 300 s apart, on busy, no answer and failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetrySettings>,
    /// How long a phone rings before the attempt counts as unanswered
    /// (5–300 s; default 25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_timeout_secs: Option<i64>,
    /// The least time between two dials (0–3 600 000 ms; default 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_gap_ms: Option<i64>,
    /// Answering-machine detection: listen (up to 3 s) before the interview
    /// starts, and hang up on a voicemail or leave it a message. Default: off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answering_machine: Option<AnsweringMachineSettings>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnsweringMachineSettings {
    /// `hang_up` (default; the attempt ends as `voicemail`, retried as
    /// `retry.on` says) or `leave_message` (after the beep).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_machine: Option<String>,
    /// The message to leave (1–500 characters); default: a short generic one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowSettings {
    /// `mon` … `sun`.
    pub days: Vec<String>,
    /// Local `HH:MM`.
    pub start: String,
    pub end: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrySettings {
    pub max_attempts: i64,
    /// The wait before each retry; the last repeats.
    pub backoff_secs: Vec<i64>,
    /// `busy`, `no_answer`, `voicemail`, `rejected`, `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<Vec<String>>,
}

/// The settings, checked and in the campaign runner's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub calling_window: CallingWindow,
    pub retry: RetryPolicy,
    pub ring_timeout: TimeDelta,
    pub min_gap: TimeDelta,
    pub answering_machine: Option<AnsweringMachine>,
}

impl CampaignSettings {
    /// Checks every setting; an error names the field (`campaign.retry.on[1]`).
    pub fn check(&self) -> Result<Checked, ApiError> {
        let calling_window = match &self.calling_window {
            None => CallingWindow::always(),
            Some(w) => CallingWindow::from_parts(&w.days, &w.start, &w.end).map_err(
                |(field, message)| {
                    let field = match field {
                        WindowField::Day(i) => format!("campaign.calling_window.days[{i}]"),
                        WindowField::Days => "campaign.calling_window.days".into(),
                        WindowField::Start => "campaign.calling_window.start".into(),
                        WindowField::End => "campaign.calling_window.end".into(),
                    };
                    ApiError::invalid(&field, message)
                },
            )?,
        };
        let retry = match &self.retry {
            None => RetryPolicy::from_parts::<&str>(3, &[60, 300], None)
                .expect("the default retry policy is valid"),
            Some(r) => RetryPolicy::from_parts(r.max_attempts, &r.backoff_secs, r.on.as_deref())
                .map_err(|(field, message)| {
                    let field = match field {
                        RetryField::MaxAttempts => "campaign.retry.max_attempts".into(),
                        RetryField::BackoffSecs => "campaign.retry.backoff_secs".into(),
                        RetryField::On(i) => format!("campaign.retry.on[{i}]"),
                    };
                    ApiError::invalid(&field, message)
                })?,
        };
        let ring = self.ring_timeout_secs.unwrap_or(25);
        if !(5..=300).contains(&ring) {
            return Err(ApiError::invalid(
                "campaign.ring_timeout_secs",
                format!("{ring} is not between 5 and 300"),
            ));
        }
        let gap = self.min_gap_ms.unwrap_or(500);
        if !(0..=3_600_000).contains(&gap) {
            return Err(ApiError::invalid(
                "campaign.min_gap_ms",
                format!("{gap} is not between 0 and 3600000"),
            ));
        }
        let answering_machine = match &self.answering_machine {
            None => None,
            Some(a) => {
                let on_machine = match a.on_machine.as_deref() {
                    None => MachineAction::HangUp,
                    Some(s) => MachineAction::parse(s).ok_or_else(|| {
                        ApiError::invalid(
                            "campaign.answering_machine.on_machine",
                            format!("{s:?} is not hang_up or leave_message"),
                        )
                    })?,
                };
                let message = match &a.message {
                    Some(m) if m.trim().is_empty() || m.chars().count() > 500 => {
                        return Err(ApiError::invalid(
                            "campaign.answering_machine.message",
                            "must be 1-500 characters".to_owned(),
                        ))
                    }
                    m => m.as_ref().map(|m| m.trim().to_owned()),
                };
                Some(AnsweringMachine {
                    on_machine,
                    message,
                })
            }
        };
        Ok(Checked {
            calling_window,
            retry,
            ring_timeout: TimeDelta::seconds(ring),
            min_gap: TimeDelta::milliseconds(gap),
            answering_machine,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: serde_json::Value) -> CampaignSettings {
        serde_json::from_value(v).expect("settings JSON")
    }

    #[test]
    fn no_settings_mean_any_time_three_calls() {
        let c = CampaignSettings::default().check().unwrap();
        assert_eq!(c.calling_window, CallingWindow::always());
        assert_eq!(c.retry.max_attempts, 3);
        assert_eq!(
            c.retry.backoff,
            [TimeDelta::seconds(60), TimeDelta::seconds(300)]
        );
        assert!(c.retry.on_busy && c.retry.on_no_answer && !c.retry.on_rejected);
        assert_eq!(c.ring_timeout, TimeDelta::seconds(25));
    }

    #[test]
    fn a_window_and_a_retry_policy_are_taken_as_written() {
        let c = parse(serde_json::json!({
            "calling_window": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:30", "end": "18:00"},
            "retry": {"max_attempts": 2, "backoff_secs": [900], "on": ["no_answer"]},
            "ring_timeout_secs": 30,
            "min_gap_ms": 2000,
        }))
        .check()
        .unwrap();
        assert_eq!(
            c.calling_window.days,
            [true, true, true, true, true, false, false]
        );
        assert_eq!(
            (c.calling_window.start_secs, c.calling_window.end_secs),
            (9 * 3600 + 1800, 18 * 3600)
        );
        assert_eq!(c.retry.max_attempts, 2);
        assert!(c.retry.on_no_answer && !c.retry.on_busy && !c.retry.on_failed);
        assert_eq!(c.min_gap, TimeDelta::seconds(2));
    }

    #[test]
    fn answering_machine_detection_is_off_unless_asked_for() {
        assert_eq!(
            CampaignSettings::default()
                .check()
                .unwrap()
                .answering_machine,
            None
        );
        let c = parse(serde_json::json!({
            "answering_machine": {"on_machine": "leave_message", "message": "Call us back."},
        }))
        .check()
        .unwrap();
        assert_eq!(
            c.answering_machine,
            Some(AnsweringMachine {
                on_machine: MachineAction::LeaveMessage,
                message: Some("Call us back.".into()),
            })
        );
        assert!(c.retry.on_voicemail, "a voicemail is retried by default");
    }

    #[test]
    fn each_bad_setting_is_named() {
        let cases = [
            (
                serde_json::json!({"calling_window": {"days": ["mon", "funday"], "start": "09:00", "end": "17:00"}}),
                "campaign.calling_window.days[1]",
            ),
            (
                serde_json::json!({"calling_window": {"days": ["mon"], "start": "18:00", "end": "09:00"}}),
                "campaign.calling_window.end",
            ),
            (
                serde_json::json!({"calling_window": {"days": ["mon"], "start": "9am", "end": "17:00"}}),
                "campaign.calling_window.start",
            ),
            (
                serde_json::json!({"retry": {"max_attempts": 0, "backoff_secs": []}}),
                "campaign.retry.max_attempts",
            ),
            (
                serde_json::json!({"retry": {"max_attempts": 3, "backoff_secs": [60], "on": ["busy", "engaged"]}}),
                "campaign.retry.on[1]",
            ),
            (
                serde_json::json!({"ring_timeout_secs": 1}),
                "campaign.ring_timeout_secs",
            ),
            (serde_json::json!({"min_gap_ms": -5}), "campaign.min_gap_ms"),
            (
                serde_json::json!({"answering_machine": {"on_machine": "beep"}}),
                "campaign.answering_machine.on_machine",
            ),
            (
                serde_json::json!({"answering_machine": {"message": " "}}),
                "campaign.answering_machine.message",
            ),
        ];
        for (json, field) in cases {
            let e = parse(json.clone()).check().unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{json}: {}", e.message);
            assert_eq!(e.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        let r =
            serde_json::from_value::<CampaignSettings>(serde_json::json!({"calling_hours": "9-5"}));
        assert!(r.unwrap_err().to_string().contains("calling_hours"));
    }
}
