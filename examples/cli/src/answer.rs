//! Where a method's answer goes: printed (a table, or the server's JSON with `--json`), its XML written byte for byte (`--format xml`), or a download into a file or a pipe.

use std::io::{self, IsTerminal, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use lastline_core::request::{Request, Xml};
use lastline_ureq::{Client, Error};
use serde_json::{json, Value};

/// Where a download goes.
#[derive(Args, Debug, Clone)]
pub struct Download {
    /// Output file (`-` for standard output).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Refuse a download larger than this many bytes [default: no limit].
    #[arg(long, value_name = "BYTES")]
    pub max_size: Option<u64>,
}

impl Download {
    /// Downloads `req` into the output.
    pub fn fetch<R: Request>(&self, c: &mut Client, req: &R) -> Result<Value, Error> {
        c.set_max_download(self.max_size);
        match self.output.as_deref() {
            // Into a temporary file renamed once whole: a failed or
            // interrupted download leaves nothing, a restarted one starts
            // the file over.
            // Ctrl-C removes the temporary file while it is written.
            Some(p) if p != Path::new("-") => {
                let mut partial = None;
                let n = c.download_to_file_noting(req, p, &mut |tmp| {
                    partial = Some(crate::interrupt::Partial::new(tmp));
                })?;
                drop(partial);
                Ok(json!({"written": n, "to": p.display().to_string()}))
            }
            None if io::stdout().is_terminal() => Err(Error::Io(io::Error::other(
                "refusing to write a binary download to the terminal: give -o FILE (or -o - to force)",
            ))),
            _ => {
                let mut out = io::stdout().lock();
                c.download(req, &mut out)?;
                Ok(Value::Null)
            }
        }
    }
}

/// The answer's format (`--format`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AnswerFormat {
    /// The server's `data`: a table, or its JSON with `--json`.
    #[default]
    Json,
    /// The server's XML answer (the reference's format for people), byte
    /// for byte: its `success`, `data` or `error` as the server renders
    /// them (not read by this CLI).
    Xml,
}

/// How a method's answer is asked for and where it goes.
#[derive(clap::Args, Debug, Clone)]
pub struct Answer {
    /// The answer's format: json (the server's data, a table without
    /// --json) or xml (its XML answer as sent; to a terminal with control
    /// characters escaped).
    #[arg(long, value_enum, default_value_t)]
    pub format: AnswerFormat,
    /// With --format xml: the XML goes to this file (`-` for standard
    /// output), written whole or not at all, as downloads are.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl Answer {
    /// Calls `req` in the chosen format; returns what to print.
    pub fn call<R: Request>(
        &self,
        c: &mut Client,
        ui: &crate::Ui,
        req: &R,
    ) -> Result<Value, Error> {
        match self.format {
            AnswerFormat::Json if self.output.is_some() => {
                Err(refused("-o writes an XML answer: add --format xml"))
            }
            AnswerFormat::Json => call(c, ui.json, req),
            AnswerFormat::Xml => xml(c, self.output.as_deref(), req),
        }
    }

    /// Refuses XML for a command that reads the JSON answer itself
    /// (`why` says which and what to do instead).
    pub fn needs_json(&self, why: &'static str) -> Result<(), Error> {
        match self.format {
            AnswerFormat::Xml => Err(refused(why)),
            AnswerFormat::Json => Ok(()),
        }
    }
}

fn refused(reason: &'static str) -> Error {
    Error::from(lastline_core::Error::InvalidParam {
        param: "--format",
        reason,
    })
}

/// The most of an XML answer shown on a terminal (it is read whole to
/// escape it); a larger one goes to a file with `-o`.
pub const XML_TERMINAL_LIMIT: usize = 16 * 1024 * 1024;

/// `req`'s XML answer: into a file (temporary, renamed once whole), to
/// standard output byte for byte, or — on a terminal, `-o -` included —
/// with every control character escaped (the XML carries the malware's
/// strings).
fn xml<R: Request>(c: &mut Client, output: Option<&Path>, req: &R) -> Result<Value, Error> {
    if let Some(p) = output.filter(|p| *p != Path::new("-")) {
        let to_file = Download {
            output: Some(p.to_path_buf()),
            max_size: None,
        };
        return to_file.fetch(c, &Xml(req));
    }
    let mut out = io::stdout().lock();
    if !out.is_terminal() {
        c.call_xml(req, &mut out)?;
        return Ok(Value::Null);
    }
    let mut text = Capped(Vec::new());
    c.call_xml(req, &mut text)?;
    let shown = String::from_utf8_lossy(&text.0);
    // Line ends kept: the XML is for people to read.
    let lines: Vec<_> = shown.split('\n').map(crate::safe::text).collect();
    writeln!(out, "{}", lines.join("\n").trim_end())?;
    Ok(Value::Null)
}

/// An answer kept to show on a terminal, refused past
/// [`XML_TERMINAL_LIMIT`] bytes (the server decides its size).
struct Capped(Vec<u8>);

impl Write for Capped {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.0.len().saturating_add(bytes.len()) > XML_TERMINAL_LIMIT {
            return Err(io::Error::other(
                "the XML answer is larger than a terminal shows (16 MiB): give -o FILE",
            ));
        }
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The largest answer shown as a table: a `serde_json::Value` takes some
/// 30 times the answer's size, so larger ones are for `--json`, which
/// streams.
pub const TABLE_LIMIT: u64 = 16 * 1024 * 1024;

/// Calls a method; what it prints is the server's `data` as sent — the
/// reference's member names and nesting, list entries and open shapes
/// whole — once the typed decoder has accepted the whole answer. One rule
/// for every method: nothing is chosen per method. The answer is kept in
/// an unnamed temporary file, not in memory: with `--json` its `data` is
/// copied through to the output (nothing is returned); as a table it is
/// read into a tree when at most [`TABLE_LIMIT`] bytes.
pub fn call<R: Request>(c: &mut Client, json: bool, req: &R) -> Result<Value, Error> {
    let mut body = tempfile::tempfile()?;
    c.call_into(req, |_| {}, &mut body)?;
    let len = body.seek(SeekFrom::End(0))?;
    body.seek(SeekFrom::Start(0))?;
    // The typed decoder accepted it; what ours reads past (invalid UTF-8
    // in a skipped member) may still not be JSON: a bad answer too.
    let not_json = || Error::Protocol {
        error: Box::new(lastline_core::Error::Json {
            at: "body",
            kind: lastline_core::JsonError::Syntax("JSON that serde_json reads"),
        }),
        attempts: 1,
    };
    if json {
        let mut out = std::io::stdout().lock();
        crate::data_copy::copy_data(std::io::BufReader::new(body), &mut out).map_err(
            |e| match e.kind() {
                std::io::ErrorKind::InvalidData => not_json(),
                _ => Error::Io(e),
            },
        )?;
        return Ok(Value::Null);
    }
    if len > TABLE_LIMIT {
        return Err(Error::Io(std::io::Error::other(format!(
            "the answer ({len} bytes) is larger than a table shows ({TABLE_LIMIT} bytes): use --json"
        ))));
    }
    let mut v: Value =
        serde_json::from_reader(std::io::BufReader::new(body)).map_err(|_| not_json())?;
    Ok(v.get_mut("data").map(Value::take).unwrap_or(Value::Null))
}
