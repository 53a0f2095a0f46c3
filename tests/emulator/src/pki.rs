//! A test PKI for the emulator's TLS: a CA and a server certificate for
//! `127.0.0.1` and `localhost`, ECDSA P-256 with SHA-256 (what embedded-tls
//! verifies), and a second, unrelated CA with its own server certificate
//! for tests that must see verification fail. TEST ONLY: the keys are
//! generated fresh, kept in the clear and marked so in every file.

use std::io;
use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// Prepended to every key file (PEM readers skip text outside the
/// armour).
const KEY_MARK: &str = "TEST ONLY: a key of the lastline-emulator test PKI, kept in the clear.\nNever use it, or anything it signed, outside tests.\n";

/// One CA and the server identity it signed, as PEM.
#[derive(Clone)]
pub struct Identity {
    /// The CA certificate.
    pub ca_pem: String,
    /// The CA certificate, DER (what firmware embeds).
    pub ca_der: Vec<u8>,
    /// The server certificate followed by the CA certificate.
    pub server_chain_pem: String,
    /// The server key (PKCS#8), marked test-only.
    pub server_key_pem: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").finish_non_exhaustive()
    }
}

impl Identity {
    /// The server side, for [`crate::Config::tls`].
    pub fn tls(&self) -> crate::TlsIdentity {
        crate::TlsIdentity {
            cert_chain_pem: self.server_chain_pem.clone().into_bytes(),
            key_pem: self.server_key_pem.clone().into_bytes(),
        }
    }
}

/// The test PKI: the identity to trust, and one nobody trusts.
#[derive(Clone, Debug)]
pub struct TestPki {
    /// The CA clients pin, and the server certificate it signed.
    pub trusted: Identity,
    /// Another CA and its server certificate (same names): a client that
    /// pins `trusted.ca` must refuse it.
    pub untrusted: Identity,
}

fn tls_err(e: rcgen::Error) -> io::Error {
    io::Error::other(format!("test PKI: {e}"))
}

fn validity(p: &mut CertificateParams) {
    // From the epoch, so a device whose clock starts at zero accepts it.
    p.not_before = rcgen::date_time_ymd(1970, 1, 1);
    p.not_after = rcgen::date_time_ymd(2099, 12, 31);
}

fn identity(ca_name: &str) -> Result<Identity, rcgen::Error> {
    let alg = &rcgen::PKCS_ECDSA_P256_SHA256;
    let ca_key = KeyPair::generate_for(alg)?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name.push(DnType::CommonName, ca_name);
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut ca);
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);
    let server_key = KeyPair::generate_for(alg)?;
    let mut server =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])?;
    server
        .distinguished_name
        .push(DnType::CommonName, "lastline-emulator (test only)");
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    validity(&mut server);
    let server_cert = server.signed_by(&server_key, &issuer)?;
    Ok(Identity {
        ca_pem: ca_cert.pem(),
        ca_der: ca_cert.der().to_vec(),
        server_chain_pem: format!("{}{}", server_cert.pem(), ca_cert.pem()),
        server_key_pem: format!("{KEY_MARK}{}", server_key.serialize_pem()),
    })
}

/// Generates a fresh test PKI.
pub fn generate() -> io::Result<TestPki> {
    Ok(TestPki {
        trusted: identity("lastline-emulator test CA (test only)").map_err(tls_err)?,
        untrusted: identity("an unrelated CA (test only)").map_err(tls_err)?,
    })
}

/// Writes a fresh test PKI into `dir`: `ca.pem`, `ca.der`, `server.pem`
/// (chain), `server.key`, and the untrusted `wrong-ca.pem`,
/// `wrong-server.pem`, `wrong-server.key`, with a `TEST-ONLY.txt` beside
/// them.
pub fn write(dir: &Path) -> io::Result<TestPki> {
    let pki = generate()?;
    std::fs::create_dir_all(dir)?;
    let put = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes);
    put("TEST-ONLY.txt", KEY_MARK.as_bytes())?;
    for (prefix, id) in [("", &pki.trusted), ("wrong-", &pki.untrusted)] {
        put(&format!("{prefix}ca.pem"), id.ca_pem.as_bytes())?;
        put(&format!("{prefix}ca.der"), &id.ca_der)?;
        put(
            &format!("{prefix}server.pem"),
            id.server_chain_pem.as_bytes(),
        )?;
        put(&format!("{prefix}server.key"), id.server_key_pem.as_bytes())?;
    }
    Ok(pki)
}
