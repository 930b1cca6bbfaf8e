//! `voxhire prompts warm SCRIPT...`: synthesise every fixed line of interview
//! scripts into the on-disk prompt cache ahead of a campaign, so no call waits
//! for the TTS (the Mandarin voice renders slower than real time on a small
//! machine: a script's lines take minutes the first time, milliseconds after).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use voxhire_dialog::InterviewScript;
use voxhire_speech::models::ModelDir;
use voxhire_speech::tts::Tts;

use voxhire_engine::interview::fixed_lines;
use voxhire_engine::interview::prompt_store::PromptStore;

#[derive(clap::Subcommand)]
pub enum PromptsCommand {
    /// Synthesise the scripts' fixed lines (every language each offers) into the
    /// prompt cache ($VOXHIRE_PROMPT_CACHE, default ~/.cache/voxhire/prompts).
    Warm {
        /// Interview scripts (TOML).
        #[arg(required = true)]
        scripts: Vec<PathBuf>,
    },
}

pub fn run(cmd: PromptsCommand) -> Result<()> {
    let PromptsCommand::Warm { scripts } = cmd;
    let scripts: Vec<Arc<InterviewScript>> = scripts
        .iter()
        .map(|p| {
            InterviewScript::load(p)
                .map(Arc::new)
                .with_context(|| format!("loading the interview script {}", p.display()))
        })
        .collect::<Result<_>>()?;
    let mut langs: Vec<_> = scripts
        .iter()
        .flat_map(|s| s.languages().iter().copied())
        .collect();
    langs.sort();
    langs.dedup();
    let models = ModelDir::locate();
    let threads = super::tuning_from_env()?
        .tts_threads
        .unwrap_or_else(voxhire_speech::tts::default_threads);
    let tts =
        Tts::load_langs_with_threads(&models, &langs, threads).context("loading the TTS voices")?;
    let store = PromptStore::locate();
    let (mut made, mut kept) = (0usize, 0usize);
    for script in &scripts {
        for &lang in script.languages() {
            let voice = tts.voice(lang)?;
            let lines = fixed_lines(script, lang);
            for (i, line) in lines.iter().enumerate() {
                let started = Instant::now();
                let (audio, synthesised) = store
                    .load_or_synthesize(voice, line)
                    .with_context(|| format!("synthesising {line:?}"))?;
                if !synthesised {
                    kept += 1;
                    continue;
                }
                made += 1;
                eprintln!(
                    "[{}/{}] {} {lang}: {:.1} s of audio in {:.1} s",
                    i + 1,
                    lines.len(),
                    script.id(),
                    audio.len() as f64 / f64::from(voxhire_media::PCM_RATE),
                    started.elapsed().as_secs_f64()
                );
            }
        }
    }
    println!("prompts: {made} synthesised, {kept} already cached");
    Ok(())
}
