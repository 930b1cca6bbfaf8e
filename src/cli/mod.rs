//! The command line: one module per `voxhire` command, each a thin front door
//! onto the engine (`voxhire-engine`). No command uses another's types.

use anyhow::{Context, Result};
use voxhire_engine::interview::Tuning;

pub mod call;
pub mod campaign;
pub mod prompts;
pub mod say;
pub mod security;
pub mod serve;
pub mod server;
pub mod transcribe;

/// The speech stack's tuning from the environment, validated: a variable that
/// is set but not a positive number is an error naming it.
pub fn tuning_from_env() -> Result<Tuning> {
    Ok(Tuning {
        asr_threads: env_number("VOXHIRE_ASR_THREADS")?,
        asr_audio_ctx_pad: env_number("VOXHIRE_ASR_AUDIO_CTX_PAD")?,
        tts_threads: env_number("VOXHIRE_TTS_THREADS")?,
        partial_ms: env_number("VOXHIRE_PARTIAL_MS")?,
    })
}

fn env_number<T: std::str::FromStr + PartialOrd + Default>(name: &str) -> Result<Option<T>> {
    let Ok(raw) = std::env::var(name) else {
        return Ok(None);
    };
    let n: T = raw
        .trim()
        .parse()
        .ok()
        .with_context(|| format!("{name}={raw:?} is not a number"))?;
    if name != "VOXHIRE_ASR_AUDIO_CTX_PAD" && n <= T::default() {
        anyhow::bail!("{name}={raw:?} must be at least 1");
    }
    Ok(Some(n))
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
