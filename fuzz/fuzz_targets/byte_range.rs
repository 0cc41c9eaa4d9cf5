#![no_main]
//! See `sigillum::fuzzing::SignedTemplates::byte_range`: edits of the `/ByteRange` and
//! `/Contents` of the signed seeds of `verify_pdf`.

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use sigillum::fuzzing::SignedTemplates;

static TEMPLATES: LazyLock<SignedTemplates> = LazyLock::new(|| {
    SignedTemplates::new(&[
        include_bytes!("../seeds/verify_pdf/ours-b-b.pdf").to_vec(),
        include_bytes!("../seeds/verify_pdf/ours-b-lta.pdf").to_vec(),
        include_bytes!("../seeds/verify_pdf/pyhanko-certified-then-ours.pdf").to_vec(),
        include_bytes!("../seeds/verify_pdf/pyhanko-ec.pdf").to_vec(),
    ])
});

fuzz_target!(|data: &[u8]| TEMPLATES.byte_range(data));
