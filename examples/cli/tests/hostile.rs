//! The `lastline` binary against a hostile server: whatever it sends, the
//! terminal sees no control characters, waiting ends, the cursor stays
//! sane, a sample never goes to another origin, and Ctrl-C leaves no
//! partial file.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use lastline_emulator::hostile::{json, Hostile};

const TASK: &str = "0123456789abcdef0123456789abcdef";

fn lastline(server: &Hostile) -> Command {
    retrying(server, 0)
}

fn retrying(server: &Hostile, retries: u32) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lastline"));
    c.env_remove("LASTLINE_CONFIG")
        .env("XDG_CONFIG_HOME", "/nonexistent-lastline-test")
        .env("LASTLINE_API_KEY", "k")
        .env("LASTLINE_API_TOKEN", "t")
        .args([
            "--base-url",
            &server.url(),
            "--retries",
            &retries.to_string(),
        ]);
    c
}

/// Every byte written is printable or a row's newline.
fn assert_no_controls(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for c in text.chars() {
        let bad = (c.is_control() && c != '\n')
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}');
        assert!(!bad, "{what}: {c:?} reached the output: {text:?}");
    }
}

/// What the malware's analysis says, at its most hostile.
const HOSTILE: &str =
    r#"\u001b]0;owned\u0007\u001b[2J\u009b31m\nverdict  benign\r\u202ecod.exe\u200b\u007f"#;

fn answering(body: String) -> Hostile {
    Hostile::start(move |c| {
        while c.request().is_some() {
            c.send(&json("200 OK", &body));
        }
    })
}

fn run(c: &mut Command) -> Output {
    c.stdin(Stdio::null()).output().unwrap()
}

#[test]
fn server_strings_reach_no_terminal_raw() {
    let result = format!(
        r#"{{"success": 1, "data": {{"score": 90, "threat": "{HOSTILE}", "threat_class": "{HOSTILE}", "malicious_activity": ["{HOSTILE}"], "{HOSTILE}": "{HOSTILE}"}}}}"#
    );
    let server = answering(result);
    for args in [
        &["result", TASK][..],
        &["get-result", TASK],
        &["--json", "get-result", TASK],
        &["get-task-metadata", TASK],
        &["--json", "result", TASK],
    ] {
        let out = run(lastline(&server).args(args));
        assert_no_controls(&format!("{args:?} stdout"), &out.stdout);
        assert_no_controls(&format!("{args:?} stderr"), &out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        // No forged row: the threat's newline stays inside its row.
        assert!(
            !stdout
                .lines()
                .any(|l| l.trim_start().starts_with("verdict  benign")),
            "{stdout}"
        );
    }
    // --json still reads back to the server's exact text.
    let out = run(lastline(&server).args(["--json", "get-result", TASK]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["threat"],
        "\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m\nverdict  benign\r\u{202e}cod.exe\u{200b}\u{7f}"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn the_servers_error_text_reaches_no_terminal_raw() {
    let server = answering(format!(
        r#"{{"success": 0, "error_code": 115, "error": "{HOSTILE}"}}"#
    ));
    for args in [
        &["get-result", TASK][..],
        &["--json", "get-result", TASK],
        &["ping"],
    ] {
        let out = run(lastline(&server).args(args));
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_no_controls(&format!("{args:?}"), &out.stderr);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("\\x1b") || stderr.contains("\\u001b"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn a_member_read_twice_is_refused() {
    let server = answering(r#"{"success": 1, "data": {"score": 0, "score": 100}}"#.into());
    let out = run(lastline(&server).args(["result", TASK]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("duplicate"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A server that always has more pages, its resume moving on.
fn endless_pages() -> Hostile {
    Hostile::start(|c| {
        let mut n = 0u64;
        while c.request().is_some() {
            n += 1;
            // A second at a time from 2026-12-01 (timestamps as the
            // reference writes them).
            let at = |s: u64| {
                format!(
                    "2026-12-01 {:02}:{:02}:{:02}",
                    s / 3600 % 24,
                    s / 60 % 60,
                    s % 60
                )
            };
            let body = format!(
                r#"{{"success": 1, "data": {{"tasks": {{"{:032x}": 10}}, "after": "{}", "before": "{}", "resume": "{}", "more_results_available": 1}}}}"#,
                n,
                at(n),
                at(n + 1),
                at(n + 2)
            );
            c.send(&json("200 OK", &body));
        }
    })
}

#[test]
fn endless_pages_end_at_the_wait_timeout() {
    let server = endless_pages();
    for args in [
        &[
            "wait",
            TASK,
            "--wait-timeout",
            "2",
            "--poll-interval",
            "0.1",
        ][..],
        &[
            "completed",
            "--follow",
            "--after",
            "2026-12-01",
            "--wait-timeout",
            "2",
            "--poll-interval",
            "0.1",
        ],
        &[
            "completed",
            "--after",
            "2026-12-01",
            "--wait-timeout",
            "2",
            "--poll-interval",
            "0.1",
        ],
    ] {
        let started = Instant::now();
        let mut child = lastline(&server)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A bound on a run that would otherwise never end, not a timing.
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break Some(s);
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let stderr = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
        assert!(status.is_some(), "{args:?} ran past its --wait-timeout");
        // It ended by its timeout, not by an error: pages kept coming.
        assert!(
            started.elapsed() >= Duration::from_secs(2),
            "{args:?}: {stderr}"
        );
        assert!(server.requests().len() > 5, "{args:?}: {stderr}");
    }
}

#[test]
fn a_resume_far_in_the_future_is_refused_and_the_cursor_kept() {
    let server = answering(
        r#"{"success": 1, "data": {"tasks": {}, "after": "2026-12-01 00:00:00", "before": "2026-12-01 00:01:00", "resume": "9999-12-31 23:59:59", "more_results_available": 0}}"#.into(),
    );
    let dir = tempfile::tempdir().unwrap();
    let cursor = dir.path().join("cursor");
    let out = run(lastline(&server)
        .args(["completed", "--after", "2026-12-01 00:00:00", "--cursor"])
        .arg(&cursor));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cursor"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!cursor.exists(), "the cursor was saved past the refusal");
}

#[test]
fn an_upload_is_never_redirected_to_another_origin() {
    let other = Hostile::start(|c| {
        while c.request().is_some() {
            c.send(&json(
                "200 OK",
                r#"{"success": 1, "data": {"task_uuid": "0123456789abcdef0123456789abcdef"}}"#,
            ));
        }
    });
    let target = format!("{}/steal/submit/file.json", other.url());
    let api = Hostile::start(move |c| {
        while let Some(r) = c.request() {
            if r.body.windows(6).any(|w| w == b"SAMPLE") {
                c.send(format!("HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n").as_bytes());
            } else {
                c.send(&json(
                    "200 OK",
                    r#"{"success": 0, "error_code": 101, "error": "upload it"}"#,
                ));
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("sample.bin");
    std::fs::write(&f, "SAMPLE bytes").unwrap();
    let out = run(lastline(&api).arg("submit").arg(&f));
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("another origin") && stderr.contains("/steal/"),
        "{stderr}"
    );
    assert!(other.requests().is_empty(), "{:?}", other.requests());
}

#[test]
fn ctrl_c_during_a_download_leaves_no_partial_file() {
    let server = Hostile::start(|c| {
        if c.request().is_some() {
            c.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: 1000000\r\n\r\n%PDF-");
            while !c.stopping() {
                c.send(&[b'x'; 16]);
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.pdf");
    let mut child = lastline(&server)
        .args(["report", TASK, "-o"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let part = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().ends_with(".part"))
    };
    let started = Instant::now();
    while !part() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(part(), "the download never started");
    std::thread::sleep(Duration::from_millis(300));
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert!(!part(), "a partial file was left");
    assert!(!out.exists());
}

#[test]
fn a_download_over_max_size_is_refused() {
    let server = Hostile::start(|c| {
        while c.request().is_some() {
            c.send(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"../evil.pdf\"\r\nContent-Length: 5000\r\n\r\n",
            );
            c.send(&[b'x'; 5000]);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.pdf");
    let report = |max: &str, want: i32| {
        let o = run(lastline(&server)
            .args(["report", TASK, "--max-size", max, "-o"])
            .arg(&out));
        assert_eq!(
            o.status.code(),
            Some(want),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    report("1000", 1);
    assert!(!out.exists());
    report("5000", 0);
    assert_eq!(std::fs::metadata(&out).unwrap().len(), 5000);
    // No file name is taken from the server: only the one asked for.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["r.pdf"]);
    assert!(!dir.path().parent().unwrap().join("evil.pdf").exists());
}

/// What already held keeps holding against this server: refused
/// redirects, redirect loops, floods of headers, nesting and numbers,
/// and a huge announced length each end in a clean error (exit 1 or 7),
/// never a hang or a crash, with nothing raw on the terminal.
#[test]
fn floods_and_bad_redirects_end_in_clean_errors() {
    let header_flood = {
        let mut h = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n".to_vec();
        for i in 0..20_000 {
            h.extend(format!("X-Flood-{i}: {}\r\n", "a".repeat(20)).as_bytes());
        }
        h.extend(b"Content-Length: 2\r\n\r\n{}");
        h
    };
    let nesting = json(
        "200 OK",
        &format!(
            r#"{{"success": 1, "data": {{"score": 1, "x": {}}}}}"#,
            "[".repeat(100_000)
        ),
    );
    let number = json(
        "200 OK",
        &format!(
            r#"{{"success": 1, "data": {{"score": 1{}}}}}"#,
            "0".repeat(100_000)
        ),
    );
    let redirect = |to: &str| {
        format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n").into_bytes()
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("file:// redirect", redirect("file:///etc/passwd"), "redirect"),
        ("user:pass@ redirect", redirect("http://user:pass@127.0.0.1:1/x"), "redirect"),
        ("redirect loop", redirect("/analysis/get_result.json"), "redirects"),
        ("header flood", header_flood, "buffer"),
        ("nesting flood", nesting, "deep"),
        ("number flood", number, "buffer"),
        (
            "a 1 TB Content-Length",
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1099511627776\r\n\r\n{".to_vec(),
            "limit",
        ),
    ];
    for (name, answer, says) in cases {
        let server = Hostile::start(move |c| {
            while c.request().is_some() {
                c.send(&answer);
            }
        });
        let out = run(lastline(&server).args(["result", TASK]));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(1 | 7)),
            "{name}: {:?} {stderr}",
            out.status
        );
        assert!(stderr.to_lowercase().contains(says), "{name}: {stderr}");
        assert_no_controls(name, &out.stderr);
        // A loop is followed five times, not forever.
        assert!(
            server.requests().len() <= 6,
            "{name}: {} requests",
            server.requests().len()
        );
    }
}

/// A file whose name holds a quote, CR/LF and ESC is submitted; the name
/// cannot add a part or a header to the upload, and is shown escaped.
#[test]
fn a_file_of_any_name_is_submitted_without_injecting_parts() {
    let api = Hostile::start(move |c| {
        while let Some(r) = c.request() {
            if r.body.windows(6).any(|w| w == b"SAMPLE") {
                c.send(&json(
                    "200 OK",
                    r#"{"success": 1, "data": {"task_uuid": "0123456789abcdef0123456789abcdef"}}"#,
                ));
            } else {
                c.send(&json(
                    "200 OK",
                    r#"{"success": 0, "error_code": 101, "error": "upload it"}"#,
                ));
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let f = dir
        .path()
        .join("a\"\r\n--x\r\nContent-Disposition: form-data; name=\"key\"\r\n\u{1b}[2J.exe");
    std::fs::write(&f, "SAMPLE bytes").unwrap();
    let out = run(lastline(&api).arg("submit").arg(&f));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_controls("stderr", &out.stderr);
    assert_no_controls("stdout", &out.stdout);
    let upload = api
        .requests()
        .into_iter()
        .find(|r| r.body.windows(6).any(|w| w == b"SAMPLE"))
        .unwrap();
    let body = String::from_utf8_lossy(&upload.body);
    // The name stays inside its field's value: no line of the upload
    // starts a part or a header it wrote.
    assert!(
        !body
            .lines()
            .any(|l| l.starts_with("Content-Disposition: form-data; name=\"key\"") || l == "--x"),
        "a part was injected: {body}"
    );
    let sent = body
        .lines()
        .skip_while(|l| !l.contains("name=\"filename\""))
        .nth(2)
        .unwrap();
    assert!(
        sent.starts_with("a\"__--x__Content-Disposition") && sent.ends_with("_[2J.exe"),
        "{sent:?}"
    );
}

/// A rate limit is waited out whatever its body says, as long as asked;
/// past `--retries` it ends with the status and the server's words.
#[test]
fn rate_limits_and_busy_pages_are_waited_out_as_asked() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let limited = {
        let body = r#"{"success": 0, "error": "Too many requests: 10 per minute"}"#;
        format!(
            "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let busy = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nRetry-After: 1\r\nContent-Length: 13\r\n\r\n<html></html>".to_vec();
    for first in [limited.clone(), busy] {
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        let first = first.clone();
        let server = Hostile::start(move |c| {
            while c.request().is_some() {
                if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                    c.send(&first);
                } else {
                    c.send(&json("200 OK", r#"{"success": 1, "data": "pong"}"#));
                }
            }
        });
        let started = Instant::now();
        let out = run(retrying(&server, 2).arg("ping"));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "waited as asked"
        );
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }
    // Past the retries: the status and the server's text, shown safely.
    let server = Hostile::start(move |c| {
        while c.request().is_some() {
            c.send(&limited);
        }
    });
    let out = run(retrying(&server, 1).arg("ping"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("429") && stderr.contains("10 per minute"),
        "{stderr}"
    );
    assert_eq!(server.requests().len(), 2);
}

/// XML for people: on a terminal (a pseudo-terminal from `script`) the
/// malware's control characters arrive escaped; into a pipe, byte for byte.
#[test]
fn an_xml_answer_reaches_a_terminal_escaped_and_a_pipe_as_sent() {
    let xml = "<?xml version=\"1.0\"?>\n<response><success>1</success><data><threat>\u{1b}]0;owned\u{7}\u{1b}[2J\u{202e}exe</threat></data></response>\n";
    let answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{xml}",
        xml.len()
    );
    let server = Hostile::start(move |c| {
        while c.request().is_some() {
            c.send(answer.as_bytes());
        }
    });
    // A pipe: the server's bytes.
    let out = run(lastline(&server).args(["get-result", TASK, "--format", "xml"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, xml.as_bytes());
    // A terminal: escaped, with `-o -` too.
    for extra in ["", " -o -"] {
        let command = format!(
            "{} --base-url {} --retries 0 get-result {TASK} --format xml{extra}",
            env!("CARGO_BIN_EXE_lastline"),
            server.url()
        );
        let out = Command::new("script")
            .args(["-q", "-e", "-c", &command, "/dev/null"])
            .env_remove("LASTLINE_CONFIG")
            .env("XDG_CONFIG_HOME", "/nonexistent-lastline-test")
            .env("LASTLINE_API_KEY", "k")
            .env("LASTLINE_API_TOKEN", "t")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let shown = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
        assert!(shown.contains("<threat>"), "{shown}");
        assert_no_controls(&format!("XML on a terminal{extra}"), shown.as_bytes());
    }
}
