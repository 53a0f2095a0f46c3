//! Envelope parse speed, lastline-core (streamed entries, fixed memory, no
//! heap) against serde_json in the same run:
//!
//! 1. a get_completed_with_metadata response with 1 000 tasks, serde_json
//!    into Vec/String types;
//! 2. a get_results response with a ~1 MB full `report` (nested objects,
//!    lists, long strings) of which a client reads only the score and the
//!    lists: ours skips the report; serde_json into `Value` (reading it
//!    all) and into typed structs (skipping it as serde does, by
//!    `IgnoredAny`).
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

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct ResultsEnvelope {
    success: i64,
    data: ResultsData,
}

/// What a client reads of get_results; `report` and anything else are
/// skipped by serde's derive.
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct ResultsData {
    score: i64,
    malicious_activity: Vec<String>,
    reports: Vec<ReportRef>,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct ReportRef {
    report_uuid: String,
    relevance: f64,
    description: String,
}

/// A get_results body whose full `report` is about `kib` KiB.
fn results_body(kib: usize) -> Vec<u8> {
    let mut processes = Vec::new();
    let mut size = 0;
    let mut i = 0u64;
    while size < kib * 1024 {
        let p = serde_json::json!({
            "pid": 1000 + i,
            "executable": format!("C:\\Users\\analyst\\AppData\\Local\\Temp\\sample-{i}.exe"),
            "arguments": format!("--install --quiet \"C:\\path with spaces\\{i}\" -x"),
            "network": [{"host": format!("c2-{i}.example"), "port": 443, "bytes": [i, i * 3, i * 7]}],
            "registry": {"HKLM\\Software\\Run": {"value": "x".repeat(64), "written": true, "size": null}},
            "strings": ["ünïcödé", "\u{e9}t\u{e9} \"quoted\"", "tab\tand\nnewline"],
            "score": 12.5 + i as f64,
        });
        size += serde_json::to_vec(&p).unwrap().len();
        processes.push(p);
        i += 1;
    }
    serde_json::to_vec(&serde_json::json!({"success": 1, "data": {
        "score": 100,
        "malicious_activity": ["Anti-AV: Known antivirus test file", "Signature: EICAR test string"],
        "reports": [{"report_uuid": "05243bb7443e4bba80a5890969102082", "relevance": 1.0,
                     "description": "Dynamic analysis on Windows 10", "report_versions": ["ll-int-win"]}],
        "report": {"overview": {"analysis_engine": "sandbox"}, "processes": processes},
    }}))
    .unwrap()
}

fn main() {
    completed_page();
    full_report();
}

fn full_report() {
    use lastline_core::decoders::ResultDecoder;
    let b = results_body(1024);
    let iters = 30;
    let ours = time(iters, || {
        let mut n = 0u32;
        let r = decode_with(ResultDecoder::default(), black_box(&b), |_| {
            n += 1;
            Ok(())
        })
        .unwrap();
        black_box((r, n));
    });
    let value = time(iters, || {
        let v: serde_json::Value = serde_json::from_slice(black_box(&b)).unwrap();
        black_box(v);
    });
    let typed = time(iters, || {
        let e: ResultsEnvelope = serde_json::from_slice(black_box(&b)).unwrap();
        black_box(e);
    });
    println!();
    println!(
        "get_results with a full report, {} bytes, best of 5 x {iters}",
        b.len()
    );
    println!("{:<34} {:>10} {:>10}", "decoder", "us/parse", "MB/s");
    let mbs = |s: f64| b.len() as f64 / s / 1e6;
    for (name, t) in [
        ("lastline-core (report skipped)", ours),
        ("serde_json into Value", value),
        ("serde_json typed (IgnoredAny)", typed),
    ] {
        println!("{:<34} {:>10.1} {:>10.0}", name, t * 1e6, mbs(t));
    }
    println!(
        "ratios (serde_json time / ours): Value {:.2}x, typed {:.2}x",
        value / ours,
        typed / ours
    );
}

fn completed_page() {
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
