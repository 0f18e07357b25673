//! Throughput of frame open/seal (1 KiB, 64 KiB), media encrypt/decrypt (16 MiB) and, as the
//! yardstick, raw HMAC-SHA256 at the same sizes.
//!
//! `cargo bench -p waweb-crypto --bench crypto -- --warm-up-time 1 --measurement-time 3`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use waweb_crypto::primitives::{aes256_cbc_decrypt_blocks, hmac_sha256};
use waweb_crypto::{MediaKey, MediaType, SessionKeys};

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

fn payload(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(31) ^ (i >> 8)) as u8)
        .collect()
}

fn frames(c: &mut Criterion) {
    let keys = SessionKeys::new([0x11; 32], [0x22; 32]);
    let mut g = c.benchmark_group("frame");
    for size in [KIB, 64 * KIB] {
        let plain = payload(size);
        let frame = keys.seal_frame_with_iv(&plain, &[7; 16]);
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("hmac_sha256", size), &plain, |b, p| {
            b.iter(|| hmac_sha256(black_box(&[0x22; 32]), black_box(p)));
        });
        g.bench_with_input(BenchmarkId::new("open", size), &frame, |b, f| {
            b.iter(|| keys.open_frame(black_box(f)).unwrap());
        });
        g.bench_with_input(BenchmarkId::new("open_in_place", size), &frame, |b, f| {
            b.iter_batched_ref(
                || f.clone(),
                |f| {
                    keys.open_frame_in_place(black_box(f))
                        .map(|p| p.len())
                        .unwrap()
                },
                BatchSize::SmallInput,
            );
        });
        g.bench_with_input(
            BenchmarkId::new("aes256_cbc_decrypt", size),
            &frame,
            |b, f| {
                b.iter_batched_ref(
                    || f[48..].to_vec(),
                    |ct| aes256_cbc_decrypt_blocks(&[0x11; 32], &[7; 16], black_box(ct)).unwrap(),
                    BatchSize::SmallInput,
                );
            },
        );
        g.bench_with_input(BenchmarkId::new("seal", size), &plain, |b, p| {
            b.iter(|| keys.seal_frame(black_box(p)).unwrap());
        });
    }
    g.finish();
}

fn media(c: &mut Criterion) {
    let keys = MediaKey::new([0x33; 32]).expand(MediaType::Video);
    let size = 16 * MIB;
    let plain = payload(size);
    let (enc, _) = keys.encrypt_to_vec(&plain, false);
    let mut g = c.benchmark_group("media");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(size as u64));
    g.bench_function(BenchmarkId::new("hmac_sha256", size), |b| {
        b.iter(|| hmac_sha256(black_box(&[0x22; 32]), black_box(&plain)));
    });
    g.bench_function(BenchmarkId::new("encrypt", size), |b| {
        b.iter(|| keys.encrypt_to_vec(black_box(&plain), false));
    });
    g.bench_function(BenchmarkId::new("decrypt", size), |b| {
        b.iter(|| keys.decrypt_from_slice(black_box(&enc)).unwrap());
    });
    g.bench_function(BenchmarkId::new("encrypt_stream", size), |b| {
        b.iter(|| {
            keys.encrypt_stream(black_box(&plain[..]), std::io::sink(), false)
                .unwrap()
        });
    });
    g.bench_function(BenchmarkId::new("decrypt_stream", size), |b| {
        b.iter(|| {
            keys.decrypt_stream(std::io::Cursor::new(black_box(&enc)), std::io::sink())
                .unwrap()
        });
    });
    g.finish();
}

criterion_group!(benches, frames, media);
criterion_main!(benches);
