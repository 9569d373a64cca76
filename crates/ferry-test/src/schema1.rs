//! A Docker schema 1 manifest in libtrust's "pretty JWS" form, for `manifest-digest`
//! tests: its digest is the SHA-256 of the payload (the manifest without the
//! `signatures` member), which a correct tool must compute. The signature itself is
//! random bytes (the key is real):
//! digesting does not verify it.

use serde::Serialize as _;
use serde_json::json;

use crate::hash::sha256_bytes;

fn base64url(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=c.len() {
            out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// A signed schema 1 manifest and its expected digest.
pub fn signed_manifest() -> (Vec<u8>, String) {
    let unsigned = json!({
        "schemaVersion": 1,
        "name": "library/ferry-test",
        "tag": "latest",
        "architecture": "amd64",
        "fsLayers": [
            {"blobSum": "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"},
            {"blobSum": "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"}
        ],
        "history": [
            {"v1Compatibility": "{\"id\":\"e1\",\"parent\":\"e0\",\"created\":\"2024-01-01T00:00:00Z\",\"container_config\":{\"Cmd\":[\"/bin/sh\"]},\"throwaway\":true}"},
            {"v1Compatibility": "{\"id\":\"e0\",\"created\":\"2024-01-01T00:00:00Z\",\"architecture\":\"amd64\",\"os\":\"linux\"}"}
        ]
    });
    // libtrust formats the payload with 3-space indentation.
    let mut payload = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"   ");
    let mut ser = serde_json::Serializer::with_formatter(&mut payload, fmt);
    let _ = unsigned.serialize(&mut ser);
    // The JWS covers payload[..formatLength] + formatTail, where the tail is the final "\n}".
    let tail = b"\n}";
    let head = &payload[..payload.len() - tail.len()];
    let protected = base64url(
        json!({"formatLength": head.len(), "formatTail": base64url(tail), "time": "2024-01-01T00:00:00Z"})
            .to_string()
            .as_bytes(),
    );
    let sig = json!({
        // A real P-256 public key (parsers check the key and its libtrust key ID).
        "header": {"jwk": {"crv": "P-256", "kid": "3UOB:NTIC:4IF5:K6LY:XXEW:6SUC:5PBN:HS3O:JUHU:AU2D:LUPA:GVQA",
                           "kty": "EC", "x": "pkJHF72e_4euuw3PIPpCJ58-LEcNDMUF9EWgXt4D9yU",
                           "y": "pEGWN5WJE7XEk1CuVig8NnH1BAXvmVHfOuTKcEa-fCk"},
                   "alg": "ES256"},
        "signature": base64url(&[3; 64]),
        "protected": protected,
    });
    let mut sig_bytes = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"   ");
    let mut ser = serde_json::Serializer::with_formatter(&mut sig_bytes, fmt);
    let _ = json!([sig]).serialize(&mut ser);
    let mut signed = head.to_vec();
    signed.extend_from_slice(b",\n   \"signatures\": ");
    // Indent the signature array by 3 spaces (after its first line).
    let sig_text = String::from_utf8_lossy(&sig_bytes).replace('\n', "\n   ");
    signed.extend_from_slice(sig_text.as_bytes());
    signed.extend_from_slice(tail);
    let mut digested = head.to_vec();
    digested.extend_from_slice(tail);
    (signed, sha256_bytes(&digested))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_known() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"\n}"), "Cn0");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn signed_manifest_is_json_and_payload_differs() {
        let (bytes, digest) = signed_manifest();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        assert_eq!(v["schemaVersion"], json!(1));
        assert_eq!(v["signatures"].as_array().map(Vec::len), Some(1));
        assert_ne!(digest, sha256_bytes(&bytes));
    }
}
