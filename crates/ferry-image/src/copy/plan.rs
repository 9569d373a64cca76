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
/// `--preserve-digests`), if it is. `oci_only` names a reason the result must be an OCI
/// type (layers written with zstd, which Docker manifests cannot describe; newer
/// c/image's `MIMETypeSupportsCompressionAlgorithm` filter).
pub fn manifest_conversion(
    src_mime: &str,
    supported: Option<&[&str]>,
    forced: Option<&str>,
    cannot_modify: Option<&str>,
    oci_only: Option<&str>,
) -> Result<ManifestPlan, String> {
    let mut supported: Option<Vec<&str>> = match (forced, supported) {
        (Some(f), _) => Some(vec![f]),
        (None, Some(s)) => Some(s.to_vec()),
        (None, None) => None,
    };
    if let Some(reason) = oci_only {
        let all = supported
            .clone()
            .unwrap_or_else(|| mime::ALL_MANIFEST_TYPES.to_vec());
        let oci: Vec<&str> = all
            .iter()
            .copied()
            .filter(|m| matches!(*m, mime::OCI_MANIFEST | mime::OCI_INDEX))
            .collect();
        if oci.is_empty() {
            return Err(format!(
                "{reason} can only be described by OCI manifests, and the destination accepts only {}",
                all.join(", ")
            ));
        }
        supported = Some(oci);
    }
    let Some(supported) = supported else {
        return Ok(ManifestPlan {
            preferred: src_mime.to_string(),
            fallbacks: Vec::new(),
        });
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
    // Unsigned schema1 is never written: c/image signs every schema1 manifest.
    if order.contains(&mime::DOCKER_V2S1_SIGNED) || order.contains(&mime::DOCKER_V2S1) {
        order.retain(|m| *m != mime::DOCKER_V2S1);
        if !order.contains(&mime::DOCKER_V2S1_SIGNED) {
            order.push(mime::DOCKER_V2S1_SIGNED);
        }
    }
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

/// c/image `determineListConversion`: the list type to write and the others to try if
/// the destination refuses it. A forced type is the only candidate; a destination that
/// accepts anything gets the current type; otherwise the current type first (when
/// accepted), then the other list types the destination lists.
pub fn list_conversion(
    current: &str,
    supported: Option<&[&str]>,
    forced: Option<&str>,
) -> Result<ManifestPlan, String> {
    if let Some(f) = forced {
        return Ok(ManifestPlan {
            preferred: f.to_string(),
            fallbacks: Vec::new(),
        });
    }
    let Some(supported) = supported else {
        return Ok(ManifestPlan {
            preferred: current.to_string(),
            fallbacks: Vec::new(),
        });
    };
    let lists: Vec<&str> = supported
        .iter()
        .copied()
        .filter(|m| mime::is_list(m))
        .collect();
    let mut order: Vec<String> = Vec::new();
    if lists.contains(&current) {
        order.push(current.to_string());
    }
    order.extend(
        lists
            .iter()
            .filter(|m| **m != current)
            .map(|m| m.to_string()),
    );
    let mut it = order.into_iter();
    let Some(preferred) = it.next() else {
        return Err(format!(
            "destination does not support any of the manifest list types ({})",
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

/// [`layer_op`] for a manifest type that cannot describe zstd layers (`zstd_ok` false:
/// Docker v2s2/schema1): zstd layers that would be kept are recompressed to gzip instead
/// (c/image fails the copy after transferring every layer).
pub fn layer_op_for(
    desired: LayerCompression,
    detected: Option<Algorithm>,
    requested: Option<CompressionFormat>,
    media_type: &str,
    can_modify: bool,
    zstd_ok: bool,
) -> LayerOp {
    let op = layer_op(desired, detected, requested, media_type, can_modify);
    if zstd_ok || !can_modify || resulting_compression(op, detected) != Some(Algorithm::Zstd) {
        return op;
    }
    LayerOp::Recompress(CompressionFormat::Gzip)
}

/// Whether manifests of `mime` can describe zstd-compressed layers (only OCI ones).
pub fn supports_zstd(mime: &str) -> bool {
    mime == mime::OCI_MANIFEST || mime == mime::OCI_INDEX
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

/// The compression a layer media type declares: `None` when it declares nothing
/// (schema1's empty type, artifacts), `Some(None)` for uncompressed tar.
pub fn declared_compression(media_type: &str) -> Option<Option<Algorithm>> {
    if media_type.is_empty() || !is_image_layer_type(media_type) {
        None
    } else if media_type.ends_with("gzip") {
        Some(Some(Algorithm::Gzip))
    } else if media_type.ends_with("zstd") {
        Some(Some(Algorithm::Zstd))
    } else {
        Some(None)
    }
}

fn describe(c: Option<Algorithm>) -> &'static str {
    match c {
        None => "uncompressed",
        Some(a) => a.name(),
    }
}

/// The media type of a copied layer in a manifest of `target` (of which the source
/// manifest is `converting` from another type):
/// - non-image layers (artifacts, encrypted layers) keep theirs;
/// - layers whose bytes were (de)compressed (`changed` = the new compression) get the
///   type of the result;
/// - preserved layers keep their type, mapped to the target's family when converting.
///   A conversion trusts the declared compression only if the bytes agree (`detected`,
///   when they were read): a layer typed gzip that holds zstd is an error, not a lie
///   written into the new manifest. Schema1 layers declare nothing: what the bytes
///   showed is used, gzip when they were not read (c/image's choice).
pub fn copied_layer_media_type(
    target: &str,
    original: &str,
    changed: Option<Option<Algorithm>>,
    detected: Option<Option<Algorithm>>,
    converting: bool,
) -> Result<String, String> {
    let image_layer = original.is_empty() || is_image_layer_type(original);
    if !image_layer {
        return Ok(original.to_string());
    }
    let compression = match changed {
        Some(c) => c,
        None if !converting => return Ok(original.to_string()),
        None => match (declared_compression(original), detected) {
            (Some(declared), Some(found)) if declared != found => {
                return Err(format!(
                    "layer media type {original} declares {} content, but the blob is {}: refusing to write a manifest that describes it wrongly",
                    describe(declared),
                    describe(found)
                ));
            }
            (Some(declared), _) => declared,
            (None, Some(found)) => found,
            (None, None) => Some(Algorithm::Gzip),
        },
    };
    layer_media_type(target, original, compression)
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
            let got = manifest_conversion(src, *sup, *forced, *cm, None);
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
        let p = manifest_conversion(mime::OCI_MANIFEST, Some(&sup), None, None, None).unwrap();
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
    fn zstd_layers_for_docker_manifests_become_gzip() {
        use LayerCompression::*;
        let zs = Some(Algorithm::Zstd);
        let z = mime::OCI_LAYER_ZSTD;
        assert_eq!(
            layer_op_for(Compress, zs, None, z, true, false),
            LayerOp::Recompress(CompressionFormat::Gzip)
        );
        assert_eq!(
            layer_op_for(Preserve, zs, None, z, true, false),
            LayerOp::Recompress(CompressionFormat::Gzip)
        );
        assert_eq!(
            layer_op_for(Decompress, zs, None, z, true, false),
            LayerOp::Decompress
        );
        assert_eq!(
            layer_op_for(Compress, zs, None, z, true, true),
            LayerOp::Preserve
        );
        // Frozen manifests are never touched: the conversion fails later, clearly.
        assert_eq!(
            layer_op_for(Compress, zs, None, z, false, false),
            LayerOp::Preserve
        );
        assert!(supports_zstd(mime::OCI_MANIFEST) && !supports_zstd(mime::DOCKER_V2S2));
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

    #[test]
    fn list_conversions() {
        let docker = [
            mime::OCI_MANIFEST,
            mime::DOCKER_V2S2,
            mime::OCI_INDEX,
            mime::DOCKER_V2_LIST,
        ];
        let p = list_conversion(mime::OCI_INDEX, Some(&docker), None).unwrap();
        assert_eq!(p.preferred, mime::OCI_INDEX);
        assert_eq!(p.fallbacks, vec![mime::DOCKER_V2_LIST.to_string()]);
        let p = list_conversion(mime::DOCKER_V2_LIST, Some(OCI_ONLY), None).unwrap();
        assert_eq!(
            (p.preferred.as_str(), p.fallbacks.len()),
            (mime::OCI_INDEX, 0)
        );
        let p = list_conversion(mime::OCI_INDEX, None, Some(mime::DOCKER_V2_LIST)).unwrap();
        assert_eq!(
            (p.preferred.as_str(), p.fallbacks.len()),
            (mime::DOCKER_V2_LIST, 0)
        );
        let p = list_conversion(mime::OCI_INDEX, None, None).unwrap();
        assert_eq!(p.preferred, mime::OCI_INDEX);
        assert!(list_conversion(mime::OCI_INDEX, Some(V2S2_ONLY), None).is_err());
    }

    #[test]
    fn zstd_restricts_to_oci() {
        let docker = [
            mime::OCI_MANIFEST,
            mime::DOCKER_V2S2,
            mime::DOCKER_V2S1_SIGNED,
            mime::OCI_INDEX,
            mime::DOCKER_V2_LIST,
        ];
        let z = Some("zstd compression");
        // A v2s2 source is converted to OCI instead of failing later.
        let p = manifest_conversion(mime::DOCKER_V2S2, Some(&docker), None, None, z).unwrap();
        assert_eq!(p.preferred, mime::OCI_MANIFEST);
        assert!(p.fallbacks.is_empty());
        // dir: accepts anything: still OCI.
        let p = manifest_conversion(mime::DOCKER_V2S2, None, None, None, z).unwrap();
        assert_eq!(p.preferred, mime::OCI_MANIFEST);
        let p = manifest_conversion(mime::DOCKER_V2_LIST, None, None, None, z).unwrap();
        assert_eq!(p.preferred, mime::OCI_INDEX);
        // --format v2s2, or a v2s2-only destination: a clear error up front.
        let e = manifest_conversion(mime::OCI_MANIFEST, None, Some(mime::DOCKER_V2S2), None, z)
            .unwrap_err();
        assert!(
            e.starts_with("zstd compression can only be described by OCI manifests"),
            "{e}"
        );
        assert!(manifest_conversion(mime::OCI_MANIFEST, Some(V2S2_ONLY), None, None, z).is_err());
        // Conversion forbidden (signatures): an error.
        assert!(
            manifest_conversion(mime::DOCKER_V2S2, Some(&docker), None, Some("signed"), z).is_err()
        );
    }

    #[test]
    fn schema1_targets_are_signed() {
        let p = manifest_conversion(
            mime::OCI_MANIFEST,
            Some(&[mime::DOCKER_V2S1]),
            None,
            None,
            None,
        )
        .unwrap();
        assert_eq!(p.preferred, mime::DOCKER_V2S1_SIGNED);
        let p = manifest_conversion(
            mime::DOCKER_V2S1_SIGNED,
            None,
            Some(mime::DOCKER_V2S2),
            None,
            None,
        )
        .unwrap();
        assert_eq!(p.preferred, mime::DOCKER_V2S2);
    }

    #[test]
    fn copied_media_types() {
        let gz = Some(Algorithm::Gzip);
        let zs = Some(Algorithm::Zstd);
        // Same type, bytes preserved: untouched.
        assert_eq!(
            copied_layer_media_type(
                mime::OCI_MANIFEST,
                mime::OCI_LAYER_GZIP,
                None,
                Some(zs),
                false
            )
            .unwrap(),
            mime::OCI_LAYER_GZIP
        );
        // Converting, bytes agree: mapped.
        assert_eq!(
            copied_layer_media_type(
                mime::DOCKER_V2S2,
                mime::OCI_LAYER_GZIP,
                None,
                Some(gz),
                true
            )
            .unwrap(),
            mime::DOCKER_LAYER_GZIP
        );
        // Converting, bytes contradict the declared compression: an error.
        let e = copied_layer_media_type(
            mime::DOCKER_V2S2,
            mime::OCI_LAYER_GZIP,
            None,
            Some(zs),
            true,
        )
        .unwrap_err();
        assert!(
            e.contains("declares gzip content, but the blob is zstd"),
            "{e}"
        );
        // Recompressed: from the result.
        assert_eq!(
            copied_layer_media_type(
                mime::OCI_MANIFEST,
                mime::OCI_LAYER_GZIP,
                Some(zs),
                Some(gz),
                false
            )
            .unwrap(),
            mime::OCI_LAYER_ZSTD
        );
        assert_eq!(
            copied_layer_media_type(
                mime::DOCKER_V2S2,
                mime::DOCKER_LAYER_GZIP,
                Some(None),
                Some(gz),
                false
            )
            .unwrap(),
            DOCKER_LAYER_UNCOMPRESSED
        );
        // schema1 layers: what the bytes showed, gzip if unread.
        assert_eq!(
            copied_layer_media_type(mime::OCI_MANIFEST, "", None, Some(None), true).unwrap(),
            mime::OCI_LAYER
        );
        assert_eq!(
            copied_layer_media_type(mime::DOCKER_V2S2, "", None, None, true).unwrap(),
            mime::DOCKER_LAYER_GZIP
        );
        // Artifacts keep their type.
        let helm = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
        assert_eq!(
            copied_layer_media_type(mime::OCI_MANIFEST, helm, None, Some(gz), true).unwrap(),
            helm
        );
    }
}
