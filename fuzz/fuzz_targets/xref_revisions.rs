#![no_main]
//! See `sigillum::fuzzing::xref_revisions`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sigillum::fuzzing::xref_revisions(data));
