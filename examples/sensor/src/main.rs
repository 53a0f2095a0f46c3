//! A network sensor, firmware-shaped: it hashes a captured file, submits
//! it hash-first over TLS (embedded-tls, server certificate verified
//! against a pinned CA), and reads the verdict from the completion
//! cursor, which it persists. Built for thumbv7em-none-eabihf in CI; the
//! TCP socket, RNG and clock are register stand-ins for the board's own.
#![no_std]
#![no_main]
// The plain-TCP measurement build leaves the TLS parts unused.
#![cfg_attr(feature = "plain-tcp", allow(unused))]

use core::ptr;

use cortex_m_rt::entry;
use embedded_tls::blocking::{TlsConfig, TlsConnection, TlsContext};
use embedded_tls::pki::CertVerifier;
use embedded_tls::{Aes128GcmSha256, Certificate, CryptoProvider, NoClock, TlsError, TlsVerifier};
use lastline_core::request::SubmitFile;
use lastline_core::types::Timestamp;
use lastline_core::workflow::CompletionCursor;
use lastline_core::Credentials;
use lastline_embedded::blocking::{Client, Connector, Timer};
use lastline_embedded::{Error, NoSessions, Options, SliceSample};
use panic_halt as _;

/// The CA the sensor trusts for the analysis server (DER).
static PINNED_CA: &[u8] = include_bytes!("../pinned-ca.der");
const SERVER: &str = "analysis.lastline.com";

/// A captured file (in a real sensor: flash or a capture ring buffer).
static CAPTURE: [u8; 2048] = [0x4d; 2048];
/// Where the completion cursor is persisted.
static mut CURSOR_FLASH: [u8; 300] = [0; 300];

fn reg(addr: usize) -> u32 {
    unsafe { ptr::read_volatile(addr as *const u32) }
}

/// The TCP socket of the board's network stack (a register stand-in).
struct Tcp;

impl embedded_io::ErrorType for Tcp {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for Tcp {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = (reg(0x4000_0004) as usize).min(buf.len());
        for b in buf.iter_mut().take(n) {
            *b = reg(0x4000_0008) as u8;
        }
        Ok(n)
    }
}

impl embedded_io::Write for Tcp {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        for b in buf {
            unsafe { ptr::write_volatile(0x4000_0000 as *mut u8, *b) };
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// The hardware RNG (a register stand-in).
struct HwRng;

impl rand_core::RngCore for HwRng {
    fn next_u32(&mut self) -> u32 {
        reg(0x4000_0020)
    }
    fn next_u64(&mut self) -> u64 {
        (u64::from(self.next_u32()) << 32) | u64::from(self.next_u32())
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for c in dest.chunks_mut(4) {
            let w = self.next_u32().to_le_bytes();
            c.copy_from_slice(&w[..c.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for HwRng {}

/// TLS with the server certificate checked against the pinned CA.
struct PinnedCa {
    rng: HwRng,
    verifier: CertVerifier<'static, Aes128GcmSha256, NoClock, 2048>,
}

impl CryptoProvider for PinnedCa {
    type CipherSuite = Aes128GcmSha256;
    type Signature = [u8; 64];

    fn rng(&mut self) -> impl embedded_tls::CryptoRngCore {
        &mut self.rng
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Self::CipherSuite>, TlsError> {
        Ok(&mut self.verifier)
    }
}

/// The client's connector: the connection is set up by `main`, so when
/// the server closes it the session ends (a refusal, not retried) and
/// `main` opens a new one.
struct ThisSession<S>(core::marker::PhantomData<S>);

impl<S: embedded_io::Read + embedded_io::Write> Connector for ThisSession<S> {
    type Connection = S;
    fn connect(&mut self, _: &lastline_embedded::Origin<'_>) -> Result<S, Error> {
        Err(Error::Closed)
    }
}

/// SysTick-style clock and busy-wait delay (stand-ins).
struct Ticks;

impl Timer for Ticks {
    fn now_ms(&mut self) -> u64 {
        u64::from(reg(0x4000_0030))
    }
    fn random(&mut self) -> u32 {
        reg(0x4000_0020)
    }
    fn delay_ms(&mut self, ms: u64) {
        let until = self.now_ms().saturating_add(ms);
        while self.now_ms() < until {}
    }
}

#[cfg(not(feature = "plain-tcp"))]
/// Opens a TLS connection to the server (apart from `session`, so the
/// handshake's frame is not stacked under the client's, and the TLS
/// stack's code is not inlined into ours and counted as ours).
#[inline(never)]
fn open_tls<'b>(rx_records: &'b mut [u8], tx_records: &'b mut [u8]) -> Result<TlsConnection<'b, Tcp, Aes128GcmSha256>, Error> {
    let config = TlsConfig::new().with_server_name(SERVER);
    let provider = PinnedCa { rng: HwRng, verifier: CertVerifier::new(Certificate::X509(PINNED_CA)) };
    let mut tls = TlsConnection::new(Tcp, rx_records, tx_records);
    tls.open(TlsContext::new(&config, provider)).map_err(|_| Error::Closed)?;
    Ok(tls)
}

/// One session over an open connection (TLS; plain TCP with the
/// `plain-tcp` feature, which exists to measure what our crates add on
/// their own): submit the capture if not yet done, then read completions
/// until the verdict arrives. Returns the score, or the error that ended
/// the session.
#[inline(never)]
fn session<S: embedded_io::Read + embedded_io::Write>(conn: S, task: &mut Option<lastline_core::types::Uuid>) -> Result<i32, Error> {
    let creds = Credentials::new("sensor-key", Some("sensor-token"))?;
    let mut client: Client<'_, _, _, 2048, 512, _> = Client::with_connection(ThisSession(core::marker::PhantomData), conn, Ticks, NoSessions(Options::new(SERVER, creds)));
    let uuid = match *task {
        Some(u) => u,
        None => {
            let done = client.submit_hash_first(&mut SliceSample(&CAPTURE), SubmitFile { filename: Some("capture.bin"), ..SubmitFile::default() })?;
            *task = Some(done.submission.task_uuid);
            done.submission.task_uuid
        }
    };
    let saved = unsafe { &mut *ptr::addr_of_mut!(CURSOR_FLASH) };
    let mut cursor = CompletionCursor::<8>::restore(saved)
        .or_else(|_| Timestamp::from_unix(1_700_000_000).map(CompletionCursor::new).map_err(|_| lastline_core::Error::CorruptState))?;
    loop {
        let mut verdict = None;
        client.completions(&mut cursor, &mut |t| {
            if t.task_uuid == uuid {
                verdict = t.score;
            }
        })?;
        cursor.save(saved)?;
        if let Some(score) = verdict {
            return Ok(score);
        }
        Ticks.delay_ms(10_000);
    }
}

#[entry]
fn main() -> ! {
    // TLS record buffers: the largest record the server may send, and ours.
    #[cfg(not(feature = "plain-tcp"))]
    let (mut rx_records, mut tx_records) = ([0u8; 16_640], [0u8; 4096]);
    let mut task = None;
    loop {
        #[cfg(not(feature = "plain-tcp"))]
        let result = open_tls(&mut rx_records, &mut tx_records).and_then(|tls| session(tls, &mut task));
        #[cfg(feature = "plain-tcp")]
        let result = session(Tcp, &mut task);
        match result {
            Ok(score) => unsafe { ptr::write_volatile(0x4000_000c as *mut i32, score) },
            // Closed, reset, or a failed handshake: a new session.
            Err(_) => continue,
        }
        break;
    }
    loop {}
}
