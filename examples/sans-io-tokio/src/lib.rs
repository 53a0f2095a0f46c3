//! Recipe for integrators: `lastline-core` driven from tokio's `TcpStream`
//! with no transport crate. The core writes request bytes into our buffer
//! and asks for the sample where it belongs; we read whatever the socket
//! gives and feed it to the response reader. Any runtime, event loop or FFI
//! works the same way.

use lastline_core::envelope::DataDecoder;
use lastline_core::hashing::{digest, Algorithms};
use lastline_core::http::{ClientConfig, EncodeStep, RequestEncoder};
use lastline_core::request::{Request, SubmitFile};
use lastline_core::response::{EnvelopeResponse, Progress};
use lastline_core::responses::{CompletedDecoder, SubmitDecoder};
use lastline_core::types::{Timestamp, Uuid};
use lastline_core::workflow::{CompletionCursor, HashFirst, NextPoll};
use lastline_core::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The receive buffer grows to this much for an oversized response head.
const MAX_BUFFER: usize = 64 * 1024;

/// A connection and the bytes read but not yet consumed.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    filled: usize,
}

/// Why an exchange failed: the socket or the API.
#[derive(Debug)]
pub enum Failure {
    /// Socket error.
    Io(std::io::Error),
    /// Protocol or API error, from the core.
    Api(Error),
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self::Api(e)
    }
}

impl Conn {
    /// Connects to `addr` (plain TCP; put TLS here in real use).
    pub async fn connect(addr: &str) -> std::io::Result<Self> {
        Ok(Self {
            stream: TcpStream::connect(addr).await?,
            buf: vec![0; 4096],
            filled: 0,
        })
    }

    /// Sends `req` and decodes the answer with `D`, handing list entries to
    /// `each`.
    pub async fn exchange<R: Request, D: DataDecoder + Default>(
        &mut self,
        req: &R,
        cfg: &ClientConfig<'_>,
        sample: &[u8],
        mut each: impl FnMut(D::Item),
    ) -> Result<D::Output, Failure> {
        // 1. Write: the encoder fills our buffer; the sample goes as is.
        let mut enc = RequestEncoder::new(req, cfg, rand_bytes())?;
        let mut out = [0u8; 1024];
        loop {
            match enc.poll(&mut out) {
                EncodeStep::Write(n) => self.stream.write_all(&out[..n]).await?,
                EncodeStep::SendFile { .. } => {
                    self.stream.write_all(sample).await?;
                    enc.file_sent();
                }
                EncodeStep::Done => break,
            }
        }
        // 2. Read: feed what arrives; keep what the reader did not consume.
        let mut resp = EnvelopeResponse::<D, 1024>::default();
        loop {
            let (n, p) = resp.feed(&self.buf[..self.filled])?;
            self.buf.copy_within(n..self.filled, 0);
            self.filled -= n;
            match p {
                Progress::Item(item) => each(item),
                Progress::Done => return Ok(resp.finish()?),
                Progress::Head => {}
                Progress::NeedMore => {
                    if self.filled == self.buf.len() {
                        // A head larger than the buffer: grow, within reason.
                        if self.buf.len() >= MAX_BUFFER {
                            return Err(Error::Http(lastline_core::HttpError::HeadTooLarge).into());
                        }
                        self.buf.resize(self.buf.len() * 2, 0);
                    }
                    let got = self.stream.read(&mut self.buf[self.filled..]).await?;
                    if got == 0 {
                        resp.close()?;
                        return Ok(resp.finish()?);
                    }
                    self.filled += got;
                }
            }
        }
    }
}

/// Boundary entropy; use a real RNG in production.
fn rand_bytes() -> [u8; 16] {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    t.as_nanos().to_le_bytes()
}

/// Submits `sample` hash-first (uploading only on 101), then follows one
/// completion cursor until the task completes. Returns the task, whether
/// it was uploaded, and its score.
pub async fn submit_and_wait(
    conn: &mut Conn,
    cfg: &ClientConfig<'_>,
    sample: &[u8],
    since: Timestamp,
) -> Result<(Uuid, bool, i32), Failure> {
    let mut flow = HashFirst::new(digest(Algorithms::ALL, sample), SubmitFile::default());
    let done = loop {
        let req = flow.request().ok_or(Error::WorkflowMisuse("finished"))?;
        // Socket failures end here; API answers (101 included) go to the flow.
        let answer = match conn
            .exchange::<_, SubmitDecoder>(&req, cfg, sample, |_| {})
            .await
        {
            Err(Failure::Io(e)) => return Err(Failure::Io(e)),
            Err(Failure::Api(e)) => Err(e),
            Ok(submission) => Ok(submission),
        };
        if let Some(done) = flow.on_response(answer)? {
            break done;
        }
    };
    let task = done.submission.task_uuid;
    let mut cursor = CompletionCursor::<64>::new(since);
    loop {
        let mut score = None;
        let page = conn
            .exchange::<_, CompletedDecoder>(&cursor.request(), cfg, &[], |t| {
                if cursor.accept(t.task_uuid) && t.task_uuid == task {
                    score = t.score;
                }
            })
            .await?;
        let next = cursor.page_done(&page);
        if let Some(s) = score {
            return Ok((task, done.uploaded, s));
        }
        if next == NextPoll::Later {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
}
