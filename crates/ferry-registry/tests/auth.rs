//! Authentication against real registries: htpasswd Basic auth (over TLS), and Bearer
//! tokens from a token server (Basic credentials, identity/refresh tokens, anonymous,
//! `--registry-token`), with token caching per scope set and mount scopes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::Read;

use ferry_registry::{Access, Credential, Registry, RegistryConfig, UploadBody};
use ferry_test::registry::{Options, Registry as TestRegistry};
use ferry_test::tls::Pki;
use ferry_test::token::TokenServer;
use support::{SCHEMA2, client, data, manifest, plain, quick_retry, sha256};

fn basic(u: &str, p: &str) -> Option<Credential> {
    Some(Credential::Basic {
        username: u.into(),
        password: p.into(),
    })
}

/// Pushes a config blob and an image manifest under `repo:tag`.
fn push_image(r: &Registry, repo: &str, tag: &str) -> Vec<u8> {
    let cfg = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let cd = r
        .put_blob(repo, None, None, UploadBody::Bytes(cfg))
        .unwrap()
        .digest;
    let layer = data(21, 4096);
    let ld = r
        .put_blob(repo, None, None, UploadBody::Bytes(&layer))
        .unwrap()
        .digest;
    let m = manifest((&cd, cfg.len()), &[(&ld, layer.len())]);
    r.put_manifest(repo, tag, &m, SCHEMA2).unwrap();
    m
}

#[test]
fn htpasswd_basic_auth_over_tls() {
    let pki = Pki::new();
    let Some(reg) = TestRegistry::start_with_or_skip(Options {
        tls: Some(pki.clone()),
        htpasswd: vec![("alice".into(), "wonderland".into())],
        ..Options::default()
    }) else {
        return;
    };
    let cfg = |cred| RegistryConfig {
        ca_pems: vec![pki.ca_pem()],
        credential: cred,
        retry: quick_retry(),
        ..RegistryConfig::new(reg.host())
    };
    let good = client(cfg(basic("alice", "wonderland")));
    let m = push_image(&good, "b/img", "v1");
    assert!(good.get_manifest("b/img", "v1", &[SCHEMA2]).unwrap().bytes == m);
    assert_eq!(good.list_tags("b/img").unwrap(), ["v1"]);

    let want = format!(
        "reading manifest v1 in {}/b/img: unauthorized: authentication required",
        reg.host()
    );
    for cred in [basic("alice", "wrong"), None] {
        let r = client(cfg(cred));
        let e = r.get_manifest("b/img", "v1", &[SCHEMA2]).unwrap_err();
        assert_eq!(e.to_string(), want);
        assert!(e.is_unauthorized() && !e.is_not_found());
        assert!(!format!("{e:?}").contains("wrong"));
    }
}

fn token_registry(ts: &TokenServer) -> Option<TestRegistry> {
    TestRegistry::start_with_or_skip(Options {
        token: Some(ts.auth()),
        ..Options::default()
    })
}

#[test]
fn bearer_tokens_are_fetched_once_per_scope_set() {
    let ts = TokenServer::start(&[("alice", "wonderland")], 300, false);
    let Some(reg) = token_registry(&ts) else {
        return;
    };
    let r = client(RegistryConfig {
        credential: basic("alice", "wonderland"),
        ..plain(&reg.host())
    });
    let m = push_image(&r, "tok/img", "v1");
    push_image(&r, "tok/img", "v2");
    assert!(r.get_manifest("tok/img", "v1", &[SCHEMA2]).unwrap().bytes == m);
    let mut tags = r.list_tags("tok/img").unwrap();
    tags.sort();
    assert_eq!(tags, ["v1", "v2"]);

    let seen = ts.seen();
    let scopes: Vec<Vec<String>> = seen.iter().map(|s| s.scopes.clone()).collect();
    assert_eq!(
        scopes,
        [
            vec!["repository:tok/img:pull,push".to_string()],
            vec!["repository:tok/img:pull".to_string()]
        ],
        "one token per scope set, reused: {seen:?}"
    );
    assert!(
        seen.iter()
            .all(|s| s.user.as_deref() == Some("alice") && s.method == "GET")
    );

    // A mount asks for pull on the source repository too.
    let blob = data(22, 999);
    let d = r
        .put_blob("tok/src", None, None, UploadBody::Bytes(&blob))
        .unwrap()
        .digest;
    assert!(r.mount_blob("tok/dst", &d, "tok/src").unwrap());
    let last = ts.seen().last().unwrap().scopes.clone();
    assert_eq!(
        last,
        ["repository:tok/dst:pull,push", "repository:tok/src:pull"]
    );

    // Nothing to mount: the upload the registry starts is cancelled; DELETE needs the
    // `delete` action, which the registry's insufficient_scope challenge asks for.
    assert!(
        !r.mount_blob("tok/dst", &sha256(b"absent"), "tok/src")
            .unwrap()
    );
    let last = ts.seen().last().unwrap().scopes.clone();
    assert!(
        last.contains(&"repository:tok/dst:delete".to_string()),
        "{last:?}"
    );
    assert!(
        !reg.wait_access(0, &["\"DELETE /v2/tok/dst/blobs/uploads/", "\" 204 "], 1)
            .is_empty(),
        "{}",
        reg.log()
    );

    // A client configured for pushing asks for pull,push even to read.
    let pusher = client(RegistryConfig {
        credential: basic("alice", "wonderland"),
        access: Access::Push,
        ..plain(&reg.host())
    });
    let before = ts.seen().len();
    pusher.get_manifest("tok/img", "v1", &[SCHEMA2]).unwrap();
    pusher.head_blob("tok/img", &d).unwrap();
    let after = ts.seen();
    assert_eq!(after.len(), before + 1);
    assert_eq!(after[before].scopes, ["repository:tok/img:pull,push"]);
}

#[test]
fn bearer_failures_read_like_skopeo() {
    let ts = TokenServer::start(&[("alice", "wonderland")], 300, false);
    let Some(reg) = token_registry(&ts) else {
        return;
    };
    let bad = client(RegistryConfig {
        credential: basic("alice", "nope"),
        ..plain(&reg.host())
    });
    let e = bad.get_manifest("t/x", "latest", &[SCHEMA2]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unable to retrieve auth token: invalid username/password: unauthorized: bad credentials"
    );
    assert!(e.is_unauthorized());

    let anon = client(plain(&reg.host()));
    let e = anon.get_manifest("t/x", "latest", &[SCHEMA2]).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "reading manifest latest in {}/t/x: errors:\ndenied: requested access to the resource is denied\nunauthorized: authentication required\n",
            reg.host()
        )
    );
    assert!(e.is_unauthorized());
    // Fetched once, then the 401 (same scope, fresh token) is final.
    assert_eq!(
        ts.seen()
            .iter()
            .filter(|s| s.user.is_none() && s.status == 200)
            .count(),
        1
    );
}

#[test]
fn anonymous_pull_identity_token_and_registry_token() {
    let ts = TokenServer::start(&[("alice", "wonderland")], 300, true);
    let Some(reg) = token_registry(&ts) else {
        return;
    };
    let alice = client(RegistryConfig {
        credential: basic("alice", "wonderland"),
        ..plain(&reg.host())
    });
    let m = push_image(&alice, "pub/img", "v1");

    let anon = client(plain(&reg.host()));
    assert!(
        anon.get_manifest("pub/img", "v1", &[SCHEMA2])
            .unwrap()
            .bytes
            == m
    );
    let e = anon
        .put_blob("pub/img", None, None, UploadBody::Bytes(b"x"))
        .unwrap_err();
    assert!(e.is_unauthorized(), "{e}");

    // auth.json "identitytoken": OAuth2 refresh_token grant.
    let n = ts.seen().len();
    let idt = client(RegistryConfig {
        credential: Some(Credential::IdentityToken {
            username: "alice".into(),
            token: "ferry-refresh.alice".into(),
        }),
        ..plain(&reg.host())
    });
    push_image(&idt, "pub/other", "v1");
    let s = &ts.seen()[n];
    assert_eq!(
        (
            s.method.as_str(),
            s.grant_type.as_deref(),
            s.user.as_deref()
        ),
        ("POST", Some("refresh_token"), Some("alice"))
    );
    assert_eq!(s.scopes, ["repository:pub/other:pull,push"]);

    let bad = client(RegistryConfig {
        credential: Some(Credential::IdentityToken {
            username: "alice".into(),
            token: "stolen".into(),
        }),
        ..plain(&reg.host())
    });
    let e = bad.list_tags("pub/img").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("unable to retrieve auth token: invalid username/password:"),
        "{e}"
    );
    assert!(!e.to_string().contains("stolen"));

    // --registry-token: used as is, the token server is not asked.
    let token = ts.issue_for("alice", &["repository:pub/img:pull,push"]);
    let n = ts.seen().len();
    let given = client(RegistryConfig {
        credential: Some(Credential::Bearer(token)),
        ..plain(&reg.host())
    });
    assert_eq!(given.list_tags("pub/img").unwrap(), ["v1"]);
    let up = given
        .put_blob("pub/img", None, None, UploadBody::Bytes(b"given"))
        .unwrap();
    assert_eq!(up.digest, sha256(b"given"));
    let mut got = Vec::new();
    given
        .get_blob("pub/img", &up.digest, None)
        .unwrap()
        .read_to_end(&mut got)
        .unwrap();
    assert_eq!(got, b"given");
    assert_eq!(ts.seen().len(), n);
}
