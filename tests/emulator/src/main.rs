//! `lastline-emulator`: serve the emulated Analyst API until interrupted.

use std::time::Duration;

use clap::Parser;
use std::path::PathBuf;

use clap::ValueEnum;
use lastline_emulator::{
    Config, Emulator, FaultRule, FaultSettings, Hex, Reading, Redirect, Shapes, TlsIdentity,
};

/// Which reading of the shapes the reference leaves open.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum ReadingArg {
    /// MITRE technique objects, nested activities, report versions, errors
    /// lists, extra members.
    Rich,
    /// Technique ids as strings, flat lists, only the catalog's members.
    Plain,
}

/// How hex integers are written.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum HexArg {
    /// "0x64" (valid JSON).
    Quoted,
    /// 0x64 (the reference read literally).
    Bare,
}

/// When API calls are redirected to the datacenter origin.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum RedirectArg {
    /// Never.
    Off,
    /// The first call only.
    Once,
    /// Every call to the API's port.
    Always,
}

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
    /// A fault for an endpoint: [METHOD:]KIND[,ARG][*N|*always], KIND one
    /// of 107, 122, 500..599, 429 (an HTML page), 429-json (a failure
    /// envelope without a code), reset-before-head, reset-mid-head,
    /// reset-mid-body, slow, close; ARG retry-after=SECS or date=SECS (5xx,
    /// 429) or milliseconds (slow); METHOD an API method name, or cdn for the
    /// CDN origin. Once unless *N or *always. Repeatable.
    #[arg(long = "fault", value_name = "SPEC")]
    faults: Vec<FaultRule>,
    /// Hold every response this many milliseconds before its first byte (a
    /// WAN round trip).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Every submission makes a new task (no return of an equal earlier
    /// submission's task within expires).
    #[arg(long)]
    no_submission_cache: bool,
    /// The reading served where the reference leaves a shape open.
    #[arg(long, value_enum, default_value = "rich")]
    reading: ReadingArg,
    /// Write every integer field (and error_code) in hex.
    #[arg(long, value_enum)]
    hex: Option<HexArg>,
    /// Leave out every field the reference marks optional.
    #[arg(long)]
    omit_optional: bool,
    /// Write 0/1 flags as strings ("1").
    #[arg(long)]
    string_flags: bool,
    /// Serve open shapes (MITRE technique information) far larger than a
    /// client's buffers, with long activity names.
    #[arg(long)]
    large_open_shapes: bool,
    /// Serve exported reports directly instead of redirecting to the CDN
    /// origin.
    #[arg(long)]
    no_cdn_redirect: bool,
    /// Redirect API calls (307) to the same path on the datacenter origin;
    /// allow_datacenter_redirect=0 in a request prevents it.
    #[arg(long, value_enum, default_value = "off")]
    datacenter_redirect: RedirectArg,
    /// Serve HTTPS (TLS 1.2 and 1.3) with this PEM certificate chain.
    #[arg(long, requires = "tls_key", value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key for --tls-cert.
    #[arg(long, requires = "tls_cert", value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// Write a fresh test PKI (CA, server certificate for 127.0.0.1 and
    /// localhost, ECDSA P-256; and an untrusted pair) into DIR, then exit.
    /// Test only.
    #[arg(long, value_name = "DIR")]
    write_test_pki: Option<PathBuf>,
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
    if let Some(dir) = &a.write_test_pki {
        match lastline_emulator::pki::write(dir) {
            Ok(_) => println!("test PKI written to {} (test only)", dir.display()),
            Err(e) => {
                eprintln!("lastline-emulator: cannot write the test PKI: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    let tls = match (&a.tls_cert, &a.tls_key) {
        (Some(c), Some(k)) => match TlsIdentity::from_files(c, k) {
            Ok(id) => Some(id),
            Err(e) => {
                eprintln!("lastline-emulator: cannot read the TLS identity: {e}");
                std::process::exit(1);
            }
        },
        _ => None,
    };
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
            rules: a.faults,
        },
        submission_cache: !a.no_submission_cache,
        shapes: Shapes {
            reading: match a.reading {
                ReadingArg::Rich => Reading::Rich,
                ReadingArg::Plain => Reading::Plain,
            },
            hex: a.hex.map(|h| match h {
                HexArg::Quoted => Hex::Quoted,
                HexArg::Bare => Hex::Bare,
            }),
            omit_optional: a.omit_optional,
            string_flags: a.string_flags,
            large_open: a.large_open_shapes,
        },
        latency: Duration::from_millis(a.latency_ms),
        cdn_redirect: !a.no_cdn_redirect,
        datacenter_redirect: match a.datacenter_redirect {
            RedirectArg::Off => Redirect::Off,
            RedirectArg::Once => Redirect::Once,
            RedirectArg::Always => Redirect::Always,
        },
        tls,
    };
    match Emulator::start_on(&a.listen, cfg) {
        Ok(emu) => {
            println!("lastline-emulator listening on {}", emu.base_url());
            println!("  CDN origin        {}", emu.cdn_addr());
            println!("  datacenter origin {}", emu.datacenter_addr());
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
