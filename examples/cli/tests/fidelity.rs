//! What real servers send, through the binary: XML answers for people
//! (`--format xml`), the subject a result names, a cached resubmission's
//! inline result, a URL submission's times.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use lastline_emulator::{Config, Emulator, EICAR};
use serde_json::Value;

fn against(emu: &Emulator) -> Command {
    let (key, token) = emu.credentials();
    let mut c = Command::new(env!("CARGO_BIN_EXE_lastline"));
    c.env_remove("LASTLINE_CONFIG")
        .env_remove("LASTLINE_BASE_URL")
        .env("XDG_CONFIG_HOME", "/nonexistent-lastline-test")
        .env("LASTLINE_API_KEY", key)
        .env("LASTLINE_API_TOKEN", token)
        .args(["--base-url", &emu.base_url()])
        .stdin(Stdio::null());
    c
}

fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn emulator() -> Emulator {
    Emulator::start(Config {
        completion_delay: Duration::from_secs(60),
        ..Config::default()
    })
    .unwrap()
}

/// A completed EICAR task and its file's MD5.
fn eicar_task(emu: &Emulator, dir: &std::path::Path) -> (String, std::path::PathBuf) {
    let file = dir.join("eicar.com");
    std::fs::File::create(&file)
        .unwrap()
        .write_all(EICAR)
        .unwrap();
    let out = ok(against(emu)
        .arg("--json")
        .arg("submit")
        .arg(&file)
        .output()
        .unwrap());
    let task = json_lines(&out)[0]["task_uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    emu.advance_clock(61);
    (task, file)
}

/// The text an XML element holds, wherever it is.
fn texts(doc: &roxmltree::Document<'_>, name: &str) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.has_tag_name(name))
        .filter_map(|n| n.text().map(str::to_owned))
        .collect()
}

fn entry_keys(doc: &roxmltree::Document<'_>) -> Vec<String> {
    doc.descendants()
        .filter_map(|n| n.attribute("key").map(str::to_owned))
        .collect()
}

#[test]
fn format_xml_writes_the_servers_xml_to_stdout_or_a_file() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let (task, _) = eicar_task(&emu, dir.path());
    for args in [
        vec!["get-result", task.as_str()],
        vec!["get-task-metadata", task.as_str()],
        vec!["get-completed", "--after", "2000-01-01"],
    ] {
        let out = ok(against(&emu)
            .args(&args)
            .args(["--format", "xml"])
            .output()
            .unwrap());
        let text = String::from_utf8(out.stdout.clone()).unwrap();
        let doc =
            roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"));
        assert_eq!(texts(&doc, "success"), ["1"], "{args:?}: {text}");
        // The task is named: as a member's text, or as a map's key.
        let named = texts(&doc, "task_uuid").contains(&task) || entry_keys(&doc).contains(&task);
        assert!(named, "{args:?} names {task}: {text}");
        if args[0] == "get-result" {
            // And what it analysed.
            assert_eq!(texts(&doc, "md5").len(), 1, "{text}");
        }
        // -o: the same bytes, in a file written whole.
        let file = dir.path().join(format!("{}.xml", args[0]));
        let out = ok(against(&emu)
            .args(&args)
            .args(["--format", "xml", "-o"])
            .arg(&file)
            .output()
            .unwrap());
        assert!(out.stdout.is_empty() || String::from_utf8_lossy(&out.stdout).contains("written"));
        let written = std::fs::read_to_string(&file).unwrap();
        roxmltree::Document::parse(&written).unwrap();
        if args[0] != "get-completed" {
            assert_eq!(written, text, "{args:?}");
        }
    }
    // The request went out with the .xml suffix.
    assert!(emu
        .log()
        .entries()
        .iter()
        .any(|e| e.suffix.as_deref() == Some("xml") && e.api_method == Some("get_task_metadata")));
    // What XML cannot do, or -o without it, is refused before sending.
    for args in [
        vec!["get-result", task.as_str(), "-o", "x.json"],
        vec!["submit-file", "Cargo.toml", "--format", "xml"],
        vec![
            "submit-url",
            "http://a.example/",
            "--wait",
            "--format",
            "xml",
        ],
    ] {
        let before = emu.log().entries().len();
        let out = against(&emu).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success()
                && stderr.contains("refused before sending")
                && stderr.contains("--format"),
            "{args:?}: {stderr}"
        );
        assert_eq!(emu.log().entries().len(), before, "{args:?}: nothing sent");
    }
}

#[test]
fn results_show_their_subject_and_a_cached_resubmission_its_result_inline() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let (task, file) = eicar_task(&emu, dir.path());
    // EICAR's well-known MD5.
    let md5 = "44d88612fea8a8f36de82e1278abb02f".to_owned();
    // get-result: the server's data, analysis_subject included.
    let out = ok(against(&emu)
        .args(["--json", "get-result", &task])
        .output()
        .unwrap());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["analysis_subject"]["md5"], md5.as_str());
    let table = ok(against(&emu).args(["get-result", &task]).output().unwrap());
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("analysis_subject") && table.contains(&md5),
        "{table}"
    );
    // result: the typed summary names it too.
    let out = against(&emu)
        .args(["--json", "result", &task])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["subject"]["md5"], md5.as_str(), "{v}");
    assert!(v["subject"].get("url").is_none(), "no nulls: {v}");
    // A resubmission of the same file: the result comes inline.
    let out = ok(against(&emu)
        .args(["--json", "submit"])
        .arg(&file)
        .output()
        .unwrap());
    let row = &json_lines(&out)[0];
    assert_eq!(row["task_uuid"], task.as_str());
    assert_eq!(
        (row["uploaded"].clone(), row["score"].clone()),
        (Value::Bool(false), Value::from(100))
    );
    let inline = &row["result"];
    assert_eq!(inline["subject"]["md5"], md5.as_str(), "{row}");
    assert_eq!(inline["threat"], "EICAR-Test-File");
    assert!(inline["reports"][0]["report_uuid"].is_string(), "{row}");
    assert!(row["submission_timestamp"].is_string() && row["expires"].is_string());
    // In text, the table's row shows the subject and the threat.
    let out = against(&emu).arg("submit").arg(&file).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("EICAR-Test-File") && text.contains("SUBJECT"),
        "{text}"
    );
}

#[test]
fn submit_url_rows_carry_the_servers_times_and_a_cached_result() {
    let emu = emulator();
    let url = "http://phish.example/login.php";
    let out = ok(against(&emu)
        .args(["--json", "submit-url", url])
        .output()
        .unwrap());
    let row = &json_lines(&out)[0];
    for member in ["task_uuid", "submission_timestamp", "expires"] {
        assert!(row[member].is_string(), "{member}: {row}");
    }
    assert!(
        row.get("result").is_none(),
        "a new task has no result: {row}"
    );
    emu.advance_clock(61);
    let out = ok(against(&emu)
        .args(["--json", "submit-url", url])
        .output()
        .unwrap());
    let again = &json_lines(&out)[0];
    assert_eq!(again["task_uuid"], row["task_uuid"]);
    assert_eq!(again["result"]["subject"]["url"], url, "{again}");
}
