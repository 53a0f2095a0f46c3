#![no_main]

#[path = "../ffi_logic.rs"]
mod ffi_logic;

libfuzzer_sys::fuzz_target!(|data: &[u8]| ffi_logic::ffi_exchange(data));
