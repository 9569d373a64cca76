//! The conversion plan: pure functions of (source manifest type, layer facts,
//! destination properties, options) → which manifest type to write (with fallbacks) and
//! what to do to each layer. Table-tested below; the engine only executes the plan.

use ferry_manifest::mime;

use crate::compression::Algorithm;
use crate::context::CompressionFormat;
use crate::transport::LayerCompression;

/// Which manifest type to write, and what to try next if the destination rejects it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestPlan {
    pub preferred: String,
    pub fallbacks: Vec<String>,
}

impl ManifestPlan {
    /// Whether the manifest must be re-serialised in another type.
    pub fn converts_from(&self, src_mime: &str) -> bool {
        self.preferred != src_mime
    }
}

/// c/image `determineManifestConversion`: keep the source type when the destination
/// accepts it; otherwise prefer v2s2, then signed schema1, then whatever else the
/// destination lists. `cannot_modify` says why conversion is forbidden (signatures,
/// `--preserve-digests`), if it is.
pub fn manifest_conversion(
    src_mime: &str,
    supported: Option<&[&str]>,
    forced: Option<&str>,
    cannot_modify: Option<&str>,
) -> Result<ManifestPlan, String> {
    let supported: Vec<&str> = match (forced, supported) {
        (Some(f), _) => vec![f],
        (None, Some(s)) => s.to_vec(),
        (None, None) => {
            return Ok(ManifestPlan {
                preferred: src_mime.to_string(),
                fallbacks: Vec::new(),
            });
        }
    };
    if supported.contains(&src_mime) {
        return Ok(ManifestPlan {
            preferred: src_mime.to_string(),
            fallbacks: Vec::new(),
        });
    }
    if let Some(reason) = cannot_modify {
        return Err(format!(
            "manifest type {src_mime} is not supported by the destination (which accepts {}), and the manifest cannot be converted: {reason}",
            supported.join(", ")
        ));
    }
    let mut order: Vec<&str> = Vec::new();
    for pref in [mime::DOCKER_V2S2, mime::DOCKER_V2S1_SIGNED] {
        if supported.contains(&pref) {
            order.push(pref);
        }
    }
    for s in &supported {
        if !order.contains(s) {
            order.push(s);
        }
    }
    // A single image cannot become a list and vice versa.
    let want_list = mime::is_list(src_mime);
    order.retain(|m| mime::is_list(m) == want_list);
    let mut it = order.into_iter().map(str::to_string);
    let Some(preferred) = it.next() else {
        return Err(format!(
            "manifest type {src_mime} is not supported by the destination (which accepts {})",
            supported.join(", ")
        ));
    };
    Ok(ManifestPlan {
        preferred,
        fallbacks: it.collect(),
    })
}

/// What happens to one layer's bytes on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerOp {
    Preserve,
    Decompress,
    Compress(CompressionFormat),
    /// Decompress `from`, compress to the requested format.
    Recompress(CompressionFormat),
}

/// Layer media types whose content ferry knows to be a (possibly compressed) tar.
pub fn is_image_layer_type(media_type: &str) -> bool {
    matches!(
        media_type,
        mime::DOCKER_LAYER_GZIP
            | mime::DOCKER_LAYER_FOREIGN_GZIP
            | DOCKER_LAYER_UNCOMPRESSED
            | DOCKER_LAYER_FOREIGN_UNCOMPRESSED
            | mime::OCI_LAYER
            | mime::OCI_LAYER_GZIP
            | mime::OCI_LAYER_ZSTD
            | mime::OCI_LAYER_NONDIST
            | mime::OCI_LAYER_NONDIST_GZIP
            | mime::OCI_LAYER_NONDIST_ZSTD
    ) || media_type.is_empty()
}

pub const DOCKER_LAYER_UNCOMPRESSED: &str = "application/vnd.docker.image.rootfs.diff.tar";
pub const DOCKER_LAYER_FOREIGN_UNCOMPRESSED: &str =
    "application/vnd.docker.image.rootfs.foreign.diff.tar";

/// c/image's compression step: what to do with a layer given what the destination wants
/// and what the bytes actually are (sniffed, not trusted from the media type).
pub fn layer_op(
    desired: LayerCompression,
    detected: Option<Algorithm>,
    requested: Option<CompressionFormat>,
    media_type: &str,
    can_modify: bool,
) -> LayerOp {
    if !can_modify || !is_image_layer_type(media_type) {
        return LayerOp::Preserve;
    }
    match (desired, detected) {
        (LayerCompression::Compress, None) => {
            LayerOp::Compress(requested.unwrap_or(CompressionFormat::Gzip))
        }
        (LayerCompression::Compress, Some(alg)) => match requested {
            Some(req) if !same_algorithm(req, alg) => LayerOp::Recompress(req),
            _ => LayerOp::Preserve,
        },
        (LayerCompression::Decompress, Some(_)) => LayerOp::Decompress,
        _ => LayerOp::Preserve,
    }
}

fn same_algorithm(f: CompressionFormat, a: Algorithm) -> bool {
    matches!(
        (f, a),
        (CompressionFormat::Gzip, Algorithm::Gzip)
            | (
                CompressionFormat::Zstd | CompressionFormat::ZstdChunked,
                Algorithm::Zstd
            )
    )
}

/// The compression a layer has after `op` (given what it had before).
pub fn resulting_compression(op: LayerOp, detected: Option<Algorithm>) -> Option<Algorithm> {
    let of = |f: CompressionFormat| match f {
        CompressionFormat::Gzip => Algorithm::Gzip,
        CompressionFormat::Zstd | CompressionFormat::ZstdChunked => Algorithm::Zstd,
    };
    match op {
        LayerOp::Preserve => detected,
        LayerOp::Decompress => None,
        LayerOp::Compress(f) | LayerOp::Recompress(f) => Some(of(f)),
    }
}

/// The media type of a layer in a manifest of `target_mime`, with `compression`.
/// `original` tells foreign/non-distributable layers apart. Errors for combinations the
/// target type cannot express (zstd in a Docker manifest).
pub fn layer_media_type(
    target_mime: &str,
    original: &str,
    compression: Option<Algorithm>,
) -> Result<String, String> {
    let foreign = original.contains("foreign") || original.contains("nondistributable");
    let docker = target_mime == mime::DOCKER_V2S2
        || target_mime.starts_with("application/vnd.docker.distribution.manifest.v1");
    let t = match (docker, foreign, compression) {
        (true, false, Some(Algorithm::Gzip)) => mime::DOCKER_LAYER_GZIP,
        (true, true, Some(Algorithm::Gzip)) => mime::DOCKER_LAYER_FOREIGN_GZIP,
        (true, false, None) => DOCKER_LAYER_UNCOMPRESSED,
        (true, true, None) => DOCKER_LAYER_FOREIGN_UNCOMPRESSED,
        (true, _, Some(Algorithm::Zstd)) => {
            return Err("zstd compression is not supported for docker images".into());
        }
        (false, false, Some(Algorithm::Gzip)) => mime::OCI_LAYER_GZIP,
        (false, false, Some(Algorithm::Zstd)) => mime::OCI_LAYER_ZSTD,
        (false, false, None) => mime::OCI_LAYER,
        (false, true, Some(Algorithm::Gzip)) => mime::OCI_LAYER_NONDIST_GZIP,
        (false, true, Some(Algorithm::Zstd)) => mime::OCI_LAYER_NONDIST_ZSTD,
        (false, true, None) => mime::OCI_LAYER_NONDIST,
        (_, _, Some(a)) => {
            return Err(format!("{} compressed layers cannot be stored", a.name()));
        }
    };
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OCI_ONLY: &[&str] = &[mime::OCI_MANIFEST, mime::OCI_INDEX];
    const V2S2_ONLY: &[&str] = &[mime::DOCKER_V2S2];

    #[test]
    fn manifest_conversion_table() {
        type Case<'a> = (
            &'a str,
            Option<&'a [&'a str]>,
            Option<&'a str>,
            Option<&'a str>,
            Result<&'a str, ()>,
        );
        let cases: &[Case] = &[
            (mime::OCI_MANIFEST, None, None, None, Ok(mime::OCI_MANIFEST)),
            (
                mime::OCI_MANIFEST,
                Some(OCI_ONLY),
                None,
                None,
                Ok(mime::OCI_MANIFEST),
            ),
            (
                mime::DOCKER_V2S2,
                Some(OCI_ONLY),
                None,
                None,
                Ok(mime::OCI_MANIFEST),
            ),
            (
                mime::OCI_MANIFEST,
                Some(V2S2_ONLY),
                None,
                None,
                Ok(mime::DOCKER_V2S2),
            ),
            (
                mime::OCI_MANIFEST,
                None,
                Some(mime::DOCKER_V2S2),
                None,
                Ok(mime::DOCKER_V2S2),
            ),
            (
                mime::OCI_MANIFEST,
                Some(V2S2_ONLY),
                None,
                Some("signed"),
                Err(()),
            ),
            (
                mime::DOCKER_V2S2,
                Some(V2S2_ONLY),
                None,
                Some("signed"),
                Ok(mime::DOCKER_V2S2),
            ),
            (
                mime::DOCKER_V2_LIST,
                Some(OCI_ONLY),
                None,
                None,
                Ok(mime::OCI_INDEX),
            ),
            (mime::OCI_INDEX, Some(V2S2_ONLY), None, None, Err(())),
        ];
        for (src, sup, forced, cm, want) in cases {
            let got = manifest_conversion(src, *sup, *forced, *cm);
            match (want, got) {
                (Ok(w), Ok(p)) => assert_eq!(p.preferred, *w, "{src} {sup:?} {forced:?}"),
                (Err(()), Err(_)) => {}
                (w, g) => panic!("{src} {sup:?} {forced:?}: want {w:?}, got {g:?}"),
            }
        }
    }

    #[test]
    fn docker_target_prefers_v2s2_then_schema1() {
        let sup = [mime::DOCKER_V2S1_SIGNED, mime::DOCKER_V2S2, mime::OCI_INDEX];
        let p = manifest_conversion(mime::OCI_MANIFEST, Some(&sup), None, None).unwrap();
        assert_eq!(p.preferred, mime::DOCKER_V2S2);
        assert_eq!(p.fallbacks, vec![mime::DOCKER_V2S1_SIGNED.to_string()]);
    }

    #[test]
    fn layer_ops() {
        use LayerCompression::*;
        let gz = Some(Algorithm::Gzip);
        assert_eq!(
            layer_op(Compress, None, None, mime::OCI_LAYER, true),
            LayerOp::Compress(CompressionFormat::Gzip)
        );
        assert_eq!(
            layer_op(Compress, gz, None, mime::OCI_LAYER_GZIP, true),
            LayerOp::Preserve
        );
        assert_eq!(
            layer_op(
                Compress,
                gz,
                Some(CompressionFormat::Zstd),
                mime::OCI_LAYER_GZIP,
                true
            ),
            LayerOp::Recompress(CompressionFormat::Zstd)
        );
        assert_eq!(
            layer_op(Decompress, gz, None, mime::DOCKER_LAYER_GZIP, true),
            LayerOp::Decompress
        );
        assert_eq!(
            layer_op(Decompress, None, None, mime::DOCKER_LAYER_GZIP, true),
            LayerOp::Preserve
        );
        assert_eq!(
            layer_op(Compress, None, None, mime::OCI_LAYER, false),
            LayerOp::Preserve
        );
        // Artifacts are never touched.
        assert_eq!(
            layer_op(
                Compress,
                None,
                None,
                "application/vnd.wasm.content.layer.v1+wasm",
                true
            ),
            LayerOp::Preserve
        );
    }

    #[test]
    fn media_types() {
        assert_eq!(
            layer_media_type(
                mime::OCI_MANIFEST,
                mime::DOCKER_LAYER_GZIP,
                Some(Algorithm::Gzip)
            )
            .unwrap(),
            mime::OCI_LAYER_GZIP
        );
        assert_eq!(
            layer_media_type(mime::DOCKER_V2S2, mime::OCI_LAYER, None).unwrap(),
            DOCKER_LAYER_UNCOMPRESSED
        );
        assert!(
            layer_media_type(
                mime::DOCKER_V2S2,
                mime::OCI_LAYER_ZSTD,
                Some(Algorithm::Zstd)
            )
            .is_err()
        );
        assert_eq!(
            layer_media_type(
                mime::OCI_MANIFEST,
                mime::DOCKER_LAYER_FOREIGN_GZIP,
                Some(Algorithm::Gzip)
            )
            .unwrap(),
            mime::OCI_LAYER_NONDIST_GZIP
        );
    }
}
