//! Fleet soak: many simulated sensors against one emulator under random
//! faults, and then the question that matters — did every sensor learn the
//! verdict of every task it submitted?
//!
//! Each sensor is a thread with its own `lastline_ureq::Client` (half of
//! them in session mode, so an ended session, 122, is one of the faults),
//! its own samples (distinct 4 KiB captures), and its own completion
//! cursor persisted to a file and read back before every page, as a
//! restarted device would. For `--seconds` a fault thread arms random
//! faults (107, 503 and 429 with `Retry-After`, resets before the head,
//! inside it and inside the body, closed connections, ended sessions, slow
//! answers) on random endpoints; sensors submit and read completions all
//! the while. A sample whose submission fails (the client's retries spent)
//! is kept and submitted again later, as a sensor keeps its capture. Then
//! the faults stop and each sensor reads completions until it has every
//! verdict or `--drain-seconds` pass.
//!
//! Printed: submitted, learned, lost (must be 0: the exit status is 1
//! otherwise), duplicates delivered, submissions that failed and were
//! retried, requests per second, and the p50/p99 of a submission's wall
//! time. Loopback only, bounded in time, stops by itself.
//!
//!     cargo run --release -p fleet-soak -- --sensors 64 --seconds 120

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use lastline_core::request::SubmitFile;
use lastline_core::types::{Timestamp, Uuid};
use lastline_emulator::{Config as EmuConfig, Emulator, Fault, FaultRule, RetryAfter};
use lastline_ureq::{AuthMode, Client, Config, CursorFile, Quiet};

#[derive(Parser, Debug)]
struct Args {
    /// Simulated sensors (threads).
    #[arg(long, default_value_t = 64)]
    sensors: usize,
    /// How long faults are armed and samples submitted.
    #[arg(long, default_value_t = 120)]
    seconds: u64,
    /// How long, after that, sensors may take to learn their verdicts.
    #[arg(long, default_value_t = 120)]
    drain_seconds: u64,
    /// Seconds an analysis takes in the emulator.
    #[arg(long, default_value_t = 2)]
    analysis_seconds: u64,
    /// Pause between a sensor's submissions, in milliseconds.
    #[arg(long, default_value_t = 200)]
    pace_ms: u64,
    /// Seed of the fault schedule.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// What one sensor saw.
#[derive(Default)]
struct Tally {
    submitted: HashSet<Uuid>,
    learned: HashSet<Uuid>,
    duplicates: usize,
    failed_submissions: usize,
    latencies: Vec<Duration>,
}

/// A small deterministic generator (xorshift) for the fault schedule.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_fault(rng: &mut Rng) -> Fault {
    match rng.below(9) {
        0 => Fault::Unavailable,
        1 => Fault::ServerError {
            status: 503,
            retry_after: Some(RetryAfter::Seconds(1)),
        },
        2 => Fault::TooManyRequests(RetryAfter::Seconds(1)),
        3 => Fault::ResetBeforeHead,
        4 => Fault::ResetMidHead,
        5 => Fault::ResetMidBody,
        6 => Fault::Close,
        7 => Fault::SessionGone,
        _ => Fault::Slow(Duration::from_millis(300)),
    }
}

const METHODS: [&str; 3] = ["submit_file", "get_completed", "login"];

/// A sensor's capture number `n`: 4 KiB that no other capture has.
fn capture(sensor: usize, n: usize) -> Vec<u8> {
    let mut v = format!("sensor {sensor} capture {n} ").into_bytes();
    v.resize(4096, b'.');
    v
}

fn sensor(
    id: usize,
    config: Config,
    cursor_path: PathBuf,
    start: Timestamp,
    args: &Args,
    submitting: &AtomicBool,
) -> Tally {
    let mut t = Tally::default();
    let mut client = match Client::new(config) {
        Ok(c) => c,
        Err(e) => panic!("sensor {id}: {e}"),
    };
    let file = CursorFile::new(cursor_path);
    let mut next_capture = 0;
    let mut retry: Vec<usize> = Vec::new();
    let mut last_poll = Instant::now();
    let drain_until = |now: Instant| now + Duration::from_secs(args.drain_seconds);
    let mut deadline = None;
    loop {
        let now = Instant::now();
        let still_submitting = submitting.load(Ordering::Relaxed);
        if still_submitting {
            let n = retry.pop().unwrap_or_else(|| {
                next_capture += 1;
                next_capture
            });
            let t0 = Instant::now();
            let sample = std::io::Cursor::new(capture(id, n));
            match client.submit_reader(sample, SubmitFile::default(), &mut Quiet) {
                Ok(done) => {
                    t.latencies.push(t0.elapsed());
                    t.submitted.insert(done.submission.task_uuid);
                }
                Err(_) => {
                    t.failed_submissions += 1;
                    retry.push(n);
                }
            }
            std::thread::sleep(Duration::from_millis(args.pace_ms));
        } else {
            let until = *deadline.get_or_insert_with(|| drain_until(now));
            if t.submitted.is_subset(&t.learned) || now >= until {
                return t;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        if !still_submitting || last_poll.elapsed() >= Duration::from_secs(1) {
            last_poll = Instant::now();
            // The cursor as a restarted device would have it: from its file.
            let Ok(mut cursor) = file.load_or(start) else {
                continue;
            };
            let mut own = Vec::new();
            if client
                .completions(&mut cursor, &mut |c| own.push(c.task_uuid))
                .is_ok()
            {
                for u in own {
                    if t.submitted.contains(&u) && !t.learned.insert(u) {
                        t.duplicates += 1;
                    }
                }
                let _ = file.save(&cursor);
            }
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let args = Args::parse();
    let emu = Emulator::start(EmuConfig {
        completion_delay: Duration::from_secs(args.analysis_seconds),
        ..EmuConfig::default()
    })
    .expect("emulator");
    let (key, token) = emu.credentials();
    let dir = tempfile::tempdir().expect("temporary directory");
    // The server's clock, a minute back: every sensor's cursor starts there.
    let start = {
        let mut c = Client::new(Config::new(&emu.base_url(), &key, &token)).expect("client");
        let now = c
            .call(&lastline_core::request::GetApiUtcTimestamp, |_| {})
            .expect("server clock");
        Timestamp::from_unix(now.unix() - 60).expect("timestamp")
    };
    let submitting = Arc::new(AtomicBool::new(true));
    let began = Instant::now();
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        // Faults: a few at a time, on random endpoints, while submitting.
        let faults = emu.faults().clone();
        let (sub, args_ref) = (submitting.clone(), &args);
        s.spawn(move || {
            let mut rng = Rng(args_ref.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
            let until = Instant::now() + Duration::from_secs(args_ref.seconds);
            while Instant::now() < until {
                let method = METHODS[rng.below(METHODS.len() as u64) as usize];
                let mut rule = FaultRule::new(Some(method), random_fault(&mut rng), 1);
                rule.times = Some(1 + rng.below(3) as u32);
                faults.add(rule);
                std::thread::sleep(Duration::from_millis(20 + rng.below(80)));
            }
            sub.store(false, Ordering::Relaxed);
            faults.set(|f| f.rules.clear());
        });
        let handles: Vec<_> = (0..args.sensors)
            .map(|id| {
                let mut config = Config::new(&emu.base_url(), &key, &token);
                if id % 2 == 1 {
                    config = config.auth(AuthMode::Session);
                }
                let path = dir.path().join(format!("sensor-{id}.cursor"));
                let (sub, args) = (&*submitting, &args);
                s.spawn(move || sensor(id, config, path, start, args, sub))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a sensor panicked"))
            .collect()
    });
    let elapsed = began.elapsed();

    let submitted: usize = tallies.iter().map(|t| t.submitted.len()).sum();
    let learned: usize = tallies
        .iter()
        .map(|t| t.submitted.intersection(&t.learned).count())
        .sum();
    let duplicates: usize = tallies.iter().map(|t| t.duplicates).sum();
    let failed: usize = tallies.iter().map(|t| t.failed_submissions).sum();
    let mut latencies: Vec<Duration> = tallies.iter().flat_map(|t| t.latencies.clone()).collect();
    latencies.sort();
    let requests = emu.log().entries().len();
    let lost = submitted - learned;
    println!(
        "fleet soak: {} sensors, {} s of random faults, then up to {} s to drain ({:.0} s in all)",
        args.sensors,
        args.seconds,
        args.drain_seconds,
        elapsed.as_secs_f64()
    );
    println!("| submitted | learned | lost | duplicates delivered | failed submissions (retried) | requests/s | submission p50 | p99 |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {submitted} | {learned} | {lost} | {duplicates} | {failed} | {:.0} | {:.0} ms | {:.0} ms |",
        requests as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0
    );
    if lost > 0 || submitted == 0 {
        eprintln!("fleet soak: {lost} verdicts lost");
        std::process::exit(1);
    }
}
