//! What SRTP costs per packet: protecting an outgoing 20 ms PCMU packet (12-byte
//! header + 160 bytes) and authenticating and decrypting an incoming one. A call
//! does each 50 times a second. `cargo bench -p voxhire-media --bench srtp`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use voxhire_media::srtp::{MasterKey, Srtp};
use voxhire_media::TransmitKind;

const A: ([u8; 16], [u8; 14]) = ([1; 16], [2; 14]);
const B: ([u8; 16], [u8; 14]) = ([3; 16], [4; 14]);

/// One side's contexts: it sends with `ours` and receives with `theirs`.
fn side(ours: &([u8; 16], [u8; 14]), theirs: &([u8; 16], [u8; 14])) -> Srtp {
    Srtp::new(
        MasterKey {
            key: &ours.0,
            salt: &ours.1,
        },
        MasterKey {
            key: &theirs.0,
            salt: &theirs.1,
        },
    )
    .expect("keys")
}

fn rtp(seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 0x00];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    p.extend((0..160).map(|i| (i * 7 % 251) as u8));
    p
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("srtp 20 ms PCMU packet");
    g.throughput(Throughput::Elements(1));
    let mut sender = side(&A, &B);
    let mut seq = 0u16;
    g.bench_function("protect", |b| {
        b.iter(|| {
            seq = seq.wrapping_add(1);
            sender
                .protect(TransmitKind::Rtp, &rtp(seq))
                .expect("protect")
        })
    });
    // A fresh receiving context per packet (made outside the timing), so the replay
    // window never refuses one.
    let packet = side(&A, &B)
        .protect(TransmitKind::Rtp, &rtp(1))
        .expect("protect");
    g.bench_function("unprotect", |b| {
        b.iter_batched(
            || (side(&B, &A), packet.clone()),
            |(mut receiver, p)| {
                receiver
                    .unprotect(TransmitKind::Rtp, &p)
                    .expect("authentic")
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
