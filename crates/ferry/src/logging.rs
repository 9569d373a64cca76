//! Minimal stderr logging: `--debug` lines and warnings (no logging framework needed:
//! the library never logs, only the binary reports).

use std::sync::atomic::{AtomicBool, Ordering};

static DEBUG: AtomicBool = AtomicBool::new(false);

/// Enables `--debug` output.
pub fn set_debug(on: bool) {
    DEBUG.store(on, Ordering::Relaxed);
}

/// Whether `--debug` is on.
pub fn debug_on() -> bool {
    debug_enabled()
}

fn debug_enabled() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

/// Prints a debug line (`Debug: message`) when `--debug` is on.
pub fn debug(message: impl AsRef<str>) {
    if debug_enabled() {
        eprintln!("Debug: {}", message.as_ref());
    }
}

/// Prints a warning line (`Warning: message`).
pub fn warn(message: impl AsRef<str>) {
    eprintln!("Warning: {}", message.as_ref());
}
