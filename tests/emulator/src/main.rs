//! `lastline-emulator`: serve the emulated Analyst API until interrupted.

use std::time::Duration;

use clap::Parser;
use lastline_emulator::{Config, Emulator, FaultSettings};

/// A local emulator of the Lastline Analyst API, with fault injection.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8642")]
    listen: String,
    /// API key the emulator accepts.
    #[arg(long, default_value = "emulator-key")]
    key: String,
    /// API token the emulator accepts.
    #[arg(long, default_value = "emulator-token")]
    token: String,
    /// Largest upload in bytes; larger ones get HTTP 413 with an HTML page.
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    upload_limit: u64,
    /// Most tasks per completion page (more_results_available beyond).
    #[arg(long, default_value_t = 100)]
    page_size: usize,
    /// Seconds an analysis takes.
    #[arg(long, default_value_t = 0)]
    completion_delay: u64,
    /// Forget uploaded files at once, so every hash submission answers 101.
    #[arg(long)]
    forget_files: bool,
    /// Seed of the generated UUIDs.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Seconds added to the emulator's clock.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    clock_offset: i64,
    /// Allow privileged parameters (otherwise refused with error 108).
    #[arg(long)]
    privileged: bool,
    /// The next N API calls answer error 107 (temporarily unavailable).
    #[arg(long, default_value_t = 0)]
    fail_unavailable: u32,
    /// The next N requests answer HTTP 503 with an HTML page.
    #[arg(long, default_value_t = 0)]
    fail_503: u32,
    /// The next N responses are cut off mid-body (connection reset).
    #[arg(long, default_value_t = 0)]
    fail_reset: u32,
    /// The next N uploads are broken off mid-file (connection closed, no answer)
    #[arg(long, default_value_t = 0)]
    fail_upload_reset: u32,
    /// Dribble response bodies: BYTES:MILLISECONDS per piece.
    #[arg(long, value_parser = parse_dribble)]
    dribble: Option<(usize, Duration)>,
    /// Expire sessions after every call.
    #[arg(long)]
    expire_sessions: bool,
    /// Send bodies with chunked transfer encoding.
    #[arg(long)]
    chunked: bool,
    /// Close the connection after every response.
    #[arg(long)]
    connection_close: bool,
}

fn parse_dribble(s: &str) -> Result<(usize, Duration), String> {
    let (b, ms) = s.split_once(':').ok_or("expected BYTES:MILLISECONDS")?;
    Ok((
        b.parse().map_err(|_| "bad BYTES")?,
        Duration::from_millis(ms.parse().map_err(|_| "bad MILLISECONDS")?),
    ))
}

fn main() {
    let a = Args::parse();
    let cfg = Config {
        key: a.key,
        token: a.token,
        upload_limit: a.upload_limit,
        page_size: a.page_size.max(1),
        completion_delay: Duration::from_secs(a.completion_delay),
        forget_files: a.forget_files,
        seed: a.seed,
        clock_offset_secs: a.clock_offset,
        privileged: a.privileged,
        faults: FaultSettings {
            unavailable_next: a.fail_unavailable,
            http_503_next: a.fail_503,
            reset_next: a.fail_reset,
            reset_upload_next: a.fail_upload_reset,
            dribble: a.dribble,
            expire_sessions: a.expire_sessions,
            chunked: a.chunked,
            connection_close: a.connection_close,
        },
    };
    match Emulator::start_on(&a.listen, cfg) {
        Ok(emu) => {
            println!("lastline-emulator listening on {}", emu.base_url());
            loop {
                std::thread::park();
            }
        }
        Err(e) => {
            eprintln!("lastline-emulator: cannot listen on {}: {e}", a.listen);
            std::process::exit(1);
        }
    }
}
