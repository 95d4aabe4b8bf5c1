#![no_main]

use libfuzzer_sys::fuzz_target;

// Every reader (DOCX, ODT/ODS, XLSX, CSV/TSV, PDF, text) behind the content sniffing, then the
// parser on whatever was read.
fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = roadmap_import::read_document("fuzz", data) {
        let _ = doc.parse();
    }
});
