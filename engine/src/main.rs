//! The `atrium` binary: see `lib.rs`.
fn main() {}
