//! Any bytes, as a file: `inspect` refuses them or accepts them, never panics; an accepted file
//! reads back row by row with exactly what `inspect` counted.

#![no_main]

mod reads_back;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("tabular-fuzz-{}", std::process::id()));
    std::fs::write(&path, data).expect("the temporary file is writable");
    reads_back::check(&path);
});
