//! Deterministic fault injection, switchable at start and at run time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The fault switches.
#[derive(Clone, Debug, Default)]
pub struct FaultSettings {
    /// The next N API calls answer 107 (temporarily unavailable).
    pub unavailable_next: u32,
    /// The next N requests answer HTTP 503 with an HTML page.
    pub http_503_next: u32,
    /// The next N responses are cut off (connection reset) after half of
    /// their body.
    pub reset_next: u32,
    /// The next N uploads are broken off: once part of the file has
    /// arrived, the connection is closed with no answer.
    pub reset_upload_next: u32,
    /// Send response bodies in pieces of this many bytes with this pause
    /// between them.
    pub dribble: Option<(usize, Duration)>,
    /// Expire every session after each call.
    pub expire_sessions: bool,
    /// Send bodies with chunked transfer encoding.
    pub chunked: bool,
    /// Close the connection after every response.
    pub connection_close: bool,
    /// Faults for chosen endpoints, taken in order: the first rule that
    /// matches a request and has uses left applies.
    pub rules: Vec<FaultRule>,
}

/// A `Retry-After` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: N` (delay-seconds).
    Seconds(u32),
    /// `Retry-After: <IMF-fixdate>`, this many seconds after the
    /// emulator's clock.
    HttpDate(u32),
}

/// One injected fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A failure envelope with error 107 (temporarily unavailable), on any
    /// endpoint, downloads included.
    Unavailable,
    /// Every session ends and the call fails as the session being gone
    /// does: error 122, or HTTP 401 on a raw endpoint.
    SessionGone,
    /// An HTML page with this 5xx status, with or without `Retry-After`.
    ServerError {
        /// 500..=599.
        status: u16,
        /// The header, if sent.
        retry_after: Option<RetryAfter>,
    },
    /// HTTP 429 with `Retry-After` and an HTML page.
    TooManyRequests(RetryAfter),
    /// HTTP 429 with `Retry-After` and a failure envelope without an
    /// `error_code` (`{"success": 0, "error": "Too many requests: ..."}`),
    /// as a rate limiter in front of the API answers.
    RateLimited(RetryAfter),
    /// The request is served (a submission creates its task), then the
    /// connection closes before any byte of the answer.
    ResetBeforeHead,
    /// The connection breaks off inside the response head.
    ResetMidHead,
    /// The connection breaks off after half of the body.
    ResetMidBody,
    /// The answer is held this long before its first byte.
    Slow(Duration),
    /// The answer says `Connection: close` and the connection closes.
    Close,
}

/// A fault for an endpoint, a number of times or always. The method
/// `cdn` names the CDN origin's downloads (only wire faults, 5xx and 429
/// apply there; rules without a method do not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultRule {
    /// The API method it applies to (`get_report_artifact`, `login`...);
    /// `None`: every request.
    pub method: Option<String>,
    /// What happens.
    pub fault: Fault,
    /// Uses left; `None`: every time.
    pub times: Option<u32>,
}

impl FaultRule {
    /// A rule for the next `times` requests to `method` (all: `None`).
    pub fn new(method: Option<&str>, fault: Fault, times: u32) -> Self {
        Self {
            method: method.map(str::to_string),
            fault,
            times: Some(times),
        }
    }

    /// A rule that applies every time.
    pub fn always(method: Option<&str>, fault: Fault) -> Self {
        Self {
            method: method.map(str::to_string),
            fault,
            times: None,
        }
    }
}

fn retry_after(arg: Option<&str>) -> Result<Option<RetryAfter>, String> {
    let Some(a) = arg else { return Ok(None) };
    let num = |v: &str| {
        v.parse::<u32>()
            .map_err(|_| format!("bad seconds in {a:?}"))
    };
    if let Some(v) = a.strip_prefix("date=") {
        Ok(Some(RetryAfter::HttpDate(num(v)?)))
    } else if let Some(v) = a.strip_prefix("retry-after=") {
        Ok(Some(RetryAfter::Seconds(num(v)?)))
    } else {
        Err(format!("expected retry-after=N or date=N, not {a:?}"))
    }
}

impl std::str::FromStr for FaultRule {
    type Err = String;

    /// `[METHOD:]KIND[,ARG][*N|*always]`: KIND is `107`, `122`, a 5xx
    /// status, `429`, `reset-before-head`, `reset-mid-head`,
    /// `reset-mid-body`, `slow`, `close`; ARG is `retry-after=SECS` or
    /// `date=SECS` (5xx, 429) or milliseconds (`slow`). Once by default.
    fn from_str(spec: &str) -> Result<Self, String> {
        let (body, times) = match spec.rsplit_once('*') {
            Some((b, "always")) => (b, None),
            Some((b, n)) => (
                b,
                Some(
                    n.parse::<u32>()
                        .map_err(|_| format!("bad count in {spec:?}"))?,
                ),
            ),
            None => (spec, Some(1)),
        };
        let (method, kind) = match body.split_once(':') {
            Some((m, k)) => (Some(m.to_string()), k),
            None => (None, body),
        };
        let (kind, arg) = match kind.split_once(',') {
            Some((k, a)) => (k, Some(a)),
            None => (kind, None),
        };
        let fault = match kind {
            "107" => Fault::Unavailable,
            "122" => Fault::SessionGone,
            "429" => Fault::TooManyRequests(retry_after(arg)?.unwrap_or(RetryAfter::Seconds(1))),
            "429-json" => Fault::RateLimited(retry_after(arg)?.unwrap_or(RetryAfter::Seconds(1))),
            "reset-before-head" => Fault::ResetBeforeHead,
            "reset-mid-head" => Fault::ResetMidHead,
            "reset-mid-body" => Fault::ResetMidBody,
            "close" => Fault::Close,
            "slow" => Fault::Slow(Duration::from_millis(
                arg.unwrap_or("1000")
                    .parse()
                    .map_err(|_| format!("bad milliseconds in {spec:?}"))?,
            )),
            k => match k.parse::<u16>() {
                Ok(status @ 500..=599) => Fault::ServerError {
                    status,
                    retry_after: retry_after(arg)?,
                },
                _ => return Err(format!("unknown fault {k:?} in {spec:?}")),
            },
        };
        Ok(Self {
            method,
            fault,
            times,
        })
    }
}

/// Shared, mutable fault switches of a running emulator.
#[derive(Clone, Debug, Default)]
pub struct Faults(pub(crate) Arc<Mutex<FaultSettings>>);

impl Faults {
    /// Changes the switches.
    pub fn set(&self, f: impl FnOnce(&mut FaultSettings)) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut g);
    }

    /// A copy of the switches.
    pub fn get(&self) -> FaultSettings {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Adds a rule.
    pub fn add(&self, rule: FaultRule) {
        self.set(|f| f.rules.push(rule));
    }

    /// Takes the first rule that applies to `method` (one use of it);
    /// rules for every request apply too when `wildcard`.
    pub(crate) fn take_rule(&self, method: Option<&str>, wildcard: bool) -> Option<Fault> {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let i = g.rules.iter().position(|r| {
            r.times != Some(0)
                && ((wildcard && r.method.is_none())
                    || (r.method.is_some() && r.method.as_deref() == method))
        })?;
        let rule = &mut g.rules[i];
        let fault = rule.fault;
        if let Some(n) = &mut rule.times {
            *n -= 1;
            if *n == 0 {
                g.rules.remove(i);
            }
        }
        Some(fault)
    }

    /// Takes one from a counter; true if it was positive.
    pub(crate) fn take(&self, pick: impl FnOnce(&mut FaultSettings) -> &mut u32) -> bool {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = pick(&mut g);
        if *n > 0 {
            *n -= 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse() {
        let r: FaultRule = "get_report_artifact:503,retry-after=2*3".parse().unwrap();
        assert_eq!(r.method.as_deref(), Some("get_report_artifact"));
        assert_eq!(
            r.fault,
            Fault::ServerError {
                status: 503,
                retry_after: Some(RetryAfter::Seconds(2))
            }
        );
        assert_eq!(r.times, Some(3));
        let r: FaultRule = "429,date=5*always".parse().unwrap();
        assert_eq!(r.method, None);
        assert_eq!(r.fault, Fault::TooManyRequests(RetryAfter::HttpDate(5)));
        assert_eq!(r.times, None);
        let r: FaultRule = "login:slow,250".parse().unwrap();
        assert_eq!(r.fault, Fault::Slow(Duration::from_millis(250)));
        assert_eq!(r.times, Some(1));
        for bad in ["418", "503,soon", "107*x", "slow,fast"] {
            assert!(bad.parse::<FaultRule>().is_err(), "{bad}");
        }
    }

    #[test]
    fn rules_are_used_up_in_order() {
        let f = Faults::default();
        f.add(FaultRule::new(Some("ping"), Fault::Unavailable, 2));
        f.add(FaultRule::always(None, Fault::Close));
        assert_eq!(f.take_rule(Some("login"), true), Some(Fault::Close));
        assert_eq!(f.take_rule(Some("ping"), true), Some(Fault::Unavailable));
        assert_eq!(f.take_rule(Some("ping"), false), Some(Fault::Unavailable));
        assert_eq!(f.take_rule(Some("ping"), false), None);
        assert_eq!(f.take_rule(Some("ping"), true), Some(Fault::Close));
    }
}
