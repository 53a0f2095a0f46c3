//! The jobs people run: submit and wait, follow completions, fetch
//! results, reports and artifacts — and the offline demo.

use std::io::{self, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args;
use lastline_core::decoders::{CompletedTask, SubmitResultDecoder};
use lastline_core::request::{
    GetApiUtcTimestamp, GetResult, GetResultArtifact, GetResults, ResultsFormat, SubmitFile,
    SubmitUrl,
};
use lastline_core::types::{ArtifactId, Priority, Timestamp, Url, Uuid};
use lastline_core::workflow::NextPoll;
use lastline_ureq::{
    Client, Cursor, CursorFile, Error, FileSubmitted, Observer, Pace, Pacing, Pool, Wait,
};
use serde_json::{json, Value};

use crate::answer::Download;
use crate::ledger::{Ledger, SeenFile};
use crate::rows::{exit_code_for, row_json, Row, Verdict};
use crate::terminal::Ui;

/// Options of `submit_file` / `submit_url` worth a flag.
#[derive(Args, Debug, Clone, Default)]
pub struct SubmitArgs {
    /// Analysis priority, 1 (lowest) to 10.
    #[arg(long)]
    pub priority: Option<u8>,
    /// Seconds the sandbox runs the sample.
    #[arg(long)]
    pub analysis_timeout: Option<u32>,
    /// Analyse again even if a result is cached.
    #[arg(long)]
    pub bypass_cache: bool,
    /// Ask for the full report when the score reaches this (-1: never).
    #[arg(long)]
    pub full_report_score: Option<i32>,
}

impl SubmitArgs {
    fn priority(&self) -> Result<Option<Priority>, Error> {
        self.priority
            .map(|p| {
                Priority::new(p).ok_or(Error::from(lastline_core::Error::InvalidParam {
                    param: "priority",
                    reason: "must be 1..=10",
                }))
            })
            .transpose()
    }

    /// `submit_file` options.
    pub fn file_options<'a>(&self, filename: Option<&'a str>) -> Result<SubmitFile<'a>, Error> {
        Ok(SubmitFile {
            priority: self.priority()?,
            analysis_timeout: self.analysis_timeout,
            bypass_cache: self.bypass_cache.then_some(true),
            full_report_score: self.full_report_score,
            filename,
            ..SubmitFile::default()
        })
    }

    /// `submit_url` options.
    pub fn url_options<'a>(&self, url: Url<'a>) -> Result<SubmitUrl<'a>, Error> {
        let mut req = SubmitUrl::new(url);
        req.priority = self.priority()?;
        req.analysis_timeout = self.analysis_timeout;
        req.bypass_cache = self.bypass_cache.then_some(true);
        req.full_report_score = self.full_report_score.or(req.full_report_score);
        Ok(req)
    }
}

/// Waiting flags.
#[derive(Args, Debug, Clone)]
pub struct WaitArgs {
    /// Give up waiting after this many seconds [default: 3600; for
    /// `completed --follow`, follow until interrupted].
    #[arg(long)]
    pub wait_timeout: Option<u64>,
    /// Seconds between completion pages once caught up.
    #[arg(long, default_value_t = 10.0)]
    pub poll_interval: f64,
    /// Keep the completion cursor in this file (resumable waiting).
    #[arg(long)]
    pub cursor: Option<PathBuf>,
}

impl WaitArgs {
    fn wait<'a>(&self, file: Option<&'a CursorFile>) -> Wait<'a> {
        Wait {
            poll_interval: Duration::from_secs_f64(self.poll_interval.max(0.05)),
            timeout: Duration::from_secs(self.wait_timeout.unwrap_or(3600)),
            save_to: file,
        }
    }
}

/// Hash-first submission of one file, with progress.
pub fn submit_one(
    c: &mut Client,
    file: &Path,
    opts: &SubmitArgs,
    ui: &mut Ui,
) -> Result<FileSubmitted, Error> {
    // The client names it after the file (`lastline_ureq::sample_name`).
    let options = opts.file_options(None)?;
    let mut bars = ui.bars(&file.display().to_string());
    let out = c.submit_file(file, options, &mut bars);
    bars.finish();
    out
}

fn now_minus(secs: u64) -> Timestamp {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Timestamp::from_unix(now.saturating_sub(secs) as i64)
        .unwrap_or_else(|_| Timestamp::from_unix(0).expect("epoch"))
}

/// While waiting: the bars move, and each awaited task is told to the
/// ledger and, with `--cursor`, recorded beside the cursor before it moves.
struct Watch<'a> {
    bars: crate::terminal::Bars,
    ledger: Option<&'a Ledger>,
    seen: Option<SeenFile>,
    /// Recording failed (reported once waiting ends).
    broken: Option<io::Error>,
}

impl Observer for Watch<'_> {
    fn waiting(&mut self, done: usize, total: usize) {
        self.bars.waiting(done, total);
    }
    fn completed(&mut self, t: &CompletedTask) {
        if let Some(l) = self.ledger {
            l.completed(t.task_uuid, t.score);
        }
        if let Some(s) = &self.seen {
            if let Err(e) = s.record(t) {
                self.broken.get_or_insert(e);
            }
        }
    }
}

/// Waits for `tasks` on the completion cursor, telling `ledger` of each
/// as it completes; returns them in the order given.
pub fn wait_for(
    c: &mut Client,
    tasks: &[Uuid],
    start: Timestamp,
    args: &WaitArgs,
    ui: &mut Ui,
    ledger: Option<&Ledger>,
) -> Result<Vec<CompletedTask>, Error> {
    let file = args.cursor.as_ref().map(CursorFile::new);
    let mut cursor = match &file {
        Some(f) => f.load_or(start)?,
        None => Cursor::new(start),
    };
    let mut watch = Watch {
        bars: ui.bars("verdicts"),
        ledger,
        seen: args.cursor.as_deref().map(SeenFile::beside),
        broken: None,
    };
    let got = c.wait_for(
        tasks,
        &mut cursor,
        args.wait(file.as_ref()),
        &mut watch,
        &mut |_| {},
    );
    watch.bars.finish();
    if let Some(e) = watch.broken {
        return Err(Error::Io(e));
    }
    got
}

/// Whether an error is about one input only (a missing file, a file the
/// server refuses), so the other inputs are still submitted.
fn about_this_input(e: &Error) -> bool {
    crate::status::of(e) == crate::status::ERROR
}

/// What `submit` was given, expanded: the files to submit, and the inputs
/// that are none (named, with why).
#[derive(Debug, Default)]
pub struct Inputs {
    /// The files, in the order given (a directory's in name order).
    pub files: Vec<PathBuf>,
    /// Inputs that could not be used.
    pub failed: Vec<(String, io::Error)>,
}

impl Inputs {
    /// Files as given, the files under directories with `recursive`, and
    /// the paths on stdin for `-` (one a line). A missing file is kept:
    /// its submission names it.
    pub fn gather(args: &[PathBuf], recursive: bool) -> Self {
        let mut inputs = Self::default();
        for a in args {
            if a.as_os_str() == "-" {
                for line in io::stdin().lines() {
                    match line {
                        Ok(l) if !l.trim().is_empty() => inputs.files.push(PathBuf::from(l.trim())),
                        Ok(_) => {}
                        Err(e) => inputs.failed.push(("-".into(), e)),
                    }
                }
            } else if a.is_dir() {
                if recursive {
                    inputs.walk(a);
                } else {
                    inputs.failed.push((
                        a.display().to_string(),
                        io::Error::new(
                            io::ErrorKind::InvalidInput,
                            "a directory (use --recursive)",
                        ),
                    ));
                }
            } else {
                inputs.files.push(a.clone());
            }
        }
        inputs
    }

    /// The files under `dir`, at any depth, in name order; directories
    /// reached by a symbolic link are not entered (no loops).
    fn walk(&mut self, dir: &Path) {
        let mut entries = match std::fs::read_dir(dir) {
            Ok(rd) => rd.filter_map(Result::ok).collect::<Vec<_>>(),
            Err(e) => {
                self.failed.push((dir.display().to_string(), e));
                return;
            }
        };
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => self.walk(&path),
                Ok(t) if t.is_file() || (t.is_symlink() && path.is_file()) => self.files.push(path),
                Ok(_) => {}
                Err(err) => self.failed.push((path.display().to_string(), err)),
            }
        }
    }
}

/// `submit FILE|DIR|-...`: hash-first each file, on the pool's
/// connections at once, each task told as it exists; a file that fails is
/// named and the others still go; with `--wait`, verdicts.
pub fn submit(
    c: &mut Client,
    pool: &Pool,
    inputs: Inputs,
    opts: &SubmitArgs,
    wait: Option<&WaitArgs>,
    ui: &mut Ui,
) -> Result<(Value, u8), Error> {
    let ledger = Ledger::new(ui.json);
    for (name, e) in inputs.failed {
        ledger.failed(&name, &Error::Io(e));
    }
    let mut earliest: Option<Timestamp> = None;
    let mut record = |path: &Path, o: FileSubmitted| {
        if let Some(t) = o.submission.submission_timestamp {
            earliest = Some(earliest.map_or(t, |e| if t.unix() < e.unix() { t } else { e }));
        }
        ledger.submitted(Row {
            uploaded: Some(o.uploaded),
            ..Row::submitted(
                path.display().to_string(),
                &o.submission,
                o.result.as_ref(),
                &o.items,
            )
        });
    };
    if let [file] = inputs.files.as_slice() {
        // One file: its own progress (hashing, uploading) shown.
        match submit_one(c, file, opts, ui) {
            Ok(o) => record(file, o),
            Err(e) if about_this_input(&e) => ledger.failed(&file.display().to_string(), &e),
            Err(e) => return Err(e),
        }
    } else {
        let total = inputs.files.len();
        let mut bars = ui.bars("files");
        let mut fatal = None;
        let mut done = 0;
        pool.submit_files(inputs.files, opts.file_options(None)?, &mut |s| {
            done += 1;
            bars.count("submitted", done, total);
            // Each outcome's line written with the bar out of the way.
            bars.suspend(|| match s.outcome {
                Ok(o) => {
                    record(&s.path, o);
                    ControlFlow::Continue(())
                }
                Err(e) if about_this_input(&e) => {
                    ledger.failed(&s.path.display().to_string(), &e);
                    ControlFlow::Continue(())
                }
                // Unreachable, or credentials refused: no further file is
                // started; those under way are still told.
                Err(e) => {
                    ledger.failed(&s.path.display().to_string(), &e);
                    fatal.get_or_insert(e);
                    ControlFlow::Break(())
                }
            })
        })?;
        bars.finish();
        if let Some(e) = fatal {
            return Err(e);
        }
    }
    finish(c, &ledger, earliest, wait, ui)
}

/// The URL to submit, checked.
pub fn url_param(url: &str) -> Result<Url<'_>, Error> {
    Url::parse(url).map_err(|_| {
        Error::from(lastline_core::Error::InvalidParam {
            param: "url",
            reason: "not an http(s) URL",
        })
    })
}

/// `submit-url URL`.
pub fn submit_url(
    c: &mut Client,
    url: &str,
    referer: Option<&str>,
    opts: &SubmitArgs,
    wait: Option<&WaitArgs>,
    ui: &mut Ui,
) -> Result<(Value, u8), Error> {
    let mut req = opts.url_options(url_param(url)?)?;
    req.referer = referer;
    // The whole answer: a URL analysed recently comes with its result.
    let mut items = lastline_ureq::InlineItems::default();
    let s = c.call_with::<_, SubmitResultDecoder>(&req, &mut |i| items.push(i))?;
    let ledger = Ledger::new(ui.json);
    ledger.submitted(Row::submitted(
        url.to_owned(),
        &s.submission,
        s.result.as_ref(),
        &items,
    ));
    finish(c, &ledger, s.submission.submission_timestamp, wait, ui)
}

/// With `wait`, waits for the verdicts still missing; a wait that ends
/// early lists the tasks still pending.
fn finish(
    c: &mut Client,
    ledger: &Ledger,
    earliest: Option<Timestamp>,
    wait: Option<&WaitArgs>,
    ui: &mut Ui,
) -> Result<(Value, u8), Error> {
    if let Some(args) = wait {
        ledger.waiting();
        let pending = ledger.pending();
        if !pending.is_empty() {
            let start = match earliest {
                Some(t) => Ok(Timestamp::from_unix(t.unix() - 1).unwrap_or(t)),
                None => c.call(&GetApiUtcTimestamp, |_| {}),
            };
            let waited = start.and_then(|s| wait_for(c, &pending, s, args, ui, Some(ledger)));
            match waited {
                Ok(_) => {}
                Err(Error::Pending { .. }) => ledger.list_pending("waiting timed out"),
                Err(e) => {
                    ledger.list_pending("waiting failed");
                    return Err(e);
                }
            }
        }
    }
    Ok(ledger.finish())
}

/// `wait UUID...`: with `--cursor`, tasks a previous run already saw
/// complete are reported from the record beside the cursor.
pub fn wait(
    c: &mut Client,
    tasks: &[Uuid],
    after: Option<Timestamp>,
    args: &WaitArgs,
    ui: &mut Ui,
) -> Result<(Value, u8), Error> {
    let ledger = Ledger::new(ui.json);
    let mut unique = Vec::new();
    for t in tasks {
        if !unique.contains(t) {
            unique.push(*t);
            ledger.awaited(*t);
        }
    }
    if let Some(p) = &args.cursor {
        for (task, score) in SeenFile::beside(p).load()? {
            ledger.completed(task, score);
        }
    }
    let start = after.unwrap_or_else(|| now_minus(24 * 3600));
    finish(c, &ledger, Some(start), Some(args), ui)
}

/// `completed [--follow]`: completions after the cursor, printed as each
/// page arrives (nothing is kept, whatever the server sends): a table's
/// rows, or with `--json` one JSON array (JSON Lines with `--follow`).
/// Pages are read as [`Pacing`] says: `--wait-timeout` holds after every
/// page, so a server that always has more cannot keep it running.
pub fn completed(
    c: &mut Client,
    after: Option<Timestamp>,
    follow: bool,
    args: &WaitArgs,
    ui: &Ui,
) -> Result<Value, Error> {
    let file = args.cursor.as_ref().map(CursorFile::new);
    let start = after.unwrap_or_else(|| now_minus(3600));
    let mut cursor = match &file {
        Some(f) => f.load_or(start)?,
        None => Cursor::new(start),
    };
    let json = ui.json;
    let mut pacing = Pacing::new(
        args.wait_timeout.map(Duration::from_secs),
        Duration::from_secs_f64(args.poll_interval.max(0.05)),
    );
    let mut rows = 0u64;
    let mut out = Lines { broken: None };
    if !follow {
        out.put(if json {
            "["
        } else {
            "TASK_UUID                         SCORE  VERDICT\n"
        });
    }
    let ended = loop {
        let next = c.completions(&mut cursor, &mut |t| {
            let verdict = Verdict::of(t.score).as_str();
            let score = t.score.map_or("-".into(), |s| s.to_string());
            let row = || {
                let r = Row {
                    score: t.score,
                    ..Row::new(t.task_uuid)
                };
                crate::safe::json_line(&row_json(&r, verdict))
            };
            let line = match (json, follow) {
                (true, true) => format!("{}\n", row()),
                (true, false) => format!("{}\n  {}", if rows == 0 { "" } else { "," }, row()),
                (false, true) => format!("{}  {score:>5}  {verdict}\n", t.task_uuid),
                (false, false) => format!("{}  {score:<5}  {verdict}\n", t.task_uuid),
            };
            rows += 1;
            out.put(&line);
        });
        let next = match next {
            Ok(n) => n,
            Err(e) => break Err(e),
        };
        if let Some(f) = &file {
            if let Err(e) = f.save(&cursor) {
                break Err(e);
            }
        }
        if out.broken.is_some() {
            break Ok(());
        }
        if next == NextPoll::Later && !follow {
            break Ok(());
        }
        match pacing.after_page(next) {
            Pace::Now => {}
            Pace::After(pause) => std::thread::sleep(pause),
            // --wait-timeout: listing ends once it has passed.
            Pace::Stop => break Ok(()),
        }
    };
    if !follow && json {
        out.put(if rows == 0 { "]\n" } else { "\n]\n" });
    }
    match out.broken {
        Some(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(Error::Io(e)),
        _ => ended.map(|()| Value::Null),
    }
}

/// Standard output, flushed line by line; the first write error (a
/// closed pipe) ends the listing.
struct Lines {
    broken: Option<io::Error>,
}

impl Lines {
    fn put(&mut self, text: &str) {
        if self.broken.is_none() {
            let mut o = io::stdout().lock();
            if let Err(e) = o.write_all(text.as_bytes()).and_then(|()| o.flush()) {
                self.broken = Some(e);
            }
        }
    }
}

/// `result UUID`: the summary and its verdict.
pub fn result(c: &mut Client, task: Uuid) -> Result<(Value, u8), Error> {
    let r = c.call(&GetResult::new(task), |_| {})?;
    let code = exit_code_for([r.score]);
    let mut v = json!(r);
    if let Value::Object(m) = &mut v {
        m.insert("verdict".into(), json!(Verdict::of(r.score).as_str()));
        // The subject's hashes, or its URL: what it has.
        if let Some(Value::Object(s)) = m.get_mut("subject") {
            s.retain(|_, x| !x.is_null());
        }
    }
    Ok((v, code))
}

/// Report formats of `report`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ReportFormat {
    /// PDF download.
    Pdf,
    /// RTF download.
    Rtf,
    /// The JSON result with the full report's entries.
    Json,
}

/// `report UUID --format pdf -o FILE`.
pub fn report(
    c: &mut Client,
    task: Uuid,
    format: ReportFormat,
    out: &Download,
    json: bool,
) -> Result<Value, Error> {
    let req = |f| GetResults {
        full_report_score: Some(0),
        format: f,
        ..GetResults::new(task)
    };
    match format {
        ReportFormat::Pdf => out.fetch(c, &req(ResultsFormat::Pdf)),
        ReportFormat::Rtf => out.fetch(c, &req(ResultsFormat::Rtf)),
        ReportFormat::Json => crate::answer::call(c, json, &req(ResultsFormat::Json)),
    }
}

/// `artifact UUID REPORT:NAME -o FILE`.
pub fn artifact(
    c: &mut Client,
    task: Uuid,
    artifact: &str,
    password: Option<&str>,
    out: &Download,
) -> Result<Value, Error> {
    let id = ArtifactId::parse(artifact).map_err(|_| {
        Error::from(lastline_core::Error::InvalidParam {
            param: "artifact",
            reason: "expected <report-UUID>:<artifact-name>",
        })
    })?;
    out.fetch(
        c,
        &GetResultArtifact {
            uuid: task,
            artifact_uuid: id,
            password_protected: password,
            allow_datacenter_redirect: None,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_verdict_sets_the_exit_status() {
        assert_eq!(Verdict::of(Some(70)), Verdict::Malicious);
        assert_eq!(Verdict::of(Some(69)), Verdict::Suspicious);
        assert_eq!(Verdict::of(Some(29)), Verdict::Benign);
        assert_eq!(Verdict::of(None), Verdict::Unknown);
        assert_eq!(exit_code_for([Some(0), None, Some(45)]), 3);
        assert_eq!(exit_code_for([Some(45), Some(100)]), 4);
        assert_eq!(exit_code_for([None, Some(5)]), 0);
        assert_eq!(exit_code_for([]), 0);
    }
}
