//! The emulator's own tests, through a plain TcpStream client: every
//! method, the auth mechanisms, state and semantics, validation, faults.

mod client;

use std::time::{Duration, Instant};

use client::*;
use lastline_emulator::{Config, CredentialSource, EICAR};

#[test]
fn hash_first_upload_and_verdicts() {
    let env = Env::new(Config::default());
    let benign = b"just a harmless sample".to_vec();
    let mut evil = b"dropper ".to_vec();
    evil.extend_from_slice(EICAR);
    // Unknown hash: 101.
    let r = env.post(
        "/analysis/submit/file.json",
        &[("md5", &md5_hex(&benign)), ("full_report_score", "-1")],
    );
    assert_eq!(r.error_code(), Some(101));
    // Upload: a task.
    let t_benign = env.upload(&benign, &[("filename", "harmless.txt")]).data()["task_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let t_evil = env.upload(&evil, &[]).data()["task_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(t_benign.len(), 32);
    // Known now: by hash (lower- or upper-case, sha1 too) works.
    let again = env.post(
        "/analysis/submit/file",
        &[("md5", &md5_hex(&benign).to_uppercase())],
    );
    assert_eq!(again.data()["task_uuid"].as_str().unwrap().len(), 32);
    let r = env
        .get("/analysis/get_result.json", &[("uuid", &t_evil)])
        .data();
    assert_eq!(r["score"], 100);
    assert_eq!(r["threat"], "EICAR-Test-File");
    let r = env
        .get(
            "/analysis/get_result.json",
            &[("uuid", &t_benign), ("score_only", "1")],
        )
        .data();
    assert!(r["score"].as_i64().unwrap() < 30);
    assert!(r.get("reports").is_none());
    let meta = env
        .get("/analysis/get_task_metadata.json", &[("uuid", &t_benign)])
        .data();
    assert_eq!(meta["filename"], "harmless.txt");
    assert_eq!(meta["file_md5"], md5_hex(&benign));
    // Data retention: forgotten files need an upload again.
    env.emu.forget_files();
    assert_eq!(
        env.post("/analysis/submit/file.json", &[("md5", &md5_hex(&benign))])
            .error_code(),
        Some(101)
    );
    // The log shows the file part and no credentials in URLs.
    let log = env.emu.log().entries();
    let up = log
        .iter()
        .find(|e| e.parts.iter().any(|p| p.name == "file"))
        .unwrap();
    assert_eq!(
        up.parts.iter().find(|p| p.name == "file").unwrap().size,
        benign.len() as u64
    );
    assert!(log
        .iter()
        .all(|e| !e.credentials.contains(&CredentialSource::Url)));
}

#[test]
fn completion_cursor_semantics() {
    let env = Env::new(Config {
        completion_delay: Duration::from_secs(60),
        page_size: 3,
        ..Config::default()
    });
    let start = env.get("/analysis/get_api_utc_timestamp.json", &[]).data()["timestamp"]
        .as_str()
        .unwrap()
        .to_string();
    let mut tasks = vec![];
    for i in 0..5 {
        let d = env.upload(format!("sample {i}").as_bytes(), &[]).data();
        tasks.push(d["task_uuid"].as_str().unwrap().to_string());
    }
    // Not complete yet: pending, no result.
    let pending = env.get("/analysis/get_pending.json", &[]).data();
    assert_eq!(pending["tasks"].as_array().unwrap().len(), 5);
    assert_eq!(
        env.get("/analysis/get_result.json", &[("uuid", &tasks[0])])
            .error_code(),
        Some(106)
    );
    let c = env
        .get("/analysis/get_completed.json", &[("after", &start)])
        .data();
    assert_eq!(c["tasks"].as_array().unwrap().len(), 0);
    assert_eq!(c["more_results_available"], 0);
    env.emu.advance_clock(61);
    // Pages of 3 (all five complete in the same second, so one page holds
    // that whole second rather than cutting inside it).
    let mut seen = vec![];
    let mut after = start.clone();
    for _ in 0..5 {
        let d = env
            .get(
                "/analysis/completed.json",
                &[("after", &after), ("include_score", "1")],
            )
            .data();
        for (k, v) in d["tasks"].as_object().unwrap() {
            assert!(v.is_i64());
            seen.push(k.clone());
        }
        assert!(d["resume"].is_string() && d["more_results_available"].is_i64());
        after = d["resume"].as_str().unwrap().to_string();
        if d["more_results_available"] == 0 {
            break;
        }
    }
    seen.sort();
    let mut want = tasks.clone();
    want.sort();
    assert_eq!(seen, want);
    // Date-only form and metadata variant.
    let day = &start[..10];
    let m = env
        .get(
            "/analysis/get_completed_with_metadata.json",
            &[("after", day)],
        )
        .data();
    assert!(m["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["score"].is_i64()));
    // No task was polled with get_results before completion was reported,
    // except the one deliberate early call above.
    let early = env
        .emu
        .log()
        .entries()
        .iter()
        .filter(|e| e.api_method == Some("get_result"))
        .count();
    assert_eq!(early, 1);
}

#[test]
fn auth_mechanisms() {
    let env = Env::new(Config::default());
    let (k, t) = env.emu.credentials();
    let addr = env.emu.addr();
    // None: 122. Wrong: 104.
    assert_eq!(
        send(addr, "GET", "/authentication/ping.json", &[], b"").error_code(),
        Some(122)
    );
    assert_eq!(
        send(
            addr,
            "GET",
            "/authentication/ping.json",
            &[basic(&k, "nope")],
            b""
        )
        .error_code(),
        Some(104)
    );
    // Params in query (the dialect; logged as Url) and in the body.
    let q = format!(
        "/authentication/ping.json?{}",
        form(&[("key", &k), ("api_token", &t)])
    );
    assert_eq!(send(addr, "GET", &q, &[], b"").data(), "pong");
    let body = form(&[("key", &k), ("api_token", &t)]);
    let h = vec![(
        "Content-Type".to_string(),
        "application/x-www-form-urlencoded".to_string(),
    )];
    assert_eq!(
        send(
            addr,
            "POST",
            "/authentication/ping.json",
            &h,
            body.as_bytes()
        )
        .data(),
        "pong"
    );
    // Session: login sets a cookie that then suffices.
    let r = send(
        addr,
        "POST",
        "/authentication/login.json",
        &h,
        body.as_bytes(),
    );
    assert_eq!(r.data(), "success");
    let cookie = r
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let ch = vec![("Cookie".to_string(), cookie.clone())];
    assert_eq!(
        send(addr, "GET", "/authentication/ping.json", &ch, b"").data(),
        "pong"
    );
    // No session when asked not to.
    let mut nh = h.clone();
    nh.push(("x-nsx-lastline-no-session".into(), "1".into()));
    assert!(send(
        addr,
        "POST",
        "/authentication/login.json",
        &nh,
        body.as_bytes()
    )
    .header("set-cookie")
    .is_none());
    // Expiry after every call: the next use of the cookie is 122.
    env.emu.faults().set(|f| f.expire_sessions = true);
    assert_eq!(
        send(addr, "GET", "/authentication/ping.json", &ch, b"").data(),
        "pong"
    );
    assert_eq!(
        send(addr, "GET", "/authentication/ping.json", &ch, b"").error_code(),
        Some(122)
    );
    let sources: Vec<_> = env
        .emu
        .log()
        .entries()
        .iter()
        .flat_map(|e| e.credentials.clone())
        .collect();
    for s in [
        CredentialSource::Url,
        CredentialSource::Body,
        CredentialSource::Basic,
        CredentialSource::Cookie,
    ] {
        assert!(sources.contains(&s), "{s:?}");
    }
}

#[test]
fn every_method_answers() {
    let env = Env::new(Config::default());
    let mut evil = b"x".to_vec();
    evil.extend_from_slice(EICAR);
    let task = env.upload(&evil, &[]).data()["task_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let res = env
        .get(
            "/analysis/get.json",
            &[("uuid", &task), ("full_report_score", "0")],
        )
        .data();
    assert!(res["report"].is_object());
    let report = res["reports"][0]["report_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let art = format!("{report}:primary_analysis_subject");
    let url_task = env
        .post(
            "/analysis/submit/url.json",
            &[
                ("url", "http://malware.example/x"),
                ("referer", "http://a.example/"),
            ],
        )
        .data();
    assert_eq!(url_task["task_uuid"].as_str().unwrap().len(), 32);
    let checks: Vec<(&str, Resp)> = vec![
        (
            "get_result_activities",
            env.get("/analysis/get_result_activities.json", &[("uuid", &task)]),
        ),
        (
            "get_report_activities",
            env.get(
                "/analysis/get_report_activities.json",
                &[("uuid", &task), ("report_uuid", &report)],
            ),
        ),
        (
            "get_progress",
            env.post("/analysis/get_progress.json", &[("uuid", &task)]),
        ),
        (
            "query_file_hash",
            env.get(
                "/analysis/query/file_hash.json",
                &[("hash_algorithm", "md5"), ("hash_value", &md5_hex(&evil))],
            ),
        ),
        (
            "is_blocked_file_hash",
            env.get(
                "/analysis/query/is_blocked_file_hash.json",
                &[("hash_algorithm", "MD5"), ("hash_value", &md5_hex(&evil))],
            ),
        ),
        (
            "query_task_artifact",
            env.get(
                "/analysis/query_task_artifact.json",
                &[
                    ("uuid", &task),
                    ("artifact_name", "primary_analysis_subject"),
                ],
            ),
        ),
        (
            "get_network_iocs",
            env.get("/analysis/ioc/get_network_iocs.json", &[("uuid", &task)]),
        ),
        (
            "get_analysis_tags",
            env.get("/analysis/get_analysis_tags.json", &[("uuid", &task)]),
        ),
        (
            "get_child_tasks_recursively",
            env.get(
                "/analysis/get_child_tasks_recursively.json",
                &[("uuid", &task)],
            ),
        ),
        (
            "is_risky_analysis_artifact",
            env.get(
                "/analysis/is_risky_analysis_artifact.json",
                &[("artifact_uuid", &art)],
            ),
        ),
    ];
    for (name, r) in checks {
        assert_eq!(r.status, 200, "{name}");
        let d = r.data();
        assert!(d.is_object(), "{name}: {d}");
    }
    assert_eq!(
        env.get(
            "/analysis/query/is_blocked_file_hash.json",
            &[("hash_algorithm", "MD5"), ("hash_value", &md5_hex(&evil))]
        )
        .data()["decision"],
        "BLOCK"
    );
    // Raw artifact with a file name.
    let raw = env.get(
        "/analysis/get_result_artifact",
        &[("uuid", &task), ("artifact_uuid", &art)],
    );
    assert_eq!(raw.body, evil);
    assert!(raw
        .header("content-disposition")
        .unwrap()
        .contains("primary_analysis_subject"));
    let raw = env.get(
        "/analysis/get_report_artifact",
        &[
            ("uuid", &task),
            ("report_uuid", &report),
            ("artifact_name", "primary_analysis_subject"),
        ],
    );
    assert_eq!(raw.body, evil);
    // IOCs: create, metadata, report (both paths).
    let ioc = env
        .post(
            "/analysis/ioc/create_ioc_from_result.json",
            &[
                ("uuid", &task),
                ("report_uuid", &report),
                ("report_version", "ioc:openioc"),
            ],
        )
        .data();
    let ioc_uuid = ioc["ioc_uuid"].as_str().unwrap().to_string();
    assert_eq!(
        env.get(
            "/analysis/ioc/get_ioc_metadata.json",
            &[("ioc_uuid", &ioc_uuid)]
        )
        .data()["task_uuid"],
        task.as_str()
    );
    for p in ["/ioc/get_ioc_report", "/analysis/ioc/get_ioc_report"] {
        let r = env.get(p, &[("ioc_uuid", &ioc_uuid)]);
        assert!(r.body.starts_with(b"<?xml"), "{p}");
    }
    // Export flow: a real PDF.
    let e = env
        .post(
            "/analysis/export_report.json",
            &[("uuid", &task), ("report_type", "OVERVIEW")],
        )
        .data();
    let e_uuid = e["exported_report_uuid"].as_str().unwrap().to_string();
    let list = env
        .get("/analysis/get_completed_exported_reports.json", &[])
        .data();
    assert_eq!(
        list["available_reports"][0]["exported_report_uuid"],
        e_uuid.as_str()
    );
    assert_eq!(
        env.get(
            "/analysis/get_completed_exported_reports.json",
            &[("resume_after_report_uuid", &e_uuid)]
        )
        .data()["available_reports"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Served through the CDN origin, as servers do (cdn=1 by default).
    let redirect = env.get(
        "/analysis/get_exported_report",
        &[("exported_report_uuid", &e_uuid)],
    );
    assert_eq!(redirect.status, 302);
    let pdf = follow(&redirect);
    assert_eq!(pdf.status, 200);
    assert!(pdf.body.starts_with(b"%PDF-1.4") && pdf.body.ends_with(b"%%EOF\n"));
    let xref_at: usize = String::from_utf8_lossy(&pdf.body)
        .split("startxref\n")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(pdf.body[xref_at..].starts_with(b"xref"));
    // PDF/RTF results.
    assert!(env
        .get("/analysis/get.pdf", &[("uuid", &task)])
        .body
        .starts_with(b"%PDF"));
    assert!(env
        .get("/analysis/get.RTF", &[("uuid", &task)])
        .body
        .starts_with(b"{\\rtf1"));
    // XML rendering of the same data.
    let x = env.get("/analysis/get_result.xml", &[("uuid", &task)]);
    let text = String::from_utf8(x.body).unwrap();
    assert!(text.contains("<success>1</success>") && text.contains("<score>100</score>"));
    // Statuses of raw methods.
    assert_eq!(
        env.get(
            "/analysis/get_exported_report",
            &[("exported_report_uuid", "nope")]
        )
        .status,
        422
    );
    assert_eq!(
        env.get(
            "/analysis/get_exported_report",
            &[("exported_report_uuid", &"0".repeat(32))]
        )
        .status,
        404
    );
    assert_eq!(
        env.get(
            "/analysis/get_result_artifact",
            &[("uuid", "bad"), ("artifact_uuid", &art)]
        )
        .status,
        412
    );
    assert_eq!(
        send(
            env.emu.addr(),
            "GET",
            &format!(
                "/analysis/get_report_artifact?uuid={task}&report_uuid={report}&artifact_name=x"
            ),
            &[],
            b""
        )
        .status,
        401
    );
    // Every catalog method was routed at least once.
    let served = lastline_emulator::method_names();
    let seen: Vec<_> = env
        .emu
        .log()
        .entries()
        .iter()
        .filter_map(|e| e.api_method)
        .collect();
    for m in served {
        if ![
            "login",
            "ping",
            "get_api_utc_timestamp",
            "get_completed",
            "get_completed_with_metadata",
            "get_pending",
            "get_task_metadata",
        ]
        .contains(&m)
        {
            assert!(seen.contains(&m), "{m} not exercised");
        }
    }
}

#[test]
fn validation_like_a_strict_server() {
    let env = Env::new(Config {
        upload_limit: 1000,
        ..Config::default()
    });
    let mut h = env.auth.clone();
    h.push((
        "Content-Type".into(),
        "multipart/form-data; boundary=B".into(),
    ));
    let big = vec![b'a'; 5000];
    let r = send(
        env.emu.addr(),
        "POST",
        "/analysis/submit/file.json",
        &h,
        &multipart("B", &[], &[("file", "x", &big)]),
    );
    assert_eq!(r.status, 413);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let bad = send(
        env.emu.addr(),
        "POST",
        "/analysis/submit/file.json",
        &h,
        b"--B\r\nnot a part",
    );
    assert_eq!(bad.status, 400);
    assert_eq!(
        env.upload(b"x", &[("priority", "11")]).error_code(),
        Some(124)
    );
    assert_eq!(
        env.post("/analysis/submit/url.json", &[("url", "not a url")])
            .error_code(),
        Some(117)
    );
    assert_eq!(
        env.get(
            "/analysis/query/file_hash.json",
            &[("hash_algorithm", "crc32"), ("hash_value", "00")]
        )
        .error_code(),
        Some(116)
    );
    assert_eq!(
        env.get("/analysis/get_result.json", &[("uuid", "xyz")])
            .error_code(),
        Some(105)
    );
    let many = (0..1001)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let r = env.upload(b"y", &[("password_candidates", &many)]);
    assert_eq!(r.error_code(), None);
    let huge = "p".repeat(140_000);
    assert_eq!(
        env.upload(b"y", &[("password_candidates", &huge)])
            .error_code(),
        None
    );
    let fine = ["infected", "secret"].join("\n");
    assert!(env.upload(b"y", &[("password_candidates", &fine)]).data()["task_uuid"].is_string());
    let r = send(
        env.emu.addr(),
        "GET",
        "/analysis/get_result.json?uuid=%zz",
        &env.auth,
        b"",
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        env.get("/analysis/get_completed.json", &[]).error_code(),
        None
    );
    assert_eq!(
        send(
            env.emu.addr(),
            "POST",
            "/analysis/get_api_utc_timestamp.json",
            &env.auth,
            b""
        )
        .status,
        405
    );
    assert_eq!(env.get("/nope", &[]).status, 404);
}

#[test]
fn faults_are_deterministic() {
    let env = Env::new(Config::default());
    env.emu.faults().set(|f| f.unavailable_next = 2);
    assert_eq!(
        env.get("/authentication/ping.json", &[]).error_code(),
        Some(107)
    );
    assert_eq!(
        env.get("/authentication/ping.json", &[]).error_code(),
        Some(107)
    );
    assert_eq!(env.get("/authentication/ping.json", &[]).data(), "pong");
    env.emu.faults().set(|f| f.http_503_next = 1);
    let r = env.get("/authentication/ping.json", &[]);
    assert_eq!(r.status, 503);
    assert!(String::from_utf8_lossy(&r.body).contains("<html>"));
    env.emu.faults().set(|f| f.reset_next = 1);
    let r = env.get("/analysis/get_api_utc_timestamp.json", &[]);
    assert!(r.truncated);
    assert_eq!(env.get("/authentication/ping.json", &[]).data(), "pong");
    // An upload broken off mid-file: the connection closes, no answer.
    env.emu.faults().set(|f| f.reset_upload_next = 1);
    let body = multipart("XyZ", &[], &[("file", "x.bin", &vec![9u8; 200_000])]);
    let mut s = std::net::TcpStream::connect(env.emu.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = format!(
        "POST /analysis/submit/file.json HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in &env.auth {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = std::io::Write::write_all(&mut s, head.as_bytes())
        .and_then(|_| std::io::Write::write_all(&mut s, &body));
    let mut answer = Vec::new();
    let _ = std::io::Read::read_to_end(&mut s, &mut answer);
    assert!(answer.is_empty(), "{:?}", String::from_utf8_lossy(&answer));
    assert_eq!(env.emu.log().entries().last().map(|e| e.status), Some(0));
    // The fault is spent: the same upload goes through.
    assert_eq!(env.upload(&vec![9u8; 200_000], &[]).status, 200);
    env.emu.faults().set(|f| f.chunked = true);
    let r = env.get("/authentication/ping.json", &[]);
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(r.data(), "pong");
    env.emu.faults().set(|f| {
        f.chunked = false;
        f.connection_close = true;
        f.dribble = Some((3, Duration::from_millis(20)));
    });
    let t = Instant::now();
    let r = env.get("/authentication/ping.json", &[]);
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.data(), "pong");
    assert!(
        t.elapsed() >= Duration::from_millis(20 * 8),
        "dribbled: {:?}",
        t.elapsed()
    );
}

#[test]
fn help_documents_every_switch() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lastline-emulator"))
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for switch in [
        "--listen",
        "--key",
        "--token",
        "--upload-limit",
        "--page-size",
        "--completion-delay",
        "--forget-files",
        "--seed",
        "--clock-offset",
        "--fail-unavailable",
        "--fail-503",
        "--fail-reset",
        "--fail-upload-reset",
        "--dribble",
        "--expire-sessions",
        "--chunked",
        "--connection-close",
        "--fault",
        "--latency-ms",
        "--no-submission-cache",
        "--reading",
        "--hex",
        "--omit-optional",
        "--string-flags",
        "--no-cdn-redirect",
        "--datacenter-redirect",
        "--tls-cert",
        "--tls-key",
        "--write-test-pki",
    ] {
        assert!(text.contains(switch), "{switch} missing from --help");
    }
}

/// The binary applies its switches (not only lists them).
#[test]
fn the_binary_applies_its_switches() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lastline-emulator"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--reading",
            "plain",
            "--hex",
            "quoted",
            "--no-submission-cache",
            "--datacenter-redirect",
            "once",
            "--fault",
            "get_progress:429,retry-after=7",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.rsplit(' ').next().unwrap().to_string();
    let (addr, _) = split_url(&format!("{url}/"));
    let auth = vec![basic("emulator-key", "emulator-token")];
    let get = |t: &str| send(addr, "GET", t, &auth, b"");
    assert_eq!(
        get("/authentication/ping.json").status,
        307,
        "--datacenter-redirect once"
    );
    assert_eq!(get("/authentication/ping.json").data(), "pong");
    let up = |body: &[u8]| {
        let mut h = auth.clone();
        h.push((
            "Content-Type".into(),
            "multipart/form-data; boundary=B".into(),
        ));
        let body = multipart("B", &[], &[("file", "f", body)]);
        send(addr, "POST", "/analysis/submit/file.json", &h, &body).data()["task_uuid"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mut evil = b"x ".to_vec();
    evil.extend_from_slice(EICAR);
    let (a, b) = (up(&evil), up(&evil));
    assert_ne!(a, b, "--no-submission-cache");
    let r = get(&format!("/analysis/get_progress.json?uuid={a}"));
    assert_eq!(
        (r.status, r.header("retry-after")),
        (429, Some("7")),
        "--fault"
    );
    let p = get(&format!("/analysis/get_progress.json?uuid={a}")).data();
    assert_eq!(p["progress"], "0x64", "--hex quoted");
    let res = get(&format!("/analysis/get.json?uuid={a}")).data();
    assert!(
        res["activity_to_mitre_techniques"]["Signature: EICAR test string"][0].is_string(),
        "--reading plain"
    );
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
fn clock_offset_full_report_score_and_keep_alive() {
    let env = Env::new(Config {
        clock_offset_secs: -86_400 * 365,
        ..Config::default()
    });
    let ts = env.get("/analysis/get_api_utc_timestamp.json", &[]).data()["timestamp"]
        .as_str()
        .unwrap()
        .to_string();
    let year: i64 = ts[..4].parse().unwrap();
    let now_year = 1970
        + std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
            / 31_556_952;
    assert!(year < now_year, "{ts}");
    let task = env.upload(b"report me", &[]).data()["task_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(env
        .get(
            "/analysis/get.json",
            &[("uuid", &task), ("full_report_score", "-1")]
        )
        .data()
        .get("report")
        .is_none());
    assert!(env
        .get(
            "/analysis/get.json",
            &[("uuid", &task), ("full_report_score", "0")]
        )
        .data()["report"]
        .is_object());
    assert!(env
        .get(
            "/analysis/get.json",
            &[("uuid", &task), ("full_report_score", "99")]
        )
        .data()
        .get("report")
        .is_none());
    // Two requests on one connection.
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(env.emu.addr()).unwrap();
    for _ in 0..2 {
        let head = format!(
            "GET /authentication/ping.json HTTP/1.1\r\nHost: x\r\n{}: {}\r\n\r\n",
            env.auth[0].0, env.auth[0].1
        );
        s.write_all(head.as_bytes()).unwrap();
        assert_eq!(read_response(&mut s).data(), "pong");
    }
}

#[test]
fn content_length_mismatch_is_refused() {
    use std::io::Write;
    let env = Env::new(Config::default());
    let mut s = std::net::TcpStream::connect(env.emu.addr()).unwrap();
    let head = format!(
        "POST /analysis/submit/url.json HTTP/1.1\r\nHost: x\r\n{}: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nurl=http%3A%2F%2Fa.example%2F",
        env.auth[0].0, env.auth[0].1
    );
    s.write_all(head.as_bytes()).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let r = read_response(&mut s);
    assert_eq!(r.status, 400);
    assert!(env
        .emu
        .log()
        .entries()
        .iter()
        .all(|e| e.api_method != Some("submit_url")));
}

#[test]
fn child_tasks_from_archives_and_downloads() {
    let env = Env::new(Config::default());
    let inner = stored_zip(&[("eicar.com", EICAR)]);
    let outer = stored_zip(&[("readme.txt", b"hello"), ("inner.zip", &inner)]);
    let task = env.upload(&outer, &[("filename", "bundle.zip")]).data()["task_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let kids = env
        .get(
            "/analysis/get_child_tasks_recursively.json",
            &[("uuid", &task)],
        )
        .data();
    let map = kids["child_tasks"].as_object().unwrap();
    // readme.txt and inner.zip at depth 1, eicar.com at depth 2.
    let mut depths: Vec<i64> = map.values().map(|v| v["depth"].as_i64().unwrap()).collect();
    depths.sort();
    assert_eq!(depths, vec![1, 1, 2]);
    // The archive is as bad as its worst member.
    assert_eq!(
        env.get("/analysis/get_result.json", &[("uuid", &task)])
            .data()["score"],
        100
    );
    let url = env
        .post(
            "/analysis/submit/url.json",
            &[("url", "http://files.example/setup.exe")],
        )
        .data();
    let kids = env
        .get(
            "/analysis/get_child_tasks_recursively.json",
            &[("uuid", url["task_uuid"].as_str().unwrap())],
        )
        .data();
    assert_eq!(kids["child_tasks"].as_object().unwrap().len(), 1);
    let plain = env.upload(b"no children here", &[]).data();
    let kids = env
        .get(
            "/analysis/get_child_tasks_recursively.json",
            &[("uuid", plain["task_uuid"].as_str().unwrap())],
        )
        .data();
    assert!(kids["child_tasks"].as_object().unwrap().is_empty());
}

#[test]
fn privileged_parameters_need_permission() {
    let env = Env::new(Config::default());
    assert_eq!(
        env.upload(b"p", &[("bypass_cache", "1")]).error_code(),
        Some(108)
    );
    let task = env.upload(b"p", &[("analysis_env", "windows7")]).data()["task_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let report = env.get("/analysis/get.json", &[("uuid", &task)]).data()["reports"][0]
        ["report_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        env.get(
            "/analysis/get.json",
            &[("uuid", &task), ("report_uuid", &report)]
        )
        .error_code(),
        Some(108)
    );
    let env = Env::new(Config {
        privileged: true,
        ..Config::default()
    });
    let task = env
        .upload(b"q", &[("bypass_cache", "1"), ("analysis_timeout", "60")])
        .data()["task_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let report = env.get("/analysis/get.json", &[("uuid", &task)]).data()["reports"][0]
        ["report_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let r = env
        .get(
            "/analysis/get.json",
            &[
                ("uuid", &task),
                ("report_uuid", &report),
                ("full_report_score", "-1"),
            ],
        )
        .data();
    assert!(
        r["report"].is_object(),
        "a named report comes whatever full_report_score says"
    );
    assert_eq!(
        env.get(
            "/analysis/get.json",
            &[("uuid", &task), ("report_uuid", &"f".repeat(32))]
        )
        .error_code(),
        Some(105)
    );
}

#[test]
fn text_parts_are_limited_together() {
    let env = Env::new(Config::default());
    let mut h = env.auth.clone();
    h.push((
        "Content-Type".into(),
        "multipart/form-data; boundary=B".into(),
    ));
    // Five parts of 1 MiB each: none over the 4 MiB limit alone.
    let mib = "a".repeat(1024 * 1024);
    let fields: Vec<(&str, &str)> = [
        "download_host",
        "download_path",
        "download_referer",
        "download_request",
        "filename",
    ]
    .iter()
    .map(|n| (*n, mib.as_str()))
    .collect();
    let r = send(
        env.emu.addr(),
        "POST",
        "/analysis/submit/file.json",
        &h,
        &multipart("B", &fields, &[("file", "x", b"x")]),
    );
    assert_eq!(r.status, 413);
}
