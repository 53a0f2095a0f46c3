//! Replays the fuzz corpora (`fuzz/corpus/*`, `fuzz/regressions/*`) on
//! stable, through the same code the fuzz targets run.
#![allow(clippy::result_large_err, clippy::type_complexity)]

#[path = "../../fuzz/logic.rs"]
mod logic;

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut n = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            run(&data);
            n += 1;
        }
    }
    n
}

#[test]
fn response_corpus() {
    assert!(replay("response", logic::response) > 20);
}

#[test]
fn list_stream_corpus() {
    assert!(replay("list_stream", logic::list_stream) > 5);
}

#[test]
fn multipart_corpus() {
    assert!(replay("multipart", logic::multipart) > 5);
}

#[test]
fn exchange_corpus() {
    assert!(replay("exchange", logic::exchange) > 5);
}
