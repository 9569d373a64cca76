//! Manifest endpoints: `GET`/`HEAD`/`PUT`/`DELETE /v2/<repo>/manifests/<reference>`.
//! Bytes are returned and sent exactly as they are; parsing is the caller's business.

use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE};

use crate::client::{Registry, Req, drain, error_answer, header, read_limited};
use crate::config::Access;
use crate::error::{Operation, RegistryError, plain_error, registry_error, status_text};
use crate::names;

/// Largest manifest accepted (c/image's `MaxManifestBodySize`).
pub const MAX_MANIFEST_SIZE: u64 = 4 << 20;

/// A manifest as the registry served it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub bytes: Vec<u8>,
    /// `Content-Type` without parameters (may be empty or generic: sniff if so).
    pub media_type: String,
    /// `Docker-Content-Digest`, if sent (unverified).
    pub digest: Option<String>,
}

/// What `HEAD` tells about a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestHead {
    /// `Docker-Content-Digest`, if sent.
    pub digest: Option<String>,
    pub media_type: String,
    pub size: Option<u64>,
}

/// `type/subtype` of a `Content-Type` value.
fn simplify_content_type(v: Option<&str>) -> String {
    v.unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

impl Registry {
    fn manifest_path(&self, repo: &str, reference: &str) -> Result<String, RegistryError> {
        Ok(format!(
            "/v2/{}/manifests/{}",
            names::repo(repo)?,
            names::reference(reference)?
        ))
    }

    /// `host/repo`, as skopeo names a repository in messages.
    pub(crate) fn name(&self, repo: &str) -> String {
        format!("{}/{repo}", self.inner.cfg.host)
    }

    /// `GET` a manifest by tag or digest, announcing the `accept`ed MIME types.
    pub fn get_manifest(
        &self,
        repo: &str,
        reference: &str,
        accept: &[&str],
    ) -> Result<Manifest, RegistryError> {
        let path = self.manifest_path(repo, reference)?;
        let url = self.inner.url(&path)?;
        let scopes = self.inner.scopes(repo, Access::Pull, None);
        let req = Req::new(Method::GET, url, scopes).header(ACCEPT, &accept.join(", "));
        let resp = self.inner.send(&req)?;
        let ctx = format!("reading manifest {reference} in {}", self.name(repo));
        if resp.status().as_u16() != 200 {
            return Err(registry_error(
                Operation::Manifest,
                &ctx,
                &error_answer(resp),
            ));
        }
        let media_type = simplify_content_type(header(&resp, "content-type"));
        let digest = header(&resp, "docker-content-digest").map(str::to_string);
        let bytes = read_limited(resp, MAX_MANIFEST_SIZE, &ctx)?;
        Ok(Manifest {
            bytes,
            media_type,
            digest,
        })
    }

    /// `HEAD` a manifest: `None` if it does not exist (404).
    pub fn head_manifest(
        &self,
        repo: &str,
        reference: &str,
        accept: &[&str],
    ) -> Result<Option<ManifestHead>, RegistryError> {
        let path = self.manifest_path(repo, reference)?;
        let url = self.inner.url(&path)?;
        let scopes = self.inner.scopes(repo, Access::Pull, None);
        let req = Req::new(Method::HEAD, url, scopes).header(ACCEPT, &accept.join(", "));
        let resp = self.inner.send(&req)?;
        match resp.status().as_u16() {
            200 => {
                let head = ManifestHead {
                    digest: header(&resp, "docker-content-digest").map(str::to_string),
                    media_type: simplify_content_type(header(&resp, "content-type")),
                    size: header(&resp, "content-length").and_then(|v| v.parse().ok()),
                };
                drain(resp);
                Ok(Some(head))
            }
            404 => {
                drain(resp);
                Ok(None)
            }
            _ => {
                let ctx = format!("reading manifest {reference} in {}", self.name(repo));
                Err(registry_error(
                    Operation::Manifest,
                    &ctx,
                    &error_answer(resp),
                ))
            }
        }
    }

    /// `PUT` a manifest under a tag or digest. Returns the registry's
    /// `Docker-Content-Digest`, if sent. A refused format gives an error for which
    /// [`RegistryError::is_manifest_invalid`] is true.
    pub fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<Option<String>, RegistryError> {
        let path = self.manifest_path(repo, reference)?;
        let url = self.inner.url(&path)?;
        let scopes = self.inner.scopes(repo, Access::Push, None);
        let mut req = Req::new(Method::PUT, url, scopes).header(CONTENT_TYPE, media_type);
        req.body = Some(bytes.to_vec());
        let resp = self.inner.send(&req)?;
        if !resp.status().is_success() {
            let ctx = format!("uploading manifest {reference} to {}", self.name(repo));
            return Err(registry_error(
                Operation::Manifest,
                &ctx,
                &error_answer(resp),
            ));
        }
        let digest = header(&resp, "docker-content-digest").map(str::to_string);
        drain(resp);
        Ok(digest)
    }

    /// `DELETE` a manifest by digest (removes every tag pointing at it). The registry
    /// must have deletion enabled.
    pub fn delete_manifest(&self, repo: &str, digest: &str) -> Result<(), RegistryError> {
        let path = self.manifest_path(repo, names::digest(digest)?)?;
        let url = self.inner.url(&path)?;
        let scopes = self.inner.scopes(repo, Access::Delete, None);
        let resp = self.inner.send(&Req::new(Method::DELETE, url, scopes))?;
        let status = resp.status().as_u16();
        if status == 202 {
            drain(resp);
            return Ok(());
        }
        let a = error_answer(resp);
        let msg = format!(
            "Failed to delete {path}: {} ({status} {})",
            String::from_utf8_lossy(&a.body),
            status_text(status)
        );
        Err(plain_error(Operation::Manifest, msg, &a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_parameters_are_dropped() {
        assert_eq!(
            simplify_content_type(Some("application/json; charset=utf-8")),
            "application/json"
        );
        assert_eq!(simplify_content_type(None), "");
    }
}
