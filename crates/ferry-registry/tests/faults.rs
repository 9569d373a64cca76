//! Fault injection between the client and a real registry: broken downloads resume with
//! `Range`, 503/429 answers and dropped connections are retried (honouring
//! `Retry-After`), uploads restart only when the source can be re-read.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{Cursor, Read};
use std::time::{Duration, Instant};

use ferry_registry::{Registry, UploadBody};
use ferry_test::proxy::{Fault, FaultProxy};
use ferry_test::registry::{Options, Registry as TestRegistry};
use support::{SCHEMA2, client, data, manifest, plain, sha256};

fn setup() -> Option<(TestRegistry, FaultProxy, Registry, Registry)> {
    let reg = TestRegistry::start_with_or_skip(Options::default())?;
    let proxy = FaultProxy::start(reg.port());
    let direct = client(plain(&reg.host()));
    let via = client(plain(&proxy.host()));
    Some((reg, proxy, direct, via))
}

fn respond(status_line: &str, headers: &[&str]) -> Fault {
    Fault::Respond {
        status_line: status_line.into(),
        headers: headers.iter().map(|h| h.to_string()).collect(),
    }
}

#[test]
fn broken_download_resumes_with_range() {
    let Some((reg, proxy, direct, via)) = setup() else {
        return;
    };
    let big = data(31, 8 << 20);
    let d = direct
        .put_blob("f/big", None, None, UploadBody::Bytes(&big))
        .unwrap()
        .digest;

    proxy.add(
        "GET /v2/f/big/blobs/",
        Fault::CutResponse { after: 1 << 20 },
        1,
    );
    let mut s = via.get_blob("f/big", &d, Some(big.len() as u64)).unwrap();
    let mut got = Vec::with_capacity(big.len());
    s.read_to_end(&mut got).unwrap();
    assert_eq!(got.len(), big.len());
    assert!(got == big, "resumed bytes differ");
    assert_eq!(s.resumes(), 1);
    assert_eq!(proxy.fired().len(), 1);
    let ranges: Vec<String> = proxy
        .heads()
        .iter()
        .flat_map(|h| h.lines().map(str::to_string).collect::<Vec<_>>())
        .filter(|l| l.to_ascii_lowercase().starts_with("range:"))
        .collect();
    assert_eq!(ranges.len(), 1, "{ranges:?}");
    let offset: u64 = ranges[0]
        .split('=')
        .nth(1)
        .and_then(|r| r.trim_end_matches('-').parse().ok())
        .unwrap();
    assert!(offset > 0 && offset < 1 << 20, "resumed at {offset}");
    assert!(
        !reg.wait_access(0, &["/v2/f/big/blobs/", "\" 206 "], 1)
            .is_empty(),
        "{}",
        reg.log()
    );
}

#[test]
fn resume_when_the_server_ignores_range() {
    let Some((_reg, proxy, direct, via)) = setup() else {
        return;
    };
    let blob = data(32, 3 << 20);
    let d = direct
        .put_blob("f/norange", None, None, UploadBody::Bytes(&blob))
        .unwrap()
        .digest;
    proxy.add(
        "GET /v2/f/norange/blobs/",
        Fault::CutResponse { after: 500_000 },
        1,
    );
    proxy.add("range: bytes=", Fault::StripRange, 1);
    let mut s = via.get_blob("f/norange", &d, None).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert!(got == blob);
    assert_eq!(s.resumes(), 1);
    assert_eq!(proxy.fired().len(), 2, "{:?}", proxy.fired());
}

#[test]
fn download_gives_up_after_repeated_failures_without_progress() {
    let Some((_reg, proxy, direct, via)) = setup() else {
        return;
    };
    let blob = data(33, 100_000);
    let d = direct
        .put_blob("f/flaky", None, None, UploadBody::Bytes(&blob))
        .unwrap()
        .digest;
    proxy.add(
        "GET /v2/f/flaky/blobs/",
        Fault::CutResponse { after: 1000 },
        100,
    );
    let mut s = via
        .get_blob("f/flaky", &d, Some(blob.len() as u64))
        .unwrap();
    let mut got = Vec::new();
    let e = s.read_to_end(&mut got).unwrap_err();
    assert!(
        e.to_string().contains("gave up after 4 attempts to resume"),
        "{e}"
    );
    assert!(e.to_string().contains(&d), "{e}");
    assert_eq!(s.resumes(), 4);
}

#[test]
fn retry_after_503_and_429_and_dropped_connections() {
    let Some((_reg, proxy, direct, via)) = setup() else {
        return;
    };
    let cfg = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let cd = direct
        .put_blob("f/img", None, None, UploadBody::Bytes(cfg))
        .unwrap()
        .digest;
    let m = manifest((&cd, cfg.len()), &[]);
    direct.put_manifest("f/img", "v1", &m, SCHEMA2).unwrap();

    proxy.add(
        "GET /v2/f/img/manifests/v1",
        respond("HTTP/1.1 503 Service Unavailable", &["Retry-After: 1"]),
        1,
    );
    let t = Instant::now();
    assert!(via.get_manifest("f/img", "v1", &[SCHEMA2]).unwrap().bytes == m);
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "Retry-After: 1 not honoured"
    );

    proxy.add(
        "HEAD /v2/f/img/blobs/",
        respond("HTTP/1.1 429 Too Many Requests", &["Retry-After: 0"]),
        2,
    );
    assert_eq!(
        via.head_blob("f/img", &cd).unwrap().unwrap().size,
        Some(cfg.len() as u64)
    );

    proxy.add("PUT /v2/f/img/manifests/v2", Fault::Drop, 1);
    via.put_manifest("f/img", "v2", &m, SCHEMA2).unwrap();
    assert_eq!(proxy.fired().len(), 4, "{:?}", proxy.fired());

    // Retries are bounded: the fifth 503 is returned.
    proxy.add(
        "GET /v2/f/img/manifests/v3",
        respond("HTTP/1.1 503 Service Unavailable", &[]),
        10,
    );
    let e = via.get_manifest("f/img", "v3", &[SCHEMA2]).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "reading manifest v3 in {}/f/img: received unexpected HTTP status: 503 Service Unavailable",
            proxy.host()
        )
    );
    assert!(e.is_retryable());
    assert_eq!(proxy.fired().len(), 4 + 5);
}

#[test]
fn failed_patch_restarts_only_rereadable_uploads() {
    let Some((reg, proxy, direct, via)) = setup() else {
        return;
    };
    let blob = data(34, 600_000);
    let want = sha256(&blob);

    // Seekable source: the upload starts over and succeeds.
    proxy.add("PATCH /v2/f/up/blobs/uploads/", Fault::Drop, 1);
    let mut cur = Cursor::new(blob.clone());
    cur.set_position(0);
    let up = via
        .put_blob(
            "f/up",
            None,
            Some(blob.len() as u64),
            UploadBody::Seekable(&mut cur),
        )
        .unwrap();
    assert_eq!(up.digest, want);
    assert_eq!(up.size, blob.len() as u64);
    assert_eq!(
        reg.wait_access(0, &["\"POST /v2/f/up/blobs/uploads/"], 2)
            .len(),
        2
    );
    assert!(direct.head_blob("f/up", &want).unwrap().is_some());

    // A one-shot stream cannot be replayed: clean failure, session cancelled.
    proxy.add("PATCH /v2/f/once/blobs/uploads/", Fault::Drop, 1);
    let mut src: &[u8] = &blob;
    let mut reader: &mut dyn Read = &mut src;
    let e = via
        .put_blob("f/once", None, None, UploadBody::Stream(&mut reader))
        .unwrap_err();
    assert!(e.to_string().starts_with("Patch \"http://"), "{e}");
    assert!(
        e.is_retryable(),
        "the caller may retry the whole copy: {e:?}"
    );
    assert_eq!(
        reg.wait_access(0, &["\"POST /v2/f/once/blobs/uploads/"], 1)
            .len(),
        1
    );
    assert!(
        !reg.wait_access(0, &["\"DELETE /v2/f/once/blobs/uploads/", "\" 204 "], 1)
            .is_empty(),
        "{}",
        reg.log()
    );
    assert!(direct.head_blob("f/once", &want).unwrap().is_none());
}
