//! Hash-first submission, the completion cursor, session re-login and
//! the retry schedule, driven with canned answers.
#![allow(clippy::result_large_err, clippy::type_complexity)]

mod common;

use common::*;
use lastline_core::api_error::ApiError;
use lastline_core::decoders::{CompletionPage, Submission};
use lastline_core::hashing::{digest, Algorithms, Digests};
use lastline_core::request::SubmitFile;
use lastline_core::types::{Timestamp, Uuid};
use lastline_core::workflow::*;
use lastline_core::{Error, ErrorCode, SessionCookie};

fn api(code: i32) -> Error {
    Error::Api(ApiError {
        code: Some(ErrorCode::from_number(code)),
    })
}

fn submission() -> Submission {
    Submission {
        task_uuid: Uuid::parse("05243bb7443e4bba80a5890969102082").unwrap(),
        submission_timestamp: None,
        expires: None,
        score: None,
    }
}

#[test]
fn hash_first_known_hash_needs_no_upload() {
    let sample = b"hello sample";
    let mut flow = HashFirst::new(
        digest(Algorithms::MD5_SHA1, sample),
        SubmitFile {
            filename: Some("a.exe"),
            ..Default::default()
        },
    );
    assert_eq!(flow.stage(), Stage::ByHash);
    let req = flow.request().unwrap();
    assert!(req.md5.is_some() && req.sha1.is_some() && req.upload.is_none());
    assert_eq!(req.full_report_score, Some(-1));
    let wire = parse_request(&encode(&req, &config(), b"", 64).unwrap());
    assert_eq!(
        wire.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(!wire.body.windows(sample.len()).any(|w| w == sample));
    let out = flow
        .on_response(Ok::<_, Error>(submission()))
        .unwrap()
        .unwrap();
    assert!(!out.uploaded);
    assert_eq!(flow.stage(), Stage::Done);
    assert!(flow.request().is_none());
    assert!(matches!(
        flow.on_response(Ok::<_, Error>(submission())),
        Err(Error::WorkflowMisuse(_))
    ));
}

#[test]
fn hash_first_uploads_on_101_only() {
    let sample = b"unknown sample bytes";
    let d = digest(Algorithms::ALL, sample);
    let mut flow = HashFirst::new(d, SubmitFile::default());
    assert_eq!(flow.on_response(Err(api(101))).unwrap(), None);
    assert_eq!(flow.stage(), Stage::Upload);
    let req = flow.request().unwrap();
    assert_eq!(req.upload, Some(sample.len() as u64));
    assert!(req.md5.is_none());
    let wire = parse_request(&encode(&req, &config(), sample, 5).unwrap());
    let file = wire
        .params()
        .into_iter()
        .find(|(k, _)| k == "file")
        .unwrap()
        .1;
    assert_eq!(file, sample);
    assert!(
        flow.on_response(Ok::<_, Error>(submission()))
            .unwrap()
            .unwrap()
            .uploaded
    );

    // Other errors are not a reason to upload.
    let mut flow = HashFirst::new(d, SubmitFile::default());
    assert_eq!(flow.on_response(Err(api(107))), Err(api(107)));
    assert_eq!(flow.stage(), Stage::ByHash);
    // No digests at all: straight to upload.
    let flow = HashFirst::new(
        Digests {
            len: 3,
            ..Default::default()
        },
        SubmitFile::default(),
    );
    assert_eq!(flow.stage(), Stage::Upload);
}

fn page(after: &str, before: &str, resume: Option<&str>, more: bool) -> CompletionPage {
    CompletionPage {
        after: Timestamp::parse(after).unwrap(),
        before: Timestamp::parse(before).unwrap(),
        resume: resume.map(|r| Timestamp::parse(r).unwrap()),
        more_results_available: more,
    }
}

fn u(i: u8) -> Uuid {
    Uuid::from_bytes([i; 16])
}

#[test]
fn cursor_follows_resume_and_dedups() {
    let mut c = CompletionCursor::<8>::new(Timestamp::parse("2020-08-05 14:00:39").unwrap());
    assert_eq!(c.request().after.to_string(), "2020-08-05 14:00:39");
    assert_eq!(c.request().include_score, Some(true));
    assert!(c.accept(u(1)) && c.accept(u(2)));
    assert_eq!(
        c.page_done(
            &page(
                "2020-08-05 14:00:39",
                "2020-08-07 00:25:49",
                Some("2020-08-07 00:25:50"),
                true
            ),
            None
        ),
        Ok(NextPoll::Now)
    );
    assert_eq!(c.after().to_string(), "2020-08-07 00:25:50");
    // A server repeating the boundary: nothing twice.
    assert!(!c.accept(u(2)));
    assert!(c.accept(u(3)));
    // Without resume (get_completed_with_metadata examples): continue from before.
    assert_eq!(
        c.page_done(
            &page("2020-08-07 00:25:50", "2020-08-07 00:27:49", None, false),
            None
        ),
        Ok(NextPoll::Later)
    );
    assert_eq!(
        c.request_with_metadata().after.to_string(),
        "2020-08-07 00:27:49"
    );
    // Never backwards, and "more" without progress does not spin.
    assert_eq!(
        c.page_done(
            &page("2020-08-07 00:25:50", "2020-08-01 00:00:00", None, true),
            None
        ),
        Ok(NextPoll::Later)
    );
    assert_eq!(c.after().to_string(), "2020-08-07 00:27:49");
}

#[test]
fn cursor_survives_a_restart() {
    let mut c = CompletionCursor::<8>::new(Timestamp::parse("2021-01-01").unwrap());
    for i in 0..11 {
        c.accept(u(i));
    }
    c.page_done(
        &page(
            "2021-01-01",
            "2021-01-02 03:04:05",
            Some("2021-01-02 03:04:06"),
            false,
        ),
        None,
    )
    .unwrap();
    let mut buf = [0u8; CompletionCursor::<8>::SAVED_LEN];
    let n = c.save(&mut buf).unwrap();
    assert_eq!(n, 15 + 8 * 16);
    let mut back = CompletionCursor::<8>::restore(&buf[..n]).unwrap();
    assert_eq!(back.after(), c.after());
    // The last 8 delivered are remembered; older ones have rolled out.
    for i in 3..11 {
        assert!(!back.accept(u(i)), "{i}");
    }
    // Corruption is detected, not trusted.
    for i in 0..n {
        let mut bad = buf;
        bad[i] ^= 0x40;
        assert_eq!(
            CompletionCursor::<8>::restore(&bad[..n]).unwrap_err(),
            Error::CorruptState,
            "byte {i}"
        );
    }
    assert_eq!(
        CompletionCursor::<8>::restore(&buf[..3]).unwrap_err(),
        Error::CorruptState
    );
    assert!(matches!(
        c.save(&mut [0u8; 10]),
        Err(Error::BufferTooSmall { .. })
    ));
    // A cursor saved with more entries than a smaller cursor holds is refused.
    assert_eq!(
        CompletionCursor::<4>::restore(&buf[..n]).unwrap_err(),
        Error::CorruptState
    );
}

#[test]
fn session_relogs_once_then_fails() {
    let mut s = Session::new();
    assert!(s.cookie().is_none());
    let cookie = SessionCookie::from_set_cookie(b"sid=abc123; Path=/; HttpOnly").unwrap();
    assert_eq!(cookie.as_str(), "sid=abc123");
    assert_eq!(format!("{cookie:?}"), "SessionCookie(<redacted>)");
    s.on_login(Ok(()), Some(cookie.clone())).unwrap();
    assert!(s.cookie().is_some());
    assert_eq!(
        s.on_response::<()>(&Ok(())).unwrap(),
        SessionAction::Continue
    );
    assert_eq!(
        s.on_response::<()>(&Err(api(122))).unwrap(),
        SessionAction::ReloginAndRetry
    );
    assert!(s.cookie().is_none());
    s.on_login(Ok(()), Some(cookie.clone())).unwrap();
    assert_eq!(
        s.on_response::<()>(&Err(api(122))),
        Err(Error::SessionExpired)
    );
    // A success in between resets the allowance.
    s.on_login(Ok(()), Some(cookie.clone())).unwrap();
    assert_eq!(
        s.on_response::<()>(&Err(api(122))).unwrap(),
        SessionAction::ReloginAndRetry
    );
    s.on_login(Ok(()), Some(cookie)).unwrap();
    assert_eq!(
        s.on_response::<()>(&Ok(())).unwrap(),
        SessionAction::Continue
    );
    assert_eq!(
        s.on_response::<()>(&Err(api(122))).unwrap(),
        SessionAction::ReloginAndRetry
    );
    // A login that sets no cookie is an error; a failed login passes its error on.
    assert_eq!(
        s.on_login(Ok(()), None),
        Err(Error::MissingField {
            field: "Set-Cookie"
        })
    );
    assert_eq!(s.on_login(Err(api(104)), None), Err(api(104)));
}

#[test]
fn retry_backs_off_with_jitter_and_gives_up() {
    let policy = RetryPolicy {
        max_attempts: 5,
        base_delay_ms: 100,
        max_delay_ms: 1_000,
        deadline_ms: 10_000,
    };
    let mut r = RetryState::new(policy);
    let mut now = 1_000u64;
    let mut delays = vec![];
    for i in 0..4 {
        match r.on_failure(
            now,
            RetryState::is_retryable(&api(107)),
            0xFFFF_FFFF - i,
            None,
        ) {
            RetryDecision::RetryAt(t) => {
                delays.push(t - now);
                now = t;
            }
            RetryDecision::GiveUp => panic!("gave up early"),
        }
    }
    // Caps 100, 200, 400, 800: each delay in [cap/2, cap].
    for (d, cap) in delays.iter().zip([100u64, 200, 400, 800]) {
        assert!(*d >= cap / 2 && *d <= cap, "{d} vs {cap}");
    }
    assert_eq!(r.on_failure(now, true, 0, None), RetryDecision::GiveUp);
    // Not retryable: give up at once.
    let mut r = RetryState::new(policy);
    assert_eq!(
        r.on_failure(0, RetryState::is_retryable(&api(104)), 0, None),
        RetryDecision::GiveUp
    );
    // Retry-After is a floor; the deadline is a ceiling.
    let mut r = RetryState::new(policy);
    assert_eq!(
        r.on_failure(0, true, 0, Some(5_000)),
        RetryDecision::RetryAt(5_000)
    );
    assert_eq!(
        r.on_failure(5_000, true, 0, Some(6_000)),
        RetryDecision::GiveUp
    );
    // Same inputs, same schedule.
    let (mut a, mut b) = (RetryState::new(policy), RetryState::new(policy));
    assert_eq!(
        a.on_failure(7, true, 12345, None),
        b.on_failure(7, true, 12345, None)
    );
    let e503 = Error::HttpStatus { status: 503 };
    assert!(RetryState::is_retryable(&e503));
}

#[test]
fn a_page_that_would_move_the_cursor_far_ahead_is_refused() {
    let start = Timestamp::parse("2026-12-01 00:00:00").unwrap();
    let now = Some(Timestamp::parse("2026-12-07 12:00:00").unwrap());
    let mut c = CompletionCursor::<8>::new(start);
    // resume far past the page's own before.
    let e = c
        .page_done(
            &page(
                "2026-12-01 00:00:00",
                "2026-12-07 11:59:00",
                Some("9999-12-31 23:59:59"),
                false,
            ),
            now,
        )
        .unwrap_err();
    assert!(matches!(e, Error::CursorAhead { .. }), "{e:?}");
    assert_eq!(c.after(), start, "not moved");
    // before (and so resume) far past the local clock.
    let e = c
        .page_done(
            &page(
                "2026-12-01 00:00:00",
                "2030-01-01 00:00:00",
                Some("2030-01-01 00:00:01"),
                false,
            ),
            now,
        )
        .unwrap_err();
    assert!(matches!(e, Error::CursorAhead { .. }), "{e}");
    assert_eq!(c.after(), start);
    // Without a clock only the page's own bound holds.
    assert_eq!(
        c.page_done(
            &page(
                "2026-12-01 00:00:00",
                "2030-01-01 00:00:00",
                Some("2030-01-01 00:00:01"),
                false
            ),
            None,
        ),
        Ok(NextPoll::Later)
    );
    // A day of clock skew is allowed.
    let mut c = CompletionCursor::<8>::new(start);
    assert_eq!(
        c.page_done(
            &page(
                "2026-12-01 00:00:00",
                "2026-12-08 00:00:00",
                Some("2026-12-08 00:00:01"),
                true
            ),
            now,
        ),
        Ok(NextPoll::Now)
    );
}

#[test]
fn a_page_naming_a_task_twice_is_refused_after_the_first() {
    let start = Timestamp::parse("2026-12-01 00:00:00").unwrap();
    let mut c = CompletionCursor::<8>::new(start);
    let p = page(
        "2026-12-01 00:00:00",
        "2026-12-01 01:00:00",
        Some("2026-12-01 01:00:01"),
        false,
    );
    assert!(c.accept(u(1)));
    assert!(!c.accept(u(1)));
    let e = c.page_done(&p, None).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Json {
                kind: lastline_core::JsonError::DuplicateKey,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(c.after(), start);
    // The page read again (a repeat of earlier pages' tasks is no fault).
    assert!(!c.accept(u(1)));
    assert!(c.accept(u(2)));
    assert_eq!(c.page_done(&p, None), Ok(NextPoll::Later));
}
