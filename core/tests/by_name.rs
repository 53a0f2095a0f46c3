//! Requests named at run time (`ByName`) and `data` as raw JSON
//! (`RawData`): the wire bytes are the typed request's, refusals come
//! before anything is written, and the raw decoder hands back what
//! serde_json reads in the same body.
#![allow(clippy::result_large_err, clippy::type_complexity)]

use lastline_core::decoders::{RawData, RawEntry};
use lastline_core::envelope::{decode_with, DataDecoder};
use lastline_core::exchange::{Exchange, Link, Origin, Settings, Step};
use lastline_core::request::{ByName, GetProgress, GetResults, Request, METHODS};
use lastline_core::types::Uuid;
use lastline_core::{Credentials, Error};
use proptest::prelude::*;
use serde_json::{json, Value};

const U: &str = "05243bb7443e4bba80a5890969102082";

fn settings() -> Settings<'static> {
    Settings::new(
        Origin {
            https: false,
            host: "analysis.example",
            port: 8080,
        },
        Credentials::new("k", Some("t")).unwrap(),
    )
}

/// The bytes an exchange writes before it reads, and how it ended when the
/// server answered `answer`.
fn wire<R, D: DataDecoder + Default, const N: usize>(
    mut ex: Exchange<'_, R, D, N>,
    answer: &[u8],
) -> (Vec<u8>, Result<D::Output, String>, Vec<D::Item>) {
    let mut sent = Vec::new();
    let mut fed = 0;
    let mut items = Vec::new();
    loop {
        match ex.poll(0, 7) {
            Step::Connect(_) => {}
            Step::Write(b) => sent.extend_from_slice(b),
            Step::Read(space) => {
                let n = space.len().min(answer.len() - fed).min(13);
                space[..n].copy_from_slice(&answer[fed..fed + n]);
                fed += n;
                ex.received(n);
            }
            Step::Item(i) => items.push(i),
            Step::Done(r) => return (sent, r.map_err(|f| f.to_string()), items),
            Step::Event(_) => {}
            _ => panic!("unexpected step"),
        }
    }
}

fn answer(body: &Value) -> Vec<u8> {
    let body = serde_json::to_vec(body).unwrap();
    let mut a = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    a.extend_from_slice(&body);
    a
}

#[test]
fn a_request_by_name_is_written_as_the_typed_one() {
    let s = settings();
    let ok = answer(&json!({"success": 1, "data": {"completed": 1, "progress": 100}}));

    let typed = GetProgress::new(Uuid::parse(U).unwrap());
    let (mut link, mut buf) = (Link::new(), [0u8; 2048]);
    let (want, ..) = wire(
        Exchange::<_, RawData<512, 256>, 512>::call(&typed, &s, &mut link, &mut buf),
        &ok,
    );

    let mut named = ByName::named("get_progress").unwrap();
    named.param("uuid", U).unwrap();
    let (mut link, mut buf) = (Link::new(), [0u8; 2048]);
    let (got, out, _) = wire(
        Exchange::<_, RawData<512, 256>, 512>::call_by_name(&named, &s, &mut link, &mut buf),
        &ok,
    );
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
    let out: Value = serde_json::from_slice(&out.unwrap()).unwrap();
    assert_eq!(out, json!({"completed": 1, "progress": 100}));

    // A POST method with several parameters, in the typed request's order.
    let mut typed = GetResults::new(Uuid::parse(U).unwrap());
    typed.full_report_score = Some(-1);
    typed.include_scoring_components = Some(true);
    let (mut link, mut buf) = (Link::new(), [0u8; 2048]);
    let (want, ..) = wire(
        Exchange::<_, RawData<512, 256>, 512>::call(&typed, &s, &mut link, &mut buf),
        &ok,
    );
    let mut named = ByName::named(GetResults::NAME).unwrap();
    named.param("uuid", U).unwrap();
    named.param("full_report_score", "-1").unwrap();
    named.param("include_scoring_components", "1").unwrap();
    let (mut link, mut buf) = (Link::new(), [0u8; 2048]);
    let (got, ..) = wire(
        Exchange::<_, RawData<512, 256>, 512>::call_by_name(&named, &s, &mut link, &mut buf),
        &ok,
    );
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
}

#[test]
fn what_the_table_does_not_declare_is_refused() {
    assert!(ByName::new(METHODS.len()).is_none());
    assert!(ByName::named("get_everything").is_none());
    let mut r = ByName::named("get_progress").unwrap();
    assert!(matches!(
        r.param("url", "x"),
        Err(Error::InvalidParam { .. })
    ));
    r.param("uuid", U).unwrap();
    assert!(matches!(
        r.param("uuid", U),
        Err(Error::InvalidParam { param: "uuid", .. })
    ));
    assert!(r.param("allow_datacenter_redirect", "0\r\nX: y").is_err());
    let mut s = ByName::named("submit_file").unwrap();
    assert!(matches!(
        s.param("file", "MZ"),
        Err(Error::InvalidParam { param: "file", .. })
    ));
    s.param("md5", "d41d8cd98f00b204e9800998ecf8427e").unwrap();
    assert_eq!(s.params().len(), 1);
    // Every method of the table can be named, by index and by name.
    for (i, m) in METHODS.iter().enumerate() {
        assert_eq!(ByName::new(i).unwrap().method(), m);
        assert_eq!(ByName::named(m.name).unwrap().method(), m);
    }
}

#[test]
fn text_parts_make_a_multipart_post() {
    let s = settings();
    let ok = answer(&json!({"success": 1, "data": {"task_uuid": U}}));
    let mut named = ByName::named("submit_url").unwrap();
    named.param("url", "http://example.com/x").unwrap();
    named.param("password_candidates", "infected").unwrap();
    let (mut link, mut buf) = (Link::new(), [0u8; 2048]);
    let (got, out, _) = wire(
        Exchange::<_, RawData<512, 256>, 512>::call_by_name(&named, &s, &mut link, &mut buf),
        &ok,
    );
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with("POST /analysis/submit/url.json HTTP/1.1\r\n"),
        "{text}"
    );
    assert!(text.contains("Content-Type: multipart/form-data; boundary="));
    assert!(text.contains("filename=\"password_candidates\""), "{text}");
    assert_eq!(
        serde_json::from_slice::<Value>(&out.unwrap()).unwrap(),
        json!({"task_uuid": U})
    );
}

/// Arbitrary JSON, small enough for the capacities below.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        "[a-z\"\\\\\u{1}\u{e9} ]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z\"\u{2}]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A name RawData hands out (JSON string contents), decoded.
fn name(escaped: &str) -> String {
    assert!(!escaped.chars().any(char::is_control), "{escaped:?}");
    serde_json::from_str(&format!("\"{escaped}\"")).unwrap()
}

proptest! {
    /// `data` read raw is `data` as serde_json reads it: arrays and the
    /// table's streamed members entry by entry, the rest as one object.
    #[test]
    fn raw_data_is_the_servers_json(
        data in prop::collection::btree_map("[a-z\u{3}\"]{1,6}|tasks", json_value(), 0..5),
    ) {
        let body = serde_json::to_vec(&json!({"success": 1, "data": data})).unwrap();
        let mut entries: Vec<RawEntry<4096>> = Vec::new();
        let out = decode_with(RawData::<8192, 4096>::default(), &body, |e| {
            entries.push(e);
            Ok(())
        });
        // A member named like a streamed list must be a list or a map.
        if matches!(data.get("tasks"), Some(v) if !v.is_array() && !v.is_object() && !v.is_null()) {
            prop_assert!(out.is_err());
            return Ok(());
        }
        let out = out.unwrap();
        // No raw C0 control: JSON has none in strings, the names are escaped.
        prop_assert!(!out.iter().any(|&b| b < 0x20));
        let out: Value = serde_json::from_slice(&out).unwrap();
        let mut rebuilt = out.as_object().unwrap().clone();
        for (k, v) in &data {
            let streamed = v.is_array() || (k == "tasks" && !v.is_null());
            if !streamed {
                continue;
            }
            let mine: Vec<&RawEntry<4096>> = entries.iter().filter(|e| &name(&e.member) == k).collect();
            let value = if v.is_array() {
                Value::Array(mine.iter().map(|e| serde_json::from_slice(&e.json).unwrap()).collect())
            } else {
                Value::Object(mine.iter().map(|e| (name(e.key.as_ref().unwrap()), serde_json::from_slice(&e.json).unwrap())).collect())
            };
            rebuilt.insert(k.clone(), value);
        }
        let mut want = serde_json::Map::new();
        for (k, v) in &data {
            if !(k == "tasks" && v.is_null()) {
                want.insert(k.clone(), v.clone());
            }
        }
        let mut got = rebuilt;
        got.retain(|k, _| !(k == "tasks" && data.get("tasks").is_some_and(Value::is_null)));
        prop_assert_eq!(Value::Object(got), Value::Object(want));
    }
}

#[test]
fn raw_data_keeps_a_scalar_and_refuses_over_capacity() {
    let body = br#"{"success": 1, "data": "pong"}"#;
    let out = decode_with(RawData::<64, 64>::default(), body, |_| Ok(())).unwrap();
    assert_eq!(&out[..], b"\"pong\"");
    let body = br#"{"success": 1, "data": {"a": "0123456789012345678901234567890123456789"}}"#;
    assert!(decode_with(RawData::<16, 64>::default(), body, |_| Ok(())).is_err());
    let body = br#"{"success": 1, "data": {"l": ["0123456789012345678901234567890123456789"]}}"#;
    assert!(decode_with(RawData::<64, 16>::default(), body, |_: RawEntry<16>| Ok(())).is_err());
    let body = br#"{"success": 1, "data": {"l": [1, {"x": [2]}]}}"#;
    let mut n = 0;
    let out = decode_with(RawData::<64, 64>::default(), body, |e: RawEntry<64>| {
        assert_eq!(e.member.as_str(), "l");
        n += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!((n, &out[..]), (2, &b"{}"[..]));
}

#[test]
fn a_format_other_than_json_makes_a_download() {
    use lastline_core::types::Format;
    let mut r = ByName::named("get_results").unwrap();
    assert!(!r.answers_raw());
    assert_eq!(r.format(), Some(Format::Json));
    r.set_format(Format::Pdf).unwrap();
    assert!(r.answers_raw());
    let mut a = ByName::named("get_result_artifact").unwrap();
    assert!(a.answers_raw());
    assert_eq!(a.format(), None);
    a.set_format(Format::Xml).unwrap();
    assert_eq!(a.format(), Some(Format::Xml));
    let mut e = ByName::named("get_exported_report").unwrap();
    assert!(e.answers_raw());
    assert!(e.set_format(Format::Xml).is_err());
    assert_eq!(e.format(), None);
}

/// What an upload exchange writes (the sample where it asks for it), and
/// the task the server answered.
fn upload<R>(
    mut ex: Exchange<'_, R, lastline_core::decoders::SubmitDecoder, 512>,
    sample: &[u8],
    ok: &[u8],
) -> (Vec<u8>, Uuid) {
    let mut sent = Vec::new();
    let mut fed = 0;
    loop {
        match ex.poll(0, 7) {
            Step::Connect(_) | Step::Event(_) => {}
            Step::Write(b) => sent.extend_from_slice(b),
            Step::SendSample { len, .. } => {
                assert_eq!(len, sample.len() as u64);
                sent.extend_from_slice(sample);
            }
            Step::Read(space) => {
                let n = space.len().min(ok.len() - fed);
                space[..n].copy_from_slice(&ok[fed..fed + n]);
                fed += n;
                ex.received(n);
            }
            Step::Done(r) => return (sent, r.unwrap().task_uuid),
            _ => panic!("unexpected step"),
        }
    }
}

#[test]
fn an_upload_by_name_is_written_as_the_typed_one() {
    use lastline_core::request::SubmitFile;
    let s = settings();
    let ok = answer(&json!({"success": 1, "data": {"task_uuid": U}}));
    let sample = b"MZ sample bytes";
    let typed = SubmitFile {
        filename: Some("a.exe"),
        upload: Some(sample.len() as u64),
        full_report_score: Some(-1),
        ..SubmitFile::default()
    };
    let (mut link, mut buf) = (Link::new(), [0u8; 2048]);
    let (want, _) = upload(Exchange::call(&typed, &s, &mut link, &mut buf), sample, &ok);
    let mut named = ByName::named("submit_file").unwrap();
    named.param("full_report_score", "-1").unwrap();
    named.param("filename", "a.exe").unwrap();
    named.set_upload(sample.len() as u64).unwrap();
    assert_eq!(named.upload(), Some(sample.len() as u64));
    let (mut link, mut buf) = (Link::new(), [0u8; 2048]);
    let (got, task) = upload(
        Exchange::call_by_name(&named, &s, &mut link, &mut buf),
        sample,
        &ok,
    );
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
    assert_eq!(task, Uuid::parse(U).unwrap());
    // Only a method with a sample uploads.
    assert!(ByName::named("submit_url").unwrap().set_upload(1).is_err());
}

#[test]
fn names_reach_the_caller_with_their_controls_escaped() {
    let body = "{\"success\": 1, \"data\": {\"l\\u001b[2J\": {\"k\\u009b1m\\u007f\": 1}, \"x\\u0085\": 2}}";
    let mut entries: Vec<RawEntry<64>> = Vec::new();
    let out = decode_with(RawData::<256, 64>::default(), body.as_bytes(), |e| {
        entries.push(e);
        Ok(())
    })
    .unwrap();
    // Streamed by name (a table list)? No: `l...` is an object, kept inline.
    let out = std::str::from_utf8(&out).unwrap();
    assert_eq!(out, r#"{"l\u001b[2J":{"k\u009b1m\u007f": 1},"x\u0085":2}"#);
    assert!(entries.is_empty());
    let body =
        "{\"success\": 1, \"data\": {\"tasks\": {\"k\\u009b\\u001b\": 1}, \"a\\u0007\": [3]}}";
    let mut entries: Vec<RawEntry<64>> = Vec::new();
    decode_with(RawData::<256, 64>::default(), body.as_bytes(), |e| {
        entries.push(e);
        Ok(())
    })
    .unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].member.as_str(), "tasks");
    assert_eq!(entries[0].key.as_deref(), Some(r"k\u009b\u001b"));
    assert_eq!(entries[1].member.as_str(), r"a\u0007");
}
