//! `make-test-image`: writes ferry's deterministic test images as OCI layouts, for
//! scripts (the README demo, scripts/footprint.sh) and manual experiments.
//!
//! Usage:
//!   make-test-image fixture oci|schema2|multiarch DIR   a standard test image, tag `latest`
//!   make-test-image big DIR [--size BYTES[K|M|G]] [--layers N]
//!                                     a big, mostly incompressible image (default 1G, 8 layers)

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match ferry_test::big::cli(&args) {
        Ok(msg) => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("make-test-image: {e}");
            ExitCode::from(if e.starts_with("usage") { 2 } else { 1 })
        }
    }
}
