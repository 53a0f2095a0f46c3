//! Every method of the catalog is served at its documented path, with and
//! without a format suffix, and only by its documented HTTP methods.

mod client;

use client::*;
use lastline_emulator::{Config, Emulator};

#[test]
fn every_catalog_path_is_served_with_its_methods() {
    let emu = Emulator::start(Config::default()).unwrap();
    let (k, t) = emu.credentials();
    let auth = vec![basic(&k, &t)];
    let cat = catalog();
    let methods = cat["methods"].as_array().unwrap();
    assert_eq!(methods.len(), lastline_core::request::METHODS.len());
    let served = lastline_emulator::method_names();
    for m in methods {
        let name = m["name"].as_str().unwrap();
        assert!(served.contains(&name), "{name} not served");
        let path = m["path"].as_str().unwrap();
        let http: Vec<&str> = m["http_methods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let mut targets = vec![path.to_string()];
        if m["format_suffix"] == true {
            targets.push(format!("{path}.json"));
            targets.push(format!("{path}.xml"));
        }
        for target in targets {
            for verb in ["GET", "POST"] {
                let r = send(emu.addr(), verb, &target, &auth, b"");
                if http.contains(&verb) {
                    let no_route = r.status == 404 && r.header("content-type") == Some("text/html");
                    assert!(
                        !no_route && r.status != 405,
                        "{verb} {target}: {}",
                        r.status
                    );
                    if target.ends_with(".xml") && r.status == 200 {
                        assert!(r.body.starts_with(b"<?xml"), "{target}");
                    }
                } else {
                    assert_eq!(r.status, 405, "{verb} {target} should be refused");
                }
            }
        }
    }
    // The emulator's envelopes use integer success/error_code.
    let r = send(
        emu.addr(),
        "GET",
        "/analysis/get_result.json?uuid=xyz",
        &auth,
        b"",
    );
    let j = r.json();
    assert!(j["success"].is_i64() && j["error_code"].is_i64());
}

/// The emulator compiles in the core's copy of the catalog: it must be the
/// shared contract itself (checked where a clone has `shared/`).
#[test]
fn the_vendored_catalog_is_the_shared_one() {
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/spec/api.json");
    let vendored = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../core/tests/data/api.json"
    );
    if let Ok(theirs) = std::fs::read(shared) {
        assert!(
            theirs == std::fs::read(vendored).unwrap(),
            "core/tests/data/api.json differs from shared/spec/api.json: copy it again"
        );
    }
}
