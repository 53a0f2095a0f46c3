//! Every example response printed in the reference parses. The examples
//! are taken from the reference text itself (Python reprs, converted to
//! JSON the way the catalog's ambiguities describe), not retyped.
#![allow(clippy::result_large_err, clippy::type_complexity)]

mod common;

use common::*;
use lastline_core::decoders::{
    CompletedDecoder, CompletedWithMetadataDecoder, PendingDecoder, StringData,
};
use lastline_core::envelope::{decode_all, EnvelopeDecoder};
use lastline_core::Error;
use lastline_core::Progress;

fn reference() -> String {
    let shared = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/spec/analyst-api-reference.txt"
    );
    let vendored = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/analyst-api-reference.txt"
    );
    std::fs::read_to_string(shared)
        .or_else(|_| std::fs::read_to_string(vendored))
        .unwrap()
}

/// The `{u'data': ...}` dicts after `example_line`'s call, as JSON.
fn examples_after(text: &str, call: &str) -> Vec<String> {
    let start = text.find(call).unwrap_or_else(|| panic!("{call} example"));
    let line = text[start..].lines().next().unwrap();
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("{u'data'") {
        let s = &rest[i..];
        let mut depth = 0;
        let mut end = 0;
        for (j, c) in s.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = j + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        let repr = &s[..end];
        // Python repr to JSON: comment markers and u'' prefixes go, quotes
        // become double, and the missing comma before 'success' (a slip the
        // catalog records) is restored.
        let mut json = repr.replace('#', "").replace("u'", "'").replace('\'', "\"");
        json = json.replace("]} \"success\"", "]}, \"success\"");
        out.push(json);
        rest = &s[end..];
    }
    out
}

#[test]
fn get_completed_examples_parse() {
    let text = reference();
    let ex = examples_after(&text, "ret = analysis.get_completed(");
    assert_eq!(ex.len(), 2);
    let (page, tasks) = decode_all::<CompletedDecoder, 8>(ex[0].as_bytes()).unwrap();
    assert_eq!(page.after.to_string(), "2020-08-05 14:00:39");
    assert_eq!(page.next_after().to_string(), "2020-08-07 00:25:50");
    assert_eq!(tasks.len(), 2);
    assert_eq!(
        tasks[0].task_uuid.to_string(),
        "05243bb7443e4bba80a5890969102082"
    );
    let (page2, tasks2) = decode_all::<CompletedDecoder, 8>(ex[1].as_bytes()).unwrap();
    assert_eq!(page2.after, page.next_after());
    assert_eq!(
        tasks2[0].task_uuid.to_string(),
        "e66b56f2cd4948c7ab314217e3be5cf2"
    );
}

#[test]
fn get_completed_with_metadata_examples_parse() {
    let text = reference();
    let ex = examples_after(&text, "ret = analysis.get_completed_with_metadata(");
    assert_eq!(ex.len(), 2);
    let (page, tasks) = decode_all::<CompletedWithMetadataDecoder, 8>(ex[0].as_bytes()).unwrap();
    assert_eq!(page.resume, None);
    assert_eq!(page.next_after(), page.before);
    assert_eq!(tasks[0].score, Some(50));
    assert_eq!(tasks[0].insufficient_task_input_errors.as_slice(), &[1001]);
    assert!(tasks[1].insufficient_task_input_errors.is_empty());
    let (_, tasks2) = decode_all::<CompletedWithMetadataDecoder, 8>(ex[1].as_bytes()).unwrap();
    // 1004 is not documented; it is kept, not refused.
    assert_eq!(tasks2[0].insufficient_task_input_errors.as_slice(), &[1004]);
}

#[test]
fn get_pending_examples_parse() {
    let text = reference();
    let ex = examples_after(&text, "ret = analysis.get_pending(");
    assert_eq!(ex.len(), 2);
    for e in &ex {
        let (page, tasks) = decode_all::<PendingDecoder, 8>(e.as_bytes()).unwrap();
        assert!(!tasks.is_empty());
        assert!(page.resume.is_none());
    }
}

#[test]
fn envelope_shapes_and_login_ping_payloads_parse() {
    let text = reference();
    // The generic shapes, with their placeholders filled.
    assert!(text.contains(r#"{"success": 1, "data":...}"#));
    assert!(
        text.contains(r#"{"success": 0, "error_code": <ERROR_CODE>, "error": <ERROR_MESSAGE>}"#)
    );
    let ok = r#"{"success": 1, "data":"success"}"#;
    assert_eq!(
        decode_all::<StringData, 0>(ok.as_bytes())
            .unwrap()
            .0
            .as_str(),
        "success"
    );
    let pong = r#"{"success": 1, "data": "pong"}"#;
    assert_eq!(
        decode_all::<StringData, 0>(pong.as_bytes())
            .unwrap()
            .0
            .as_str(),
        "pong"
    );
    let failed = r#"{"success": 0, "error_code": 122, "error": "Credentials or session identifier missing."}"#;
    assert!(matches!(
        decode_all::<StringData, 0>(failed.as_bytes()),
        Err(Error::Api(_))
    ));
    // error_code is optional.
    let bare = r#"{"success": 0, "error": "something"}"#;
    let mut dec = EnvelopeDecoder::new(StringData::default());
    assert_eq!(
        dec.decode(bare.as_bytes()).unwrap(),
        (bare.len(), Progress::Done)
    );
    assert_eq!(dec.api_message().unwrap().text, "something");
    match dec.finish() {
        Err(Error::Api(e)) => assert!(e.code.is_none()),
        other => panic!("{other:?}"),
    }
    // Hex numbers, as the reference allows.
    let hex = r#"{"success": 1, "data": {"after": "2020-08-05 14:00:39", "before": "2020-08-05 14:00:39", "tasks": {"05243bb7443e4bba80a5890969102082": 0x46}}}"#;
    let (_, tasks) = decode_all::<CompletedDecoder, 2>(hex.as_bytes()).unwrap();
    assert_eq!(tasks[0].score, Some(70));
    let _ = http_ok(b"");
}

#[test]
fn error_codes_as_numbers_in_any_form_and_names_in_the_message() {
    use lastline_core::decoders::NoData;
    use lastline_core::ErrorCode;
    let code = |body: &str| match decode_all::<NoData, 1>(body.as_bytes()) {
        Err(Error::Api(e)) => e.code,
        other => panic!("{body}: {other:?}"),
    };
    for (body, want) in [
        (
            r#"{"success": 0, "error_code": 105, "error": "x"}"#,
            Some(ErrorCode::InvalidUuid),
        ),
        (
            r#"{"success": 0, "error_code": "105"}"#,
            Some(ErrorCode::InvalidUuid),
        ),
        (
            r#"{"success": 0, "error_code": 0x69}"#,
            Some(ErrorCode::InvalidUuid),
        ),
        (
            r#"{"success": 0, "error_code": 111}"#,
            Some(ErrorCode::Other(111)),
        ),
        // Unnumbered codes: absent error_code, the name in the message.
        (
            r#"{"success": 0, "error": "ANALYSIS_API_INVALID_PRIORITY: priority 11"}"#,
            Some(ErrorCode::InvalidPriority),
        ),
        (
            r#"{"success": 0, "error_code": null, "error": "failed"}"#,
            None,
        ),
    ] {
        assert_eq!(code(body), want, "{body}");
    }
}
