//! Host tests: the blocking and async clients over std/tokio sockets
//! (through embedded-io-adapters) against the emulator.
#![allow(clippy::result_large_err)]

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use embedded_io_adapters::std::FromStd;
use lastline_core::decoders::ResultSummaryDecoder;
use lastline_core::request::*;
use lastline_core::types::Timestamp;
use lastline_core::workflow::CompletionCursor;
use lastline_core::{Credentials, ErrorCode};
use lastline_embedded::{blocking, AuthMode, Error, Origin, SampleSource, Settings, SliceSample};
use lastline_emulator::{Config, Emulator, EICAR};

/// The settings for `authority` (`host:port`; a name only a script
/// answers is connected to the script whatever its port).
fn settings<'a>(authority: &'a str, https: bool, creds: Credentials<'a>) -> Settings<'a> {
    Settings::new(Origin::from_authority(authority, https).unwrap(), creds)
}

#[macro_use]
mod scenarios;

struct Std(SocketAddr);

/// Connects to the origin asked for: the emulator's API (at `self.0`) or
/// the other origins its redirects point at.
impl blocking::Connector for Std {
    type Connection = FromStd<TcpStream>;
    fn connect(
        &mut self,
        origin: &lastline_embedded::Origin<'_>,
    ) -> Result<Self::Connection, Error> {
        let addr: SocketAddr = format!("{}:{}", origin.host, origin.port)
            .parse()
            .unwrap_or(self.0);
        let s = TcpStream::connect(addr).map_err(|e| Error::Io(embedded_io::Error::kind(&e)))?;
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

use scenarios::fast_retry;

fn eicar_sample() -> Vec<u8> {
    let mut v = b"captured: ".to_vec();
    v.extend_from_slice(EICAR);
    v
}

macro_rules! client {
    ($emu:expr, $host:ident, $key:ident, $token:ident, $auth:expr) => {{
        let mut opts = settings(
            &$host,
            false,
            Credentials::new(&$key, Some(&$token)).unwrap(),
        );
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
    let seen = every_method!(
        c,
        dl_embedded,
        |c: &mut blocking::Client<'_, Std, Clock, 2048, 1024>| {
            let first = c
                .submit_hash_first(&mut SliceSample(&sample), SubmitFile::default())
                .unwrap();
            assert!(first.uploaded);
            first
        },
        &sample
    );
    assert!(seen.len() > 25);
    scenarios::assert_every_method_called(&emu);
    // The same sample again: the server knows its hash, nothing is uploaded.
    let again = c
        .submit_hash_first(&mut SliceSample(&sample), SubmitFile::default())
        .unwrap();
    assert!(!again.uploaded);

    let mut cursor = CompletionCursor::<32>::new(Timestamp::from_unix(0).unwrap());
    let mut completed = vec![];
    c.completions(&mut cursor, &mut |t| completed.push((t.task_uuid, t.score)))
        .unwrap();
    assert!(completed.iter().any(|&(_, s)| s == Some(100)));
    // The next page repeats nothing.
    let mut again_seen = 0;
    c.completions(&mut cursor, &mut |_| again_seen += 1)
        .unwrap();
    assert_eq!(again_seen, 0);
    // A lighter decoder for get_result.
    let summary = c
        .call_with::<_, ResultSummaryDecoder>(
            &GetResult {
                score_only: Some(true),
                ..GetResult::new(again.submission.task_uuid)
            },
            None,
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(summary.score, Some(100));
}

#[test]
fn faults_end_in_success_or_the_right_error() {
    let emu = Emulator::start(Config::default()).unwrap();
    let (key, token) = emu.credentials();
    let host = emu.addr().to_string();
    let mut c = client!(emu, host, key, token, AuthMode::Basic);
    fault_matrix!(
        emu,
        c,
        |c: &mut blocking::Client<'_, Std, Clock, 2048, 1024>, bytes: Vec<u8>| {
            c.submit_hash_first(&mut SliceSample(&bytes), SubmitFile::default())
        },
        |e: &Error| e.core() == Some(&lastline_core::Error::PayloadTooLarge)
    );
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
    fn connect(&mut self, _: &lastline_embedded::Origin<'_>) -> Result<Stuck, Error> {
        Ok(Stuck)
    }
}

#[test]
fn a_zero_write_is_a_closed_connection_not_a_panic() {
    let creds = Credentials::new("k", Some("t")).unwrap();
    let mut c: blocking::Client<'_, _, _> = blocking::Client::new(
        StuckConnector,
        blocking::NoRetry,
        settings("h", true, creds),
    );
    let e = c.call(&Ping, |_| {}).unwrap_err();
    assert_eq!(
        e.core(),
        Some(&lastline_core::Error::Transport(
            lastline_core::Transport::Closed
        )),
        "{e:?}"
    );
    let s = SliceSample(b"abc");
    assert_eq!(s.len(), 3);
}

/// A download sink that can start over.
struct Restartable(Vec<u8>, u32);

impl lastline_embedded::DownloadSink for Restartable {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }
    fn restart(&mut self) -> bool {
        self.0.clear();
        self.1 += 1;
        true
    }
}

static BLOCKING_EVENTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn count_blocking(_: &lastline_embedded::Event) {
    BLOCKING_EVENTS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

/// Checks what the emulator saw of the policy scenario below.
fn assert_policy_log(emu: &Emulator) {
    use lastline_emulator::Origin;
    let log = emu.log().entries();
    let downloads: Vec<_> = log
        .iter()
        .filter(|e| e.api_method == Some("get_results"))
        .collect();
    assert!(downloads.len() >= 5, "{downloads:?}");
    assert!(
        downloads
            .iter()
            .all(|e| e.credentials == [lastline_emulator::CredentialSource::Cookie]),
        "{downloads:?}"
    );
    // The first login, and one after the 122.
    let logins = log
        .iter()
        .filter(|e| e.api_method == Some("login") && e.status == 200);
    assert_eq!(logins.count(), 2);
    for e in log.iter().filter(|e| e.origin != Origin::Api) {
        assert!(e.credentials.is_empty() && e.violations.is_empty(), "{e:?}");
    }
}

/// Arms the faults of the policy scenario: 107 and 503 on a download,
/// then (after the first download) 122 and a reset mid-body.
fn arm_download_faults(emu: &Emulator) {
    use lastline_emulator::{Fault, FaultRule};
    emu.faults()
        .add(FaultRule::new(Some("get_results"), Fault::Unavailable, 1));
    emu.faults().add(FaultRule::new(
        Some("get_results"),
        Fault::ServerError {
            status: 503,
            retry_after: None,
        },
        1,
    ));
}

fn arm_later_faults(emu: &Emulator) {
    use lastline_emulator::{Fault, FaultRule};
    emu.faults()
        .add(FaultRule::new(Some("get_results"), Fault::SessionGone, 1));
    emu.faults()
        .add(FaultRule::new(Some("get_results"), Fault::ResetMidBody, 1));
    // No datacenter redirect here: it would redirect the re-login to
    // another origin, whose cookie is never taken (session fixation).
}

#[test]
fn the_policy_over_the_emulator_blocking() {
    use lastline_core::request::{GetResults, ResultsFormat};
    let emu = Emulator::start(Config::default()).unwrap();
    let (key, token) = emu.credentials();
    let host = emu.addr().to_string();
    let mut c = client!(emu, host, key, token, AuthMode::Session);
    c.set_event_hook(count_blocking);
    let task = c
        .submit_hash_first(&mut SliceSample(&eicar_sample()), SubmitFile::default())
        .unwrap()
        .submission
        .task_uuid;
    let pdf = GetResults {
        format: ResultsFormat::Pdf,
        ..GetResults::new(task)
    };
    arm_download_faults(&emu);
    let mut first = Restartable(Vec::new(), 0);
    c.download(&pdf, &mut first).unwrap();
    assert!(first.0.starts_with(b"%PDF"));
    arm_later_faults(&emu);
    let mut second = Restartable(Vec::new(), 0);
    c.download(&pdf, &mut second).unwrap();
    assert_eq!(second.0, first.0, "whole again after the restart");
    assert_eq!(second.1, 1);
    assert_eq!(c.call(&Ping, |_| {}).unwrap().as_str(), "pong");
    emu.faults().set(|f| f.connection_close = true);
    for _ in 0..3 {
        assert_eq!(c.call(&Ping, |_| {}).unwrap().as_str(), "pong");
    }
    assert_policy_log(&emu);
    assert!(BLOCKING_EVENTS.load(std::sync::atomic::Ordering::SeqCst) >= 4);
}

mod asynchronous {
    use embedded_io_adapters::tokio_1::FromTokio;
    use lastline_embedded::asynch;

    use super::*;

    struct Tokio(SocketAddr);

    impl asynch::Connector for Tokio {
        type Connection = FromTokio<tokio::net::TcpStream>;
        async fn connect(
            &mut self,
            origin: &lastline_embedded::Origin<'_>,
        ) -> Result<Self::Connection, Error> {
            let addr: SocketAddr = format!("{}:{}", origin.host, origin.port)
                .parse()
                .unwrap_or(self.0);
            let s = tokio::net::TcpStream::connect(addr)
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

    static ASYNC_EVENTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    fn count_async(_: &lastline_embedded::Event) {
        ASYNC_EVENTS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_policy_over_the_emulator_async() {
        use lastline_core::request::{GetResults, ResultsFormat};
        let emu = Emulator::start(Config::default()).unwrap();
        let (key, token) = emu.credentials();
        let host = emu.addr().to_string();
        let mut opts = settings(&host, false, Credentials::new(&key, Some(&token)).unwrap());
        opts.auth = AuthMode::Session;
        opts.retry = fast_retry();
        let mut c = asynch::Client::<_, _, 2048, 1024>::new(
            Tokio(emu.addr()),
            TokioClock(Instant::now()),
            opts,
        );
        c.set_event_hook(count_async);
        let task = c
            .submit_hash_first(&mut SliceSample(&eicar_sample()), SubmitFile::default())
            .await
            .unwrap()
            .submission
            .task_uuid;
        let pdf = GetResults {
            format: ResultsFormat::Pdf,
            ..GetResults::new(task)
        };
        arm_download_faults(&emu);
        let mut first = Restartable(Vec::new(), 0);
        c.download(&pdf, &mut first).await.unwrap();
        assert!(first.0.starts_with(b"%PDF"));
        arm_later_faults(&emu);
        let mut second = Restartable(Vec::new(), 0);
        c.download(&pdf, &mut second).await.unwrap();
        assert_eq!(second.0, first.0);
        assert_eq!(second.1, 1);
        assert_eq!(c.call(&Ping, |_| {}).await.unwrap().as_str(), "pong");
        emu.faults().set(|f| f.connection_close = true);
        for _ in 0..3 {
            assert_eq!(c.call(&Ping, |_| {}).await.unwrap().as_str(), "pong");
        }
        assert_policy_log(&emu);
        assert!(ASYNC_EVENTS.load(std::sync::atomic::Ordering::SeqCst) >= 4);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn async_client_same_results() {
        let emu = Emulator::start(Config::default()).unwrap();
        let (key, token) = emu.credentials();
        let host = emu.addr().to_string();
        let mut opts = settings(&host, false, Credentials::new(&key, Some(&token)).unwrap());
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
            &mut |d: &[u8]| {
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
        settings("scripted", true, creds),
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
        &mut |d: &[u8]| {
            got.extend_from_slice(d);
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(got, pdf);
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 3);
}

/// A connector that has no connection to give (the caller opened the only
/// one, as the sensor example does with its TLS session).
struct NoReconnect;

impl blocking::Connector for NoReconnect {
    type Connection = FromStd<TcpStream>;
    fn connect(&mut self, _: &lastline_embedded::Origin<'_>) -> Result<Self::Connection, Error> {
        Err(Error::Closed)
    }
}

#[test]
fn a_client_given_an_open_connection_uses_it_and_asks_the_connector_only_after() {
    let (addr, seen) = scripted(vec![vec![pong(), pong()]]);
    let stream = TcpStream::connect(addr).unwrap();
    let creds = Credentials::new("k", Some("t")).unwrap();
    let mut c: blocking::Client<'_, _, _> = blocking::Client::with_connection(
        NoReconnect,
        FromStd::new(stream),
        blocking::NoRetry,
        settings("scripted", true, creds),
    );
    assert_eq!(c.call(&Ping, |_| {}).unwrap().as_str(), "pong");
    // Kept alive: the same connection carries the second request.
    assert_eq!(c.call(&Ping, |_| {}).unwrap().as_str(), "pong");
    // The server then closed it; a new one must come from the connector,
    // which has none: the call ends at once (no retry of a refusal).
    let e = c.call(&Ping, |_| {}).unwrap_err();
    assert_eq!(
        e.core(),
        Some(&lastline_core::Error::Transport(
            lastline_core::Transport::Refused
        )),
        "{e:?}"
    );
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 2);
}

fn failure(code: u32, message: &str) -> Vec<u8> {
    let body = format!(r#"{{"success": 0, "error_code": {code}, "error": "{message}"}}"#);
    [
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
        body.as_bytes(),
    ]
    .concat()
}

#[test]
fn a_failure_envelope_gives_its_code_and_its_message_in_the_error() {
    // One connection: a failure envelope read whole leaves it usable.
    let (addr, seen) = scripted(vec![vec![failure(106, r#"no \"result\" yet"#), pong()]]);
    let mut c = no_retry_client(addr);
    let e = c.call(&Ping, |_| {}).unwrap_err();
    assert_eq!(e.api_code(), Some(ErrorCode::NoResultFound), "{e:?}");
    let Error::Exchange(f) = &e else {
        panic!("{e:?}")
    };
    let m = f.message.as_ref().unwrap();
    assert_eq!((m.text.as_str(), m.truncated), ("no \"result\" yet", false));
    assert_eq!((f.status, f.attempts), (Some(200), 1));
    assert!(e.to_string().contains("no \"result\" yet"), "{e}");
    c.call(&Ping, |_| {}).unwrap();
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[test]
fn no_sessions_never_logs_in_even_when_asked_to() {
    let (addr, seen) = scripted(vec![vec![pong(), pong()]]);
    let creds = Credentials::new("k", Some("t")).unwrap();
    let opts = Settings {
        auth: AuthMode::Session,
        ..settings("scripted", true, creds)
    };
    let mut c: blocking::Client<'_, _, _, 2048, 512, false> =
        blocking::Client::new(Std(addr), blocking::NoRetry, opts);
    // A client with sessions would log in first in session mode (a
    // request the script does not answer); here each call is one request.
    assert_eq!(c.call(&Ping, |_| {}).unwrap().as_str(), "pong");
    assert_eq!(c.call(&Ping, |_| {}).unwrap().as_str(), "pong");
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 2);
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
        settings(&host, false, creds),
    );
    emu.faults().set(|f| f.unavailable_next = 1);
    let e = c.call(&Ping, |_| {}).unwrap_err();
    assert_eq!(e.api_code(), Some(ErrorCode::TemporarilyUnavailable));
    assert_eq!(c.call(&Ping, |_| {}).unwrap().as_str(), "pong");
}

#[test]
fn an_upload_far_over_the_limit_ends_in_413_not_a_broken_pipe() {
    let emu = Emulator::start(Config {
        upload_limit: 10_000,
        forget_files: true,
        ..Config::default()
    })
    .unwrap();
    let (key, token) = emu.credentials();
    let host = emu.addr().to_string();
    let mut c = client!(emu, host, key, token, AuthMode::Basic);
    // Far more than the socket buffers hold: the server answers 413 and
    // closes while the upload is still being written.
    let big = vec![0x5a_u8; 16 << 20];
    let e = c
        .submit_hash_first(&mut SliceSample(&big), SubmitFile::default())
        .unwrap_err();
    assert_eq!(e.core(), Some(&lastline_core::Error::PayloadTooLarge));
    let refused = emu
        .log()
        .entries()
        .iter()
        .filter(|e| e.status == 413)
        .count();
    assert_eq!(refused, 1, "a 413 is final: the upload is not retried");
}

#[test]
fn a_sink_that_fails_ends_the_download_with_its_error() {
    let emu = Emulator::start(Config::default()).unwrap();
    let (key, token) = emu.credentials();
    let host = emu.addr().to_string();
    let mut c = client!(emu, host, key, token, AuthMode::Basic);
    let sample = eicar_sample();
    let task = c
        .submit_hash_first(&mut SliceSample(&sample), SubmitFile::default())
        .unwrap()
        .submission
        .task_uuid;
    let e = c
        .download(
            &GetResults {
                format: ResultsFormat::Pdf,
                ..GetResults::new(task)
            },
            &mut |_: &[u8]| Err(Error::Sink(embedded_io::ErrorKind::OutOfMemory)),
        )
        .unwrap_err();
    assert_eq!(e, Error::Sink(embedded_io::ErrorKind::OutOfMemory));
    assert!(!e.is_retryable());
    // The connection is usable again afterwards.
    assert_eq!(c.call(&Ping, |_| {}).unwrap().as_str(), "pong");
}

/// Open shapes in every form the emulator serves — technique information
/// as objects (rich) and as ids (plain), absent (optional members left
/// out), and far larger than the client's 1 KiB unit buffer (~300 KB for
/// one activity, an activity name over 64 bytes) — give the result without
/// a heap: a huge entry is skipped and counted, the others are read.
#[test]
fn open_shapes_in_every_served_form_decode_without_a_heap() {
    use lastline_core::decoders::ResultItem;
    use lastline_emulator::{Reading, Shapes};
    for (reading, omit_optional, large_open) in [
        (Reading::Rich, false, true),
        (Reading::Plain, false, true),
        (Reading::Rich, true, false),
    ] {
        let emu = Emulator::start(Config {
            shapes: Shapes {
                reading,
                omit_optional,
                large_open,
                ..Shapes::default()
            },
            ..Config::default()
        })
        .unwrap();
        let (key, token) = emu.credentials();
        let host = emu.addr().to_string();
        let mut c = client!(emu, host, key, token, AuthMode::Basic);
        let sample = eicar_sample();
        let task = c
            .submit_hash_first(&mut SliceSample(&sample), SubmitFile::default())
            .unwrap()
            .submission
            .task_uuid;
        let mut activities = vec![];
        let mut ids = 0;
        let result = c
            .call(&GetResults::new(task), |i| {
                if let ResultItem::MitreTechniques {
                    activity,
                    techniques,
                    ..
                } = i
                {
                    activities.push(activity.to_string());
                    ids += techniques.len();
                }
            })
            .unwrap();
        let case = format!("{reading:?}, omit {omit_optional}, large {large_open}");
        assert_eq!(result.score, Some(100), "{case}");
        if omit_optional {
            assert!(activities.is_empty(), "{case}: {activities:?}");
            continue;
        }
        assert_eq!(result.open_entries_skipped, 1, "{case}: the 300 KB entry");
        assert!(
            activities
                .iter()
                .any(|a| a == lastline_emulator::LONG_ACTIVITY),
            "{case}: {activities:?}"
        );
        assert_eq!(activities.len(), 3, "{case}: {activities:?}");
        assert_eq!(ids, 4, "{case}: T1027, T1562.001, T1204.002, T1497.001");
    }
}
