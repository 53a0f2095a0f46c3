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

mod answer;
mod configuration;
mod data_copy;
#[cfg(feature = "demo")]
mod demo;
mod interrupt;
mod ledger;
mod methods;
mod output;
mod rows;
mod safe;
mod settings;
mod status;
mod terminal;
mod workflows;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lastline_core::types::{Timestamp, Uuid};
use lastline_ureq::{Client, Error};

use crate::answer::Download;
use crate::status::Failure;
use crate::terminal::Ui;
use crate::workflows::{ReportFormat, SubmitArgs, WaitArgs};

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
    /// JSON output for scripts: a method prints the server's `data`;
    /// submit, submit-url and wait print JSON Lines, one object per event
    /// (`event`: submitted, completed, pending, failed); an error is a
    /// JSON object on stderr.
    #[arg(long, global = true)]
    json: bool,
    /// No progress bars.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Show what the client does on its own: retries (with the error and
    /// the wait), reconnects, re-logins, redirects.
    #[arg(long, short, global = true)]
    verbose: bool,
    #[command(flatten)]
    connection: configuration::ConnectionArgs,
    #[command(subcommand)]
    command: Command,
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

fn run(cli: Cli, ui: &mut Ui) -> Result<u8, Failure> {
    if let Command::Config(ConfigCommand::Init { force }) = cli.command {
        let path = settings::init(cli.connection.config.as_deref(), force)
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
    let config = configuration::client_config(&cli.connection)?;
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
        }) if answer.format == answer::AnswerFormat::Json => workflows::submit_url(
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
}
