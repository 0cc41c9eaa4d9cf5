#![no_main]
//! The transparency log's parsers: tile paths, signed notes, verifier keys, checkpoints,
//! tlog-proof receipts, entry bundles and entries.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sigillum::fuzzing::tlog_parsers(data));
