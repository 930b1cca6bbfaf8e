//! Silero VAD cost per 32 ms chunk (256 samples at 8 kHz). Target: < 1 ms.
//!
//!     cargo bench -p voxhire-speech --bench vad

use criterion::{criterion_group, criterion_main, Criterion};
use voxhire_speech::models::ModelDir;
use voxhire_speech::vad::{SileroVad, VadConfig, VadStream, VAD_CHUNK};

fn vad_chunk(c: &mut Criterion) {
    let model = SileroVad::load_with_sessions(&ModelDir::locate(), 1)
        .expect("Silero VAD (run scripts/fetch-models.sh)");
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/audio/candidate-en.wav"
    );
    let audio =
        voxhire_media::wav::read_wav_mono(path, 8000).expect("tests/audio/candidate-en.wav");
    let chunks: Vec<&[i16]> = audio.chunks_exact(VAD_CHUNK).collect();
    let mut stream = VadStream::new(model, VadConfig::default());
    let mut i = 0;
    c.bench_function("silero_vad_8khz_32ms_chunk", |b| {
        b.iter(|| {
            let frames = stream.push(chunks[i % chunks.len()]).expect("VAD");
            i += 1;
            frames
        })
    });
}

criterion_group!(benches, vad_chunk);
criterion_main!(benches);
