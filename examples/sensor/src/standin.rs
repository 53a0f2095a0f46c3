//! The register stand-in board: what a sensor MCU's network stack, RNG
//! and clock would be, as volatile registers (the optimiser cannot see
//! through them, so the whole flow stays in the image). Built to measure
//! flash and RAM; it does not run anywhere.

use core::ptr;

use panic_halt as _;

use crate::captures::CAPTURES;
use crate::flow::{self, Board, Report};

fn reg(addr: usize) -> u32 {
    unsafe { ptr::read_volatile(addr as *const u32) }
}

fn set(addr: usize, v: u32) {
    unsafe { ptr::write_volatile(addr as *mut u32, v) };
}

/// The TCP socket of the board's network stack.
pub struct Tcp;

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

/// The hardware RNG.
pub struct HwRng;

impl rand_core::RngCore for HwRng {
    fn next_u32(&mut self) -> u32 {
        reg(0x4000_0020)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_u32(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand_core::impls::fill_bytes_via_next(self, dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for HwRng {}

/// A millisecond clock and busy-wait delay.
pub struct Ticks;

impl lastline_embedded::blocking::Timer for Ticks {
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

struct StandIn;

impl Board for StandIn {
    const SERVER: &'static str = "analysis.lastline.com";
    type Tcp = Tcp;
    type Clock = Ticks;
    type Rng = HwRng;

    fn connect(&mut self) -> Option<Tcp> {
        (reg(0x4000_0010) != 0).then_some(Tcp)
    }
    fn clock(&mut self) -> Ticks {
        Ticks
    }
    fn rng(&mut self) -> HwRng {
        HwRng
    }
    fn report(&mut self, what: Report<'_>) {
        // A status register: the verdicts, and that the rest happened.
        match what {
            Report::Verdict { score, .. } => set(0x4000_000c, score as u32),
            Report::Submitted { uploaded, .. } => set(0x4000_0014, u32::from(uploaded)),
            _ => set(0x4000_0018, 1),
        }
    }
}

pub fn main() -> ! {
    let result = flow::run(&mut StandIn, &CAPTURES);
    set(0x4000_001c, u32::from(result.is_ok()));
    loop {
        core::hint::spin_loop();
    }
}
