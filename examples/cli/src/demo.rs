//! `lastline demo`: the whole job against an emulator started in this
//! process on loopback — no account, no network.

use std::path::PathBuf;
use std::time::Duration;

use lastline_core::request::{GetResults, ResultsFormat};
use lastline_emulator::{Config as EmuConfig, Emulator, EICAR};
use lastline_ureq::{Client, Config, Error};
use serde_json::{json, Value};

use crate::rows::{Row, Verdict};
use crate::terminal::Ui;
use crate::workflows::{self, SubmitArgs, WaitArgs};

fn say(ui: &Ui, line: &str) {
    if !ui.json {
        println!("{line}");
    }
}

/// Tells users' demo folders apart on a shared machine.
fn user_tag() -> String {
    std::env::var("USER").unwrap_or_else(|_| "user".into())
}

/// Runs the demo; returns what to print and the exit status.
pub fn run(ui: &mut Ui) -> Result<(Value, u8), Error> {
    let emu = Emulator::start(EmuConfig {
        completion_delay: Duration::from_millis(1500),
        ..EmuConfig::default()
    })?;
    let (key, token) = emu.credentials();
    let mut c = Client::new(Config::new(&emu.base_url(), &key, &token))?;
    say(
        ui,
        &format!(
            "1. Emulator of the Analyst API listening on {} (in this process)",
            emu.base_url()
        ),
    );

    // One folder, emptied at each run (the emulator's UUIDs repeat, so an
    // old cursor must not be reused).
    let dir = std::env::temp_dir().join(format!("lastline-demo-{}", user_tag()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let benign = dir.join("quarterly-report.txt");
    let text: String = (0..20_000)
        .map(|i| format!("line {i}: nothing to see here\n"))
        .collect();
    std::fs::write(&benign, text)?;
    let eicar = dir.join("eicar.com");
    std::fs::write(&eicar, EICAR)?;
    let files: Vec<PathBuf> = vec![benign.clone(), eicar.clone()];

    say(ui, "2. Hash-first submission: hash once, submit by hash, upload only when the server asks (101)");
    let opts = SubmitArgs::default();
    let wait = WaitArgs {
        wait_timeout: Some(60),
        poll_interval: 0.5,
        cursor: Some(dir.join("cursor")),
    };
    let mut first = Vec::new();
    for f in &files {
        let o = workflows::submit_one(&mut c, f, &opts, ui)?;
        first.push(Row {
            uploaded: Some(o.uploaded),
            ..Row::submitted(
                f.display().to_string(),
                &o.submission,
                o.result.as_ref(),
                &o.items,
            )
        });
    }
    for (file, row) in files.iter().zip(&first) {
        say(
            ui,
            &format!(
                "   {:<24} task {}  {}",
                file.file_name().and_then(|n| n.to_str()).unwrap_or(""),
                row.task,
                if row.uploaded == Some(true) {
                    "uploaded (server did not know the hash)"
                } else {
                    "known hash: not uploaded"
                }
            ),
        );
    }
    let again = c.submit_file(
        &eicar,
        lastline_core::request::SubmitFile::default(),
        &mut lastline_ureq::Quiet,
    )?;
    say(
        ui,
        &format!(
            "   eicar.com again          task {}  {}",
            again.submission.task_uuid,
            if again.uploaded {
                "uploaded"
            } else {
                "known hash: not uploaded"
            }
        ),
    );

    say(
        ui,
        "3. Waiting for verdicts on one completion cursor (no per-task polling)",
    );
    let tasks: Vec<_> = first.iter().map(|r| r.task).collect();
    let started =
        lastline_core::types::Timestamp::from_unix(0).map_err(|_| Error::Config("epoch".into()))?;
    let done = workflows::wait_for(&mut c, &tasks, started, &wait, ui, None)?;
    let mut verdicts = Vec::new();
    for (file, t) in files.iter().zip(&done) {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        say(
            ui,
            &format!(
                "   {:<24} score {:>3}  {}",
                name,
                t.score.map(|s| s.to_string()).unwrap_or("-".into()),
                Verdict::of(t.score).as_str()
            ),
        );
        verdicts.push(Row {
            sample: Some(name.to_owned()),
            score: t.score,
            ..Row::new(t.task_uuid)
        });
    }

    // Everything so far was submission and waiting: no task was polled.
    let polled = emu
        .log()
        .entries()
        .iter()
        .filter(|e| {
            matches!(
                e.api_method,
                Some("get_progress" | "get_result" | "get_results")
            )
        })
        .count();
    say(ui, "4. Downloading the PDF report of eicar.com");
    let pdf = dir.join("eicar-report.pdf");
    let eicar_task = done
        .get(1)
        .map(|t| t.task_uuid)
        .ok_or(Error::Config("no EICAR task".into()))?;
    let n = c.download_to_file(
        &GetResults {
            format: ResultsFormat::Pdf,
            ..GetResults::new(eicar_task)
        },
        &pdf,
    )?;
    say(ui, &format!("   {} ({n} bytes)", pdf.display()));

    let log = emu.log().entries();
    let uploads = log
        .iter()
        .filter(|e| e.parts.iter().any(|p| p.name == "file"))
        .count();
    say(
        ui,
        &format!(
            "5. Done: {} requests in all, {uploads} uploads, {} completion pages; files in {}",
            log.len(),
            log.iter()
                .filter(|e| e.api_method == Some("get_completed"))
                .count(),
            dir.display()
        ),
    );
    let summary = json!({
        "emulator": emu.base_url(),
        "submissions": crate::rows::rows_json(&first),
        "resubmitted": {"task_uuid": again.submission.task_uuid.to_string(), "uploaded": again.uploaded},
        "verdicts": crate::rows::rows_json(&verdicts),
        "report": {"path": pdf.display().to_string(), "bytes": n},
        "requests": log.len(),
        "uploads": uploads,
        "per_task_polls": polled,
    });
    emu.stop();
    Ok((summary, 0))
}
