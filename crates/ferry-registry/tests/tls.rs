//! HTTPS registries: a private CA (certs.d `*.crt`), `--tls-verify=false`, client
//! certificates, and HTTP/2 negotiated by ALPN.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::Read;

use ferry_registry::{RegistryConfig, RegistryError, TransportKind, UploadBody};
use ferry_test::registry::{Options, Registry as TestRegistry};
use ferry_test::tls::Pki;
use support::{client, data, quick_retry};

fn https_registry(client_certs: bool) -> Option<TestRegistry> {
    TestRegistry::start_with_or_skip(Options {
        tls: Some(Pki::new()),
        client_certs,
        ..Options::default()
    })
}

fn cfg(host: &str) -> RegistryConfig {
    RegistryConfig {
        retry: quick_retry(),
        ..RegistryConfig::new(host)
    }
}

#[test]
fn private_ca_and_http2() {
    let Some(reg) = https_registry(false) else {
        return;
    };
    let pki = reg.pki().cloned().unwrap();
    let r = client(RegistryConfig {
        ca_pems: vec![pki.ca_pem()],
        ..cfg(&reg.host())
    });
    assert_eq!(r.scheme().unwrap(), "https");
    let b = data(11, 200_000);
    let up = r
        .put_blob("tls/repo", None, None, UploadBody::Bytes(&b))
        .unwrap();
    let mut got = Vec::new();
    r.get_blob("tls/repo", &up.digest, None)
        .unwrap()
        .read_to_end(&mut got)
        .unwrap();
    assert!(got == b);
    // Unknown size over HTTP/2 (no chunked encoding there: a body of DATA frames).
    let c = data(12, 700_000);
    let mut src: &[u8] = &c;
    let mut reader: &mut dyn Read = &mut src;
    let up2 = r
        .put_blob("tls/repo", None, None, UploadBody::Stream(&mut reader))
        .unwrap();
    assert_eq!(up2.digest, support::sha256(&c));
    assert_eq!(
        r.head_blob("tls/repo", &up2.digest).unwrap().unwrap().size,
        Some(c.len() as u64)
    );
    let lines = reg.access_lines("/v2/tls/repo/blobs/");
    assert!(!lines.is_empty());
    assert!(
        lines.iter().all(|l| l.contains("HTTP/2.0")),
        "HTTP/2 expected by ALPN: {lines:?}"
    );
}

#[test]
fn unknown_ca_fails_unless_insecure() {
    let Some(reg) = https_registry(false) else {
        return;
    };
    let strict = client(cfg(&reg.host()));
    let e = strict.ping().unwrap_err();
    let s = e.to_string();
    assert!(
        s.starts_with(&format!(
            "pinging container registry {h}: Get \"https://{h}/v2/\": ",
            h = reg.host()
        )),
        "{s}"
    );
    assert!(s.to_lowercase().contains("certificate"), "{s}");
    assert!(
        matches!(
            e,
            RegistryError::Transport {
                kind: TransportKind::Tls,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(!e.is_retryable());

    let lax = client(RegistryConfig {
        insecure: true,
        ..cfg(&reg.host())
    });
    lax.ping().unwrap();
    assert_eq!(
        lax.scheme().unwrap(),
        "https",
        "insecure still prefers https"
    );
    assert!(
        lax.head_blob("x/y", &support::sha256(b"z"))
            .unwrap()
            .is_none()
    );
}

/// Without an explicit ping: an insecure client's first request goes over plain http,
/// gets the TLS port's 400, pings, and is sent again over https; a strict client's
/// first failure reports the ping's error, worded as skopeo's.
#[test]
fn first_request_without_ping_finds_the_scheme() {
    let Some(reg) = https_registry(false) else {
        return;
    };
    let lax = client(RegistryConfig {
        insecure: true,
        ..cfg(&reg.host())
    });
    let blob = data(5, 1000);
    let up = lax
        .put_blob("np/repo", None, None, UploadBody::Bytes(&blob))
        .unwrap();
    assert_eq!(lax.scheme().unwrap(), "https");
    assert_eq!(
        lax.head_blob("np/repo", &up.digest).unwrap().unwrap().size,
        Some(blob.len() as u64)
    );

    let strict = client(cfg(&reg.host()));
    let e = strict.list_tags("np/repo").unwrap_err();
    assert!(
        e.to_string().starts_with(&format!(
            "pinging container registry {h}: Get \"https://{h}/v2/\": ",
            h = reg.host()
        )),
        "{e}"
    );
}

#[test]
fn client_certificates() {
    let Some(reg) = https_registry(true) else {
        return;
    };
    let pki = reg.pki().cloned().unwrap();
    let with = client(RegistryConfig {
        ca_pems: vec![pki.ca_pem()],
        client_cert: Some(pki.client_pair()),
        ..cfg(&reg.host())
    });
    with.ping().unwrap();
    assert!(with.list_tags("none/here").unwrap_err().is_not_found());

    let without = client(RegistryConfig {
        ca_pems: vec![pki.ca_pem()],
        ..cfg(&reg.host())
    });
    let e = without.ping().unwrap_err();
    assert!(matches!(e, RegistryError::Transport { .. }), "{e:?}");

    let bad = new_err(RegistryConfig {
        client_cert: Some((b"not a cert".to_vec(), b"not a key".to_vec())),
        ..cfg(&reg.host())
    });
    assert!(
        bad.contains("invalid client certificate or key for 127.0.0.1:"),
        "{bad}"
    );
    assert!(!bad.contains("not a key"));
}

fn new_err(c: RegistryConfig) -> String {
    ferry_registry::Registry::new(c).unwrap_err().to_string()
}
