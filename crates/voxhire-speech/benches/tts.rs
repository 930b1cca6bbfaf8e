//! TTS latency: time to first audio of a one-sentence reply (target ≤ 150 ms) and
//! real-time factor, synthesis time / audio duration (target ≤ 0.2), per language,
//! at the call's 8 kHz.
//!
//!     cargo bench -p voxhire-speech --bench tts
//!
//! Criterion times the first chunk and the whole reply; before that, each case
//! prints a summary line (median of 5 runs) with the real-time factor, which
//! criterion cannot express.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use voxhire_speech::models::ModelDir;
use voxhire_speech::tts::{self, Lang, Tts, Voice};

/// One-sentence replies the agent says between questions: with a clause break (the
/// first clause streams first) and without one.
const CASES: &[(Lang, &str, &str)] = &[
    (
        Lang::En,
        "en_clause",
        "Thanks, and how many years of experience do you have with Java?",
    ),
    (
        Lang::En,
        "en_plain",
        "How many years of experience do you have with Java?",
    ),
    (Lang::Zh, "zh_clause", "好的，请问您有几年的开发经验？"),
    (Lang::Zh, "zh_plain", "请问您最快什么时候可以入职？"),
];

fn first_chunk(voice: &Arc<dyn Voice>, text: &str) -> (Duration, usize) {
    let start = Instant::now();
    let mut stream = tts::synthesize_stream(voice.clone(), text, 8000).expect("text");
    let chunk = stream.next().expect("a chunk").expect("synthesis");
    (start.elapsed(), chunk.samples.len())
}

fn whole(voice: &Arc<dyn Voice>, text: &str) -> (Duration, usize) {
    let start = Instant::now();
    let audio = tts::synthesize(voice.clone(), text, 8000).expect("synthesis");
    (start.elapsed(), audio.len())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn tts_latency(c: &mut Criterion) {
    let tts = Tts::load(&ModelDir::locate()).expect("TTS models (run scripts/fetch-models.sh)");
    for &(lang, name, text) in CASES {
        let voice = tts.voice(lang).expect("voice").clone();
        whole(&voice, text); // warm-up: first runs allocate
        let firsts: Vec<Duration> = (0..5).map(|_| first_chunk(&voice, text).0).collect();
        let runs: Vec<(Duration, usize)> = (0..5).map(|_| whole(&voice, text)).collect();
        let samples = runs[0].1;
        let total = median(runs.iter().map(|r| r.0).collect());
        let audio = samples as f64 / 8000.0;
        eprintln!(
            "tts {name:<10} first audio {:>4} ms | whole {:>4} ms for {audio:.2} s audio | RTF {:.3} | {}",
            median(firsts).as_millis(),
            total.as_millis(),
            total.as_secs_f64() / audio,
            voice.name(),
        );
        let mut group = c.benchmark_group(format!("tts_{name}"));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(6));
        group.bench_function("first_audio", |b| b.iter(|| first_chunk(&voice, text)));
        group.bench_function("whole_reply", |b| b.iter(|| whole(&voice, text)));
        group.finish();
    }
}

criterion_group!(benches, tts_latency);
criterion_main!(benches);
