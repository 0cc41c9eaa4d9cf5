#![no_main]
//! The SIGILLUM-HMAC-SHA256 Authorization header and query canonicalisation.

use libfuzzer_sys::fuzz_target;
use sigillum::request_signing::{Credentials, canonical_query};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(c) = Credentials::parse(text) {
            assert_eq!(Credentials::parse(&c.to_header()).ok(), Some(c));
        }
        let once = canonical_query(Some(text));
        assert_eq!(canonical_query(Some(&once)), once, "canonicalisation is idempotent");
    }
});
