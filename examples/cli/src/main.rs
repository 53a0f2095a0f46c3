//! `lastline`: the Lastline Analyst API from the command line.
//!
//! Exit statuses: [`status`]. Output with `--json`: a method subcommand
//! prints the server's `data`; `submit`, `submit-url` and `wait` stream
//! JSON Lines ([`ledger`]); `completed --follow` one line per completion;
//! an error is a JSON object on stderr (`error`, `code`, `code_name`,
//! `http_status`, `attempts`, `exit_status`).
//!
//! Feature `demo` (default): `lastline demo` runs the whole job offline
//! against the emulator in the process; `--no-default-features` leaves it
//! and the emulator (hyper, tokio) out of the binary.

// The doc comments of the command-line types are `--help` texts: URLs in
// them stay bare, as a terminal shows them.
#![allow(rustdoc::bare_urls)]

mod data_copy;
#[cfg(feature = "demo")]
mod demo;
mod interrupt;
mod ledger;
mod methods;
mod output;
mod safe;
mod settings;
mod status;
mod workflows;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use lastline_core::types::{Timestamp, Uuid};
use lastline_ureq::{AuthMode, Client, Config, Error, Observer};

use crate::workflows::{Download, ReportFormat, SubmitArgs, WaitArgs};

/// The Lastline Analyst API: submit files and URLs, wait for verdicts,
/// fetch results, reports and artifacts. Credentials come from
/// LASTLINE_API_KEY / LASTLINE_API_TOKEN or the config file (TOML,
/// ~/.config/lastline/config: `key`, `api_token`, `base_url`, `ca`,
/// `auth`, and [profile.NAME] tables; `lastline config init` writes one),
/// never from flags.
#[derive(Parser, Debug)]
#[command(
    name = "lastline",
    version,
    propagate_version = true,
    after_help = status::TABLE
)]
struct Cli {
    /// Server URL [default: the config file's base_url, else https://analysis.lastline.com].
    #[arg(long, global = true, env = "LASTLINE_BASE_URL")]
    base_url: Option<String>,
    /// JSON output for scripts: a method prints the server's `data`;
    /// submit, submit-url and wait print JSON Lines, one object per event
    /// (`event`: submitted, completed, pending, failed); an error is a
    /// JSON object on stderr.
    #[arg(long, global = true)]
    json: bool,
    /// A [profile.NAME] of the config file, over its top-level settings.
    #[arg(long, global = true, env = "LASTLINE_PROFILE")]
    profile: Option<String>,
    /// Config file [default: ~/.config/lastline/config].
    #[arg(long, global = true, env = "LASTLINE_CONFIG")]
    config: Option<PathBuf>,
    /// Trust only this CA (PEM) for TLS, instead of the platform's roots.
    #[arg(long, global = true)]
    ca: Option<PathBuf>,
    /// Allow plain http:// to a host that is not loopback.
    #[arg(long, global = true)]
    insecure_http: bool,
    /// Seconds allowed for each read or write [default: the config file's
    /// `timeout`, else 60].
    #[arg(long, global = true)]
    timeout: Option<f64>,
    /// Seconds a whole call or download may take, retries and waits
    /// included [default: the config file's `deadline`, else 120 for a
    /// call and 3600 for a download].
    #[arg(long, global = true)]
    deadline: Option<f64>,
    /// Connect through this proxy (`http://host:port`) [default: the
    /// config file's `proxy`, else HTTPS_PROXY and the like].
    #[arg(long, global = true, env = "LASTLINE_PROXY")]
    proxy: Option<String>,
    /// How to authenticate [default: the config file's `auth`, else basic].
    #[arg(long, global = true, value_enum)]
    auth: Option<Auth>,
    /// No progress bars.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Show what the client does on its own: retries (with the error and
    /// the wait), reconnects, re-logins, redirects.
    #[arg(long, short, global = true)]
    verbose: bool,
    /// Times a failed call is retried (107, HTTP 5xx and 429, a dropped
    /// connection) before it gives up [default: 5].
    #[arg(long, global = true, value_name = "N")]
    retries: Option<u32>,
    #[command(subcommand)]
    command: Command,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Auth {
    /// HTTP Basic on every request.
    Basic,
    /// Log in once, reuse the session cookie.
    Session,
    /// Credentials as POST fields.
    Body,
}

/// What `lastline config` does.
#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Writes the config file (readable by you only), with the credentials
    /// of LASTLINE_API_KEY / LASTLINE_API_TOKEN if set, every setting
    /// explained.
    Init {
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Runs the whole flow against a local emulator: no account, no network.
    #[cfg(feature = "demo")]
    Demo,
    /// Prints a completion script for a shell (e.g. `lastline completions
    /// bash > /etc/bash_completion.d/lastline`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The config file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Submits files hash-first (upload only when the server asks).
    Submit {
        /// Files, directories (with --recursive) or `-` for paths on stdin,
        /// one a line; each file hashed once; one that fails is named and
        /// the others still go.
        #[arg(required = true, value_name = "FILE|DIR|-")]
        files: Vec<PathBuf>,
        /// Submit the files under each directory given, at any depth.
        #[arg(long, short = 'r')]
        recursive: bool,
        /// Connections used at once (files submitted in parallel, each
        /// outcome told as it completes).
        #[arg(long, short = 'j', default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
        jobs: u16,
        /// Wait for the verdicts (exit status 3 suspicious, 4 malicious).
        #[arg(long)]
        wait: bool,
        #[command(flatten)]
        opts: SubmitArgs,
        #[command(flatten)]
        waiting: WaitArgs,
    },
    /// Waits for tasks' verdicts on the completion cursor.
    Wait {
        /// The task UUIDs.
        #[arg(required = true, value_parser = methods::uuid)]
        tasks: Vec<Uuid>,
        /// Completions from this time on [default: 24 hours ago].
        #[arg(long, value_parser = methods::timestamp)]
        after: Option<Timestamp>,
        #[command(flatten)]
        waiting: WaitArgs,
    },
    /// Lists completed tasks; --follow keeps listing as they complete.
    Completed {
        /// From this time on [default: an hour ago, or the cursor file].
        #[arg(long, value_parser = methods::timestamp)]
        after: Option<Timestamp>,
        /// Keep going, one line per completion.
        #[arg(long)]
        follow: bool,
        #[command(flatten)]
        waiting: WaitArgs,
    },
    /// A task's result summary and verdict.
    Result {
        /// The task UUID.
        #[arg(value_parser = methods::uuid)]
        task: Uuid,
    },
    /// A task's report (PDF, RTF or JSON).
    Report {
        /// The task UUID.
        #[arg(value_parser = methods::uuid)]
        task: Uuid,
        /// The report's format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Pdf)]
        format: ReportFormat,
        #[command(flatten)]
        out: Download,
    },
    /// Downloads an analysis artifact (`<report-UUID>:<name>`).
    Artifact {
        /// The task UUID.
        #[arg(value_parser = methods::uuid)]
        task: Uuid,
        /// The artifact, as `<report-UUID>:<name>`.
        artifact: String,
        /// Password of a protected artifact archive.
        #[arg(long)]
        password: Option<String>,
        #[command(flatten)]
        out: Download,
    },
    #[command(flatten)]
    Method(methods::Method),
}

/// How results and progress are shown.
pub struct Ui {
    /// JSON output.
    pub json: bool,
    progress: bool,
}

impl Ui {
    /// Progress bars for one job (hidden when stderr is not a terminal).
    pub fn bars(&mut self, label: &str) -> Bars {
        Bars {
            bar: None,
            label: safe::text(label).into_owned(),
            enabled: self.progress,
        }
    }
}

/// indicatif bars for hashing, upload and waiting.
pub struct Bars {
    bar: Option<ProgressBar>,
    label: String,
    enabled: bool,
}

impl Bars {
    /// Runs `f` with the bar hidden, so lines it writes to the terminal
    /// do not mix with the bar (which is drawn again after).
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(b) => b.suspend(f),
            None => f(),
        }
    }

    /// `done` of `total` things (files submitted, say).
    pub fn count(&mut self, what: &str, done: usize, total: usize) {
        if let Some(b) = self.stage(what, total as u64, false) {
            b.set_position(done as u64);
        }
    }

    fn stage(&mut self, what: &str, len: u64, bytes: bool) -> Option<&ProgressBar> {
        if !self.enabled {
            return None;
        }
        let current = self.bar.as_ref().map(|b| b.message());
        if current.as_deref() != Some(what) {
            if let Some(b) = self.bar.take() {
                b.finish_and_clear();
            }
            let template = if bytes {
                "{prefix} {msg:>9} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}"
            } else {
                "{prefix} {msg:>9} [{bar:30}] {pos}/{len} {elapsed}"
            };
            let b = ProgressBar::new(len)
                .with_style(
                    ProgressStyle::with_template(template)
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                )
                .with_prefix(self.label.clone())
                .with_message(what.to_owned());
            if !bytes {
                // Waiting shows progress only when a task completes: the
                // elapsed time ticks on so it never looks hung.
                b.enable_steady_tick(Duration::from_millis(500));
            }
            self.bar = Some(b);
        }
        self.bar.as_ref()
    }

    /// Removes the bar.
    pub fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

impl Observer for Bars {
    fn hashing(&mut self, done: u64, total: u64) {
        if let Some(b) = self.stage("hashing", total, true) {
            b.set_position(done);
        }
    }
    fn upload_needed(&mut self, needed: bool) {
        if !needed {
            self.finish();
        }
    }
    fn uploading(&mut self, done: u64, total: u64) {
        if let Some(b) = self.stage("uploading", total, true) {
            b.set_position(done);
        }
    }
    fn waiting(&mut self, done: usize, total: usize) {
        if let Some(b) = self.stage("waiting", total as u64, false) {
            b.set_position(done as u64);
        }
    }
}

/// The client's configuration: flags, then the environment, then the file.
fn config(cli: &Cli) -> Result<Config, Failure> {
    let bad = |m: String| Failure::local(status::ERROR, m);
    let profile = settings::profile(cli.profile.as_deref());
    let file = settings::load(cli.config.as_deref(), profile.as_deref()).map_err(bad)?;
    let (key, token) =
        settings::credentials(&file).map_err(|m| Failure::local(status::CREDENTIALS, m))?;
    let base = cli
        .base_url
        .clone()
        .or_else(|| file.get("base_url").map(str::to_owned))
        .unwrap_or_else(|| settings::DEFAULT_BASE_URL.to_owned());
    let from_file = match file.get("auth") {
        None => None,
        Some(v) => Some(Auth::from_str(v, true).map_err(|_| {
            bad(format!(
                "config file: auth = {v:?}: expected basic, session or body"
            ))
        })?),
    };
    let auth = match cli.auth.or(from_file).unwrap_or(Auth::Basic) {
        Auth::Basic => AuthMode::Basic,
        Auth::Session => AuthMode::Session,
        Auth::Body => AuthMode::BodyFields,
    };
    // A flag, else the file (checked as numbers when read).
    let number = |flag: Option<f64>, name: &str| -> Option<f64> {
        flag.or_else(|| file.get(name).and_then(|v| v.parse().ok()))
            .filter(|s: &f64| s.is_finite() && *s > 0.0)
    };
    let mut config = Config::new(&base, &key, &token);
    let retries = cli
        .retries
        .or_else(|| file.get("retries").and_then(|v| v.parse().ok()));
    if let Some(n) = retries {
        config = config.retry(lastline_core::workflow::RetryPolicy {
            max_attempts: n.saturating_add(1),
            ..lastline_core::workflow::RetryPolicy::default()
        });
    }
    let io = number(cli.timeout, "timeout").unwrap_or(60.0);
    if let Some(d) = number(cli.deadline, "deadline") {
        config = config.deadline(Duration::from_secs_f64(d));
    }
    if let Some(p) = cli.proxy.as_deref().or_else(|| file.get("proxy")) {
        config = config.proxy(p);
    }
    let mut config = config
        .auth(auth)
        .timeouts(Duration::from_secs(10), Duration::from_secs_f64(io))
        .allow_insecure_http(cli.insecure_http)
        .user_agent(concat!("lastline-cli/", env!("CARGO_PKG_VERSION")));
    let ca = cli.ca.clone().or_else(|| file.get("ca").map(PathBuf::from));
    if let Some(ca) = ca {
        let pem = std::fs::read(&ca).map_err(|e| bad(format!("CA file {}: {e}", ca.display())))?;
        config = config.ca_pem(&pem)?;
    }
    Ok(config)
}

/// Why the command failed, with its exit status.
struct Failure {
    status: u8,
    message: String,
    error: Option<Error>,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self {
            status: status::of(&e),
            message: e.to_string(),
            error: Some(e),
        }
    }
}

impl Failure {
    fn local(status: u8, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            error: None,
        }
    }
}

fn run(cli: Cli, ui: &mut Ui) -> Result<u8, Failure> {
    if let Command::Config(ConfigCommand::Init { force }) = cli.command {
        let path = settings::init(cli.config.as_deref(), force)
            .map_err(|m| Failure::local(status::ERROR, m))?;
        eprintln!("wrote {} (readable by you only)", safe::path(&path));
        return Ok(status::OK);
    }
    if let Command::Completions { shell } = cli.command {
        // Into memory first: clap_complete panics on a write error (a
        // closed pipe), and the script is small.
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cli_command(), "lastline", &mut script);
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        return match out.write_all(&script).and_then(|()| out.flush()) {
            Ok(()) => Ok(status::OK),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(status::OK),
            Err(e) => Err(Failure::from(Error::Io(e))),
        };
    }
    #[cfg(feature = "demo")]
    if let Command::Demo = cli.command {
        let (v, code) = demo::run(ui)?;
        if ui.json {
            output::print(&v, true).map_err(|e| Failure::from(Error::Io(e)))?;
        }
        return Ok(code);
    }
    let config = config(&cli)?;
    let mut c = Client::new(config.clone()).map_err(name_the_flag)?;
    let err = Failure::from;
    let (value, code) = match cli.command {
        #[cfg(feature = "demo")]
        Command::Demo => unreachable!("handled above"),
        Command::Completions { .. } | Command::Config(_) => unreachable!("handled above"),
        Command::Submit {
            files,
            recursive,
            jobs,
            wait,
            opts,
            waiting,
        } => {
            let inputs = workflows::Inputs::gather(&files, recursive);
            let pool = lastline_ureq::Pool::new(config, usize::from(jobs)).map_err(err)?;
            workflows::submit(&mut c, &pool, inputs, &opts, wait.then_some(&waiting), ui)
                .map_err(err)?
        }
        Command::Method(methods::Method::SubmitUrl {
            url,
            referer,
            wait,
            opts,
            waiting,
            answer,
        }) if answer.format == methods::AnswerFormat::Json => workflows::submit_url(
            &mut c,
            &url,
            referer.as_deref(),
            &opts,
            wait.then_some(&waiting),
            ui,
        )
        .map_err(err)?,
        Command::Wait {
            tasks,
            after,
            waiting,
        } => workflows::wait(&mut c, &tasks, after, &waiting, ui).map_err(err)?,
        Command::Completed {
            after,
            follow,
            waiting,
        } => (
            workflows::completed(&mut c, after, follow, &waiting, ui).map_err(err)?,
            0,
        ),
        Command::Result { task } => workflows::result(&mut c, task).map_err(err)?,
        Command::Report { task, format, out } => (
            workflows::report(&mut c, task, format, &out, ui.json).map_err(err)?,
            0,
        ),
        Command::Artifact {
            task,
            artifact,
            password,
            out,
        } => (
            workflows::artifact(&mut c, task, &artifact, password.as_deref(), &out).map_err(err)?,
            0,
        ),
        Command::Method(m) => (methods::run(m, &mut c, ui).map_err(err)?, 0),
    };
    if !value.is_null() {
        output::print(&value, ui.json).map_err(|e| Failure::from(Error::Io(e)))?;
    }
    Ok(code)
}

/// `-v`: the client's `log` records, as lines on stderr.
struct Stderr;

impl log::Log for Stderr {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.target() == "lastline"
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            eprintln!("lastline: {}", safe::text(&r.args().to_string()));
        }
    }
    fn flush(&self) {}
}

/// A refused plain-HTTP URL, with the flag that allows it named.
fn name_the_flag(e: Error) -> Failure {
    let mut f = Failure::from(e);
    if let Some(Error::PlainHttp { .. }) = f.error {
        f.message.push_str(": pass --insecure-http to allow it");
    }
    f
}

/// The command tree as `--help` shows it: the workflow commands listed,
/// the 29 method commands (still there, each with its own `--help`)
/// listed apart after them, from the one table of methods.
fn cli_command() -> clap::Command {
    use clap::{CommandFactory, Subcommand as _};
    let methods = methods::Method::augment_subcommands(clap::Command::new("methods"));
    let mut cmd = Cli::command();
    let mut listing = String::from(
        "API methods (one a method of the reference; `lastline METHOD --help` for its parameters):\n",
    );
    for m in methods.get_subcommands() {
        let name = m.get_name().to_owned();
        let about = m.get_about().map(|a| a.to_string()).unwrap_or_default();
        listing.push_str(&format!("  {name:<31} {about}\n"));
        cmd = cmd.mut_subcommand(&name, |s| s.hide(true));
    }
    listing.push('\n');
    listing.push_str(status::TABLE);
    cmd.after_help(listing)
}

fn main() -> ExitCode {
    let parsed = cli_command()
        .try_get_matches()
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // --help and --version are not usage errors.
            return ExitCode::from(if e.use_stderr() {
                status::USAGE
            } else {
                status::OK
            });
        }
    };
    if cli.verbose {
        static LOGGER: Stderr = Stderr;
        if log::set_logger(&LOGGER).is_ok() {
            log::set_max_level(log::LevelFilter::Info);
        }
    }
    interrupt::install();
    let mut ui = Ui {
        json: cli.json,
        progress: !cli.quiet && std::io::stderr().is_terminal(),
    };
    let json = cli.json;
    match run(cli, &mut ui) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            // The message may hold the server's words: never raw.
            if json {
                eprintln!(
                    "{}",
                    safe::json_line(&status::json_of(&f.message, f.error.as_ref(), f.status))
                );
            } else {
                eprintln!("lastline: {}", safe::text(&f.message));
            }
            ExitCode::from(f.status)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_argument_has_help_text() {
        use clap::CommandFactory;
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let id = a.get_id().as_str();
                if a.is_hide_set() || matches!(id, "help" | "version") {
                    continue;
                }
                if a.get_help().is_none() && a.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_about().is_none() {
                    missing.push(format!("{path} {} (no about)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "lastline", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:#?}");
    }

    #[test]
    fn bars_follow_hashing_upload_and_waiting() {
        let mut ui = Ui {
            json: false,
            progress: true,
        };
        let mut b = ui.bars("sample");
        b.hashing(5, 10);
        let bar = b.bar.clone().unwrap();
        assert_eq!(
            (bar.message(), bar.position(), bar.length()),
            ("hashing".to_string(), 5, Some(10))
        );
        b.upload_needed(true);
        b.uploading(3, 10);
        let bar = b.bar.clone().unwrap();
        assert_eq!(
            (bar.message(), bar.position()),
            ("uploading".to_string(), 3)
        );
        b.upload_needed(false);
        assert!(b.bar.is_none());
        b.waiting(1, 2);
        let bar = b.bar.clone().unwrap();
        assert_eq!(
            (bar.message(), bar.position(), bar.length()),
            ("waiting".to_string(), 1, Some(2))
        );
        b.finish();
        assert!(b.bar.is_none());
        // Not on a terminal (or --quiet): no bars at all.
        let mut quiet = Ui {
            json: false,
            progress: false,
        };
        let mut b = quiet.bars("sample");
        b.hashing(1, 2);
        assert!(b.bar.is_none());
    }
}
