//! Host tests: the blocking and async clients over std/tokio sockets
//! (through embedded-io-adapters) against the emulator.
#![allow(clippy::result_large_err)]

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use embedded_io_adapters::std::FromStd;
use lastline_core::request::*;
use lastline_core::responses::ResultSummaryDecoder;
use lastline_core::types::{ArtifactId, Timestamp};
use lastline_core::workflow::{CompletionCursor, RetryPolicy};
use lastline_core::{Credentials, ErrorCode};
use lastline_embedded::{blocking, AuthMode, Error, Options, SampleSource, SliceSample};
use lastline_emulator::{Config, Emulator, EICAR};

struct Std(SocketAddr);

impl blocking::Connector for Std {
    type Connection = FromStd<TcpStream>;
    fn connect(&mut self) -> Result<Self::Connection, Error> {
        let s = TcpStream::connect(self.0).map_err(|e| Error::Io(embedded_io::Error::kind(&e)))?;
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        Ok(FromStd::new(s))
    }
}

struct Clock(Instant, u32);

impl blocking::Timer for Clock {
    fn now_ms(&mut self) -> u64 {
        self.0.elapsed().as_millis() as u64
    }
    fn random(&mut self) -> u32 {
        self.1 = self.1.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        self.1
    }
    fn delay_ms(&mut self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        base_delay_ms: 5,
        max_delay_ms: 20,
        deadline_ms: 5_000,
    }
}

fn eicar_sample() -> Vec<u8> {
    let mut v = b"captured: ".to_vec();
    v.extend_from_slice(EICAR);
    v
}

macro_rules! client {
    ($emu:expr, $host:ident, $key:ident, $token:ident, $auth:expr) => {{
        let mut opts = Options::new(&$host, Credentials::new(&$key, Some(&$token)).unwrap());
        opts.auth = $auth;
        opts.retry = fast_retry();
        blocking::Client::<_, _, 2048, 1024>::new(Std($emu.addr()), Clock(Instant::now(), 7), opts)
    }};
}

#[test]
fn hash_first_cursor_and_every_method() {
    let emu = Emulator::start(Config::default()).unwrap();
    let (key, token) = emu.credentials();
    let host = emu.addr().to_string();
    let mut c = client!(emu, host, key, token, AuthMode::Basic);
    let sample = eicar_sample();
    let first = c
        .submit_hash_first(&mut SliceSample(&sample), SubmitFile::default())
        .unwrap();
    assert!(first.uploaded);
    let again = c
        .submit_hash_first(&mut SliceSample(&sample), SubmitFile::default())
        .unwrap();
    assert!(!again.uploaded);
    let task = first.submission.task_uuid;

    let mut cursor = CompletionCursor::<32>::new(Timestamp::from_unix(0).unwrap());
    let mut seen = vec![];
    c.completions(&mut cursor, &mut |t| seen.push((t.task_uuid, t.score)))
        .unwrap();
    assert!(seen.contains(&(task, Some(100))));
    // The next page repeats nothing.
    let mut again_seen = 0;
    c.completions(&mut cursor, &mut |_| again_seen += 1)
        .unwrap();
    assert_eq!(again_seen, 0);

    let summary = c
        .call_with::<_, ResultSummaryDecoder>(
            &GetResult {
                score_only: Some(true),
                ..GetResult::new(task)
            },
            None,
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(summary.score, Some(100));
    let mut reports = vec![];
    let full = c
        .call(
            &GetResults {
                full_report_score: Some(0),
                ..GetResults::new(task)
            },
            |i| reports.push(i),
        )
        .unwrap();
    assert!(full.has_report);
    let report = reports
        .iter()
        .find_map(|r| match r {
            lastline_core::responses::ResultItem::Report(r) => Some(r.report_uuid),
            _ => None,
        })
        .unwrap();
    let url = c
        .call(
            &SubmitUrl::new(
                lastline_core::types::Url::parse("http://files.example/setup.exe").unwrap(),
            ),
            |_| {},
        )
        .unwrap();
    assert_eq!(
        c.call(&GetProgress::new(task), |_| {}).unwrap().progress,
        100
    );
    assert!(c
        .call(&GetTaskMetadata::new(task), |_| {})
        .unwrap()
        .file_md5
        .is_some());
    let mut n = 0;
    c.call(&GetResultActivities::new(task), |_| n += 1).unwrap();
    c.call(
        &GetReportActivities {
            uuid: task,
            report_uuid: report,
            allow_datacenter_redirect: None,
        },
        |_| n += 1,
    )
    .unwrap();
    c.call(&GetAnalysisTags::new(task), |_| n += 1).unwrap();
    c.call(&GetNetworkIocs::new(task), |_| n += 1).unwrap();
    let mut children = 0;
    c.call(&GetChildTasksRecursively::new(url.task_uuid), |_| {
        children += 1
    })
    .unwrap();
    assert_eq!(children, 1);
    assert!(n >= 4);
    let md5 = lastline_core::hashing::digest(lastline_core::hashing::Algorithms::ALL, &sample)
        .md5
        .unwrap();
    let hash = lastline_core::types::AnyDigest::Md5(md5);
    let mut found = 0;
    assert_eq!(
        c.call(
            &QueryFileHash {
                hash,
                hash_block_size: None
            },
            |_| found += 1
        )
        .unwrap()
        .files_found,
        1
    );
    assert_eq!(
        c.call(
            &IsBlockedFileHash {
                hash,
                hash_block_size: None
            },
            |_| {}
        )
        .unwrap()
        .decision,
        lastline_core::types::BlockDecision::Block
    );
    let art_name = format!("{report}:primary_analysis_subject");
    let art = ArtifactId::parse(&art_name).unwrap();
    assert!(c
        .call(
            &IsRiskyAnalysisArtifact {
                artifact_uuid: art,
                uuid: Some(task),
                allow_datacenter_redirect: None
            },
            |_| {}
        )
        .unwrap());
    assert!(
        c.call(
            &QueryTaskArtifact {
                uuid: task,
                artifact_name: "primary_analysis_subject",
                allow_datacenter_redirect: None
            },
            |_| {}
        )
        .unwrap()
        .available
    );
    let mut bytes = vec![];
    c.download(
        &GetResultArtifact {
            uuid: task,
            artifact_uuid: art,
            password_protected: None,
            allow_datacenter_redirect: None,
        },
        &mut |d| {
            bytes.extend_from_slice(d);
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(bytes, sample);
    let mut again = vec![];
    c.download(
        &GetReportArtifact {
            uuid: task,
            report_uuid: report,
            artifact_name: "primary_analysis_subject",
            password_protected: None,
            allow_datacenter_redirect: None,
        },
        &mut |d| {
            again.extend_from_slice(d);
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(again, sample);
    // A documented failure status of a raw method comes back typed.
    let missing_name = format!("{report}:no_such_artifact");
    let missing = ArtifactId::parse(&missing_name).unwrap();
    let e = c
        .download(
            &GetResultArtifact {
                uuid: task,
                artifact_uuid: missing,
                password_protected: None,
                allow_datacenter_redirect: None,
            },
            &mut |_| Ok(()),
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Core(lastline_core::Error::HttpStatus { status: 404, .. })
        ),
        "{e:?}"
    );
    let ioc = c
        .call(
            &CreateIocFromResult {
                uuid: task,
                report_version: "ioc:openioc",
                report_uuid: report,
                allow_datacenter_redirect: None,
            },
            |_| {},
        )
        .unwrap();
    let ioc_uuid = ioc.ioc_uuid.unwrap();
    assert_eq!(
        c.call(
            &GetIocMetadata {
                ioc_uuid,
                allow_datacenter_redirect: None
            },
            |_| {}
        )
        .unwrap()
        .task_uuid,
        Some(task)
    );
    let mut doc = vec![];
    c.download(&GetIocReport { ioc_uuid }, &mut |d| {
        doc.extend_from_slice(d);
        Ok(())
    })
    .unwrap();
    assert!(doc.starts_with(b"<?xml"));
    let export = c
        .call(
            &ExportReport {
                uuid: task,
                report_type: lastline_core::types::ReportType::Full,
                report_format: None,
            },
            |_| {},
        )
        .unwrap();
    let mut ready = vec![];
    c.call(&GetCompletedExportedReports::default(), |r| {
        ready.push(r.exported_report_uuid)
    })
    .unwrap();
    assert!(ready.contains(&export.exported_report_uuid));
    let mut pdf = vec![];
    c.download(
        &GetExportedReport {
            exported_report_uuid: export.exported_report_uuid,
            cdn: None,
        },
        &mut |d| {
            pdf.extend_from_slice(d);
            Ok(())
        },
    )
    .unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let mut pending = 0;
    c.call(&GetPending::default(), |_| pending += 1).unwrap();
    c.call(
        &GetCompletedWithMetadata {
            after: Timestamp::from_unix(0).unwrap(),
            before: None,
        },
        |_| {},
    )
    .unwrap();
    c.call(&GetApiUtcTimestamp, |_| {}).unwrap();
    assert_eq!(c.call(&Ping, |_| {}).unwrap().as_str(), "pong");
    // Typed API errors.
    let e = c
        .call(
            &GetResult::new(lastline_core::types::Uuid::from_bytes([1; 16])),
            |_| {},
        )
        .unwrap_err();
    assert_eq!(e.api_code(), Some(ErrorCode::InvalidUuid));
    // One connection served everything (keep-alive).
    assert!(emu.log().entries().len() > 25);
}

#[test]
fn faults_end_in_success_or_the_right_error() {
    let emu = Emulator::start(Config::default()).unwrap();
    let (key, token) = emu.credentials();
    let host = emu.addr().to_string();
    let mut c = client!(emu, host, key, token, AuthMode::Basic);
    emu.faults().set(|f| f.unavailable_next = 2);
    assert_eq!(c.call(&Ping, |_| {}).unwrap().as_str(), "pong");
    emu.faults().set(|f| f.http_503_next = 2);
    assert_eq!(c.call(&Ping, |_| {}).unwrap().as_str(), "pong");
    emu.faults().set(|f| f.reset_next = 1);
    assert!(c.call(&GetApiUtcTimestamp, |_| {}).is_ok());
    // A reset in the middle of an upload: the upload is sent again.
    emu.faults().set(|f| f.reset_next = 1);
    let sample = b"upload me despite a reset".to_vec();
    assert!(
        c.submit_hash_first(&mut SliceSample(&sample), SubmitFile::default())
            .unwrap()
            .uploaded
    );
    emu.faults().set(|f| {
        f.chunked = true;
        f.connection_close = true;
        f.dribble = Some((7, Duration::from_millis(1)));
    });
    for _ in 0..3 {
        assert_eq!(c.call(&Ping, |_| {}).unwrap().as_str(), "pong");
    }
    emu.faults().set(|f| *f = Default::default());
    // Too many 107s: the schedule gives up with the API's error.
    emu.faults().set(|f| f.unavailable_next = 50);
    let e = c.call(&Ping, |_| {}).unwrap_err();
    assert_eq!(e.api_code(), Some(ErrorCode::TemporarilyUnavailable));
    emu.faults().set(|f| f.unavailable_next = 0);
    // 413 for an upload over the limit is final, not retried.
    emu.configure(|cfg| cfg.upload_limit = 10);
    emu.forget_files();
    let big = vec![b'z'; 5000];
    let e = c
        .submit_hash_first(&mut SliceSample(&big), SubmitFile::default())
        .unwrap_err();
    assert_eq!(e, Error::Core(lastline_core::Error::PayloadTooLarge));
}

#[test]
fn session_relogin_and_credentials_never_in_urls() {
    let emu = Emulator::start(Config::default()).unwrap();
    let (key, token) = emu.credentials();
    let host = emu.addr().to_string();
    let mut c = client!(emu, host, key, token, AuthMode::Session);
    emu.faults().set(|f| f.expire_sessions = true);
    for _ in 0..4 {
        assert_eq!(c.call(&Ping, |_| {}).unwrap().as_str(), "pong");
    }
    let log = emu.log().entries();
    let logins = log.iter().filter(|e| e.api_method == Some("login")).count();
    assert!(logins >= 2, "re-logged in after expiry ({logins} logins)");
    assert!(log.iter().all(|e| !e
        .credentials
        .contains(&lastline_emulator::CredentialSource::Url)));
    assert!(log.iter().all(|e| !e.query.contains(&token)));
    // Body-field credentials work too (GET-only methods fall back to Basic).
    let mut c = client!(emu, host, key, token, AuthMode::BodyFields);
    emu.faults().set(|f| f.expire_sessions = false);
    assert_eq!(c.call(&Ping, |_| {}).unwrap().as_str(), "pong");
    c.call(&GetApiUtcTimestamp, |_| {}).unwrap();
}

/// A stream whose writes write nothing: embedded-io's `write_all` would
/// panic; the client reports a closed connection.
struct Stuck;
impl embedded_io::ErrorType for Stuck {
    type Error = embedded_io::ErrorKind;
}
impl embedded_io::Read for Stuck {
    fn read(&mut self, _: &mut [u8]) -> Result<usize, Self::Error> {
        Ok(0)
    }
}
impl embedded_io::Write for Stuck {
    fn write(&mut self, _: &[u8]) -> Result<usize, Self::Error> {
        Ok(0)
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}
struct StuckConnector;
impl blocking::Connector for StuckConnector {
    type Connection = Stuck;
    fn connect(&mut self) -> Result<Stuck, Error> {
        Ok(Stuck)
    }
}

#[test]
fn a_zero_write_is_a_closed_connection_not_a_panic() {
    let creds = Credentials::new("k", Some("t")).unwrap();
    let mut c: blocking::Client<'_, _, _> =
        blocking::Client::new(StuckConnector, blocking::NoRetry, Options::new("h", creds));
    assert_eq!(c.call(&Ping, |_| {}).unwrap_err(), Error::Closed);
    let s = SliceSample(b"abc");
    assert_eq!(s.len(), 3);
}

mod asynchronous {
    use embedded_io_adapters::tokio_1::FromTokio;
    use lastline_embedded::asynch;

    use super::*;

    struct Tokio(SocketAddr);

    impl asynch::Connector for Tokio {
        type Connection = FromTokio<tokio::net::TcpStream>;
        async fn connect(&mut self) -> Result<Self::Connection, Error> {
            let s = tokio::net::TcpStream::connect(self.0)
                .await
                .map_err(|e| Error::Io(embedded_io::Error::kind(&e)))?;
            Ok(FromTokio::new(s))
        }
    }

    struct TokioClock(Instant);

    impl asynch::Timer for TokioClock {
        fn now_ms(&mut self) -> u64 {
            self.0.elapsed().as_millis() as u64
        }
        fn random(&mut self) -> u32 {
            self.0.elapsed().subsec_nanos()
        }
        async fn delay_ms(&mut self, ms: u64) {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn async_client_same_results() {
        let emu = Emulator::start(Config::default()).unwrap();
        let (key, token) = emu.credentials();
        let host = emu.addr().to_string();
        let mut opts = Options::new(&host, Credentials::new(&key, Some(&token)).unwrap());
        opts.retry = fast_retry();
        let mut c = asynch::Client::<_, _, 2048, 1024>::new(
            Tokio(emu.addr()),
            TokioClock(Instant::now()),
            opts,
        );
        let sample = eicar_sample();
        let first = c
            .submit_hash_first(&mut SliceSample(&sample), SubmitFile::default())
            .await
            .unwrap();
        assert!(first.uploaded);
        assert!(
            !c.submit_hash_first(&mut SliceSample(&sample), SubmitFile::default())
                .await
                .unwrap()
                .uploaded
        );
        let mut cursor = CompletionCursor::<32>::new(Timestamp::from_unix(0).unwrap());
        let mut seen = vec![];
        c.completions(&mut cursor, &mut |t| seen.push((t.task_uuid, t.score)))
            .await
            .unwrap();
        assert!(seen.contains(&(first.submission.task_uuid, Some(100))));
        emu.faults().set(|f| {
            f.unavailable_next = 1;
            f.reset_next = 1;
            f.chunked = true;
        });
        assert_eq!(c.call(&Ping, |_| {}).await.unwrap().as_str(), "pong");
        assert_eq!(c.call(&Ping, |_| {}).await.unwrap().as_str(), "pong");
        let mut pdf = vec![];
        let export = c
            .call(
                &ExportReport {
                    uuid: first.submission.task_uuid,
                    report_type: lastline_core::types::ReportType::Overview,
                    report_format: None,
                },
                |_| {},
            )
            .await
            .unwrap();
        c.download(
            &GetExportedReport {
                exported_report_uuid: export.exported_report_uuid,
                cdn: None,
            },
            &mut |d| {
                pdf.extend_from_slice(d);
                Ok(())
            },
        )
        .await
        .unwrap();
        assert!(pdf.starts_with(b"%PDF"));
    }
}

/// A scripted server: for each accepted connection, the responses to send
/// (one per request read), then a silent close. Counts requests.
fn scripted(
    script: Vec<Vec<Vec<u8>>>,
) -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for responses in script {
            let Ok((mut s, _)) = listener.accept() else {
                return;
            };
            let mut buf = Vec::new();
            for response in responses {
                // Read one request: head, then Content-Length bytes of body.
                let mut tmp = [0u8; 4096];
                loop {
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        let body_len = head
                            .lines()
                            .find_map(|l| {
                                l.strip_prefix("content-length: ")
                                    .map(|v| v.trim().parse::<usize>().unwrap())
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + body_len {
                            buf.drain(..end + 4 + body_len);
                            break;
                        }
                    }
                    let n = s.read(&mut tmp).unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&tmp[..n]);
                }
                counter.fetch_add(1, Ordering::SeqCst);
                s.write_all(&response).unwrap();
            }
            // Silent close: no Connection: close was announced.
            drop(s);
        }
    });
    (addr, seen)
}

fn pong() -> Vec<u8> {
    let body = br#"{"success": 1, "data": "pong"}"#;
    [
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
        body,
    ]
    .concat()
}

fn no_retry_client(addr: SocketAddr) -> blocking::Client<'static, Std, blocking::NoRetry> {
    let creds = Credentials::new("k", Some("t")).unwrap();
    blocking::Client::new(
        Std(addr),
        blocking::NoRetry,
        Options::new("scripted", creds),
    )
}

#[test]
fn a_silently_closed_keep_alive_connection_is_reopened_once() {
    let pdf = b"%PDF-1.4 tiny".to_vec();
    let download = [
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: {}\r\n\r\n",
            pdf.len()
        )
        .as_bytes(),
        &pdf,
    ]
    .concat();
    let (addr, seen) = scripted(vec![vec![pong()], vec![pong()], vec![download]]);
    let mut c = no_retry_client(addr);
    assert_eq!(c.call(&Ping, |_| {}).unwrap().as_str(), "pong");
    // The server closed the kept-alive connection: the call reconnects.
    assert_eq!(c.call(&Ping, |_| {}).unwrap().as_str(), "pong");
    // So does a download.
    let mut got = vec![];
    let id = lastline_core::types::Uuid::from_bytes([3; 16]);
    c.download(
        &GetExportedReport {
            exported_report_uuid: id,
            cdn: None,
        },
        &mut |d| {
            got.extend_from_slice(d);
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(got, pdf);
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[test]
fn a_partly_answered_request_is_not_sent_again() {
    let half = pong()[..40].to_vec();
    let (addr, seen) = scripted(vec![vec![pong(), half], vec![pong()]]);
    let mut c = no_retry_client(addr);
    assert_eq!(c.call(&Ping, |_| {}).unwrap().as_str(), "pong");
    let e = c.call(&Ping, |_| {}).unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    // Two requests reached the server, not three: the cut answer showed
    // the request had arrived, so it was not silently sent again.
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[test]
fn no_retry_means_no_retry() {
    let emu = Emulator::start(Config::default()).unwrap();
    let (key, token) = emu.credentials();
    let host = emu.addr().to_string();
    let creds = Credentials::new(&key, Some(&token)).unwrap();
    let mut c: blocking::Client<'_, _, _> = blocking::Client::new(
        Std(emu.addr()),
        blocking::NoRetry,
        Options::new(&host, creds),
    );
    emu.faults().set(|f| f.unavailable_next = 1);
    let e = c.call(&Ping, |_| {}).unwrap_err();
    assert_eq!(e.api_code(), Some(ErrorCode::TemporarilyUnavailable));
    assert_eq!(c.call(&Ping, |_| {}).unwrap().as_str(), "pong");
}
