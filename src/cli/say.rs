//! `voxhire say`: synthesise text to a WAV file with the interview voices.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use voxhire_media::wav::{WavChannels, WavWriter};
use voxhire_speech::models::ModelDir;
use voxhire_speech::tts::{self, Lang, Tts};

#[derive(Args, Debug)]
pub struct SayArgs {
    /// The text to speak (several sentences are fine).
    pub text: String,
    /// Language of the text: `en` (Piper en_US-joe-medium) or `zh` (Kokoro zf_xiaoxiao).
    #[arg(long, default_value = "en")]
    pub lang: String,
    /// Where to write the WAV (16-bit mono); written to OUT.partial, then renamed.
    #[arg(short = 'o', long = "output", value_name = "OUT.wav")]
    pub output: PathBuf,
    /// Sample rate of the WAV in Hz. Default: the voice's own rate (22050 en,
    /// 24000 zh), the best quality; 8000 gives what a caller hears.
    #[arg(long, value_name = "HZ")]
    pub rate: Option<u32>,
}

pub fn run(args: SayArgs) -> Result<()> {
    if !args.text.chars().any(char::is_alphanumeric) {
        bail!("nothing to say: the text is empty");
    }
    let lang: Lang = args.lang.parse()?;
    if let Some(rate) = args.rate {
        if !(8000..=48000).contains(&rate) {
            bail!("--rate {rate}: choose a sample rate from 8000 to 48000 Hz");
        }
    }
    let models = ModelDir::locate();
    let threads = super::tuning_from_env()?
        .tts_threads
        .unwrap_or_else(voxhire_speech::tts::default_threads);
    let tts = Tts::load_langs_with_threads(&models, &[lang], threads)
        .with_context(|| format!("loading the {lang} voice from {}", models.root().display()))?;
    let voice = tts.voice(lang)?.clone();
    let rate = args.rate.unwrap_or(voice.sample_rate());

    // Open the output before synthesising, so a bad path fails in milliseconds.
    let mut out = OutputWav::create(&args.output, rate)?;
    let started = Instant::now();
    let mut first_audio_ms = None;
    let mut samples = 0usize;
    let mut speak = || -> Result<()> {
        for chunk in tts::synthesize_stream(Arc::clone(&voice), &args.text, rate)? {
            let chunk = chunk.with_context(|| format!("synthesising with {}", voice.name()))?;
            first_audio_ms.get_or_insert(started.elapsed().as_millis());
            samples += chunk.samples.len();
            out.write(&chunk.samples)?;
        }
        Ok(())
    };
    if let Err(e) = speak() {
        out.abandon();
        return Err(e);
    }
    let path = out.finish()?;
    let summary = serde_json::json!({
        "output": path.display().to_string(),
        "lang": lang.code(),
        "voice": voice.name(),
        "sample_rate": rate,
        "duration_ms": samples as u64 * 1000 / u64::from(rate),
        "first_audio_ms": first_audio_ms,
        "synthesis_ms": started.elapsed().as_millis(),
    });
    println!("{summary}");
    Ok(())
}

/// A WAV being written: voxhire-media's 8 kHz writer for phone audio, `hound` with
/// the same write-then-rename discipline for other rates.
enum OutputWav {
    Phone {
        writer: WavWriter,
        path: PathBuf,
    },
    Other {
        writer: hound::WavWriter<BufWriter<File>>,
        partial: PathBuf,
        path: PathBuf,
    },
}

impl OutputWav {
    fn create(path: &Path, rate: u32) -> Result<Self> {
        if path.is_dir() {
            bail!(
                "{}: is a directory; give a file name such as out.wav",
                path.display()
            );
        }
        if rate == voxhire_media::PCM_RATE {
            let writer = WavWriter::create(path, WavChannels::Mono)
                .with_context(|| format!("cannot write {}", path.display()))?;
            return Ok(OutputWav::Phone {
                writer,
                path: path.to_owned(),
            });
        }
        let partial = partial_path(path);
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(&partial, spec)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(OutputWav::Other {
            writer,
            partial,
            path: path.to_owned(),
        })
    }

    fn write(&mut self, samples: &[i16]) -> Result<()> {
        match self {
            OutputWav::Phone { writer, .. } => writer.write_mono(samples)?,
            OutputWav::Other {
                writer, partial, ..
            } => {
                for &s in samples {
                    writer
                        .write_sample(s)
                        .with_context(|| format!("writing {}", partial.display()))?;
                }
            }
        }
        Ok(())
    }

    /// Removes the partial file after a failure.
    fn abandon(self) {
        let partial = match self {
            OutputWav::Phone { writer, path } => {
                drop(writer);
                partial_path(&path)
            }
            OutputWav::Other {
                writer, partial, ..
            } => {
                drop(writer);
                partial
            }
        };
        let _ = std::fs::remove_file(partial);
    }

    fn finish(self) -> Result<PathBuf> {
        match self {
            OutputWav::Phone { writer, .. } => Ok(writer.finalize()?),
            OutputWav::Other {
                writer,
                partial,
                path,
            } => {
                writer
                    .finalize()
                    .with_context(|| format!("writing {}", partial.display()))?;
                File::open(&partial)
                    .and_then(|f| f.sync_all())
                    .with_context(|| format!("syncing {}", partial.display()))?;
                std::fs::rename(&partial, &path).with_context(|| {
                    format!("renaming {} to {}", partial.display(), path.display())
                })?;
                Ok(path)
            }
        }
    }
}

/// `OUT.wav.partial`, where both writers put the file until it is complete.
fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".partial");
    path.with_file_name(name)
}
