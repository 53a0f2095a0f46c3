//! Configuration that reaches the wire: a programmatic proxy (through a
//! CONNECT proxy run here) and its exceptions, the `LASTLINE_*`
//! variables, and a per-call deadline over retries and slow answers.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lastline_core::request::Ping;
use lastline_emulator::{Config as EmuConfig, Emulator, Fault, FaultRule, RetryAfter};
use lastline_ureq::{AuthMode, Client, Config, Error};

/// An HTTP CONNECT proxy on loopback; the request lines it was sent.
fn connect_proxy() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            let log = log.clone();
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match client.read(&mut b) {
                        Ok(1) => head.push(b[0]),
                        _ => return,
                    }
                }
                let line = String::from_utf8_lossy(&head)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_owned();
                log.lock().unwrap().push(line.clone());
                let target = line.split_whitespace().nth(1).unwrap_or("").to_owned();
                let Ok(mut upstream) = TcpStream::connect(&target) else {
                    let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
                    return;
                };
                let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                let (mut c2, mut u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut u2, &mut c2);
                });
                let _ = std::io::copy(&mut client, &mut upstream);
            });
        }
    });
    (addr, seen)
}

fn emulator() -> (Emulator, Config) {
    let emu = Emulator::start(EmuConfig::default()).unwrap();
    let (key, token) = emu.credentials();
    let config = Config::new(&emu.base_url(), &key, &token);
    (emu, config)
}

#[test]
fn a_configured_proxy_carries_every_connection_and_its_exceptions_do_not() {
    let (emu, config) = emulator();
    let (proxy, seen) = connect_proxy();
    let through = config.clone().proxy(&format!("http://{proxy}"));
    Client::new(through.clone())
        .unwrap()
        .call(&Ping, |_| {})
        .unwrap();
    let lines = seen.lock().unwrap().clone();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0], format!("CONNECT {} HTTP/1.1", emu.addr()));
    // Not in Debug: the proxy's password.
    let with_password = config.clone().proxy(&format!("http://user:s3cret@{proxy}"));
    assert!(!format!("{with_password:?}").contains("s3cret"));

    // The server's host excepted: straight there.
    let except = through.no_proxy("127.0.0.1");
    Client::new(except).unwrap().call(&Ping, |_| {}).unwrap();
    let direct = config.clone().without_proxy();
    Client::new(direct).unwrap().call(&Ping, |_| {}).unwrap();
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "no more connections through it"
    );

    // A proxy that is not a URL is refused before anything is sent.
    assert!(matches!(
        Client::new(config.proxy("http://[bad")),
        Err(Error::Config(_))
    ));
}

#[test]
fn the_environment_configures_a_client() {
    let (emu, _) = emulator();
    let (key, token) = emu.credentials();
    let base = emu.base_url();
    let vars = |extra: &[(&str, &str)]| {
        let mut m: std::collections::HashMap<String, String> = [
            ("LASTLINE_BASE_URL", base.as_str()),
            ("LASTLINE_API_KEY", key.as_str()),
            ("LASTLINE_API_TOKEN", token.as_str()),
        ]
        .into_iter()
        .chain(extra.iter().copied())
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        m.retain(|_, v| !v.is_empty());
        move |name: &str| m.get(name).cloned()
    };
    let c = Config::from_lookup(vars(&[
        ("LASTLINE_AUTH", "session"),
        ("LASTLINE_DEADLINE", "2.5"),
        ("LASTLINE_TIMEOUT", "7"),
        ("LASTLINE_RETRIES", "0"),
        ("LASTLINE_PROXY", "http://proxy.example:3128"),
        ("LASTLINE_NO_PROXY", "127.0.0.1, .internal"),
    ]))
    .unwrap();
    let shown = format!("{c:?}");
    for part in ["Session", "2.5s", "7s", "proxy.example", "max_attempts: 1"] {
        assert!(shown.contains(part), "{part} in {shown}");
    }
    // It works as configured: in session mode, the proxy excepted for
    // this server.
    Client::new(c).unwrap().call(&Ping, |_| {}).unwrap();
    assert!(emu
        .log()
        .entries()
        .iter()
        .any(|e| e.api_method == Some("login")));

    assert!(matches!(
        Config::from_lookup(vars(&[("LASTLINE_API_TOKEN", "")])),
        Err(Error::Config(m)) if m.contains("LASTLINE_API_TOKEN")
    ));
    for (name, bad) in [
        ("LASTLINE_DEADLINE", "soon"),
        ("LASTLINE_AUTH", "kerberos"),
        ("LASTLINE_RETRIES", "-1"),
    ] {
        assert!(
            matches!(Config::from_lookup(vars(&[(name, bad)])), Err(Error::Config(m)) if m.contains(name)),
            "{name}={bad}"
        );
    }
    let _ = AuthMode::Basic;
}

#[test]
fn a_deadline_bounds_a_call_over_slow_answers_and_retries() {
    let (emu, config) = emulator();
    let config = config.deadline(Duration::from_millis(300));
    // An answer held longer than the deadline: the call ends at it.
    emu.faults().add(FaultRule::new(
        Some("ping"),
        Fault::Slow(Duration::from_secs(5)),
        1,
    ));
    let e = Client::new(config.clone())
        .unwrap()
        .call(&Ping, |_| {})
        .unwrap_err();
    assert!(
        matches!(&e, Error::Timeout { detail, .. } if detail.contains("deadline")),
        "{e:?}"
    );
    // A retry that would start after it: the call ends now, not after the
    // server's Retry-After.
    emu.faults().set(|f| f.rules.clear());
    emu.faults().add(FaultRule::new(
        Some("ping"),
        Fault::ServerError {
            status: 503,
            retry_after: Some(RetryAfter::Seconds(30)),
        },
        1,
    ));
    let e = Client::new(config.clone())
        .unwrap()
        .call(&Ping, |_| {})
        .unwrap_err();
    assert!(
        matches!(&e, Error::Timeout { detail, attempts: 1 } if detail.contains("next attempt")),
        "{e:?}"
    );
    // Within the deadline, a call is as usual.
    emu.faults().set(|f| f.rules.clear());
    Client::new(config).unwrap().call(&Ping, |_| {}).unwrap();
}

/// `Config::from_env` itself, reading the process's environment: run in a
/// child process of this test binary (the variables set there only), the
/// child being `from_env_in_a_child` below.
#[test]
fn from_env_reads_the_process_environment() {
    let (emu, _) = emulator();
    let (key, token) = emu.credentials();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "from_env_in_a_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("LASTLINE_FROM_ENV_CHILD", "1")
        .env("LASTLINE_BASE_URL", emu.base_url())
        .env("LASTLINE_API_KEY", key)
        .env("LASTLINE_API_TOKEN", token)
        .env("LASTLINE_DEADLINE", "9")
        .env_remove("LASTLINE_PROXY")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("child: pinged with a 9s deadline"), "{said}");
    assert!(emu
        .log()
        .entries()
        .iter()
        .any(|e| e.api_method == Some("ping")));
}

/// The child of the test above (does nothing in a normal run).
#[test]
fn from_env_in_a_child() {
    if std::env::var_os("LASTLINE_FROM_ENV_CHILD").is_none() {
        return;
    }
    let c = Config::from_env().unwrap();
    assert!(format!("{c:?}").contains("deadline: Some(9s)"), "{c:?}");
    Client::new(c).unwrap().call(&Ping, |_| {}).unwrap();
    println!("child: pinged with a 9s deadline");
}
