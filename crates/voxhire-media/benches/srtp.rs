//! What SRTP costs per packet: protecting an outgoing 20 ms PCMU packet (12-byte
//! header + 160 bytes) and authenticating and decrypting an incoming one, each
//! direction of a call 50 times a second. `cargo bench -p voxhire-media --bench srtp`.
//! One call at 50 packets a second each way costs 50 × (protect + unprotect) a second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use voxhire_media::srtp::{MasterKey, Srtp};

fn rtp(seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 0x00];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    p.extend((0..160).map(|i| (i * 7 % 251) as u8));
    p
}

fn bench(c: &mut Criterion) {
    let (key_a, salt_a, key_b, salt_b) = ([1u8; 16], [2u8; 14], [3u8; 16], [4u8; 14]);
    let mut sender = Srtp::new(
        MasterKey {
            key: &key_a,
            salt: &salt_a,
        },
        MasterKey {
            key: &key_b,
            salt: &salt_b,
        },
    )
    .expect("keys");
    let mut receiver = Srtp::new(
        MasterKey {
            key: &key_b,
            salt: &salt_b,
        },
        MasterKey {
            key: &key_a,
            salt: &salt_a,
        },
    )
    .expect("keys");
    let mut g = c.benchmark_group("srtp 20 ms PCMU packet");
    g.throughput(Throughput::Elements(1));
    let mut seq = 0u16;
    g.bench_function("protect", |b| {
        b.iter(|| {
            seq = seq.wrapping_add(1);
            sender.protect_rtp(&rtp(seq)).expect("protect")
        })
    });
    // A fresh receiving context per packet (made outside the timing), so the
    // replay window never refuses one.
    // (From a fresh sender: the one above has wrapped its sequence numbers.)
    let packet = Srtp::new(
        MasterKey {
            key: &key_a,
            salt: &salt_a,
        },
        MasterKey {
            key: &key_b,
            salt: &salt_b,
        },
    )
    .expect("keys")
    .protect_rtp(&rtp(1))
    .expect("protect");
    g.bench_function("unprotect", |b| {
        b.iter_batched(
            || {
                let r = Srtp::new(
                    MasterKey {
                        key: &key_b,
                        salt: &salt_b,
                    },
                    MasterKey {
                        key: &key_a,
                        salt: &salt_a,
                    },
                )
                .expect("keys");
                (r, packet.clone())
            },
            |(mut r, p)| r.unprotect_rtp(&p).expect("authentic"),
            criterion::BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
