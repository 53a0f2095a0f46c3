//! Request-side checks: bad input refused before any byte is written,
//! naming the parameter; credentials never in URLs or Debug output; no
//! header injection; every buffer size works.
#![allow(clippy::result_large_err, clippy::type_complexity)]

mod common;

use common::*;
use lastline_core::http::{ClientConfig, RequestEncoder};
use lastline_core::request::*;
use lastline_core::types::*;
use lastline_core::{Auth, Credentials, Error, SessionCookie};

fn uuid() -> Uuid {
    Uuid::parse("05243bb7443e4bba80a5890969102082").unwrap()
}

fn refused<R: Request>(req: &R, cfg: &ClientConfig<'_>) -> Error {
    RequestEncoder::new(req, cfg, [0; 16])
        .map(|_| ())
        .unwrap_err()
}

#[test]
fn invalid_parameters_name_themselves() {
    let cfg = config();
    // A referer is a URL, checked as `url` is, before anything is sent.
    let url = lastline_core::types::Url::parse("http://example.com/").unwrap();
    for bad in ["not a url", "example.com/page", "http://", ""] {
        let r = lastline_core::request::SubmitUrl {
            referer: Some(bad),
            ..lastline_core::request::SubmitUrl::new(url)
        };
        assert!(
            matches!(
                refused(&r, &cfg),
                Error::InvalidParam {
                    param: "referer",
                    ..
                }
            ),
            "{bad:?}"
        );
    }
    let ok = lastline_core::request::SubmitUrl {
        referer: Some("https://referrer.example/a?b=c"),
        ..lastline_core::request::SubmitUrl::new(url)
    };
    assert!(lastline_core::http::RequestEncoder::new(&ok, &cfg, [0; 16]).is_ok());
    assert_eq!(
        refused(&SubmitFile::default(), &cfg),
        Error::MissingParam { param: "file" }
    );
    let bad = SubmitFile {
        upload: Some(1),
        filename: Some("a\r\nb"),
        ..Default::default()
    };
    assert!(matches!(
        refused(&bad, &cfg),
        Error::InvalidParam {
            param: "filename",
            ..
        }
    ));
    let bad = SubmitFile {
        upload: Some(1),
        server_port: Some(0),
        ..Default::default()
    };
    assert!(matches!(
        refused(&bad, &cfg),
        Error::InvalidParam {
            param: "server_port",
            ..
        }
    ));
    let big = "x".repeat(5000);
    let bad = SubmitFile {
        upload: Some(1),
        analysis_env: Some(&big),
        ..Default::default()
    };
    assert!(matches!(
        refused(&bad, &cfg),
        Error::InvalidParam {
            param: "analysis_env",
            ..
        }
    ));
    let bad = GetCompleted {
        after: Timestamp::parse("2020-01-02").unwrap(),
        before: Some(Timestamp::parse("2020-01-01").unwrap()),
        include_score: None,
    };
    assert!(matches!(
        refused(&bad, &cfg),
        Error::InvalidParam {
            param: "before",
            ..
        }
    ));
    let bad = QueryFileHash {
        hash: AnyDigest::Sha256(Sha256::parse(&"00".repeat(32)).unwrap()),
        hash_block_size: Some(0),
    };
    assert!(matches!(
        refused(&bad, &cfg),
        Error::InvalidParam {
            param: "hash_block_size",
            ..
        }
    ));
    let bad = GetResultArtifact {
        uuid: uuid(),
        artifact_uuid: ArtifactId::parse("05243bb7443e4bba80a5890969102082:x").unwrap(),
        password_protected: Some(&big),
        allow_datacenter_redirect: None,
    };
    assert!(matches!(
        refused(&bad, &cfg),
        Error::InvalidParam {
            param: "password_protected",
            ..
        }
    ));
    let bad = CreateIocFromResult {
        uuid: uuid(),
        report_version: "",
        report_uuid: uuid(),
        allow_datacenter_redirect: None,
    };
    assert_eq!(
        refused(&bad, &cfg),
        Error::MissingParam {
            param: "report_version"
        }
    );

    // Typed values refuse bad text up front.
    assert!(
        Priority::new(0).is_none() && Priority::new(11).is_none() && Priority::new(10).is_some()
    );
    assert!(Md5::parse("0123").is_err() && Md5::parse(&"g".repeat(32)).is_err());
    assert!(Sha1::parse(&"a".repeat(40)).is_ok() && Sha1::parse(&"a".repeat(64)).is_err());
    assert!(Uuid::parse("05243bb7-443e-4bba-80a5-890969102082").is_ok());
    assert!(Uuid::parse("05243bb7443e4bba80a589096910208").is_err());
    assert_eq!(
        ArtifactId::parse("nocolon"),
        Err(InvalidArtifactId::MissingColon)
    );
    assert_eq!(
        ArtifactId::parse("xyz:name"),
        Err(InvalidArtifactId::BadReportUuid)
    );
    assert_eq!(
        ArtifactId::parse("05243bb7443e4bba80a5890969102082:"),
        Err(InvalidArtifactId::BadName)
    );
    assert!(Url::parse("http://example.com/a b").is_err());
    assert!(Url::parse("example.com").is_err());
    assert!(Url::parse("http:///path").is_err());
    assert!(Url::parse("https://user@host:8080/p?q#f").is_ok());
    let many: Vec<&str> = (0..1001).map(|_| "pw").collect();
    assert_eq!(
        PasswordCandidates::new(&many).unwrap_err(),
        InvalidPasswordCandidates::TooMany
    );
    let huge = "p".repeat(140_000);
    assert_eq!(
        PasswordCandidates::new(&[huge.as_str()]).unwrap_err(),
        InvalidPasswordCandidates::TooLarge
    );
    assert_eq!(
        PasswordCandidates::new(&["a\nb"]).unwrap_err(),
        InvalidPasswordCandidates::BadEntry
    );
    assert!(matches!(
        parse_param::<Priority>("priority", "x"),
        Err(Error::InvalidParam {
            param: "priority",
            ..
        })
    ));
    assert_eq!(HashAlgorithm::parse("sha256"), Some(HashAlgorithm::Sha256));
}

#[test]
fn header_injection_is_impossible() {
    let creds = creds();
    for host in ["evil\r\nX-Injected: 1", "a\nb", "a\0b"] {
        let cfg = ClientConfig::new(host, creds);
        assert_eq!(
            refused(&Ping, &cfg),
            Error::HeaderInjection { header: "Host" }
        );
    }
    let mut cfg = config();
    cfg.user_agent = "ua\r\nX: y";
    assert_eq!(
        refused(&Ping, &cfg),
        Error::HeaderInjection {
            header: "User-Agent"
        }
    );
    assert!(Credentials::new("key\r\n", Some("t")).is_err());
    assert!(Credentials::new("key", Some("to ken")).is_err());
    assert!(Credentials::new("ke:y", Some("token")).is_err());
    assert!(SessionCookie::from_set_cookie(b"sid=a\r\nX: y").is_err());
    // Values with CR/LF travel percent-encoded, never raw.
    let req = SubmitUrl {
        referer: Some("http://r.example/"),
        ..SubmitUrl::new(Url::parse("http://a.example/%0d%0a").unwrap())
    };
    let wire = encode(&req, &config(), b"", 64).unwrap();
    let head_end = wire.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    assert!(!wire[head_end + 4..].contains(&b'\r'));
}

#[test]
fn credentials_never_in_urls_or_debug() {
    let c = creds();
    let dbg = format!("{c:?} {:?}", Auth::Basic(c));
    assert!(!dbg.contains(KEY) && !dbg.contains(TOKEN), "{dbg}");
    // Body-field credentials: a GET-or-POST method becomes a POST with the
    // credentials in its body; a GET-only one falls back to Basic.
    let mut cfg = config();
    cfg.auth = Auth::BodyFields(c);
    let wire = parse_request(&encode(&GetProgress::new(uuid()), &cfg, b"", 3).unwrap());
    assert_eq!(wire.method, "POST");
    assert!(!wire.target.contains(KEY) && !wire.target.contains("key="));
    assert!(wire
        .params()
        .contains(&("api_token".into(), TOKEN.as_bytes().to_vec())));
    assert!(wire.header("authorization").is_none());
    let wire = parse_request(&encode(&GetApiUtcTimestamp, &cfg, b"", 3).unwrap());
    assert_eq!(wire.method, "GET");
    assert!(!wire.target.contains(TOKEN));
    assert!(wire.header("authorization").unwrap().starts_with("Basic "));
    // Basic carries key:token.
    let wire = parse_request(&encode(&GetResult::new(uuid()), &config(), b"", 3).unwrap());
    assert_eq!(wire.method, "GET");
    assert_eq!(
        wire.target,
        "/analysis/get_result.json?uuid=05243bb7443e4bba80a5890969102082"
    );
    use base64::Engine as _;
    let basic = wire
        .header("authorization")
        .unwrap()
        .strip_prefix("Basic ")
        .unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(basic)
        .unwrap();
    assert_eq!(decoded, format!("{KEY}:{TOKEN}").as_bytes());
    assert_eq!(wire.header("x-nsx-lastline-no-session"), Some("1"));
    // Session: a cookie, no credentials at all.
    let cookie = SessionCookie::from_set_cookie(b"sid=xyz").unwrap();
    let mut cfg = config();
    cfg.auth = Auth::Session(&cookie);
    cfg.no_session = false;
    let wire = parse_request(&encode(&GetResult::new(uuid()), &cfg, b"", 3).unwrap());
    assert_eq!(wire.header("cookie"), Some("sid=xyz"));
    assert!(
        wire.header("authorization").is_none()
            && wire.header("x-nsx-lastline-no-session").is_none()
    );
    // A method that needs a token refuses credentials without one.
    let cfg = ClientConfig::new("h", Credentials::new("k", None).unwrap());
    assert_eq!(
        refused(&GetResult::new(uuid()), &cfg),
        Error::MissingParam { param: "api_token" }
    );
    assert!(RequestEncoder::new(&GetTaskMetadata::new(uuid()), &cfg, [0; 16]).is_ok());
}

#[test]
fn every_output_buffer_size_gives_the_same_bytes() {
    let pw = ["a", "b"];
    let req = SubmitFile {
        upload: Some(3),
        filename: Some("f.bin"),
        password_candidates: Some(PasswordCandidates::new(&pw).unwrap()),
        ..Default::default()
    };
    let reference = encode(&req, &config(), b"abc", 1 << 16).unwrap();
    for size in 1..200 {
        assert_eq!(
            encode(&req, &config(), b"abc", size).unwrap(),
            reference,
            "buffer {size}"
        );
    }
    let get = GetCompleted {
        after: Timestamp::parse("2020-01-01 00:00:00").unwrap(),
        before: None,
        include_score: Some(true),
    };
    let reference = encode(&get, &config(), b"", 4096).unwrap();
    for size in 1..64 {
        assert_eq!(encode(&get, &config(), b"", size).unwrap(), reference);
    }
    let wire = parse_request(&reference);
    assert_eq!(
        wire.target,
        "/analysis/get_completed.json?after=2020-01-01+00%3A00%3A00&include_score=1"
    );
}

#[test]
fn suffixes_and_methods_follow_the_reference() {
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (
            encode(
                &GetResults {
                    format: ResultsFormat::Pdf,
                    ..GetResults::new(uuid())
                },
                &config(),
                b"",
                64,
            )
            .unwrap(),
            "GET",
            "/analysis/get.pdf",
        ),
        (
            encode(
                &GetReportArtifact {
                    uuid: uuid(),
                    report_uuid: uuid(),
                    artifact_name: "x",
                    password_protected: None,
                    allow_datacenter_redirect: None,
                },
                &config(),
                b"",
                64,
            )
            .unwrap(),
            "GET",
            "/analysis/get_report_artifact",
        ),
        (
            encode(&GetIocReport { ioc_uuid: uuid() }, &config(), b"", 64).unwrap(),
            "GET",
            "/ioc/get_ioc_report",
        ),
        (
            encode(
                &ExportReport {
                    uuid: uuid(),
                    report_type: ReportType::Overview,
                    report_format: None,
                },
                &config(),
                b"",
                64,
            )
            .unwrap(),
            "POST",
            "/analysis/export_report.json",
        ),
        (
            encode(&Login, &config(), b"", 64).unwrap(),
            "POST",
            "/authentication/login.json",
        ),
        (
            encode(&GetProgress::new(uuid()), &config(), b"", 64).unwrap(),
            "GET",
            "/analysis/get_progress.json",
        ),
        (
            encode(
                &QueryTaskArtifact {
                    uuid: uuid(),
                    artifact_name: "primary_analysis_subject",
                    allow_datacenter_redirect: None,
                },
                &config(),
                b"",
                64,
            )
            .unwrap(),
            "GET",
            "/analysis/query_task_artifact.json",
        ),
    ];
    for (wire, method, path) in cases {
        let w = parse_request(&wire);
        assert_eq!((w.method.as_str(), w.path()), (method, path));
    }
    let mut cfg = config();
    cfg.base_path = "/papi";
    let w = parse_request(&encode(&Ping, &cfg, b"", 64).unwrap());
    assert_eq!(w.path(), "/papi/authentication/ping.json");
    for bad in [
        "papi/",
        "/papi/",
        "/",
        "papi",
        "/pa pi",
        "/papi?x=1",
        "/papi#f",
        "/pa\r\npi",
        "/pa\x7fpi",
    ] {
        cfg.base_path = bad;
        assert!(
            matches!(
                refused(&Ping, &cfg),
                Error::InvalidParam {
                    param: "base_path",
                    ..
                }
            ),
            "{bad:?}"
        );
    }
    cfg.base_path = "/a/b-c_d.e";
    let w = parse_request(&encode(&Ping, &cfg, b"", 64).unwrap());
    assert_eq!(w.path(), "/a/b-c_d.e/authentication/ping.json");
}

/// A method asked for in XML: the same request with the `.xml` suffix,
/// read as a download; a raw-only method refuses it before sending.
#[test]
fn xml_is_the_same_request_with_its_suffix_and_raw_only_methods_refuse_it() {
    use lastline_core::request::{GetExportedReport, GetResult, Ping, Request, ResponseKind, Xml};
    use lastline_core::types::{Format, Uuid};
    let uuid = Uuid::parse("0123456789abcdef0123456789abcdef").unwrap();
    let json = GetResult::new(uuid);
    let xml = Xml(&json);
    assert_eq!(
        (xml.format(), xml.response_kind()),
        (Some(Format::Xml), ResponseKind::Raw)
    );
    assert_eq!(<Xml<'_, GetResult> as Request>::PATH, GetResult::PATH);
    assert_eq!(xml.preferred_method(), json.preferred_method());
    assert!(Xml(&Ping).validate().is_ok());
    let raw_only = Xml(&GetExportedReport {
        exported_report_uuid: uuid,
        cdn: None,
    });
    assert!(raw_only.validate().is_err());
}
