//! Shared by the digest benchmarks: a reproducible buffer and OpenSSL's
//! one-pass speed over it (python3's hashlib), measured in the same run.

use std::process::Command;

/// Chunk size fed to the hashers (`LASTLINE_BENCH_CHUNK_KIB`, default 64).
pub(crate) fn chunk() -> usize {
    std::env::var("LASTLINE_BENCH_CHUNK_KIB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(64)
        * 1024
}

/// `mib` MiB of incompressible, reproducible bytes.
pub(crate) fn buffer(mib: usize) -> Vec<u8> {
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

/// OpenSSL's MB/s computing `algs` in one pass over `mib` MiB (best of 3);
/// `None` without python3.
pub(crate) fn openssl(mib: usize, algs: &[&str]) -> Option<f64> {
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
