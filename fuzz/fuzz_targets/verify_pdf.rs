#![no_main]
//! See `sigillum::fuzzing::verify_pdf`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sigillum::fuzzing::verify_pdf(data));
