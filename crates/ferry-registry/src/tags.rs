//! Tag listing: `GET /v2/<repo>/tags/list`, following `Link: <…>; rel="next"` pages
//! (relative or absolute links; only their path and query are used, so credentials
//! never go to another host).

use reqwest::{Method, Url};
use serde::Deserialize;

use crate::client::{Registry, Req, error_answer, header, read_limited};
use crate::config::Access;
use crate::error::{Operation, RegistryError, http_error};
use crate::names;

/// Largest page accepted.
const MAX_TAGS_PAGE: u64 = 32 << 20;
/// Guard against a registry that links pages in a circle.
const MAX_PAGES: usize = 100_000;

#[derive(Deserialize)]
struct TagsPage {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

/// The next page's path and query from a `Link` header value, resolved against `current`.
fn next_page(link: &str, current: &Url) -> Option<String> {
    let target = link
        .split(',')
        .find(|part| {
            let p = part.to_ascii_lowercase();
            !p.contains("rel=") || p.contains("rel=\"next\"") || p.contains("rel=next")
        })?
        .split(';')
        .next()?
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    let u = current.join(target).ok()?;
    let mut pq = u.path().to_string();
    if let Some(q) = u.query() {
        pq.push('?');
        pq.push_str(q);
    }
    Some(pq)
}

impl Registry {
    /// Every tag of `repo`, in the registry's order, across all pages.
    pub fn list_tags(&self, repo: &str) -> Result<Vec<String>, RegistryError> {
        let mut path = format!("/v2/{}/tags/list", names::repo(repo)?);
        if let Some(n) = self.inner.cfg.tags_page_size {
            path.push_str(&format!("?n={n}"));
        }
        let scopes = self.inner.scopes(repo, Access::Pull, None);
        let mut tags = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            let url = self.inner.url(&path)?;
            let resp = self
                .inner
                .send(&Req::new(Method::GET, url.clone(), scopes.clone()))?;
            if resp.status().as_u16() != 200 {
                return Err(http_error(
                    Operation::Tags,
                    "fetching tags list",
                    &error_answer(resp),
                ));
            }
            let next = header(&resp, "link").and_then(|l| next_page(l, &url));
            let body = read_limited(resp, MAX_TAGS_PAGE, "fetching tags list")?;
            let page: TagsPage = serde_json::from_slice(&body)
                .map_err(|e| RegistryError::Protocol(format!("decoding tags list: {e}")))?;
            tags.extend(page.tags.unwrap_or_default());
            match next {
                Some(n) if seen.insert(n.clone()) => path = n,
                Some(n) => {
                    return Err(RegistryError::Protocol(format!(
                        "fetching tags list: the registry links back to page {n}"
                    )));
                }
                None => return Ok(tags),
            }
        }
        Err(RegistryError::Protocol(format!(
            "fetching tags list: more than {MAX_PAGES} pages"
        )))
    }
}

impl Registry {
    /// Whether the registry says `repo` does not exist (`404 NAME_UNKNOWN` to a tag
    /// list request): then none of its blobs exist either, and a destination can skip
    /// asking for each. Any other answer (including errors) is `false`: "not known".
    /// In Distribution, a repository exists once it has a tag.
    pub fn repo_is_unknown(&self, repo: &str) -> Result<bool, RegistryError> {
        let path = format!("/v2/{}/tags/list?n=1", names::repo(repo)?);
        let url = self.inner.url(&path)?;
        let scopes = self.inner.scopes(repo, Access::Pull, None);
        let resp = self.inner.send(&Req::new(Method::GET, url, scopes))?;
        if resp.status().as_u16() != 404 {
            crate::client::drain(resp);
            return Ok(false);
        }
        let err = http_error(Operation::Tags, "", &error_answer(resp));
        Ok(err.has_code("NAME_UNKNOWN"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_relative_and_absolute() {
        let cur = Url::parse("https://r.example/v2/a/b/tags/list?n=2").unwrap();
        assert_eq!(
            next_page(r#"</v2/a/b/tags/list?last=t2&n=2>; rel="next""#, &cur).as_deref(),
            Some("/v2/a/b/tags/list?last=t2&n=2")
        );
        assert_eq!(
            next_page(
                r#"<https://elsewhere.example/v2/a/b/tags/list?n=2&last=x>; rel="next""#,
                &cur
            )
            .as_deref(),
            Some("/v2/a/b/tags/list?n=2&last=x")
        );
        assert_eq!(
            next_page(r#"<list?last=y>; rel=next"#, &cur).as_deref(),
            Some("/v2/a/b/tags/list?last=y")
        );
        assert_eq!(
            next_page(r#"</prev>; rel="prev", </v2/n?last=z>; rel="next""#, &cur).as_deref(),
            Some("/v2/n?last=z")
        );
        assert_eq!(next_page(r#"</prev>; rel="prev""#, &cur), None);
    }
}
