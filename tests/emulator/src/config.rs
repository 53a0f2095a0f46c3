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
        }
    }
}
