//! Renders the copy engine's progress events as skopeo does, on **stderr** (stdout is
//! reserved for command results, e.g. an archive written to `/dev/stdout`).
//!
//! - stderr is a terminal: one indicatif bar per blob
//!   (`Copying blob 1e93cf090ac7 [====>   ] 1.2 MiB / 3.4 MiB | 5.0 MiB/s`), replaced by
//!   `Copying blob 1e93cf090ac7 done` / `… skipped: already exists` when finished.
//! - otherwise: plain lines exactly like skopeo's non-TTY output
//!   (`Copying blob sha256:<full digest>`, one line per blob when it starts).
//! - `-q`: nothing.
//!
//! Bars are coloured only when `NO_COLOR` is unset; the text is never coloured.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ferry_image::copy::{BlobOutcome, NoReport, Reporter};
use ferry_reference::Digest;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The reporter for a copy: silent with `-q`, bars on a terminal, lines otherwise.
pub fn reporter(quiet: bool) -> Box<dyn Reporter> {
    if quiet {
        Box::new(NoReport)
    } else if std::io::stderr().is_terminal() {
        Box::new(BarReporter::new())
    } else {
        Box::new(LineReporter::default())
    }
}

/// `Copying blob 1e93cf090ac7` / `Copying config f44afc8adb`: skopeo truncates the
/// prefix to `len("Copying blob ") + 12` so every bar starts in the same column.
pub fn bar_prefix(digest: &Digest, is_config: bool) -> String {
    let kind = if is_config { "config" } else { "blob" };
    let mut prefix = format!("Copying {kind} {}", digest.hex());
    prefix.truncate("Copying blob ".len() + 12);
    prefix
}

/// The non-terminal line for a blob: the full digest, as skopeo prints it.
pub fn plain_line(digest: &Digest, is_config: bool) -> String {
    let kind = if is_config { "config" } else { "blob" };
    format!("Copying {kind} {digest}")
}

/// One line per event (stderr by default).
pub struct LineReporter {
    out: Mutex<Box<dyn Write + Send>>,
    next_id: AtomicUsize,
}

impl Default for LineReporter {
    fn default() -> Self {
        LineReporter::new(Box::new(std::io::stderr()))
    }
}

impl LineReporter {
    pub fn new(out: Box<dyn Write + Send>) -> LineReporter {
        LineReporter {
            out: Mutex::new(out),
            next_id: AtomicUsize::new(0),
        }
    }

    fn line(&self, text: &str) {
        if let Ok(mut out) = self.out.lock() {
            // Progress output is best effort: a closed stderr must not fail the copy.
            let _ = writeln!(out, "{text}");
        }
    }
}

impl Reporter for LineReporter {
    fn getting_signatures(&self) {
        self.line("Getting image source signatures");
    }
    fn getting_list_signatures(&self) {
        self.line("Getting image list signatures");
    }
    fn copying_list_instances(&self, n: usize, of: usize) {
        self.line(&format!("Copying {n} of {of} images in list"));
    }
    fn copying_instance(&self, digest: &Digest, i: usize, of: usize) {
        self.line(&format!("Copying image {digest} ({i}/{of})"));
    }
    fn blob_started(&self, digest: &Digest, _size: Option<u64>, is_config: bool) -> usize {
        self.line(&plain_line(digest, is_config));
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
    fn writing_manifest(&self) {
        self.line("Writing manifest to image destination");
    }
    fn writing_manifest_list(&self) {
        self.line("Writing manifest list to image destination");
    }
    fn storing_signatures(&self) {
        self.line("Storing signatures");
    }
    fn storing_list_signatures(&self) {
        self.line("Storing list signatures");
    }
    fn skipping_existing(&self) {
        self.line("Skipping: image already present at destination");
    }
    fn warning(&self, message: &str) {
        self.line(&format!("Warning: {message}"));
    }
}

/// indicatif bars on stderr.
pub struct BarReporter {
    multi: MultiProgress,
    bars: Mutex<Vec<ProgressBar>>,
    color: bool,
}

impl Default for BarReporter {
    fn default() -> Self {
        BarReporter::new()
    }
}

impl BarReporter {
    pub fn new() -> BarReporter {
        BarReporter {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(Vec::new()),
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    fn line(&self, text: &str) {
        if self.multi.println(text).is_err() {
            eprintln!("{text}");
        }
    }

    fn bar(&self, id: usize) -> Option<ProgressBar> {
        self.bars.lock().ok()?.get(id).cloned()
    }

    fn running_style(&self, known_size: bool) -> ProgressStyle {
        let bar = if self.color {
            "{bar:40.cyan/blue}"
        } else {
            "{bar:40}"
        };
        let template = if known_size {
            format!("{{prefix}} [{bar}] {{bytes}} / {{total_bytes}} | {{binary_bytes_per_sec}}")
        } else {
            "{prefix} {spinner} {bytes} | {binary_bytes_per_sec}".to_string()
        };
        ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ")
    }
}

impl Reporter for BarReporter {
    fn getting_signatures(&self) {
        self.line("Getting image source signatures");
    }
    fn getting_list_signatures(&self) {
        self.line("Getting image list signatures");
    }
    fn copying_list_instances(&self, n: usize, of: usize) {
        self.line(&format!("Copying {n} of {of} images in list"));
    }
    fn copying_instance(&self, digest: &Digest, i: usize, of: usize) {
        self.line(&format!("Copying image {digest} ({i}/{of})"));
    }
    fn blob_started(&self, digest: &Digest, size: Option<u64>, is_config: bool) -> usize {
        let bar = match size {
            Some(n) => ProgressBar::new(n),
            None => ProgressBar::new_spinner(),
        };
        let bar = self.multi.add(bar);
        bar.set_style(self.running_style(size.is_some()));
        bar.set_prefix(bar_prefix(digest, is_config));
        let Ok(mut bars) = self.bars.lock() else {
            return 0;
        };
        bars.push(bar);
        bars.len() - 1
    }
    /// `bytes` is the running total for the blob (see the copy engine's ProgressReader).
    fn blob_progress(&self, id: usize, bytes: u64) {
        if let Some(bar) = self.bar(id) {
            bar.set_position(bytes);
        }
    }
    /// A finished bar is replaced by a permanent line printed above the running bars, so
    /// later lines ("Writing manifest …") come after it, as in skopeo.
    fn blob_done(&self, id: usize, outcome: BlobOutcome) {
        if let Some(bar) = self.bar(id) {
            let suffix = match outcome {
                BlobOutcome::Copied => "done",
                BlobOutcome::Reused => "skipped: already exists",
            };
            bar.finish_and_clear();
            self.multi.remove(&bar);
            self.line(&format!("{} {suffix}", bar.prefix()));
        }
    }
    fn writing_manifest(&self) {
        self.line("Writing manifest to image destination");
    }
    fn writing_manifest_list(&self) {
        self.line("Writing manifest list to image destination");
    }
    fn storing_signatures(&self) {
        self.line("Storing signatures");
    }
    fn storing_list_signatures(&self) {
        self.line("Storing list signatures");
    }
    fn skipping_existing(&self) {
        self.line("Skipping: image already present at destination");
    }
    fn warning(&self, message: &str) {
        self.line(&format!("Warning: {message}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `Write` that appends to a shared buffer.
    #[derive(Clone, Default)]
    struct Buf(std::sync::Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut v) = self.0.lock() {
                v.extend_from_slice(b);
            }
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn plain_lines_like_skopeo_without_a_tty() {
        let buf = Buf::default();
        let r = LineReporter::new(Box::new(buf.clone()));
        let layer = Digest::sha256_of(b"layer");
        let config = Digest::sha256_of(b"config");
        r.getting_signatures();
        let id = r.blob_started(&layer, Some(5), false);
        r.blob_progress(id, 5);
        r.blob_done(id, BlobOutcome::Copied);
        let id2 = r.blob_started(&config, Some(6), true);
        assert_ne!(id, id2);
        r.writing_manifest();
        r.storing_signatures();
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            format!(
                "Getting image source signatures\nCopying blob {layer}\nCopying config {config}\nWriting manifest to image destination\nStoring signatures\n"
            )
        );
    }

    #[test]
    fn prefixes_like_skopeo() {
        let d = Digest::parse(
            "sha256:1e93cf090ac787e2248b4e962d9496cd6ac868a58825a9ee0e318221969db529",
        )
        .unwrap();
        assert_eq!(bar_prefix(&d, false), "Copying blob 1e93cf090ac7");
        assert_eq!(bar_prefix(&d, true), "Copying config 1e93cf090a");
        assert_eq!(
            plain_line(&d, true),
            "Copying config sha256:1e93cf090ac787e2248b4e962d9496cd6ac868a58825a9ee0e318221969db529"
        );
    }
}
