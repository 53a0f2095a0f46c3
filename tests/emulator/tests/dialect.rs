//! The long-standing official client's dialect (`shared/spec/wire-dialect.md`),
//! spoken with raw requests: each observed behaviour gets the answer that
//! client needs, and its whole flow works end to end.

mod client;

use std::net::SocketAddr;
use std::time::Duration;

use client::*;
use lastline_emulator::{Config, CredentialSource, Emulator, Violation, EICAR};
use serde_json::Value;

/// What that client does: log in first, then send only the cookie; on
/// error 122 log in again and retry, at most twice.
struct Official {
    addr: SocketAddr,
    key: String,
    token: String,
    cookie: Option<String>,
    logins: u32,
}

impl Official {
    fn new(emu: &Emulator) -> Self {
        let (key, token) = emu.credentials();
        let mut c = Self {
            addr: emu.addr(),
            key,
            token,
            cookie: None,
            logins: 0,
        };
        c.login();
        c
    }

    fn login(&mut self) {
        let body = form(&[("key", &self.key), ("api_token", &self.token)]);
        let r = send(
            self.addr,
            "POST",
            "/authentication/login.json",
            &[form_type()],
            body.as_bytes(),
        );
        assert_eq!(r.data(), "success");
        let set = r.header("set-cookie").expect("login sets a cookie");
        self.cookie = Some(set.split(';').next().unwrap().to_string());
        self.logins += 1;
    }

    fn headers(&self, extra: Option<(String, String)>) -> Vec<(String, String)> {
        let mut h: Vec<(String, String)> = self
            .cookie
            .iter()
            .map(|c| ("Cookie".to_string(), c.clone()))
            .collect();
        h.extend(extra);
        h
    }

    fn call(&mut self, method: &str, path: &str, params: &[(&str, &str)]) -> Resp {
        for _ in 0..3 {
            let r = if method == "GET" {
                let target = if params.is_empty() {
                    path.to_string()
                } else {
                    format!("{path}?{}", form(params))
                };
                send(self.addr, "GET", &target, &self.headers(None), b"")
            } else {
                send(
                    self.addr,
                    "POST",
                    path,
                    &self.headers(Some(form_type())),
                    form(params).as_bytes(),
                )
            };
            let expired = r.header("content-type") == Some("application/json")
                && r.json()["success"] == 0
                && r.json()["error_code"] == 122;
            if !expired {
                return r;
            }
            self.login();
        }
        panic!("still 122 after two logins");
    }

    fn get(&mut self, path: &str, params: &[(&str, &str)]) -> Resp {
        self.call("GET", path, params)
    }

    fn post(&mut self, path: &str, params: &[(&str, &str)]) -> Resp {
        self.call("POST", path, params)
    }

    /// Its upload: the sample as part `file` with a placeholder part file
    /// name and no part Content-Type, the real name in the field
    /// `filename`, the FILE parameters as file parts named like their
    /// field, `password_candidates` as a JSON list.
    fn upload(&mut self, content: &[u8], name: &str) -> Resp {
        let fields = [
            ("filename", name),
            ("full_report_score", "-1"),
            ("require_file_analysis", "1"),
            ("direction", "FROM_SERVER"),
            ("protocol", "http"),
        ];
        let files: [(&str, &str, &[u8]); 5] = [
            ("file", "file", content),
            ("download_host", "download_host", b"files.example.net"),
            (
                "download_url",
                "download_url",
                b"http://files.example.net/a.exe",
            ),
            ("download_agent", "download_agent", b"Mozilla/5.0"),
            (
                "password_candidates",
                "password_candidates",
                br#"["infected", "malware"]"#,
            ),
        ];
        let body = multipart("officialBoundary", &fields, &files);
        let ct = (
            "Content-Type".to_string(),
            "multipart/form-data; boundary=officialBoundary".to_string(),
        );
        send(
            self.addr,
            "POST",
            "/analysis/submit/file.json",
            &self.headers(Some(ct)),
            &body,
        )
    }

    /// Its hash submission: urlencoded, with its constant extras.
    fn submit_hash(&mut self, md5: &str) -> Resp {
        self.post(
            "/analysis/submit/file.json",
            &[
                ("md5", md5),
                ("full_report_score", "-1"),
                ("require_file_analysis", "1"),
                ("direction", "FROM_SERVER"),
                ("protocol", "http"),
            ],
        )
    }
}

fn form_type() -> (String, String) {
    (
        "Content-Type".into(),
        "application/x-www-form-urlencoded".into(),
    )
}

fn sample() -> Vec<u8> {
    let mut v = b"captured off the wire: ".to_vec();
    v.extend_from_slice(EICAR);
    v
}

#[test]
fn login_then_the_cookie_only_and_again_on_122() {
    let emu = Emulator::start(Config::default()).unwrap();
    let mut c = Official::new(&emu);
    assert_eq!(c.get("/authentication/ping.json", &[]).data(), "pong");
    let log = emu.log().entries();
    assert_eq!(log[0].credentials, [CredentialSource::Body]);
    assert_eq!(log[1].credentials, [CredentialSource::Cookie]);
    // The session ends: 122, a new login, the call again.
    emu.faults().set(|f| f.expire_sessions = true);
    assert_eq!(c.get("/authentication/ping.json", &[]).data(), "pong");
    emu.faults().set(|f| f.expire_sessions = false);
    assert!(c.get("/analysis/get_api_utc_timestamp.json", &[]).data()["timestamp"].is_string());
    assert_eq!(c.logins, 2);
    assert!(emu
        .log()
        .entries()
        .iter()
        .all(|e| !e.credentials.contains(&CredentialSource::Basic)));
}

#[test]
fn the_completed_alias_with_scores_resume_and_more_results() {
    let emu = Emulator::start(Config {
        page_size: 2,
        ..Config::default()
    })
    .unwrap();
    let mut c = Official::new(&emu);
    let mut tasks = Vec::new();
    for i in 0..5u8 {
        let r = c.upload(&[b'x', i], &format!("f{i}.bin"));
        tasks.push(r.data()["task_uuid"].as_str().unwrap().to_string());
    }
    // Its loop: from `resume`, at once while more_results_available is 1.
    let mut after = "2000-01-01 00:00:00".to_string();
    let mut seen: Vec<String> = Vec::new();
    for _ in 0..10 {
        let d = c
            .get(
                "/analysis/completed.json",
                &[("after", &after), ("include_score", "1")],
            )
            .data();
        for (uuid, score) in d["tasks"].as_object().expect("include_score=1: a map") {
            assert!(score.is_i64());
            seen.push(uuid.clone());
        }
        after = d["resume"].as_str().expect("resume present").to_string();
        match d["more_results_available"]
            .as_i64()
            .expect("more_results_available present")
        {
            1 => continue,
            _ => break,
        }
    }
    seen.sort();
    seen.dedup();
    tasks.sort();
    assert_eq!(seen, tasks);
    assert!(emu
        .log()
        .entries()
        .iter()
        .any(|e| e.path == "/analysis/completed.json" && e.api_method == Some("get_completed")));
}

#[test]
fn the_server_clock_from_an_after_far_in_the_future() {
    let emu = Emulator::start(Config {
        clock_offset_secs: -3600,
        ..Config::default()
    })
    .unwrap();
    let mut c = Official::new(&emu);
    let d = c
        .get(
            "/analysis/completed.json",
            &[("after", "2099-01-01 00:00:00")],
        )
        .data();
    let before = unix(d["before"].as_str().unwrap());
    let ours = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    // The server's clock: an hour behind ours (a few seconds of slack).
    assert!((ours - 3600 - before).abs() <= 5, "{before} vs {ours}");
}

/// Seconds since the epoch of `YYYY-MM-DD HH:MM:SS` (UTC).
fn unix(t: &str) -> i64 {
    let n = |r: std::ops::Range<usize>| t[r].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    let (y, m) = if m <= 2 { (y - 1, m + 12) } else { (y, m) };
    let days = 365 * y + y / 4 - y / 100 + y / 400 + (153 * (m - 3) + 2) / 5 + d - 719_469;
    days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)
}

#[test]
fn lower_case_hash_algorithms_and_protocol() {
    let emu = Emulator::start(Config::default()).unwrap();
    let mut c = Official::new(&emu);
    let content = sample();
    // Unknown: 101 to its hash submission with the constant extras.
    assert_eq!(c.submit_hash(&md5_hex(&content)).error_code(), Some(101));
    c.upload(&content, "capture.bin").data();
    for alg in ["md5", "sha1", "sha256"] {
        let h = match alg {
            "md5" => md5_hex(&content),
            "sha1" => {
                use sha1::Digest as _;
                hex::encode(sha1::Sha1::digest(&content))
            }
            _ => {
                use sha2::Digest as _;
                hex::encode(sha2::Sha256::digest(&content))
            }
        };
        let d = c
            .get(
                "/analysis/query/file_hash.json",
                &[("hash_algorithm", alg), ("hash_value", &h)],
            )
            .data();
        assert_eq!(d["files_found"], 1, "{alg}");
    }
}

#[test]
fn uploads_with_parts_named_like_their_fields() {
    let emu = Emulator::start(Config::default()).unwrap();
    let mut c = Official::new(&emu);
    let r = c.upload(b"an upload in the old style", "real-name.doc");
    let task = r.data()["task_uuid"].as_str().unwrap().to_string();
    let meta = c
        .get("/analysis/get_task_metadata.json", &[("uuid", &task)])
        .data();
    assert_eq!(
        meta["filename"], "real-name.doc",
        "the name from the filename field"
    );
    assert_eq!(meta["file_size"], 26);
    let upload = emu
        .log()
        .entries()
        .into_iter()
        .find(|e| e.api_method == Some("submit_file"))
        .unwrap();
    let part = |n: &str| upload.parts.iter().find(|p| p.name == n).unwrap().clone();
    assert_eq!(part("file").filename.as_deref(), Some("file"));
    assert_eq!(
        part("download_host").filename.as_deref(),
        Some("download_host")
    );
    // What it sends beyond the reference is served and noted.
    for p in ["require_file_analysis", "download_url", "download_agent"] {
        assert!(
            upload
                .violations
                .contains(&Violation::UndocumentedParam(p.into())),
            "{p}"
        );
    }
}

#[test]
fn results_with_include_scoring_components_0_and_the_report_artifacts() {
    let emu = Emulator::start(Config::default()).unwrap();
    let mut c = Official::new(&emu);
    let task = c.upload(&sample(), "s.exe").data()["task_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let d = c
        .get(
            "/analysis/get.json",
            &[
                ("uuid", &task),
                ("full_report_score", "-1"),
                ("include_scoring_components", "0"),
            ],
        )
        .data();
    assert_eq!(d["score"], 100);
    let report = d["reports"][0]["report_uuid"].as_str().unwrap().to_string();
    // The two downloads that need the result's report UUID.
    let art = format!("{report}:network_traffic.pcap");
    let r = c.get(
        "/analysis/get_result_artifact",
        &[("uuid", &task), ("artifact_uuid", &art)],
    );
    assert_eq!(r.status, 200);
    assert!(r.body.starts_with(b"\xd4\xc3\xb2\xa1"), "a pcap");
    let r = c.get(
        "/analysis/get_report_artifact",
        &[
            ("uuid", &task),
            ("report_uuid", &report),
            ("artifact_name", "network_traffic.pcap"),
        ],
    );
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment; filename="));
    // Its POSTs: get_progress, create_ioc_from_result, export_report.
    assert_eq!(
        c.post("/analysis/get_progress.json", &[("uuid", &task)])
            .data()["completed"],
        1
    );
    let ioc = c.post(
        "/analysis/ioc/create_ioc_from_result.json",
        &[
            ("uuid", &task),
            ("report_uuid", &report),
            ("report_version", "ioc:stix"),
        ],
    );
    assert!(ioc.data()["ioc_uuid"].is_string());
    let export = c.post(
        "/analysis/export_report.json",
        &[("uuid", &task), ("report_type", "OVERVIEW")],
    );
    assert!(export.data()["exported_report_uuid"].is_string());
}

#[test]
fn a_resubmission_returns_the_task_with_its_results() {
    let emu = Emulator::start(Config {
        completion_delay: Duration::from_secs(30),
        ..Config::default()
    })
    .unwrap();
    let mut c = Official::new(&emu);
    let content = sample();
    let md5 = md5_hex(&content);
    // Its hash-first: any API error from the hash submission means upload.
    let first = c.submit_hash(&md5);
    assert!(first.error_code().is_some());
    let task = c.upload(&content, "again.bin").data()["task_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let pending = c.submit_hash(&md5).data();
    assert_eq!(pending["task_uuid"], task.as_str());
    assert!(pending.get("score").is_none());
    emu.advance_clock(31);
    let done: Value = c.submit_hash(&md5).data();
    assert_eq!(done["task_uuid"], task.as_str());
    assert_eq!(done["score"], 100);
    assert!(done["reports"].is_array());
    assert!(
        done.get("report").is_none(),
        "full_report_score=-1: never the report"
    );
}

#[test]
fn continuing_with_after_set_to_before() {
    let emu = Emulator::start(Config {
        page_size: 2,
        ..Config::default()
    })
    .unwrap();
    let mut c = Official::new(&emu);
    let mut tasks = Vec::new();
    for i in 0..5u8 {
        tasks.push(
            c.upload(&[b'y', i], "y").data()["task_uuid"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    // The examples of get_completed_with_metadata and get_pending continue
    // from before: nothing is lost (bounds are inclusive; de-duplicate).
    for method in ["get_completed_with_metadata", "get_completed"] {
        let mut after = "2000-01-01 00:00:00".to_string();
        let mut seen: Vec<String> = Vec::new();
        for _ in 0..10 {
            let d = c
                .get(&format!("/analysis/{method}.json"), &[("after", &after)])
                .data();
            for t in d["tasks"].as_array().unwrap() {
                seen.push(
                    t.get("task_uuid")
                        .unwrap_or(t)
                        .as_str()
                        .unwrap()
                        .to_string(),
                );
            }
            after = d["before"].as_str().unwrap().to_string();
            if d["more_results_available"] != 1 {
                break;
            }
        }
        seen.sort();
        seen.dedup();
        let mut want = tasks.clone();
        want.sort();
        assert_eq!(seen, want, "{method}");
    }
    emu.configure(|c| c.completion_delay = Duration::from_secs(3600));
    let p = c.upload(b"pending", "p").data()["task_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let d = c.get("/analysis/get_pending.json", &[]).data();
    let again = c
        .get(
            "/analysis/get_pending.json",
            &[("after", d["before"].as_str().unwrap())],
        )
        .data();
    for page in [d, again] {
        assert!(page["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| *t == p.as_str()));
    }
}

#[test]
fn lower_case_suffixes_for_every_format() {
    let emu = Emulator::start(Config::default()).unwrap();
    let mut c = Official::new(&emu);
    let task = c.upload(&sample(), "s").data()["task_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(c
        .get("/analysis/get.xml", &[("uuid", &task)])
        .body
        .starts_with(b"<?xml"));
    assert!(c
        .get("/analysis/get.pdf", &[("uuid", &task)])
        .body
        .starts_with(b"%PDF"));
    assert!(c
        .get("/analysis/get.rtf", &[("uuid", &task)])
        .body
        .starts_with(b"{\\rtf1"));
    assert_eq!(
        c.get("/analysis/get.json", &[("uuid", &task)]).data()["score"],
        100
    );
}

/// What the smaller client Lastline wrote reads back (wire-dialect's
/// section on it), in both readings: `analysis_subject` on results and on
/// a cached submission, the cached answer's members (and a pending one's
/// two), and the full report's network part with the request line.
#[test]
fn what_lastlines_second_client_reads_back_in_both_readings() {
    use lastline_emulator::{Reading, Shapes};
    for reading in [Reading::Rich, Reading::Plain] {
        let emu = Emulator::start(Config {
            completion_delay: Duration::from_secs(30),
            shapes: Shapes {
                reading,
                ..Shapes::default()
            },
            ..Config::default()
        })
        .unwrap();
        let mut c = Official::new(&emu);
        let inner = sample();
        let archive = stored_zip(&[("dropper.com", &inner)]);
        let md5 = md5_hex(&archive);
        let task = c.upload(&archive, "bundle.zip").data()["task_uuid"]
            .as_str()
            .unwrap()
            .to_string();
        // Pending: the task and its submission time (plain: nothing else).
        let pending = c.submit_hash(&md5).data();
        let mut keys: Vec<&str> = pending
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        // Sorted: serde_json keeps the order only with a feature another
        // crate of the workspace may enable.
        keys.sort_unstable();
        match reading {
            Reading::Plain => {
                assert_eq!(keys, ["submission_timestamp", "task_uuid"], "{reading:?}")
            }
            Reading::Rich => assert!(keys.contains(&"expires") && !keys.contains(&"score")),
        }
        emu.advance_clock(31);
        // Cached and complete: the result inline.
        let cached = c.submit_hash(&md5).data();
        for member in [
            "task_uuid",
            "submission",
            "submission_timestamp",
            "last_submission_timestamp",
            "child_tasks",
            "reports",
            "score",
            "analysis_subject",
        ] {
            assert!(
                cached.get(member).is_some(),
                "{reading:?}: {member} in {cached}"
            );
        }
        assert_eq!(cached["task_uuid"], task.as_str());
        let child = &cached["child_tasks"][0];
        let child_uuid = match reading {
            Reading::Plain => child.as_str(),
            Reading::Rich => child["task_uuid"].as_str(),
        };
        assert_eq!(child_uuid.map(str::len), Some(32), "{reading:?}: {child}");
        // The subject: the four members it needs for a file.
        let subject = &cached["analysis_subject"];
        assert_eq!(subject["md5"], md5.as_str());
        for member in ["sha1", "sha256", "mime_type"] {
            assert!(
                subject[member].is_string(),
                "{reading:?}: {member} in {subject}"
            );
        }
        assert_eq!(
            subject.as_object().unwrap().len() > 4,
            reading == Reading::Rich
        );
        // get_results with the full report: its network part.
        let full = c
            .get(
                "/analysis/get.json",
                &[("uuid", &task), ("full_report_score", "0")],
            )
            .data();
        assert_eq!(full["analysis_subject"]["md5"], md5.as_str());
        let report = &full["report"];
        let request = &report["analysis"]["network"]["requests"][0];
        assert!(
            request["url"].as_str().unwrap().starts_with("http://"),
            "{report}"
        );
        assert!(request["ip"].is_string());
        let subject = &report["analysis_subjects"][0];
        assert!(
            subject["dns_queries"][0]["hostname"].is_string(),
            "{subject}"
        );
        let conversation = &subject["http_conversations"][0];
        for member in ["src_ip", "dst_ip", "dst_host"] {
            assert!(
                conversation[member].is_string(),
                "{member} in {conversation}"
            );
        }
        for member in ["src_port", "dst_port"] {
            assert!(conversation[member].is_u64(), "{member} in {conversation}");
        }
        let line = conversation["url"].as_str().unwrap();
        let parts: Vec<&str> = line.split(' ').collect();
        assert!(
            parts.len() == 3
                && parts[0] == "GET"
                && parts[1].starts_with('/')
                && parts[2] == "HTTP/1.1",
            "{line}"
        );
        // A URL task names its URL.
        let url = "http://phish.example/login.php";
        let url_task = c.post("/analysis/submit/url.json", &[("url", url)]).data()["task_uuid"]
            .as_str()
            .unwrap()
            .to_string();
        emu.advance_clock(31);
        let result = c.get("/analysis/get.json", &[("uuid", &url_task)]).data();
        assert_eq!(result["analysis_subject"]["url"], url, "{reading:?}");
        let full = c
            .get(
                "/analysis/get.json",
                &[("uuid", &url_task), ("full_report_score", "0")],
            )
            .data();
        assert_eq!(
            full["report"]["analysis_subjects"][0]["http_conversations"][0]["url"],
            "GET /login.php HTTP/1.1"
        );
    }
}
