#![no_main]
//! RFC 3161 TimeStampReq parsing and answering: must never panic, always answer DER.

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sigillum::fuzzing::Fixture;

fuzz_target!(|data: &[u8]| {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    let fixture = FIXTURE.get_or_init(Fixture::new);
    let response = fixture.tsa(data);
    assert!(!response.is_empty());
});
