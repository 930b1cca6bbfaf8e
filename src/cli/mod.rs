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
        asr_solo_threads: env_number("VOXHIRE_ASR_SOLO_THREADS")?,
        asr_audio_ctx_pad: env_number("VOXHIRE_ASR_AUDIO_CTX_PAD")?,
        tts_threads: env_number("VOXHIRE_TTS_THREADS")?,
        partial_ms: env_number("VOXHIRE_PARTIAL_MS")?,
        voice_end_trim_ms: env_number("VOXHIRE_VOICE_END_TRIM_MS")?,
        pause_ms: env_number("VOXHIRE_PAUSE_MS")?,
        asr_hotwords: env_number::<u8>("VOXHIRE_ASR_HOTWORDS")?.map(|n| n != 0),
        open_silence_ms: env_number("VOXHIRE_OPEN_SILENCE_MS")?,
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
    // A padding or a trim may be 0 (none); a count of threads or a period not.
    let zero_ok = [
        "VOXHIRE_ASR_AUDIO_CTX_PAD",
        "VOXHIRE_VOICE_END_TRIM_MS",
        "VOXHIRE_ASR_HOTWORDS",
        "VOXHIRE_OPEN_SILENCE_MS",
    ];
    if !zero_ok.contains(&name) && n <= T::default() {
        anyhow::bail!("{name}={raw:?} must be at least 1");
    }
    Ok(Some(n))
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM. The handlers are installed when
/// this is called, not when the future is first polled: call it before
/// telling anyone we are up, or a signal sent at once kills the process.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        match (term, int) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}
