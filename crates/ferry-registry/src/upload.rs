//! Blob upload, as c/image does it: `POST …/blobs/uploads/` (session), one streamed
//! `PATCH` with the whole blob (chunked transfer encoding when the size is unknown), then
//! `PUT ?digest=`. The SHA-256 is computed while streaming when the digest is unknown.
//! A failed session is cancelled (`DELETE`); the upload restarts from scratch only if
//! the source can be read again ([`UploadBody::Seekable`], [`UploadBody::Bytes`]).

use std::io::{self, Read, Seek, SeekFrom};

use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, Url};
use sha2::{Digest as _, Sha256};

use crate::client::{Registry, Req, drain, error_answer, error_answer_of, location, location_of};
use crate::config::Access;
use crate::error::{Operation, RegistryError, registry_error};
use crate::names;
use crate::retry::backoff;
use crate::stream::{Answer, Msg, Sender};

/// Bytes per message between the reading thread and the HTTP body. 64 KiB × 2 in
/// flight (plus hyper's own write buffer) keeps six parallel uploads within skopeo's
/// memory; larger chunks saved no CPU (measured with 128 and 256 KiB × 4).
const CHUNK: usize = 64 * 1024;
/// Messages in flight (bounded memory: `CHUNK × DEPTH`).
const DEPTH: usize = 2;
/// Blobs up to this size (with known digest and size) go in one `PUT`.
const SMALL_BLOB: u64 = 1024 * 1024;

/// Reads a whole small source (at most `size` + 1 bytes, so an overlong one is caught).
fn read_all(r: &mut dyn Read, size: u64) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    r.take(size + 1).read_to_end(&mut buf)?;
    Ok(buf)
}

/// `Read + Seek`, as a trait object.
pub trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// The data of a blob upload.
pub enum UploadBody<'a> {
    /// Read once: a failed upload is not retried.
    Stream(&'a mut dyn Read),
    /// Read from its current position; rewound there to restart a failed upload.
    Seekable(&'a mut dyn ReadSeek),
    /// In memory.
    Bytes(&'a [u8]),
}

impl<'a> From<&'a [u8]> for UploadBody<'a> {
    fn from(b: &'a [u8]) -> Self {
        UploadBody::Bytes(b)
    }
}

impl<'a> From<&'a mut dyn Read> for UploadBody<'a> {
    fn from(r: &'a mut dyn Read) -> Self {
        UploadBody::Stream(r)
    }
}

/// The result of a blob upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedBlob {
    /// The digest the blob was committed under (given, or computed SHA-256).
    pub digest: String,
    pub size: u64,
}

/// Why one upload attempt failed, and whether starting over may help.
struct Failed {
    err: RegistryError,
    /// A 401 during the streamed PATCH: the token was dropped; a new attempt gets another.
    auth_expired: bool,
}

impl From<RegistryError> for Failed {
    fn from(err: RegistryError) -> Self {
        Failed {
            err,
            auth_expired: false,
        }
    }
}

impl Registry {
    /// Uploads a blob into `repo`. `digest`: the expected digest (the registry verifies
    /// it), or `None` to have the SHA-256 computed while streaming. `size`: the exact
    /// length if known (sent as `Content-Length`; a source of another length fails).
    pub fn put_blob(
        &self,
        repo: &str,
        digest: Option<&str>,
        size: Option<u64>,
        mut body: UploadBody<'_>,
    ) -> Result<UploadedBlob, RegistryError> {
        names::repo(repo)?;
        if let Some(d) = digest {
            names::digest(d)?;
        }
        let start = match &mut body {
            UploadBody::Seekable(s) => {
                Some(s.stream_position().map_err(|e| RegistryError::Io {
                    context: "uploading blob: reading the source position".into(),
                    source: e,
                })?)
            }
            _ => None,
        };
        let policy = self.inner.cfg.retry.clone();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let failed = match self.upload_once(repo, digest, size, &mut body) {
                Ok(done) => return Ok(done),
                Err(f) => f,
            };
            let restartable = !matches!(body, UploadBody::Stream(_));
            let worth_it = failed.auth_expired || failed.err.is_retryable();
            if !restartable || !worth_it || attempt >= policy.max_attempts {
                return Err(failed.err);
            }
            std::thread::sleep(backoff(&policy, attempt));
            if let (UploadBody::Seekable(s), Some(pos)) = (&mut body, start) {
                s.seek(SeekFrom::Start(pos))
                    .map_err(|e| RegistryError::Io {
                        context: "uploading blob: rewinding the source".into(),
                        source: e,
                    })?;
            }
        }
    }

    fn upload_once(
        &self,
        repo: &str,
        digest: Option<&str>,
        size: Option<u64>,
        body: &mut UploadBody<'_>,
    ) -> Result<UploadedBlob, Failed> {
        let upload_path = format!("/v2/{repo}/blobs/uploads/");
        let url = self.inner.url(&upload_path)?;
        let scopes = self.inner.scopes(repo, Access::Push, None);
        let resp = self
            .inner
            .send(&Req::new(Method::POST, url, scopes.clone()))?;
        if resp.status().as_u16() != 202 {
            let ctx = format!(
                "initiating layer upload to {upload_path} in {}",
                self.inner.cfg.host
            );
            return Err(registry_error(Operation::Upload, &ctx, &error_answer(resp)).into());
        }
        let session = location(&resp)
            .map_err(|e| RegistryError::Protocol(format!("determining upload URL: {e}")))?;
        drain(resp);

        // Small blobs of known digest and size: one PUT carrying the bytes (a monolithic
        // upload) instead of PATCH + PUT, one round trip less per blob (a 50-layer image
        // is latency-bound).
        if let (Some(d), Some(n)) = (digest, size)
            && n <= SMALL_BLOB
        {
            return self.put_small(repo, &session, scopes, d, n, body);
        }

        let patched = self.patch(&session, &scopes, size, digest.is_none(), body);
        let (resp, count, computed) = match patched {
            Ok(v) => v,
            Err(f) => {
                self.cancel_upload(repo, session);
                return Err(f);
            }
        };
        if !(200..300).contains(&resp.status) {
            let auth_expired = resp.status == 401;
            if auth_expired {
                self.inner.auth.forget(&scopes);
            }
            let err = registry_error(
                Operation::Upload,
                "uploading layer chunked",
                &error_answer_of(resp.status, &resp.headers, resp.body),
            );
            self.cancel_upload(repo, session);
            return Err(Failed { err, auth_expired });
        }
        let mut commit = match location_of(&resp.headers, &resp.url) {
            Ok(u) => u,
            Err(e) => {
                self.cancel_upload(repo, session);
                return Err(RegistryError::Protocol(format!("determining upload URL: {e}")).into());
            }
        };

        let digest = match (digest, computed) {
            (Some(d), _) => d.to_string(),
            (None, Some(c)) => c,
            (None, None) => {
                return Err(
                    RegistryError::Protocol("internal error: no digest computed".into()).into(),
                );
            }
        };
        commit.query_pairs_mut().append_pair("digest", &digest);
        let req = Req::new(Method::PUT, commit.clone(), scopes)
            .header(CONTENT_TYPE, "application/octet-stream");
        let resp = match self.inner.send(&req) {
            Ok(r) => r,
            Err(e) => {
                self.cancel_upload(repo, session);
                return Err(e.into());
            }
        };
        let status = resp.status().as_u16();
        if status == 201 {
            drain(resp);
            return Ok(UploadedBlob {
                digest,
                size: count,
            });
        }
        let a = error_answer(resp);
        // A PUT retried after its answer was lost finds no session: did the first one land?
        if status == 404 && self.head_blob(repo, &digest).ok().flatten().is_some() {
            return Ok(UploadedBlob {
                digest,
                size: count,
            });
        }
        self.cancel_upload(repo, session);
        let ctx = format!("uploading layer to {commit}");
        Err(registry_error(Operation::Upload, &ctx, &a).into())
    }

    /// Monolithic upload of a small blob: its bytes in the closing `PUT ?digest=`.
    fn put_small(
        &self,
        repo: &str,
        session: &Url,
        scopes: Vec<String>,
        digest: &str,
        size: u64,
        body: &mut UploadBody<'_>,
    ) -> Result<UploadedBlob, Failed> {
        let read = match body {
            UploadBody::Bytes(b) => Ok(b.to_vec()),
            UploadBody::Stream(r) => read_all(&mut **r, size),
            UploadBody::Seekable(r) => read_all(&mut **r, size),
        };
        let bytes = match read {
            Ok(b) if b.len() as u64 == size => b,
            Ok(b) => {
                self.cancel_upload(repo, session.clone());
                return Err(size_mismatch(size, b.len() as u64).into());
            }
            Err(e) => {
                self.cancel_upload(repo, session.clone());
                return Err(RegistryError::Io {
                    context: "uploading blob: reading the source".into(),
                    source: e,
                }
                .into());
            }
        };
        let mut commit = session.clone();
        commit.query_pairs_mut().append_pair("digest", digest);
        let mut req = Req::new(Method::PUT, commit.clone(), scopes)
            .header(CONTENT_TYPE, "application/octet-stream");
        req.body = Some(bytes);
        let resp = match self.inner.send(&req) {
            Ok(r) => r,
            Err(e) => {
                self.cancel_upload(repo, session.clone());
                return Err(e.into());
            }
        };
        let status = resp.status().as_u16();
        if status == 201 {
            drain(resp);
            return Ok(UploadedBlob {
                digest: digest.to_string(),
                size,
            });
        }
        let a = error_answer(resp);
        if status == 404 && self.head_blob(repo, digest).ok().flatten().is_some() {
            return Ok(UploadedBlob {
                digest: digest.to_string(),
                size,
            });
        }
        self.cancel_upload(repo, session.clone());
        let ctx = format!("uploading layer to {commit}");
        Err(registry_error(Operation::Upload, &ctx, &a).into())
    }

    /// The streamed `PATCH` (see [`crate::stream`]): returns the answer, the byte count
    /// and (if asked) the `sha256:` digest of what was sent.
    fn patch(
        &self,
        session: &Url,
        scopes: &[String],
        size: Option<u64>,
        hash: bool,
        body: &mut UploadBody<'_>,
    ) -> Result<(Answer, u64, Option<String>), Failed> {
        let (auth, _) = self.inner.authorization(scopes)?;
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        let mut bytes_src;
        let src: &mut dyn Read = match body {
            UploadBody::Bytes(b) => {
                if let Some(s) = size.filter(|s| *s != b.len() as u64) {
                    return Err(size_mismatch(s, b.len() as u64).into());
                }
                bytes_src = *b;
                &mut bytes_src
            }
            UploadBody::Stream(r) => &mut **r,
            UploadBody::Seekable(r) => &mut **r,
        };
        let streamer = self.inner.streamer()?;
        let (tx, answer) = streamer.patch(session, headers, auth.as_ref(), size, DEPTH);
        let pumped = pump(src, &tx, size, hash);
        drop(tx);
        let answer = match answer.recv() {
            Ok(a) => a.map_err(|e| crate::client::transport_error(&Method::PATCH, session, &e)),
            Err(_) => Err(RegistryError::Protocol(
                "the upload runtime stopped before answering".into(),
            )),
        };
        // The source's failure explains a broken request better than the request.
        let (count, computed) = pumped?;
        Ok((answer?, count, computed))
    }
}

fn size_mismatch(expected: u64, actual: u64) -> RegistryError {
    RegistryError::Io {
        context: "uploading blob".into(),
        source: io::Error::new(
            io::ErrorKind::InvalidData,
            format!("size mismatch: expected {expected} bytes, read {actual}"),
        ),
    }
}

/// Reads `src` into the channel; sends `End` only after a complete, correct read.
fn pump(
    src: &mut dyn Read,
    tx: &Sender,
    size: Option<u64>,
    hash: bool,
) -> Result<(u64, Option<String>), RegistryError> {
    let mut hasher = hash.then(Sha256::new);
    let mut count = 0u64;
    loop {
        let mut chunk = vec![0u8; CHUNK];
        let n = fill(src, &mut chunk).map_err(|e| RegistryError::Io {
            context: "uploading blob: reading the source".into(),
            source: e,
        })?;
        if n == 0 {
            break;
        }
        chunk.truncate(n);
        count += n as u64;
        if let Some(s) = size.filter(|s| count > *s) {
            return Err(size_mismatch(s, count));
        }
        if let Some(h) = hasher.as_mut() {
            h.update(&chunk);
        }
        if tx.blocking_send(Msg::Data(Bytes::from(chunk))).is_err() {
            // The request ended early (the server answered or the connection broke):
            // its outcome tells why.
            return Ok((count, None));
        }
    }
    if let Some(s) = size.filter(|s| count != *s) {
        return Err(size_mismatch(s, count));
    }
    let _ = tx.blocking_send(Msg::End);
    Ok((
        count,
        hasher.map(|h| format!("sha256:{}", hex::encode(h.finalize()))),
    ))
}

/// Reads until `buf` is full or the source ends: whole chunks make few messages.
fn fill(src: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match src.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
