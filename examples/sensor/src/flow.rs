//! The sensor's logic, shared by its boards (the register stand-in built
//! to measure flash, QEMU's mps2-an386 to run): hash each capture once,
//! submit it by hash, upload it only on 101, learn every verdict from one
//! completion cursor persisted after each page, then submit the first
//! capture again, which the server knows (no upload).
//!
//! Each request runs on the connection open at the time. When the server
//! closes it, the next request finds no connection (the client's connector
//! cannot make one: the board opens connections, and TLS sessions borrow
//! their record buffers), so [`run`] opens a new TCP connection and TLS
//! session and the work goes on where it stood: the hash-first workflow
//! and the cursor are state machines of lastline-core, kept across
//! sessions.

use core::marker::PhantomData;

use embedded_io::{Read, Write};
use lastline_core::decoders::SubmitDecoder;
use lastline_core::hashing::{Algorithms, MultiHasher};
use lastline_core::request::SubmitFile;
use lastline_core::types::{Timestamp, Uuid};
use lastline_core::workflow::{CompletionCursor, HashFirst};
use lastline_core::Credentials;
use lastline_embedded::blocking::{Client, Connector, Timer};
use lastline_embedded::{Error, Origin, Settings, SliceSample};

#[cfg(not(feature = "plain-tcp"))]
use embedded_tls::blocking::{TlsConfig, TlsConnection, TlsContext};
#[cfg(not(feature = "plain-tcp"))]
use embedded_tls::pki::CertVerifier;
#[cfg(not(feature = "plain-tcp"))]
use embedded_tls::{Aes128GcmSha256, Certificate, CryptoProvider, NoClock, TlsVerifier};

pub use embedded_tls::TlsError;

/// The CA the sensor trusts for the analysis server (DER; `SENSOR_CA_DER`
/// at build time).
#[cfg(not(feature = "plain-tcp"))]
static PINNED_CA: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/pinned-ca.der"));

/// The sensor's API credentials.
const KEY: &str = "sensor-key";
const TOKEN: &str = "sensor-token";
/// Most captures a run submits.
const MAX_CAPTURES: usize = 4;
/// Most connections a run opens before it gives up.
const MAX_SESSIONS: u32 = 64;
/// Between completion pages that did not bring every verdict.
const POLL_INTERVAL_MS: u64 = 1_000;

/// A captured file.
pub struct Capture {
    /// Its name (sent as the file name).
    pub name: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
}

/// What a board gives the sensor.
pub trait Board {
    /// The analysis server's name (TLS server name, `Host`).
    const SERVER: &'static str;
    /// A TCP connection to the server.
    type Tcp: Read + Write;
    /// The retry policy's clock, randomness and sleep.
    type Clock: Timer;
    /// The TLS stack's randomness.
    type Rng: rand_core::RngCore + rand_core::CryptoRng;
    /// Opens a new TCP connection to the server (`None`: it could not).
    fn connect(&mut self) -> Option<Self::Tcp>;
    /// The clock.
    fn clock(&mut self) -> Self::Clock;
    /// The TLS randomness.
    #[cfg_attr(feature = "plain-tcp", allow(dead_code))] // no TLS to feed
    fn rng(&mut self) -> Self::Rng;
    /// Where the client's own actions (retries, reconnects, redirects) are
    /// told, if anywhere.
    const EVENTS: Option<fn(&lastline_core::exchange::Event)> = None;
    /// Tells what happened (a device would log it or raise a flag).
    fn report(&mut self, what: Report<'_>);
    /// Instructions executed so far, waits for the network left out (0
    /// where the board cannot count them).
    fn work(&mut self) -> u64 {
        0
    }
}

/// What the sensor tells its board (the stand-in board shows only some
/// of it).
#[cfg_attr(not(feature = "qemu"), allow(dead_code))]
pub enum Report<'a> {
    /// A connection and its TLS session are open.
    Session {
        /// Connections opened so far.
        number: u32,
        /// Work of the TCP open and the TLS handshake.
        handshake_work: u64,
    },
    /// A capture was hashed (MD5, SHA-1, SHA-256 in one pass).
    Hashed {
        /// The capture.
        capture: &'a str,
        /// Its length.
        bytes: usize,
        /// Work of hashing it.
        work: u64,
    },
    /// The server has the capture: its task.
    Submitted {
        /// The capture.
        capture: &'a str,
        /// The task.
        task: Uuid,
        /// Whether it had to be uploaded (101).
        uploaded: bool,
    },
    /// A verdict, from the completion cursor.
    Verdict {
        /// The capture.
        capture: &'a str,
        /// The task.
        task: Uuid,
        /// 0..=100.
        score: i32,
    },
    /// A session ended: the connection was closed or broke (`tls`: in its
    /// handshake), or the server stayed unavailable; the next carries on.
    SessionEnded {
        /// Its number.
        number: u32,
        /// In the TLS handshake (else, a request's failure).
        tls: Option<TlsError>,
        /// The request's failure, if that ended it.
        error: Option<Error>,
    },
    /// A completion page was read and the cursor persisted.
    CursorSaved {
        /// Bytes written to the cursor's "flash".
        bytes: usize,
    },
}

/// Why a run stopped short.
#[derive(Debug)]
pub enum Stop {
    /// The server's certificate did not verify against the pinned CA (or
    /// another handshake failure a new session would not mend).
    // Read only through `Debug` on the stand-in board; never built over
    // plain TCP.
    #[cfg_attr(any(not(feature = "qemu"), feature = "plain-tcp"), allow(dead_code))]
    Tls(TlsError),
    /// A failure no new connection mends (an API error, say).
    Failed(Error),
    /// The server kept closing or refusing connections.
    TooManySessions,
    /// A resubmitted capture was uploaded again: the server did not know
    /// its hash.
    NotKnown,
}

/// Runs the whole flow over `captures` (at most four).
pub fn run<B: Board>(board: &mut B, captures: &'static [Capture]) -> Result<(), Stop> {
    let creds = Credentials::new(KEY, Some(TOKEN)).map_err(|e| Stop::Failed(Error::Core(e)))?;
    let mut work = Work::new(captures, board)?;
    // TLS record buffers: the largest record the server may send, and ours.
    #[cfg(not(feature = "plain-tcp"))]
    let (mut rx, mut tx) = ([0u8; 16_640], [0u8; 4096]);
    for number in 1..=MAX_SESSIONS {
        let before = board.work();
        let Some(tcp) = board.connect() else {
            continue;
        };
        #[cfg(not(feature = "plain-tcp"))]
        let conn = match open_tls(board, tcp, &mut rx, &mut tx) {
            Ok(c) => c,
            Err(e) if verification_failed(&e) => return Err(Stop::Tls(e)),
            Err(e) => {
                board.report(Report::SessionEnded {
                    number,
                    tls: Some(e),
                    error: None,
                });
                continue;
            }
        };
        #[cfg(feature = "plain-tcp")]
        let conn = tcp;
        let handshake_work = board.work().saturating_sub(before);
        board.report(Report::Session {
            number,
            handshake_work,
        });
        let server = Origin { https: true, host: B::SERVER, port: 443 };
        let clock = board.clock();
        // No sessions: credentials go with every request, and the login's
        // code stays out of the image.
        let mut client: Client<'_, _, _, 2048, 512, false> = Client::with_connection(
            ThisSession(PhantomData),
            conn,
            clock,
            Settings::new(server, creds),
        );
        if let Some(hook) = B::EVENTS {
            client.set_event_hook(hook);
        }
        loop {
            match work.step(&mut client, board) {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(Stop::Failed(e)) if e.ends_connection() => {
                    board.report(Report::SessionEnded {
                        number,
                        tls: None,
                        error: Some(e),
                    });
                    break;
                }
                Err(stop) => return Err(stop),
            }
        }
    }
    Err(Stop::TooManySessions)
}

/// Where the work stands.
enum Stage {
    /// Hash-first submission of capture `i`.
    Submit { i: usize, flow: HashFirst<'static> },
    /// Reading completions until every verdict is in.
    Wait,
    /// The first capture again: the server should know its hash.
    Again { flow: HashFirst<'static> },
}

/// The run's state, kept across connections.
struct Work {
    captures: &'static [Capture],
    tasks: [Option<Uuid>; MAX_CAPTURES],
    scores: [Option<i32>; MAX_CAPTURES],
    /// The earliest submission time (the cursor's start).
    start: Option<Timestamp>,
    stage: Stage,
    /// A RAM stand-in for the flash page holding the cursor.
    flash: [u8; CompletionCursor::<8>::SAVED_LEN],
    saved: usize,
}

impl Work {
    fn new<B: Board>(captures: &'static [Capture], board: &mut B) -> Result<Self, Stop> {
        if captures.is_empty() || captures.len() > MAX_CAPTURES {
            return Err(Stop::Failed(Error::Core(
                lastline_core::Error::WorkflowMisuse("one to four captures"),
            )));
        }
        Ok(Self {
            captures,
            tasks: [None; MAX_CAPTURES],
            scores: [None; MAX_CAPTURES],
            start: None,
            stage: Stage::Submit {
                i: 0,
                flow: hash(board, &captures[0]),
            },
            flash: [0; CompletionCursor::<8>::SAVED_LEN],
            saved: 0,
        })
    }

    /// One request on the current connection; `true` once all is done.
    fn step<C, T, B, const RX: usize, const U: usize, const S: bool>(
        &mut self,
        client: &mut Client<'_, C, T, RX, U, S>,
        board: &mut B,
    ) -> Result<bool, Stop>
    where
        C: Connector,
        T: Timer,
        B: Board,
    {
        match &mut self.stage {
            Stage::Submit { i, flow } => {
                let i = *i;
                let capture = &self.captures[i];
                let Some(done) = submit(client, flow, capture)? else {
                    return Ok(false);
                };
                let s = done.submission;
                self.tasks[i] = Some(s.task_uuid);
                if let Some(t) = s.submission_timestamp {
                    self.start = Some(self.start.map_or(t, |old| old.min(t)));
                }
                board.report(Report::Submitted {
                    capture: capture.name,
                    task: s.task_uuid,
                    uploaded: done.uploaded,
                });
                self.stage = match self.captures.get(i + 1) {
                    Some(next) => Stage::Submit {
                        i: i + 1,
                        flow: hash(board, next),
                    },
                    None => Stage::Wait,
                };
                Ok(false)
            }
            Stage::Wait => {
                if self.poll_completions(client, board)? {
                    self.stage = Stage::Again {
                        flow: hash(board, &self.captures[0]),
                    };
                } else {
                    board.clock().delay_ms(POLL_INTERVAL_MS);
                }
                Ok(false)
            }
            Stage::Again { flow } => {
                let capture = &self.captures[0];
                let Some(done) = submit(client, flow, capture)? else {
                    return Ok(false);
                };
                board.report(Report::Submitted {
                    capture: capture.name,
                    task: done.submission.task_uuid,
                    uploaded: done.uploaded,
                });
                if done.uploaded {
                    return Err(Stop::NotKnown);
                }
                Ok(true)
            }
        }
    }

    /// One completion page from the persisted cursor; `true` once every
    /// capture has its verdict.
    fn poll_completions<C, T, B, const RX: usize, const U: usize, const S: bool>(
        &mut self,
        client: &mut Client<'_, C, T, RX, U, S>,
        board: &mut B,
    ) -> Result<bool, Stop>
    where
        C: Connector,
        T: Timer,
        B: Board,
    {
        let core = |e| Stop::Failed(Error::Core(e));
        // From the flash page when it holds a cursor, else from a minute
        // before the first submission (the server's clock, as it said).
        let mut cursor = match CompletionCursor::<8>::restore(&self.flash[..self.saved]) {
            Ok(c) => c,
            Err(_) => {
                let start = self.start.map_or(0, |t| t.unix()).saturating_sub(60);
                CompletionCursor::new(
                    Timestamp::from_unix(start)
                        .map_err(|_| core(lastline_core::Error::CorruptState))?,
                )
            }
        };
        let (tasks, scores) = (&self.tasks, &mut self.scores);
        client
            .completions(&mut cursor, &mut |t| {
                for (task, score) in tasks.iter().zip(scores.iter_mut()) {
                    if *task == Some(t.task_uuid) && t.score.is_some() {
                        *score = t.score;
                    }
                }
            })
            .map_err(Stop::Failed)?;
        self.saved = cursor.save(&mut self.flash).map_err(core)?;
        board.report(Report::CursorSaved { bytes: self.saved });
        let n = self.captures.len();
        if self.scores[..n].iter().any(Option::is_none) {
            return Ok(false);
        }
        for (i, capture) in self.captures.iter().enumerate() {
            if let (Some(task), Some(score)) = (self.tasks[i], self.scores[i]) {
                board.report(Report::Verdict {
                    capture: capture.name,
                    task,
                    score,
                });
            }
        }
        Ok(true)
    }
}

/// Hashes a capture once (MD5, SHA-1, SHA-256 in one pass) and starts its
/// hash-first submission.
#[inline(never)]
fn hash<B: Board>(board: &mut B, capture: &Capture) -> HashFirst<'static> {
    let before = board.work();
    let mut h = MultiHasher::new(Algorithms::ALL);
    h.update(capture.bytes);
    let digests = h.finish();
    let work = board.work().saturating_sub(before);
    board.report(Report::Hashed {
        capture: capture.name,
        bytes: capture.bytes.len(),
        work,
    });
    HashFirst::new(
        digests,
        SubmitFile {
            filename: Some(capture.name),
            ..SubmitFile::default()
        },
    )
}

/// The next request of a hash-first submission; its outcome once the
/// server has the capture.
fn submit<C, T, const RX: usize, const U: usize, const S: bool>(
    client: &mut Client<'_, C, T, RX, U, S>,
    flow: &mut HashFirst<'static>,
    capture: &Capture,
) -> Result<Option<lastline_core::workflow::HashFirstOutcome>, Stop>
where
    C: Connector,
    T: Timer,
{
    let core = |e| Stop::Failed(Error::Core(e));
    let req = flow
        .request()
        .ok_or(core(lastline_core::Error::WorkflowMisuse("submitted")))?;
    let mut sample = SliceSample(capture.bytes);
    let answer = client.call_with::<_, SubmitDecoder>(&req, Some(&mut sample), &mut |_| {});
    flow.on_response(answer).map_err(Stop::Failed)
}

/// TLS with the server certificate checked against the pinned CA.
#[cfg(not(feature = "plain-tcp"))]
struct PinnedCa<R> {
    rng: R,
    verifier: CertVerifier<'static, Aes128GcmSha256, NoClock, 2048>,
}

#[cfg(not(feature = "plain-tcp"))]
impl<R: rand_core::RngCore + rand_core::CryptoRng> CryptoProvider for PinnedCa<R> {
    type CipherSuite = Aes128GcmSha256;
    type Signature = [u8; 64];

    fn rng(&mut self) -> impl embedded_tls::CryptoRngCore {
        &mut self.rng
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Self::CipherSuite>, TlsError> {
        Ok(&mut self.verifier)
    }
}

/// Opens a TLS session over `tcp` (apart from the client, so the
/// handshake's frame is not stacked under the client's, and the TLS
/// stack's code is not inlined into ours and counted as ours).
#[cfg(not(feature = "plain-tcp"))]
#[inline(never)]
fn open_tls<'b, B: Board>(
    board: &mut B,
    tcp: B::Tcp,
    rx: &'b mut [u8],
    tx: &'b mut [u8],
) -> Result<TlsConnection<'b, B::Tcp, Aes128GcmSha256>, TlsError> {
    let config = TlsConfig::new().with_server_name(B::SERVER);
    let provider = PinnedCa {
        rng: board.rng(),
        verifier: CertVerifier::new(Certificate::X509(PINNED_CA)),
    };
    let mut tls = TlsConnection::new(tcp, rx, tx);
    tls.open(TlsContext::new(&config, provider))?;
    Ok(tls)
}

/// Whether a handshake failed on the server's certificate: no new session
/// would verify it either.
#[cfg(not(feature = "plain-tcp"))]
fn verification_failed(e: &TlsError) -> bool {
    matches!(
        e,
        TlsError::InvalidCertificate
            | TlsError::InvalidCertificateEntry
            | TlsError::InvalidSignature
            | TlsError::InvalidSignatureScheme
            | TlsError::HandshakeAborted(..)
    )
}

/// The client's connector: connections are opened by [`run`], so when the
/// server closes one the request fails at once (a refusal, not retried)
/// and `run` opens the next.
struct ThisSession<S>(PhantomData<S>);

impl<S: Read + Write> Connector for ThisSession<S> {
    type Connection = S;
    fn connect(&mut self, _: &lastline_embedded::Origin<'_>) -> Result<S, Error> {
        Err(Error::Closed)
    }
}
