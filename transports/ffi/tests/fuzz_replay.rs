//! Replays the `ffi_exchange` fuzz corpus (`fuzz/corpus/ffi_exchange`,
//! `fuzz/regressions/ffi_exchange`) on stable, through the same code the
//! fuzz target runs: the exchange driven through the C functions.

#[path = "../../../fuzz/ffi_logic.rs"]
mod ffi_logic;

use std::path::Path;

#[test]
fn ffi_exchange_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut n = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join("ffi_exchange")) else {
            continue;
        };
        for e in entries {
            let data = std::fs::read(e.unwrap().path()).unwrap();
            ffi_logic::ffi_exchange(&data);
            n += 1;
        }
    }
    assert!(n > 5, "only {n} inputs replayed");
}
