//! The exit statuses, one table for the code, `--help` and the README.

use lastline_core::ErrorCode;
use lastline_ureq::Error;
use serde_json::{json, Value};

/// Success; the verdicts, if any, benign or unknown.
pub const OK: u8 = 0;
/// An error not listed below (an API error, a bad answer, a local file).
pub const ERROR: u8 = 1;
/// Bad usage (clap's own status).
pub const USAGE: u8 = 2;
/// The worst verdict is suspicious (score 30–69).
pub const SUSPICIOUS: u8 = 3;
/// The worst verdict is malicious (score ≥ 70).
pub const MALICIOUS: u8 = 4;
/// Waiting ended (timeout, Ctrl-C) with tasks still pending; they are
/// listed.
pub const PENDING: u8 = 5;
/// No credentials, or the server refused them.
pub const CREDENTIALS: u8 = 6;
/// The server could not be reached or did not answer in time.
pub const UNREACHABLE: u8 = 7;
/// Some inputs could not be submitted (named); the others were.
pub const INPUT_FAILED: u8 = 8;
/// Interrupted (Ctrl-C) with no task pending: the shell's status for
/// SIGINT. A partial download was removed.
pub const INTERRUPTED: u8 = 130;

/// The table, as `--help` shows it.
pub const TABLE: &str = "Exit status: 0 success (verdicts benign or unknown), 1 error, 2 usage, \
    3 a suspicious verdict (score 30-69), 4 a malicious verdict (score >= 70), \
    5 still pending (waiting timed out or was interrupted; the tasks are listed), \
    6 no credentials or credentials refused, 7 server unreachable or not answering, \
    8 some inputs not submitted (named; the others were), \
    130 interrupted (a partial download removed). \
    With several, the first of 8, 5 and the worst verdict counts.";

/// The exit status of an error.
pub fn of(e: &Error) -> u8 {
    match e {
        Error::Api {
            code:
                Some(
                    ErrorCode::InvalidCredentials
                    | ErrorCode::PermissionDenied
                    | ErrorCode::AuthenticationRequired,
                ),
            ..
        } => CREDENTIALS,
        Error::Http {
            status: 401 | 403, ..
        } => CREDENTIALS,
        Error::Transport { .. } | Error::Timeout { .. } => UNREACHABLE,
        Error::Pending { .. } => PENDING,
        _ => ERROR,
    }
}

/// An error as the JSON object `--json` prints on stderr.
pub fn json_of(message: &str, e: Option<&Error>, status: u8) -> Value {
    let code = e.and_then(Error::api_code);
    let http_status = match e {
        Some(Error::Http { status, .. }) => Some(*status),
        _ => None,
    };
    json!({
        "error": message,
        "code": code.map(|c| c.number()),
        "code_name": code.and_then(|c| c.name()),
        "http_status": http_status,
        "attempts": e.and_then(Error::attempts),
        "exit_status": status,
    })
}

/// Why the command failed, with its exit status.
pub struct Failure {
    /// The exit status.
    pub status: u8,
    /// What to tell the user (the server's words escaped when shown).
    pub message: String,
    /// The client's error, when there was one.
    pub error: Option<Error>,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self {
            status: of(&e),
            message: e.to_string(),
            error: Some(e),
        }
    }
}

impl Failure {
    /// A failure of this command itself (a config file, an argument).
    pub fn local(status: u8, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            error: None,
        }
    }
}
