//! Encryption overhead on the archive: MB/s writing a recording through
//! `SealWriter` (160-byte RTP-sized writes, as the recorder makes them) and
//! reading it back through `OpenReader`, against plain copies of the same
//! bytes. `cargo bench -p voxhire-vault --bench vault`.

use std::io::{Cursor, Read, Write};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use voxhire_vault::{Keyring, OpenReader, SealWriter};

/// Ten minutes of 8 kHz 16-bit mono audio.
const BYTES: usize = 10 * 60 * 8000 * 2;

fn bench(c: &mut Criterion) {
    let ring = Keyring::generate();
    let audio: Vec<u8> = (0..BYTES).map(|i| (i * 7 % 253) as u8).collect();
    let mut g = c.benchmark_group("recording");
    g.throughput(Throughput::Bytes(BYTES as u64));
    g.sample_size(10);
    g.bench_function("write plain", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(BYTES);
            for piece in audio.chunks(160) {
                out.write_all(piece).unwrap();
            }
            out
        })
    });
    g.bench_function("write sealed", |b| {
        b.iter(|| {
            let mut w =
                SealWriter::new(&ring, "recording", Vec::with_capacity(BYTES + 4096)).unwrap();
            for piece in audio.chunks(160) {
                w.write_all(piece).unwrap();
            }
            w.finish().unwrap()
        })
    });
    let mut w = SealWriter::new(&ring, "recording", Vec::new()).unwrap();
    w.write_all(&audio).unwrap();
    let sealed = w.finish().unwrap();
    g.bench_function("read sealed", |b| {
        b.iter(|| {
            let r = OpenReader::new(&ring, "recording", Cursor::new(&sealed)).unwrap();
            r.read_all().unwrap()
        })
    });
    g.bench_function("read plain", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(BYTES);
            Cursor::new(&audio).read_to_end(&mut out).unwrap();
            out
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
