//! Envelope parse speed: a get_completed_with_metadata response with 1 000
//! tasks, decoded by lastline-core (streamed entries, fixed memory) and by
//! serde_json into Vec/String types, in the same run.
//!
//! `cargo bench -p lastline-core --bench envelope`
#![allow(clippy::result_large_err, clippy::type_complexity)]

use std::hint::black_box;
use std::time::Instant;

use lastline_core::decoders::CompletedWithMetadataDecoder;
use lastline_core::envelope::decode_with;

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Envelope {
    success: i64,
    data: Data,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Data {
    after: String,
    before: String,
    resume: Option<String>,
    more_results_available: Option<i64>,
    tasks: Vec<Task>,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Task {
    task_uuid: String,
    score: i64,
    insufficient_task_input_errors: Option<Vec<i64>>,
}

fn body(n: usize) -> Vec<u8> {
    let tasks: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let mut t = serde_json::json!({"task_uuid": format!("{:032x}", (i as u128) * 0x9e37_79b9_7f4a_7c15), "score": i % 101});
            if i % 10 == 0 {
                t["insufficient_task_input_errors"] = serde_json::json!([1001]);
            }
            t
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({"success": 1, "data": {
        "after": "2020-12-05 14:00:39", "before": "2020-12-07 00:25:49", "resume": "2020-12-07 00:25:50",
        "more_results_available": 0, "tasks": tasks}}))
    .unwrap()
}

fn time(iters: u32, mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..iters {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64() / f64::from(iters));
    }
    best
}

fn main() {
    let b = body(1000);
    let iters = 300;
    let ours = time(iters, || {
        let mut n = 0u32;
        let page = decode_with(
            CompletedWithMetadataDecoder::default(),
            black_box(&b),
            |t| {
                n += black_box(t.score.unwrap_or(0)) as u32 & 1;
                Ok(())
            },
        )
        .unwrap();
        black_box((page, n));
    });
    let serde = time(iters, || {
        let e: Envelope = serde_json::from_slice(black_box(&b)).unwrap();
        black_box(e);
    });
    println!(
        "get_completed_with_metadata, 1000 tasks, {} bytes, best of 5 x {iters}",
        b.len()
    );
    println!("{:<34} {:>10} {:>10}", "decoder", "us/parse", "MB/s");
    let mbs = |s: f64| b.len() as f64 / s / 1e6;
    println!(
        "{:<34} {:>10.1} {:>10.0}",
        "lastline-core (streamed, no heap)",
        ours * 1e6,
        mbs(ours)
    );
    println!(
        "{:<34} {:>10.1} {:>10.0}",
        "serde_json (Vec/String)",
        serde * 1e6,
        mbs(serde)
    );
    println!("ratio (serde_json time / ours): {:.2}x", serde / ours);
}
