//! The ephemeral P-256 key that signs schema1 manifests written by a copy (c/image
//! `AddDummyV2S1Signature`): nothing verifies the signature's origin, but registries
//! and readers require a well-formed one. aws-lc-rs (already in the tree through rustls)
//! generates the key and signs.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use ferry_manifest::jws::JwsSigner;

use crate::error::{Error, Result};

/// A freshly generated ES256 key.
pub struct EphemeralKey {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
}

impl EphemeralKey {
    pub fn generate() -> Result<EphemeralKey> {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(|_| {
            Error::Other("generating a key to sign the schema1 manifest failed".into())
        })?;
        Ok(EphemeralKey {
            pair,
            rng: SystemRandom::new(),
        })
    }
}

impl JwsSigner for EphemeralKey {
    fn public_key_xy(&self) -> ([u8; 32], [u8; 32]) {
        // Uncompressed SEC1 point: 0x04 || x || y.
        let point = self.pair.public_key().as_ref();
        let mut x = [0u8; 32];
        let mut y = [0u8; 32];
        if point.len() == 65 {
            x.copy_from_slice(&point[1..33]);
            y.copy_from_slice(&point[33..65]);
        }
        (x, y)
    }

    fn sign_es256(&self, data: &[u8]) -> std::result::Result<Vec<u8>, String> {
        self.pair
            .sign(&self.rng, data)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| "ECDSA signing failed".to_string())
    }
}

/// The current time as Go's `time.Now().UTC().Format(time.RFC3339)`.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339_utc(secs)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the Unix epoch.
fn rfc3339_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
    use base64::Engine as _;

    #[test]
    fn dates() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(1_704_067_199), "2023-12-31T23:59:59Z");
        assert_eq!(rfc3339_utc(4_102_444_800), "2100-01-01T00:00:00Z");
    }

    /// What a libtrust verifier does: rebuild the signing input from the protected
    /// header and the manifest, check the ES256 signature with the JWK.
    #[test]
    fn signatures_verify_like_libtrust() {
        let key = EphemeralKey::generate().unwrap();
        let content = br#"{"schemaVersion":1,"name":"a/b","tag":"t"}"#;
        let signed = ferry_manifest::jws::sign_pretty(content, &key, &now_rfc3339()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&signed).unwrap();
        let sig = &v["signatures"][0];
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let x = b64
            .decode(sig["header"]["jwk"]["x"].as_str().unwrap())
            .unwrap();
        let y = b64
            .decode(sig["header"]["jwk"]["y"].as_str().unwrap())
            .unwrap();
        let mut point = vec![4u8];
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        let payload = ferry_manifest::schema1::signed_payload(&signed).unwrap();
        assert_eq!(payload, content);
        let input = format!(
            "{}.{}",
            sig["protected"].as_str().unwrap(),
            ferry_manifest::jws::base64url(&payload)
        );
        let raw = b64.decode(sig["signature"].as_str().unwrap()).unwrap();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
            .verify(input.as_bytes(), &raw)
            .unwrap();
        // A modified manifest does not verify.
        let bad = format!(
            "{}.{}",
            sig["protected"].as_str().unwrap(),
            ferry_manifest::jws::base64url(b"{}")
        );
        assert!(
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
                .verify(bad.as_bytes(), &raw)
                .is_err()
        );
    }
}
