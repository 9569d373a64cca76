//! The copy engine: policy check, instance selection, manifest planning, parallel blob
//! streaming through verification and (de)compression, manifest + signatures, commit.

mod engine;
pub mod pipeline;
pub mod plan;
pub mod report;

use ferry_reference::Digest;

pub use report::{BlobOutcome, NoReport, Reporter};

use crate::context::SystemContext;
use crate::error::{Error, Result};
use crate::transport::ImageRef;
use crate::types::RawManifest;

/// `--format`: force the destination manifest type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestFormat {
    Oci,
    V2s1,
    V2s2,
}

/// Which instances of a manifest list to copy (`--all`, `--multi-arch`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ListSelection {
    /// The instance matching the (overridden) host platform.
    #[default]
    System,
    /// Every instance plus the list.
    All,
    /// Only the list itself (sparse).
    IndexOnly,
    /// Instances of these `os/arch` platforms (all variants).
    Platforms(Vec<(String, String)>),
}

/// Everything `copy` needs besides the two references.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    pub src_ctx: SystemContext,
    pub dest_ctx: SystemContext,
    pub policy: ferry_config::policy::PolicyContext,
    pub remove_signatures: bool,
    pub list_selection: ListSelection,
    pub format: Option<ManifestFormat>,
    pub preserve_digests: bool,
    /// Maximum blobs in flight (0 = default 6).
    pub parallel: usize,
}

/// What a finished copy wrote.
#[derive(Debug, Clone)]
pub struct CopyResult {
    /// The top-level manifest written to the destination.
    pub manifest: RawManifest,
    pub digest: Digest,
}

/// Copies one image (or list) from `src` to `dest`.
pub fn copy_image(
    src_ref: &ImageRef,
    dest_ref: &ImageRef,
    opts: &CopyOptions,
    reporter: &dyn Reporter,
) -> Result<CopyResult> {
    use engine::Engine;
    use ferry_config::policy::PolicyInput;
    use ferry_manifest::mime;
    let src = src_ref.open_source(&opts.src_ctx)?;
    let top = src.manifest(None)?;
    let identity = src_ref.policy_configuration_identity();
    let namespaces = src_ref.policy_configuration_namespaces();
    let description = src_ref.to_string();
    opts.policy
        .check(&PolicyInput {
            transport: src_ref.transport_name(),
            identity: &identity,
            namespaces: &namespaces,
            description: &description,
        })
        .map_err(|e| Error::Policy(e.to_string()))?;

    let dest = dest_ref.open_destination(&opts.dest_ctx)?;
    let props = dest.properties().clone();
    let written = {
        let engine = Engine {
            src: &*src,
            dest: &*dest,
            dest_ref,
            props: &props,
            opts,
            reporter,
        };
        if mime::is_list(&top.mime) {
            engine.copy_list(top)?
        } else {
            engine.copy_single(top, false)?
        }
    };
    dest.commit()?;
    let digest = written
        .digest()
        .map_err(|e| Error::manifest("written manifest", e))?;
    Ok(CopyResult {
        manifest: written,
        digest,
    })
}
