//! Test support specific to ferry-registry: a scripted HTTP server ([`fake`]) and small
//! client/data helpers. Real registries, the token server, the fault proxy and the test
//! PKI come from `ferry_test`. Each test binary uses a subset.
#![allow(dead_code)]

pub mod fake;

use std::time::Duration;

use ferry_registry::{Registry, RegistryConfig, RetryPolicy};

/// Deterministic pseudo-random bytes.
pub fn data(seed: u64, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    ferry_test::prng::Prng::new(seed).fill(&mut v);
    v
}

pub fn sha256(b: &[u8]) -> String {
    ferry_test::sha256_bytes(b)
}

/// Fast retries for tests.
pub fn quick_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        initial_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        max_retry_after: Duration::from_secs(5),
    }
}

/// A config for a plain-HTTP registry at `host`.
pub fn plain(host: &str) -> RegistryConfig {
    RegistryConfig {
        insecure: true,
        retry: quick_retry(),
        ..RegistryConfig::new(host)
    }
}

pub fn client(cfg: RegistryConfig) -> Registry {
    Registry::new(cfg).expect("Registry::new")
}

/// A minimal Docker schema 2 manifest for the given config and layer blobs.
pub fn manifest(config: (&str, usize), layers: &[(&str, usize)]) -> Vec<u8> {
    let layers: Vec<_> = layers
        .iter()
        .map(|(d, s)| {
            serde_json::json!({"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": s, "digest": d})
        })
        .collect();
    serde_json::to_vec_pretty(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": SCHEMA2,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": config.1, "digest": config.0},
        "layers": layers,
    }))
    .expect("json")
}

pub const SCHEMA2: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
