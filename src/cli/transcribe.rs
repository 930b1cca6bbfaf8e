//! `voxhire transcribe FILE.wav [--lang auto|en|zh] [--json] [--prompt TEXT]
//! [--hotwords TERMS|skills]`: the call's ASR path run over a file.
//!
//! The file is split into utterances by the same Silero VAD and endpointer a call
//! uses (at 8 kHz), and each utterance is decoded from the file's audio at 16 kHz.
//! Splitting even short files, rather than decoding anything ≤ 30 s in one pass,
//! keeps every decode short and sized to its speech (fast), never feeds Whisper
//! long silences (where it hallucinates), gives segment times that mean something,
//! and lets a file of any length through. If the VAD finds no speech in a file of
//! at most 30 s, the whole file is decoded once anyway (quiet speech can escape the
//! VAD; Whisper's no-speech check and the hallucination filter still apply).
//!
//! Besides what `read_wav_mono` reads (PCM and float), G.711 WAV files (mu-law,
//! A-law) are accepted: call recordings often come that way.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;
use voxhire_speech::asr::{
    AsrConfig, AsrEngine, AsrModel, DecodeRequest, EnglishModel, Hotwords, Language, Segment,
    Transcript, ASR_RATE, MAX_AUDIO_MS,
};
use voxhire_speech::endpoint::{EndpointConfig, EndpointEvent, Endpointer};
use voxhire_speech::models::ModelDir;
use voxhire_speech::vad::{SileroVad, VadConfig, VadStream, VAD_RATE};

#[derive(Args, Debug)]
pub struct TranscribeArgs {
    /// WAV file: any sample rate, any channel count (downmixed), 8–32-bit PCM or float.
    pub file: PathBuf,
    /// Language spoken: auto (English or Mandarin), en or zh.
    #[arg(long, default_value = "auto")]
    pub lang: Language,
    /// Print one JSON object on one line:
    /// {"text","language","segments":[{"start_ms","end_ms","text","confidence"}],"decode_ms"}.
    #[arg(long)]
    pub json: bool,
    /// Expected vocabulary, given to Whisper as a prompt ("Java, Spring Cloud, Kubernetes").
    #[arg(long)]
    pub prompt: Option<String>,
    /// Terms made likelier while decoding, comma-separated ("React, Spring Cloud"), or
    /// `skills` for every name in the skills taxonomy (what a call boosts while the
    /// candidate answers a skills question).
    #[arg(long, value_name = "TERMS|skills")]
    pub hotwords: Option<String>,
}

/// The `--hotwords` list.
fn hotwords(arg: Option<&str>) -> Option<Hotwords> {
    let arg = arg?.trim();
    let terms = if arg == "skills" {
        voxhire_engine::interview::skill_hotwords()
    } else {
        Hotwords::new(arg.split([',', '，']))
    };
    (!terms.is_empty()).then_some(terms)
}

pub async fn run(args: TranscribeArgs) -> Result<()> {
    // Decoding blocks (worker threads and waits): keep it off the async runtime.
    let json = args.json;
    let result = tokio::task::spawn_blocking(move || transcribe(&args))
        .await
        .context("transcription task")??;
    if json {
        println!("{}", serde_json::to_string(&result)?);
    } else {
        println!("{}", result.text);
    }
    Ok(())
}

/// The `--json` line, fields in this order.
#[derive(Serialize)]
struct FileTranscript {
    text: String,
    language: String,
    segments: Vec<Segment>,
    /// Time spent decoding, summed over the utterances.
    decode_ms: u64,
}

fn transcribe(args: &TranscribeArgs) -> Result<FileTranscript> {
    let path = &args.file;
    // The WAV error names the file and the problem; flatten it into one message.
    let wideband = match voxhire_media::wav::read_wav_mono(path, ASR_RATE) {
        Ok(audio) => audio,
        Err(e) => match read_g711_wav(path)? {
            Some(audio) => audio,
            None => anyhow::bail!("cannot transcribe: {e}"),
        },
    };
    let phone = voxhire_media::resample::resample_i16(&wideband, ASR_RATE, VAD_RATE)
        .with_context(|| format!("{}: resampling to 8 kHz", path.display()))?;

    let models = ModelDir::locate();
    let utterances = split(&models, &phone)
        .with_context(|| format!("{}: voice activity detection", path.display()))?;
    let file_ms = wideband.len() as u64 * 1000 / u64::from(ASR_RATE);
    let spans: Vec<(u64, u64)> = if utterances.is_empty() && file_ms <= MAX_AUDIO_MS {
        vec![(0, file_ms)]
    } else {
        utterances
    };

    // Load only the model this language needs.
    let model = match args.lang {
        Language::En => AsrModel::TinyEn,
        Language::Zh | Language::Auto => AsrModel::Base,
    };
    let config = AsrConfig {
        only: Some(vec![model]),
        english_model: if model == AsrModel::TinyEn {
            EnglishModel::TinyEn
        } else {
            EnglishModel::Base
        },
        ..AsrConfig::default()
    };
    let engine = AsrEngine::load(&models, config).context("loading the Whisper model")?;

    let hotwords = hotwords(args.hotwords.as_deref());
    let to_index = |ms: u64| ((ms * u64::from(ASR_RATE) / 1000) as usize).min(wideband.len());
    let mut transcripts: Vec<(u64, u64, Transcript)> = Vec::new();
    for (start_ms, end_ms) in spans {
        let audio =
            voxhire_media::resample::to_f32(&wideband[to_index(start_ms)..to_index(end_ms)]);
        let t = engine
            .transcribe(DecodeRequest {
                audio,
                language: args.lang,
                prompt: args.prompt.clone(),
                hotwords: hotwords.clone(),
                offset_ms: start_ms,
            })
            .with_context(|| format!("{}: decoding {start_ms}–{end_ms} ms", path.display()))?;
        tracing::debug!(start_ms, end_ms, text = %t.text, decode_ms = t.decode_ms, suppressed = ?t.suppressed, "utterance");
        transcripts.push((start_ms, end_ms, t));
    }
    Ok(assemble(args.lang, transcripts))
}

/// Utterance spans (ms) found by the call's VAD and endpointer, with their pre-roll
/// and trailing silence, for a whole file.
fn split(models: &ModelDir, phone: &[i16]) -> Result<Vec<(u64, u64)>> {
    let vad = SileroVad::load_with_sessions(models, 1)?;
    let mut vad = VadStream::new(vad, VadConfig::default());
    let mut endpointer = Endpointer::new(EndpointConfig {
        // Offline: no partials; cut long monologues within Whisper's window.
        progress_ms: u32::MAX,
        max_utterance_ms: 25_000,
        ..EndpointConfig::default()
    });
    let mut spans = Vec::new();
    let mut take = |endpointer: &mut Endpointer| {
        while let Some(event) = endpointer.poll_event() {
            if let EndpointEvent::UtteranceEnded(u) = event {
                let start = u.audio_start;
                let end = start + Duration::from_micros(u.audio.len() as u64 * 125);
                spans.push((start.as_millis() as u64, end.as_millis() as u64));
            }
        }
    };
    // Trailing silence so an answer running to the end of the file still ends.
    let tail = vec![0i16; (VAD_RATE as usize) * 2];
    for chunk in phone.chunks(160).chain(tail.chunks(160)) {
        for frame in vad.push(chunk)? {
            endpointer.handle_frame(frame.is_speech, &frame.samples);
        }
        take(&mut endpointer);
    }
    endpointer.flush();
    take(&mut endpointer);
    Ok(spans)
}

fn assemble(requested: Language, transcripts: Vec<(u64, u64, Transcript)>) -> FileTranscript {
    let mut text = String::new();
    let mut segments = Vec::new();
    let mut decode_ms = 0;
    let (mut en_ms, mut zh_ms) = (0u64, 0u64);
    for (start_ms, end_ms, t) in transcripts {
        decode_ms += t.decode_ms;
        if t.text.is_empty() {
            continue;
        }
        match t.language {
            Language::Zh => zh_ms += end_ms - start_ms,
            _ => en_ms += end_ms - start_ms,
        }
        // Mandarin runs on without spaces; English words need one.
        let joins_without_space =
            t.language == Language::Zh && text.ends_with(|c: char| !c.is_ascii());
        if !text.is_empty() && !joins_without_space {
            text.push(' ');
        }
        text.push_str(&t.text);
        segments.extend(t.segments);
    }
    let language = if en_ms == 0 && zh_ms == 0 {
        requested
    } else if zh_ms > en_ms {
        Language::Zh
    } else {
        Language::En
    };
    FileTranscript {
        text,
        language: language.code().to_owned(),
        segments,
        decode_ms,
    }
}

/// G.711 WAV files (format 6 = A-law, 7 = mu-law: what many PBXs record), which
/// the PCM/float WAV reader does not take, as 16 kHz mono. `None` if the file is
/// not one.
fn read_g711_wav(path: &std::path::Path) -> Result<Option<Vec<i16>>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Ok(None);
    }
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let u32_at =
        |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let (mut format, mut channels, mut rate, mut data) = (None, 1u16, 0u32, None);
    let mut i = 12;
    while i + 8 <= bytes.len() {
        let id = &bytes[i..i + 4];
        let len = u32_at(i + 4) as usize;
        let body = i + 8;
        let end = body.saturating_add(len).min(bytes.len());
        if id == b"fmt " && len >= 16 && body + 16 <= bytes.len() {
            format = Some(u16_at(body));
            channels = u16_at(body + 2).max(1);
            rate = u32_at(body + 4);
        } else if id == b"data" {
            data = Some(&bytes[body..end]);
        }
        // Chunks are padded to an even length.
        i = body.saturating_add(len).saturating_add(len & 1);
    }
    let decode: fn(&[u8]) -> Vec<i16> = match format {
        Some(7) => voxhire_media::g711::decode_ulaw,
        Some(6) => voxhire_media::g711::decode_alaw,
        _ => return Ok(None),
    };
    let (Some(data), true) = (data, (4000..=192_000).contains(&rate)) else {
        anyhow::bail!(
            "cannot transcribe: {}: G.711 WAV without audio or with a bad sample rate",
            path.display()
        );
    };
    let samples = decode(data);
    let channels = usize::from(channels);
    let mono: Vec<f32> = samples
        .chunks_exact(channels)
        .map(|frame| frame.iter().map(|&s| f32::from(s) / 32768.0).sum::<f32>() / channels as f32)
        .collect();
    if mono.is_empty() {
        anyhow::bail!(
            "cannot transcribe: {}: WAV file holds no audio",
            path.display()
        );
    }
    let resampled = voxhire_media::resample::resample(&mono, rate, ASR_RATE)
        .with_context(|| format!("{}: resampling", path.display()))?;
    Ok(Some(voxhire_media::resample::to_i16(&resampled)))
}
