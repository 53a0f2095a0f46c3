//! Digest throughput of the one-pass hasher against OpenSSL (python3's
//! hashlib) computing the same digests in one pass, in the same run.
//!
//! `cargo bench -p lastline-core --bench digest` (LASTLINE_BENCH_MIB sets
//! the buffer size, default 256).
#![allow(clippy::result_large_err, clippy::type_complexity)]

use std::hint::black_box;
use std::time::Instant;

use lastline_core::hashing::{Algorithms, MultiHasher};

#[path = "common/openssl.rs"]
mod openssl;
use openssl::{buffer, chunk, openssl};

fn ours(buf: &[u8], alg: Algorithms) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let mut h = MultiHasher::new(alg);
        for c in buf.chunks(chunk()) {
            h.update(c);
        }
        black_box(h.finish());
        best = best.min(t.elapsed().as_secs_f64());
    }
    buf.len() as f64 / best / 1e6
}

fn main() {
    let mib: usize = std::env::var("LASTLINE_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let buf = buffer(mib);
    println!(
        "digest throughput, {mib} MiB buffer, {} KiB chunks, best of 3",
        chunk() >> 10
    );
    let rows: [(&str, Algorithms, &[&str]); 4] = [
        (
            "md5+sha1+sha256",
            Algorithms::ALL,
            &["md5", "sha1", "sha256"],
        ),
        (
            "md5",
            Algorithms {
                md5: true,
                sha1: false,
                sha256: false,
            },
            &["md5"],
        ),
        (
            "sha1",
            Algorithms {
                md5: false,
                sha1: true,
                sha256: false,
            },
            &["sha1"],
        ),
        ("sha256", Algorithms::SHA256, &["sha256"]),
    ];
    println!(
        "{:<18} {:>12} {:>14} {:>8}",
        "digests", "ours MB/s", "OpenSSL MB/s", "ratio"
    );
    for (name, alg, py) in rows {
        let a = ours(&buf, alg);
        match openssl(mib, py) {
            Some(b) => println!("{name:<18} {a:>12.0} {b:>14.0} {:>7.2}x", a / b),
            None => println!("{name:<18} {a:>12.0} {:>14} {:>8}", "n/a", "n/a"),
        }
    }
}
