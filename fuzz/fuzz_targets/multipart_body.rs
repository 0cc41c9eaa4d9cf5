#![no_main]
//! See `sigillum::fuzzing::multipart_body`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sigillum::fuzzing::multipart_body(data));
