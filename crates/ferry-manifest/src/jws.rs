//! libtrust's "pretty JWS" signatures of schema1 manifests (docker/libtrust
//! `jsonsign.go`, `ec_key.go`, `util.go`), as c/image's `AddDummyV2S1Signature` writes
//! them: one ES256 signature by an ephemeral P-256 key, its JWK (with libtrust's key ID)
//! in the header, and a protected header that records how to rebuild the signed payload
//! from the manifest (`formatLength`, `formatTail`).
//!
//! This crate stays free of cryptography: the caller supplies a [`JwsSigner`] (ferry's
//! copy engine uses an ephemeral aws-lc-rs key).

use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::{ManifestError, gojson};

/// An ES256 signing key.
pub trait JwsSigner {
    /// The public key's affine coordinates, big-endian, 32 bytes each.
    fn public_key_xy(&self) -> ([u8; 32], [u8; 32]);
    /// An ES256 signature of `data`: `r || s`, 32 bytes each (JWS form, not DER).
    fn sign_es256(&self, data: &[u8]) -> Result<Vec<u8>, String>;
}

/// JOSE base64url, unpadded.
pub fn base64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

/// DER `SubjectPublicKeyInfo` prefix of an uncompressed P-256 point
/// (id-ecPublicKey, prime256v1, BIT STRING of 66 bytes).
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// libtrust `keyIDFromCryptoKey`: SHA-256 of the PKIX DER public key, first 240 bits,
/// base32 in 12 groups of 4 separated by `:`.
pub fn key_id(x: &[u8; 32], y: &[u8; 32]) -> String {
    let mut h = Sha256::new();
    h.update(P256_SPKI_PREFIX);
    h.update([0x04]);
    h.update(x);
    h.update(y);
    let sum = h.finalize();
    let encoded = base32(&sum[..30]);
    let groups: Vec<&str> = encoded
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    groups.join(":")
}

/// RFC 4648 base32 (standard alphabet), no padding.
fn base32(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    let mut buffer: u64 = 0;
    let mut bits = 0u32;
    for &b in data {
        buffer = (buffer << 8) | u64::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

#[derive(Serialize)]
struct Jwk {
    crv: &'static str,
    kid: String,
    kty: &'static str,
    x: String,
    y: String,
}

#[derive(Serialize)]
struct Header {
    jwk: Jwk,
    alg: &'static str,
}

#[derive(Serialize)]
struct Signature {
    header: Header,
    signature: String,
    protected: String,
}

#[derive(Serialize)]
struct Protected<'a> {
    #[serde(rename = "formatLength")]
    format_length: usize,
    #[serde(rename = "formatTail")]
    format_tail: String,
    time: &'a str,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// libtrust `detectJSONIndent`.
fn detect_indent(content: &[u8]) -> &[u8] {
    if content.len() > 2
        && content[0] == b'{'
        && content[1] == b'\n'
        && let Some(q) = content[1..].iter().position(|&b| b == b'"')
        && q > 0
    {
        return &content[2..q + 1];
    }
    &[]
}

/// libtrust `NewJSONSignature(content)` + `Sign(key)` + `PrettySignature("signatures")`:
/// `content` (a JSON object without signatures) with one signature appended.
/// `time` is the protected header's timestamp (Go's `time.RFC3339`, UTC).
pub fn sign_pretty(
    content: &[u8],
    signer: &dyn JwsSigner,
    time: &str,
) -> Result<Vec<u8>, ManifestError> {
    let invalid = || ManifestError::Invalid("invalid JSON content to sign".into());
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(content)?;
    let close = content
        .iter()
        .rposition(|&b| !is_space(b))
        .ok_or_else(invalid)?;
    if content[close] != b'}' {
        return Err(invalid());
    }
    let last = content[..close]
        .iter()
        .rposition(|&b| !is_space(b))
        .ok_or_else(invalid)?;
    if content[last] == b',' {
        return Err(invalid());
    }
    let format_length = last + 1;
    let format_tail = &content[format_length..];
    let protected = base64url(&gojson::to_vec(&Protected {
        format_length,
        format_tail: base64url(format_tail),
        time,
    })?);
    let signing_input = format!("{protected}.{}", base64url(content));
    let raw = signer
        .sign_es256(signing_input.as_bytes())
        .map_err(|e| ManifestError::Invalid(format!("signing the schema1 manifest: {e}")))?;
    let (x, y) = signer.public_key_xy();
    let signatures = [Signature {
        header: Header {
            jwk: Jwk {
                crv: "P-256",
                kid: key_id(&x, &y),
                kty: "EC",
                x: base64url(&x),
                y: base64url(&y),
            },
            alg: "ES256",
        },
        signature: base64url(&raw),
        protected,
    }];
    let indent = detect_indent(content);
    let mut out = Vec::with_capacity(format_length + 512);
    out.extend_from_slice(&content[..format_length]);
    out.push(b',');
    if indent.is_empty() {
        out.extend_from_slice(b"\"signatures\":");
        out.extend_from_slice(&gojson::to_vec(&signatures)?);
    } else {
        let indent_str = String::from_utf8_lossy(indent).into_owned();
        // json.MarshalIndent(v, indent, indent): every line after the first is prefixed.
        let marshalled = gojson::to_vec_indent(&signatures, &indent_str)?;
        let mut prefixed = Vec::with_capacity(marshalled.len() + 64);
        for &b in &marshalled {
            prefixed.push(b);
            if b == b'\n' {
                prefixed.extend_from_slice(indent);
            }
        }
        out.push(b'\n');
        out.extend_from_slice(indent);
        out.extend_from_slice(b"\"signatures\": ");
        out.extend_from_slice(&prefixed);
        out.push(b'\n');
    }
    out.push(b'}');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64d(s: &str) -> [u8; 32] {
        let v = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .unwrap_or_default();
        v.try_into().unwrap_or([0; 32])
    }

    #[test]
    fn key_ids_match_libtrust() {
        // From a manifest skopeo 1.9.3 signed, and from ferry-test's schema1 fixture.
        for (x, y, kid) in [
            (
                "lLuGwbWMMTF8BWorq-JAwEnvFtaiN0euGYoxq-oDzw4",
                "5xhwikFl3Pa1HWtmU1nwCTaFA4d00JWhRrx5RsHmvzU",
                "E6IJ:KIGY:GLUJ:3RIC:PNJQ:G627:Y53X:O6ED:7GOF:UA7U:64MJ:2KUE",
            ),
            (
                "pkJHF72e_4euuw3PIPpCJ58-LEcNDMUF9EWgXt4D9yU",
                "pEGWN5WJE7XEk1CuVig8NnH1BAXvmVHfOuTKcEa-fCk",
                "3UOB:NTIC:4IF5:K6LY:XXEW:6SUC:5PBN:HS3O:JUHU:AU2D:LUPA:GVQA",
            ),
        ] {
            assert_eq!(key_id(&b64d(x), &b64d(y)), kid);
        }
    }

    #[test]
    fn base32_known() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"fooba"), "MZXW6YTB");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
    }

    struct Fixed;
    impl JwsSigner for Fixed {
        fn public_key_xy(&self) -> ([u8; 32], [u8; 32]) {
            ([1; 32], [2; 32])
        }
        fn sign_es256(&self, data: &[u8]) -> Result<Vec<u8>, String> {
            // Not a signature: lets the test see what was signed.
            Ok(Sha256::digest(data)
                .iter()
                .chain(&[0u8; 32])
                .copied()
                .collect())
        }
    }

    #[test]
    fn compact_content_is_signed_like_libtrust() -> Result<(), ManifestError> {
        let content = br#"{"a":1,"b":[2]}"#;
        let out = sign_pretty(content, &Fixed, "2024-01-01T00:00:00Z")?;
        let text = String::from_utf8_lossy(&out).into_owned();
        assert!(text.starts_with(
            r#"{"a":1,"b":[2],"signatures":[{"header":{"jwk":{"crv":"P-256","kid":""#
        ));
        assert!(text.ends_with(r#""}]}"#));
        // The payload rebuilt from the protected header is the original content.
        assert_eq!(crate::schema1::signed_payload(&out)?, content);
        let v: serde_json::Value = serde_json::from_slice(&out)?;
        let protected = v["signatures"][0]["protected"].as_str().unwrap_or_default();
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(protected)
            .unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&header),
            r#"{"formatLength":14,"formatTail":"fQ","time":"2024-01-01T00:00:00Z"}"#
        );
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(v["signatures"][0]["signature"].as_str().unwrap_or_default())
            .unwrap_or_default();
        let input = format!("{protected}.{}", base64url(content));
        assert_eq!(&sig[..32], Sha256::digest(input.as_bytes()).as_slice());
        Ok(())
    }

    #[test]
    fn indented_content_keeps_its_indent() -> Result<(), ManifestError> {
        let content = b"{\n   \"a\": 1\n}";
        let out = sign_pretty(content, &Fixed, "2024-01-01T00:00:00Z")?;
        let text = String::from_utf8_lossy(&out).into_owned();
        assert!(
            text.starts_with(
                "{\n   \"a\": 1,\n   \"signatures\": [\n      {\n         \"header\": {"
            )
        );
        assert!(text.ends_with("\n      }\n   ]\n}"));
        assert_eq!(crate::schema1::signed_payload(&out)?, content);
        Ok(())
    }

    #[test]
    fn rejects_non_objects() {
        assert!(sign_pretty(b"[1]", &Fixed, "t").is_err());
        assert!(sign_pretty(b"{\"a\":1,}", &Fixed, "t").is_err());
    }
}
