//! Firmware-shaped use of lastline-core, for measuring flash and RAM (not
//! for running): hash a captured file, submit it by hash, upload it on
//! 101, follow the completion cursor, fetch the result summary — through
//! the core's exchange machine, so the whole policy (retries with
//! `Retry-After`, reconnect, redirects) is in the image; sessions are left
//! out (`SESSIONS` false: credentials go with every request). The
//! "network" is a pair of volatile byte functions the optimiser cannot
//! see through, so every decoder and encoder path stays in the binary.
#![no_std]
#![no_main]

use core::ptr;

use cortex_m_rt::entry;
use lastline_core::envelope::DataDecoder;
use lastline_core::exchange::{Drive, Driven, Exchange, Failure, Link, Origin, Settings, Step};
use lastline_core::hashing::{Algorithms, Digests, MultiHasher};
use lastline_core::request::{GetResult, Request, SubmitFile};
use lastline_core::decoders::{CompletedDecoder, ResultSummaryDecoder, SubmitDecoder};
use lastline_core::types::{Timestamp, Uuid};
use lastline_core::workflow::{CompletionCursor, HashFirst};
use lastline_core::{Credentials, Error};
use panic_halt as _;

/// The device's interrupt vectors (an STM32F429-class MCU has 91), all
/// unhandled here: a PAC would provide this table. Without it
/// cortex-m-rt fills 240 vectors, 596 bytes a real device does not carry.
#[link_section = ".vector_table.interrupts"]
#[no_mangle]
static __INTERRUPTS: [unsafe extern "C" fn(); 91] = [DefaultHandler; 91];

extern "C" {
    /// cortex-m-rt's handler for interrupts nobody claimed.
    fn DefaultHandler();
}

/// Length of the captured file; its bytes are read from the capture
/// peripheral (twice: to hash, then to upload), never held whole.
const SAMPLE_LEN: usize = 4096;

/// Reads the next piece of the captured file.
fn capture(buf: &mut [u8]) {
    for b in buf.iter_mut() {
        *b = unsafe { ptr::read_volatile(0x4000_0010 as *const u8) };
    }
}
/// Where the cursor is persisted.
static mut CURSOR_FLASH: [u8; 256] = [0; 256];

/// 2 KiB send and receive buffer, as the target states.
const RX: usize = 2048;

fn tx(bytes: &[u8]) {
    for b in bytes {
        // SAFETY-free volatile sink: a register write stand-in.
        unsafe { ptr::write_volatile(0x4000_0000 as *mut u8, *b) };
    }
}

fn rx(buf: &mut [u8]) -> usize {
    let n = unsafe { ptr::read_volatile(0x4000_0004 as *const u16) } as usize;
    let n = n.min(buf.len());
    for b in buf.iter_mut().take(n) {
        *b = unsafe { ptr::read_volatile(0x4000_0008 as *const u8) };
    }
    n
}

/// A millisecond clock and a random source (register stand-ins).
fn now_ms() -> u64 {
    u64::from(unsafe { ptr::read_volatile(0x4000_0030 as *const u32) })
}

fn random() -> u32 {
    unsafe { ptr::read_volatile(0x4000_0020 as *const u32) }
}

/// What every exchange shares: the session and connection state, the
/// buffer.
struct Client {
    link: Link,
    buf: [u8; RX],
}

/// The only I/O loop: every exchange is a `Drive`, so this exists once.
/// The stand-in link is always connected.
#[inline(never)]
fn run(ex: &mut dyn Drive) -> Result<(), Failure> {
    loop {
        match ex.poll(now_ms(), random()) {
            Step::Connect(_) | Step::Data(_) | Step::RestartSink | Step::Event(_) => {}
            Step::Write(bytes) => tx(bytes),
            // The sample is read from the capture peripheral again.
            Step::SendSample { len, scratch } => {
                let mut left = len as usize;
                while left > 0 {
                    let n = left.min(scratch.len());
                    capture(&mut scratch[..n]);
                    tx(&scratch[..n]);
                    left -= n;
                }
            }
            Step::Read(space) => {
                let n = rx(space);
                ex.received(n);
            }
            Step::Sleep { until_ms } => while now_ms() < until_ms {},
            Step::Item(never) => match never {},
            Step::Done(r) => return r,
        }
    }
}

/// One call, its list entries to `each`. Not inlined: each exchange is
/// built in this frame, not moved through its caller's (smaller flash).
#[inline(never)]
fn call<R: Request, D: DataDecoder + Default>(
    c: &mut Client,
    s: &Settings<'_>,
    req: &R,
    each: &mut dyn FnMut(D::Item),
) -> Result<D::Output, Failure> {
    let ex = Exchange::<R, D, 512, false>::call(req, s, &mut c.link, &mut c.buf);
    let mut driven = Driven::new(ex, each);
    run(&mut driven)?;
    driven.output().ok_or(Failure {
        error: Error::WorkflowMisuse("no output"),
        attempts: 1,
        status: None,
        message: None,
    })
}

/// Hashes the captured file in one pass (reading it from the capture
/// peripheral through the client's buffer).
#[inline(never)]
fn hash_capture(c: &mut Client) -> Digests {
    let mut h = MultiHasher::new(Algorithms::ALL);
    let mut left = SAMPLE_LEN;
    while left > 0 {
        let n = left.min(c.buf.len());
        capture(&mut c.buf[..n]);
        h.update(&c.buf[..n]);
        left -= n;
    }
    h.finish()
}

/// Submits by hash, uploads on 101; returns the task.
#[inline(never)]
fn submit(c: &mut Client, s: &Settings<'_>) -> Result<Uuid, Failure> {
    let digests = hash_capture(c);
    let mut flow = HashFirst::new(digests, SubmitFile { filename: Some("capture.bin"), ..SubmitFile::default() });
    loop {
        let req = flow.request().ok_or_else(|| misuse("done"))?;
        let answer = call::<_, SubmitDecoder>(c, s, &req, &mut |_| {});
        if let Some(done) = flow.on_response(answer)? {
            return Ok(done.submission.task_uuid);
        }
    }
}

fn fail(error: Error) -> Failure {
    Failure { error, attempts: 1, status: None, message: None }
}

fn misuse(what: &'static str) -> Failure {
    fail(Error::WorkflowMisuse(what))
}

/// Reads one completion page; returns the task's score if it completed.
#[inline(never)]
fn poll_completions(c: &mut Client, s: &Settings<'_>, task: Uuid) -> Result<Option<i32>, Failure> {
    let saved = unsafe { &mut *ptr::addr_of_mut!(CURSOR_FLASH) };
    let mut cursor = CompletionCursor::<8>::restore(saved)
        .or_else(|_| Timestamp::from_unix(1_700_000_000).map(CompletionCursor::new).map_err(|_| Error::CorruptState))
        .map_err(fail)?;
    let mut score = None;
    let req = cursor.request();
    let page = call::<_, CompletedDecoder>(c, s, &req, &mut |t| {
        if cursor.accept(t.task_uuid) && t.task_uuid == task {
            score = t.score;
        }
    })?;
    cursor.page_done(&page, None).map_err(fail)?;
    cursor.save(saved).map_err(fail)?;
    Ok(score)
}

/// The verdict of a completed task.
#[inline(never)]
fn verdict(c: &mut Client, s: &Settings<'_>, task: Uuid) -> Result<i32, Failure> {
    let req = GetResult { score_only: Some(true), ..GetResult::new(task) };
    let result = call::<_, ResultSummaryDecoder>(c, s, &req, &mut |_| {})?;
    Ok(result.score.unwrap_or(-1))
}

fn session(c: &mut Client) -> Result<i32, Failure> {
    let creds = Credentials::new("sensor-key", Some("sensor-token")).map_err(fail)?;
    let server = Origin { https: true, host: "analysis.lastline.com", port: 443 };
    let s = Settings::new(server, creds);
    let task = submit(c, &s)?;
    match poll_completions(c, &s, task)? {
        Some(_) => verdict(c, &s, task),
        None => Ok(-1),
    }
}

#[entry]
fn main() -> ! {
    let mut client = Client { link: Link::new(), buf: [0; RX] };
    let verdict = session(&mut client).unwrap_or(-1);
    unsafe { ptr::write_volatile(0x4000_000c as *mut i32, verdict) };
    loop {}
}
