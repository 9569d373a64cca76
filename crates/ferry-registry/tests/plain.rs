//! The Distribution API against a real plain-HTTP registry: blobs (monolithic and
//! streamed uploads, HEAD, GET, mounts), manifests (PUT/GET/HEAD/DELETE), tag pages,
//! and skopeo's error texts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::Read;

use ferry_registry::{RegistryConfig, UploadBody};
use ferry_test::registry::{Options, Registry as TestRegistry};
use support::{OCI_MANIFEST, SCHEMA2, client, data, manifest, plain, sha256};

fn start() -> Option<TestRegistry> {
    TestRegistry::start_with_or_skip(Options::default())
}

#[test]
fn blob_push_head_get_and_streamed_upload() {
    let Some(reg) = start() else { return };
    let r = client(plain(&reg.host()));
    assert_eq!(r.scheme().unwrap(), "http", "insecure falls back to http");

    // Known digest and size: Content-Length upload.
    let a = data(1, 300_000);
    let da = sha256(&a);
    let up = r
        .put_blob(
            "t/one",
            Some(&da),
            Some(a.len() as u64),
            UploadBody::Bytes(&a),
        )
        .unwrap();
    assert_eq!((up.digest.as_str(), up.size), (da.as_str(), a.len() as u64));

    // Unknown digest and size, from a plain (non-seekable) reader: chunked, hashed on the fly.
    let b = data(2, 1_234_567);
    let mut src: &[u8] = &b;
    let mut reader: &mut dyn Read = &mut src;
    let up = r
        .put_blob("t/one", None, None, UploadBody::Stream(&mut reader))
        .unwrap();
    assert_eq!(up.digest, sha256(&b));
    assert_eq!(up.size, b.len() as u64);
    assert!(
        !reg.wait_access(0, &["PATCH /v2/t/one/blobs/uploads/"], 1)
            .is_empty(),
        "uploads go through PATCH:\n{}",
        reg.log()
    );

    assert_eq!(
        r.head_blob("t/one", &da).unwrap().unwrap().size,
        Some(a.len() as u64)
    );
    assert_eq!(
        r.head_blob("t/one", &up.digest).unwrap().unwrap().size,
        Some(b.len() as u64)
    );
    assert!(r.head_blob("t/one", &sha256(b"nope")).unwrap().is_none());

    let mut s = r.get_blob("t/one", &up.digest, None).unwrap();
    assert_eq!(s.size(), Some(b.len() as u64));
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert!(got == b, "blob bytes differ");
    assert_eq!(s.resumes(), 0);

    let e = r.get_blob("t/one", &sha256(b"nope"), None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Error fetching blob: invalid status code from registry 404 (Not Found)"
    );
    assert!(!e.is_not_found(), "a missing blob is not a missing image");
}

#[test]
fn wrong_digest_or_size_fails_and_leaves_nothing() {
    let Some(reg) = start() else { return };
    let r = client(plain(&reg.host()));
    let a = data(3, 5000);
    let wrong = sha256(b"something else");
    let e = r
        .put_blob("t/bad", Some(&wrong), None, UploadBody::Bytes(&a))
        .unwrap_err();
    assert!(
        e.to_string().starts_with("uploading layer to http://"),
        "{e}"
    );
    assert!(e.to_string().contains("digest invalid"), "{e}");
    assert!(r.head_blob("t/bad", &wrong).unwrap().is_none());

    let mut src: &[u8] = &a;
    let mut reader: &mut dyn Read = &mut src;
    let e = r
        .put_blob("t/bad", None, Some(4000), UploadBody::Stream(&mut reader))
        .unwrap_err();
    assert!(
        e.to_string().contains("size mismatch: expected 4000"),
        "{e}"
    );
    assert!(r.head_blob("t/bad", &sha256(&a)).unwrap().is_none());
    // A source that fails (the copy engine's verifying reader does on a digest
    // mismatch): its io::Error comes back intact, nothing is committed.
    struct Failing(usize);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other(
                    ferry_registry::RegistryError::Invalid("typed cause".into()),
                ));
            }
            let n = buf.len().min(self.0);
            buf[..n].fill(1);
            self.0 -= n;
            Ok(n)
        }
    }
    let mut failing = Failing(300_000);
    let mut reader: &mut dyn Read = &mut failing;
    let e = r
        .put_blob("t/bad", None, None, UploadBody::Stream(&mut reader))
        .unwrap_err();
    let ferry_registry::RegistryError::Io { source, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(
        source
            .get_ref()
            .is_some_and(|i| i.is::<ferry_registry::RegistryError>()),
        "{source:?}"
    );
    assert_eq!(
        reg.wait_access(0, &["\"POST /v2/t/bad/blobs/uploads/"], 3)
            .len(),
        3,
        "one attempt per upload, no replay of a failed source"
    );

    // The failed sessions were cancelled.
    assert!(
        !reg.wait_access(0, &["\"DELETE /v2/t/bad/blobs/uploads/", "\" 204 "], 1)
            .is_empty(),
        "no cancelled upload in:\n{}",
        reg.log()
    );
}

#[test]
fn mount_between_repositories() {
    let Some(reg) = start() else { return };
    let r = client(plain(&reg.host()));
    let a = data(4, 70_000);
    let d = r
        .put_blob("src/repo", None, None, UploadBody::Bytes(&a))
        .unwrap()
        .digest;
    assert!(r.mount_blob("dst/repo", &d, "src/repo").unwrap());
    assert_eq!(
        r.head_blob("dst/repo", &d).unwrap().unwrap().size,
        Some(a.len() as u64)
    );
    reg.wait_access(0, &["/v2/dst/repo/blobs/uploads/", "mount="], 1);
    let log = reg.access_lines("/v2/dst/repo/blobs/uploads/");
    assert!(
        log.iter()
            .any(|l| l.contains("POST") && l.contains("mount=") && l.contains("\" 201 ")),
        "{log:?}"
    );
    assert!(
        !log.iter().any(|l| l.contains("PATCH")),
        "mounted blobs are not uploaded: {log:?}"
    );

    // Nothing to mount: the registry starts an upload, which is cancelled.
    let missing = sha256(b"not there");
    assert!(!r.mount_blob("dst/repo", &missing, "src/repo").unwrap());
    assert!(
        !reg.wait_access(0, &["\"DELETE /v2/dst/repo/blobs/uploads/", "\" 204 "], 1)
            .is_empty(),
        "{}",
        reg.log()
    );
    assert!(r.head_blob("dst/repo", &missing).unwrap().is_none());
}

#[test]
fn manifest_put_get_head_delete() {
    let Some(reg) = start() else { return };
    let r = client(plain(&reg.host()));
    let cfg = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let cd = r
        .put_blob("m/img", None, None, UploadBody::Bytes(cfg))
        .unwrap()
        .digest;
    let layer = data(5, 1000);
    let ld = r
        .put_blob("m/img", None, None, UploadBody::Bytes(&layer))
        .unwrap()
        .digest;
    let m = manifest((&cd, cfg.len()), &[(&ld, layer.len())]);
    let md = sha256(&m);

    let put = r.put_manifest("m/img", "v1", &m, SCHEMA2).unwrap();
    assert_eq!(put.as_deref(), Some(md.as_str()));

    let got = r
        .get_manifest("m/img", "v1", &[SCHEMA2, OCI_MANIFEST])
        .unwrap();
    assert!(got.bytes == m, "manifest bytes must round-trip exactly");
    assert_eq!(got.media_type, SCHEMA2);
    assert_eq!(got.digest.as_deref(), Some(md.as_str()));
    let by_digest = r.get_manifest("m/img", &md, &[SCHEMA2]).unwrap();
    assert!(by_digest.bytes == m);

    let head = r.head_manifest("m/img", "v1", &[SCHEMA2]).unwrap().unwrap();
    assert_eq!(head.digest.as_deref(), Some(md.as_str()));
    assert_eq!(head.size, Some(m.len() as u64));
    assert_eq!(head.media_type, SCHEMA2);
    assert!(
        r.head_manifest("m/img", "nope", &[SCHEMA2])
            .unwrap()
            .is_none()
    );

    // A manifest referencing a missing blob is refused.
    let bad = manifest((&cd, cfg.len()), &[(&sha256(b"missing"), 7)]);
    let e = r.put_manifest("m/img", "bad", &bad, SCHEMA2).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("uploading manifest bad to 127.0.0.1:"),
        "{e}"
    );
    assert!(e.to_string().contains("blob unknown"), "{e}");

    r.delete_manifest("m/img", &md).unwrap();
    let e = r.get_manifest("m/img", "v1", &[SCHEMA2]).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "reading manifest v1 in {}/m/img: manifest unknown: manifest unknown",
            reg.host()
        )
    );
    assert!(e.is_not_found());
    let e = r.delete_manifest("m/img", &md).unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("Failed to delete /v2/m/img/manifests/{md}: ")),
        "{e}"
    );
    assert!(e.to_string().ends_with("(404 Not Found)"), "{e}");
    assert!(e.is_not_found());
}

#[test]
fn skopeo_error_texts_for_missing_things() {
    let Some(reg) = start() else { return };
    let r = client(plain(&reg.host()));
    let e = r
        .get_manifest("testbed/tiny", "latest", &[SCHEMA2])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "reading manifest latest in {}/testbed/tiny: manifest unknown: manifest unknown",
            reg.host()
        )
    );
    assert!(e.is_not_found() && !e.is_unauthorized() && !e.is_retryable());
    let e = r.list_tags("testbed/tiny").unwrap_err();
    assert_eq!(
        e.to_string(),
        "fetching tags list: invalid status code from registry 404 (Not Found)"
    );
    assert!(e.is_not_found());

    // Without --tls-verify=false, https on a plain server fails like Go says.
    let strict = client(RegistryConfig {
        insecure: false,
        ..plain(&reg.host())
    });
    let e = strict.ping().unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "pinging container registry {h}: Get \"https://{h}/v2/\": http: server gave HTTP response to HTTPS client",
            h = reg.host()
        )
    );
    assert!(!e.is_retryable());
}

#[test]
fn connection_refused_is_reported_and_retryable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = format!("127.0.0.1:{port}");
    let r = client(plain(&host));
    let e = r.get_manifest("a/b", "latest", &[SCHEMA2]).unwrap_err();
    let s = e.to_string();
    assert!(
        s.starts_with(&format!(
            "pinging container registry {host}: Get \"http://{host}/v2/\": "
        )),
        "{s}"
    );
    assert!(s.to_lowercase().contains("connection refused"), "{s}");
    assert!(e.is_retryable());
}

/// Distribution 2.8 ignores `n` on tag lists (one page); paging itself is tested
/// against a scripted server in `protocol.rs`.
#[test]
fn tags_are_listed_and_page_size_is_sent() {
    let Some(reg) = start() else { return };
    let r = client(plain(&reg.host()));
    let cfg = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let cd = r
        .put_blob("p/tags", None, None, UploadBody::Bytes(cfg))
        .unwrap()
        .digest;
    let m = manifest((&cd, cfg.len()), &[]);
    let mut want: Vec<String> = (0..7).map(|i| format!("t{i}")).collect();
    for t in &want {
        r.put_manifest("p/tags", t, &m, SCHEMA2).unwrap();
    }
    want.sort();
    let mut all = r.list_tags("p/tags").unwrap();
    all.sort();
    assert_eq!(all, want);

    let paged = client(RegistryConfig {
        tags_page_size: Some(3),
        ..plain(&reg.host())
    });
    let mut got = paged.list_tags("p/tags").unwrap();
    got.sort();
    assert_eq!(got, want);
    assert_eq!(
        reg.wait_access(0, &["/v2/p/tags/tags/list?n=3 "], 1).len(),
        1,
        "{}",
        reg.log()
    );
}

#[test]
fn concurrent_use_from_threads() {
    let Some(reg) = start() else { return };
    // After the start-up probe's own `GET /v2/`.
    let mark = reg.log_mark();
    let r = client(plain(&reg.host()));
    let blobs: Vec<Vec<u8>> = (0..6).map(|i| data(100 + i, 50_000 + i as usize)).collect();
    std::thread::scope(|s| {
        for b in &blobs {
            let r = r.clone();
            s.spawn(move || {
                let up = r
                    .put_blob("c/par", None, None, UploadBody::Bytes(b))
                    .unwrap();
                let mut got = Vec::new();
                r.get_blob("c/par", &up.digest, Some(b.len() as u64))
                    .unwrap()
                    .read_to_end(&mut got)
                    .unwrap();
                assert!(&got == b);
            });
        }
    });
    // No ping at all: the first answers confirm the scheme.
    reg.wait_access(mark, &["\"GET /v2/c/par/blobs/"], 6);
    assert_eq!(
        reg.wait_access(mark, &["\"GET /v2/ "], 0).len(),
        0,
        "{}",
        reg.log()
    );
}
