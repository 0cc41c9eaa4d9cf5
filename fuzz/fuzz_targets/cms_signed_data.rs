#![no_main]
//! See `sigillum::fuzzing::cms_signed_data`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sigillum::fuzzing::cms_signed_data(data));
