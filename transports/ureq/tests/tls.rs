//! TLS: a self-signed HTTPS server is refused by default and accepted once
//! its CA is configured.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use lastline_core::request::Ping;
use lastline_core::workflow::RetryPolicy;
use lastline_ureq::{Client, Config, Error};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Serves `{"success":1,"data":"pong"}` over TLS with `cert` to every
/// connection that completes a handshake.
fn https_server(
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
) -> (u16, Arc<AtomicUsize>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let counted = handshakes.clone();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { continue };
            counted.fetch_add(1, Ordering::SeqCst);
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match tls.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            if !head.ends_with(b"\r\n\r\n") {
                continue; // the client refused the certificate
            }
            let body = br#"{"success":1,"data":"pong"}"#;
            let _ = write!(
                tls,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = tls.write_all(body);
            let _ = tls.flush();
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    (port, handshakes)
}

#[test]
fn self_signed_is_refused_by_default_and_accepted_with_its_ca() {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = ck.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let (port, _) = https_server(cert.clone(), key);
    let url = format!("https://localhost:{port}");
    let once = RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    };

    let e = Client::new(Config::new(&url, "k", "t").retry(once))
        .unwrap()
        .call(&Ping, |_| {})
        .unwrap_err();
    match &e {
        Error::Transport { detail, .. } => {
            assert!(detail.to_lowercase().contains("certificate"), "{detail}")
        }
        other => panic!("expected a TLS failure, got {other:?}"),
    }

    let trusting = Config::new(&url, "k", "t")
        .retry(once)
        .ca_pem(ck.cert.pem().as_bytes())
        .unwrap();
    let pong = Client::new(trusting).unwrap().call(&Ping, |_| {}).unwrap();
    assert_eq!(pong.as_str(), "pong");

    let trusting_der = Config::new(&url, "k", "t")
        .retry(once)
        .ca_der(cert.as_ref());
    let pong = Client::new(trusting_der)
        .unwrap()
        .call(&Ping, |_| {})
        .unwrap();
    assert_eq!(pong.as_str(), "pong");

    // A CA file without a certificate is a configuration error.
    assert!(matches!(
        Config::new(&url, "k", "t").ca_pem(b"not a pem"),
        Err(Error::Config(_))
    ));
}

/// A certificate that fails verification is final: one handshake, no
/// retry (nothing about it is transient), and the error names it.
#[test]
fn an_untrusted_certificate_ends_after_one_handshake() {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = ck.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let (port, handshakes) = https_server(cert, key);
    let url = format!("https://localhost:{port}");
    // The default policy: several attempts for what is transient.
    let e = Client::new(Config::new(&url, "k", "t"))
        .unwrap()
        .call(&Ping, |_| {})
        .unwrap_err();
    match &e {
        Error::Transport {
            detail, attempts, ..
        } => {
            assert!(detail.to_lowercase().contains("certificate"), "{detail}");
            assert_eq!(*attempts, 1);
        }
        other => panic!("expected a TLS failure, got {other:?}"),
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(handshakes.load(Ordering::SeqCst), 1);
}
