//! Manifest and blob media types, and the media-type mapping between Docker and OCI.

pub const DOCKER_V2S1: &str = "application/vnd.docker.distribution.manifest.v1+json";
pub const DOCKER_V2S1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
pub const DOCKER_V2S2: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_V2_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const DOCKER_LAYER_FOREIGN: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar";
pub const DOCKER_LAYER_FOREIGN_GZIP: &str =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
pub const OCI_LAYER_NONDIST: &str = "application/vnd.oci.image.layer.nondistributable.v1.tar";
pub const OCI_LAYER_NONDIST_GZIP: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
pub const OCI_LAYER_NONDIST_ZSTD: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";

/// ocicrypt's encrypted layer types.
pub const OCI_LAYER_ENC: &str = "application/vnd.oci.image.layer.v1.tar+encrypted";
pub const OCI_LAYER_GZIP_ENC: &str = "application/vnd.oci.image.layer.v1.tar+gzip+encrypted";
pub const OCI_LAYER_ZSTD_ENC: &str = "application/vnd.oci.image.layer.v1.tar+zstd+encrypted";
pub const OCI_LAYER_NONDIST_ENC: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+encrypted";
pub const OCI_LAYER_NONDIST_GZIP_ENC: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip+encrypted";
pub const OCI_LAYER_NONDIST_ZSTD_ENC: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd+encrypted";

/// Every manifest type, in the order skopeo's docker transport sends them in `Accept`.
pub const ALL_MANIFEST_TYPES: &[&str] = &[
    OCI_MANIFEST,
    DOCKER_V2S2,
    DOCKER_V2S1_SIGNED,
    DOCKER_V2S1,
    DOCKER_V2_LIST,
    OCI_INDEX,
];

/// Whether `mime` is a list type (Docker manifest list or OCI index).
pub fn is_list(mime: &str) -> bool {
    mime == DOCKER_V2_LIST || mime == OCI_INDEX
}

/// Whether `mime` is one of the schema1 types.
pub fn is_schema1(mime: &str) -> bool {
    mime == DOCKER_V2S1 || mime == DOCKER_V2S1_SIGNED
}

/// Whether `mime` is an encrypted OCI layer type.
pub fn is_encrypted_layer(mime: &str) -> bool {
    matches!(
        mime,
        OCI_LAYER_ENC
            | OCI_LAYER_GZIP_ENC
            | OCI_LAYER_ZSTD_ENC
            | OCI_LAYER_NONDIST_ENC
            | OCI_LAYER_NONDIST_GZIP_ENC
            | OCI_LAYER_NONDIST_ZSTD_ENC
    )
}

/// c/image `SupportedSchema2MediaType`: the media types a schema2 manifest may use.
pub fn is_supported_schema2_media_type(mime: &str) -> bool {
    matches!(
        mime,
        DOCKER_V2_LIST
            | DOCKER_V2S1
            | DOCKER_V2S1_SIGNED
            | DOCKER_CONFIG
            | DOCKER_LAYER_FOREIGN
            | DOCKER_LAYER_FOREIGN_GZIP
            | DOCKER_LAYER_GZIP
            | DOCKER_V2S2
            | DOCKER_LAYER
    )
}

fn unknown_layer(mime: &str) -> String {
    format!("Unknown media type during manifest conversion: {mime:?}")
}

/// The OCI media type of a layer going into an OCI manifest (Docker types mapped one to
/// one, as c/image's schema2→OCI conversion does; OCI types kept).
pub fn oci_layer_type(mime: &str) -> Result<&str, String> {
    match mime {
        DOCKER_LAYER_FOREIGN => Ok(OCI_LAYER_NONDIST),
        DOCKER_LAYER_FOREIGN_GZIP => Ok(OCI_LAYER_NONDIST_GZIP),
        DOCKER_LAYER => Ok(OCI_LAYER),
        DOCKER_LAYER_GZIP => Ok(OCI_LAYER_GZIP),
        m if m.starts_with("application/vnd.oci.image.layer.") => Ok(m),
        m => Err(unknown_layer(m)),
    }
}

/// The Docker media type of a layer going into a schema2 manifest (c/image's
/// OCI→schema2 conversion; Docker types kept). zstd layers cannot be expressed; encrypted
/// and other OCI types are "unknown", as in skopeo 1.9.3.
pub fn docker_layer_type(mime: &str) -> Result<&str, String> {
    match mime {
        OCI_LAYER_NONDIST => Ok(DOCKER_LAYER_FOREIGN),
        OCI_LAYER_NONDIST_GZIP => Ok(DOCKER_LAYER_FOREIGN_GZIP),
        OCI_LAYER => Ok(DOCKER_LAYER),
        OCI_LAYER_GZIP => Ok(DOCKER_LAYER_GZIP),
        OCI_LAYER_ZSTD | OCI_LAYER_NONDIST_ZSTD => Err(format!(
            "Error during manifest conversion: {mime:?}: zstd compression is not supported for docker images"
        )),
        DOCKER_LAYER | DOCKER_LAYER_GZIP | DOCKER_LAYER_FOREIGN | DOCKER_LAYER_FOREIGN_GZIP => {
            Ok(mime)
        }
        m => Err(unknown_layer(m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_types_map_one_to_one() {
        for (docker, oci) in [
            (DOCKER_LAYER, OCI_LAYER),
            (DOCKER_LAYER_GZIP, OCI_LAYER_GZIP),
            (DOCKER_LAYER_FOREIGN, OCI_LAYER_NONDIST),
            (DOCKER_LAYER_FOREIGN_GZIP, OCI_LAYER_NONDIST_GZIP),
        ] {
            assert_eq!(oci_layer_type(docker), Ok(oci));
            assert_eq!(docker_layer_type(oci), Ok(docker));
            assert_eq!(oci_layer_type(oci), Ok(oci));
            assert_eq!(docker_layer_type(docker), Ok(docker));
        }
        assert_eq!(
            docker_layer_type(OCI_LAYER_ZSTD),
            Err("Error during manifest conversion: \"application/vnd.oci.image.layer.v1.tar+zstd\": zstd compression is not supported for docker images".into())
        );
        assert_eq!(
            docker_layer_type(OCI_LAYER_GZIP_ENC),
            Err("Unknown media type during manifest conversion: \"application/vnd.oci.image.layer.v1.tar+gzip+encrypted\"".into())
        );
        assert!(
            oci_layer_type("application/x-foo")
                .is_err_and(|e| e.starts_with("Unknown media type during manifest conversion"))
        );
        assert!(docker_layer_type("application/x-foo").is_err());
    }
}
