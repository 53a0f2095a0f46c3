//! HTTPS with the test PKI: TLS 1.3 and 1.2 with the pinned CA, the
//! redirect origins on https too, and a certificate from another CA
//! refused by verification.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use lastline_emulator::{pki, Config, Emulator};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

fn client(
    ca_pem: &str,
    version: &'static rustls::SupportedProtocolVersion,
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[version])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// One GET over TLS: the negotiated version and the answer, or the error.
fn get(
    addr: std::net::SocketAddr,
    name: &str,
    cfg: Arc<rustls::ClientConfig>,
    target: &str,
) -> Result<(rustls::ProtocolVersion, String), std::io::Error> {
    let conn = rustls::ClientConnection::new(cfg, ServerName::try_from(name.to_string()).unwrap())
        .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, TcpStream::connect(addr)?);
    tls.sock
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    // "emulator-key:emulator-token" in base64.
    write!(
        tls,
        "GET {target} HTTP/1.1\r\nHost: {name}\r\nAuthorization: Basic ZW11bGF0b3Ita2V5OmVtdWxhdG9yLXRva2Vu\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    match tls.read_to_string(&mut answer) {
        Ok(_) => {}
        // A peer that ends without close_notify still answered.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !answer.is_empty() => {}
        Err(e) => return Err(e),
    }
    Ok((tls.conn.protocol_version().unwrap(), answer))
}

#[test]
fn https_with_the_test_pki_in_tls_1_3_and_1_2() {
    let pki = pki::generate().unwrap();
    let emu = Emulator::start(Config {
        tls: Some(pki.trusted.tls()),
        ..Config::default()
    })
    .unwrap();
    assert!(emu.base_url().starts_with("https://127.0.0.1:"));
    for (version, want) in [
        (&rustls::version::TLS13, rustls::ProtocolVersion::TLSv1_3),
        (&rustls::version::TLS12, rustls::ProtocolVersion::TLSv1_2),
    ] {
        for name in ["localhost", "127.0.0.1"] {
            let (v, answer) = get(
                emu.addr(),
                name,
                client(&pki.trusted.ca_pem, version),
                "/authentication/ping.json",
            )
            .unwrap();
            assert_eq!(v, want);
            assert!(answer.contains(r#""data":"pong""#), "{answer}");
        }
    }
    // The CDN origin speaks TLS too, and redirects say https.
    let cfg = client(&pki.trusted.ca_pem, &rustls::version::TLS13);
    let (_, answer) = get(emu.cdn_addr(), "localhost", cfg, "/exports/none/x.pdf").unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"));
    emu.configure(|c| c.datacenter_redirect = lastline_emulator::Redirect::Once);
    let cfg = client(&pki.trusted.ca_pem, &rustls::version::TLS13);
    let (_, answer) = get(emu.addr(), "localhost", cfg, "/authentication/ping.json").unwrap();
    let want = format!(
        "location: https://{}/authentication/ping.json?",
        emu.datacenter_addr()
    );
    assert!(answer.to_ascii_lowercase().contains(&want), "{answer}");
}

#[test]
fn a_certificate_from_another_ca_fails_verification() {
    let pki = pki::generate().unwrap();
    let emu = Emulator::start(Config {
        tls: Some(pki.untrusted.tls()),
        ..Config::default()
    })
    .unwrap();
    let err = get(
        emu.addr(),
        "localhost",
        client(&pki.trusted.ca_pem, &rustls::version::TLS13),
        "/authentication/ping.json",
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("UnknownIssuer") || text.contains("invalid peer certificate"),
        "{text}"
    );
    // A plain-HTTP client gets nothing served.
    let mut s = TcpStream::connect(emu.addr()).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    s.write_all(b"GET /authentication/ping.json HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    assert!(!String::from_utf8_lossy(&got).contains("pong"));
}

#[test]
fn the_written_pki_is_marked_test_only_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    pki::write(dir.path()).unwrap();
    for f in [
        "ca.pem",
        "ca.der",
        "server.pem",
        "server.key",
        "wrong-ca.pem",
        "wrong-server.pem",
        "wrong-server.key",
        "TEST-ONLY.txt",
    ] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    let key = std::fs::read_to_string(dir.path().join("server.key")).unwrap();
    assert!(key.starts_with("TEST ONLY"));
    assert!(key.contains("-----BEGIN PRIVATE KEY-----"));
    // What the binary reads from the files serves TLS with that CA.
    let id = lastline_emulator::TlsIdentity::from_files(
        &dir.path().join("server.pem"),
        &dir.path().join("server.key"),
    )
    .unwrap();
    let emu = Emulator::start(Config {
        tls: Some(id),
        ..Config::default()
    })
    .unwrap();
    let ca = std::fs::read_to_string(dir.path().join("ca.pem")).unwrap();
    let (_, answer) = get(
        emu.addr(),
        "localhost",
        client(&ca, &rustls::version::TLS13),
        "/authentication/ping.json",
    )
    .unwrap();
    assert!(answer.contains("pong"));
    // The DER form is the PEM's certificate.
    let der = std::fs::read(dir.path().join("ca.der")).unwrap();
    let from_pem = CertificateDer::from_pem_slice(ca.as_bytes()).unwrap();
    assert_eq!(der, from_pem.as_ref());
}
