//! Firmware-shaped use of lastline-core, for measuring flash and RAM (not
//! for running): hash a captured file, submit it by hash, upload it on
//! 101, follow the completion cursor, fetch the result summary. The
//! "network" is a pair of volatile byte functions the optimiser cannot
//! see through, so every decoder and encoder path stays in the binary.
#![no_std]
#![no_main]

use core::ptr;

use cortex_m_rt::entry;
use lastline_core::envelope::{move_to_front, DataDecoder};
use lastline_core::hashing::{Algorithms, Digests, MultiHasher};
use lastline_core::http::{ClientConfig, EncodeStep, RequestEncoder};
use lastline_core::request::{GetResult, SubmitFile};
use lastline_core::response::{EnvelopeResponse, Progress};
use lastline_core::responses::{CompletedDecoder, ResultSummaryDecoder, SubmitDecoder};
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

/// 2 KiB receive buffer, as the target states.
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

/// The connection's buffers, shared by every exchange.
struct Link {
    rx: [u8; RX],
    tx: [u8; 256],
}

/// Writes a request (the encoder is not generic over the request's type,
/// so this loop exists once).
#[inline(never)]
fn send(link: &mut Link, enc: &mut RequestEncoder<'_>) -> Result<(), Error> {
    loop {
        match enc.poll(&mut link.tx) {
            EncodeStep::Write(n) => tx(&link.tx[..n]),
            EncodeStep::SendFile { len } => {
                let mut left = len as usize;
                while left > 0 {
                    let n = left.min(link.tx.len());
                    capture(&mut link.tx[..n]);
                    tx(&link.tx[..n]);
                    left -= n;
                }
                enc.file_sent();
            }
            EncodeStep::Done => return Ok(()),
        }
    }
}

#[inline(never)]
fn receive<D: DataDecoder + Default>(link: &mut Link, mut each: impl FnMut(D::Item)) -> Result<D::Output, Error> {
    let mut resp = EnvelopeResponse::<D, 512>::default();
    let buf = &mut link.rx;
    let (mut start, mut end) = (0, 0);
    loop {
        let (n, p) = resp.feed(&buf[start..end])?;
        start += n;
        match p {
            Progress::Item(i) => each(i),
            Progress::Done => return resp.finish(),
            Progress::Head => {}
            Progress::NeedMore => {
                end = move_to_front(buf, start, end);
                start = 0;
                let got = rx(&mut buf[end..]);
                if got == 0 {
                    resp.close()?;
                } else {
                    end += got;
                }
            }
        }
    }
}

/// Hashes the captured file in one pass (reading it from the capture
/// peripheral through the link's transmit buffer).
#[inline(never)]
fn hash_capture(link: &mut Link) -> Digests {
    let mut h = MultiHasher::new(Algorithms::ALL);
    let mut left = SAMPLE_LEN;
    while left > 0 {
        let n = left.min(link.tx.len());
        capture(&mut link.tx[..n]);
        h.update(&link.tx[..n]);
        left -= n;
    }
    h.finish()
}

/// Submits by hash, uploads on 101; returns the task.
#[inline(never)]
fn submit(link: &mut Link, cfg: &ClientConfig<'_>) -> Result<Uuid, Error> {
    let digests = hash_capture(link);
    let mut flow = HashFirst::new(digests, SubmitFile { filename: Some("capture.bin"), ..SubmitFile::default() });
    loop {
        let req = flow.request().ok_or(Error::WorkflowMisuse("done"))?;
        send(link, &mut RequestEncoder::new(&req, cfg, [0x42; 16])?)?;
        let answer = receive::<SubmitDecoder>(link, |_| {});
        if let Some(done) = flow.on_response(answer)? {
            return Ok(done.submission.task_uuid);
        }
    }
}

/// Reads one completion page; returns the task's score if it completed.
#[inline(never)]
fn poll_completions(link: &mut Link, cfg: &ClientConfig<'_>, task: Uuid) -> Result<Option<i32>, Error> {
    let saved = unsafe { &mut *ptr::addr_of_mut!(CURSOR_FLASH) };
    let mut cursor = CompletionCursor::<8>::restore(saved)
        .or_else(|_| Timestamp::from_unix(1_700_000_000).map(CompletionCursor::new).map_err(|_| Error::CorruptState))?;
    let mut score = None;
    send(link, &mut RequestEncoder::new(&cursor.request(), cfg, [0x42; 16])?)?;
    let page = receive::<CompletedDecoder>(link, |t| {
        if cursor.accept(t.task_uuid) && t.task_uuid == task {
            score = t.score;
        }
    })?;
    cursor.page_done(&page);
    cursor.save(saved)?;
    Ok(score)
}

/// The verdict of a completed task.
#[inline(never)]
fn verdict(link: &mut Link, cfg: &ClientConfig<'_>, task: Uuid) -> Result<i32, Error> {
    let req = GetResult { score_only: Some(true), ..GetResult::new(task) };
    send(link, &mut RequestEncoder::new(&req, cfg, [0x42; 16])?)?;
    let result = receive::<ResultSummaryDecoder>(link, |_| {})?;
    Ok(result.score.unwrap_or(-1))
}

fn run(link: &mut Link) -> Result<i32, Error> {
    let creds = Credentials::new("sensor-key", Some("sensor-token"))?;
    let cfg = ClientConfig::new("analysis.lastline.com", creds);
    let task = submit(link, &cfg)?;
    match poll_completions(link, &cfg, task)? {
        Some(_) => verdict(link, &cfg, task),
        None => Ok(-1),
    }
}

#[entry]
fn main() -> ! {
    let mut link = Link { rx: [0; RX], tx: [0; 256] };
    let verdict = run(&mut link).unwrap_or(-1);
    unsafe { ptr::write_volatile(0x4000_000c as *mut i32, verdict) };
    loop {}
}
