//! QEMU's mps2-an386 board (Cortex-M4 at 25 MHz): the sensor runs here,
//! against the emulator, over TLS.
//!
//! - **Byte stream**: UART0, which QEMU connects to a TCP socket on
//!   loopback, framed for `scripts/uart-relay.py` the way a UART-attached
//!   modem is driven: the image asks the relay to open a TCP connection to
//!   the server (`O id`), sends data (`D id len bytes`) and closes it
//!   (`C id`); the relay answers (`o id status`), forwards the server's
//!   bytes (`d id len bytes`) and says when the server closed (`c id`).
//!   Frames of an older connection are skipped by their id.
//! - **Clock**: SysTick at the core clock, one interrupt a millisecond;
//!   the count of core-clock ticks, less those spent waiting for the UART,
//!   measures work (under QEMU's `-icount shift=0` one tick is 40
//!   instructions, so the figures are instruction counts).
//! - **Randomness**: a seeded generator, **for tests only**: it makes
//!   every TLS key predictable. A device uses its hardware RNG.
//! - **Output**: semihosting (lines on QEMU's stdout, the exit status).

use core::fmt::Write as _;
use core::ptr::{addr_of, addr_of_mut, read_volatile, write_volatile};
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::exception;
use cortex_m_semihosting::{debug, hprintln};
use embedded_io::ErrorKind;

use crate::captures::CAPTURES;
use crate::flow::{self, Board, Report, Stop};

/// A line on QEMU's stdout (semihosting), with inline format arguments.
macro_rules! say {
    ($($t:tt)*) => { hprintln!("{}", format_args!($($t)*)) };
}

/// The core clock.
const CLOCK_HZ: u32 = 25_000_000;
const TICKS_PER_MS: u32 = CLOCK_HZ / 1000;
/// Instructions per core-clock tick under `-icount shift=0` (1 ns each).
const INSTRUCTIONS_PER_TICK: u64 = 1_000_000_000 / CLOCK_HZ as u64;

const UART0: usize = 0x4000_4000;
const UART_DATA: usize = UART0;
const UART_STATE: usize = UART0 + 0x04;
const UART_CTRL: usize = UART0 + 0x08;
const UART_BAUDDIV: usize = UART0 + 0x10;
const TX_FULL: u32 = 1;
const RX_FULL: u32 = 2;

/// Largest data frame the image sends.
const FRAME: usize = 1024;

static MILLIS: AtomicU32 = AtomicU32::new(0);
/// Core-clock ticks spent waiting on the UART (the network), low and high
/// words (no 64-bit atomics on this core; only the main loop writes them).
static WAITED_LO: AtomicU32 = AtomicU32::new(0);
static WAITED_HI: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    MILLIS.fetch_add(1, Ordering::Relaxed);
}

/// Core-clock ticks since boot.
fn ticks() -> u64 {
    loop {
        let ms = MILLIS.load(Ordering::Relaxed);
        let current = cortex_m::peripheral::SYST::get_current();
        if MILLIS.load(Ordering::Relaxed) == ms {
            return u64::from(ms) * u64::from(TICKS_PER_MS) + u64::from(TICKS_PER_MS - 1 - current);
        }
    }
}

fn waited() -> u64 {
    (u64::from(WAITED_HI.load(Ordering::Relaxed)) << 32)
        | u64::from(WAITED_LO.load(Ordering::Relaxed))
}

fn add_waited(t: u64) {
    let w = waited().wrapping_add(t);
    WAITED_LO.store(w as u32, Ordering::Relaxed);
    WAITED_HI.store((w >> 32) as u32, Ordering::Relaxed);
}

fn uart_state() -> u32 {
    unsafe { read_volatile(UART_STATE as *const u32) }
}

/// Waits until `ready` holds, counting the wait as not work.
fn wait_for(ready: impl Fn(u32) -> bool) {
    if ready(uart_state()) {
        return;
    }
    let t0 = ticks();
    while !ready(uart_state()) {}
    add_waited(ticks().saturating_sub(t0));
}

fn put(b: u8) {
    wait_for(|s| s & TX_FULL == 0);
    unsafe { write_volatile(UART_DATA as *mut u32, u32::from(b)) };
}

fn get() -> u8 {
    wait_for(|s| s & RX_FULL != 0);
    unsafe { read_volatile(UART_DATA as *const u32) as u8 }
}

fn get_u16() -> u16 {
    u16::from(get()) | (u16::from(get()) << 8)
}

/// A frame from the relay about connection `id`, older connections'
/// frames skipped.
enum Frame {
    Opened(bool),
    Data(u16),
    Closed,
}

fn frame_for(id: u8) -> Result<Frame, ErrorKind> {
    loop {
        let (kind, of) = (get(), get());
        let frame = match kind {
            b'o' => Frame::Opened(get() == 0),
            b'd' => {
                let len = get_u16();
                if of != id {
                    for _ in 0..len {
                        get();
                    }
                    continue;
                }
                Frame::Data(len)
            }
            b'c' => Frame::Closed,
            _ => return Err(ErrorKind::InvalidData),
        };
        if of == id {
            return Ok(frame);
        }
    }
}

/// One TCP connection through the relay.
pub struct Tcp {
    id: u8,
    /// Bytes of the current data frame not read yet.
    left: u16,
    closed: bool,
}

impl embedded_io::ErrorType for Tcp {
    type Error = ErrorKind;
}

impl embedded_io::Read for Tcp {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.left == 0 && !self.closed {
            match frame_for(self.id)? {
                Frame::Data(n) => self.left = n,
                Frame::Closed => self.closed = true,
                Frame::Opened(_) => return Err(ErrorKind::InvalidData),
            }
        }
        let n = buf.len().min(usize::from(self.left));
        for b in &mut buf[..n] {
            *b = get();
        }
        self.left -= n as u16;
        Ok(n)
    }
}

impl embedded_io::Write for Tcp {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        if self.closed {
            // Not Ok(0): embedded-io's write_all (the TLS stack's) panics
            // on a write of nothing.
            return Err(ErrorKind::ConnectionReset);
        }
        let n = buf.len().min(FRAME);
        put(b'D');
        put(self.id);
        put(n as u8);
        put((n >> 8) as u8);
        for &b in &buf[..n] {
            put(b);
        }
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

impl Drop for Tcp {
    fn drop(&mut self) {
        // The rest of a data frame read in part is next on the UART: read
        // past it, or it would be taken for frames.
        for _ in 0..self.left {
            get();
        }
        put(b'C');
        put(self.id);
    }
}

/// TEST ONLY: a seeded xorshift generator standing in for a hardware RNG.
/// Every TLS key it makes is predictable; never use it on a device.
pub struct TestRng(u64);

impl rand_core::RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand_core::impls::fill_bytes_via_next(self, dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for TestRng {}

/// The millisecond clock, busy-wait sleep, and jitter from the test RNG.
pub struct Clock(TestRng);

impl lastline_embedded::blocking::Timer for Clock {
    fn now_ms(&mut self) -> u64 {
        u64::from(MILLIS.load(Ordering::Relaxed))
    }
    fn random(&mut self) -> u32 {
        rand_core::RngCore::next_u32(&mut self.0)
    }
    fn delay_ms(&mut self, ms: u64) {
        let until = self.now_ms().saturating_add(ms);
        let t0 = ticks();
        while self.now_ms() < until {}
        add_waited(ticks().saturating_sub(t0));
    }
}

struct Mps2 {
    next_id: u8,
    seed: u64,
}

impl Board for Mps2 {
    const SERVER: &'static str = "localhost";
    const EVENTS: Option<fn(&lastline_core::exchange::Event)> =
        Some(|e| say!("sensor: client: {e:?}"));
    type Tcp = Tcp;
    type Clock = Clock;
    type Rng = TestRng;

    fn connect(&mut self) -> Option<Tcp> {
        self.next_id = self.next_id.wrapping_add(1);
        let id = self.next_id;
        put(b'O');
        put(id);
        match frame_for(id) {
            Ok(Frame::Opened(true)) => Some(Tcp {
                id,
                left: 0,
                closed: false,
            }),
            _ => None,
        }
    }

    fn clock(&mut self) -> Clock {
        Clock(self.rng())
    }

    fn rng(&mut self) -> TestRng {
        self.seed = self.seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        TestRng(self.seed | 1)
    }

    fn report(&mut self, what: Report<'_>) {
        match what {
            Report::Session {
                number,
                handshake_work,
            } => say!("sensor: session {number}: TCP and TLS 1.3 open ({} instructions)",
                handshake_work
            ),
            Report::Hashed {
                capture,
                bytes,
                work,
            } => say!("sensor: {capture}: hashed {bytes} bytes (MD5, SHA-1, SHA-256: {} instructions, {} per KiB)",
                work,
                work * 1024 / bytes.max(1) as u64
            ),
            Report::Submitted {
                capture,
                task,
                uploaded: true,
            } => say!("sensor: {capture}: task {task}: uploaded (the server asked: 101)"),
            Report::Submitted {
                capture,
                task,
                uploaded: false,
            } => say!("sensor: {capture}: task {task}: known hash, no upload"),
            Report::Verdict {
                capture,
                task,
                score,
            } => say!("sensor: verdict {capture}: task {task}: score {score}: {}",
                match score {
                    70.. => "malicious",
                    30..=69 => "suspicious",
                    _ => "benign",
                }
            ),
            Report::SessionEnded { number, tls, error } => match (tls, error) {
                (Some(t), _) => say!("sensor: session {number} ended in its handshake: {t:?}"),
                // Our connector's refusal: the server had closed the
                // connection and a new session is needed.
                (_, Some(lastline_embedded::Error::Exchange(f)))
                    if f.error == lastline_core::Error::Transport(lastline_core::Transport::Refused) =>
                {
                    say!("sensor: session {number} ended: the server closed the connection")
                }
                (_, Some(e)) => say!("sensor: session {number} ended: {e:?}"),
                _ => say!("sensor: session {number} ended"),
            },
            Report::CursorSaved { bytes } => {
                say!("sensor: completion cursor saved ({bytes} bytes)")
            }
        }
    }

    fn work(&mut self) -> u64 {
        ticks().saturating_sub(waited()) * INSTRUCTIONS_PER_TICK
    }
}

extern "C" {
    /// The end of the statics (cortex-m-rt): the stack may grow down to it.
    static mut __sheap: u32;
    /// The top of the stack (cortex-m-rt).
    static _stack_start: u32;
}

const PAINT: u32 = 0x5afe_57ac;

/// Paints the free stack below the current frame, so [`stack_used`] can
/// find how deep the stack went.
#[inline(never)]
fn paint_stack() {
    let bottom = addr_of_mut!(__sheap) as usize;
    let here = cortex_m::register::msp::read() as usize - 64;
    let mut a = (bottom + 3) & !3;
    while a < here {
        unsafe { write_volatile(a as *mut u32, PAINT) };
        a += 4;
    }
}

/// The stack's high-water mark: bytes from the top to the deepest word
/// written since [`paint_stack`].
fn stack_used() -> usize {
    let bottom = (addr_of_mut!(__sheap) as usize + 3) & !3;
    let top = addr_of!(_stack_start) as usize;
    let mut a = bottom;
    while a < top && unsafe { read_volatile(a as *const u32) } == PAINT {
        a += 4;
    }
    top - a
}

/// The work of encoding one request and decoding one answer, apart from
/// the network: a submission by hash into a 512-byte buffer, and a
/// completion page of `TASKS` entries.
fn measure_codec(board: &mut Mps2) {
    use lastline_core::decoders::CompletedDecoder;
    use lastline_core::http::{ClientConfig, EncodeStep, RequestEncoder};
    use lastline_core::request::SubmitFile;
    use lastline_core::response::{EnvelopeResponse, Progress};
    use lastline_core::types::Md5;
    use lastline_core::Credentials;

    // Calibration: a loop of exactly 10 instructions an iteration (eight
    // nops, subs, bne), 100 000 times: the count must come out 1 000 000.
    let before = board.work();
    unsafe {
        core::arch::asm!(
            "2:",
            "nop", "nop", "nop", "nop", "nop", "nop", "nop", "nop",
            "subs {n}, {n}, #1",
            "bne 2b",
            n = inout(reg) 100_000u32 => _,
            options(nomem, nostack),
        );
    }
    let calibration = board.work().saturating_sub(before);
    say!("sensor: measure: calibration loop of 1000000 instructions: {calibration} counted");

    let Ok(creds) = Credentials::new("sensor-key", Some("sensor-token")) else {
        return;
    };
    let cfg = ClientConfig::new("localhost", creds);
    let req = SubmitFile {
        md5: Md5::parse("275a021bbfb6489e54d471899f7db9d1").ok(),
        filename: Some("eicar-4k.bin"),
        full_report_score: Some(-1),
        ..SubmitFile::default()
    };
    let before = board.work();
    let mut out = [0u8; 512];
    let mut written = 0;
    if let Ok(mut enc) = RequestEncoder::new(&req, &cfg, [7; 16]) {
        while let EncodeStep::Write(n) = enc.poll(&mut out) {
            written += n;
        }
    }
    let encode = board.work().saturating_sub(before);

    const TASKS: usize = 20;
    let mut page = heapless::String::<4096>::new();
    let _ = page.push_str("{\"success\": 1, \"data\": {\"more_results_available\": 0, \"after\": \"2026-12-04 10:00:00\", \"before\": \"2026-12-04 11:00:00\", \"tasks\": {");
    for i in 0..TASKS {
        let _ = write!(
            page,
            "{}\"{:032x}\": {}",
            if i == 0 { "" } else { ", " },
            0x1234_5678_9abc_def0_u64 + i as u64,
            i * 5
        );
    }
    let _ = page.push_str("}}}");
    let mut wire = heapless::Vec::<u8, 4608>::new();
    let mut head = heapless::String::<128>::new();
    let _ = write!(
        head,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        page.len()
    );
    let _ = wire.extend_from_slice(head.as_bytes());
    let _ = wire.extend_from_slice(page.as_bytes());
    let before = board.work();
    let mut r = EnvelopeResponse::<CompletedDecoder, 512>::new(CompletedDecoder::default());
    let (mut at, mut entries) = (0, 0);
    loop {
        match r.feed(&wire[at..]) {
            Ok((n, Progress::Item(_))) => {
                at += n;
                entries += 1;
            }
            Ok((n, Progress::Head | Progress::NeedMore)) if n > 0 => at += n,
            Ok((_, Progress::Done)) => break,
            _ => break,
        }
    }
    let ok = r.finish().is_ok();
    let decode = board.work().saturating_sub(before);
    say!("sensor: measure: encoding a submission by hash ({written} bytes): {encode} instructions");
    say!("sensor: measure: decoding a completion page ({} bytes, {entries} of {TASKS} entries, ok {ok}): {decode} instructions",
        wire.len()
    );
}

pub fn main() -> ! {
    paint_stack();
    if let Some(mut p) = cortex_m::Peripherals::take() {
        p.SYST.set_clock_source(SystClkSource::Core);
        p.SYST.set_reload(TICKS_PER_MS - 1);
        p.SYST.clear_current();
        p.SYST.enable_interrupt();
        p.SYST.enable_counter();
    }
    unsafe {
        write_volatile(UART_BAUDDIV as *mut u32, 16);
        write_volatile(UART_CTRL as *mut u32, 0b11);
    }
    let mut board = Mps2 {
        next_id: 0,
        seed: 0x5eed_0f5e_4503,
    };
    say!("sensor: mps2-an386, {} captures", CAPTURES.len());
    let result = flow::run(&mut board, &CAPTURES);
    let total = board.work();
    match &result {
        Ok(()) => say!("sensor: done"),
        Err(Stop::Tls(e)) => say!("sensor: TLS verification failed: {e:?}"),
        Err(e) => say!("sensor: stopped: {e:?}"),
    }
    measure_codec(&mut board);
    say!("sensor: measure: whole flow: {total} instructions (network waits left out)");
    say!(
        "sensor: measure: stack high-water mark: {} bytes",
        stack_used()
    );
    debug::exit(if result.is_ok() {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    say!("sensor: panic: {info}");
    debug::exit(debug::EXIT_FAILURE);
    loop {
        core::hint::spin_loop();
    }
}
