//! The range the reference allows, one test per behaviour, with
//! hand-written requests: privileged parameters at their default,
//! resubmissions, both readings of every open shape, hex / omitted /
//! string-flag answers, CDN and datacenter redirects, format suffixes in
//! any case, latency, reports with real content, faults per endpoint, and
//! the violations a strict server notes.

mod client;

use std::time::{Duration, Instant};

use client::*;
use lastline_emulator::{
    Config, Fault, FaultRule, Hex, Origin, Reading, Redirect, RetryAfter, Shapes, Violation, EICAR,
};
use serde_json::Value;

fn evil() -> Vec<u8> {
    let mut v = b"dropper ".to_vec();
    v.extend_from_slice(EICAR);
    v
}

fn task_of(r: &Resp) -> String {
    r.data()["task_uuid"].as_str().unwrap().to_string()
}

fn sha1_hex(b: &[u8]) -> String {
    use sha1::Digest as _;
    hex::encode(sha1::Sha1::digest(b))
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(b))
}

#[test]
fn privileged_parameters_are_refused_only_off_their_default() {
    let env = Env::new(Config::default());
    let task = task_of(&env.upload(b"p", &[]));
    // The official client's include_scoring_components=0: the default.
    for v in ["0", "false"] {
        let r = env.get(
            "/analysis/get.json",
            &[("uuid", &task), ("include_scoring_components", v)],
        );
        assert!(r.data()["score"].is_i64(), "{v}");
    }
    assert_eq!(
        env.get(
            "/analysis/get.json",
            &[("uuid", &task), ("include_scoring_components", "1")]
        )
        .error_code(),
        Some(108)
    );
    // Defaults of 0 and of 1, and one without a literal default.
    for ok in [
        ("bypass_cache", "0"),
        ("allow_network_traffic", "1"),
        ("fast_analysis", "0"),
    ] {
        assert!(
            env.upload(b"q", &[ok]).data()["task_uuid"].is_string(),
            "{ok:?}"
        );
    }
    for refused in [
        ("allow_network_traffic", "0"),
        ("keep_memory_dumps", "1"),
        ("analysis_timeout", "60"),
    ] {
        assert_eq!(
            env.upload(b"q", &[refused]).error_code(),
            Some(108),
            "{refused:?}"
        );
    }
    assert_eq!(
        env.post(
            "/analysis/submit/url.json",
            &[("url", "http://example.com/"), ("bypass_cache", "1")]
        )
        .error_code(),
        Some(108)
    );
}

#[test]
fn resubmissions_within_expires_return_the_same_task_and_then_its_result() {
    let env = Env::new(Config {
        completion_delay: Duration::from_secs(60),
        ..Config::default()
    });
    let content = evil();
    let first = env.upload(&content, &[("filename", "a.exe")]).data();
    let task = first["task_uuid"].as_str().unwrap().to_string();
    // By any of its hashes, or uploaded again, while it runs: the same
    // task, its times, no result yet.
    let hashes = [
        ("md5", md5_hex(&content)),
        ("sha1", sha1_hex(&content)),
        ("sha256", sha256_hex(&content)),
    ];
    for (alg, h) in &hashes {
        let again = env.post("/analysis/submit/file.json", &[(alg, h)]).data();
        assert_eq!(again["task_uuid"], task.as_str(), "{alg}");
        assert_eq!(again["submission_timestamp"], first["submission_timestamp"]);
        assert_eq!(again["expires"], first["expires"]);
        assert!(again.get("score").is_none(), "{again}");
    }
    assert_eq!(task_of(&env.upload(&content, &[])), task);
    // Complete: the submission carries the result as get_results has it.
    env.emu.advance_clock(61);
    let done = env
        .post("/analysis/submit/file.json", &[("md5", &hashes[0].1)])
        .data();
    assert_eq!(done["task_uuid"], task.as_str());
    assert_eq!(done["score"], 100);
    assert_eq!(done["threat"], "EICAR-Test-File");
    assert!(done["reports"][0]["report_uuid"].is_string());
    assert!(done["activity_to_mitre_techniques"].is_object());
    assert!(
        done.get("report").is_none(),
        "no full_report_score: no report"
    );
    let with_report = env
        .post(
            "/analysis/submit/file.json",
            &[("md5", &hashes[0].1), ("full_report_score", "0")],
        )
        .data();
    assert!(with_report["report"].is_object());
    // The same URL too; another URL is another task.
    let u1 = task_of(&env.post(
        "/analysis/submit/url.json",
        &[("url", "http://example.com/a")],
    ));
    let u2 = task_of(&env.post(
        "/analysis/submit/url.json",
        &[("url", "http://example.com/a")],
    ));
    let u3 = task_of(&env.post(
        "/analysis/submit/url.json",
        &[("url", "http://example.com/b")],
    ));
    assert_eq!(u1, u2);
    assert_ne!(u1, u3);
    // After expires: a new task.
    env.emu.advance_clock(31 * 86_400);
    assert_ne!(task_of(&env.upload(&content, &[])), task);

    // bypass_cache=1, with the privilege: a new task.
    let env = Env::new(Config {
        privileged: true,
        ..Config::default()
    });
    let a = task_of(&env.upload(b"same", &[]));
    assert_ne!(task_of(&env.upload(b"same", &[("bypass_cache", "1")])), a);
    // The switch off: every submission a new task.
    let env = Env::new(Config {
        submission_cache: false,
        ..Config::default()
    });
    let a = task_of(&env.upload(b"same", &[]));
    assert_ne!(task_of(&env.upload(b"same", &[])), a);
}

/// Checks `v` against a catalog field's type; `hex` allows `0x` integers.
fn check(v: &Value, f: &Value, path: &str, hex: bool) -> Result<(), String> {
    let ty = f["type"].as_str().unwrap_or("");
    let hexdigits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let is_int = |v: &Value| {
        v.is_i64()
            || (hex
                && v.as_str()
                    .and_then(|s| s.strip_prefix("0x"))
                    .is_some_and(|h| u64::from_str_radix(h, 16).is_ok()))
    };
    let ok = match ty {
        "string" | "enum" | "url" => v.is_string(),
        "int" => is_int(v),
        "number" => v.is_number(),
        "bool01" => matches!(v.as_i64(), Some(0 | 1)) || matches!(v.as_str(), Some("0" | "1")),
        "timestamp" => v
            .as_str()
            .is_some_and(|s| s.len() == 19 && s.as_bytes()[10] == b' '),
        "uuid" => v.as_str().is_some_and(|s| hexdigits(s, 32)),
        "hex-md5" => v.as_str().is_some_and(|s| hexdigits(s, 32)),
        "hex-sha1" => v.as_str().is_some_and(|s| hexdigits(s, 40)),
        "hex-sha256" => v.as_str().is_some_and(|s| hexdigits(s, 64)),
        "list" | "map" | "list|map" | "object" => true,
        other => return Err(format!("{path}: unknown catalog type {other}")),
    };
    if !ok {
        return Err(format!("{path}: {v} is not a {ty}"));
    }
    let item = |v: &Value, t: Option<&str>, p: &str| -> Result<(), String> {
        match t {
            Some("object") => fields(v, f["fields"].as_array().unwrap_or(&vec![]), p, hex),
            Some(t) => check(v, &serde_json::json!({"type": t}), p, hex),
            None => Ok(()),
        }
    };
    match (ty, v) {
        ("list" | "list|map", Value::Array(a)) => {
            for (i, x) in a.iter().enumerate() {
                item(x, f["item_type"].as_str(), &format!("{path}[{i}]"))?;
            }
        }
        ("map" | "list|map", Value::Object(m)) => {
            for (k, x) in m {
                item(x, f["map_value_type"].as_str(), &format!("{path}.{k}"))?;
            }
        }
        ("object", Value::Object(_)) => {
            fields(v, f["fields"].as_array().unwrap_or(&vec![]), path, hex)?;
        }
        ("list" | "list|map", Value::Null) => {}
        ("list" | "map" | "list|map" | "object", other) => {
            return Err(format!("{path}: {other} is not a {ty}"));
        }
        _ => {}
    }
    Ok(())
}

fn fields(v: &Value, specs: &[Value], path: &str, hex: bool) -> Result<(), String> {
    let Some(obj) = v.as_object() else {
        return Err(format!("{path}: {v} is not an object"));
    };
    for f in specs {
        let name = f["name"].as_str().unwrap();
        match obj.get(name) {
            Some(x) => check(x, f, &format!("{path}.{name}"), hex)?,
            None if f["optional"] == true || f.get("condition").is_some() => {}
            None => return Err(format!("{path}: {name} missing in {v}")),
        }
    }
    Ok(())
}

/// Every envelope method's answer in one flow: (method, data).
fn every_answer(cfg: Config) -> Vec<(&'static str, Value)> {
    let omitted = cfg.shapes.omit_optional;
    let env = Env::new(cfg);
    let mut out: Vec<(&'static str, Value)> = Vec::new();
    let mut zip = Vec::new();
    // A stored ZIP holding the EICAR file: child tasks.
    let name = b"inner.com";
    let body = evil();
    zip.extend_from_slice(b"PK\x03\x04");
    zip.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    zip.extend_from_slice(&(body.len() as u32).to_le_bytes());
    zip.extend_from_slice(&(body.len() as u32).to_le_bytes());
    zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip.extend_from_slice(name);
    zip.extend_from_slice(&body);
    let sub = env.upload(&zip, &[("filename", "bundle.zip")]);
    out.push(("submit_file", sub.data()));
    let task = task_of(&sub);
    let empty = task_of(&env.upload(b"", &[]));
    out.push((
        "submit_url",
        env.post(
            "/analysis/submit/url.json",
            &[("url", "http://example.com/x.exe")],
        )
        .data(),
    ));
    let t = [("uuid", task.as_str())];
    let results = env.get(
        "/analysis/get.json",
        &[("uuid", &task), ("full_report_score", "0")],
    );
    out.push(("get_results", results.data()));
    // Where the catalog makes the report UUID required (reports is
    // optional, and gone when optional members are left out).
    let activities = env.get("/analysis/get_result_activities.json", &t).data();
    let report = activities["report_activities"][0]["reports"][0]["report_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    out.push((
        "get_result",
        env.get("/analysis/get_result.json", &t).data(),
    ));
    out.push((
        "get_result_activities",
        env.get("/analysis/get_result_activities.json", &t).data(),
    ));
    out.push((
        "get_report_activities",
        env.get(
            "/analysis/get_report_activities.json",
            &[("uuid", &task), ("report_uuid", &report)],
        )
        .data(),
    ));
    let art = format!("{report}:network_traffic.pcap");
    out.push((
        "get_result_artifact",
        env.get(
            "/analysis/get_result_artifact.json",
            &[("uuid", &task), ("artifact_uuid", &art)],
        )
        .data(),
    ));
    let after = [("after", "2000-01-01")];
    out.push((
        "get_completed",
        env.get("/analysis/get_completed.json", &after).data(),
    ));
    out.push((
        "get_completed",
        env.get(
            "/analysis/get_completed.json",
            &[("after", "2000-01-01"), ("include_score", "1")],
        )
        .data(),
    ));
    let with_meta = env
        .get("/analysis/get_completed_with_metadata.json", &after)
        .data();
    assert!(
        omitted
            || with_meta["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["task_uuid"] == empty.as_str()
                    && e["insufficient_task_input_errors"].as_array().map(Vec::len) == Some(2)),
        "{with_meta}"
    );
    out.push(("get_completed_with_metadata", with_meta));
    out.push((
        "get_progress",
        env.get("/analysis/get_progress.json", &t).data(),
    ));
    out.push((
        "get_task_metadata",
        env.get("/analysis/get_task_metadata.json", &t).data(),
    ));
    let h = md5_hex(&zip);
    let q = [("hash_algorithm", "md5"), ("hash_value", h.as_str())];
    out.push((
        "query_file_hash",
        env.get("/analysis/query/file_hash.json", &q).data(),
    ));
    out.push((
        "is_blocked_file_hash",
        env.get("/analysis/query/is_blocked_file_hash.json", &q)
            .data(),
    ));
    out.push((
        "query_task_artifact",
        env.get(
            "/analysis/query_task_artifact.json",
            &[("uuid", &task), ("artifact_name", "network_traffic.pcap")],
        )
        .data(),
    ));
    out.push((
        "get_network_iocs",
        env.get("/analysis/ioc/get_network_iocs.json", &t).data(),
    ));
    let ioc = env
        .get(
            "/analysis/ioc/create_ioc_from_result.json",
            &[
                ("uuid", &task),
                ("report_uuid", &report),
                ("report_version", "ioc:stix"),
            ],
        )
        .data();
    let ioc_uuid = ioc["ioc_uuid"].as_str().unwrap().to_string();
    out.push(("create_ioc_from_result", ioc));
    out.push((
        "get_ioc_metadata",
        env.get(
            "/analysis/ioc/get_ioc_metadata.json",
            &[("ioc_uuid", &ioc_uuid)],
        )
        .data(),
    ));
    out.push((
        "get_api_utc_timestamp",
        env.get("/analysis/get_api_utc_timestamp.json", &[]).data(),
    ));
    out.push((
        "get_analysis_tags",
        env.get("/analysis/get_analysis_tags.json", &t).data(),
    ));
    out.push((
        "get_child_tasks_recursively",
        env.get("/analysis/get_child_tasks_recursively.json", &t)
            .data(),
    ));
    out.push((
        "export_report",
        env.post(
            "/analysis/export_report.json",
            &[("uuid", &task), ("report_type", "OVERVIEW")],
        )
        .data(),
    ));
    out.push((
        "export_report",
        env.post(
            "/analysis/export_report.json",
            &[("uuid", &task), ("report_type", "FULL")],
        )
        .data(),
    ));
    out.push((
        "get_completed_exported_reports",
        env.get("/analysis/get_completed_exported_reports.json", &[])
            .data(),
    ));
    out.push((
        "is_risky_analysis_artifact",
        env.get(
            "/analysis/is_risky_analysis_artifact.json",
            &[("uuid", &task), ("artifact_uuid", &art)],
        )
        .data(),
    ));
    // A pending task last (it stays pending).
    env.emu
        .configure(|c| c.completion_delay = Duration::from_secs(3600));
    env.post(
        "/analysis/submit/url.json",
        &[("url", "http://example.com/slow")],
    );
    out.push((
        "get_pending",
        env.get("/analysis/get_pending.json", &[]).data(),
    ));
    out
}

#[test]
fn every_answer_keeps_the_catalog_types_in_every_shape() {
    let cat = catalog();
    let methods = cat["methods"].as_array().unwrap();
    let shapes = [
        Shapes::default(),
        Shapes {
            reading: Reading::Plain,
            ..Shapes::default()
        },
        Shapes {
            hex: Some(Hex::Quoted),
            string_flags: true,
            ..Shapes::default()
        },
        Shapes {
            omit_optional: true,
            reading: Reading::Plain,
            ..Shapes::default()
        },
    ];
    for s in shapes {
        let answers = every_answer(Config {
            shapes: s,
            ..Config::default()
        });
        let covered: std::collections::BTreeSet<&str> = answers.iter().map(|(m, _)| *m).collect();
        for (name, data) in &answers {
            let m = methods.iter().find(|m| m["name"] == *name).unwrap();
            let mut specs = m["response"]["fields"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if let Some(base) = m["response"]["same_as"]["method"].as_str() {
                let b = methods.iter().find(|m| m["name"] == base).unwrap();
                specs.extend(
                    b["response"]["fields"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default(),
                );
            }
            // The plain reading follows two recorded ambiguities that move
            // a member the field list has: get_completed_with_metadata-
            // continuation (the examples have no resume; clients use
            // before) and query_file_hash-nesting (expires at the top).
            let moved: &[(&str, &[&str])] = &[
                ("get_completed_with_metadata", &["resume"]),
                ("query_file_hash", &["tasks", "expires"]),
            ];
            for (m, path) in moved {
                if m == name && s.reading == Reading::Plain {
                    relax(&mut specs, path);
                }
            }
            if let Err(e) = fields(data, &specs, name, s.hex.is_some()) {
                panic!("{s:?}: {e}");
            }
        }
        // Every envelope method with object data is in the flow.
        for m in methods {
            let kind = m["response"]["kind"].as_str().unwrap();
            if kind != "raw" && m["response"]["data_type"] == "object" {
                assert!(
                    covered.contains(m["name"].as_str().unwrap()),
                    "{} not covered",
                    m["name"]
                );
            }
        }
    }
}

/// Marks the field at `path` (names through nested `fields`) optional.
fn relax(specs: &mut [Value], path: &[&str]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    for f in specs.iter_mut().filter(|f| f["name"] == *first) {
        if rest.is_empty() {
            f["optional"] = true.into();
        } else if let Some(inner) = f["fields"].as_array_mut() {
            relax(inner, rest);
        }
    }
}

fn find<'a>(answers: &'a [(&str, Value)], name: &str) -> &'a Value {
    &answers.iter().find(|(m, _)| *m == name).unwrap().1
}

#[test]
fn open_shapes_come_in_both_readings() {
    let rich = every_answer(Config::default());
    let plain = every_answer(Config {
        shapes: Shapes {
            reading: Reading::Plain,
            ..Shapes::default()
        },
        ..Config::default()
    });
    // MITRE technique information: objects with id, name, tactics; or ids.
    let r = find(&rich, "get_results");
    let techniques = r["activity_to_mitre_techniques"]["Signature: EICAR test string"].clone();
    assert_eq!(techniques[0]["id"], "T1027");
    assert!(techniques[0]["name"].is_string() && techniques[0]["tactics"].is_array());
    let p = find(&plain, "get_results");
    assert_eq!(
        p["activity_to_mitre_techniques"]["Signature: EICAR test string"],
        serde_json::json!(["T1027"])
    );
    // Reports with report_versions, an errors list, a nested report.
    assert!(r["reports"][0]["report_versions"].is_array());
    assert!(p["reports"][0].get("report_versions").is_none());
    assert!(r["errors"][0].is_string());
    assert!(p.get("errors").is_none());
    assert!(r["report"]["overview"]["subject"]["hashes"]["sha256"].is_string());
    assert!(r["report"]["activities"][0]["process"]["children"].is_array());
    assert!(p["report"]["overview"].is_null() && p["report"]["score"].is_i64());
    // Nested activity objects beyond the catalog's members.
    let ra = find(&rich, "get_result_activities");
    assert!(ra["report_activities"][0]["details"]["process"].is_object());
    assert!(
        find(&plain, "get_result_activities")["report_activities"][0]
            .get("details")
            .is_none()
    );
    // Open objects with more members: pcap_info, tag data, child values.
    assert!(find(&rich, "get_network_iocs")["network_iocs"][0]["pcap_info"]["hosts"].is_array());
    assert!(
        find(&plain, "get_network_iocs")["network_iocs"][0]["pcap_info"]
            .get("hosts")
            .is_none()
    );
    let tags = |a: &[(&str, Value)]| {
        find(a, "get_analysis_tags")["analysis_tags"]
            .as_array()
            .unwrap()
            .len()
    };
    assert!(tags(&rich) > tags(&plain));
    let child = |a: &[(&str, Value)]| {
        find(a, "get_child_tasks_recursively")["child_tasks"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()
            .clone()
    };
    assert!(child(&rich)["score"].is_i64());
    assert_eq!(child(&plain), serde_json::json!({"depth": 1}));
    // expires in each hash-query entry, or at the top.
    let q = find(&rich, "query_file_hash");
    assert!(q["tasks"][0]["expires"].is_string() && q.get("expires").is_none());
    let q = find(&plain, "query_file_hash");
    assert!(q["tasks"][0].get("expires").is_none() && q["expires"].is_string());
    // resume where a reading has it; always in get_completed.
    assert!(find(&rich, "get_pending")["resume"].is_string());
    assert!(find(&plain, "get_pending").get("resume").is_none());
    assert!(find(&rich, "get_completed_with_metadata")["resume"].is_string());
    assert!(find(&plain, "get_completed_with_metadata")
        .get("resume")
        .is_none());
    assert!(find(&plain, "get_completed")["resume"].is_string());
}

#[test]
fn get_ioc_report_is_a_document_or_a_success_envelope() {
    for reading in [Reading::Rich, Reading::Plain] {
        let env = Env::new(Config {
            shapes: Shapes {
                reading,
                ..Shapes::default()
            },
            ..Config::default()
        });
        let task = task_of(&env.upload(&evil(), &[]));
        let report = env.get("/analysis/get.json", &[("uuid", &task)]).data()["reports"][0]
            ["report_uuid"]
            .as_str()
            .unwrap()
            .to_string();
        let ioc = env
            .get(
                "/analysis/ioc/create_ioc_from_result.json",
                &[
                    ("uuid", &task),
                    ("report_uuid", &report),
                    ("report_version", "ioc:openioc"),
                ],
            )
            .data()["ioc_uuid"]
            .as_str()
            .unwrap()
            .to_string();
        let r = env.get("/ioc/get_ioc_report", &[("ioc_uuid", &ioc)]);
        assert_eq!(r.status, 200);
        match reading {
            Reading::Rich => assert!(r.body.starts_with(b"<?xml")),
            Reading::Plain => assert_eq!(r.data()["score"], 100),
        }
    }
}

#[test]
fn hex_integers_omitted_fields_and_string_flags() {
    let hex = |h| {
        Env::new(Config {
            shapes: Shapes {
                hex: Some(h),
                ..Shapes::default()
            },
            ..Config::default()
        })
    };
    let env = hex(Hex::Quoted);
    let task = task_of(&env.upload(b"h", &[]));
    let p = env
        .get("/analysis/get_progress.json", &[("uuid", &task)])
        .data();
    assert_eq!(p["progress"], "0x64");
    assert_eq!(p["completed"], 1, "flags stay flags");
    let c = env
        .get(
            "/analysis/get_completed.json",
            &[("after", "2000-01-01"), ("include_score", "1")],
        )
        .data();
    let score = c["tasks"][task.as_str()].as_str().unwrap();
    assert!(score.starts_with("0x"), "{score}");
    let e = env
        .get("/analysis/get_progress.json", &[("uuid", &"0".repeat(32))])
        .json();
    assert_eq!(e["error_code"], "0x69");
    // Bare: 0x64 as a token, as the reference may be read.
    let env = hex(Hex::Bare);
    let task = task_of(&env.upload(b"h", &[]));
    let r = env.get("/analysis/get_progress.json", &[("uuid", &task)]);
    assert!(String::from_utf8_lossy(&r.body).contains(r#""progress":0x64"#));
    // Every optional field left out, nested ones too.
    let env = Env::new(Config {
        shapes: Shapes {
            omit_optional: true,
            ..Shapes::default()
        },
        ..Config::default()
    });
    let task = task_of(&env.upload(&evil(), &[]));
    let r = env
        .get("/analysis/get_result.json", &[("uuid", &task)])
        .data();
    let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["score", "submission"]);
    let c = env
        .get("/analysis/get_completed.json", &[("after", "2000-01-01")])
        .data();
    assert!(c.get("more_results_available").is_none() && c["resume"].is_string());
    // Flags as strings.
    let env = Env::new(Config {
        shapes: Shapes {
            string_flags: true,
            ..Shapes::default()
        },
        ..Config::default()
    });
    let c = env
        .get("/analysis/get_completed.json", &[("after", "2000-01-01")])
        .data();
    assert_eq!(c["more_results_available"], "0");
}

#[test]
fn exported_reports_redirect_to_the_cdn_origin() {
    let env = Env::new(Config::default());
    let task = task_of(&env.upload(b"export me", &[("filename", "export.doc")]));
    let export = env
        .post(
            "/analysis/export_report.json",
            &[("uuid", &task), ("report_type", "OVERVIEW")],
        )
        .data()["exported_report_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let q = [("exported_report_uuid", export.as_str())];
    let r = env.get("/analysis/get_exported_report", &q);
    assert_eq!(r.status, 302);
    let (addr, target) = split_url(r.header("location").unwrap());
    assert_eq!(addr, env.emu.cdn_addr());
    assert_ne!(addr, env.emu.addr(), "another origin");
    // Fetched without credentials, as a careful client does.
    let pdf = follow(&r);
    assert_eq!(pdf.status, 200);
    assert!(pdf.body.starts_with(b"%PDF"));
    assert!(pdf.header("content-disposition").unwrap().contains(".pdf"));
    // A client that sends its credentials along is noted.
    let sent = send(addr, "GET", &target, &env.auth, b"");
    assert_eq!(sent.status, 200);
    let cdn: Vec<_> = env
        .emu
        .log()
        .entries()
        .into_iter()
        .filter(|e| e.origin == Origin::Cdn)
        .collect();
    assert_eq!(cdn.len(), 2);
    assert!(cdn[0].violations.is_empty() && cdn[0].credentials.is_empty());
    assert_eq!(cdn[1].violations, [Violation::CredentialsToOtherOrigin]);
    assert_eq!(
        send(addr, "GET", "/exports/nosuch/x.pdf", &[], b"").status,
        404
    );
    // cdn=0, or the switch off: the bytes directly.
    let direct = env.get(
        "/analysis/get_exported_report",
        &[("exported_report_uuid", &export), ("cdn", "0")],
    );
    assert_eq!(direct.status, 200);
    assert_eq!(direct.body, pdf.body);
    env.emu.configure(|c| c.cdn_redirect = false);
    assert_eq!(env.get("/analysis/get_exported_report", &q).status, 200);
}

#[test]
fn datacenter_redirects_once_always_and_never_when_disallowed() {
    let env = Env::new(Config {
        datacenter_redirect: Redirect::Once,
        ..Config::default()
    });
    let r = env.get("/authentication/ping.json", &[]);
    assert_eq!(r.status, 307);
    let loc = r.header("location").unwrap().to_string();
    let (addr, target) = split_url(&loc);
    assert_eq!(addr, env.emu.datacenter_addr());
    assert!(target.starts_with("/authentication/ping.json?"));
    // Followed without credentials: the redirect carries the standing.
    let followed = follow(&r);
    assert_eq!(followed.data(), "pong");
    // Once: the next call is served where it was sent.
    assert_eq!(env.get("/authentication/ping.json", &[]).data(), "pong");
    // The grant is good for one request.
    assert_eq!(send(addr, "GET", &target, &[], b"").error_code(), Some(122));

    let env = Env::new(Config {
        datacenter_redirect: Redirect::Always,
        ..Config::default()
    });
    for _ in 0..2 {
        assert_eq!(
            env.get("/analysis/get_api_utc_timestamp.json", &[]).status,
            307
        );
    }
    // A POST keeps its body through a 307; credentials sent along are noted.
    let r = env.post(
        "/analysis/submit/url.json",
        &[("url", "http://example.com/dc")],
    );
    assert_eq!(r.status, 307);
    let (addr, target) = split_url(r.header("location").unwrap());
    let mut h = env.auth.clone();
    h.push((
        "Content-Type".into(),
        "application/x-www-form-urlencoded".into(),
    ));
    let body = form(&[("url", "http://example.com/dc")]);
    assert!(send(addr, "POST", &target, &h, body.as_bytes()).data()["task_uuid"].is_string());
    let last = env.emu.log().entries().pop().unwrap();
    assert_eq!(last.origin, Origin::Datacenter);
    assert_eq!(last.violations, [Violation::CredentialsToOtherOrigin]);
    // allow_datacenter_redirect=0: served here.
    let here = env.get(
        "/analysis/get_api_utc_timestamp.json",
        &[("allow_datacenter_redirect", "0")],
    );
    assert!(here.data()["timestamp"].is_string());
}

#[test]
fn format_suffixes_match_in_any_case_and_are_logged_as_sent() {
    let env = Env::new(Config::default());
    let task = task_of(&env.upload(b"suffix", &[]));
    for sfx in ["json", "JSON", "Json"] {
        let r = env.get(&format!("/analysis/get_progress.{sfx}"), &[("uuid", &task)]);
        assert_eq!(r.data()["progress"], 100, "{sfx}");
    }
    for sfx in ["pdf", "PDF"] {
        let r = env.get(&format!("/analysis/get.{sfx}"), &[("uuid", &task)]);
        assert!(r.body.starts_with(b"%PDF"), "{sfx}");
    }
    let r = env.get("/analysis/get_progress.XML", &[("uuid", &task)]);
    assert!(r.body.starts_with(b"<?xml"));
    let sent: Vec<Option<String>> = env
        .emu
        .log()
        .entries()
        .iter()
        .skip(1)
        .map(|e| e.suffix.clone())
        .collect();
    let want = ["json", "JSON", "Json", "pdf", "PDF", "XML"];
    assert_eq!(sent, want.map(|s| Some(s.to_string())));
    let r = env.get("/authentication/ping", &[]);
    assert_eq!(r.data(), "pong");
    assert_eq!(env.emu.log().entries().pop().unwrap().suffix, None);
}

#[test]
fn latency_holds_every_response() {
    let env = Env::new(Config {
        latency: Duration::from_millis(300),
        ..Config::default()
    });
    let start = Instant::now();
    assert_eq!(env.get("/authentication/ping.json", &[]).data(), "pong");
    // A lower bound only: the emulator sleeps at least this long.
    assert!(start.elapsed() >= Duration::from_millis(300));
}

/// The text a PDF shows: its string literals, unescaped, one a line.
fn pdf_text(pdf: &[u8]) -> String {
    let mut out = String::new();
    let mut depth = 0;
    let mut bytes = pdf.iter();
    while let Some(&b) = bytes.next() {
        match (depth, b) {
            (0, b'(') => depth = 1,
            (0, _) => {}
            (_, b'\\') => {
                if let Some(&e) = bytes.next() {
                    out.push(e as char);
                }
            }
            (_, b')') => {
                depth -= 1;
                if depth == 0 {
                    out.push('\n');
                } else {
                    out.push(')');
                }
            }
            (_, b'(') => {
                depth += 1;
                out.push('(');
            }
            (_, b) => out.push(b as char),
        }
    }
    out
}

#[test]
fn reports_carry_the_analysis_in_pdf_rtf_and_json() {
    let env = Env::new(Config::default());
    let content = evil();
    let task = task_of(&env.upload(&content, &[("filename", "dropper.exe")]));
    let expected = [
        "dropper.exe".to_string(),
        md5_hex(&content),
        sha1_hex(&content),
        sha256_hex(&content),
        "Score: 100/100".into(),
        "Verdict: malicious".into(),
        "Threat: EICAR-Test-File".into(),
        "Submitted: ".into(),
        "Completed: ".into(),
        task.clone(),
    ];
    let pdf = env.get("/analysis/get.pdf", &[("uuid", &task)]);
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    let shown = pdf_text(&pdf.body);
    let rtf = env.get("/analysis/get.rtf", &[("uuid", &task)]);
    assert!(rtf.body.starts_with(b"{\\rtf1"));
    let rtf_text = String::from_utf8_lossy(&rtf.body).to_string();
    let json = env
        .get(
            "/analysis/get.json",
            &[("uuid", &task), ("full_report_score", "0")],
        )
        .data()["report"]
        .to_string();
    for e in &expected {
        assert!(shown.contains(e.as_str()), "PDF lacks {e}:\n{shown}");
        assert!(rtf_text.contains(e.as_str()), "RTF lacks {e}");
    }
    for e in &expected[1..4] {
        assert!(json.contains(e.as_str()), "JSON report lacks {e}");
    }
    // The exported report shows the same, with its type.
    let export = env
        .post(
            "/analysis/export_report.json",
            &[("uuid", &task), ("report_type", "FULL")],
        )
        .data()["exported_report_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let exported = follow(&env.get(
        "/analysis/get_exported_report",
        &[("exported_report_uuid", &export)],
    ));
    let shown = pdf_text(&exported.body);
    assert!(
        shown.contains("FULL report")
            && shown.contains("Verdict: malicious")
            && shown.contains("dropper.exe"),
        "{shown}"
    );
}

#[test]
fn faults_per_endpoint_downloads_included() {
    let env = Env::new(Config::default());
    let task = task_of(&env.upload(b"faults", &[]));
    let report = env.get("/analysis/get.json", &[("uuid", &task)]).data()["reports"][0]
        ["report_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let art = [
        ("uuid", task.as_str()),
        ("report_uuid", report.as_str()),
        ("artifact_name", "network_traffic.pcap"),
    ];
    let faults = env.emu.faults();
    // 107 on a download, twice; other endpoints untouched meanwhile.
    faults.add(FaultRule::new(
        Some("get_report_artifact"),
        Fault::Unavailable,
        2,
    ));
    assert_eq!(env.get("/authentication/ping.json", &[]).data(), "pong");
    for _ in 0..2 {
        assert_eq!(
            env.get("/analysis/get_report_artifact", &art).error_code(),
            Some(107)
        );
    }
    assert_eq!(env.get("/analysis/get_report_artifact", &art).status, 200);
    // 122: the session is gone (a raw endpoint says 401).
    let mut c = env.auth.clone();
    c.clear();
    let login = env.post("/authentication/login.json", &[]);
    let cookie = login
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    c.push(("Cookie".into(), cookie));
    let via_cookie = |p: &str| send(env.emu.addr(), "GET", p, &c, b"");
    assert_eq!(via_cookie("/authentication/ping.json").data(), "pong");
    faults.add(FaultRule::new(
        Some("get_report_artifact"),
        Fault::SessionGone,
        1,
    ));
    let r = env.get("/analysis/get_report_artifact", &art);
    assert_eq!(r.status, 401);
    assert_eq!(
        via_cookie("/authentication/ping.json").error_code(),
        Some(122)
    );
    faults.add(FaultRule::new(Some("get_completed"), Fault::SessionGone, 1));
    assert_eq!(
        env.get("/analysis/get_completed.json", &[("after", "2000-01-01")])
            .error_code(),
        Some(122)
    );
    // 5xx with and without Retry-After (seconds or an HTTP date), 429.
    faults.add(FaultRule::new(
        Some("ping"),
        Fault::ServerError {
            status: 503,
            retry_after: Some(RetryAfter::Seconds(2)),
        },
        1,
    ));
    faults.add(FaultRule::new(
        Some("ping"),
        Fault::ServerError {
            status: 502,
            retry_after: None,
        },
        1,
    ));
    faults.add(FaultRule::new(
        Some("ping"),
        Fault::TooManyRequests(RetryAfter::HttpDate(30)),
        1,
    ));
    let r = env.get("/authentication/ping.json", &[]);
    assert_eq!((r.status, r.header("retry-after")), (503, Some("2")));
    assert!(String::from_utf8_lossy(&r.body).contains("<html>"));
    let r = env.get("/authentication/ping.json", &[]);
    assert_eq!((r.status, r.header("retry-after")), (502, None));
    let r = env.get("/authentication/ping.json", &[]);
    assert_eq!(r.status, 429);
    let date = r.header("retry-after").unwrap();
    assert!(date.ends_with(" GMT") && date.len() == 29, "{date}");
    // Reset before the head: served, then silence. The task exists.
    faults.add(FaultRule::new(
        Some("submit_file"),
        Fault::ResetBeforeHead,
        1,
    ));
    let body = multipart("B", &[], &[("file", "f", b"reset before head")]);
    let mut req = format!(
        "POST /analysis/submit/file.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in &env.auth {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let (got, _) = raw(env.emu.addr(), &[req.as_bytes(), &body].concat());
    assert!(got.is_empty(), "{:?}", String::from_utf8_lossy(&got));
    let known = env.post(
        "/analysis/submit/file.json",
        &[("md5", &md5_hex(b"reset before head"))],
    );
    assert!(
        known.data()["task_uuid"].is_string(),
        "the reset submission made its task"
    );
    // Reset mid-head: part of the status line, no end of head.
    faults.add(FaultRule::new(Some("ping"), Fault::ResetMidHead, 1));
    let (got, _) = raw(
        env.emu.addr(),
        &get_request(env.emu.addr(), "/authentication/ping.json", &env.auth),
    );
    assert!(
        !got.is_empty()
            && got.starts_with(b"HTTP/1.1")
            && !got.windows(4).any(|w| w == b"\r\n\r\n"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
    // Reset mid-body, on a download.
    faults.add(FaultRule::new(Some("get_results"), Fault::ResetMidBody, 1));
    let r = env.get("/analysis/get.pdf", &[("uuid", &task)]);
    assert!(r.truncated);
    let whole = env.get("/analysis/get.pdf", &[("uuid", &task)]);
    assert!(!whole.truncated && r.body.len() < whole.body.len());
    // Slow, and close.
    faults.add(FaultRule::new(
        Some("ping"),
        Fault::Slow(Duration::from_millis(200)),
        1,
    ));
    let t = Instant::now();
    env.get("/authentication/ping.json", &[]);
    assert!(t.elapsed() >= Duration::from_millis(200));
    faults.add(FaultRule::new(Some("ping"), Fault::Close, 1));
    let r = env.get("/authentication/ping.json", &[]);
    assert_eq!(r.header("connection"), Some("close"));
    // Always, until cleared; the CDN takes rules named for it.
    faults.add(FaultRule::always(
        Some("get_api_utc_timestamp"),
        Fault::Unavailable,
    ));
    for _ in 0..3 {
        assert_eq!(
            env.get("/analysis/get_api_utc_timestamp.json", &[])
                .error_code(),
            Some(107)
        );
    }
    faults.set(|f| f.rules.clear());
    faults.add("cdn:503,retry-after=1".parse().unwrap());
    let export = env
        .post(
            "/analysis/export_report.json",
            &[("uuid", &task), ("report_type", "OVERVIEW")],
        )
        .data()["exported_report_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let redirect = env.get(
        "/analysis/get_exported_report",
        &[("exported_report_uuid", &export)],
    );
    assert_eq!(follow(&redirect).status, 503);
    assert_eq!(follow(&redirect).status, 200);
}

#[test]
fn violations_are_logged_per_request() {
    let env = Env::new(Config {
        completion_delay: Duration::from_secs(600),
        ..Config::default()
    });
    let task = task_of(&env.upload(b"slow", &[("require_file_analysis", "1")]));
    let log = env.emu.log().entries();
    assert_eq!(
        log[0].violations,
        [Violation::UndocumentedParam("require_file_analysis".into())]
    );
    // Credentials in the URL (still served, as servers do).
    let (k, t) = env.emu.credentials();
    let r = send(
        env.emu.addr(),
        "GET",
        &format!("/authentication/ping.json?key={k}&api_token={t}"),
        &[],
        b"",
    );
    assert_eq!(r.data(), "pong");
    assert_eq!(
        env.emu.log().entries()[1].violations,
        [Violation::CredentialsInUrl]
    );
    // Asking one incomplete task again and again.
    for _ in 0..2 {
        assert_eq!(
            env.get("/analysis/get_progress.json", &[("uuid", &task)])
                .data()["completed"],
            0
        );
    }
    let log = env.emu.log().entries();
    assert!(log[2].violations.is_empty());
    assert_eq!(
        log[3].violations,
        [Violation::PollingIncompleteTask(task.clone())]
    );
    // A malformed multipart body: 400, and noted.
    let mut h = env.auth.clone();
    h.push((
        "Content-Type".into(),
        "multipart/form-data; boundary=XyZ".into(),
    ));
    let r = send(
        env.emu.addr(),
        "POST",
        "/analysis/submit/file.json",
        &h,
        b"--XyZ\r\nno headers end",
    );
    assert_eq!(r.status, 400);
    let last = env.emu.log().entries().pop().unwrap();
    assert!(
        matches!(&last.violations[..], [Violation::MalformedMultipart(_)]),
        "{:?}",
        last.violations
    );
}
