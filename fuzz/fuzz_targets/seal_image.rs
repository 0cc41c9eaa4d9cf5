#![no_main]
//! See `sigillum::fuzzing::seal_image`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sigillum::fuzzing::seal_image(data));
