//! Command results on stdout, formatted as skopeo formats them.

use std::io::Write;

use anyhow::{Context, Result};
use serde::Serialize;

/// `json.MarshalIndent(v, "", "    ")` + newline (Go escaping of `<`, `>`, `&`).
pub fn print_json_indented<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let mut bytes =
        ferry_manifest::gojson::to_vec_indent(value, "    ").context("encoding JSON output")?;
    bytes.push(b'\n');
    write_stdout(&bytes)
}

/// Writes raw bytes to stdout (e.g. `inspect --raw`), flushing at the end.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .context("writing to standard output")
}
