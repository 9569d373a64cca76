//! Docker manifest lists and OCI indexes (nested indexes allowed): instances, platform
//! choice (c/image `ChooseInstance`) and conversion between the two list types.

use std::collections::BTreeMap;

use crate::mime::{DOCKER_V2_LIST, OCI_INDEX};
use crate::oci::{OciIndexWire, oci_descriptor};
use crate::parse::{Fields, validate_unambiguous};
use crate::platform::{host_arch, host_os, matches, wanted_platforms};
use crate::schema2::{Schema2ListEntry, Schema2ListWire};
use crate::{Descriptor, ManifestError, Platform, gojson};

/// A parsed manifest list / OCI index.
#[derive(Debug, Clone)]
pub struct ManifestList {
    /// `DOCKER_V2_LIST` or `OCI_INDEX`.
    pub mime: String,
    schema_version: i64,
    /// The document's own `mediaType` field (may be empty in OCI indexes).
    media_type: String,
    artifact_type: String,
    instances: Vec<Descriptor>,
    /// Whether `manifests` was JSON `null`/absent (Go writes it back as `null`).
    null_instances: bool,
    subject: Option<Box<Descriptor>>,
    annotations: Option<BTreeMap<String, String>>,
}

impl ManifestList {
    /// Parses `bytes` as `mime` (`DOCKER_V2_LIST` or `OCI_INDEX`).
    pub fn parse(bytes: &[u8], mime: &str) -> Result<ManifestList, ManifestError> {
        match mime {
            DOCKER_V2_LIST => {
                let w: Schema2ListWire = gojson::from_slice(bytes).map_err(|e| {
                    ManifestError::Invalid(format!("unmarshaling Schema2List: {e}"))
                })?;
                validate_unambiguous(bytes, DOCKER_V2_LIST, Fields::MANIFESTS)?;
                let instances = w
                    .manifests
                    .unwrap_or_default()
                    .into_iter()
                    .map(|e| {
                        let mut d = Descriptor::new(e.media_type, e.digest, e.size);
                        d.urls = e.urls;
                        d.platform = Some(e.platform);
                        d
                    })
                    .collect();
                Ok(ManifestList {
                    mime: mime.to_string(),
                    schema_version: w.schema_version,
                    media_type: w.media_type,
                    artifact_type: String::new(),
                    instances,
                    null_instances: false,
                    subject: None,
                    annotations: None,
                })
            }
            OCI_INDEX => {
                let w: OciIndexWire = gojson::from_slice(bytes)
                    .map_err(|e| ManifestError::Invalid(format!("unmarshaling OCI1Index: {e}")))?;
                validate_unambiguous(bytes, OCI_INDEX, Fields::MANIFESTS)?;
                Ok(ManifestList {
                    mime: mime.to_string(),
                    schema_version: w.schema_version,
                    media_type: w.media_type,
                    artifact_type: w.artifact_type,
                    null_instances: w.manifests.is_none(),
                    instances: w
                        .manifests
                        .unwrap_or_default()
                        .iter()
                        .map(oci_descriptor)
                        .collect(),
                    subject: w.subject.map(Box::new),
                    annotations: w.annotations,
                })
            }
            other => Err(ManifestError::UnsupportedType(other.to_string())),
        }
    }

    /// The entries, in document order. Docker list entries always have a platform.
    pub fn instances(&self) -> &[Descriptor] {
        &self.instances
    }

    /// OCI index annotations.
    pub fn annotations(&self) -> Option<&BTreeMap<String, String>> {
        self.annotations.as_ref()
    }

    /// OCI index `subject`.
    pub fn subject(&self) -> Option<&Descriptor> {
        self.subject.as_deref()
    }

    /// c/image `ChooseInstance`: the first entry matching the most specific wanted
    /// platform (`None`/`""` = the host's OS, architecture, variant). For OCI indexes,
    /// entries without a platform are skipped and the first of them is the fallback.
    pub fn choose_instance(
        &self,
        os: Option<&str>,
        arch: Option<&str>,
        variant: Option<&str>,
    ) -> Result<&Descriptor, ManifestError> {
        let wanted = wanted_platforms(os, arch, variant);
        for w in &wanted {
            if let Some(d) = self
                .instances
                .iter()
                .find(|d| d.platform.as_ref().is_some_and(|p| matches(p, w)))
            {
                return Ok(d);
            }
        }
        if self.mime == OCI_INDEX
            && let Some(d) = self.instances.iter().find(|d| d.platform.is_none())
        {
            return Ok(d);
        }
        let what = if self.mime == OCI_INDEX {
            "image index"
        } else {
            "manifest list"
        };
        let first = wanted.first().cloned().unwrap_or_default();
        Err(ManifestError::NoMatchingInstance(format!(
            "no image found in {what} for architecture {}, variant {:?}, OS {}",
            first.architecture, first.variant, first.os
        )))
    }

    /// Serialises a list of `target_mime` (`DOCKER_V2_LIST` or `OCI_INDEX`) with the given
    /// instances (the complete, possibly updated list). Same type: re-encoded keeping the
    /// document's other fields. Docker list → OCI index: a fresh index (c/image
    /// `ToOCI1Index`; instance media types kept, `features` dropped). OCI index → Docker
    /// list: a fresh list; entries without platform get the host's OS/architecture (c/image
    /// `ToSchema2List`); OCI-only fields are dropped.
    pub fn to_format(
        &self,
        target_mime: &str,
        instances: &[Descriptor],
    ) -> Result<Vec<u8>, ManifestError> {
        match target_mime {
            DOCKER_V2_LIST => {
                let same = self.mime == DOCKER_V2_LIST;
                let manifests = instances
                    .iter()
                    .map(|d| Schema2ListEntry {
                        media_type: d.media_type.clone(),
                        size: d.size,
                        digest: d.digest.clone(),
                        urls: d.urls.clone(),
                        platform: match &d.platform {
                            Some(p) if same => p.clone(),
                            Some(p) => Platform {
                                features: Vec::new(),
                                ..p.clone()
                            },
                            None => Platform {
                                architecture: host_arch().to_string(),
                                os: host_os().to_string(),
                                ..Platform::default()
                            },
                        },
                    })
                    .collect();
                let wire = Schema2ListWire {
                    schema_version: if same { self.schema_version } else { 2 },
                    media_type: if same {
                        self.media_type.clone()
                    } else {
                        DOCKER_V2_LIST.to_string()
                    },
                    manifests: Some(manifests),
                };
                Ok(gojson::to_vec(&wire)?)
            }
            OCI_INDEX => {
                let same = self.mime == OCI_INDEX;
                let manifests: Vec<Descriptor> = instances.iter().map(oci_descriptor).collect();
                let wire = if same {
                    OciIndexWire {
                        schema_version: self.schema_version,
                        media_type: self.media_type.clone(),
                        artifact_type: self.artifact_type.clone(),
                        manifests: (!(self.null_instances && manifests.is_empty()))
                            .then_some(manifests),
                        subject: self.subject.as_deref().cloned(),
                        annotations: self.annotations.clone(),
                    }
                } else {
                    OciIndexWire {
                        schema_version: 2,
                        media_type: OCI_INDEX.to_string(),
                        artifact_type: String::new(),
                        manifests: Some(
                            manifests
                                .into_iter()
                                .map(|mut d| {
                                    d.platform.get_or_insert_with(Platform::default);
                                    d
                                })
                                .collect(),
                        ),
                        subject: None,
                        annotations: None,
                    }
                };
                Ok(gojson::to_vec(&wire)?)
            }
            other
                if crate::mime::is_schema1(other)
                    || other == crate::mime::DOCKER_V2S2
                    || other == crate::mime::OCI_MANIFEST =>
            {
                Err(ManifestError::UnsupportedConversion {
                    from: self.mime.clone(),
                    to: other.to_string(),
                    reason: "a manifest list cannot become a single image".into(),
                })
            }
            other => Err(ManifestError::UnsupportedType(other.to_string())),
        }
    }
}
