//! Malformed responses: each gives a typed error that says what was wrong,
//! never a panic, a hang or a silently cut value.
#![allow(clippy::result_large_err, clippy::type_complexity)]

mod common;

use common::*;
use lastline_core::decoders::{
    CompletedDecoder, ResultDecoder, SubmitDecoder, TaskMetadataDecoder,
};
use lastline_core::{Error, HttpError, JsonError};

fn ok(body: &str) -> Vec<u8> {
    http_ok(body.as_bytes())
}

fn head(h: &str, body: &[u8]) -> Vec<u8> {
    [h.as_bytes(), body].concat()
}

type Check = fn(&Error) -> bool;

fn json_kind(e: &Error, want: fn(&JsonError) -> bool) -> bool {
    matches!(e, Error::Json { kind, .. } if want(kind))
}

fn cases() -> Vec<(&'static str, Vec<u8>, Check)> {
    let deep = format!(
        "{{\"success\":1,\"data\":{{\"score\":1,\"report\":{}{}}}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let deep_data = format!("{{\"success\":1,\"data\":{}}}", "{\"a\":".repeat(10_000));
    let long_threat = format!(
        "{{\"success\":1,\"data\":{{\"score\":1,\"threat\":\"{}\"}}}}",
        "x".repeat(300)
    );
    let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    vec![
        // Heads.
        ("empty input", vec![], |e| matches!(e, Error::Http(HttpError::MalformedHead(_)))),
        ("truncated status line", b"HTTP/1.1 20".to_vec(), |e| matches!(e, Error::Http(HttpError::MalformedHead(_)))),
        ("truncated head", b"HTTP/1.1 200 OK\r\nContent-Len".to_vec(), |e| matches!(e, Error::Http(HttpError::MalformedHead(_)))),
        ("not HTTP", b"SSH-2.0-OpenSSH_9.0\r\n\r\n".to_vec(), |e| matches!(e, Error::Http(HttpError::MalformedHead(_)))),
        ("bad status code", b"HTTP/1.1 2x0 OK\r\n\r\n".to_vec(), |e| matches!(e, Error::Http(HttpError::MalformedHead(_)))),
        ("header without colon", b"HTTP/1.1 200 OK\r\nBroken header\r\n\r\n".to_vec(), |e| matches!(e, Error::Http(HttpError::MalformedHead(_)))),
        ("non-numeric Content-Length", head("HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n", b""), |e| matches!(e, Error::Http(HttpError::BadContentLength))),
        ("negative Content-Length", head("HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", b""), |e| matches!(e, Error::Http(HttpError::BadContentLength))),
        ("Content-Length over u64", head("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", b"{}"), |e| matches!(e, Error::Http(HttpError::BadContentLength))),
        ("enormous Content-Length", head("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n", b"{}"), |e| matches!(e, Error::Http(HttpError::BodyTooLarge { .. }))),
        ("conflicting Content-Length", head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", b"{}"), |e| matches!(e, Error::Http(HttpError::ConflictingContentLength))),
        ("gzip transfer coding", head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", b""), |e| matches!(e, Error::Http(HttpError::UnsupportedTransferEncoding))),
        ("cookie too long", head(&format!("HTTP/1.1 200 OK\r\nSet-Cookie: s={}\r\nContent-Length: 2\r\n\r\n", "a".repeat(600)), b"{}"), |e| matches!(e, Error::Http(HttpError::HeaderTooLong(_)))),
        ("captured headers together over capacity", head(&format!("HTTP/1.1 302 Found\r\nSet-Cookie: s={}\r\nLocation: https://x/{}\r\nContent-Length: 2\r\n\r\n", "a".repeat(200), "b".repeat(320)), b"{}"), |e| matches!(e, Error::Http(HttpError::HeaderTooLong("Location")))),
        ("HTTP/2 status line", head("HTTP/2 200 OK\r\nContent-Length: 2\r\n\r\n", b"{}"), |e| matches!(e, Error::Http(HttpError::MalformedHead(_)))),
        // Framing.
        ("truncated Content-Length body", head("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", b"{\"success\":1"), |e| matches!(e, Error::Http(HttpError::TruncatedBody { expected: Some(n), .. }) if n.get() == 100)),
        ("chunk size not hex", head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"zz\r\n{}\r\n0\r\n\r\n"), |e| matches!(e, Error::Http(HttpError::BadChunk(_)))),
        ("chunk size overflow", head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"fffffffffffffffff\r\n"), |e| matches!(e, Error::Http(HttpError::BadChunk(_)))),
        ("chunk without CRLF after data", head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"2\r\n{}XX0\r\n\r\n"), |e| matches!(e, Error::Http(HttpError::BadChunk(_)))),
        ("chunk line bare LF", head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"2\n{}\r\n0\r\n\r\n"), |e| matches!(e, Error::Http(HttpError::BadChunk(_)))),
        ("endless chunk line", head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", &[b'1'; 400]), |e| matches!(e, Error::Http(HttpError::BadChunk(_)))),
        ("truncated chunked body", head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"20\r\n{\"success\": 1, \"data\""), |e| matches!(e, Error::Http(HttpError::TruncatedBody { expected: None, .. }))),
        // Not an envelope.
        ("HTML 502 page", head(&format!("HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{html}", html.len()), b""), |e| matches!(e, Error::HttpStatus { status: 502, .. }) && e.is_retryable()),
        ("HTML 413 page", head("HTTP/1.1 413 Request Entity Too Large\r\nContent-Type: text/html\r\nContent-Length: 30\r\n\r\n<html>413 Too Large</html>    ", b""), |e| matches!(e, Error::PayloadTooLarge)),
        ("HTML page with 200", head(&format!("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{html}", html.len()), b""), |e| matches!(e, Error::NotAnEnvelope { status: 200, .. })),
        ("empty 200 body", head("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", b""), |e| matches!(e, Error::NotAnEnvelope { .. })),
        ("empty 503 body", head("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", b""), |e| matches!(e, Error::HttpStatus { status: 503, .. })),
        ("JSON array", ok("[1, 2]"), |e| matches!(e, Error::NotAnEnvelope { .. })),
        ("plain text", ok("OK"), |e| matches!(e, Error::NotAnEnvelope { .. })),
        // Envelope.
        ("missing success", ok(r#"{"data": {"score": 1}}"#), |e| matches!(e, Error::BadEnvelope(_))),
        ("success as a string", ok(r#"{"success": "true", "data": {"score": 1}}"#), |e| json_kind(e, |k| matches!(k, JsonError::WrongType(_)))),
        ("success is 2", ok(r#"{"success": 2, "data": {"score": 1}}"#), |e| json_kind(e, |k| matches!(k, JsonError::InvalidValue(_)))),
        ("success twice", ok(r#"{"success": 1, "success": 0, "data": {"score": 1}}"#), |e| json_kind(e, |k| matches!(k, JsonError::DuplicateKey))),
        ("success without data", ok(r#"{"success": 1}"#), |e| matches!(e, Error::BadEnvelope(_))),
        // The duplicate rule: a member read twice is refused at every depth.
        ("data twice", ok(r#"{"success": 1, "data": {"score": 1}, "data": {"score": 90}}"#), |e| json_kind(e, |k| matches!(k, JsonError::DuplicateKey))),
        ("score twice", ok(r#"{"success": 1, "data": {"score": 1, "score": 90}}"#), |e| json_kind(e, |k| matches!(k, JsonError::DuplicateKey))),
        ("threat twice", ok(r#"{"success": 1, "data": {"score": 1, "threat": "a", "threat": "b"}}"#), |e| json_kind(e, |k| matches!(k, JsonError::DuplicateKey))),
        ("report uuid twice in an entry", ok(r#"{"success": 1, "data": {"score": 1, "reports": [{"report_uuid": "0123456789abcdef0123456789abcdef", "report_uuid": "1123456789abcdef0123456789abcdef"}]}}"#), |e| json_kind(e, |k| matches!(k, JsonError::DuplicateKey))),
        ("error_code as garbage string", ok(r#"{"success": 0, "error_code": "banana"}"#), |e| json_kind(e, |k| matches!(k, JsonError::WrongType(_)))),
        ("error_code as a name", ok(r#"{"success": 0, "error_code": "ANALYSIS_API_INVALID_UUID"}"#), |e| json_kind(e, |k| matches!(k, JsonError::WrongType(_)))),
        ("error_code beyond 32 bits", ok(r#"{"success": 0, "error_code": 99999999999}"#), |e| json_kind(e, |k| matches!(k, JsonError::NumberOutOfRange))),
        ("error_code as float", ok(r#"{"success": 0, "error_code": 1.5}"#), |e| json_kind(e, |k| matches!(k, JsonError::WrongType(_)))),
        ("trailing garbage", ok(r#"{"success": 1, "data": {"score": 1}} xyz"#), |e| json_kind(e, |k| matches!(k, JsonError::TrailingData))),
        ("two envelopes", ok(r#"{"success": 1, "data": {"score": 1}}{"success": 1}"#), |e| json_kind(e, |k| matches!(k, JsonError::TrailingData))),
        ("unterminated envelope", ok(r#"{"success": 1, "data": {"score": 1}"#), |e| json_kind(e, |k| matches!(k, JsonError::Syntax(_)))),
        ("missing colon", ok(r#"{"success" 1}"#), |e| json_kind(e, |k| matches!(k, JsonError::Syntax(_)))),
        ("trailing comma", ok(r#"{"success": 1, "data": {"score": 1,}}"#), |e| json_kind(e, |k| matches!(k, JsonError::Syntax(_)))),
        ("single quotes", ok("{'success': 1}"), |e| json_kind(e, |k| matches!(k, JsonError::Syntax(_)))),
        ("mismatched brackets in skipped value", ok(r#"{"success": 1, "data": {"score": 1, "report": [}}"#), |e| json_kind(e, |k| matches!(k, JsonError::Syntax(_)))),
        // Values.
        ("score as a string word", ok(r#"{"success": 1, "data": {"score": "high"}}"#), |e| json_kind(e, |k| matches!(k, JsonError::WrongType(_)))),
        ("score out of range", ok(r#"{"success": 1, "data": {"score": 99999999999999}}"#), |e| json_kind(e, |k| matches!(k, JsonError::NumberOutOfRange))),
        ("score missing", ok(r#"{"success": 1, "data": {"threat": "x"}}"#), |e| matches!(e, Error::MissingField { field: "score" })),
        ("threat over capacity", ok(&long_threat), |e| json_kind(e, |k| matches!(k, JsonError::TooLong { capacity: 128 }))),
        ("threat is a number", ok(r#"{"success": 1, "data": {"score": 1, "threat": 5}}"#), |e| json_kind(e, |k| matches!(k, JsonError::WrongType(_)))),
        ("invalid UTF-8 in a string", http_ok(b"{\"success\": 1, \"data\": {\"score\": 1, \"threat\": \"\xff\xfe\"}}"), |e| json_kind(e, |k| matches!(k, JsonError::InvalidUtf8))),
        ("bad escape", ok(r#"{"success": 1, "data": {"score": 1, "threat": "a\qb"}}"#), |e| json_kind(e, |k| matches!(k, JsonError::InvalidEscape))),
        ("lone surrogate", ok(r#"{"success": 1, "data": {"score": 1, "threat": "\ud800"}}"#), |e| json_kind(e, |k| matches!(k, JsonError::InvalidEscape))),
        ("control character in string", http_ok(b"{\"success\": 1, \"data\": {\"score\": 1, \"threat\": \"a\x01b\"}}"), |e| json_kind(e, |k| matches!(k, JsonError::Syntax(_)))),
        ("malicious_activity not a list", ok(r#"{"success": 1, "data": {"score": 1, "malicious_activity": "x"}}"#), |e| json_kind(e, |k| matches!(k, JsonError::WrongType(_)))),
        ("reports entry without uuid", ok(r#"{"success": 1, "data": {"score": 1, "reports": [{"relevance": 1}]}}"#), |e| matches!(e, Error::MissingField { .. })),
        ("reports entry bad uuid", ok(r#"{"success": 1, "data": {"score": 1, "reports": [{"report_uuid": "xyz"}]}}"#), |e| json_kind(e, |k| matches!(k, JsonError::InvalidValue(_)))),
        ("submission bad timestamp", ok(r#"{"success": 1, "data": {"score": 1, "submission": "2020-02-30 00:00:00"}}"#), |e| json_kind(e, |k| matches!(k, JsonError::InvalidValue(_)))),
        ("10 000-deep nesting in a skipped value", ok(&deep), |e| json_kind(e, |k| matches!(k, JsonError::TooDeep { .. }))),
        ("10 000-deep nesting as data", ok(&deep_data), |e| json_kind(e, |k| matches!(k, JsonError::TooDeep { .. }))),
    ]
}

#[test]
fn malformed_responses_give_typed_errors() {
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for (name, bytes, check) in cases {
        for read in [1usize, 7, 4096] {
            let (res, _) =
                read_envelope::<ResultDecoder, 512>(ResultDecoder::default(), &bytes, read);
            match res {
                Err(e) => {
                    // Every refusal reads as text (the CLI shows it).
                    assert!(
                        check(&e),
                        "{name} (reads of {read}): unexpected error {e:?}"
                    );
                    assert!(!e.to_string().is_empty());
                }
                Ok(v) => panic!("{name}: accepted as {v:?}"),
            }
        }
    }
}

#[test]
fn list_specific_malformations() {
    let cases: Vec<(&str, String, Check)> = vec![
        ("tasks is a number", r#"{"success":1,"data":{"after":"2020-01-01","before":"2020-01-01","tasks":5}}"#.into(), |e| json_kind(e, |k| matches!(k, JsonError::WrongType(_)))),
        ("task uuid too short", r#"{"success":1,"data":{"after":"2020-01-01","before":"2020-01-01","tasks":["abc"]}}"#.into(), |e| json_kind(e, |k| matches!(k, JsonError::InvalidValue(_)))),
        ("map key not a uuid", r#"{"success":1,"data":{"after":"2020-01-01","before":"2020-01-01","tasks":{"abc": 1}}}"#.into(), |e| json_kind(e, |k| matches!(k, JsonError::InvalidValue(_)))),
        ("missing before", r#"{"success":1,"data":{"after":"2020-01-01","tasks":[]}}"#.into(), |e| matches!(e, Error::MissingField { field: "before" })),
        ("more_results_available is 7", r#"{"success":1,"data":{"after":"2020-01-01","before":"2020-01-01","more_results_available":7,"tasks":[]}}"#.into(), |e| json_kind(e, |k| matches!(k, JsonError::InvalidValue(_)))),
        ("too many input errors", format!(r#"{{"success":1,"data":{{"after":"2020-01-01","before":"2020-01-01","tasks":[{{"task_uuid":"05243bb7443e4bba80a5890969102082","insufficient_task_input_errors":[{}]}}]}}}}"#, ["1001"; 9].join(",")), |e| json_kind(e, |k| matches!(k, JsonError::TooManyItems { capacity: 8 }))),
    ];
    for (name, body, check) in cases {
        let (res, _) = read_envelope::<CompletedDecoder, 256>(
            CompletedDecoder::default(),
            &http_ok(body.as_bytes()),
            3,
        );
        let e = res.expect_err(name);
        assert!(check(&e), "{name}: {e:?}");
    }
}

#[test]
fn a_unit_larger_than_the_buffer_is_reported() {
    let url = "u".repeat(300);
    let body = format!(
        r#"{{"success":1,"data":{{"task_uuid":"05243bb7443e4bba80a5890969102082","url":"http://{url}"}}}}"#
    );
    let (res, _) = read_envelope::<TaskMetadataDecoder, 128>(
        TaskMetadataDecoder::default(),
        &http_ok(body.as_bytes()),
        16,
    );
    assert_eq!(res.unwrap_err(), Error::BufferTooSmall { capacity: 128 });
    // With room for the unit it reads.
    let (res, _) = read_envelope::<TaskMetadataDecoder, 512>(
        TaskMetadataDecoder::default(),
        &http_ok(body.as_bytes()),
        16,
    );
    assert_eq!(res.unwrap().url.unwrap().len(), 307);
}

#[test]
fn long_error_messages_keep_the_code_and_say_they_were_cut() {
    let body = format!(
        r#"{{"success":0,"error_code":107,"error":"{}"}}"#,
        "m".repeat(1000)
    );
    let (res, _, message) = read_envelope_with_message::<SubmitDecoder, 2048>(
        SubmitDecoder::default(),
        &http_ok(body.as_bytes()),
        64,
    );
    match res {
        Err(Error::Api(e)) => {
            assert!(e.is_retryable());
            let message = message.unwrap();
            assert!(message.truncated);
            assert_eq!(
                message.text.len(),
                lastline_core::api_error::MESSAGE_CAPACITY
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn raw_download_failures_are_typed() {
    let cases: Vec<(&str, Vec<u8>, Check)> = vec![
        (
            "401",
            head(
                "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n",
                b"",
            ),
            |e| matches!(e, Error::HttpStatus { status: 401, .. }),
        ),
        (
            "404",
            head(
                "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\n",
                b"no!",
            ),
            |e| matches!(e, Error::HttpStatus { status: 404, .. }),
        ),
        ("410", head("HTTP/1.1 410 Gone\r\n\r\n", b""), |e| {
            matches!(e, Error::HttpStatus { status: 410, .. })
        }),
        (
            "412",
            head(
                "HTTP/1.1 412 Precondition Failed\r\nContent-Length: 0\r\n\r\n",
                b"",
            ),
            |e| matches!(e, Error::HttpStatus { status: 412, .. }),
        ),
        (
            "413",
            head(
                "HTTP/1.1 413 Too Large\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n",
                b"",
            ),
            |e| matches!(e, Error::PayloadTooLarge),
        ),
        (
            "422",
            head(
                "HTTP/1.1 422 Unprocessable Entity\r\nContent-Length: 0\r\n\r\n",
                b"",
            ),
            |e| matches!(e, Error::HttpStatus { status: 422, .. }),
        ),
        (
            "503",
            head("HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\n\r\n", b""),
            |e| matches!(e, Error::HttpStatus { status: 503, .. }) && e.is_retryable(),
        ),
        (
            "failure envelope",
            http_ok(br#"{"success": 0, "error_code": 106, "error": "no result"}"#),
            |e| matches!(e, Error::Api(a) if a.code.map(|c| c.number()) == Some(106)),
        ),
        (
            "truncated download",
            head("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", b"abc"),
            |e| matches!(e, Error::Http(HttpError::TruncatedBody { .. })),
        ),
    ];
    for (name, bytes, check) in cases {
        for read in [1usize, 5, 4096] {
            let e = read_raw(&bytes, read).expect_err(name);
            assert!(check(&e), "{name}: {e:?}");
        }
    }
}

#[test]
fn raw_downloads_arrive_whole_in_any_pieces() {
    let pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n%%EOF\n";
    let wire = head(&format!("HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Length: {}\r\n\r\n", pdf.len()), pdf);
    for read in [1, 3, 4096] {
        let (name, data) = read_raw(&wire, read).unwrap();
        assert_eq!(name.as_deref(), Some("report.pdf"));
        assert_eq!(data, pdf);
    }
    // A JSON document that is not an envelope is a download too.
    let doc = br#"{"indicators": [1, 2, 3]}"#;
    let wire = http_ok(doc);
    for read in [1, 4, 4096] {
        assert_eq!(read_raw(&wire, read).unwrap().1, doc);
    }
    // A success envelope is the download's data (get_ioc_report's contents
    // are "as get_results"), in any flag spelling; a failure envelope is
    // the API's error.
    for doc in [
        &br#"{"success": 1, "data": {"score": 100, "reports": []}}"#[..],
        br#"{ "success" : true, "data": "x"}"#,
        br#"{"success": "1", "data": null}"#,
    ] {
        for read in [1, 4, 4096] {
            assert_eq!(read_raw(&http_ok(doc), read).unwrap().1, doc);
        }
    }
    for doc in [
        &br#"{"success": 0, "error_code": 106, "error": "no result"}"#[..],
        br#"{"error_code": 105, "error": "bad uuid", "success": 0}"#,
    ] {
        for read in [1, 4, 4096] {
            let e = read_raw(&http_ok(doc), read).unwrap_err();
            assert!(e.api_code().is_some(), "{e:?}");
        }
    }
    // Close-delimited.
    let wire = head(
        "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
        b"raw bytes \x00\xff",
    );
    assert_eq!(read_raw(&wire, 2).unwrap().1, b"raw bytes \x00\xff");
}

#[test]
fn an_error_message_longer_than_the_unit_buffer_keeps_the_code() {
    // The message comes first and is four times the unit buffer; a \u escape
    // straddles the point where the kept start ends.
    let mut msg = "x".repeat(126);
    msg.push_str("\\u00e9");
    msg.push_str(&"y".repeat(2000));
    let body = format!(r#"{{"success":0,"error":"{msg}","error_code":107}}"#);
    for read in [1usize, 13, 4096] {
        let (res, _, message) = read_envelope_with_message::<SubmitDecoder, 512>(
            SubmitDecoder::default(),
            &http_ok(body.as_bytes()),
            read,
        );
        match res {
            Err(Error::Api(e)) => {
                assert!(e.is_retryable(), "code kept (reads of {read})");
                let message = message.unwrap();
                assert!(message.truncated);
                assert!(message.text.starts_with(&"x".repeat(126)));
                assert!(message.text.len() <= lastline_core::api_error::MESSAGE_CAPACITY);
            }
            other => panic!("reads of {read}: {other:?}"),
        }
    }
    // A short message with escapes still decodes exactly.
    let body = r#"{"success":0,"error_code":104,"error":"bad \"key\" \u00e9"}"#;
    let (res, _, message) = read_envelope_with_message::<SubmitDecoder, 64>(
        SubmitDecoder::default(),
        &http_ok(body.as_bytes()),
        3,
    );
    assert!(matches!(res, Err(Error::Api(_))), "{res:?}");
    let message = message.unwrap();
    assert_eq!(
        (message.text.as_str(), message.truncated),
        ("bad \"key\" \u{e9}", false)
    );
}

/// Captured headers are checked when they are read, not while the head is
/// decoded: a response carrying a malformed one still decodes, and the
/// accessor says there is none.
#[test]
fn malformed_captured_headers_are_absent_not_fatal() {
    use lastline_core::http::ResponseDecoder;
    use lastline_core::Progress;
    let cases: [(&[u8], u8); 6] = [
        (b"Set-Cookie: ;;;", 0),
        (b"Set-Cookie: =novalue", 0),
        (b"Set-Cookie: no pair", 0),
        (b"Content-Disposition: attachment", 1),
        (b"Content-Disposition: attachment; filename=\"\xff.bin\"", 1),
        (b"Location: https://x/\xff", 2),
    ];
    for (header, check) in cases {
        let mut input = b"HTTP/1.1 200 OK\r\n".to_vec();
        input.extend_from_slice(header);
        input.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
        let mut dec = ResponseDecoder::new();
        let (_, ev) = dec.decode(&input, 0).unwrap();
        assert_eq!(ev, Progress::Head, "{header:?}");
        let h = dec.head().unwrap();
        match check {
            0 => assert!(h.session_cookie().is_none(), "{header:?}"),
            1 => assert_eq!(h.filename(), None, "{header:?}"),
            _ => assert_eq!(h.location(), None, "{header:?}"),
        }
    }
}

/// The session cookie, a download's file name and a redirect's Location
/// share one capture area: each is read back whole, the first of each kind
/// wins, and `Debug` never shows the cookie.
#[test]
fn a_head_keeps_cookie_filename_and_location_together() {
    use lastline_core::http::{ResponseDecoder, CAPTURE_CAPACITY};
    use lastline_core::Progress;
    let location = format!("https://eu.example/{}", "p".repeat(150));
    let input = format!(
        "HTTP/1.1 302 Found\r\nSet-Cookie: sid=s3cr3t; Path=/; HttpOnly\r\nSet-Cookie: other=1\r\n\
         Content-Disposition: attachment; filename=\"report.pdf\"\r\nLocation: {location}\r\n\
         Location: https://ignored/\r\nContent-Length: 0\r\n\r\n"
    );
    let mut dec = ResponseDecoder::new();
    let (_, ev) = dec.decode(input.as_bytes(), 0).unwrap();
    assert_eq!(ev, Progress::Head);
    let h = dec.head().unwrap();
    assert_eq!(h.session_cookie().unwrap().as_str(), "sid=s3cr3t");
    // A later cookie is ignored whatever its size.
    let long_second = format!(
        "HTTP/1.1 200 OK\r\nSet-Cookie: sid=1\r\nSet-Cookie: big={}\r\nContent-Length: 0\r\n\r\n",
        "x".repeat(400)
    );
    let mut second = ResponseDecoder::new();
    second.decode(long_second.as_bytes(), 0).unwrap();
    assert_eq!(
        second.head().unwrap().session_cookie().unwrap().as_str(),
        "sid=1"
    );
    assert_eq!(h.filename(), Some("report.pdf"));
    assert_eq!(h.location(), Some(location.as_str()));
    assert!(h.is_redirect());
    let shown = format!("{h:?}");
    assert!(!shown.contains("s3cr3t"), "{shown}");
    assert!(shown.contains("report.pdf"), "{shown}");

    // Exactly full is fine; one byte more is an error naming the header.
    let fill = |n: usize| {
        format!(
            "HTTP/1.1 200 OK\r\nLocation: {}\r\nContent-Length: 0\r\n\r\n",
            "l".repeat(n)
        )
    };
    let mut dec = ResponseDecoder::new();
    dec.decode(fill(CAPTURE_CAPACITY).as_bytes(), 0).unwrap();
    assert_eq!(
        dec.head().unwrap().location().map(str::len),
        Some(CAPTURE_CAPACITY)
    );
    let err = ResponseDecoder::new()
        .decode(fill(CAPTURE_CAPACITY + 1).as_bytes(), 0)
        .unwrap_err();
    assert!(
        matches!(err, Error::Http(HttpError::HeaderTooLong("Location"))),
        "{err:?}"
    );
}

/// A status without an envelope says what it means when shown, though the
/// error holds only the number.
#[test]
fn an_http_status_error_explains_itself() {
    for (status, meaning) in [
        (502, "Bad Gateway"),
        (401, "Unauthorized"),
        (418, "unexpected status"),
        (599, "server error"),
    ] {
        let shown = Error::HttpStatus { status }.to_string();
        assert!(
            shown.starts_with(&format!("HTTP {status}: ")) && shown.contains(meaning),
            "{shown}"
        );
    }
}

/// "A list of Mitre techniques information": ids, objects naming them, and
/// entries that name none all decode, fed in pieces of any size; what is
/// not kept is counted.
#[test]
fn mitre_technique_information_in_either_shape() {
    let body = r#"{"success": 1, "data": {"score": 100, "activity_to_mitre_techniques": {
        "Signature: EICAR test string": [{"id": "T1027", "name": "Obfuscated Files", "tactics": ["defense-evasion"], "refs": {"url": "x"}}],
        "Anti-AV": ["T1562.001", {"technique_id": "T1204.002"}, {"name": "no id"}, 7, null]}}}"#;
    for read in [1usize, 5, 4096] {
        let (res, items) =
            read_envelope::<ResultDecoder, 512>(ResultDecoder::default(), &ok(body), read);
        assert_eq!(res.unwrap().score, Some(100));
        assert_eq!(
            mitre(&items),
            [
                (
                    "Signature: EICAR test string".into(),
                    vec!["T1027".into()],
                    0
                ),
                (
                    "Anti-AV".into(),
                    vec!["T1562.001".into(), "T1204.002".into()],
                    3
                ),
            ]
        );
    }
}

/// The MITRE entries of a result, as (activity, ids, skipped).
fn mitre(items: &[lastline_core::decoders::ResultItem]) -> Vec<(String, Vec<String>, u32)> {
    use lastline_core::decoders::ResultItem;
    items
        .iter()
        .filter_map(|i| match i {
            ResultItem::MitreTechniques {
                activity,
                techniques,
                skipped,
            } => Some((
                activity.to_string(),
                techniques.iter().map(|t| t.to_string()).collect(),
                *skipped,
            )),
            _ => None,
        })
        .collect()
}

/// Open shapes at sizes no unit buffer holds: an activity whose technique
/// information is larger than the buffer is skipped whole and counted (the
/// rest of the result still decodes), a long activity name passes, more ids
/// than kept and ids too long to be ids are counted, a value that is not a
/// list is counted — in no_std with a 512-byte unit buffer, fed in pieces.
#[test]
fn very_large_open_shapes_never_fail_the_result() {
    let huge_info: Vec<serde_json::Value> = (0..50)
        .map(|i| {
            serde_json::json!({"id": format!("T{}", 1000 + i), "description": "x".repeat(1000),
                "nested": [[{"deep": [1, 2, {"a": null}]}]]})
        })
        .collect();
    let long_activity = format!("Evasion: {}", "checks for a debugger ".repeat(9));
    assert!(long_activity.len() > 64 && long_activity.len() < 256);
    let many: Vec<String> = (0..40).map(|i| format!("T{}", 1100 + i)).collect();
    let body = serde_json::json!({"success": 1, "data": {
        "score": 95,
        "activity_to_mitre_techniques": {
            "Huge": huge_info,
            long_activity.clone(): ["T1055"],
            "Many": many,
            "Long id": ["T".repeat(100), "T1112"],
            "Not a list": {"whatever": [1, 2, 3]},
        },
        "malicious_activity": ["after the open map"],
        "report": {"big": "y".repeat(200_000)},
    }})
    .to_string();
    for read in [1usize, 7, 4096] {
        let (res, items) =
            read_envelope::<ResultDecoder, 512>(ResultDecoder::default(), &ok(&body), read);
        let res = res.unwrap_or_else(|e| panic!("read by {read}: {e}"));
        assert_eq!(res.score, Some(95));
        assert!(res.has_report);
        assert_eq!(res.open_entries_skipped, 1, "the huge entry");
        let kept_many: Vec<String> = (0..16).map(|i| format!("T{}", 1100 + i)).collect();
        let mut found = mitre(&items);
        found.sort();
        let mut want = vec![
            (long_activity.clone(), vec!["T1055".into()], 0),
            ("Many".into(), kept_many, 24),
            ("Long id".into(), vec!["T1112".into()], 1),
            ("Not a list".into(), vec![], 1),
        ];
        want.sort();
        assert_eq!(found, want);
        assert!(items.iter().any(|i| matches!(i,
            lastline_core::decoders::ResultItem::MaliciousActivity(a) if a == "after the open map")));
    }
    // A typed list's entry that does not fit is still an error, never cut.
    let body = serde_json::json!({"success": 1, "data": {"score": 1,
        "malicious_activity": ["z".repeat(600)]}})
    .to_string();
    let (res, _) = read_envelope::<ResultDecoder, 512>(ResultDecoder::default(), &ok(&body), 4096);
    assert!(res.is_err());
}

/// `Retry-After` as seconds, or as an HTTP date against the answer's Date.
#[test]
fn retry_after_in_seconds_or_as_a_date() {
    use lastline_core::http::ResponseDecoder;
    let head = |h: &str| {
        let wire = format!("HTTP/1.1 503 Service Unavailable\r\n{h}Content-Length: 0\r\n\r\n");
        let mut d = ResponseDecoder::new();
        d.decode(wire.as_bytes(), 64).unwrap();
        d.head().unwrap().retry_after
    };
    assert_eq!(head("Retry-After: 120\r\n"), Some(120));
    let date = "Date: Tue, 01 Dec 2026 23:59:30 GMT\r\n";
    assert_eq!(
        head(&format!(
            "{date}Retry-After: Wed, 02 Dec 2026 00:00:15 GMT\r\n"
        )),
        Some(45)
    );
    // In the past: now.
    assert_eq!(
        head(&format!(
            "{date}Retry-After: Tue, 01 Dec 2026 23:00:00 GMT\r\n"
        )),
        Some(0)
    );
    // No Date to measure against: the longest wait (the caller caps it);
    // not a date: nothing.
    assert_eq!(
        head("Retry-After: Wed, 02 Dec 2026 00:00:15 GMT\r\n"),
        Some(u32::MAX)
    );
    assert_eq!(head(&format!("{date}Retry-After: soon\r\n")), None);
    assert_eq!(
        head(&format!(
            "{date}Retry-After: Wed, 32 Dec 2026 00:00:15 GMT\r\n"
        )),
        None
    );
}
