//! Hash-first submissions per second over loopback against the emulator
//! (one keep-alive connection), next to plain `ping` round trips on the
//! same connection as the baseline, same run.
//!
//! `cargo bench -p lastline-ureq --bench submissions`
//! (LASTLINE_BENCH_N sets the submissions per case, default 500). The
//! emulator runs in this process: client and server share the 2 cores.

use std::io::Cursor;
use std::time::Instant;

use lastline_core::request::{Ping, SubmitFile};
use lastline_emulator::{Config as EmuConfig, Emulator};
use lastline_ureq::{Client, Config, Quiet};

fn sample(i: usize, len: usize) -> Vec<u8> {
    let mut v = format!("sample {i} ").into_bytes();
    v.resize(len, (i % 251) as u8);
    v
}

fn per_sec(n: usize, mut f: impl FnMut(usize)) -> f64 {
    let t = Instant::now();
    for i in 0..n {
        f(i);
    }
    n as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    let n: usize = std::env::var("LASTLINE_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let emu = Emulator::start(EmuConfig::default()).expect("emulator");
    let (key, token) = emu.credentials();
    let mut c = Client::new(Config::new(&emu.base_url(), &key, &token)).expect("client");
    let submit = |c: &mut Client, data: Vec<u8>| {
        c.submit_reader(Cursor::new(data), SubmitFile::default(), &mut Quiet)
            .expect("submit")
    };
    // Warm up (connection, allocator).
    for i in 0..20 {
        c.call(&Ping, |_| {}).expect("ping");
        submit(&mut c, sample(i + 1_000_000, 64));
    }

    let ping = per_sec(n, |_| {
        c.call(&Ping, |_| {}).expect("ping");
    });
    // Upload branch: new 4 KiB samples (submit by hash → 101 → upload).
    let upload = per_sec(n, |i| {
        assert!(submit(&mut c, sample(i, 4096)).uploaded);
    });
    // Known-hash branch: the same samples again (one request each).
    let known = per_sec(n, |i| {
        assert!(!submit(&mut c, sample(i, 4096)).uploaded);
    });
    println!("{n} calls each, one keep-alive connection, emulator in-process");
    println!("{:<40} {:>10} {:>8}", "", "per second", "vs ping");
    for (name, v) in [
        ("ping (baseline round trip)", ping),
        ("hash-first, known hash (1 request)", known),
        ("hash-first, 4 KiB upload (2 requests)", upload),
    ] {
        println!("{name:<40} {v:>10.0} {:>7.2}x", v / ping);
    }
}
