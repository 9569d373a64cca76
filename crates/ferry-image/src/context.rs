//! Per-side settings (skopeo's `types.SystemContext`), resolved from `--src-*` / `--dest-*`
//! flags by the binary. Small and explicit: only what the transports read.

use std::path::PathBuf;

/// Compression algorithms ferry can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompressionFormat {
    Gzip,
    Zstd,
    ZstdChunked,
}

#[derive(Debug, Clone, Default)]
pub struct SystemContext {
    /// `--shared-blob-dir` for `oci:`.
    pub oci_shared_blob_dir: Option<PathBuf>,
    /// `--dest-oci-accept-uncompressed-layers`.
    pub oci_accept_uncompressed_layers: bool,
    /// `--dest-compress` (dir:) / compact docker-archive.
    pub compress: bool,
    /// `--dest-decompress`.
    pub decompress: bool,
    pub compress_format: Option<CompressionFormat>,
    pub compress_level: Option<i32>,
    /// `--additional-tag` for docker-archive destinations (already validated `name:tag`).
    pub additional_tags: Vec<ferry_reference::Named>,
    /// `--tmpdir`.
    pub tmp_dir: Option<PathBuf>,
    /// Platform overrides (`--override-arch/os/variant`).
    pub arch: Option<String>,
    pub os: Option<String>,
    pub variant: Option<String>,
    /// Docker registry settings, filled by later work (creds, certs, tls-verify).
    pub docker: DockerSettings,
}

/// Registry/daemon settings; carried now so flags are accepted, used by the docker transport.
#[derive(Debug, Clone, Default)]
pub struct DockerSettings {
    pub auth_file: Option<PathBuf>,
    pub creds: Option<(String, String)>,
    pub registry_token: Option<String>,
    pub no_creds: bool,
    pub cert_dir: Option<PathBuf>,
    pub tls_verify: Option<bool>,
    pub daemon_host: Option<String>,
    /// Hidden global `--registries-conf` (else `$CONTAINERS_REGISTRIES_CONF`, defaults).
    pub registries_conf: Option<PathBuf>,
    /// `--user-agent-prefix`.
    pub user_agent_prefix: Option<String>,
}
