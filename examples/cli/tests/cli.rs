//! The `lastline` binary: the demo, JSON output, exit codes, credentials
//! from the environment, and a subcommand for every method.

use std::io::Write;
use std::process::{Command, Output};

use lastline_emulator::{Config, Emulator, EICAR};
use serde_json::Value;

fn lastline() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lastline"));
    // No stray configuration from the machine running the tests.
    c.env_remove("LASTLINE_API_KEY")
        .env_remove("LASTLINE_API_TOKEN")
        .env_remove("LASTLINE_BASE_URL")
        .env_remove("LASTLINE_CONFIG")
        .env("XDG_CONFIG_HOME", "/nonexistent-lastline-test");
    c
}

fn against(emu: &Emulator) -> Command {
    let (key, token) = emu.credentials();
    let mut c = lastline();
    c.env("LASTLINE_API_KEY", key)
        .env("LASTLINE_API_TOKEN", token);
    c
}

fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// JSON Lines output: one object per line.
fn events_of(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| {
                panic!(
                    "not a JSON line ({e}): {l}\nstderr: {}",
                    String::from_utf8_lossy(&out.stderr)
                )
            })
        })
        .collect()
}

/// The events of one kind.
fn event<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == kind).collect()
}

#[test]
fn demo_runs_the_whole_flow_offline() {
    let out = lastline().arg("demo").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "uploaded (server did not know the hash)",
        "known hash: not uploaded",
        "malicious",
        "benign",
        "eicar-report.pdf",
    ] {
        assert!(text.contains(expected), "{expected:?} missing in:\n{text}");
    }
    // --json before or after the subcommand: one JSON document.
    for args in [["--json", "demo"], ["demo", "--json"]] {
        let out = lastline().args(args).output().unwrap();
        assert!(out.status.success());
        let v = json_of(&out);
        let verdicts: Vec<&str> = v["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["verdict"].as_str().unwrap())
            .collect();
        assert_eq!(verdicts, ["benign", "malicious"]);
        assert_eq!(v["resubmitted"]["uploaded"], false);
        assert_eq!(v["uploads"], 2);
        assert_eq!(v["per_task_polls"], 0);
        assert!(v["report"]["bytes"].as_u64().unwrap() > 100);
    }
}

#[test]
fn submit_and_wait_exit_codes_reports_and_json() {
    let emu = Emulator::start(Config::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let eicar = dir.path().join("eicar.com");
    std::fs::File::create(&eicar)
        .unwrap()
        .write_all(EICAR)
        .unwrap();
    let benign = dir.path().join("notes.txt");
    std::fs::write(&benign, "a harmless note\n").unwrap();

    // --base-url after the subcommand, --json before it.
    let out = against(&emu)
        .args(["--json", "submit"])
        .arg(&benign)
        .args([
            "--wait",
            "--poll-interval",
            "0.1",
            "--base-url",
            &emu.base_url(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = events_of(&out);
    let submitted = event(&v, "submitted");
    assert_eq!(submitted.len(), 1, "{v:?}");
    assert_eq!(submitted[0]["uploaded"], true);
    let completed = event(&v, "completed");
    assert_eq!(completed.len(), 1, "{v:?}");
    assert_eq!(completed[0]["verdict"], "benign");
    assert_eq!(completed[0]["task_uuid"], submitted[0]["task_uuid"]);

    let out = against(&emu)
        .args(["--base-url", &emu.base_url(), "submit"])
        .arg(&eicar)
        .args(["--wait", "--poll-interval", "0.1", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "malicious → 4: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = events_of(&out);
    assert_eq!(event(&v, "completed")[0]["verdict"], "malicious");
    let task = v[0]["task_uuid"].as_str().unwrap().to_owned();

    let out = against(&emu)
        .args(["--base-url", &emu.base_url(), "result", &task])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stdout).contains("malicious"));

    let pdf = dir.path().join("r.pdf");
    let out = against(&emu)
        .args([
            "--base-url",
            &emu.base_url(),
            "report",
            &task,
            "--format",
            "pdf",
            "-o",
        ])
        .arg(&pdf)
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    // The suffix on the wire in lower case, as the official client sends.
    let sent = emu
        .log()
        .entries()
        .into_iter()
        .rev()
        .find(|e| e.api_method == Some("get_results"));
    assert_eq!(sent.unwrap().suffix.as_deref(), Some("pdf"));
    // A failed report leaves no file (and no temporary) behind.
    let missing = dir.path().join("missing.pdf");
    let listing = || {
        let mut v: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        v.sort();
        v
    };
    let before = listing();
    let out = against(&emu)
        .args([
            "--base-url",
            &emu.base_url(),
            "report",
            "00000000000000000000000000000001",
            "--format",
            "pdf",
            "-o",
        ])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(listing(), before);

    // Method subcommands print the server's `data`, its names and nesting.
    let out = against(&emu)
        .args([
            "--base-url",
            &emu.base_url(),
            "--json",
            "get-completed",
            "--after",
            "2000-01-01",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v = json_of(&out);
    // With scores: `tasks` maps each UUID to its score.
    assert!(v["tasks"][task.as_str()].is_number(), "{v}");
    // A proxy in the environment is never used for loopback.
    let out = against(&emu)
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("ALL_PROXY", "http://127.0.0.1:9")
        .args(["--base-url", &emu.base_url(), "ping", "--json"])
        .output()
        .unwrap();
    assert_eq!(json_of(&out), "pong");
    let out = against(&emu)
        .args(["--base-url", &emu.base_url(), "get-task-metadata", &task])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("file_md5"));

    // An API error: exit 1 with the server's reason.
    let out = against(&emu)
        .args([
            "--base-url",
            &emu.base_url(),
            "get-result",
            "00000000000000000000000000000001",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("API error"));

    // No credentials anywhere in the URLs the emulator saw.
    let (key, token) = emu.credentials();
    assert!(emu
        .log()
        .entries()
        .iter()
        .all(|e| !e.query.contains(&key) && !e.query.contains(&token)));
}

#[test]
fn credentials_only_from_environment_or_config_file() {
    let emu = Emulator::start(Config::default()).unwrap();
    let out = lastline()
        .args(["--base-url", &emu.base_url(), "ping"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "no credentials");
    assert!(String::from_utf8_lossy(&out.stderr).contains("LASTLINE_API_KEY"));
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config");
    let (key, token) = emu.credentials();
    std::fs::write(
        &cfg,
        format!(
            "base_url = {}\nkey = {key}\napi_token = {token}\n",
            emu.base_url()
        ),
    )
    .unwrap();
    let out = lastline()
        .arg("--config")
        .arg(&cfg)
        .args(["ping", "--json"])
        .output()
        .unwrap();
    assert_ok(&out);
    // No flag takes a key or token.
    let help =
        String::from_utf8_lossy(&lastline().arg("--help").output().unwrap().stdout).to_string();
    assert!(!help.contains("--key") && !help.contains("--api-token") && !help.contains("--token"));
    // Plain HTTP to a remote host is refused.
    let out = lastline()
        .arg("--config")
        .arg(&cfg)
        .args(["--base-url", "http://analysis.example", "ping"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("plain http"));
}

#[test]
fn every_method_has_a_subcommand() {
    let help =
        String::from_utf8_lossy(&lastline().arg("--help").output().unwrap().stdout).to_string();
    // The SDK's one table of methods, checked against the emulator's
    // reading of the catalog.
    let names: Vec<&str> = lastline_core::request::METHODS
        .iter()
        .map(|m| m.name)
        .collect();
    let mut catalog = lastline_emulator::method_names();
    let mut ours = names.clone();
    catalog.sort_unstable();
    ours.sort_unstable();
    assert_eq!(ours, catalog);
    for m in names {
        let sub = m.replace('_', "-");
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{sub} "))),
            "no `{sub}` subcommand"
        );
        let out = lastline().args([sub.as_str(), "--help"]).output().unwrap();
        assert!(out.status.success(), "{sub} --help");
    }
}

#[test]
fn completed_resumes_from_its_cursor_and_follow_streams_lines() {
    let emu = Emulator::start(Config::default()).unwrap();
    let base = emu.base_url();
    let dir = tempfile::tempdir().unwrap();
    let cursor = dir.path().join("cursor");
    let out = against(&emu)
        .args([
            "--base-url",
            &base,
            "--json",
            "submit-url",
            "http://files.example/a.exe",
            "--wait",
            "--poll-interval",
            "0.1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success() || out.status.code() == Some(3) || out.status.code() == Some(4));
    let task = events_of(&out)[0]["task_uuid"].as_str().unwrap().to_owned();
    let list = |emu: &Emulator| {
        let out = against(emu)
            .args([
                "--base-url",
                &base,
                "--json",
                "completed",
                "--after",
                "2000-01-01",
                "--cursor",
            ])
            .arg(&cursor)
            .output()
            .unwrap();
        assert_ok(&out);
        json_of(&out)
    };
    let first = list(&emu);
    assert!(first
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["task_uuid"] == task.as_str()));
    // The cursor file remembers: nothing is listed twice.
    assert_eq!(list(&emu), serde_json::json!([]));

    // `wait` finds a task by the cursor, with its verdict's exit status.
    let out = against(&emu)
        .args([
            "--base-url",
            &base,
            "--json",
            "wait",
            &task,
            "--after",
            "2000-01-01",
            "--poll-interval",
            "0.1",
        ])
        .output()
        .unwrap();
    let v = events_of(&out);
    let done = event(&v, "completed");
    assert_eq!(done.len(), 1, "{v:?}");
    assert_eq!(done[0]["task_uuid"], task.as_str());
    let code = match done[0]["verdict"].as_str().unwrap() {
        "malicious" => 4,
        "suspicious" => 3,
        _ => 0,
    };
    assert_eq!(out.status.code(), Some(code));

    // --follow prints one JSON line per completion as it comes.
    let mut child = against(&emu)
        .args([
            "--base-url",
            &base,
            "--json",
            "completed",
            "--follow",
            "--after",
            "2000-01-01",
            "--poll-interval",
            "0.1",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    let row: Value = serde_json::from_str(&line).unwrap();
    assert!(
        row["task_uuid"].is_string() && row["verdict"].is_string(),
        "{line}"
    );

    // --wait-timeout bounds following: it ends on its own, with every line.
    let started = std::time::Instant::now();
    let out = against(&emu)
        .args(["--base-url", &base, "--json", "completed", "--follow"])
        .args(["--after", "2000-01-01", "--poll-interval", "0.1"])
        .args(["--wait-timeout", "1"])
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    assert!(events_of(&out)
        .iter()
        .any(|r| r["task_uuid"] == task.as_str()));
}

#[test]
fn bad_options_are_refused_not_dropped() {
    let emu = Emulator::start(Config::default()).unwrap();
    let base = emu.base_url();
    // A SHA-1 given as --md5: a usage error, not a silently empty hash.
    let out = against(&emu)
        .args([
            "--base-url",
            &base,
            "submit-file",
            "--md5",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // An out-of-range priority on submit-url is an error, not ignored.
    let out = against(&emu)
        .args([
            "--base-url",
            &base,
            "submit-url",
            "http://x.example/a.exe",
            "--priority",
            "11",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("priority"));
    assert!(emu.log().entries().is_empty(), "nothing was sent");

    // `auth` from the config file applies unless --auth says otherwise,
    // and an unknown value is an error.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config");
    std::fs::write(&cfg, "auth = session\n").unwrap();
    let out = against(&emu)
        .arg("--config")
        .arg(&cfg)
        .args(["--base-url", &base, "ping"])
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(emu
        .log()
        .entries()
        .iter()
        .any(|e| e.api_method == Some("login")));
    emu.log().clear();
    let out = against(&emu)
        .arg("--config")
        .arg(&cfg)
        .args(["--base-url", &base, "--auth", "basic", "ping"])
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(emu
        .log()
        .entries()
        .iter()
        .all(|e| e.api_method != Some("login")));
    std::fs::write(&cfg, "auth = kerberos\n").unwrap();
    let out = against(&emu)
        .arg("--config")
        .arg(&cfg)
        .args(["--base-url", &base, "ping"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kerberos"));
}

/// `-v` shows what the client did on its own; `--retries` bounds it.
#[test]
fn verbose_shows_retries_and_redirects_and_retries_bounds_them() {
    use lastline_emulator::{Fault, FaultRule, Redirect, RetryAfter};
    let emu = Emulator::start(Config::default()).unwrap();
    let base = emu.base_url();
    emu.faults().add(FaultRule::new(
        Some("ping"),
        Fault::ServerError {
            status: 503,
            retry_after: Some(RetryAfter::Seconds(1)),
        },
        1,
    ));
    emu.configure(|c| c.datacenter_redirect = Redirect::Once);
    let out = against(&emu)
        .args(["-v", "--base-url", &base, "ping"])
        .output()
        .unwrap();
    assert_ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("HTTP 503") && err.contains("retrying in"),
        "{err}"
    );
    assert!(
        err.contains("followed a 307 redirect to another origin, without credentials"),
        "{err}"
    );
    // Without -v: the same calls, nothing said.
    let out = against(&emu)
        .args(["--base-url", &base, "ping"])
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("retrying"));
    // --retries 0: one attempt, the failure reported.
    emu.log().clear();
    emu.faults()
        .add(FaultRule::new(Some("ping"), Fault::Unavailable, 1));
    let out = against(&emu)
        .args(["--retries", "0", "--base-url", &base, "ping"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("107"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(emu.log().entries().len(), 1);
}

/// A referer that is not a URL is refused before anything is sent.
#[test]
fn a_bad_referer_is_refused_before_sending() {
    let emu = Emulator::start(Config::default()).unwrap();
    let out = against(&emu)
        .args([
            "--base-url",
            &emu.base_url(),
            "submit-url",
            "http://example.com/page",
            "--referer",
            "not a url",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("referer"), "{err}");
    assert!(emu.log().entries().is_empty(), "{:?}", emu.log().entries());
}

/// A missing file among three: the other two are submitted and told, the
/// missing one is named, and the exit status says an input failed (8).
#[test]
fn a_missing_file_among_three_is_named_and_the_others_go() {
    let emu = Emulator::start(Config::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.bin");
    let b = dir.path().join("b.bin");
    let missing = dir.path().join("nosuch.bin");
    std::fs::write(&a, "first sample").unwrap();
    std::fs::write(&b, "second sample").unwrap();
    let out = against(&emu)
        .args(["--base-url", &emu.base_url(), "--json", "submit"])
        .args([&a, &missing, &b])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(8));
    let v = events_of(&out);
    let mut submitted: Vec<_> = event(&v, "submitted")
        .iter()
        .map(|e| e["sample"].as_str().unwrap().to_owned())
        .collect();
    // Told as they complete (on parallel connections): any order.
    submitted.sort();
    assert_eq!(
        submitted,
        [a.display().to_string(), b.display().to_string()]
    );
    let failed = event(&v, "failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["sample"], missing.display().to_string().as_str());
    assert!(failed[0]["error"]
        .as_str()
        .unwrap()
        .contains("No such file"));

    // In text: each task on stderr as it is submitted, the missing file
    // named, the table of the two on stdout.
    let out = against(&emu)
        .args(["--base-url", &emu.base_url(), "submit"])
        .args([&a, &missing, &b])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(8));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}: I/O error", missing.display())),
        "{err}"
    );
    let tasks: Vec<&str> = submitted_tasks(&v);
    for t in &tasks {
        assert!(err.contains(t), "{t} not told: {err}");
        assert!(String::from_utf8_lossy(&out.stdout).contains(t));
    }
}

fn submitted_tasks(v: &[Value]) -> Vec<&str> {
    event(v, "submitted")
        .iter()
        .map(|e| e["task_uuid"].as_str().unwrap())
        .collect()
}

/// A wait that times out lists the tasks still pending, with status 5.
#[test]
fn a_wait_timeout_lists_the_pending_tasks() {
    let emu = Emulator::start(Config {
        completion_delay: std::time::Duration::from_secs(3600),
        ..Config::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("slow.bin");
    std::fs::write(&f, "takes an hour").unwrap();
    let out = against(&emu)
        .args(["--base-url", &emu.base_url(), "--json", "submit"])
        .arg(&f)
        .args(["--wait", "--wait-timeout", "1", "--poll-interval", "0.2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    let v = events_of(&out);
    let task = submitted_tasks(&v)[0].to_owned();
    let pending = event(&v, "pending");
    assert_eq!(pending.len(), 1, "{v:?}");
    assert_eq!(pending[0]["task_uuid"], task.as_str());
    // In text, the pending UUID on stderr and the table says "pending".
    let out = against(&emu)
        .args(["--base-url", &emu.base_url(), "wait", &task])
        .args(["--wait-timeout", "1", "--poll-interval", "0.2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("still pending") && err.contains(&task),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("pending"));
}

/// Ctrl-C during a wait lists the submitted tasks still pending.
#[test]
fn ctrl_c_during_a_wait_lists_the_pending_tasks() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let emu = Emulator::start(Config {
        completion_delay: std::time::Duration::from_secs(3600),
        ..Config::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("slow.bin");
    std::fs::write(&f, "interrupted").unwrap();
    let mut child = against(&emu)
        .args(["--base-url", &emu.base_url(), "--json", "submit"])
        .arg(&f)
        .args(["--wait", "--poll-interval", "0.2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["event"], "submitted");
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let rest: Vec<Value> = lines
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert_eq!(child.wait().unwrap().code(), Some(5));
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(rest[0]["event"], "pending");
    assert_eq!(rest[0]["task_uuid"], first["task_uuid"]);
}

/// `wait --cursor` ended before all verdicts (killed, timed out) and run
/// again still reports the tasks the first run saw complete.
#[test]
fn a_rerun_wait_with_its_cursor_reports_every_verdict() {
    let emu = Emulator::start(Config {
        completion_delay: std::time::Duration::from_secs(3),
        ..Config::default()
    })
    .unwrap();
    let base = emu.base_url();
    let dir = tempfile::tempdir().unwrap();
    let submit = |name: &str| {
        let f = dir.path().join(name);
        std::fs::write(&f, name).unwrap();
        let out = against(&emu)
            .args(["--base-url", &base, "--json", "submit"])
            .arg(&f)
            .output()
            .unwrap();
        assert_ok(&out);
        submitted_tasks(&events_of(&out))[0].to_owned()
    };
    let t1 = submit("first.bin");
    std::thread::sleep(std::time::Duration::from_millis(3500));
    let t2 = submit("second.bin");
    let cursor = dir.path().join("cursor");
    let wait = |timeout: &str| {
        against(&emu)
            .args(["--base-url", &base, "--json", "wait", &t1, &t2])
            .args(["--after", "2000-01-01", "--poll-interval", "0.1"])
            .args(["--wait-timeout", timeout, "--cursor"])
            .arg(&cursor)
            .output()
            .unwrap()
    };
    // The first run sees T1 only.
    let out = wait("1");
    assert_eq!(out.status.code(), Some(5));
    let v = events_of(&out);
    let done = event(&v, "completed");
    assert_eq!(done.len(), 1, "{v:?}");
    assert_eq!(done[0]["task_uuid"], t1.as_str());
    assert_eq!(event(&v, "pending")[0]["task_uuid"], t2.as_str());
    // Run again: the cursor is past T1, yet T1 is reported, then T2.
    let out = wait("20");
    let v = events_of(&out);
    let mut done: Vec<&str> = event(&v, "completed")
        .iter()
        .map(|e| e["task_uuid"].as_str().unwrap())
        .collect();
    done.sort();
    let mut want = [t1.as_str(), t2.as_str()];
    want.sort();
    assert_eq!(done, want, "{v:?}");
    assert!(event(&v, "pending").is_empty());
    assert!(matches!(out.status.code(), Some(0 | 3 | 4)));
}

/// The exit-status table: usage, credentials refused, server unreachable;
/// with `--json` the error is a JSON object on stderr.
#[test]
fn exit_statuses_tell_usage_credentials_and_unreachable_apart() {
    let emu = Emulator::start(Config::default()).unwrap();
    let out = against(&emu).args(["submit"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "usage");
    let out = against(&emu).args(["--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("5 still pending"));

    let out = lastline()
        .env("LASTLINE_API_KEY", "wrong")
        .env("LASTLINE_API_TOKEN", "wrong")
        .args(["--base-url", &emu.base_url(), "--json", "ping"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "credentials refused");
    let e: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(e["exit_status"], 6);
    assert!(e["error"].as_str().is_some_and(|m| !m.is_empty()), "{e}");

    // Nothing listens on port 9 of loopback.
    let out = against(&emu)
        .args(["--base-url", "http://127.0.0.1:9", "--json", "ping"])
        .args(["--retries", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "unreachable");
    let e: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(e["exit_status"], 7);
    assert_eq!(e["attempts"], 1, "{e}");
    // With one retry allowed: two attempts, said in the JSON and the text.
    let out = against(&emu)
        .args(["--base-url", "http://127.0.0.1:9", "--json", "ping"])
        .args(["--retries", "1"])
        .output()
        .unwrap();
    let e: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(e["attempts"], 2, "{e}");
    assert!(
        e["error"].as_str().unwrap().contains("after 2 attempts"),
        "{e}"
    );

    // An API error keeps status 1, with its code in the JSON.
    let out = against(&emu)
        .args(["--base-url", &emu.base_url(), "--json", "get-result"])
        .arg("00000000000000000000000000000001")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let e: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert!(e["code"].is_number(), "{e}");
}

/// The response fields the catalog gives a method, with those of the
/// method it is documented the same as.
fn catalog_fields(catalog: &Value, method: &str) -> Vec<Value> {
    let m = catalog["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == method)
        .unwrap_or_else(|| panic!("{method} not in the catalog"));
    let r = &m["response"];
    let mut fields = r["fields"].as_array().cloned().unwrap_or_default();
    for link in ["same_as", "includes_from"] {
        if let Some(other) = r[link]["method"].as_str() {
            fields.extend(catalog_fields(catalog, other));
        }
    }
    fields
}

/// Members real servers send beyond the catalog (`wire-dialect.md`), by
/// method.
const DIALECT: &[(&str, &str)] = &[
    ("get_result", "analysis_subject"),
    ("get_results", "analysis_subject"),
];

/// Every member `v` has is one the catalog names (or the wire dialect, at
/// the top), at every depth the catalog describes.
fn check_names(v: &Value, fields: &[Value], at: &str) {
    let Value::Object(members) = v else {
        return;
    };
    for (k, x) in members {
        if DIALECT.contains(&(at, k.as_str())) {
            continue;
        }
        let f = fields
            .iter()
            .find(|f| f["name"] == k.as_str())
            .unwrap_or_else(|| panic!("{at}.{k} is not a catalog field"));
        if let Some(sub) = f["fields"].as_array() {
            match x {
                Value::Array(entries) => {
                    for e in entries {
                        check_names(e, sub, &format!("{at}.{k}[]"));
                    }
                }
                other => check_names(other, sub, &format!("{at}.{k}")),
            }
        }
    }
}

/// What `--json` prints for the method subcommands is the server's `data`
/// under the catalog's member names — no Rust names, no flattening —
/// against a server that sends the catalog's members (and the wire
/// dialect's) only; a richer
/// server's extra members pass through as sent.
#[test]
fn json_member_names_are_the_catalogs() {
    use lastline_emulator::{Reading, Shapes};
    let catalog: Value =
        serde_json::from_str(include_str!("../../../core/tests/data/api.json")).unwrap();
    let emu = Emulator::start(Config {
        shapes: Shapes {
            reading: Reading::Plain,
            ..Shapes::default()
        },
        ..Config::default()
    })
    .unwrap();
    let base = emu.base_url();
    let dir = tempfile::tempdir().unwrap();
    let eicar = dir.path().join("eicar.com");
    std::fs::write(&eicar, EICAR).unwrap();
    let out = against(&emu)
        .args(["--base-url", &base, "--json", "submit"])
        .arg(&eicar)
        .args(["--wait", "--poll-interval", "0.1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let task = submitted_tasks(&events_of(&out))[0].to_owned();
    let after = ["--after", "2000-01-01"];
    let runs: &[(&str, &[&str])] = &[
        ("get_task_metadata", &[&task]),
        ("get_result", &[&task]),
        ("get_progress", &[&task]),
        ("get_result_activities", &[&task]),
        ("get_analysis_tags", &[&task]),
        ("get_network_iocs", &[&task]),
        ("get_child_tasks_recursively", &[&task]),
        ("get_completed", &after),
        ("get_completed_with_metadata", &after),
        ("get_pending", &after),
        ("get_api_utc_timestamp", &[]),
    ];
    let mut checked = 0;
    for (method, args) in runs {
        let out = against(&emu)
            .args(["--base-url", &base, "--json", &method.replace('_', "-")])
            .args(*args)
            .output()
            .unwrap();
        assert_ok(&out);
        let v = json_of(&out);
        assert!(v.is_object(), "{method}: {v}");
        check_names(&v, &catalog_fields(&catalog, method), method);
        checked += v.as_object().unwrap().len();
    }
    assert!(checked > 30, "only {checked} members seen");

    // A richer server (the emulator's default reading): its extra members,
    // nested, are printed as sent.
    let rich = Emulator::start(Config::default()).unwrap();
    let out = against(&rich)
        .args(["--base-url", &rich.base_url(), "--json", "submit"])
        .arg(&eicar)
        .args(["--wait", "--poll-interval", "0.1"])
        .output()
        .unwrap();
    let task = submitted_tasks(&events_of(&out))[0].to_owned();
    let out = against(&rich)
        .args(["--base-url", &rich.base_url(), "--json"])
        .args(["get-result-activities", &task])
        .output()
        .unwrap();
    assert_ok(&out);
    let v = json_of(&out);
    assert_eq!(
        v["report_activities"][0]["details"]["process"]["name"], "sample.exe",
        "{v}"
    );
}

/// An open shape far larger than any buffer (the emulator's large reading):
/// `--json get-results` prints it whole, as the server sent it, once the
/// typed decoder accepted the answer (it skipped and counted that entry).
#[test]
fn very_large_open_shapes_are_printed_whole() {
    use lastline_emulator::Shapes;
    let emu = Emulator::start(Config {
        shapes: Shapes {
            large_open: true,
            ..Shapes::default()
        },
        ..Config::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let eicar = dir.path().join("eicar.com");
    std::fs::write(&eicar, EICAR).unwrap();
    let out = against(&emu)
        .args(["--base-url", &emu.base_url(), "--json", "submit"])
        .arg(&eicar)
        .output()
        .unwrap();
    let task = submitted_tasks(&events_of(&out))[0].to_owned();
    let out = against(&emu)
        .args([
            "--base-url",
            &emu.base_url(),
            "--json",
            "get-results",
            &task,
        ])
        .output()
        .unwrap();
    assert_ok(&out);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mitre = &v["activity_to_mitre_techniques"];
    assert_eq!(
        mitre["Evasion: Large technique information"]
            .as_array()
            .map(Vec::len),
        Some(300)
    );
    assert!(
        mitre[lastline_emulator::LONG_ACTIVITY].is_array(),
        "{mitre}"
    );
}

/// Bulk submission: a directory (with --recursive, at any depth), paths on
/// stdin (`-`), and single files, over several connections at once
/// (`--jobs`); every file told once as it completes, a directory given
/// without --recursive named, and `--wait` waiting for all of them on one
/// completion cursor.
#[test]
fn many_files_directories_and_stdin_over_parallel_connections() {
    use std::io::Write as _;
    let emu = Emulator::start(Config::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("quarantine");
    std::fs::create_dir_all(tree.join("deeper/deepest")).unwrap();
    let mut expected = vec![];
    for (i, sub) in ["", "deeper", "deeper/deepest"].iter().enumerate() {
        for j in 0..5 {
            let p = tree.join(sub).join(format!("sample-{i}-{j}.bin"));
            std::fs::write(&p, format!("sample {i} {j}")).unwrap();
            expected.push(p.display().to_string());
        }
    }
    let listed: Vec<_> = (0..4)
        .map(|j| {
            let p = dir.path().join(format!("listed-{j}.bin"));
            std::fs::write(&p, format!("listed {j}")).unwrap();
            p
        })
        .collect();
    expected.extend(listed.iter().map(|p| p.display().to_string()));
    let eicar = dir.path().join("eicar.com");
    std::fs::write(&eicar, EICAR).unwrap();
    expected.push(eicar.display().to_string());

    let mut child = against(&emu)
        .args([
            "--base-url",
            &emu.base_url(),
            "--json",
            "submit",
            "--jobs",
            "6",
        ])
        .arg("--recursive")
        .arg(&tree)
        .arg("-")
        .arg(&eicar)
        .args(["--wait", "--poll-interval", "0.1"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        for p in &listed {
            writeln!(stdin, "{}", p.display()).unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(4), "EICAR is malicious");
    let v = events_of(&out);
    let mut submitted: Vec<String> = event(&v, "submitted")
        .iter()
        .map(|e| e["sample"].as_str().unwrap().to_owned())
        .collect();
    submitted.sort();
    expected.sort();
    assert_eq!(submitted, expected, "each file once");
    assert_eq!(event(&v, "completed").len(), expected.len());
    assert!(event(&v, "failed").is_empty());
    // All of it on one completion cursor, never polling a task.
    let log = emu.log().entries();
    assert!(!log
        .iter()
        .any(|e| matches!(e.api_method, Some("get_progress" | "get_result"))));

    // A directory without --recursive is named; the file beside it goes.
    let out = against(&emu)
        .args(["--base-url", &emu.base_url(), "--json", "submit"])
        .arg(&tree)
        .arg(&eicar)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(8));
    let v = events_of(&out);
    assert_eq!(event(&v, "submitted").len(), 2 - 1);
    let failed = event(&v, "failed");
    assert!(
        failed[0]["error"].as_str().unwrap().contains("--recursive"),
        "{failed:?}"
    );
}

/// `--help` lists the workflow commands apart from the 29 method commands
/// (each still callable with its own help); a refusal the user can lift
/// names the flag; completion scripts for bash, zsh and fish know every
/// command.
#[test]
fn help_groups_commands_refusals_name_flags_and_completions_exist() {
    let help = String::from_utf8(lastline().arg("--help").output().unwrap().stdout).unwrap();
    let (commands, rest) = help.split_once("API methods").expect("a methods section");
    for workflow in [
        "submit",
        "wait",
        "completed",
        "result",
        "report",
        "artifact",
        "completions",
    ] {
        assert!(
            commands
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{workflow} "))),
            "{workflow} among the commands"
        );
    }
    for m in lastline_core::request::METHODS.iter() {
        let sub = m.name.replace('_', "-");
        assert!(
            !commands
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{sub} "))),
            "{sub} listed among the workflow commands"
        );
        assert!(
            rest.lines()
                .any(|l| l.trim_start().starts_with(&format!("{sub} "))),
            "{sub} not listed among the methods"
        );
    }

    let out = lastline()
        .env("LASTLINE_API_KEY", "k")
        .env("LASTLINE_API_TOKEN", "t")
        .args(["--base-url", "http://analysis.example", "ping"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--insecure-http"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    for shell in ["bash", "zsh", "fish"] {
        let out = lastline().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        for word in ["submit", "get-progress", "insecure-http", "completions"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
}

/// The config file: `config init` writes it readable by its owner only
/// (keeping an existing one unless --force), with the environment's
/// credentials; TOML profiles are chosen by --profile or LASTLINE_PROFILE,
/// their settings over the top-level ones; an old-style file still reads.
#[test]
fn config_init_profiles_and_old_files() {
    let emu = Emulator::start(Config::default()).unwrap();
    let (key, token) = emu.credentials();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("nested/lastline.toml");

    let out = lastline()
        .env("LASTLINE_API_KEY", &key)
        .env("LASTLINE_API_TOKEN", &token)
        .arg("--config")
        .arg(&cfg)
        .args(["config", "init"])
        .output()
        .unwrap();
    assert_ok(&out);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cfg).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
    }
    let written = std::fs::read_to_string(&cfg).unwrap();
    assert!(written.contains(&key) && written.contains(&token));
    let again = lastline()
        .arg("--config")
        .arg(&cfg)
        .args(["config", "init"])
        .output()
        .unwrap();
    assert!(!again.status.success(), "an existing file is kept");
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), written);
    // The written file works as it is (its base_url is the default server,
    // so point it at the emulator).
    let out = lastline()
        .arg("--config")
        .arg(&cfg)
        .args(["--base-url", &emu.base_url(), "ping"])
        .output()
        .unwrap();
    assert_ok(&out);

    // Profiles: the top level has a refused key; [profile.lab] the right one.
    let toml = format!(
        "base_url = \"{}\"\nkey = \"wrong\"\napi_token = \"wrong\"\n\n[profile.lab]\nkey = \"{key}\"\napi_token = \"{token}\"\n",
        emu.base_url()
    );
    std::fs::write(&cfg, toml).unwrap();
    let ping = |extra: &[&str], env: Option<&str>| {
        let mut c = lastline();
        c.arg("--config").arg(&cfg).args(extra).arg("ping");
        if let Some(p) = env {
            c.env("LASTLINE_PROFILE", p);
        }
        c.output().unwrap().status.code()
    };
    assert_eq!(ping(&[], None), Some(6), "top level: credentials refused");
    assert_eq!(ping(&["--profile", "lab"], None), Some(0));
    assert_eq!(ping(&[], Some("lab")), Some(0));
    assert_eq!(
        ping(&["--profile", "prod"], None),
        Some(1),
        "no such profile"
    );

    // The file's proxy is used: one where nothing listens makes the
    // server unreachable (7); `--proxy` over it, or none, and it works.
    std::fs::write(
        &cfg,
        format!(
            "base_url = \"{}\"\nkey = \"{key}\"\napi_token = \"{token}\"\nproxy = \"http://127.0.0.1:9\"\nretries = 0\ntimeout = 5\n",
            emu.base_url()
        ),
    )
    .unwrap();
    assert_eq!(ping(&[], None), Some(7), "through the file's dead proxy");

    // A file written before TOML: bare values.
    std::fs::write(
        &cfg,
        format!(
            "# old\nbase_url = {}\nkey = {key}\napi_token = {token}\n",
            emu.base_url()
        ),
    )
    .unwrap();
    assert_eq!(ping(&[], None), Some(0));
}

/// The README's method table says, for each method, its subcommand and
/// whether it answers in XML — as the core's table declares and the CLI
/// accepts (`--format xml` on each subcommand that offers it).
#[test]
fn the_readme_method_table_is_the_core_table() {
    let readme = include_str!("../../../README.md");
    for m in lastline_core::request::METHODS.iter() {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", m.name)))
            .unwrap_or_else(|| panic!("{}: no row in the README's method table", m.name));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let sub = m.name.replace('_', "-");
        assert_eq!(cells[3], format!("`{sub}`"), "{row}");
        assert_eq!(cells[5].starts_with("yes"), m.offers_xml(), "{row}");
        let help = lastline().args([sub.as_str(), "--help"]).output().unwrap();
        let cli_xml = String::from_utf8_lossy(&help.stdout).contains("--format <FORMAT>");
        let library_only = cells[5].contains("library");
        assert_eq!(cli_xml, m.offers_xml() && !library_only, "{sub} --help");
    }
}
