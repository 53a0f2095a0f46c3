//! The tasks of one `submit`, `submit-url` or `wait`, each told the moment
//! it is known, so a submission is never lost to the user: not when a file
//! among several is missing, not when waiting times out, not on Ctrl-C.
//!
//! With `--json` every change is one JSON line on stdout, an object with
//! `event` = `submitted` | `completed` | `pending` | `failed`:
//! `task_uuid`, `sample` (when known), `uploaded` (files), `score` and
//! `verdict` for tasks; `sample` and `error` for a failed input. `pending`
//! lines list, when waiting ends early, the tasks still without a verdict.
//! Without `--json`, submissions and failures are told on stderr as they
//! happen and a table of every task is printed at the end.

use std::fs::OpenOptions;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use lastline_core::decoders::CompletedTask;
use lastline_core::types::Uuid;
use serde_json::{json, Value};

use crate::rows::{exit_code_for, row_json, row_text, Row, Verdict};
use crate::{safe, status};

/// One task's place in the ledger.
#[derive(Clone, Debug)]
struct Entry {
    row: Row,
    /// Its verdict is known (completed, or scored at submission).
    done: bool,
}

#[derive(Debug)]
struct Inner {
    json: bool,
    entries: Vec<Entry>,
    failed: Vec<(String, String)>,
    /// Whether verdicts are awaited (pending tasks then matter).
    waiting: bool,
}

/// The tasks of one command (cheap to clone: one shared list).
#[derive(Clone, Debug)]
pub struct Ledger(Arc<Mutex<Inner>>);

impl Ledger {
    /// An empty ledger printing as `json` says. Ctrl-C then lists the tasks
    /// still pending and exits with [`status::PENDING`] ([`crate::interrupt`]).
    pub fn new(json: bool) -> Self {
        let ledger = Self(Arc::new(Mutex::new(Inner {
            json,
            entries: Vec::new(),
            failed: Vec::new(),
            waiting: false,
        })));
        crate::interrupt::tell(Box::new(ledger.clone()));
        ledger
    }

    /// Whether any task is still without a verdict.
    pub fn has_pending(&self) -> bool {
        self.lock().entries.iter().any(|e| !e.done)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere must not hide the tasks: use the list anyway.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// From now on verdicts are awaited.
    pub fn waiting(&self) {
        self.lock().waiting = true;
    }

    /// A task the server just returned.
    pub fn submitted(&self, row: Row) {
        let mut inner = self.lock();
        let done = row.score.is_some();
        if inner.json {
            line(&event_json("submitted", &row));
        } else {
            eprintln!(
                "lastline: {} submitted: task {}",
                safe::text(row.sample.as_deref().unwrap_or("-")),
                row.task
            );
        }
        inner.entries.push(Entry { row, done });
    }

    /// A task awaited by `wait` (not submitted by this command).
    pub fn awaited(&self, task: Uuid) {
        self.lock().entries.push(Entry {
            row: Row::new(task),
            done: false,
        });
    }

    /// An input that could not be submitted.
    pub fn failed(&self, sample: &str, error: &dyn std::fmt::Display) {
        let mut inner = self.lock();
        let error = error.to_string();
        if inner.json {
            line(&json!({"event": "failed", "sample": sample, "error": error}));
        } else {
            eprintln!("lastline: {}: {}", safe::text(sample), safe::text(&error));
        }
        inner.failed.push((sample.to_owned(), error));
    }

    /// An awaited task completed with `score`.
    pub fn completed(&self, task: Uuid, score: Option<i32>) {
        let mut inner = self.lock();
        let json = inner.json;
        for e in inner
            .entries
            .iter_mut()
            .filter(|e| e.row.task == task && !e.done)
        {
            e.row.score = score;
            e.done = true;
            if json {
                line(&event_json("completed", &e.row));
            }
        }
    }

    /// Tasks still without a verdict.
    pub fn pending(&self) -> Vec<Uuid> {
        self.lock()
            .entries
            .iter()
            .filter(|e| !e.done)
            .map(|e| e.row.task)
            .collect()
    }

    /// Tells the tasks still pending (`why`: "timed out", "interrupted").
    pub fn list_pending(&self, why: &str) {
        let inner = self.lock();
        let pending: Vec<&Entry> = inner.entries.iter().filter(|e| !e.done).collect();
        if pending.is_empty() {
            return;
        }
        if inner.json {
            for e in pending {
                line(&event_json("pending", &e.row));
            }
        } else {
            eprintln!("lastline: {why}; still pending:");
            for e in pending {
                eprintln!(
                    "  {}  {}",
                    e.row.task,
                    safe::text(e.row.sample.as_deref().unwrap_or(""))
                );
            }
        }
    }

    /// The end: what to print (nothing with `--json`, already streamed) and
    /// the exit status — failed inputs first, then pending tasks, then the
    /// worst verdict.
    pub fn finish(&self) -> (Value, u8) {
        let inner = self.lock();
        let pending = inner.waiting && inner.entries.iter().any(|e| !e.done);
        let code = if !inner.failed.is_empty() {
            status::INPUT_FAILED
        } else if pending {
            status::PENDING
        } else if inner.waiting {
            exit_code_for(inner.entries.iter().map(|e| e.row.score))
        } else {
            status::OK
        };
        let value = if inner.json {
            Value::Null
        } else {
            json!(inner
                .entries
                .iter()
                .map(|e| {
                    let verdict = if inner.waiting && !e.done {
                        "pending"
                    } else {
                        Verdict::of(e.row.score).as_str()
                    };
                    row_text(&e.row, verdict)
                })
                .collect::<Vec<_>>())
        };
        (value, code)
    }
}

impl crate::interrupt::PendingTasks for Ledger {
    fn has_pending(&self) -> bool {
        Ledger::has_pending(self)
    }

    fn list_pending(&self, why: &str) {
        Ledger::list_pending(self, why);
    }
}

/// One JSON line on stdout, flushed (for pipes).
pub fn line(v: &Value) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{}", safe::json_line(v));
    let _ = out.flush();
}

fn event_json(event: &str, r: &Row) -> Value {
    let mut v = row_json(r, Verdict::of(r.score).as_str());
    if let Value::Object(m) = &mut v {
        m.insert("event".into(), json!(event));
    }
    v
}

/// The awaited tasks a `wait --cursor` has already seen complete, kept
/// beside the cursor file (`<cursor>.tasks`, one JSON line each) and
/// written before the cursor moves past them: a wait killed and run again
/// still reports them.
pub struct SeenFile {
    path: PathBuf,
}

impl SeenFile {
    /// The record beside `cursor`.
    pub fn beside(cursor: &Path) -> Self {
        let mut p = cursor.as_os_str().to_owned();
        p.push(".tasks");
        Self { path: p.into() }
    }

    /// The tasks recorded so far (none without a file).
    pub fn load(&self) -> io::Result<Vec<(Uuid, Option<i32>)>> {
        let f = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let lines = io::BufReader::new(f)
            .lines()
            .collect::<io::Result<Vec<_>>>()?;
        let last = lines.len().saturating_sub(1);
        let mut seen = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let v = serde_json::from_str::<Value>(l).ok();
            let task = v
                .as_ref()
                .and_then(|v| v["task_uuid"].as_str()?.parse().ok());
            match (task, v) {
                (Some(task), Some(v)) => {
                    let score = v["score"].as_i64().and_then(|s| i32::try_from(s).ok());
                    seen.push((task, score));
                }
                // The last line, cut by a crash while it was written.
                _ if i == last => {}
                _ => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{}: line {} is corrupt", self.path.display(), i + 1),
                    ))
                }
            }
        }
        Ok(seen)
    }

    /// Records a completed task, synced before returning.
    pub fn record(&self, t: &CompletedTask) -> io::Result<()> {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        writeln!(
            f,
            "{}",
            json!({"task_uuid": t.task_uuid.to_string(), "score": t.score})
        )?;
        f.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(n: u8, score: Option<i32>) -> CompletedTask {
        CompletedTask {
            task_uuid: format!("{n:032x}").parse().unwrap(),
            score,
            insufficient_task_input_errors: Default::default(),
        }
    }

    #[test]
    fn the_seen_record_survives_a_cut_last_line_but_not_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let seen = SeenFile::beside(&dir.path().join("cursor"));
        assert!(seen.load().unwrap().is_empty());
        seen.record(&task(1, Some(100))).unwrap();
        seen.record(&task(2, None)).unwrap();
        let both = vec![
            (task(1, None).task_uuid, Some(100)),
            (task(2, None).task_uuid, None),
        ];
        assert_eq!(seen.load().unwrap(), both);
        // A crash while the next line was written.
        let mut f = OpenOptions::new().append(true).open(&seen.path).unwrap();
        f.write_all(b"{\"task_uu").unwrap();
        assert_eq!(seen.load().unwrap(), both);
        // Anything else that does not parse is an error, not a silent loss.
        f.write_all(b"\n{\"task_uuid\": \"00000000000000000000000000000003\"}\n")
            .unwrap();
        let e = seen.load().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("line 3"), "{e}");
    }
}
