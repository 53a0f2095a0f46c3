//! lastline-ureq against a hostile server (the emulator crate's scripted
//! one): one answer per request, the session's origin, downloads' limits.

use std::time::Duration;

use lastline_core::request::{GetResult, Ping};
use lastline_core::types::Uuid;
use lastline_emulator::hostile::{json, Hostile};
use lastline_ureq::{AuthMode, Client, Config, Error};

fn task() -> Uuid {
    "0123456789abcdef0123456789abcdef".parse().unwrap()
}

fn result(score: u32) -> String {
    format!(r#"{{"success": 1, "data": {{"score": {score}}}}}"#)
}

/// An answer that arrives after its request was answered (a late or
/// forged second answer) is never read as the next call's answer: the
/// connection it came on is not used again.
#[test]
fn a_late_answer_on_a_kept_alive_connection_is_not_the_next_answer() {
    let server = Hostile::start(|c| {
        let mut n = 0;
        while c.request().is_some() {
            n += 1;
            if n == 1 {
                c.send(&json("200 OK", &result(0)));
                // 0.3 s later, an answer nobody asked for.
                std::thread::sleep(Duration::from_millis(300));
                c.send(&json("200 OK", &result(100)));
            } else {
                c.send(&json("200 OK", &result(100)));
            }
        }
    });
    let mut client = Client::new(Config::new(&server.url(), "k", "t")).unwrap();
    let first = client.call(&GetResult::new(task()), |_| {}).unwrap();
    assert_eq!(first.score, Some(0));
    std::thread::sleep(Duration::from_millis(600));
    // Its answer comes from a new connection: the same server's first
    // answer on it (the forged one never reaches this call).
    let second = client.call(&GetResult::new(task()), |_| {}).unwrap();
    assert_eq!(
        second.score,
        Some(0),
        "the late bytes were read as the answer"
    );
    assert_eq!(server.connections(), 2);
}

/// A front end's idle-timeout 408 sent on an idle connection answers no
/// request: the next call opens a new connection.
#[test]
fn an_idle_timeout_answer_is_not_read_as_an_answer() {
    let server = Hostile::start(|c| {
        if c.request().is_some() {
            c.send(&json("200 OK", r#"{"success": 1, "data": "pong"}"#));
            c.send(
                b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
        while c.request().is_some() {
            c.send(&json("200 OK", r#"{"success": 1, "data": "pong"}"#));
        }
    });
    let mut client = Client::new(Config::new(&server.url(), "k", "t")).unwrap();
    assert_eq!(client.call(&Ping, |_| {}).unwrap().as_str(), "pong");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(client.call(&Ping, |_| {}).unwrap().as_str(), "pong");
    assert_eq!(server.connections(), 2);
}

/// In session mode, a login redirected to another origin: that origin's
/// Set-Cookie never becomes the API origin's session.
#[test]
fn a_redirected_logins_foreign_cookie_is_never_sent() {
    let other = Hostile::start(|c| {
        while c.request().is_some() {
            let body = r#"{"success": 1, "data": "ok"}"#;
            c.send(
                format!(
                    "HTTP/1.1 200 OK\r\nSet-Cookie: ll_session=planted; Path=/\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }
    });
    let target = format!("{}/login.json", other.url());
    let api = Hostile::start(move |c| {
        while let Some(r) = c.request() {
            if r.path().contains("login") {
                c.send(
                    format!(
                        "HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n"
                    )
                    .as_bytes(),
                );
            } else {
                c.send(&json("200 OK", r#"{"success": 1, "data": "pong"}"#));
            }
        }
    });
    let mut client =
        Client::new(Config::new(&api.url(), "k", "t").auth(AuthMode::Session)).unwrap();
    let e = client.call(&Ping, |_| {}).unwrap_err();
    assert!(matches!(e, Error::Protocol { .. }), "{e:?}");
    for r in api.requests() {
        assert!(!r.headers.iter().any(|h| h.contains("planted")), "{r:?}");
    }
    // The other origin never saw the credentials either.
    for r in other.requests() {
        assert!(!String::from_utf8_lossy(&r.body).contains("key="), "{r:?}");
        assert!(!r
            .headers
            .iter()
            .any(|h| h.to_lowercase().starts_with("authorization")));
    }
}

/// A download larger than the limit ends in a typed error.
#[test]
fn a_download_over_the_limit_is_refused() {
    let server = Hostile::start(|c| {
        while c.request().is_some() {
            let body = vec![b'%'; 10_000];
            c.send(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            c.send(&body);
        }
    });
    let mut client = Client::new(Config::new(&server.url(), "k", "t").max_download(4096)).unwrap();
    let req = lastline_core::request::GetIocReport { ioc_uuid: task() };
    let mut out = Vec::new();
    let e = client.download(&req, &mut out).unwrap_err();
    match e {
        Error::Protocol { error, .. } => assert!(
            matches!(
                *error,
                lastline_core::Error::Http(lastline_core::HttpError::BodyTooLarge {
                    limit: 4096,
                    ..
                })
            ),
            "{error:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(out.len() <= 4096);
    client.set_max_download(None);
    assert_eq!(client.download(&req, &mut Vec::new()).unwrap(), 10_000);
}

/// The deadline bounds a body trickled one byte at a time.
#[test]
fn a_trickled_body_ends_at_the_deadline() {
    let server = Hostile::start(|c| {
        if c.request().is_some() {
            c.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n");
            while !c.stopping() {
                c.send(b" ");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    });
    let started = std::time::Instant::now();
    let e = Client::new(Config::new(&server.url(), "k", "t").deadline(Duration::from_secs(2)))
        .unwrap()
        .call(&Ping, |_| {})
        .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    // A bound, not a measurement: it did not run on with the trickle.
    assert!(started.elapsed() < Duration::from_secs(30));
}
