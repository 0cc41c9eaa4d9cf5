#![no_main]
//! See `sigillum::fuzzing::pdf_reader`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sigillum::fuzzing::pdf_reader(data));
