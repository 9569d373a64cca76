//! Protocol corners against a scripted server: tag pagination through `Link` headers
//! (relative and absolute), blob redirects to another host (no `Authorization` there),
//! a server that ignores `Range`, `--registry-token`, and `Retry-After` limits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::Read;
use std::time::{Duration, Instant};

use ferry_registry::{Credential, RegistryConfig};
use support::fake::{FakeResponse, FakeServer};
use support::{client, data, plain, sha256};

#[test]
fn tags_pagination_relative_and_absolute_links() {
    let srv = FakeServer::start(|req| match req.target.as_str() {
        "/v2/" => FakeResponse::new(200),
        "/v2/p/t/tags/list?n=2" => FakeResponse::new(200)
            .header("Link", "</v2/p/t/tags/list?n=2&last=b>; rel=\"next\"")
            .body(r#"{"name":"p/t","tags":["a","b"]}"#),
        "/v2/p/t/tags/list?n=2&last=b" => FakeResponse::new(200)
            // Absolute, and naming another host: only path and query are followed.
            .header(
                "Link",
                "<https://elsewhere.invalid/v2/p/t/tags/list?n=2&last=d>; rel=\"next\"",
            )
            .body(r#"{"name":"p/t","tags":["c","d"]}"#),
        "/v2/p/t/tags/list?n=2&last=d" => {
            FakeResponse::new(200).body(r#"{"name":"p/t","tags":["e"]}"#)
        }
        _ => FakeResponse::new(404),
    });
    let r = client(RegistryConfig {
        tags_page_size: Some(2),
        ..plain(&srv.host())
    });
    assert_eq!(r.list_tags("p/t").unwrap(), ["a", "b", "c", "d", "e"]);
    let targets: Vec<String> = srv.seen().into_iter().map(|q| q.target).collect();
    assert_eq!(
        targets,
        [
            // No ping: the first request goes straight to the tag list.
            "/v2/p/t/tags/list?n=2",
            "/v2/p/t/tags/list?n=2&last=b",
            "/v2/p/t/tags/list?n=2&last=d"
        ]
    );
}

#[test]
fn tags_null_list_and_link_loop() {
    let srv = FakeServer::start(|req| match req.target.as_str() {
        "/v2/" => FakeResponse::new(200),
        "/v2/empty/tags/list" => FakeResponse::new(200).body(r#"{"name":"empty","tags":null}"#),
        _ => FakeResponse::new(200)
            .header("Link", "</v2/loop/tags/list?last=x>; rel=\"next\"")
            .body(r#"{"tags":["x"]}"#),
    });
    let r = client(plain(&srv.host()));
    assert!(r.list_tags("empty").unwrap().is_empty());
    let e = r.list_tags("loop").unwrap_err();
    assert!(e.to_string().contains("links back"), "{e}");
}

#[test]
fn blob_redirect_to_another_host_drops_authorization() {
    let blob = data(7, 10_000);
    let digest = sha256(&blob);
    let b2 = blob.clone();
    let storage = FakeServer::start(move |_| FakeResponse::new(200).body(b2.clone()));
    let sport = storage.port;
    let registry = FakeServer::start(move |req| {
        if req.header("authorization").is_none() {
            return FakeResponse::new(401).header("WWW-Authenticate", "Basic realm=\"fake\"");
        }
        match req.target.as_str() {
            "/v2/" => FakeResponse::new(200),
            t if t.starts_with("/v2/r/blobs/") => FakeResponse::new(307).header(
                "Location",
                &format!("http://localhost:{sport}/storage/blob?sig=1"),
            ),
            _ => FakeResponse::new(404),
        }
    });
    let r = client(RegistryConfig {
        credential: Some(Credential::Basic {
            username: "user".into(),
            password: "secret".into(),
        }),
        ..plain(&registry.host())
    });
    let mut got = Vec::new();
    r.get_blob("r", &digest, Some(blob.len() as u64))
        .unwrap()
        .read_to_end(&mut got)
        .unwrap();
    assert!(got == blob);
    let reg_seen = registry.seen();
    // The last one: the first went without credentials (no ping; its 401 brought the
    // challenge).
    let blob_req = reg_seen
        .iter()
        .rev()
        .find(|q| q.target.starts_with("/v2/r/blobs/"))
        .expect("blob request");
    assert!(
        blob_req
            .header("authorization")
            .is_some_and(|a| a.starts_with("Basic ")),
        "the registry gets the credentials"
    );
    let st = storage.seen();
    assert_eq!(st.len(), 1);
    assert_eq!(st[0].target, "/storage/blob?sig=1");
    assert!(
        st[0].header("authorization").is_none(),
        "credentials leaked to the redirect target: {:?}",
        st[0].headers
    );
}

#[test]
fn truncated_body_resumes_even_if_range_is_ignored() {
    let blob = data(8, 3 << 20);
    let digest = sha256(&blob);
    let b2 = blob.clone();
    let srv = FakeServer::start(move |req| {
        if req.target == "/v2/" {
            return FakeResponse::new(200);
        }
        // The first answer breaks off after 1.5 MiB; later ones ignore Range (200).
        if req.header("range").is_none() {
            FakeResponse::new(200).body(b2.clone()).truncated(3 << 19)
        } else {
            FakeResponse::new(200).body(b2.clone())
        }
    });
    let r = client(plain(&srv.host()));
    let mut s = r.get_blob("r", &digest, None).unwrap();
    assert_eq!(
        s.size(),
        Some(blob.len() as u64),
        "size from Content-Length"
    );
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert_eq!(got.len(), blob.len());
    assert!(got == blob, "bytes differ after a resume with a 200 answer");
    assert_eq!(s.resumes(), 1);
    let ranges: Vec<String> = srv
        .seen()
        .iter()
        .filter_map(|q| q.header("range").map(str::to_string))
        .collect();
    assert_eq!(ranges, [format!("bytes={}-", 3 << 19)]);
}

#[test]
fn wrong_content_range_is_an_error_not_corruption() {
    let blob = data(9, 1 << 20);
    let digest = sha256(&blob);
    let b2 = blob.clone();
    let srv = FakeServer::start(move |req| {
        if req.target == "/v2/" {
            return FakeResponse::new(200);
        }
        if req.header("range").is_none() {
            FakeResponse::new(200).body(b2.clone()).truncated(1000)
        } else {
            // Claims to start at 0 instead of the asked offset.
            FakeResponse::new(206)
                .header(
                    "Content-Range",
                    &format!("bytes 0-{}/{}", b2.len() - 1, b2.len()),
                )
                .body(b2.clone())
        }
    });
    let r = client(plain(&srv.host()));
    let mut s = r.get_blob("r", &digest, Some(blob.len() as u64)).unwrap();
    let mut got = Vec::new();
    let e = s.read_to_end(&mut got).unwrap_err();
    assert!(e.to_string().contains("Content-Range"), "{e}");
}

#[test]
fn registry_token_is_sent_as_is() {
    let srv = FakeServer::start(|req| {
        if req.header("authorization") != Some("Bearer given-token") {
            return FakeResponse::new(401).header(
                "WWW-Authenticate",
                "Bearer realm=\"http://127.0.0.1:9/token\",service=\"fake\"",
            );
        }
        FakeResponse::new(200)
            .header(
                "Content-Type",
                "application/vnd.oci.image.manifest.v1+json; charset=x",
            )
            .body("{}")
    });
    let r = client(RegistryConfig {
        credential: Some(Credential::Bearer("given-token".into())),
        ..plain(&srv.host())
    });
    let m = r.get_manifest("a/b", "latest", &["x/y"]).unwrap();
    assert_eq!(m.bytes, b"{}");
    assert_eq!(m.media_type, "application/vnd.oci.image.manifest.v1+json");
    let seen = srv.seen();
    assert_eq!(seen.last().unwrap().header("accept"), Some("x/y"));
    assert!(format!("{r:?}").find("given-token").is_none());
}

#[test]
fn retry_after_is_honoured_or_too_long_to_wait() {
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c2 = count.clone();
    let srv = FakeServer::start(move |req| {
        if req.target == "/v2/" {
            return FakeResponse::new(200);
        }
        if req.target.contains("/long/") {
            return FakeResponse::new(429).header("Retry-After", "3600");
        }
        if c2.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            return FakeResponse::new(503).header("Retry-After", "1");
        }
        FakeResponse::new(200).body("{}")
    });
    let r = client(plain(&srv.host()));
    let t = Instant::now();
    r.get_manifest("a/ok", "latest", &["x/y"]).unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "Retry-After: 1 not waited"
    );

    let t = Instant::now();
    let e = r.get_manifest("a/long", "latest", &["x/y"]).unwrap_err();
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "must not wait an hour"
    );
    assert_eq!(e.status(), Some(429));
    assert!(e.is_retryable());
    assert_eq!(
        e.to_string(),
        "reading manifest latest in ".to_string() + &srv.host() + "/a/long: StatusCode: 429, "
    );
}

#[test]
fn cached_token_refused_is_renewed_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let issued = std::sync::Arc::new(AtomicUsize::new(0));
    let i2 = issued.clone();
    let srv = FakeServer::start(move |req| {
        if req.target.starts_with("/token") {
            let n = i2.fetch_add(1, Ordering::SeqCst) + 1;
            return FakeResponse::new(200).body(format!(r#"{{"token":"t{n}","expires_in":300}}"#));
        }
        let challenge =
            |port: u16| format!("Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"fake\"");
        let port: u16 = req
            .header("host")
            .and_then(|h| h.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        // t1 works for the first manifest only (then it is "revoked"); t2 always works.
        let ok = match req.header("authorization") {
            Some("Bearer t1") => req.target.ends_with("/first"),
            Some("Bearer t2") => true,
            _ => false,
        };
        if req.target == "/v2/" || !ok {
            return FakeResponse::new(401).header("WWW-Authenticate", &challenge(port));
        }
        FakeResponse::new(200).body("{}")
    });
    let r = client(plain(&srv.host()));
    r.get_manifest("a/b", "first", &["x/y"]).unwrap();
    r.get_manifest("a/b", "second", &["x/y"]).unwrap();
    assert_eq!(
        issued.load(Ordering::SeqCst),
        2,
        "a refused cached token is renewed"
    );
    let auths: Vec<Option<String>> = srv
        .seen()
        .iter()
        .filter(|q| q.target.starts_with("/v2/a/b/"))
        .map(|q| q.header("authorization").map(str::to_string))
        .collect();
    assert_eq!(
        auths,
        [
            None, // no ping: the first request's 401 brings the challenge
            Some("Bearer t1".to_string()),
            Some("Bearer t1".to_string()),
            Some("Bearer t2".to_string())
        ]
    );
}
