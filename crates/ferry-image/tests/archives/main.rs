//! Archive transports (`docker-archive:`, `oci-archive:`): write → read back, byte
//! compatibility with skopeo 1.9.3 (when /usr/bin/skopeo exists), compressed and piped
//! inputs, non-seekable outputs, and hostile archives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod docker;
mod docker_read;
mod hostile;
mod oci;
mod support;
