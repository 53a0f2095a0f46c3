//! How an emulator instance behaves.

use std::time::Duration;

/// Everything configurable at start (faults can also change at run time).
#[derive(Clone, Debug)]
pub struct Config {
    /// Accepted API key.
    pub key: String,
    /// Accepted API token.
    pub token: String,
    /// Largest upload accepted; larger ones get HTTP 413 with an HTML page,
    /// as a front proxy answers.
    pub upload_limit: u64,
    /// Most tasks in one completion page.
    pub page_size: usize,
    /// How long analysis takes after submission.
    pub completion_delay: Duration,
    /// Forget uploaded files at once (like data retention): every
    /// submission by hash answers 101.
    pub forget_files: bool,
    /// Seed for task and report UUIDs (same seed, same UUIDs).
    pub seed: u64,
    /// Seconds added to the emulator's clock.
    pub clock_offset_secs: i64,
    /// The account may use privileged parameters (bypass_cache,
    /// analysis_timeout, report_uuid, ...). Without it they are refused
    /// with 108, except analysis_env, which is silently replaced.
    pub privileged: bool,
    /// Start faults (see [`crate::Faults`]).
    pub faults: crate::faults::FaultSettings,
    /// The same content (by any of its hashes) or the same URL submitted
    /// again within `expires` returns the same task, with its result once
    /// complete (as the reference allows). Off: every submission is a new
    /// task.
    pub submission_cache: bool,
    /// Which of the shapes the reference allows the answers take.
    pub shapes: Shapes,
    /// Every response is held this long before its first byte (a WAN
    /// round trip, for benchmarks).
    pub latency: Duration,
    /// `get_exported_report` (with its default `cdn=1`) answers 302 to the
    /// emulator's CDN origin, another port, as servers do; off: the bytes
    /// are served directly.
    pub cdn_redirect: bool,
    /// Answer API calls with a 307 to the same path on the emulator's
    /// datacenter port (another origin), unless the request says
    /// `allow_datacenter_redirect=0`.
    pub datacenter_redirect: Redirect,
    /// Serve HTTPS with this identity (PEM certificate chain and key).
    pub tls: Option<TlsIdentity>,
}

/// When API calls are redirected to the datacenter port.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Redirect {
    /// Never.
    #[default]
    Off,
    /// The next call only.
    Once,
    /// Every call that reaches the main port.
    Always,
}

/// A server identity for TLS, as PEM.
#[derive(Clone)]
pub struct TlsIdentity {
    /// The certificate chain, leaf first.
    pub cert_chain_pem: Vec<u8>,
    /// The private key (PKCS#8, SEC1 or PKCS#1).
    pub key_pem: Vec<u8>,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is never printed.
        f.debug_struct("TlsIdentity").finish_non_exhaustive()
    }
}

impl TlsIdentity {
    /// Reads a certificate chain and a key from PEM files.
    pub fn from_files(cert: &std::path::Path, key: &std::path::Path) -> std::io::Result<Self> {
        Ok(Self {
            cert_chain_pem: std::fs::read(cert)?,
            key_pem: std::fs::read(key)?,
        })
    }
}

/// Where the reference leaves a shape open, which reading is served.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reading {
    /// The richer plausible form: MITRE technique information as objects,
    /// reports with `report_versions`, nested activity objects, `errors`
    /// lists, extra members in open objects, `resume` wherever a reading
    /// has it, `expires` in each hash-query entry; `analysis_subject` with
    /// members beyond those clients read (`size`, `file_name`, a URL
    /// task's null and empty hashes), a result naming its `task_uuid`, a
    /// cached submission's child tasks as
    /// objects and `expires` even while pending, network requests and
    /// conversations with extra members.
    #[default]
    Rich,
    /// The other readings: technique ids as plain strings, flat lists, no
    /// members beyond the catalog's and the wire dialect's (the
    /// `analysis_subject` members clients read, a pending cached
    /// submission as `task_uuid` and `submission_timestamp` alone, child
    /// tasks as UUIDs), `resume` only where documented, `expires` at the
    /// top of a hash query, get_ioc_report's document as a success
    /// envelope.
    Plain,
}

/// How hex numbers are written ("hexadecimal numbers always start with
/// '0x'", the reference says, without saying whether JSON quotes them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hex {
    /// `"score": "0x64"`: valid JSON.
    Quoted,
    /// `"score": 0x64`: the reference read literally (not JSON; a tolerant
    /// reader takes it).
    Bare,
}

/// How answers are shaped, within what the reference allows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shapes {
    /// Open shapes: rich or plain.
    pub reading: Reading,
    /// Every integer field the catalog types `int` (and `error_code`) in
    /// hex.
    pub hex: Option<Hex>,
    /// Every field the catalog marks optional left out, and members it
    /// does not list beside its fields (`analysis_subject`): the least an
    /// answer may hold.
    pub omit_optional: bool,
    /// 0/1 flags as strings (`"1"`), as some of the reference's examples
    /// quote them.
    pub string_flags: bool,
    /// Open shapes at sizes a client's buffers will not hold: a malicious
    /// result's MITRE information gains an activity with a name over 64
    /// bytes and one whose technique information is about 300 KB.
    pub large_open: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            key: "emulator-key".into(),
            token: "emulator-token".into(),
            upload_limit: 10 * 1024 * 1024,
            page_size: 100,
            completion_delay: Duration::from_secs(0),
            forget_files: false,
            seed: 1,
            clock_offset_secs: 0,
            privileged: false,
            faults: Default::default(),
            submission_cache: true,
            shapes: Shapes::default(),
            latency: Duration::ZERO,
            cdn_redirect: true,
            datacenter_redirect: Redirect::Off,
            tls: None,
        }
    }
}
