//! Hashing a sample the way the std transport does (MD5 on one thread,
//! SHA-1 + SHA-256 on another, this thread reading) against OpenSSL's one
//! pass (python3's hashlib) and the core's one-pass hasher, same run.
//!
//! `cargo bench -p lastline-ureq --bench hashing` (LASTLINE_BENCH_MIB sets
//! the size, default 512).

use std::hint::black_box;
use std::io::{Cursor, Write};
use std::time::Instant;

use lastline_core::hashing::{Algorithms, MultiHasher};

#[path = "../../../core/benches/common/openssl.rs"]
mod openssl;
use openssl::{buffer, chunk, openssl};

fn best_of_3(bytes: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    bytes as f64 / best / 1e6
}

fn main() {
    let mib: usize = std::env::var("LASTLINE_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    let buf = buffer(mib);
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(&buf).expect("write sample");
    file.flush().expect("flush");

    let one_pass = best_of_3(buf.len(), || {
        let mut h = MultiHasher::new(Algorithms::ALL);
        for c in buf.chunks(chunk()) {
            h.update(c);
        }
        black_box(h.finish());
    });
    let threaded_mem = best_of_3(buf.len(), || {
        black_box(lastline_ureq::hash_reader(&mut Cursor::new(&buf), &mut |_| {}).expect("hash"));
    });
    let threaded_file = best_of_3(buf.len(), || {
        let mut f = std::fs::File::open(file.path()).expect("open");
        black_box(lastline_ureq::hash_reader(&mut f, &mut |_| {}).expect("hash"));
    });
    let ossl = openssl(mib, &["md5", "sha1", "sha256"]);
    println!("MD5 + SHA-1 + SHA-256 of {mib} MiB, best of 3 (MB/s; ratio to OpenSSL's one pass)");
    let row = |name: &str, v: f64| match ossl {
        Some(o) => println!("{name:<44} {v:>8.0} {:>7.2}x", v / o),
        None => println!("{name:<44} {v:>8.0} {:>8}", "n/a"),
    };
    if let Some(o) = ossl {
        row("OpenSSL one pass (python3 hashlib)", o);
    }
    row("lastline-core one pass (MultiHasher)", one_pass);
    row("lastline-ureq hash_reader, from memory", threaded_mem);
    row(
        "lastline-ureq hash_reader, from a cached file",
        threaded_file,
    );
}
