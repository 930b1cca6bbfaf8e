//! What a staff sign-in costs on this machine: one Argon2id verification
//! (m = 19 MiB, t = 2, p = 1) per attempt, and one hash per account made.
//! `cargo bench -p voxhire-server --bench sign_in`.

use criterion::{criterion_group, criterion_main, Criterion};
use voxhire_server::staff::{hash_password, verify_password};

fn bench(c: &mut Criterion) {
    let phc = hash_password("a long enough pass phrase").unwrap();
    let mut g = c.benchmark_group("argon2id");
    g.sample_size(20);
    g.bench_function("verify (one sign-in attempt)", |b| {
        b.iter(|| assert!(verify_password("a long enough pass phrase", &phc)))
    });
    g.bench_function("hash (a new account)", |b| {
        b.iter(|| hash_password("a long enough pass phrase").unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
