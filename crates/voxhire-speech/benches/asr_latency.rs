//! ASR latency table over the phone-band test set (tests/speech/asr/):
//!
//!     cargo bench -p voxhire-speech --bench asr_latency
//!     ASR_THREADS=2 ASR_WORKERS=1 cargo bench -p voxhire-speech --bench asr_latency
//!     ASR_AUDIO_CTX_PAD=128 ASR_STREAM_CLIPS=0 cargo bench -p voxhire-speech --bench asr_latency
//!
//! 1. Final decode: the whole utterance decoded after the endpoint, engine idle
//!    (what the candidate waits for without speculation): p50/p95 per language.
//! 2. Streaming, paced in real time through VAD + endpointer + StreamingRecognizer:
//!    final-result latency after the endpoint fires (with the speculative decode
//!    at the pause), and the real-time factor of partial decoding.
//!    Wall time and CPU time: with one thread per decode, CPU time is the wall time
//!    the decode would take on an idle core, a figure that survives a busy machine.
//! 3. Resident memory with the VAD and both Whisper models loaded.
//!
//! Figures depend on what else runs on the machine: run it when nothing builds.

use std::time::{Duration, Instant};

use voxhire_speech::asr::{
    phone_to_asr, AsrConfig, AsrEngine, DecodeRequest, Language, Recognition, StreamingRecognizer,
};
use voxhire_speech::endpoint::{EndpointConfig, Endpointer};
use voxhire_speech::models::ModelDir;
use voxhire_speech::vad::{SileroVad, VadConfig, VadStream};

struct Clip {
    language: Language,
    audio: Vec<i16>,
}

fn clips() -> Vec<Clip> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/speech/asr");
    let manifest =
        std::fs::read_to_string(format!("{dir}/MANIFEST.tsv")).expect("test set manifest");
    manifest
        .lines()
        .filter(|l| !l.starts_with('#') && !l.contains("espeak:"))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let bytes = std::fs::read(format!("{dir}/{}.ulaw", f[0])).expect("clip");
            Clip {
                language: f[1].parse().expect("language"),
                audio: voxhire_media::g711::decode_ulaw(&bytes),
            }
        })
        .collect()
}

/// Sorts, then the one percentile every voxhire figure uses.
fn percentile(values: &mut [f64], p: u32) -> f64 {
    voxhire_media::stats::sort_f64(values);
    voxhire_media::stats::percentile(values, p)
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU time of the whole process so far (all threads), from the scheduler's
/// accounting: a decode's CPU time is what its wall time would be on an idle core
/// (single-threaded decoding), whatever else the machine is running.
fn cpu_ms() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return f64::NAN;
    };
    let ns: u64 = tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    ns as f64 / 1e6
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.parse().ok()
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing: skip the
    // (minutes-long) measurement there.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let models = ModelDir::locate();
    let rss_before = rss_mb();
    let defaults = AsrConfig::default();
    let config = AsrConfig {
        workers: env_usize("ASR_WORKERS").unwrap_or(defaults.workers),
        threads_per_worker: env_usize("ASR_THREADS").unwrap_or(defaults.threads_per_worker),
        audio_ctx_pad: env_usize("ASR_AUDIO_CTX_PAD").map_or(defaults.audio_ctx_pad, |p| p as u32),
        ..defaults
    };
    println!(
        "ASR engine: {} worker(s) x {} thread(s), audio_ctx pad {}; load average {}",
        config.workers,
        config.threads_per_worker,
        config.audio_ctx_pad,
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    let t = Instant::now();
    let engine =
        AsrEngine::load(&models, config).expect("Whisper models (scripts/fetch-models.sh)");
    let vad_model = SileroVad::load(&models).expect("Silero VAD");
    println!(
        "loaded VAD + base + tiny.en (with warm-up) in {:.1} s; RSS {:.0} MB (before: {:.0} MB)",
        t.elapsed().as_secs_f64(),
        rss_mb(),
        rss_before
    );
    let clips = clips();

    // 1. Final decode of whole utterances, one at a time.
    println!("\n1. final decode, whole utterance, idle engine (ms)");
    println!(
        "{:<6} {:<8} {:>5} {:>7} {:>7} {:>7} {:>9} {:>9}",
        "lang", "model", "n", "p50", "p95", "max", "cpu p50", "cpu p95"
    );
    for language in [Language::En, Language::Zh] {
        let mut ms = Vec::new();
        let mut cpu = Vec::new();
        for c in clips.iter().filter(|c| c.language == language) {
            let request = DecodeRequest {
                audio: phone_to_asr(&c.audio).expect("resample"),
                language,
                prompt: None,
                hotwords: None,
                offset_ms: 0,
            };
            let (t, c0) = (Instant::now(), cpu_ms());
            engine.transcribe(request).expect("decode");
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
            cpu.push(cpu_ms() - c0);
        }
        let n = ms.len();
        println!(
            "{:<6} {:<8} {:>5} {:>7.0} {:>7.0} {:>7.0} {:>9.0} {:>9.0}",
            language.code(),
            engine.model_for(language).name(),
            n,
            percentile(&mut ms, 50),
            percentile(&mut ms, 95),
            percentile(&mut ms, 100),
            percentile(&mut cpu, 50),
            percentile(&mut cpu, 95)
        );
    }

    // 2. Streaming in real time.
    let per_language: usize = env_usize("ASR_STREAM_CLIPS").unwrap_or(6);
    println!("\n2. streaming, real-time paced ({per_language} clips per language)");
    println!(
        "{:<6} {:>5} {:>12} {:>12} {:>10} {:>9} {:>12}",
        "lang", "n", "final p50", "final p95", "specul.", "partials", "partial RTF"
    );
    for language in [Language::En, Language::Zh] {
        let mut latencies = Vec::new();
        let mut speculative = 0;
        let mut partials = 0;
        let mut partial_rtf = Vec::new();
        for c in clips
            .iter()
            .filter(|c| c.language == language)
            .take(per_language)
        {
            let mut vad = VadStream::new(vad_model.clone(), VadConfig::default());
            let mut endpointer = Endpointer::new(EndpointConfig::default());
            let mut asr = StreamingRecognizer::new(engine.clone(), language);
            let mut record = |r: Recognition| match r {
                Recognition::Partial(h) => {
                    partials += 1;
                    let audio_ms = (h.audio_end.saturating_sub(h.start)).as_millis().max(1) as f64;
                    partial_rtf.push(h.transcript.decode_ms as f64 / audio_ms);
                }
                Recognition::Final(f) => {
                    latencies.push(f.latency.as_secs_f64() * 1000.0);
                    speculative += usize::from(f.speculative);
                }
            };
            let start = Instant::now();
            for (i, frame) in c.audio.chunks(160).enumerate() {
                for f in vad.push(frame).expect("VAD") {
                    endpointer.handle_frame(f.is_speech, &f.samples);
                    while let Some(e) = endpointer.poll_event() {
                        asr.handle_event(&e).expect("ASR submit");
                    }
                }
                while let Some(r) = asr.poll_recognition() {
                    record(r.expect("ASR"));
                }
                let due = Duration::from_millis(20 * (i as u64 + 1));
                if let Some(wait) = due.checked_sub(start.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
            // Silence after the clip until the endpoint fires and the final is in.
            for _ in 0..50 {
                for f in vad.push(&[0i16; 160]).expect("VAD") {
                    endpointer.handle_frame(f.is_speech, &f.samples);
                    while let Some(e) = endpointer.poll_event() {
                        asr.handle_event(&e).expect("ASR submit");
                    }
                }
                while let Some(r) = asr.poll_recognition() {
                    record(r.expect("ASR"));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            while let Some(r) = asr.wait_recognition() {
                record(r.expect("ASR"));
            }
        }
        let n = latencies.len();
        println!(
            "{:<6} {:>5} {:>9.0} ms {:>9.0} ms {:>7}/{:<2} {:>9} {:>12.2}",
            language.code(),
            n,
            percentile(&mut latencies, 50),
            percentile(&mut latencies, 95),
            speculative,
            n,
            partials,
            percentile(&mut partial_rtf, 50)
        );
    }
    println!(
        "\nfinal latency = endpoint fired → final text available (the 600 ms end-of-turn \
         silence comes before it); partial RTF = decode time / audio decoded (p50).\nRSS now {:.0} MB",
        rss_mb()
    );
}
