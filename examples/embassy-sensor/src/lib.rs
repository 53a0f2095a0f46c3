//! The on-ramp for embassy firmware: a sensor task that submits a capture
//! hash-first and learns its verdict from the completion cursor, over
//! embassy-net TCP, embedded-tls (TLS 1.3, the server certificate checked
//! against a pinned CA) and lastline-embedded's async client.
//!
//! # The pattern: a session per connection, the work kept outside it
//!
//! An embassy-net `TcpSocket` borrows its buffers and the stack; an
//! embedded-tls `TlsConnection` borrows its record buffers and the socket.
//! A `Connector` cannot hand out such a connection (it would borrow
//! itself), so the task opens each session itself — TCP, then TLS — gives
//! it to the client with [`Client::with_connection`] and a connector that
//! refuses ([`ThisSession`]), and makes requests until one ends because
//! the server closed the connection. Then it opens the next session. The
//! work survives sessions because it is lastline-core's state machines,
//! held here: the hash-first submission ([`HashFirst`]) and the completion
//! cursor ([`CompletionCursor`], persisted by [`Persist`] after every
//! page). Everything else — retries on 107 and 5xx with `Retry-After`,
//! redirects, the request encoding and response decoding — is the
//! client's.
//!
//! ```ignore
//! #[embassy_executor::task]
//! async fn sensor(stack: embassy_net::Stack<'static>, mut rng: Rng) {
//!     let server = embassy_sensor::Server {
//!         name: "analysis.lastline.com",
//!         endpoint: (Ipv4Address::new(192, 0, 2, 10), 443).into(),
//!         ca_der: include_bytes!("appliance-ca.der"),
//!         key: "...",
//!         api_token: "...",
//!     };
//!     let mut flash = MyFlashPage::new();
//!     let score = embassy_sensor::submit_and_wait(stack, &server, &mut rng, CAPTURE, &mut flash).await;
//!     defmt::info!("verdict: {}", score);
//! }
//! ```
//!
//! With the `defmt` feature the client's own actions (retries, redirects)
//! and the task's sessions are logged with defmt. Built for
//! `thumbv7em-none-eabihf` in CI (`rustup target add
//! thumbv7em-none-eabihf`; `cargo build` in this directory); a board adds
//! its network driver, `embassy_net::new` and a time driver.
#![no_std]

use core::marker::PhantomData;

use embassy_net::tcp::TcpSocket;
use embassy_net::{IpEndpoint, Stack};
use embassy_time::{Duration, Instant, Timer as EmbassyTimer};
use embedded_tls::pki::CertVerifier;
use embedded_tls::{
    Aes128GcmSha256, Certificate, CryptoProvider, NoClock, TlsConfig, TlsConnection, TlsContext,
    TlsError, TlsVerifier,
};
use lastline_core::decoders::SubmitDecoder;
use lastline_core::hashing::{Algorithms, MultiHasher};
use lastline_core::request::SubmitFile;
use lastline_core::types::{Timestamp, Uuid};
use lastline_core::workflow::{CompletionCursor, HashFirst};
use lastline_core::Credentials;
use lastline_embedded::asynch::{Client, Connector, Timer};
use lastline_embedded::{Error, Origin, Settings, SliceSample};

/// The analysis server and how to trust and reach it.
pub struct Server<'a> {
    /// Its name: the TLS server name, the `Host` header.
    pub name: &'a str,
    /// Where to connect.
    pub endpoint: IpEndpoint,
    /// The CA its certificate must chain to (DER).
    pub ca_der: &'static [u8],
    /// The API key.
    pub key: &'a str,
    /// The API token.
    pub api_token: &'a str,
}

/// Where the completion cursor is kept between pages and reboots (a flash
/// page on a device).
pub trait Persist {
    /// The bytes saved last, if any.
    fn load(&mut self) -> Option<&[u8]>;
    /// Saves these bytes.
    fn save(&mut self, bytes: &[u8]);
}

/// How the task ended.
#[derive(Debug)]
pub enum Failed {
    /// The server's certificate does not chain to the pinned CA: no new
    /// session would change that.
    Tls(TlsError),
    /// A failure no new session mends (an API error, say).
    Api(Error),
}

/// Connections this task may open before it gives up for now.
const MAX_SESSIONS: u32 = 32;

/// Submits `capture` hash-first (uploading it only if the server asks)
/// and waits on the completion cursor for its verdict; returns the score.
/// A new TCP connection and TLS session is opened whenever the server
/// closes one, up to 32 in a row without progress.
pub async fn submit_and_wait<R, P>(
    stack: Stack<'_>,
    server: &Server<'_>,
    rng: &mut R,
    capture: &[u8],
    flash: &mut P,
) -> Result<i32, Failed>
where
    R: rand_core::RngCore + rand_core::CryptoRng,
    P: Persist,
{
    let creds = Credentials::new(server.key, Some(server.api_token))
        .map_err(|e| Failed::Api(Error::Core(e)))?;
    let mut digests = MultiHasher::new(Algorithms::ALL);
    digests.update(capture);
    let mut flow = HashFirst::new(digests.finish(), SubmitFile::default());
    let mut task: Option<(Uuid, Option<Timestamp>)> = None;
    let (mut tcp_rx, mut tcp_tx) = ([0u8; 2048], [0u8; 2048]);
    let (mut tls_rx, mut tls_tx) = ([0u8; 16_640], [0u8; 4096]);
    let mut sessions = 0;
    while sessions < MAX_SESSIONS {
        sessions += 1;
        let mut socket = TcpSocket::new(stack, &mut tcp_rx, &mut tcp_tx);
        socket.set_timeout(Some(Duration::from_secs(30)));
        if socket.connect(server.endpoint).await.is_err() {
            EmbassyTimer::after_secs(1).await;
            continue;
        }
        let mut tls = TlsConnection::new(socket, &mut tls_rx, &mut tls_tx);
        let config = TlsConfig::new().with_server_name(server.name);
        let provider = PinnedCa {
            rng: &mut *rng,
            verifier: CertVerifier::new(Certificate::X509(server.ca_der)),
        };
        match tls.open(TlsContext::new(&config, provider)).await {
            Ok(()) => {}
            Err(e @ (TlsError::InvalidCertificate | TlsError::InvalidSignature)) => {
                return Err(Failed::Tls(e))
            }
            Err(_) => continue,
        }
        #[cfg(feature = "defmt")]
        defmt::info!("lastline: session {} open", sessions);
        let origin = Origin { https: true, host: server.name, port: 443 };
        let clock = Clock(rng.next_u32() | 1);
        // No sessions: credentials go with every request, and the login's
        // code stays out of the image.
        let mut client: Client<'_, _, _, 2048, 512, false> = Client::with_connection(
            ThisSession(PhantomData),
            tls,
            clock,
            Settings::new(origin, creds),
        );
        #[cfg(feature = "defmt")]
        client.set_event_hook(|e| defmt::info!("lastline: {}", e));
        // Requests until one ends the session.
        let ended = loop {
            match task {
                None => match submit(&mut client, &mut flow, capture).await {
                    Ok(Some(done)) => task = Some(done),
                    Ok(None) => {}
                    Err(e) => break e,
                },
                Some((uuid, start)) => match poll(&mut client, uuid, start, flash).await {
                    Ok(Some(score)) => return Ok(score),
                    Ok(None) => EmbassyTimer::after_secs(5).await,
                    Err(e) => break e,
                },
            }
        };
        if !ended.ends_connection() {
            return Err(Failed::Api(ended));
        }
        #[cfg(feature = "defmt")]
        defmt::info!("lastline: session {} ended: {}", sessions, ended);
    }
    Err(Failed::Api(Error::Closed))
}

/// The next request of the hash-first submission: the task and its time
/// once the server has the capture.
async fn submit<
    C: Connector,
    T: Timer,
    const RX: usize,
    const U: usize,
    const S: bool,
>(
    client: &mut Client<'_, C, T, RX, U, S>,
    flow: &mut HashFirst<'_>,
    capture: &[u8],
) -> Result<Option<(Uuid, Option<Timestamp>)>, Error> {
    let req = flow
        .request()
        .ok_or(Error::Core(lastline_core::Error::WorkflowMisuse(
            "submitted",
        )))?;
    let mut sample = SliceSample(capture);
    let answer = client
        .call_with::<_, SubmitDecoder>(&req, Some(&mut sample), &mut |_| {})
        .await;
    let done = flow.on_response(answer)?;
    Ok(done.map(|d| (d.submission.task_uuid, d.submission.submission_timestamp)))
}

/// One completion page from the persisted cursor (or from a minute before
/// the submission); the task's score once it completed (-1 when it
/// completed without one).
async fn poll<
    C: Connector,
    T: Timer,
    P: Persist,
    const RX: usize,
    const U: usize,
    const S: bool,
>(
    client: &mut Client<'_, C, T, RX, U, S>,
    task: Uuid,
    start: Option<Timestamp>,
    flash: &mut P,
) -> Result<Option<i32>, Error> {
    let restored = flash.load().map(CompletionCursor::<8>::restore);
    let mut cursor = match restored {
        Some(Ok(c)) => c,
        _ => {
            let from = start.map_or(0, |t| t.unix()).saturating_sub(60);
            CompletionCursor::new(
                Timestamp::from_unix(from)
                    .map_err(|_| Error::Core(lastline_core::Error::CorruptState))?,
            )
        }
    };
    let mut score = None;
    client
        .completions(&mut cursor, &mut |t| {
            if t.task_uuid == task {
                score = Some(t.score.unwrap_or(-1));
            }
        })
        .await?;
    let mut bytes = [0u8; CompletionCursor::<8>::SAVED_LEN];
    let n = cursor.save(&mut bytes).map_err(Error::Core)?;
    flash.save(&bytes[..n]);
    Ok(score)
}

/// TLS with the server certificate checked against the pinned CA.
struct PinnedCa<'r, R> {
    rng: &'r mut R,
    verifier: CertVerifier<'static, Aes128GcmSha256, NoClock, 2048>,
}

impl<R: rand_core::RngCore + rand_core::CryptoRng> CryptoProvider for PinnedCa<'_, R> {
    type CipherSuite = Aes128GcmSha256;
    type Signature = [u8; 64];

    fn rng(&mut self) -> impl embedded_tls::CryptoRngCore {
        &mut *self.rng
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Self::CipherSuite>, TlsError> {
        Ok(&mut self.verifier)
    }
}

/// The client's connector: sessions are opened by the task, so when the
/// server closes one the request fails at once (a refusal, not retried)
/// and the task opens the next.
pub struct ThisSession<S>(PhantomData<S>);

impl<S: embedded_io_async::Read + embedded_io_async::Write> Connector for ThisSession<S> {
    type Connection = S;
    async fn connect(&mut self, _: &Origin<'_>) -> Result<S, Error> {
        Err(Error::Closed)
    }
}

/// embassy-time's clock and sleep for the retry schedule; jitter from a
/// generator seeded by the TLS randomness.
struct Clock(u32);

impl Timer for Clock {
    fn now_ms(&mut self) -> u64 {
        Instant::now().as_millis()
    }
    fn random(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
    async fn delay_ms(&mut self, ms: u64) {
        EmbassyTimer::after_millis(ms).await;
    }
}
