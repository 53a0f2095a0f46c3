//! The captured files the sensor submits, built at compile time so the
//! image needs no file system: 4 KiB holding the EICAR test string (any
//! analysis calls it malicious) and 64 KiB of ordinary-looking traffic.

use crate::flow::Capture;

/// The EICAR antivirus test string (harmless by design).
const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// 4 KiB: the EICAR string, then spaces.
static EICAR_4K: [u8; 4096] = {
    let mut a = [b' '; 4096];
    let mut i = 0;
    while i < EICAR.len() {
        a[i] = EICAR[i];
        i += 1;
    }
    a
};

/// 64 KiB of printable bytes from a fixed-seed generator: nothing any
/// analysis would call malicious.
static TRAFFIC_64K: [u8; 65536] = {
    let mut a = [0u8; 65536];
    let mut x: u32 = 0x1234_5678;
    let mut i = 0;
    while i < a.len() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        a[i] = b'a' + (x % 26) as u8;
        i += 1;
    }
    a
};

/// What the sensor submits, in order.
pub static CAPTURES: [Capture; 2] = [
    Capture {
        name: "eicar-4k.bin",
        bytes: &EICAR_4K,
    },
    Capture {
        name: "traffic-64k.bin",
        bytes: &TRAFFIC_64K,
    },
];
