//! When to try again: which answers are retried ([`classify`], the one
//! table) and when (exponential back-off with full jitter, never sooner
//! than the server's `Retry-After`).

use crate::error::Error;

/// Whether a failed attempt is tried again, and the error it is reported
/// as: the one table every path (calls, downloads, the login) goes
/// through. `status` is the attempt's HTTP status, if an answer came.
///
/// The HTTP status classifies first, then the body:
///
/// | the answer | retried | reported as |
/// |---|---|---|
/// | HTTP 429 or 5xx, an envelope with an `error_code` | yes | that API error (e.g. 107) |
/// | HTTP 429 or 5xx, any other body (an envelope without a code, HTML, none, cut short) | yes | [`Error::HttpStatus`] |
/// | any other status, envelope 107 `TEMPORARILY_UNAVAILABLE` | yes | the API error |
/// | any other status, any other envelope | no | the API error |
/// | a body cut short, a connection lost or timed out | yes | the transport error |
/// | a connection refused (TLS verification included) | no | [`Error::Transport`] |
/// | any other HTTP 4xx (401, 404, 410, 412, 413, 422...) | no | its status |
///
/// Not retries, and handled before this table: a 3xx is a redirect to
/// follow; a 122 (or a download's 401) in session mode logs in again
/// once; a kept-alive connection closed before any answer reconnects
/// once. A retry waits at least the answer's `Retry-After` (seconds, or an
/// HTTP date measured against its `Date`), capped by
/// [`Settings::retry_after_cap_ms`](crate::exchange::Settings::retry_after_cap_ms),
/// and the attempts and deadline of the [`RetryPolicy`] bound them all.
/// The server's words (a failure envelope's `error`) stay with the
/// failure whatever it is reported as.
pub fn classify(status: Option<u16>, error: Error) -> (Error, bool) {
    match status {
        Some(status @ (429 | 500..=599)) => match error {
            e @ Error::Api(crate::ApiError { code: Some(_) }) => (e, true),
            _ => (Error::HttpStatus { status }, true),
        },
        _ => {
            let retry = error.is_retryable();
            (error, retry)
        }
    }
}

/// How often and how patiently to retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Delay cap of the first retry, in milliseconds.
    pub base_delay_ms: u64,
    /// Largest delay, in milliseconds.
    pub max_delay_ms: u64,
    /// Give up when the next attempt would start later than this many
    /// milliseconds after the first.
    pub deadline_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay_ms: 500,
            max_delay_ms: 30_000,
            deadline_ms: 120_000,
        }
    }
}

/// What to do after a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RetryDecision {
    /// Send the same request again at this time (ms, caller's clock).
    RetryAt(u64),
    /// Stop and report the error.
    GiveUp,
}

/// Retry bookkeeping for one request.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RetryState {
    policy: RetryPolicy,
    failures: u32,
    started_ms: Option<u64>,
}

impl RetryState {
    /// Fresh state for a request.
    pub fn new(policy: RetryPolicy) -> Self {
        Self {
            policy,
            failures: 0,
            started_ms: None,
        }
    }

    /// Failures so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Whether `err` is worth retrying whatever the status it came with:
    /// 107, HTTP 5xx or 429, a body cut short (the status's part of the
    /// rule is [`classify`]).
    pub fn is_retryable(err: &Error) -> bool {
        err.is_retryable()
    }

    /// A failure at `now_ms`. `retryable` says whether the failure can pass
    /// (use [`Self::is_retryable`], or `true` for a transport error);
    /// `random` is any random 32 bits; `hint_ms` is a server's
    /// `Retry-After`, used as the least delay.
    pub fn on_failure(
        &mut self,
        now_ms: u64,
        retryable: bool,
        random: u32,
        hint_ms: Option<u64>,
    ) -> RetryDecision {
        let started = *self.started_ms.get_or_insert(now_ms);
        self.failures = self.failures.saturating_add(1);
        if !retryable || self.failures >= self.policy.max_attempts {
            return RetryDecision::GiveUp;
        }
        let exp = self.failures.saturating_sub(1).min(32);
        // The factor is shifted in 32 bits: a variable 64-bit shift is a
        // library call on a Cortex-M (core/FIRMWARE.md).
        let factor = 1u32.checked_shl(exp).map_or(u64::MAX, u64::from);
        let cap = self
            .policy
            .base_delay_ms
            .saturating_mul(factor)
            .min(self.policy.max_delay_ms);
        // Full jitter: uniform in [cap/2, cap], so retries spread out but
        // still back off.
        let half = cap >> 1;
        let span = cap.saturating_sub(half).saturating_add(1);
        let delay = half
            .saturating_add(scale(random, span))
            .max(hint_ms.unwrap_or(0));
        let at = now_ms.saturating_add(delay);
        if at.saturating_sub(started) > self.policy.deadline_ms {
            return RetryDecision::GiveUp;
        }
        RetryDecision::RetryAt(at)
    }

    /// The request succeeded: forget past failures.
    pub fn on_success(&mut self) {
        self.failures = 0;
        self.started_ms = None;
    }
}

/// `random` mapped onto `0..span` by multiplying and shifting (Lemire's
/// method) rather than by a remainder: no 64-bit division, a library
/// routine on a Cortex-M (core/FIRMWARE.md). Spans wider than 32 bits
/// (delays of 49 days) take `random` as it is.
fn scale(random: u32, span: u64) -> u64 {
    match u32::try_from(span) {
        Ok(s) => u64::from(random).saturating_mul(u64::from(s)) >> 32,
        Err(_) => u64::from(random),
    }
}

#[cfg(test)]
mod tests {
    use super::scale;

    #[test]
    fn scaled_jitter_stays_in_its_span_and_covers_it() {
        for span in [1u64, 2, 3, 1000, u64::from(u32::MAX), 1 << 32, 1 << 40] {
            for r in [0u32, 1, 12345, u32::MAX / 2, u32::MAX] {
                let v = scale(r, span);
                assert!(v < span, "{r} in {span}: {v}");
            }
        }
        assert_eq!(scale(0, 1000), 0);
        assert_eq!(scale(u32::MAX, 1000), 999);
        assert_eq!(scale(u32::MAX / 2, 1000), 499);
    }
}

#[cfg(test)]
mod table {
    use super::classify;
    use crate::error::Error;
    use crate::{ApiError, ErrorCode, Transport};

    #[test]
    fn the_status_classifies_first_then_the_body() {
        let api = |code| Error::Api(ApiError { code });
        let busy = Some(ErrorCode::TemporarilyUnavailable);
        let bad = Some(ErrorCode::InvalidCredentials);
        let http = |status| Error::HttpStatus { status };
        for (status, error, want) in [
            (Some(429), api(None), (http(429), true)),
            (Some(503), api(None), (http(503), true)),
            (Some(500), api(bad), (api(bad), true)),
            (Some(502), Error::PayloadTooLarge, (http(502), true)),
            (Some(200), api(None), (api(None), false)),
            (Some(200), api(busy), (api(busy), true)),
            (Some(403), api(bad), (api(bad), false)),
            (Some(404), http(404), (http(404), false)),
            (
                None,
                Error::Transport(Transport::Closed),
                (Error::Transport(Transport::Closed), true),
            ),
            (
                None,
                Error::Transport(Transport::Refused),
                (Error::Transport(Transport::Refused), false),
            ),
        ] {
            assert_eq!(
                classify(status, error.clone()),
                want,
                "{status:?} {error:?}"
            );
        }
    }
}

#[cfg(test)]
mod table_properties {
    use super::classify;
    use crate::error::Error;
    use crate::{ApiError, ErrorCode, Transport};
    use proptest::prelude::*;

    fn error() -> impl Strategy<Value = Error> {
        prop_oneof![
            (0i32..200).prop_map(|n| Error::Api(ApiError {
                code: Some(ErrorCode::from_number(n))
            })),
            Just(Error::Api(ApiError { code: None })),
            (100u16..600).prop_map(|status| Error::HttpStatus { status }),
            Just(Error::Transport(Transport::Closed)),
            Just(Error::Transport(Transport::Refused)),
            Just(Error::PayloadTooLarge),
        ]
    }

    proptest! {
        /// 429 and 5xx are retried whatever the error; otherwise the
        /// error alone decides, and it is reported unchanged. An API code
        /// is never hidden behind a status.
        #[test]
        fn status_first_then_the_error(status in proptest::option::of(100u16..600), e in error()) {
            let busy = matches!(status, Some(429 | 500..=599));
            let (reported, retry) = classify(status, e.clone());
            prop_assert_eq!(retry, busy || e.is_retryable());
            if !busy || e.api_code().is_some() {
                prop_assert_eq!(reported, e);
            } else {
                prop_assert_eq!(reported, Error::HttpStatus { status: status.unwrap_or(0) });
            }
        }
    }
}
