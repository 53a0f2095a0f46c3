//! Digest throughput of the one-pass hasher against OpenSSL (python3's
//! hashlib) computing the same digests in one pass, in the same run.
//!
//! `cargo bench -p lastline-core --bench digest` (LASTLINE_BENCH_MIB sets
//! the buffer size, default 256).
#![allow(clippy::result_large_err, clippy::type_complexity)]

use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

use lastline_core::hashing::{Algorithms, MultiHasher};

fn chunk() -> usize {
    std::env::var("LASTLINE_BENCH_CHUNK_KIB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(64)
        * 1024
}

fn buffer(mib: usize) -> Vec<u8> {
    // xorshift: incompressible and reproducible.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..mib << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

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

fn openssl(mib: usize, algs: &[&str]) -> Option<f64> {
    let chunk = chunk();
    let script = format!(
        r#"
import hashlib, time
x = 0x9E3779B97F4A7C15
n = {mib} << 20
buf = bytes((i * 2654435761 >> 13) & 255 for i in range(1 << 20)) * {mib}
mv = memoryview(buf)
best = 1e9
for _ in range(3):
    t = time.perf_counter()
    hs = [hashlib.new(a) for a in {algs:?}]
    for off in range(0, n, {chunk}):
        v = mv[off:off + {chunk}]
        for h in hs:
            h.update(v)
    [h.digest() for h in hs]
    best = min(best, time.perf_counter() - t)
print(n / best / 1e6)
"#
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
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
