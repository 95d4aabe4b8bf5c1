#![no_main]

//! `occurrence::expand` on any schedule and plan period (decoded from the bytes by
//! `expand_input.rs`, shared with `tests/arbitrary.rs`): no panic, bounded output, every
//! occurrence of a recurrence inside its range.

use libfuzzer_sys::fuzz_target;

#[path = "../expand_input.rs"]
mod expand_input;

fuzz_target!(|data: &[u8]| {
    expand_input::check(data);
});
