//! The exchange machine against a scripted in-memory server with simulated
//! time: each rule of the policy (session, retries, Retry-After,
//! reconnect, redirects, downloads restarted) for calls and downloads, and
//! a property test of random fault scripts.
#![allow(clippy::result_large_err)]

use std::collections::VecDeque;

use lastline_core::decoders::{StringData, Submission, SubmitDecoder};
use lastline_core::exchange::{
    AuthMode, BodyTap, Drive, Driven, Event, Exchange, Failure, Link, Origin, Settings, Step,
};
use lastline_core::request::{GetExportedReport, Ping, Request, SubmitFile};
use lastline_core::types::Uuid;
use lastline_core::workflow::RetryPolicy;
use lastline_core::{Credentials, Error, ErrorCode, Transport};
use proptest::prelude::*;

const SERVER: u16 = 8642;
const CDN: u16 = 9000;

/// What the scripted server does with one request.
#[derive(Clone, Debug)]
enum Answer {
    /// These bytes, then it waits for the next request.
    Bytes(Vec<u8>),
    /// These bytes, then it closes.
    ThenClose(Vec<u8>),
    /// These bytes, then the connection breaks (a reset).
    ThenReset(Vec<u8>),
    /// No answer: the read times out.
    Silence,
}

/// One connection's script; `None` for a connection that cannot be opened.
type ConnScript = Option<(u16, Vec<Answer>)>;

struct Conn {
    port: u16,
    answers: VecDeque<Answer>,
    out: VecDeque<u8>,
    ending: Option<Answer>,
    request: Vec<u8>,
}

/// The scripted server and the record of what it saw.
struct Server {
    scripts: VecDeque<ConnScript>,
    conn: Option<Conn>,
    /// Every request: the port it reached and its bytes.
    requests: Vec<(u16, Vec<u8>)>,
    connections: u32,
    /// Instead of per-connection scripts: answers for whatever request
    /// comes next, on any origin (logins answered in place), then `last`.
    queue: Option<(VecDeque<Answer>, Answer)>,
}

impl Server {
    fn new(scripts: Vec<ConnScript>) -> Self {
        Self {
            scripts: scripts.into(),
            conn: None,
            requests: Vec::new(),
            connections: 0,
            queue: None,
        }
    }

    fn queued(answers: Vec<Answer>, last: Answer) -> Self {
        let mut s = Self::new(vec![]);
        s.queue = Some((answers.into(), last));
        s
    }

    fn requests_to(&self, port: u16) -> Vec<String> {
        self.requests
            .iter()
            .filter(|(p, _)| *p == port)
            .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
            .collect()
    }
}

/// What a driver run saw.
#[derive(Debug, Default)]
struct Run {
    events: Vec<Event>,
    sleeps: Vec<u64>,
    sink: Vec<u8>,
    restarts: u32,
    samples_sent: u32,
    now: u64,
}

struct Options<'s> {
    read_chunk: usize,
    sample: &'s [u8],
    restartable: bool,
}

const DEFAULT: Options<'static> = Options {
    read_chunk: 4096,
    sample: b"",
    restartable: true,
};

/// What the driver below needs of an exchange: a typed [`Exchange`], or a
/// [`Driven`] one (the face real drivers use), its entries as `()`.
trait Machine {
    type Out;
    fn step(&mut self, now: u64, random: u32) -> Step<'_, (), Self::Out>;
    fn failed(&mut self, how: Transport);
    fn received(&mut self, n: usize);
    fn cannot_restart(&mut self);
    fn keeps_connection(&self) -> bool;
}

/// The same step with its entry dropped.
fn untyped<I, O>(step: Step<'_, I, O>) -> Step<'_, (), O> {
    match step {
        Step::Connect(o) => Step::Connect(o),
        Step::Write(b) => Step::Write(b),
        Step::SendSample { len, scratch } => Step::SendSample { len, scratch },
        Step::Read(space) => Step::Read(space),
        Step::Sleep { until_ms } => Step::Sleep { until_ms },
        Step::Item(_) => Step::Item(()),
        Step::Data(d) => Step::Data(d),
        Step::RestartSink => Step::RestartSink,
        Step::Event(e) => Step::Event(e),
        Step::Done(r) => Step::Done(r),
    }
}

impl<R: Request, D: lastline_core::envelope::DataDecoder + Default, const N: usize> Machine
    for Exchange<'_, R, D, N>
{
    type Out = D::Output;
    fn step(&mut self, now: u64, random: u32) -> Step<'_, (), D::Output> {
        untyped(self.poll(now, random))
    }
    fn failed(&mut self, how: Transport) {
        Exchange::failed(self, how)
    }
    fn received(&mut self, n: usize) {
        Exchange::received(self, n)
    }
    fn cannot_restart(&mut self) {
        Exchange::cannot_restart(self)
    }
    fn keeps_connection(&self) -> bool {
        Exchange::keeps_connection(self)
    }
}

impl<T: Drive> Machine for &mut T {
    type Out = ();
    fn step(&mut self, now: u64, random: u32) -> Step<'_, (), ()> {
        untyped(self.poll(now, random))
    }
    fn failed(&mut self, how: Transport) {
        Drive::failed(*self, how)
    }
    fn received(&mut self, n: usize) {
        Drive::received(*self, n)
    }
    fn cannot_restart(&mut self) {
        Drive::cannot_restart(*self)
    }
    fn keeps_connection(&self) -> bool {
        Drive::keeps_connection(*self)
    }
}

/// Drives one exchange against the server, with simulated time.
fn drive<M: Machine>(
    mut ex: M,
    server: &mut Server,
    run: &mut Run,
    o: &Options<'_>,
) -> (Result<M::Out, Failure>, bool) {
    let mut random = 0x1234_5678u32;
    for _ in 0..100_000 {
        random = random.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        match ex.step(run.now, random) {
            Step::Connect(origin) => {
                if std::env::var("TRACE").is_ok() {
                    eprintln!("connect {origin:?}");
                }
                server.connections += 1;
                server.conn = None;
                let next = match &server.queue {
                    Some(_) => Some(Some((origin.port, vec![]))),
                    None => server.scripts.pop_front(),
                };
                match next {
                    Some(Some((port, answers))) => {
                        assert_eq!(origin.port, port, "connected to the wrong origin");
                        server.conn = Some(Conn {
                            port,
                            answers: answers.into(),
                            out: VecDeque::new(),
                            ending: None,
                            request: Vec::new(),
                        });
                    }
                    _ => ex.failed(Transport::Connect),
                }
            }
            Step::Write(bytes) => match &mut server.conn {
                Some(c) if c.ending.is_none() || !c.out.is_empty() => {
                    c.request.extend_from_slice(bytes)
                }
                _ => ex.failed(Transport::Closed),
            },
            Step::SendSample { len, .. } => {
                assert_eq!(len, o.sample.len() as u64);
                run.samples_sent += 1;
                match &mut server.conn {
                    Some(c) => c.request.extend_from_slice(o.sample),
                    None => ex.failed(Transport::Closed),
                }
            }
            Step::Read(space) => {
                let Some(c) = &mut server.conn else {
                    ex.failed(Transport::Closed);
                    continue;
                };
                if !c.request.is_empty() {
                    // The request is complete: it gets the next answer.
                    let request = std::mem::take(&mut c.request);
                    let queued = server.queue.as_mut().map(|(q, last)| {
                        if request.starts_with(b"POST /authentication/login") {
                            login_ok("c")
                        } else {
                            q.pop_front().unwrap_or_else(|| last.clone())
                        }
                    });
                    server.requests.push((c.port, request));
                    match queued.or_else(|| c.answers.pop_front()) {
                        Some(Answer::Bytes(b)) => c.out.extend(b),
                        Some(a @ (Answer::ThenClose(_) | Answer::ThenReset(_))) => {
                            if let Answer::ThenClose(b) | Answer::ThenReset(b) = &a {
                                c.out.extend(b.iter().copied());
                            }
                            c.ending = Some(a);
                        }
                        Some(Answer::Silence) => c.ending = Some(Answer::Silence),
                        // Nothing more scripted: the server closed it.
                        None => c.ending = Some(Answer::ThenClose(vec![])),
                    }
                }
                if c.out.is_empty() {
                    match c.ending.take() {
                        Some(Answer::ThenReset(_)) => ex.failed(Transport::Closed),
                        Some(Answer::Silence) => ex.failed(Transport::TimedOut),
                        _ => ex.received(0),
                    }
                    server.conn = None;
                    continue;
                }
                let n = space.len().min(o.read_chunk).min(c.out.len());
                for (i, b) in c.out.drain(..n).enumerate() {
                    space[i] = b;
                }
                ex.received(n);
            }
            Step::Sleep { until_ms } => {
                assert!(until_ms > run.now, "a sleep into the past");
                run.sleeps.push(until_ms - run.now);
                run.now = until_ms;
            }
            Step::Item(_) => {}
            Step::Data(d) => run.sink.extend_from_slice(d),
            Step::RestartSink => {
                run.restarts += 1;
                if o.restartable {
                    run.sink.clear();
                } else {
                    ex.cannot_restart();
                }
            }
            Step::Event(e) => {
                if std::env::var("TRACE").is_ok() {
                    eprintln!("event {e:?}");
                }
                run.events.push(e)
            }
            Step::Done(r) => {
                let keep = ex.keeps_connection();
                if !keep {
                    server.conn = None;
                }
                return (r, keep);
            }
        }
    }
    panic!("the exchange did not end");
}

fn http(status: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut h = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for x in headers {
        h.push_str(x);
        h.push_str("\r\n");
    }
    h.push_str("\r\n");
    [h.as_bytes(), body].concat()
}

fn json(body: &str) -> Vec<u8> {
    http(
        "200 OK",
        &["Content-Type: application/json"],
        body.as_bytes(),
    )
}

fn pong() -> Answer {
    Answer::Bytes(json(r#"{"success": 1, "data": "pong"}"#))
}

fn api_error(code: u32, msg: &str) -> Answer {
    Answer::Bytes(json(&format!(
        r#"{{"success": 0, "error_code": {code}, "error": "{msg}"}}"#
    )))
}

fn login_ok(cookie: &str) -> Answer {
    Answer::Bytes(http(
        "200 OK",
        &[
            "Content-Type: application/json",
            &format!("Set-Cookie: ll_session={cookie}; Path=/"),
        ],
        br#"{"success": 1, "data": "success"}"#,
    ))
}

fn redirect(status: &str, location: &str) -> Answer {
    Answer::Bytes(http(status, &[&format!("Location: {location}")], b""))
}

fn settings(auth: AuthMode) -> Settings<'static> {
    let mut s = Settings::new(
        Origin {
            https: false,
            host: "127.0.0.1",
            port: SERVER,
        },
        Credentials::new("the-key", Some("the-token")).unwrap(),
    );
    s.auth = auth;
    s.retry = RetryPolicy::default();
    s
}

fn ping(
    s: &Settings<'_>,
    link: &mut Link,
    server: &mut Server,
    run: &mut Run,
) -> Result<String, Failure> {
    let mut buf = [0u8; 2048];
    let ex = Exchange::<_, StringData, 64>::call(&Ping, s, link, &mut buf);
    drive(ex, server, run, &DEFAULT).0.map(|s| s.to_string())
}

fn exported() -> GetExportedReport {
    GetExportedReport {
        exported_report_uuid: Uuid::parse("0123456789abcdef0123456789abcdef").unwrap(),
        cdn: None,
    }
}

fn download(
    s: &Settings<'_>,
    link: &mut Link,
    server: &mut Server,
    run: &mut Run,
    o: &Options<'_>,
) -> Result<(), Failure> {
    let mut buf = [0u8; 1024];
    let req = exported();
    let ex = Exchange::download(&req, s, link, &mut buf);
    drive(ex, server, run, o).0
}

fn pdf(n: usize) -> Vec<u8> {
    (0..n).map(|i| b"%PDF-report "[i % 12]).collect()
}

fn carries_credentials(request: &str) -> bool {
    let lower = request.to_ascii_lowercase();
    lower.contains("authorization:")
        || lower.contains("cookie:")
        || lower.contains("the-key")
        || lower.contains("the-token")
}

#[test]
fn session_logs_in_first_and_again_once_on_122() {
    let s = settings(AuthMode::Session);
    let mut link = Link::new();
    let mut run = Run::default();
    let mut server = Server::new(vec![Some((
        SERVER,
        vec![
            login_ok("one"),
            api_error(122, "session expired"),
            login_ok("two"),
            pong(),
        ],
    ))]);
    assert_eq!(ping(&s, &mut link, &mut server, &mut run).unwrap(), "pong");
    assert_eq!(run.events, [Event::Relogin]);
    let r = server.requests_to(SERVER);
    assert_eq!(r.len(), 4);
    assert!(r[0].starts_with("POST /authentication/login.json") && r[0].contains("key=the-key"));
    assert!(r[1].contains("Cookie: ll_session=one") && !r[1].contains("Authorization"));
    assert!(r[2].starts_with("POST /authentication/login.json"));
    assert!(r[3].contains("Cookie: ll_session=two"));
    // The next exchange reuses the cookie and the connection.
    server.scripts.push_back(None);
    server.conn = Some(Conn {
        port: SERVER,
        answers: vec![pong()].into(),
        out: VecDeque::new(),
        ending: None,
        request: vec![],
    });
    assert!(link.connection_open());
    assert_eq!(ping(&s, &mut link, &mut server, &mut run).unwrap(), "pong");
    assert!(server.requests_to(SERVER)[4].contains("Cookie: ll_session=two"));
    // 122 right after a fresh login: the session cannot be kept.
    let mut link = Link::new();
    let mut server = Server::new(vec![Some((
        SERVER,
        vec![
            login_ok("a"),
            api_error(122, "no"),
            login_ok("b"),
            api_error(122, "no again"),
        ],
    ))]);
    let e = ping(&s, &mut link, &mut server, &mut Run::default()).unwrap_err();
    assert_eq!(e.error, Error::SessionExpired);
}

#[test]
fn a_redirected_login_is_still_the_login() {
    let s = settings(AuthMode::Session);
    let mut server = Server::new(vec![
        Some((
            SERVER,
            vec![redirect("307 Temporary Redirect", "/dc/login.json")],
        )),
        Some((SERVER, vec![login_ok("moved"), pong()])),
    ]);
    let mut run = Run::default();
    assert_eq!(
        ping(&s, &mut Link::new(), &mut server, &mut run).unwrap(),
        "pong"
    );
    let r = server.requests_to(SERVER);
    assert!(
        r[1].starts_with("POST /dc/login.json HTTP/1.1") && r[1].contains("key=the-key"),
        "{}",
        r[1]
    );
    assert!(
        r[2].starts_with("GET /authentication/ping.json")
            && r[2].contains("Cookie: ll_session=moved"),
        "{}",
        r[2]
    );
}

#[test]
fn a_download_in_session_mode_logs_in_and_a_401_logs_in_again() {
    let s = settings(AuthMode::Session);
    let mut link = Link::new();
    let mut run = Run::default();
    let body = pdf(3000);
    // A refused download's body is not read: its connection is dropped.
    let mut server = Server::new(vec![
        Some((
            SERVER,
            vec![
                login_ok("s1"),
                Answer::Bytes(http(
                    "401 Unauthorized",
                    &["Content-Type: text/plain"],
                    b"denied",
                )),
            ],
        )),
        Some((
            SERVER,
            vec![
                login_ok("s2"),
                Answer::Bytes(http("200 OK", &["Content-Type: application/pdf"], &body)),
            ],
        )),
    ]);
    download(&s, &mut link, &mut server, &mut run, &DEFAULT).unwrap();
    assert_eq!(run.sink, body);
    assert_eq!(run.events, [Event::Relogin]);
    let r = server.requests_to(SERVER);
    assert!(
        r[1].starts_with("GET /analysis/get_exported_report?")
            && r[1].contains("Cookie: ll_session=s1")
    );
    assert!(!r[1].contains("Authorization"));
    assert!(r[3].contains("Cookie: ll_session=s2"));
}

#[test]
fn unavailable_is_retried_on_the_schedule_and_the_error_says_everything() {
    let s = settings(AuthMode::Basic);
    let mut run = Run::default();
    let mut server = Server::new(vec![Some((
        SERVER,
        vec![api_error(107, "busy"), api_error(107, "busy"), pong()],
    ))]);
    assert_eq!(
        ping(&s, &mut Link::new(), &mut server, &mut run).unwrap(),
        "pong"
    );
    let retries: Vec<u32> = run
        .events
        .iter()
        .map(|e| match e {
            Event::Retry { attempt, .. } => *attempt,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(retries, [1, 2]);
    // Full jitter in [cap/2, cap]: 250..=500, then 500..=1000 ms.
    assert!(
        (250..=500).contains(&run.sleeps[0]) && (500..=1000).contains(&run.sleeps[1]),
        "{:?}",
        run.sleeps
    );
    assert_eq!(
        server.connections, 1,
        "a failure envelope keeps the connection"
    );
    // Always 107: the schedule gives up with the server's message.
    let answers = vec![api_error(107, "the sandbox is busy"); 10];
    let mut server = Server::new(vec![Some((SERVER, answers))]);
    let e = ping(&s, &mut Link::new(), &mut server, &mut Run::default()).unwrap_err();
    assert_eq!(e.error.api_code(), Some(ErrorCode::TemporarilyUnavailable));
    assert_eq!(e.attempts, RetryPolicy::default().max_attempts);
    assert_eq!(e.status, Some(200));
    assert_eq!(
        e.message.as_ref().unwrap().text.as_str(),
        "the sandbox is busy"
    );
    let shown = e.to_string();
    assert!(
        shown.contains("the sandbox is busy") && shown.contains("after 6 attempts"),
        "{shown}"
    );
    // A non-retryable API error ends at once, with its message.
    let mut server = Server::new(vec![Some((SERVER, vec![api_error(104, "Invalid pair")]))]);
    let e = ping(&s, &mut Link::new(), &mut server, &mut Run::default()).unwrap_err();
    assert_eq!(
        (e.attempts, e.message.unwrap().text.as_str()),
        (1, "Invalid pair")
    );
}

#[test]
fn retry_after_is_honoured_in_seconds_and_capped() {
    let s = settings(AuthMode::Basic);
    let page = |status: &str, ra: &str| {
        Answer::ThenClose(http(
            status,
            &["Content-Type: text/html", &format!("Retry-After: {ra}")],
            b"<html>busy</html>",
        ))
    };
    for (status, ra, least) in [
        ("503 Service Unavailable", "5", 5000),
        ("429 Too Many Requests", "2", 2000),
        ("503 Service Unavailable", "3600", 60_000),
    ] {
        let mut run = Run::default();
        let mut server = Server::new(vec![
            Some((SERVER, vec![page(status, ra)])),
            Some((SERVER, vec![pong()])),
        ]);
        assert_eq!(
            ping(&s, &mut Link::new(), &mut server, &mut run).unwrap(),
            "pong"
        );
        assert_eq!(run.sleeps.len(), 1);
        let slept = run.sleeps[0];
        assert!(slept >= least, "{status} Retry-After {ra}: slept {slept}");
        assert!(slept <= least.max(500), "capped: {slept}");
    }
    // Retry-After as an HTTP date: measured against the answer's Date.
    let mut run = Run::default();
    let dated = Answer::ThenClose(http(
        "503 Service Unavailable",
        &[
            "Date: Sun, 06 Nov 1994 08:49:37 GMT",
            "Retry-After: Sun, 06 Nov 1994 08:49:44 GMT",
        ],
        b"",
    ));
    let mut server = Server::new(vec![
        Some((SERVER, vec![dated])),
        Some((SERVER, vec![pong()])),
    ]);
    ping(&s, &mut Link::new(), &mut server, &mut run).unwrap();
    assert!(run.sleeps[0] >= 7000, "{:?}", run.sleeps);
    // 5xx without Retry-After: the schedule alone.
    let mut run = Run::default();
    let mut server = Server::new(vec![
        Some((
            SERVER,
            vec![Answer::ThenClose(http(
                "502 Bad Gateway",
                &["Content-Type: text/html"],
                b"<html/>",
            ))],
        )),
        Some((SERVER, vec![pong()])),
    ]);
    ping(&s, &mut Link::new(), &mut server, &mut run).unwrap();
    assert!(run.sleeps[0] <= 500);
}

#[test]
fn resets_before_and_inside_the_head_and_body_are_retried() {
    let s = settings(AuthMode::Basic);
    let whole = json(r#"{"success": 1, "data": "pong"}"#);
    for cut in [0, 10, whole.len() - 5] {
        let mut run = Run::default();
        let mut server = Server::new(vec![
            Some((SERVER, vec![Answer::ThenReset(whole[..cut].to_vec())])),
            Some((SERVER, vec![pong()])),
        ]);
        assert_eq!(
            ping(&s, &mut Link::new(), &mut server, &mut run).unwrap(),
            "pong",
            "cut at {cut}"
        );
        assert!(
            matches!(run.events[..], [Event::Retry { .. }]),
            "cut at {cut}: {:?}",
            run.events
        );
        assert_eq!(server.connections, 2);
    }
    // Closed (not reset) inside the head or the body: retried as well.
    for cut in [10, whole.len() - 5] {
        let mut run = Run::default();
        let mut server = Server::new(vec![
            Some((SERVER, vec![Answer::ThenClose(whole[..cut].to_vec())])),
            Some((SERVER, vec![pong()])),
        ]);
        assert_eq!(
            ping(&s, &mut Link::new(), &mut server, &mut run).unwrap(),
            "pong",
            "closed at {cut}"
        );
        assert!(
            matches!(run.events[..], [Event::Retry { .. }]),
            "closed at {cut}: {:?}",
            run.events
        );
    }
    // A read that times out: retried too.
    let mut run = Run::default();
    let mut server = Server::new(vec![
        Some((SERVER, vec![Answer::Silence])),
        Some((SERVER, vec![pong()])),
    ]);
    ping(&s, &mut Link::new(), &mut server, &mut run).unwrap();
    assert!(matches!(
        &run.events[..],
        [Event::Retry {
            error: Error::Transport(Transport::TimedOut),
            ..
        }]
    ));
    // No server at all: the schedule gives up with the transport error.
    let mut server = Server::new(vec![None; 10]);
    let e = ping(&s, &mut Link::new(), &mut server, &mut Run::default()).unwrap_err();
    assert_eq!(
        (e.error, e.attempts, e.status),
        (Error::Transport(Transport::Connect), 6, None)
    );
}

/// A body tap that records what it was given and how often it restarted.
#[derive(Default)]
struct Kept {
    body: Vec<u8>,
    restarts: u32,
}

impl BodyTap for Kept {
    fn put(&mut self, bytes: &[u8]) {
        self.body.extend_from_slice(bytes);
    }
    fn restart(&mut self) {
        self.body.clear();
        self.restarts += 1;
    }
}

/// A call that keeps its body: the tap gets the de-framed body, once, even
/// when an attempt was cut mid-body (the tap starts over, the driver's sink
/// is not asked to), and a page that is not an envelope is the call's
/// typed error, not a JSON one.
#[test]
fn a_call_keeping_its_body_restarts_the_tap_and_refuses_what_is_not_an_envelope() {
    let s = settings(AuthMode::Basic);
    let body = br#"{"success": 1, "data": "pong"}"#;
    // Chunked, so the tap must see the body without the chunk framing.
    let chunked = [
        &b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            [..],
        b"7\r\n",
        &body[..7],
        b"\r\n",
        format!("{:x}\r\n", body.len() - 7).as_bytes(),
        &body[7..],
        b"\r\n0\r\n\r\n",
    ]
    .concat();
    for read_chunk in [1, 5, 4096] {
        let mut server = Server::new(vec![
            Some((
                SERVER,
                vec![Answer::ThenReset(chunked[..chunked.len() - 12].to_vec())],
            )),
            Some((SERVER, vec![Answer::Bytes(chunked.clone())])),
        ]);
        let mut run = Run::default();
        let mut buf = [0u8; 512];
        let mut link = Link::new();
        let mut kept = Kept::default();
        let mut none = |_| {};
        let ex = Exchange::<_, StringData, 64>::call(&Ping, &s, &mut link, &mut buf);
        let mut driven = Driven::new(ex, &mut none).keeping_body(&mut kept);
        let o = Options {
            read_chunk,
            ..DEFAULT
        };
        let (r, _) = drive(&mut driven, &mut server, &mut run, &o);
        r.unwrap();
        assert_eq!(driven.output().unwrap().as_str(), "pong");
        drop(driven);
        assert_eq!(kept.body, body, "read in pieces of {read_chunk}");
        assert_eq!(kept.restarts, 1);
        assert_eq!(run.restarts, 0, "the driver's sink is not the call's");
        assert!(matches!(run.events[..], [Event::Retry { .. }]));
    }
    // An HTML page with status 200: NotAnEnvelope, as for any call.
    let html = http(
        "200 OK",
        &["Content-Type: text/html"],
        b"<html><body>Login</body></html>",
    );
    let mut server = Server::new(vec![Some((SERVER, vec![Answer::Bytes(html)]))]);
    let (mut buf, mut link, mut kept) = ([0u8; 512], Link::new(), Kept::default());
    let mut none = |_| {};
    let ex = Exchange::<_, StringData, 64>::call(&Ping, &s, &mut link, &mut buf);
    let mut driven = Driven::new(ex, &mut none).keeping_body(&mut kept);
    let e = drive(&mut driven, &mut server, &mut Run::default(), &DEFAULT)
        .0
        .unwrap_err();
    assert!(
        matches!(e.error, Error::NotAnEnvelope { status: 200, .. }),
        "{e:?}"
    );
}

#[test]
fn a_download_cut_mid_body_restarts_its_sink() {
    let s = settings(AuthMode::Basic);
    let body = pdf(5000);
    let full = http(
        "200 OK",
        &[
            "Content-Type: application/pdf",
            "Content-Disposition: attachment; filename=\"r.pdf\"",
        ],
        &body,
    );
    let o = Options {
        read_chunk: 700,
        ..DEFAULT
    };
    let mut run = Run::default();
    let mut server = Server::new(vec![
        Some((SERVER, vec![Answer::ThenReset(full[..3000].to_vec())])),
        Some((SERVER, vec![Answer::Bytes(full.clone())])),
    ]);
    download(&s, &mut Link::new(), &mut server, &mut run, &o).unwrap();
    assert_eq!(run.sink, body, "restarted, then whole");
    assert_eq!(run.restarts, 1);
    assert!(matches!(run.events[..], [Event::Retry { .. }]));
    // A sink that cannot start over: a typed error says so.
    let o = Options {
        read_chunk: 700,
        restartable: false,
        ..DEFAULT
    };
    let mut server = Server::new(vec![
        Some((SERVER, vec![Answer::ThenReset(full[..3000].to_vec())])),
        Some((SERVER, vec![Answer::Bytes(full.clone())])),
    ]);
    let e = download(&s, &mut Link::new(), &mut server, &mut Run::default(), &o).unwrap_err();
    assert_eq!(e.error, Error::SinkCannotRestart);
    // 107 and 503 on a download are retried like calls.
    let mut run = Run::default();
    let mut server = Server::new(vec![
        Some((SERVER, vec![api_error(107, "busy")])),
        Some((
            SERVER,
            vec![Answer::ThenClose(http(
                "503 Service Unavailable",
                &["Content-Type: text/html"],
                b"<html/>",
            ))],
        )),
        Some((SERVER, vec![Answer::Bytes(full)])),
    ]);
    download(&s, &mut Link::new(), &mut server, &mut run, &DEFAULT).unwrap();
    assert_eq!(run.sink, body);
    assert_eq!(run.events.len(), 2);
    assert_eq!(run.restarts, 0, "nothing had reached the sink");
}

#[test]
fn an_api_error_answered_to_a_download_keeps_its_message() {
    let s = settings(AuthMode::Basic);
    let mut server = Server::new(vec![Some((
        SERVER,
        vec![api_error(106, "no result found (analysis not complete)")],
    ))]);
    let e = download(
        &s,
        &mut Link::new(),
        &mut server,
        &mut Run::default(),
        &DEFAULT,
    )
    .unwrap_err();
    assert_eq!(e.error.api_code(), Some(ErrorCode::NoResultFound));
    assert!(
        e.to_string()
            .contains("no result found (analysis not complete)"),
        "{e}"
    );
}

#[test]
fn a_kept_alive_connection_closed_before_the_answer_reconnects_once() {
    let s = settings(AuthMode::Basic);
    let mut link = Link::new();
    let mut run = Run::default();
    // The first exchange leaves the connection open; the server then
    // closes it idle (its script has nothing more).
    let mut server = Server::new(vec![
        Some((SERVER, vec![pong()])),
        Some((SERVER, vec![pong()])),
    ]);
    ping(&s, &mut link, &mut server, &mut run).unwrap();
    assert!(link.connection_open());
    ping(&s, &mut link, &mut server, &mut run).unwrap();
    assert_eq!(run.events, [Event::Reconnect]);
    assert_eq!(server.connections, 2);
    // The new connection fails too: that is a failure (retried on the
    // schedule), not a second reconnect.
    let mut run = Run::default();
    let mut server = Server::new(vec![
        Some((SERVER, vec![pong()])),
        Some((SERVER, vec![])),
        Some((SERVER, vec![pong()])),
    ]);
    let mut link = Link::new();
    ping(&s, &mut link, &mut server, &mut run).unwrap();
    ping(&s, &mut link, &mut server, &mut run).unwrap();
    assert!(
        matches!(&run.events[..], [Event::Reconnect, Event::Retry { .. }]),
        "{:?}",
        run.events
    );
    // Connection: close from the server: the next exchange connects anew
    // without any event.
    let mut run = Run::default();
    let closing = Answer::Bytes(http(
        "200 OK",
        &["Content-Type: application/json", "Connection: close"],
        br#"{"success": 1, "data": "pong"}"#,
    ));
    let mut server = Server::new(vec![
        Some((SERVER, vec![closing])),
        Some((SERVER, vec![pong()])),
    ]);
    let mut link = Link::new();
    ping(&s, &mut link, &mut server, &mut run).unwrap();
    assert!(!link.connection_open());
    ping(&s, &mut link, &mut server, &mut run).unwrap();
    assert!(run.events.is_empty(), "{:?}", run.events);
}

#[test]
fn redirects_keep_credentials_on_the_origin_only() {
    // Relative, same origin: credentials kept, the Location's target used.
    let s = settings(AuthMode::Basic);
    let mut server = Server::new(vec![
        Some((SERVER, vec![redirect("302 Found", "/moved/ping.json?x=1")])),
        Some((SERVER, vec![pong()])),
    ]);
    let mut run = Run::default();
    ping(&s, &mut Link::new(), &mut server, &mut run).unwrap();
    let r = server.requests_to(SERVER);
    assert!(
        r[1].starts_with("GET /moved/ping.json?x=1 HTTP/1.1")
            && r[1].contains("Authorization: Basic"),
        "{}",
        r[1]
    );
    assert_eq!(
        run.events,
        [Event::Redirect {
            status: 302,
            other_origin: false
        }]
    );
    // Another origin (the CDN): the bytes carry no credential at all.
    let body = pdf(800);
    for auth in [AuthMode::Basic, AuthMode::BodyFields, AuthMode::Session] {
        let s = settings(auth);
        let mut first = vec![];
        if auth == AuthMode::Session {
            first.push(login_ok("c"));
        }
        first.push(redirect(
            "302 Found",
            &format!("http://127.0.0.1:{CDN}/exports/t/r.pdf"),
        ));
        let mut server = Server::new(vec![
            Some((SERVER, first)),
            Some((
                CDN,
                vec![Answer::Bytes(http(
                    "200 OK",
                    &["Content-Type: application/pdf"],
                    &body,
                ))],
            )),
        ]);
        let mut run = Run::default();
        download(&s, &mut Link::new(), &mut server, &mut run, &DEFAULT).unwrap();
        assert_eq!(run.sink, body);
        let cdn = server.requests_to(CDN);
        assert_eq!(cdn.len(), 1);
        assert!(
            cdn[0].starts_with("GET /exports/t/r.pdf HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n"),
            "{}",
            cdn[0]
        );
        assert!(!carries_credentials(&cdn[0]), "{auth:?}: {}", cdn[0]);
        assert!(carries_credentials(
            server.requests_to(SERVER).last().unwrap()
        ));
    }
}

#[test]
fn redirect_limits_schemes_and_methods() {
    let s = settings(AuthMode::Basic);
    // Six hops: an error.
    let hops: Vec<ConnScript> = (0..6)
        .map(|i| {
            Some((
                SERVER,
                vec![redirect("307 Temporary Redirect", &format!("/hop{i}"))],
            ))
        })
        .collect();
    let mut server = Server::new(hops);
    let e = ping(&s, &mut Link::new(), &mut server, &mut Run::default()).unwrap_err();
    assert_eq!(e.error, Error::TooManyRedirects { limit: 5 });
    // Five are followed.
    let mut hops: Vec<ConnScript> = (0..5)
        .map(|i| {
            Some((
                SERVER,
                vec![redirect("307 Temporary Redirect", &format!("/hop{i}"))],
            ))
        })
        .collect();
    hops.push(Some((SERVER, vec![pong()])));
    ping(
        &s,
        &mut Link::new(),
        &mut Server::new(hops),
        &mut Run::default(),
    )
    .unwrap();
    // HTTPS to HTTP is refused.
    let mut tls = settings(AuthMode::Basic);
    tls.server.https = true;
    tls.server.port = 443;
    let mut server = Server::new(vec![Some((
        443,
        vec![redirect("302 Found", "http://127.0.0.1/x")],
    ))]);
    let e = ping(&tls, &mut Link::new(), &mut server, &mut Run::default()).unwrap_err();
    assert!(matches!(e.error, Error::BadRedirect(_)), "{e:?}");
    // An upload follows a redirect within the configured origin (307
    // keeps the method, the body and the sample; 303 turns it into a GET
    // without them), never to another origin: the sample goes to the
    // configured server or nowhere, and the error names the target.
    let sample = b"MZ sample bytes";
    let o = Options { sample, ..DEFAULT };
    let req = SubmitFile {
        upload: Some(sample.len() as u64),
        ..SubmitFile::default()
    };
    let done = r#"{"success": 1, "data": {"task_uuid": "0123456789abcdef0123456789abcdef"}}"#;
    for (status, get) in [("303 See Other", true), ("307 Temporary Redirect", false)] {
        let mut server = Server::new(vec![
            Some((SERVER, vec![redirect(status, "/dc/submit/file.json")])),
            Some((SERVER, vec![Answer::Bytes(json(done))])),
        ]);
        let mut run = Run::default();
        let mut buf = [0u8; 2048];
        let mut link = Link::new();
        let bf = settings(AuthMode::BodyFields);
        let ex = Exchange::<_, SubmitDecoder, 128>::call(&req, &bf, &mut link, &mut buf);
        let (r, _) = drive(ex, &mut server, &mut run, &o);
        let sub: Submission = r.unwrap();
        assert_eq!(
            sub.task_uuid.to_string(),
            "0123456789abcdef0123456789abcdef"
        );
        let there = &server.requests_to(SERVER)[1];
        assert_eq!(
            there.starts_with("GET /dc/submit/file.json HTTP/1.1"),
            get,
            "{status}: {there}"
        );
        assert_eq!(there.contains("MZ sample bytes"), !get, "{status}");
        assert_eq!(run.samples_sent, if get { 1 } else { 2 });

        let target = format!("http://127.0.0.1:{CDN}/dc/submit/file.json");
        let mut server = Server::new(vec![
            Some((SERVER, vec![redirect(status, &target)])),
            Some((CDN, vec![Answer::Bytes(json(done))])),
        ]);
        let mut run = Run::default();
        let mut link = Link::new();
        let ex = Exchange::<_, SubmitDecoder, 128>::call(&req, &bf, &mut link, &mut buf);
        let (r, _) = drive(ex, &mut server, &mut run, &o);
        let e = r.unwrap_err();
        assert_eq!(e.error, Error::UploadRedirected, "{status}");
        assert_eq!(e.message.unwrap().text.as_str(), target);
        assert!(server.requests_to(CDN).is_empty(), "{status}");
        assert_eq!(run.samples_sent, 1, "{status}: only to the server");
    }
    // A submission by hash (no sample) may still follow a datacenter
    // redirect, without credentials.
    let by_hash = SubmitFile {
        md5: Some(lastline_core::types::Digest([1; 16])),
        ..SubmitFile::default()
    };
    let mut server = Server::new(vec![
        Some((
            SERVER,
            vec![redirect(
                "307 Temporary Redirect",
                &format!("http://127.0.0.1:{CDN}/dc/submit/file.json"),
            )],
        )),
        Some((CDN, vec![Answer::Bytes(json(done))])),
    ]);
    let mut run = Run::default();
    let mut buf = [0u8; 2048];
    let mut link = Link::new();
    let ex = Exchange::<_, SubmitDecoder, 128>::call(&by_hash, &s, &mut link, &mut buf);
    let (r, _) = drive(ex, &mut server, &mut run, &DEFAULT);
    r.unwrap();
    assert!(!carries_credentials(&server.requests_to(CDN)[0]));
}

#[test]
fn an_early_answer_to_a_broken_upload_is_the_outcome() {
    // A proxy answers 413 and closes before reading the whole upload.
    let s = settings(AuthMode::Basic);
    let sample = vec![7u8; 10_000];
    let req = SubmitFile {
        upload: Some(sample.len() as u64),
        ..SubmitFile::default()
    };
    let mut server = Server::new(vec![Some((
        SERVER,
        vec![Answer::ThenClose(http(
            "413 Request Entity Too Large",
            &["Content-Type: text/html"],
            b"<html>too large</html>",
        ))],
    ))]);
    let mut buf = [0u8; 2048];
    let mut link = Link::new();
    let mut ex = Exchange::<_, SubmitDecoder, 128>::call(&req, &s, &mut link, &mut buf);
    // The write fails half-way: the driver says so, the answer is read.
    let run = Run::default();
    let mut wrote = 0;
    let result = loop {
        match ex.poll(run.now, 1) {
            Step::Connect(_) => {
                server.conn = Some(Conn {
                    port: SERVER,
                    answers: server.scripts.pop_front().unwrap().unwrap().1.into(),
                    out: VecDeque::new(),
                    ending: None,
                    request: vec![],
                });
            }
            Step::Write(b) => {
                wrote += 1;
                server.conn.as_mut().unwrap().request.extend_from_slice(b);
            }
            Step::SendSample { .. } => ex.failed(Transport::Closed),
            Step::Read(space) => {
                let c = server.conn.as_mut().unwrap();
                if c.out.is_empty() && c.ending.is_none() {
                    if let Some(Answer::ThenClose(b)) = c.answers.pop_front() {
                        c.out.extend(b);
                        c.ending = Some(Answer::ThenClose(vec![]));
                    }
                }
                let n = space.len().min(c.out.len());
                for (i, b) in c.out.drain(..n).enumerate() {
                    space[i] = b;
                }
                ex.received(n);
            }
            Step::Done(r) => break r,
            Step::Event(e) => panic!("{e:?}"),
            other => panic!("{other:?}"),
        }
    };
    assert!(wrote >= 1);
    assert_eq!(result.unwrap_err().error, Error::PayloadTooLarge);
}

/// A fault the property test may put in front of a request.
#[derive(Clone, Copy, Debug)]
enum Fault {
    Answer,
    Reset,
    Close,
    Unavailable,
    SessionGone,
    TooMany,
    RedirectSame,
    RedirectOther,
    Slow,
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        Just(Fault::Answer),
        Just(Fault::Reset),
        Just(Fault::Close),
        Just(Fault::Unavailable),
        Just(Fault::SessionGone),
        Just(Fault::TooMany),
        Just(Fault::RedirectSame),
        Just(Fault::RedirectOther),
        Just(Fault::Slow),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Random fault scripts: every run ends (success or a typed error)
    /// within the retry budget, no credential leaves the origin, and an
    /// upload is sent again only after an event that says why.
    #[test]
    fn random_fault_scripts_end_well(
        faults in proptest::collection::vec(fault(), 0..14),
        session in any::<bool>(),
        read_chunk in 1usize..300,
    ) {
        let auth = if session { AuthMode::Session } else { AuthMode::Basic };
        let s = settings(auth);
        let done = r#"{"success": 1, "data": {"task_uuid": "0123456789abcdef0123456789abcdef"}}"#;
        let answers: Vec<Answer> = faults
            .iter()
            .map(|f| match f {
                Fault::Answer => Answer::ThenClose(json(done)),
                Fault::Reset => Answer::ThenReset(b"HTTP/1.1 200".to_vec()),
                Fault::Close => Answer::ThenClose(vec![]),
                Fault::Unavailable => api_error(107, "busy"),
                Fault::SessionGone => api_error(122, "gone"),
                Fault::TooMany => Answer::ThenClose(http("429 Too Many Requests", &["Retry-After: 1"], b"")),
                Fault::RedirectSame => redirect("307 Temporary Redirect", "/again"),
                Fault::RedirectOther => redirect("307 Temporary Redirect", &format!("http://127.0.0.1:{CDN}/there")),
                Fault::Slow => Answer::Silence,
            })
            .collect();
        let mut server = Server::queued(answers, Answer::Bytes(json(done)));

        let sample = b"the sample";
        let o = Options { sample, read_chunk, ..DEFAULT };
        let req = SubmitFile { upload: Some(sample.len() as u64), ..SubmitFile::default() };
        let mut buf = [0u8; 1024];
        let mut link = Link::new();
        let mut run = Run::default();
        let ex = Exchange::<_, SubmitDecoder, 128>::call(&req, &s, &mut link, &mut buf);
        let (result, _) = drive(ex, &mut server, &mut run, &o);
        if let Err(f) = &result {
            prop_assert!(f.attempts <= RetryPolicy::default().max_attempts.max(1) + 1, "{f:?}");
        }
        let retries = run.events.iter().filter(|e| matches!(e, Event::Retry { .. })).count() as u32;
        prop_assert!(retries < RetryPolicy::default().max_attempts);
        for (port, bytes) in &server.requests {
            let text = String::from_utf8_lossy(bytes);
            if *port == CDN {
                prop_assert!(!carries_credentials(&text), "{text}");
            }
        }
        let uploads = server.requests.iter().filter(|(_, b)| b.windows(sample.len()).any(|w| w == sample)).count() as u32;
        let reasons = run.events.len() as u32;
        prop_assert!(uploads <= 1 + reasons, "{uploads} uploads, {:?}", run.events);
    }
}

#[test]
fn bytes_after_an_answer_close_the_connection() {
    // A second answer right behind the first, in the same read: it
    // answers no request of ours, so the connection is not used again.
    let s = settings(AuthMode::Basic);
    let mut forged = http(
        "200 OK",
        &["Content-Type: application/json"],
        br#"{"success": 1, "data": "pong"}"#,
    );
    forged.extend(json(r#"{"success": 1, "data": "forged"}"#));
    let mut server = Server::new(vec![
        Some((SERVER, vec![Answer::Bytes(forged)])),
        Some((SERVER, vec![pong()])),
    ]);
    let mut link = Link::new();
    let mut run = Run::default();
    assert_eq!(ping(&s, &mut link, &mut server, &mut run).unwrap(), "pong");
    assert!(!link.connection_open());
    assert_eq!(ping(&s, &mut link, &mut server, &mut run).unwrap(), "pong");
    assert_eq!(server.connections, 2);
    assert!(run.events.is_empty(), "{:?}", run.events);
}

#[test]
fn a_login_answered_by_another_origin_sets_no_session() {
    // The login is redirected to another origin, whose Set-Cookie would
    // become the API origin's session (fixation): it is not taken, and
    // the login fails for want of the server's own cookie.
    let s = settings(AuthMode::Session);
    let mut server = Server::new(vec![
        Some((
            SERVER,
            vec![redirect(
                "307 Temporary Redirect",
                &format!("http://127.0.0.1:{CDN}/login.json"),
            )],
        )),
        Some((CDN, vec![login_ok("planted")])),
    ]);
    let mut link = Link::new();
    let e = ping(&s, &mut link, &mut server, &mut Run::default()).unwrap_err();
    assert_eq!(
        e.error,
        Error::MissingField {
            field: "Set-Cookie"
        }
    );
    assert!(link.session().cookie().is_none());
    assert!(server
        .requests_to(SERVER)
        .iter()
        .all(|r| !r.contains("planted")));
}

#[test]
fn interim_answers_are_read_a_few_times_not_forever() {
    let s = settings(AuthMode::Basic);
    let mut two =
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n".to_vec();
    two.extend(json(r#"{"success": 1, "data": "pong"}"#));
    let mut server = Server::new(vec![Some((SERVER, vec![Answer::Bytes(two)]))]);
    assert_eq!(
        ping(&s, &mut Link::new(), &mut server, &mut Run::default()).unwrap(),
        "pong"
    );
    let flood = b"HTTP/1.1 103 Early Hints\r\n\r\n"
        .repeat(usize::from(lastline_core::http::MAX_INTERIM) + 1);
    let mut server = Server::new(vec![Some((SERVER, vec![Answer::Bytes(flood)]))]);
    let e = ping(&s, &mut Link::new(), &mut server, &mut Run::default()).unwrap_err();
    assert_eq!(
        e.error,
        Error::Http(lastline_core::HttpError::TooManyInterim {
            limit: lastline_core::http::MAX_INTERIM
        })
    );
}

/// The HTTP status classifies first: 429 and 5xx are retried whatever the
/// body (a failure envelope without a code, HTML, nothing), on a call, a
/// download and the login, each waiting at least the `Retry-After` asked
/// (in seconds or as a date) and no longer than the cap.
#[test]
fn http_back_off_is_honoured_whatever_the_body_on_calls_downloads_and_logins() {
    const DATE: &str = "Date: Sun, 06 Nov 1994 08:49:37 GMT";
    let bodies: [(&str, &[u8]); 3] = [
        (
            "application/json",
            br#"{"success": 0, "error": "Too many requests: slow down"}"#,
        ),
        ("text/html", b"<html><body>Service busy</body></html>"),
        ("text/plain", b""),
    ];
    let waits: [(&[&str], u64); 4] = [
        (&["Retry-After: 2"], 2000),
        (&[DATE, "Retry-After: Sun, 06 Nov 1994 08:49:40 GMT"], 3000),
        (&["Retry-After: 86400"], 60_000),
        // A date with no Date to measure it by: the longest wait allowed.
        (&["Retry-After: Sun, 06 Nov 1994 08:49:40 GMT"], 60_000),
    ];
    let pdf_body = pdf(300);
    let pdf_answer = http("200 OK", &["Content-Type: application/pdf"], &pdf_body);
    for status in ["429 Too Many Requests", "503 Service Unavailable"] {
        for (content_type, body) in bodies {
            for (headers, least) in waits {
                let ct = format!("Content-Type: {content_type}");
                let mut all = vec![ct.as_str()];
                all.extend_from_slice(headers);
                let busy = Answer::Bytes(http(status, &all, body));
                let case = format!("{status} {content_type} {headers:?}");
                // A call.
                let mut run = Run::default();
                let mut server = Server::queued(vec![busy.clone()], pong());
                let s = settings(AuthMode::Basic);
                assert_eq!(
                    ping(&s, &mut Link::new(), &mut server, &mut run).unwrap(),
                    "pong",
                    "{case}"
                );
                assert_eq!(run.sleeps.len(), 1, "{case}");
                assert!(
                    (least..=least.max(30_000)).contains(&run.sleeps[0]),
                    "{case}: slept {}",
                    run.sleeps[0]
                );
                // A download.
                let mut run = Run::default();
                let mut server =
                    Server::queued(vec![busy.clone()], Answer::Bytes(pdf_answer.clone()));
                download(&s, &mut Link::new(), &mut server, &mut run, &DEFAULT).unwrap();
                assert_eq!(run.sink, pdf_body, "{case}");
                assert_eq!(run.sleeps.len(), 1, "{case}");
                assert!(
                    (least..=least.max(30_000)).contains(&run.sleeps[0]),
                    "{case}: download slept {}",
                    run.sleeps[0]
                );
            }
        }
    }
    // The login: a rate-limited login waits and logs in again.
    let s = settings(AuthMode::Session);
    let mut run = Run::default();
    let limited = Answer::Bytes(http(
        "429 Too Many Requests",
        &["Content-Type: application/json", "Retry-After: 4"],
        br#"{"success": 0, "error": "Too many logins"}"#,
    ));
    let mut server = Server::new(vec![
        Some((SERVER, vec![limited])),
        Some((SERVER, vec![login_ok("c"), pong()])),
    ]);
    assert_eq!(
        ping(&s, &mut Link::new(), &mut server, &mut run).unwrap(),
        "pong"
    );
    assert_eq!(run.sleeps.len(), 1);
    assert!((4000..=30_000).contains(&run.sleeps[0]), "{:?}", run.sleeps);
}

/// Past the retry budget a 429 ends in a typed error that carries the
/// status and the server's own words; an envelope's code stays the error
/// when it has one (a 503 carrying 107).
#[test]
fn a_rate_limit_past_the_budget_ends_with_its_status_and_text() {
    let s = settings(AuthMode::Basic);
    let limited = Answer::Bytes(http(
        "429 Too Many Requests",
        &["Content-Type: application/json", "Retry-After: 1"],
        br#"{"success": 0, "error": "Too many requests: 10 per minute"}"#,
    ));
    let mut run = Run::default();
    let mut server = Server::queued(vec![], limited);
    let e = ping(&s, &mut Link::new(), &mut server, &mut run).unwrap_err();
    assert_eq!(e.error, Error::HttpStatus { status: 429 });
    assert_eq!((e.status, e.attempts), (Some(429), 6));
    assert_eq!(
        e.message.as_ref().map(|m| m.text.as_str()),
        Some("Too many requests: 10 per minute")
    );
    assert!(run.sleeps.iter().all(|&ms| ms >= 1000), "{:?}", run.sleeps);
    let shown = e.to_string();
    assert!(
        shown.contains("429") && shown.contains("10 per minute") && shown.contains("6 attempts"),
        "{shown}"
    );
    // The same on a download, and the login's words are kept too.
    let limited_download = Answer::Bytes(http(
        "429 Too Many Requests",
        &["Content-Type: application/json"],
        br#"{"success": 0, "error": "Too many downloads"}"#,
    ));
    let mut server = Server::queued(vec![], limited_download);
    let e = download(
        &s,
        &mut Link::new(),
        &mut server,
        &mut Run::default(),
        &DEFAULT,
    )
    .unwrap_err();
    assert_eq!(
        (e.error.clone(), e.status),
        (Error::HttpStatus { status: 429 }, Some(429))
    );
    assert_eq!(e.message.unwrap().text.as_str(), "Too many downloads");
    let mut server = Server::new(vec![Some((
        SERVER,
        vec![Answer::Bytes(http(
            "403 Forbidden",
            &["Content-Type: application/json"],
            br#"{"success": 0, "error_code": 104, "error": "Invalid credentials"}"#,
        ))],
    ))]);
    let e = ping(
        &settings(AuthMode::Session),
        &mut Link::new(),
        &mut server,
        &mut Run::default(),
    )
    .unwrap_err();
    assert_eq!(e.attempts, 1, "a 4xx with a code is final");
    assert_eq!(e.message.unwrap().text.as_str(), "Invalid credentials");
    // A 503 whose envelope has a code reports the code, and is retried.
    let mut run = Run::default();
    let mut server = Server::queued(
        vec![Answer::Bytes(http(
            "503 Service Unavailable",
            &["Content-Type: application/json"],
            br#"{"success": 0, "error_code": 104, "error": "Invalid credentials"}"#,
        ))],
        pong(),
    );
    assert_eq!(
        ping(&s, &mut Link::new(), &mut server, &mut run).unwrap(),
        "pong"
    );
    assert!(matches!(
        &run.events[..],
        [Event::Retry { error: Error::Api(a), .. }] if a.code == Some(ErrorCode::InvalidCredentials)
    ));
}

/// A method asked for in XML goes out with the `.xml` suffix and its body
/// comes back byte for byte, under the same HTTP policy (a 429 retried).
#[test]
fn an_xml_answer_streams_byte_for_byte_under_the_same_policy() {
    use lastline_core::request::{GetResult, Xml};
    let s = settings(AuthMode::Basic);
    let xml = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response><success>1</success><data><score>0</score></data></response>\n";
    let ok = Answer::Bytes(http(
        "200 OK",
        &["Content-Type: text/xml; charset=utf-8"],
        xml,
    ));
    let limited = Answer::Bytes(http(
        "429 Too Many Requests",
        &["Content-Type: text/xml", "Retry-After: 1"],
        b"<response><success>0</success></response>",
    ));
    let mut server = Server::queued(vec![limited], ok);
    let mut run = Run::default();
    let get = GetResult::new(Uuid::parse("0123456789abcdef0123456789abcdef").unwrap());
    let req = Xml(&get);
    let mut buf = [0u8; 1024];
    let mut link = Link::new();
    let ex = Exchange::download(&req, &s, &mut link, &mut buf);
    let o = Options {
        read_chunk: 7,
        ..DEFAULT
    };
    drive(ex, &mut server, &mut run, &o).0.unwrap();
    assert_eq!(run.sink, xml);
    assert!(run.sleeps[0] >= 1000, "{:?}", run.sleeps);
    let sent = String::from_utf8_lossy(&server.requests[1].1).into_owned();
    assert!(
        sent.starts_with(
            "GET /analysis/get_result.xml?uuid=0123456789abcdef0123456789abcdef HTTP/1.1\r\n"
        ),
        "{sent}"
    );
}

/// A busy answer whose connection breaks after its head (a proxy that
/// resets once it has said 503): the status and its `Retry-After` still
/// decide the wait.
#[test]
fn a_connection_lost_after_a_busy_head_still_waits_as_asked() {
    let s = settings(AuthMode::Basic);
    let body: &[u8] = br#"{"success": 0, "error": "Too many requests: come back later"}"#;
    for (status, keep) in [
        ("503 Service Unavailable", 0),
        ("429 Too Many Requests", 0),
        ("503 Service Unavailable", 20),
        ("429 Too Many Requests", 20),
    ] {
        let busy = http(
            status,
            &["Content-Type: application/json", "Retry-After: 3"],
            body,
        );
        // The head and `keep` bytes of the body, then a reset.
        let cut = busy[..busy.len() - body.len() + keep].to_vec();
        let mut run = Run::default();
        let mut server = Server::new(vec![
            Some((SERVER, vec![Answer::ThenReset(cut)])),
            Some((SERVER, vec![pong()])),
        ]);
        assert_eq!(
            ping(&s, &mut Link::new(), &mut server, &mut run).unwrap(),
            "pong"
        );
        assert_eq!(run.sleeps.len(), 1, "{status}");
        assert!(run.sleeps[0] >= 3000, "{status}: slept {:?}", run.sleeps);
        let code: u16 = status[..3].parse().unwrap();
        assert!(
            matches!(&run.events[..], [Event::Retry { error: Error::HttpStatus { status }, .. }] if *status == code),
            "{:?}",
            run.events
        );
    }
}
