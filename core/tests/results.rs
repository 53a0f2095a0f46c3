//! What real results and submission answers carry beyond the reference
//! (`analysis_subject`, a cached submission's inline result): typed by
//! the full decoders, skipped by the summary ones, at every read size.

mod common;

use common::{http_ok, read_envelope};
use lastline_core::decoders::{
    AnalysisSubject, ResultDecoder, ResultItem, ResultSummaryDecoder, SubmitDecoder,
    SubmitResultDecoder,
};
use lastline_core::types::Uuid;
use serde_json::json;

const MD5: &str = "44d88612fea8a8f36de82e1278abb02f";
const SHA1: &str = "3395856ce81f2b7382dee72602f798b642f14140";
const SHA256: &str = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";
const TASK: &str = "0123456789abcdef0123456789abcdef";
const CHILD: &str = "fedcba9876543210fedcba9876543210";

fn body(data: serde_json::Value) -> Vec<u8> {
    http_ok(json!({"success": 1, "data": data}).to_string().as_bytes())
}

fn file_subject() -> serde_json::Value {
    json!({"md5": MD5, "sha1": SHA1, "sha256": SHA256.to_uppercase(),
        "mime_type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "size": 68, "file_name": "\u{1b}[2Jinvoice.docx", "nested": {"x": [1, 2]}})
}

#[test]
fn a_result_names_its_file_or_url_and_the_summary_skips_it() {
    for chunk in [1, 7, 4096] {
        let data = json!({"score": 100, "analysis_subject": file_subject(), "reports": []});
        let (res, _) =
            read_envelope::<ResultDecoder, 512>(Default::default(), &body(data.clone()), chunk);
        let subject = res.unwrap().subject.unwrap();
        assert_eq!(subject.md5.unwrap().to_string(), MD5);
        assert_eq!(subject.sha1.unwrap().to_string(), SHA1);
        assert_eq!(subject.sha256.unwrap().to_string(), SHA256);
        assert_eq!(
            subject.mime_type.as_deref(),
            Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        );
        assert_eq!(subject.url, None);
        let (summary, _) =
            read_envelope::<ResultSummaryDecoder, 64>(Default::default(), &body(data), chunk);
        let summary = summary.unwrap();
        assert_eq!((summary.score, summary.subject), (Some(100), None));
    }
    // A URL task: the URL, hashes null or empty; a long URL fits whole.
    let url = format!("http://malware.example/{}", "a".repeat(3000));
    let data = json!({"score": 10, "analysis_subject": {"url": url, "md5": null, "sha1": ""}});
    let (res, _) = read_envelope::<ResultDecoder, 4096>(Default::default(), &body(data), 100);
    assert_eq!(
        res.unwrap().subject,
        Some(AnalysisSubject {
            url: Some(url.as_str().try_into().unwrap()),
            ..Default::default()
        })
    );
    // Absent or null: none; a hash that is not one: an error, never a cut.
    for (data, ok) in [
        (json!({"score": 1}), true),
        (json!({"score": 1, "analysis_subject": null}), true),
        (
            json!({"score": 1, "analysis_subject": {"md5": "xyz"}}),
            false,
        ),
        (
            json!({"score": 1, "analysis_subject": {"sha256": MD5}}),
            false,
        ),
        (
            json!({"score": 1, "analysis_subject": {"url": "u".repeat(5000)}}),
            false,
        ),
        (
            json!({"score": 1, "analysis_subject": ["not", "an", "object"]}),
            false,
        ),
    ] {
        let (res, _) =
            read_envelope::<ResultDecoder, 8192>(Default::default(), &body(data.clone()), 64);
        assert_eq!(res.is_ok(), ok, "{data}");
        if ok {
            assert_eq!(res.unwrap().subject, None);
        }
    }
}

#[test]
fn a_cached_submission_is_typed_whole_and_a_new_or_pending_one_has_no_result() {
    // New: the task alone.
    let new = json!({"task_uuid": TASK, "submission_timestamp": "2026-12-07 10:00:00",
        "expires": "2026-12-08 10:00:00"});
    let (res, items) = read_envelope::<SubmitResultDecoder, 512>(Default::default(), &body(new), 5);
    let res = res.unwrap();
    assert_eq!(res.submission.task_uuid, Uuid::parse(TASK).unwrap());
    assert!(res.submission.expires.is_some());
    assert_eq!((res.result, items.len()), (None, 0));
    // Pending (the dialect's shape): the task and its time, no `expires`.
    let pending = json!({"task_uuid": TASK, "submission_timestamp": "2026-12-07 10:00:00"});
    let (res, _) = read_envelope::<SubmitResultDecoder, 512>(Default::default(), &body(pending), 5);
    let res = res.unwrap();
    assert_eq!((res.submission.expires, res.result), (None, None));
    // Completed: the result inline, child tasks in each shape.
    for children in [
        json!([CHILD]),
        json!([{"task_uuid": CHILD, "score": 70, "depth": 1}]),
        json!({CHILD: {"depth": 1}}),
    ] {
        let cached = json!({"task_uuid": TASK, "submission_timestamp": "2026-12-07 10:00:00",
            "expires": "2026-12-08 10:00:00", "submission": "2026-12-06 09:00:00",
            "last_submission_timestamp": "2026-12-07 10:00:00", "score": 100,
            "threat": "EICAR-Test-File", "threat_class": "malware",
            "analysis_subject": file_subject(),
            "malicious_activity": ["Signature: EICAR test string"],
            "reports": [{"report_uuid": CHILD, "relevance": 1.0, "description": "Windows"}],
            "child_tasks": children});
        for chunk in [1, 13, 4096] {
            let (res, items) = read_envelope::<SubmitResultDecoder, 512>(
                Default::default(),
                &body(cached.clone()),
                chunk,
            );
            let res = res.unwrap();
            assert_eq!(res.submission.score, Some(100));
            let result = res.result.unwrap();
            assert_eq!(result.threat.as_deref(), Some("EICAR-Test-File"));
            assert_eq!(result.subject.unwrap().md5.unwrap().to_string(), MD5);
            assert!(result.submission.is_some() && result.last_submission_timestamp.is_some());
            let child = Uuid::parse(CHILD).unwrap();
            assert!(items.contains(&ResultItem::ChildTask(child)), "{children}");
            assert!(items
                .iter()
                .any(|i| matches!(i, ResultItem::Report(r) if r.report_uuid == child)));
            assert!(items
                .iter()
                .any(|i| matches!(i, ResultItem::MaliciousActivity(_))));
        }
        // The firmware's decoder reads the same answer: the task and score.
        let (lean, _) = read_envelope::<SubmitDecoder, 64>(Default::default(), &body(cached), 3);
        let lean = lean.unwrap();
        assert_eq!(
            (lean.task_uuid, lean.score),
            (Uuid::parse(TASK).unwrap(), Some(100))
        );
    }
    // A child that names no task is an error.
    let bad = json!({"task_uuid": TASK, "score": 1, "child_tasks": [42]});
    let (res, _) = read_envelope::<SubmitResultDecoder, 512>(Default::default(), &body(bad), 64);
    assert!(res.is_err());
}
