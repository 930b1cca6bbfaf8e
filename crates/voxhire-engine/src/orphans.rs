//! Calls a dead process left up. While a call is up its dialog is kept where
//! the next run will look ([`DialogKeeper`], given by the campaign's
//! [`crate::campaign_run::AttemptLog`]); the next run — or another node —
//! ends each such dialog with a BYE ([`end_orphans`]) before anyone is
//! redialled, as a carrier's switch would: otherwise the candidate's phone
//! stays in the dead call and the retry gets 486 Busy.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use anyhow::Result;
use voxhire_sip::dialog::{Dialog, DialogState};
use voxhire_sip::ua::Event;

use crate::interview_call::Outbound;

/// Writes an answered call's dialog down; called once per call, when the 2xx
/// arrives, and awaited before the interview goes on.
pub type DialogKeeper =
    Box<dyn FnOnce(DialogState) -> Pin<Box<dyn Future<Output = Result<()>> + Send>> + Send>;

/// A BYE's transaction gives up after Timer F (64·T1 = 32 s); a little more.
const BYE_WAIT: Duration = Duration::from_secs(35);

/// How ending one orphaned dialog went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrphanEnd {
    /// The BYE's transaction ended (a final response, whatever it was, or
    /// Timer F): the dialog is over as far as SIP can tell.
    Ended,
    /// The kept state did not parse back into a dialog.
    Unreadable,
    /// No event came back in time (the SIP task stopped).
    NoAnswer,
}

/// Sends a BYE for each dialog and waits (at most ~35 s) for each to end;
/// returns each Call-ID with how it went, in the order given.
pub async fn end_orphans(line: &Outbound, dialogs: Vec<DialogState>) -> Vec<(String, OrphanEnd)> {
    // All BYEs leave at once; their answers are awaited in the order given.
    let mut waits = Vec::new();
    for state in dialogs {
        let wait = match Dialog::from_state(&state) {
            None => tokio::spawn(async { OrphanEnd::Unreadable }),
            Some(dialog) => match line.sip.end_orphan(dialog).await {
                Err(_) => tokio::spawn(async { OrphanEnd::NoAnswer }),
                Ok(call) => {
                    let mut events = line.router.register(call);
                    let router = line.router.clone();
                    tokio::spawn(async move {
                        let ended = tokio::time::timeout(BYE_WAIT, async {
                            while let Some(ev) = events.recv().await {
                                if matches!(ev, Event::Ended { .. }) {
                                    return true;
                                }
                            }
                            false
                        })
                        .await;
                        router.forget(call);
                        match ended {
                            Ok(true) => OrphanEnd::Ended,
                            _ => OrphanEnd::NoAnswer,
                        }
                    })
                }
            },
        };
        waits.push((state.call_id, wait));
    }
    let mut out = Vec::with_capacity(waits.len());
    for (call_id, wait) in waits {
        out.push((call_id, wait.await.unwrap_or(OrphanEnd::NoAnswer)));
    }
    out
}

/// A dialog as a store keeps it: JSON, sealed under `keys` (bound to
/// `label`) when there are keys — the remote URI is the candidate's number.
pub fn seal_state(
    keys: Option<&voxhire_vault::Keyring>,
    label: &str,
    state: &DialogState,
) -> Vec<u8> {
    let json = serde_json::to_vec(state).expect("a DialogState always serialises");
    match keys {
        Some(k) => voxhire_vault::seal(k, label, &json),
        None => json,
    }
}

/// The dialog back from [`seal_state`]'s bytes.
pub fn open_state(
    keys: Option<&voxhire_vault::Keyring>,
    label: &str,
    bytes: &[u8],
) -> Result<DialogState> {
    use anyhow::Context;
    let json = if voxhire_vault::is_sealed(bytes) {
        let keys = keys.with_context(|| format!("{label} is sealed; give the master keys"))?;
        voxhire_vault::open(keys, label, bytes)
            .with_context(|| format!("opening {label}"))?
            .to_vec()
    } else {
        bytes.to_vec()
    };
    serde_json::from_slice(&json).with_context(|| format!("{label} is not a dialog"))
}
