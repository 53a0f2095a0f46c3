//! Property tests: encoders checked by independent parsers, decoders
//! checked for split-invariance and against serde_json.
#![allow(clippy::result_large_err, clippy::type_complexity)]

mod common;

use common::*;
use lastline_core::decoders::{CompletedDecoder, CompletedTask, ResultDecoder};
use lastline_core::emit::Sink;
use lastline_core::envelope::decode_all;
use lastline_core::form::FormWriter;
use lastline_core::hashing::{Algorithms, MultiHasher};
use lastline_core::json::Reader;
use lastline_core::request::SubmitFile;
use lastline_core::types::{PasswordCandidates, Timestamp, Uuid};
use proptest::prelude::*;
use sha2::Digest as _;

struct VecSink(Vec<u8>);
impl Sink for VecSink {
    fn put(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
}

fn text() -> impl Strategy<Value = String> {
    // Any text without control characters (what text parameters accept),
    // with multipart- and form-significant characters made likely.
    prop_oneof![
        "\\PC{0,40}",
        "[-=&+%\" ;:/\\\\a-z]{0,20}",
        Just("--lastline-".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// `move_to_front` does what `copy_within(from..to, 0)` does.
    #[test]
    fn move_to_front_matches_copy_within(
        mut buf in proptest::collection::vec(any::<u8>(), 0..300),
        a in 0usize..400,
        b in 0usize..400,
    ) {
        let (from, to) = (a.min(b).min(buf.len()), a.max(b).min(buf.len()));
        let mut want = buf.clone();
        want.copy_within(from..to, 0);
        let n = lastline_core::buffer::move_to_front(&mut buf, from, to);
        prop_assert_eq!(n, to - from);
        prop_assert_eq!(&buf[..n], &want[..n]);
    }

    #[test]
    fn form_encoding_round_trips(pairs in proptest::collection::vec(("[a-z_]{1,12}", any::<String>()), 0..8)) {
        let mut sink = VecSink(Vec::new());
        let mut w = FormWriter::new(&mut sink);
        for (k, v) in &pairs {
            w.pair(k, v.as_bytes());
        }
        let encoded = sink.0;
        prop_assert!(encoded.iter().all(|b| b.is_ascii_graphic()));
        let decoded: Vec<(String, String)> = form_urlencoded::parse(&encoded).into_owned().collect();
        prop_assert_eq!(decoded, pairs);
    }

    #[test]
    fn multipart_round_trips_through_multer(
        filename in text(),
        env in text(),
        host in text(),
        request in text(),
        passwords in proptest::collection::vec("[^\\r\\n\\p{Cc}]{1,16}", 0..5),
        file in proptest::collection::vec(prop_oneof![any::<u8>(), Just(b'-'), Just(b'\r'), Just(b'\n')], 0..600),
        boundaryish in any::<bool>(),
        chunk in 1usize..300,
    ) {
        let mut file = file;
        if boundaryish {
            // Boundary-like bytes inside the sample: a delimiter prefix of
            // the encoder's own form, and a full foreign boundary.
            file.extend_from_slice(b"\r\n--lastline-5a5a5a\r\n--other-boundary--\r\n");
        }
        let pw: Vec<&str> = passwords.iter().map(String::as_str).collect();
        let req = SubmitFile {
            upload: Some(file.len() as u64),
            filename: Some(&filename),
            analysis_env: Some(&env),
            download_host: Some(&host),
            download_request: Some(&request),
            password_candidates: if pw.is_empty() { None } else { Some(PasswordCandidates::new(&pw).unwrap()) },
            ..SubmitFile::default()
        };
        let wire = encode(&req, &config(), &file, chunk).unwrap();
        let parsed = parse_request(&wire); // checks Content-Length
        let ct = parsed.header("content-type").unwrap().to_string();
        let parts = parse_multipart(&parsed.body, &multer::parse_boundary(&ct).unwrap());
        let get = |name: &str| parts.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("part {name}"));
        prop_assert_eq!(&get("filename").data, filename.as_bytes());
        prop_assert_eq!(&get("analysis_env").data, env.as_bytes());
        prop_assert_eq!(&get("download_host").data, host.as_bytes());
        prop_assert_eq!(get("download_host").filename.as_deref(), Some("download_host"));
        prop_assert_eq!(&get("download_request").data, request.as_bytes());
        prop_assert_eq!(&get("file").data, &file);
        prop_assert_eq!(get("file").filename.as_deref(), Some("sample"));
        if !pw.is_empty() {
            let joined = pw.join("\n");
            prop_assert_eq!(&get("password_candidates").data, joined.as_bytes());
        }
        // Credentials: Basic header only.
        prop_assert!(parts.iter().all(|p| p.name != "key" && p.name != "api_token"));
    }

    #[test]
    fn envelope_decoding_is_split_invariant(
        n in 0usize..40,
        scores in any::<bool>(),
        framing in 0u8..3,
        chunk_size in 1usize..64,
        read_size in 1usize..97,
        pad in "[ \\t\\r\\n]{0,3}",
    ) {
        let uuids: Vec<String> = (0..n).map(|i| format!("{:032x}", i as u128 * 0x1234_5678_9abc_def1)).collect();
        let tasks = if scores {
            let m: serde_json::Map<String, serde_json::Value> = uuids.iter().enumerate().map(|(i, u)| (u.clone(), serde_json::json!(i % 101))).collect();
            serde_json::Value::Object(m)
        } else {
            serde_json::json!(uuids)
        };
        let body = format!(
            "{pad}{{\"success\":{pad}1,\"data\":{{\"after\":\"2020-08-05 14:00:39\",\"report\":{{\"x\":[\"}}]\",{{}}]}},\"before\":\"2020-08-07\",\"resume\":\"2020-08-07 00:00:01\",\"more_results_available\":\"1\",\"tasks\":{tasks}}}}}{pad}"
        );
        let wire = match framing {
            0 => http_ok(body.as_bytes()),
            1 => http_chunked(body.as_bytes(), chunk_size),
            _ => [b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".as_slice(), body.as_bytes()].concat(),
        };
        let (whole, whole_items) = read_envelope::<CompletedDecoder, 256>(CompletedDecoder::default(), &wire, wire.len());
        let (split, split_items) = read_envelope::<CompletedDecoder, 256>(CompletedDecoder::default(), &wire, read_size);
        let whole = whole.unwrap();
        prop_assert_eq!(whole, split.unwrap());
        prop_assert_eq!(&whole_items, &split_items);
        prop_assert_eq!(whole_items.len(), n);
        prop_assert!(whole.more_results_available);
        let want: Vec<CompletedTask> = uuids.iter().enumerate().map(|(i, u)| CompletedTask {
            task_uuid: Uuid::parse(u).unwrap(),
            score: scores.then_some((i % 101) as i32),
            insufficient_task_input_errors: Default::default(),
        }).collect();
        prop_assert_eq!(whole_items, want);
    }

    #[test]
    fn hashing_is_chunking_invariant(data in proptest::collection::vec(any::<u8>(), 0..5000), cuts in proptest::collection::vec(0usize..5000, 0..6)) {
        let mut h = MultiHasher::new(Algorithms::ALL);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (data.len() + 1)).collect();
        cuts.sort();
        let mut at = 0;
        for c in cuts.into_iter().chain([data.len()]) {
            h.update(&data[at..c]);
            at = c;
        }
        let d = h.finish();
        prop_assert_eq!(d.len, data.len() as u64);
        prop_assert_eq!(d.md5.unwrap().0, <[u8; 16]>::from(md5::Md5::digest(&data)));
        prop_assert_eq!(d.sha1.unwrap().0, <[u8; 20]>::from(sha1::Sha1::digest(&data)));
        prop_assert_eq!(d.sha256.unwrap().0, <[u8; 32]>::from(sha2::Sha256::digest(&data)));
    }

    #[test]
    fn json_strings_decode_like_serde_json(s in any::<String>()) {
        let encoded = serde_json::to_string(&s).unwrap();
        let mut r = Reader::new(encoded.as_bytes());
        let ours = r.string::<4096>("s").unwrap();
        prop_assert_eq!(ours.as_str(), s.as_str());
        // Also with every char escaped as \uXXXX.
        let escaped: String = std::iter::once('"')
            .chain(s.encode_utf16().flat_map(|u| format!("\\u{u:04x}").chars().collect::<Vec<_>>()))
            .chain(std::iter::once('"'))
            .collect();
        let ours = Reader::new(escaped.as_bytes()).string::<4096>("s").unwrap();
        prop_assert_eq!(ours.as_str(), s.as_str());
    }

    #[test]
    fn unknown_members_of_any_shape_are_skipped(v in arb_json()) {
        let body = serde_json::json!({"success": 1, "data": {"score": 5, "report": v.clone(), "zz": v}});
        let text = serde_json::to_vec(&body).unwrap();
        let (res, _) = decode_all::<ResultDecoder, 0>(&text).unwrap();
        prop_assert_eq!(res.score, Some(5));
        prop_assert!(res.has_report);
    }

    #[test]
    fn timestamps_round_trip(unix in 0i64..253_402_300_799) {
        let t = Timestamp::from_unix(unix).unwrap();
        let back = Timestamp::parse(&t.to_string()).unwrap();
        prop_assert_eq!(back.unix(), unix);
    }
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|i| serde_json::json!(i)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| serde_json::json!(f)),
        any::<String>().prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map(any::<String>(), inner, 0..8)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}
