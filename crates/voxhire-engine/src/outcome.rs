//! How an outbound call ended, SIP-wise: one classification for every front
//! door (`voxhire call`, interview calls, campaigns), so that a decline, a busy
//! line, a call nobody picked up and a broken trunk are told apart the same way
//! everywhere.

use serde::Serialize;

/// How the call went, SIP-wise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// Answered (for an interview call, the report says how the interview ended).
    Answered,
    /// Answered by a voicemail (answering-machine detection was on).
    Voicemail,
    /// 486 Busy Here, 600 Busy Everywhere.
    Busy,
    /// Rang out: our ring timeout (CANCEL → 487), 480 Temporarily Unavailable,
    /// or a 408 after we cancelled.
    NoAnswer,
    /// The callee's side refused the call: 403, 603 Decline, 607 Unwanted and
    /// every other 4xx/6xx final response not listed above (404, 484, 604: a
    /// number that does not exist is refused, not broken).
    Rejected,
    /// The trunk or the network failed: 5xx, a 408 we did not cause, a 3xx
    /// redirect (not followed: the route is wrong), no usable SDP.
    Failed,
    /// We were told to stop (Ctrl-C, shutdown) before or during the call.
    Cancelled,
}

impl CallOutcome {
    /// The stable snake_case name used in JSON lines and logs.
    pub fn name(self) -> &'static str {
        match self {
            CallOutcome::Answered => "answered",
            CallOutcome::Voicemail => "voicemail",
            CallOutcome::Busy => "busy",
            CallOutcome::NoAnswer => "no_answer",
            CallOutcome::Rejected => "rejected",
            CallOutcome::Failed => "failed",
            CallOutcome::Cancelled => "cancelled",
        }
    }

    /// Classifies a final failure response to our INVITE. `ring_timed_out`: we
    /// sent CANCEL because nobody answered in time; `stopped`: we were told to
    /// stop (so a 487 is our own doing, not the callee's).
    pub fn of_failure(code: u16, ring_timed_out: bool, stopped: bool) -> CallOutcome {
        match code {
            486 | 600 => CallOutcome::Busy,
            487 if stopped => CallOutcome::Cancelled,
            487 | 408 if ring_timed_out => CallOutcome::NoAnswer,
            480 => CallOutcome::NoAnswer,
            // A 487 we did not ask for: the far end gave up the transaction.
            487 => CallOutcome::Cancelled,
            _ if stopped => CallOutcome::Cancelled,
            408 | 500..=599 => CallOutcome::Failed,
            400..=499 | 600..=699 => CallOutcome::Rejected,
            _ => CallOutcome::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CallOutcome::{self, *};

    #[test]
    fn failures_are_told_apart() {
        let cases: [(u16, bool, bool, CallOutcome); 16] = [
            (486, false, false, Busy),
            (600, false, false, Busy),
            (480, false, false, NoAnswer),
            (487, true, false, NoAnswer),
            (408, true, false, NoAnswer),
            (487, false, true, Cancelled),
            (487, true, true, Cancelled),
            (487, false, false, Cancelled),
            (503, false, true, Cancelled),
            (408, false, false, Failed),
            (500, false, false, Failed),
            (503, false, false, Failed),
            (603, false, false, Rejected),
            (403, false, false, Rejected),
            (404, false, false, Rejected),
            (607, false, false, Rejected),
        ];
        for (code, timed_out, stopped, want) in cases {
            assert_eq!(
                CallOutcome::of_failure(code, timed_out, stopped),
                want,
                "{code} timed_out={timed_out} stopped={stopped}"
            );
        }
    }

    #[test]
    fn names_match_the_serialised_form() {
        for o in [
            Answered, Voicemail, Busy, NoAnswer, Rejected, Failed, Cancelled,
        ] {
            assert_eq!(
                serde_json::to_string(&o).unwrap(),
                format!("\"{}\"", o.name())
            );
        }
    }
}
