//! Recipe for integrators: `lastline-core`'s exchange machine driven from
//! tokio with no transport crate. The machine says what to do next —
//! connect, write, read, sleep — and we do it with tokio's `TcpStream`;
//! sessions, retries, reconnects and redirects are the machine's, so this
//! file has none of them. Any runtime, event loop or FFI works the same way.

use std::time::Instant;

use lastline_core::decoders::{CompletedDecoder, SubmitDecoder};
use lastline_core::envelope::DataDecoder;
use lastline_core::exchange::{Event, Exchange, Failure, Link, Settings, Step};
use lastline_core::hashing::{digest, Algorithms};
use lastline_core::request::{Request, SubmitFile};
use lastline_core::types::{Timestamp, Uuid};
use lastline_core::workflow::{CompletionCursor, HashFirst, NextPoll};
use lastline_core::Transport;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A client: the settings, what outlives one exchange (session,
/// connection), and a buffer.
pub struct Client<'s> {
    settings: Settings<'s>,
    link: Link,
    conn: Option<TcpStream>,
    buf: Vec<u8>,
    clock: Instant,
    /// What the machine did on its own (retries, redirects...), for logs.
    pub events: Vec<Event>,
}

/// An I/O error as the machine counts it.
fn failed(e: std::io::Error) -> Transport {
    match e.kind() {
        std::io::ErrorKind::TimedOut => Transport::TimedOut,
        _ => Transport::Closed,
    }
}

impl<'s> Client<'s> {
    /// A client for `settings` (nothing is connected yet).
    pub fn new(settings: Settings<'s>) -> Self {
        Self {
            settings,
            link: Link::new(),
            conn: None,
            buf: vec![0; 16 * 1024],
            clock: Instant::now(),
            events: Vec::new(),
        }
    }

    /// Calls a method and decodes its answer with `D`; an upload's sample
    /// is `sample`.
    pub async fn call<R: Request, D: DataDecoder + Default>(
        &mut self,
        req: &R,
        sample: &[u8],
        mut each: impl FnMut(D::Item),
    ) -> Result<D::Output, Failure> {
        let Self {
            settings,
            link,
            conn,
            buf,
            clock,
            events,
        } = self;
        let ex = Exchange::<R, D, 1024>::call(req, settings, link, buf);
        run(ex, conn, sample, &mut each, &mut Vec::new(), clock, events).await
    }

    /// Downloads a raw answer (a report, an artifact) into memory.
    pub async fn download<R: Request>(&mut self, req: &R) -> Result<Vec<u8>, Failure> {
        let Self {
            settings,
            link,
            conn,
            buf,
            clock,
            events,
        } = self;
        let ex = Exchange::download(req, settings, link, buf);
        let mut sink = Vec::new();
        run(ex, conn, &[], &mut |_| {}, &mut sink, clock, events).await?;
        Ok(sink)
    }
}

/// The whole driver: poll, do what the step says, tell, until done.
async fn run<R: Request, D: DataDecoder + Default, const N: usize>(
    mut ex: Exchange<'_, R, D, N>,
    conn: &mut Option<TcpStream>,
    sample: &[u8],
    each: &mut impl FnMut(D::Item),
    sink: &mut Vec<u8>,
    clock: &Instant,
    events: &mut Vec<Event>,
) -> Result<D::Output, Failure> {
    loop {
        let now = clock.elapsed().as_millis() as u64;
        // What went wrong, if anything, to tell the machine.
        let failure = match ex.poll(now, rand()) {
            // Plain TCP here; wrap it in TLS for `o.https` in real use.
            Step::Connect(o) => match TcpStream::connect((o.host, o.port)).await {
                Ok(s) => {
                    *conn = Some(s);
                    None
                }
                Err(_) => Some(Transport::Connect),
            },
            Step::Write(b) => stream(conn).write_all(b).await.err().map(failed),
            Step::SendSample { .. } => stream(conn).write_all(sample).await.err().map(failed),
            Step::Read(space) => match stream(conn).read(space).await {
                Ok(n) => {
                    ex.received(n);
                    None
                }
                Err(e) => Some(failed(e)),
            },
            Step::Sleep { until_ms } => {
                let wait = std::time::Duration::from_millis(until_ms.saturating_sub(now));
                tokio::time::sleep(wait).await;
                None
            }
            Step::Item(i) => {
                each(i);
                None
            }
            Step::Data(d) => {
                sink.extend_from_slice(d);
                None
            }
            Step::RestartSink => {
                sink.clear();
                None
            }
            Step::Event(e) => {
                events.push(e);
                None
            }
            Step::Done(result) => {
                if !ex.keeps_connection() {
                    *conn = None;
                }
                return result;
            }
        };
        if let Some(t) = failure {
            ex.failed(t);
        }
    }
}

fn stream(conn: &mut Option<TcpStream>) -> &mut TcpStream {
    conn.as_mut()
        .expect("the machine connects before it writes or reads")
}

/// Jitter and boundary entropy; use a real RNG in production.
fn rand() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    t.subsec_nanos()
}

/// Submits `sample` hash-first (uploading only on 101), then follows one
/// completion cursor until the task completes. Returns the task, whether
/// it was uploaded, and its score.
pub async fn submit_and_wait(
    client: &mut Client<'_>,
    sample: &[u8],
    since: Timestamp,
) -> Result<(Uuid, bool, i32), Failure> {
    let mut flow = HashFirst::new(digest(Algorithms::ALL, sample), SubmitFile::default());
    let done = loop {
        let req = flow.request().expect("not finished");
        // The flow reads the 101; other failures come back here whole.
        let answer = client.call::<_, SubmitDecoder>(&req, sample, |_| {}).await;
        if let Some(done) = flow.on_response(answer)? {
            break done;
        }
    };
    let task = done.submission.task_uuid;
    let mut cursor = CompletionCursor::<64>::new(since);
    loop {
        let mut score = None;
        let page = client
            .call::<_, CompletedDecoder>(&cursor.request(), &[], |t| {
                if cursor.accept(t.task_uuid) && t.task_uuid == task {
                    score = t.score;
                }
            })
            .await?;
        // The local clock bounds how far the server may move the cursor.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| Timestamp::from_unix(d.as_secs() as i64).ok());
        let next = cursor.page_done(&page, now).map_err(|error| Failure {
            error,
            attempts: 1,
            status: None,
            message: None,
        })?;
        if let Some(s) = score {
            return Ok((task, done.uploaded, s));
        }
        if next == NextPoll::Later {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
}
