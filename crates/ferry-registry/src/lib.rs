//! A blocking client for the Docker Registry HTTP API v2 (OCI distribution spec): what
//! ferry's `docker://` transport is built on.
//!
//! ```text
//! let reg = Registry::new(RegistryConfig { insecure: true, ..RegistryConfig::new("127.0.0.1:5000") })?;
//! reg.ping()?;                                                   // optional: done lazily
//! let m   = reg.get_manifest("testbed/tiny", "latest", &[MIME_A, MIME_B])?;  // Manifest { bytes, media_type, digest }
//! let h   = reg.head_manifest(repo, "latest", accept)?;          // Option<ManifestHead { digest, media_type, size }>
//! let d   = reg.put_manifest(repo, "latest", &bytes, mime)?;     // Option<String>: Docker-Content-Digest
//! reg.delete_manifest(repo, "sha256:…")?;
//! let mut s = reg.get_blob(repo, "sha256:…", Some(size))?;       // BlobStream: Read + Send, resumes with Range
//! let h   = reg.head_blob(repo, "sha256:…")?;                    // Option<BlobHead { size }>
//! let ok  = reg.mount_blob(repo, "sha256:…", "other/repo")?;     // bool: false = not mounted (upload cancelled)
//! let up  = reg.put_blob(repo, None, None, UploadBody::Stream(&mut reader))?;  // UploadedBlob { digest, size }
//! let t   = reg.list_tags(repo)?;                                // Vec<String>, all pages
//! ```
//!
//! Design:
//! - **Synchronous**, like the rest of ferry (see ferry-image): `reqwest::blocking` over
//!   rustls (aws-lc-rs) with HTTP/2 when the server offers it by ALPN. A [`Registry`] is
//!   `Clone + Send + Sync` (an `Arc`): one per registry host and configuration, shared
//!   by all threads, so connections and tokens are reused.
//! - **Endpoint**: no ping before the first request (one round trip less; containerd
//!   does the same): it goes over https, or plain http first with
//!   [`RegistryConfig::insecure`] (`--tls-verify=false`, certificates not checked).
//!   Only when that first answer is a transport error or neither 2xx, 401 nor a JSON 404 does the
//!   `GET /v2/` ping run (https, then http when insecure): its error is the one
//!   reported, as skopeo words it, and a request that went to the wrong scheme is sent
//!   again on the right one. `docker.io` is contacted at `registry-1.docker.io`.
//! - **Auth** ([`Credential`]): the `WWW-Authenticate` challenges of a 401 decide. Basic
//!   credentials go as `Authorization: Basic` to a Basic-challenging registry; for a
//!   Bearer challenge a token is fetched from the realm (`GET` with Basic credentials,
//!   or anonymous; `POST grant_type=refresh_token` with an identity token) for the
//!   scopes `repository:<repo>:<actions>` (plus `repository:<from>:pull` for a mount),
//!   cached per scope set until `expires_in` (≥ 60 s, `issued_at` honoured) runs out.
//!   A `--registry-token` ([`Credential::Bearer`]) is sent as is. A 401 is retried once
//!   with fresh authorization (new challenge, stale cached token, or an
//!   `insufficient_scope` asking for more). Redirects (blob storage) never carry the
//!   registry's `Authorization` to another host (reqwest strips it). No credential
//!   appears in an error message or `Debug` output.
//! - **Resilience** ([`RetryPolicy`]): idempotent requests are retried on connection
//!   errors, timeouts, 408/429/502/503/504 with exponential backoff and jitter, waiting
//!   `Retry-After` when given (seconds or HTTP date; longer than `max_retry_after` →
//!   give up). A blob download that breaks mid-stream resumes with `Range`. Uploads are
//!   never replayed blindly: a failed session is cancelled, and restarted from scratch
//!   only for re-readable bodies ([`UploadBody::Seekable`], [`UploadBody::Bytes`]).
//! - **Errors** ([`RegistryError`]) read like skopeo 1.9.3's (`reading manifest latest
//!   in 127.0.0.1:5000/testbed/tiny: manifest unknown: manifest unknown`) and classify:
//!   [`RegistryError::is_not_found`], [`RegistryError::is_unauthorized`],
//!   [`RegistryError::is_retryable`], [`RegistryError::is_manifest_invalid`].
//!
//! Repository names, tags and digests are `&str` (already parsed by ferry-reference);
//! they are checked only so that they cannot change the shape of a URL.

mod auth;
mod blob;
pub mod challenge;
mod client;
pub mod config;
pub mod error;
mod manifest;
mod names;
pub mod retry;
mod stream;
mod tags;
mod upload;

pub use blob::{BlobHead, BlobStream};
pub use client::Registry;
pub use config::{Access, Credential, DEFAULT_USER_AGENT, RegistryConfig, RetryPolicy};
pub use error::{ApiError, Operation, RegistryError, TransportKind};
pub use manifest::{MAX_MANIFEST_SIZE, Manifest, ManifestHead};
pub use upload::{ReadSeek, UploadBody, UploadedBlob};
