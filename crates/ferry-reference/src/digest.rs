//! Content digests (`sha256:<hex>`, `sha512:<hex>`) and an incremental digester.

use std::fmt;
use std::str::FromStr;

use sha2::Digest as _;

/// A digest algorithm supported by ferry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }
    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
    pub fn digester(self) -> Digester {
        match self {
            Algorithm::Sha256 => Digester::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => Digester::Sha512(sha2::Sha512::new()),
        }
    }
    /// Digest of a whole byte slice.
    pub fn digest_bytes(self, data: &[u8]) -> Digest {
        let mut d = self.digester();
        d.update(data);
        d.finish()
    }
}

/// Errors parsing a digest string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("invalid digest {0:?}: missing algorithm prefix")]
    MissingAlgorithm(String),
    #[error("invalid digest {0:?}: unsupported digest algorithm")]
    UnsupportedAlgorithm(String),
    #[error("invalid digest {0:?}: invalid checksum digest format")]
    BadFormat(String),
    #[error("invalid digest {0:?}: invalid checksum digest length")]
    BadLength(String),
}

/// A validated content digest: algorithm plus lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

impl Digest {
    pub fn parse(s: &str) -> Result<Digest, DigestError> {
        let Some((algo, hex)) = s.split_once(':') else {
            return Err(DigestError::MissingAlgorithm(s.to_string()));
        };
        let algorithm = match algo {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            a if !a.is_empty()
                && a.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || "+._-".contains(c)
                }) =>
            {
                return Err(DigestError::UnsupportedAlgorithm(s.to_string()));
            }
            _ => return Err(DigestError::BadFormat(s.to_string())),
        };
        if !hex
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        {
            return Err(DigestError::BadFormat(s.to_string()));
        }
        if hex.len() != algorithm.hex_len() {
            return Err(DigestError::BadLength(s.to_string()));
        }
        Ok(Digest {
            algorithm,
            hex: hex.to_string(),
        })
    }
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
    /// The hex part, without the algorithm.
    pub fn hex(&self) -> &str {
        &self.hex
    }
    /// The first 12 hex characters, as skopeo's progress lines show them.
    pub fn short(&self) -> &str {
        &self.hex[..12]
    }
    pub fn sha256_of(data: &[u8]) -> Digest {
        Algorithm::Sha256.digest_bytes(data)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

impl FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::parse(s)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Digest::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Incremental hashing; `finish` yields a [`Digest`].
#[derive(Clone)]
pub enum Digester {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Digester {
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Digester::Sha256(h) => h.update(data),
            Digester::Sha512(h) => h.update(data),
        }
    }
    pub fn finish(self) -> Digest {
        let (algorithm, hex) = match self {
            Digester::Sha256(h) => (Algorithm::Sha256, hex::encode(h.finalize())),
            Digester::Sha512(h) => (Algorithm::Sha512, hex::encode(h.finalize())),
        };
        Digest { algorithm, hex }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display() {
        let d = Digest::sha256_of(b"");
        assert_eq!(
            d.to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(Digest::parse(&d.to_string()), Ok(d.clone()));
        assert_eq!(d.short(), "e3b0c44298fc");
    }

    #[test]
    fn rejects_bad_digests() {
        assert!(matches!(
            Digest::parse("abc"),
            Err(DigestError::MissingAlgorithm(_))
        ));
        assert!(matches!(
            Digest::parse("md5:abc"),
            Err(DigestError::UnsupportedAlgorithm(_))
        ));
        assert!(matches!(
            Digest::parse("sha256:ABC"),
            Err(DigestError::BadFormat(_))
        ));
        assert!(matches!(
            Digest::parse("sha256:abc"),
            Err(DigestError::BadLength(_))
        ));
    }
}
