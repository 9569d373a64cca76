//! Blob reads and cross-repository mounts: `GET` (as a [`BlobStream`] that resumes a
//! broken download with `Range`), `HEAD`, and `POST …/blobs/uploads/?mount=&from=`.

use std::io::{self, Read};

use reqwest::blocking::Response;
use reqwest::header::RANGE;
use reqwest::{Method, Url};

use crate::client::{Registry, Req, drain, error_answer, header, location};
use crate::config::Access;
use crate::error::{
    Operation, RegistryError, http_error, plain_error, registry_error, status_text,
};
use crate::names;
use crate::retry::backoff;

/// A download that made at least this much progress since its last resume gets a fresh
/// budget of resume attempts (c/image's `bodyReaderMinimumProgress`).
const RESUME_PROGRESS_RESET: u64 = 1 << 20;

/// What `HEAD` tells about a blob that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobHead {
    /// `Content-Length`, if sent.
    pub size: Option<u64>,
}

/// A blob being downloaded: `Read` the (unverified) bytes. A connection that breaks
/// mid-stream is transparently reopened with `Range: bytes=N-` (a server that ignores
/// the range is handled by skipping N bytes); after `max_attempts` consecutive resumes
/// without 1 MiB of progress the read fails.
pub struct BlobStream {
    reg: Registry,
    url: Url,
    scopes: Vec<String>,
    digest: String,
    resp: Option<Response>,
    /// Bytes delivered so far.
    offset: u64,
    size: Option<u64>,
    /// Resumes since the last 1 MiB of progress.
    failures: u32,
    progress: u64,
    resumes: u32,
}

impl std::fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStream")
            .field("digest", &self.digest)
            .field("offset", &self.offset)
            .field("size", &self.size)
            .field("resumes", &self.resumes)
            .finish_non_exhaustive()
    }
}

impl BlobStream {
    /// The blob size: as given by the caller, else the registry's `Content-Length`.
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// How many times the download was resumed.
    pub fn resumes(&self) -> u32 {
        self.resumes
    }

    /// Reopens the download at `self.offset` after `cause`, with backoff; gives up after
    /// too many attempts without progress.
    fn resume(&mut self, cause: io::Error) -> io::Result<()> {
        self.resp = None;
        let policy = self.reg.inner.cfg.retry.clone();
        let mut cause = cause;
        loop {
            if self.progress >= RESUME_PROGRESS_RESET {
                self.failures = 0;
            }
            self.progress = 0;
            self.failures += 1;
            if self.failures >= policy.max_attempts {
                return Err(io::Error::new(
                    cause.kind(),
                    format!(
                        "reading blob {} at offset {}: {cause} (gave up after {} attempts to resume)",
                        self.digest,
                        self.offset,
                        self.failures - 1
                    ),
                ));
            }
            std::thread::sleep(backoff(&policy, self.failures));
            match self.reopen() {
                Ok(resp) => {
                    self.resp = Some(resp);
                    self.resumes += 1;
                    return Ok(());
                }
                Err(e) if e.is_retryable() => cause = io::Error::other(e),
                Err(e) => return Err(io::Error::other(e)),
            }
        }
    }

    fn reopen(&mut self) -> Result<Response, RegistryError> {
        let req = Req::new(Method::GET, self.url.clone(), self.scopes.clone())
            .header(RANGE, &format!("bytes={}-", self.offset));
        let resp = self.reg.inner.send(&req)?;
        match resp.status().as_u16() {
            206 => {
                let cr = header(&resp, "content-range")
                    .unwrap_or_default()
                    .to_string();
                let start = cr
                    .strip_prefix("bytes ")
                    .and_then(|r| r.split('-').next())
                    .and_then(|s| s.trim().parse::<u64>().ok());
                if start != Some(self.offset) {
                    drain(resp);
                    return Err(RegistryError::Protocol(format!(
                        "resuming blob {}: asked for bytes from {}, got Content-Range {cr:?}",
                        self.digest, self.offset
                    )));
                }
                Ok(resp)
            }
            200 => {
                // The server ignored the range: skip what was already delivered.
                let mut resp = resp;
                let skipped = io::copy(&mut (&mut resp).take(self.offset), &mut io::sink())
                    .map_err(|e| crate::client::io_transport_error(&Method::GET, &self.url, &e))?;
                if skipped != self.offset {
                    return Err(RegistryError::Transport {
                        context: None,
                        method: "Get".into(),
                        url: self.url.to_string(),
                        message: format!(
                            "blob {} ended after {skipped} bytes while skipping {}",
                            self.digest, self.offset
                        ),
                        kind: crate::error::TransportKind::Broken,
                    });
                }
                Ok(resp)
            }
            _ => Err(http_error(
                Operation::Blob,
                "Error fetching blob",
                &error_answer(resp),
            )),
        }
    }
}

impl Read for BlobStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(resp) = self.resp.as_mut() else {
                return Err(io::Error::other(format!(
                    "reading blob {}: the download failed earlier",
                    self.digest
                )));
            };
            match resp.read(buf) {
                Ok(0) => match self.size {
                    Some(total) if self.offset < total => {
                        let e = io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("connection closed after {} of {total} bytes", self.offset),
                        );
                        self.resume(e)?;
                    }
                    _ => return Ok(0),
                },
                Ok(n) => {
                    self.offset += n as u64;
                    self.progress += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Everything arrived; only the end of the exchange failed.
                Err(_) if self.size.is_some_and(|s| self.offset >= s) => return Ok(0),
                Err(e) => self.resume(e)?,
            }
        }
    }
}

impl Registry {
    /// `GET` a blob. `size` (from the manifest) lets a connection closed early be told
    /// apart from the end of the blob. The bytes are not verified.
    pub fn get_blob(
        &self,
        repo: &str,
        digest: &str,
        size: Option<u64>,
    ) -> Result<BlobStream, RegistryError> {
        let path = format!(
            "/v2/{}/blobs/{}",
            names::repo(repo)?,
            names::digest(digest)?
        );
        let url = self.inner.url(&path)?;
        let scopes = self.inner.scopes(repo, Access::Pull, None);
        let resp = self
            .inner
            .send(&Req::new(Method::GET, url.clone(), scopes.clone()))?;
        if resp.status().as_u16() != 200 {
            return Err(http_error(
                Operation::Blob,
                "Error fetching blob",
                &error_answer(resp),
            ));
        }
        let size = size.or_else(|| resp.content_length());
        Ok(BlobStream {
            reg: self.clone(),
            url,
            scopes,
            digest: digest.to_string(),
            resp: Some(resp),
            offset: 0,
            size,
            failures: 0,
            progress: 0,
            resumes: 0,
        })
    }

    /// `HEAD` a blob: `None` if the repository does not have it.
    pub fn head_blob(&self, repo: &str, digest: &str) -> Result<Option<BlobHead>, RegistryError> {
        let path = format!(
            "/v2/{}/blobs/{}",
            names::repo(repo)?,
            names::digest(digest)?
        );
        let url = self.inner.url(&path)?;
        let scopes = self.inner.scopes(repo, Access::Pull, None);
        let resp = self.inner.send(&Req::new(Method::HEAD, url, scopes))?;
        match resp.status().as_u16() {
            200 => {
                let size = header(&resp, "content-length").and_then(|v| v.parse().ok());
                drain(resp);
                Ok(Some(BlobHead { size }))
            }
            404 => {
                drain(resp);
                Ok(None)
            }
            401 => {
                let ctx = format!(
                    "checking whether a blob {digest} exists in {}",
                    self.name(repo)
                );
                Err(registry_error(Operation::Blob, &ctx, &error_answer(resp)))
            }
            s => {
                let msg = format!(
                    "failed to read from destination repository {repo}: {s} ({})",
                    status_text(s)
                );
                Err(plain_error(Operation::Blob, msg, &error_answer(resp)))
            }
        }
    }

    /// Cross-repository mount of `digest` from `from_repo` into `repo` (same registry).
    /// `true` if mounted; `false` if the registry started an ordinary upload instead
    /// (that upload is cancelled).
    pub fn mount_blob(
        &self,
        repo: &str,
        digest: &str,
        from_repo: &str,
    ) -> Result<bool, RegistryError> {
        let mut url = self
            .inner
            .url(&format!("/v2/{}/blobs/uploads/", names::repo(repo)?))?;
        url.query_pairs_mut()
            .append_pair("mount", names::digest(digest)?)
            .append_pair("from", names::repo(from_repo)?);
        let scopes = self.inner.scopes(repo, Access::Push, Some(from_repo));
        let resp = self.inner.send(&Req::new(Method::POST, url, scopes))?;
        match resp.status().as_u16() {
            201 => {
                drain(resp);
                Ok(true)
            }
            202 => {
                let loc = location(&resp).map_err(|e| {
                    RegistryError::Protocol(format!(
                        "determining upload URL after a mount attempt: {e}"
                    ))
                })?;
                drain(resp);
                self.cancel_upload(repo, loc);
                Ok(false)
            }
            _ => {
                let ctx = format!(
                    "mounting {digest} from {} to {}",
                    self.name(from_repo),
                    self.name(repo)
                );
                Err(registry_error(Operation::Upload, &ctx, &error_answer(resp)))
            }
        }
    }

    /// Best-effort `DELETE` of an upload session (no retries; errors ignored).
    pub(crate) fn cancel_upload(&self, repo: &str, upload: Url) {
        let scopes = self.inner.scopes(repo, Access::Push, None);
        let mut req = Req::new(Method::DELETE, upload, scopes);
        req.idempotent = false;
        if let Ok(resp) = self.inner.send(&req) {
            drain(resp);
        }
    }
}
