//! Single-image manifests (schema1, schema2, OCI): a read view over the raw bytes, and
//! [`ImageManifest::to_format`] to write a *new* manifest when a copy changes something
//! (layer digests, compression, or the manifest type). Conversions follow c/image's
//! `internal/image` rules; see [`ImageManifest::to_format`].

use std::collections::BTreeMap;

use crate::mime::{
    self, DOCKER_CONFIG, DOCKER_V2S1, DOCKER_V2S1_SIGNED, DOCKER_V2S2, OCI_CONFIG, OCI_MANIFEST,
};
use crate::oci::{OciManifestWire, oci_descriptor};
use crate::parse::{Fields, validate_unambiguous};
use crate::schema1::Schema1;
use crate::schema1_write::{self, Schema1Options, Schema1Output};
use crate::schema2::{Schema2Descriptor, Schema2Wire};
use crate::{Descriptor, ManifestError, gojson};
use ferry_reference::Digest;

/// One layer as the copy engine sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    pub descriptor: Descriptor,
    /// schema1 "throwaway" (empty) layers.
    pub empty_layer: bool,
}

#[derive(Debug, Clone)]
struct Schema2 {
    media_type: String,
    config: Descriptor,
    layers: Vec<Descriptor>,
}

#[derive(Debug, Clone)]
enum Kind {
    Schema1(Box<Schema1>),
    Schema2(Box<Schema2>),
    Oci(Box<OciManifestWire>),
}

/// A parsed single-image manifest of any type.
#[derive(Debug, Clone)]
pub struct ImageManifest {
    /// The MIME type it was parsed as (one of the schema1, schema2 and OCI types).
    pub mime: String,
    kind: Kind,
}

impl ImageManifest {
    /// Parses `bytes` as `mime` (a single-image type), with c/image's validation.
    pub fn parse(bytes: &[u8], mime: &str) -> Result<ImageManifest, ManifestError> {
        let kind = match mime {
            DOCKER_V2S1 | DOCKER_V2S1_SIGNED => Kind::Schema1(Box::new(Schema1::parse(bytes)?)),
            DOCKER_V2S2 => {
                // Validated first: Go's lenient decoding would not fail on a missing
                // config, ours does, and the ambiguity error is the one skopeo shows.
                validate_unambiguous(bytes, DOCKER_V2S2, Fields::CONFIG | Fields::LAYERS)?;
                let w: Schema2Wire = gojson::from_slice(bytes)?;
                let layers = w.layers.unwrap_or_default();
                for m in std::iter::once(&w.media_type).chain(layers.iter().map(|l| &l.media_type))
                {
                    if !mime::is_supported_schema2_media_type(m) {
                        return Err(ManifestError::Invalid(format!(
                            "unsupported docker v2s2 media type: {m:?}"
                        )));
                    }
                }
                Kind::Schema2(Box::new(Schema2 {
                    media_type: w.media_type,
                    config: w.config.to_descriptor(),
                    layers: layers
                        .iter()
                        .map(Schema2Descriptor::to_descriptor)
                        .collect(),
                }))
            }
            OCI_MANIFEST => {
                // c/image 5.23 names the index type here (a copy-paste slip skopeo shows).
                validate_unambiguous(bytes, mime::OCI_INDEX, Fields::CONFIG | Fields::LAYERS)?;
                let mut w: OciManifestWire = gojson::from_slice(bytes)?;
                w.config = oci_descriptor(&w.config);
                if let Some(layers) = w.layers.as_mut() {
                    for l in layers.iter_mut() {
                        *l = oci_descriptor(l);
                    }
                }
                Kind::Oci(Box::new(w))
            }
            other => return Err(ManifestError::UnsupportedType(other.to_string())),
        };
        Ok(ImageManifest {
            mime: mime.to_string(),
            kind,
        })
    }

    /// The config descriptor (`None` for schema1, which has no config blob).
    pub fn config(&self) -> Option<&Descriptor> {
        match &self.kind {
            Kind::Schema1(_) => None,
            Kind::Schema2(m) => Some(&m.config),
            Kind::Oci(m) => Some(&m.config),
        }
    }

    /// The layers, base first. Schema1 layers have size -1 and no media type, and include
    /// the throwaway layers (flagged).
    pub fn layers(&self) -> Vec<LayerInfo> {
        let plain = |ls: &[Descriptor]| {
            ls.iter()
                .map(|d| LayerInfo {
                    descriptor: d.clone(),
                    empty_layer: false,
                })
                .collect()
        };
        match &self.kind {
            Kind::Schema1(s) => s.layer_infos(),
            Kind::Schema2(m) => plain(&m.layers),
            Kind::Oci(m) => plain(m.layers.as_deref().unwrap_or_default()),
        }
    }

    /// OCI manifest annotations.
    pub fn annotations(&self) -> Option<&BTreeMap<String, String>> {
        match &self.kind {
            Kind::Oci(m) => m.annotations.as_ref(),
            _ => None,
        }
    }

    /// OCI `subject` (the manifest this one refers to).
    pub fn subject(&self) -> Option<&Descriptor> {
        match &self.kind {
            Kind::Oci(m) => m.subject.as_ref(),
            _ => None,
        }
    }

    /// OCI `artifactType`, else the config media type of a non-image OCI manifest.
    pub fn artifact_type(&self) -> Option<&str> {
        match &self.kind {
            Kind::Oci(m) if !m.artifact_type.is_empty() => Some(&m.artifact_type),
            Kind::Oci(m) if m.config.media_type != OCI_CONFIG => Some(&m.config.media_type),
            _ => None,
        }
    }

    /// False for OCI artifacts (config media type other than the OCI image config).
    pub fn is_image(&self) -> bool {
        match &self.kind {
            Kind::Oci(m) => m.config.media_type == OCI_CONFIG,
            _ => true,
        }
    }

    /// The schema1 view, for schema1 manifests.
    pub fn schema1(&self) -> Option<&Schema1> {
        match &self.kind {
            Kind::Schema1(s) => Some(s),
            _ => None,
        }
    }

    /// The config blob a conversion to `target_mime` needs instead of the current one, if
    /// any: schema2→OCI re-encodes the Docker config as an OCI config (c/image
    /// `convertToManifestOCI1`). Write the returned blob and pass its descriptor to
    /// [`Self::to_format`].
    pub fn converted_config(
        &self,
        target_mime: &str,
        config_blob: &[u8],
    ) -> Result<Option<Vec<u8>>, ManifestError> {
        match (&self.kind, target_mime) {
            (Kind::Schema2(_), OCI_MANIFEST) => {
                Ok(Some(crate::config::docker_config_to_oci(config_blob)?))
            }
            _ => Ok(None),
        }
    }

    /// Whether converting to `target_mime` needs the layers' DiffIDs (schema1 to schema2
    /// or OCI: the config is rebuilt, c/image `UpdatedImageNeedsLayerDiffIDs`).
    pub fn needs_diff_ids(&self, target_mime: &str) -> bool {
        matches!(self.kind, Kind::Schema1(_)) && matches!(target_mime, DOCKER_V2S2 | OCI_MANIFEST)
    }

    /// The config blob a manifest of `target_mime` needs when it is not the source's
    /// config blob as is:
    /// - schema1 → schema2: built from the history (c/image `ToSchema2Config`), with
    ///   `diff_ids` — one per layer of [`Self::layers`], base first; the throwaway
    ///   layers' entries are ignored;
    /// - schema1 → OCI: the same, then converted to an OCI config;
    /// - schema2 → OCI: see [`Self::converted_config`].
    ///
    /// `Ok(None)`: the source's config is kept (or the target, schema1, has none).
    pub fn target_config(
        &self,
        target_mime: &str,
        source_config: Option<&[u8]>,
        diff_ids: Option<&[Digest]>,
    ) -> Result<Option<Vec<u8>>, ManifestError> {
        match (&self.kind, target_mime) {
            (Kind::Schema1(s), DOCKER_V2S2 | OCI_MANIFEST) => {
                let infos = s.layer_infos();
                let diff_ids = diff_ids.ok_or_else(|| {
                    ManifestError::Invalid(
                        "converting a schema1 manifest needs the layers' DiffIDs".into(),
                    )
                })?;
                if diff_ids.len() != infos.len() {
                    return Err(ManifestError::Invalid(format!(
                        "Internal error: collected {} DiffID values, but schema1 manifest has {} fsLayers",
                        diff_ids.len(),
                        infos.len()
                    )));
                }
                let kept: Vec<String> = diff_ids
                    .iter()
                    .zip(&infos)
                    .filter(|(_, l)| !l.empty_layer)
                    .map(|(d, _)| d.to_string())
                    .collect();
                let config = s.to_schema2_config(&kept)?;
                if target_mime == OCI_MANIFEST {
                    Ok(Some(crate::config::docker_config_to_oci(&config)?))
                } else {
                    Ok(Some(config))
                }
            }
            (Kind::Schema2(_), OCI_MANIFEST) => match source_config {
                Some(c) => self.converted_config(target_mime, c),
                None => Err(ManifestError::Invalid(
                    "converting schema2 to OCI needs the config blob".into(),
                )),
            },
            _ => Ok(None),
        }
    }

    /// Writes a signed schema1 manifest (`--format v2s1`) from this one, with `layers` as
    /// copied (the complete list, base first, as [`Self::layers`] returns it):
    /// - schema2/OCI sources: c/image `convertToManifestSchema1`; `config` is the source
    ///   config blob; OCI artifacts, and layers whose (given) media types Docker cannot
    ///   express, are errors;
    /// - schema1 sources: the layers and (with `opts.reference`) the embedded reference
    ///   are updated, and the manifest is re-signed.
    ///
    /// When the result uses the gzipped empty layer, the destination must be given that
    /// blob ([`crate::schema1_write::GZIPPED_EMPTY_LAYER`]).
    pub fn to_schema1(
        &self,
        config: Option<&[u8]>,
        layers: &[Descriptor],
        opts: &Schema1Options<'_>,
    ) -> Result<Schema1Output, ManifestError> {
        let new: Vec<Digest> = layers.iter().map(|l| l.digest.clone()).collect();
        let source: Vec<Digest> = self
            .layers()
            .into_iter()
            .map(|l| l.descriptor.digest)
            .collect();
        let need_config = || {
            config.ok_or_else(|| {
                ManifestError::Invalid("converting to schema1 needs the config blob".into())
            })
        };
        match &self.kind {
            Kind::Schema1(s) => schema1_write::from_schema1(s, &new, opts),
            Kind::Schema2(_) => schema1_write::from_image(&source, &new, need_config()?, opts),
            Kind::Oci(m) => {
                if m.config.media_type != OCI_CONFIG {
                    return Err(ManifestError::NonImageArtifact(m.config.media_type.clone()));
                }
                for l in layers {
                    mime::docker_layer_type(&l.media_type).map_err(ManifestError::Conversion)?;
                }
                schema1_write::from_image(&source, &new, need_config()?, opts)
            }
        }
    }

    /// Serialises a new manifest of `target_mime` from this one, with the given config
    /// (`None`: keep the current one) and layers (the complete, possibly updated list).
    ///
    /// - same type: the manifest is re-encoded with the new config and layers (OCI keeps
    ///   its mediaType, artifactType, subject and annotations);
    /// - schema2 → OCI: media types mapped one to one; `config` must describe the blob
    ///   from [`Self::converted_config`]; only mediaType, digest, size, urls and
    ///   annotations of the given layers are kept;
    /// - OCI → schema2: fails for artifacts, zstd, encrypted and unknown layer types; OCI-only
    ///   fields are dropped; the config blob is kept;
    /// - schema1 → schema2/OCI: `config` must describe the blob from
    ///   [`Self::target_config`]; throwaway layers are dropped; layers without a media type
    ///   get the gzip one (c/image's choice);
    /// - schema1 targets: an error, use [`Self::to_schema1`] (it needs a signing key);
    ///   list targets: an error.
    ///
    /// Output is Go's `json.Marshal` form, byte-identical to skopeo's.
    pub fn to_format(
        &self,
        target_mime: &str,
        config: Option<&Descriptor>,
        layers: &[Descriptor],
    ) -> Result<Vec<u8>, ManifestError> {
        let unsupported = |reason: &str| ManifestError::UnsupportedConversion {
            from: self.mime.clone(),
            to: target_mime.to_string(),
            reason: reason.to_string(),
        };
        if mime::is_list(target_mime) {
            return Err(unsupported("a single image cannot become a manifest list"));
        }
        if mime::is_schema1(target_mime) {
            return Err(unsupported(
                "writing schema1 needs a signing key (use to_schema1)",
            ));
        }
        if !matches!(target_mime, DOCKER_V2S2 | OCI_MANIFEST) {
            return Err(ManifestError::UnsupportedType(target_mime.to_string()));
        }
        match (&self.kind, target_mime) {
            (Kind::Schema1(s), _) => {
                let config = config.ok_or_else(|| {
                    ManifestError::Invalid(
                        "converting schema1 needs the config built from its history and DiffIDs"
                            .into(),
                    )
                })?;
                let infos = s.layer_infos();
                if layers.len() != infos.len() {
                    return Err(ManifestError::Invalid(format!(
                        "Error converting image: layer edits for {} layers vs {} existing layers",
                        layers.len(),
                        infos.len()
                    )));
                }
                let kept: Vec<Descriptor> = layers
                    .iter()
                    .zip(&infos)
                    .filter(|(_, info)| !info.empty_layer)
                    .map(|(l, _)| {
                        let mut d = l.clone();
                        if d.media_type.is_empty() {
                            d.media_type = mime::DOCKER_LAYER_GZIP.to_string();
                        }
                        d
                    })
                    .collect();
                if target_mime == DOCKER_V2S2 {
                    let mut c = config.clone();
                    c.media_type = DOCKER_CONFIG.to_string();
                    write_schema2(DOCKER_V2S2, &c, &kept)
                } else {
                    write_oci_from_docker(config, &kept)
                }
            }
            (Kind::Schema2(m), DOCKER_V2S2) => {
                write_schema2(&m.media_type, config.unwrap_or(&m.config), layers)
            }
            (Kind::Schema2(_), _) => {
                let config = config.ok_or_else(|| {
                    ManifestError::Invalid(
                        "converting schema2 to OCI needs the converted config's descriptor".into(),
                    )
                })?;
                write_oci_from_docker(config, layers)
            }
            (Kind::Oci(m), OCI_MANIFEST) => {
                let mut wire = (**m).clone();
                if let Some(c) = config {
                    wire.config = oci_descriptor(c);
                }
                wire.layers = Some(
                    layers
                        .iter()
                        .map(|l| {
                            let mut d = oci_descriptor(l);
                            if let Ok(t) = mime::oci_layer_type(&l.media_type) {
                                d.media_type = t.to_string();
                            }
                            d
                        })
                        .collect(),
                );
                Ok(gojson::to_vec(&wire)?)
            }
            (Kind::Oci(m), _) => {
                let config = config.unwrap_or(&m.config);
                if m.config.media_type != OCI_CONFIG
                    || !matches!(config.media_type.as_str(), OCI_CONFIG | DOCKER_CONFIG)
                {
                    return Err(ManifestError::NonImageArtifact(m.config.media_type.clone()));
                }
                write_schema2(DOCKER_V2S2, config, layers)
            }
        }
    }
}

/// An OCI manifest from Docker-typed parts (c/image `convertToManifestOCI1`): media
/// types mapped one to one, only digest, size, urls and annotations of the layers kept.
fn write_oci_from_docker(
    config: &Descriptor,
    layers: &[Descriptor],
) -> Result<Vec<u8>, ManifestError> {
    let layers = layers
        .iter()
        .map(|l| {
            let mut d = Descriptor::new(
                mime::oci_layer_type(&l.media_type).map_err(ManifestError::Conversion)?,
                l.digest.clone(),
                l.size,
            );
            d.urls = l.urls.clone();
            d.annotations = l.annotations.clone();
            Ok(d)
        })
        .collect::<Result<Vec<_>, ManifestError>>()?;
    let wire = OciManifestWire {
        schema_version: 2,
        media_type: OCI_MANIFEST.to_string(),
        artifact_type: String::new(),
        config: Descriptor::new(OCI_CONFIG, config.digest.clone(), config.size),
        layers: Some(layers),
        subject: None,
        annotations: None,
    };
    Ok(gojson::to_vec(&wire)?)
}

/// A schema2 manifest with Docker media types (OCI ones mapped, c/image
/// `convertToManifestSchema2`).
fn write_schema2(
    media_type: &str,
    config: &Descriptor,
    layers: &[Descriptor],
) -> Result<Vec<u8>, ManifestError> {
    let mut config = Schema2Descriptor::from_descriptor(config);
    if config.media_type == OCI_CONFIG {
        config.media_type = DOCKER_CONFIG.to_string();
    }
    let layers = layers
        .iter()
        .map(|l| {
            let mut d = Schema2Descriptor::from_descriptor(l);
            d.media_type = mime::docker_layer_type(&l.media_type)
                .map_err(ManifestError::Conversion)?
                .to_string();
            Ok(d)
        })
        .collect::<Result<Vec<_>, ManifestError>>()?;
    let wire = Schema2Wire {
        schema_version: 2,
        media_type: media_type.to_string(),
        config,
        layers: Some(layers),
    };
    Ok(gojson::to_vec(&wire)?)
}
