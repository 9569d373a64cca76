//! The copy engine: policy check, instance selection, manifest planning, parallel blob
//! streaming through verification and (de)compression, manifest + signatures, commit.
//!
//! - [`plan`]: pure decisions (manifest type and fallbacks, what to do to each layer,
//!   media types), table-tested;
//! - `engine`: one image (config, manifest candidates, signatures);
//! - `layers`: the layers of one image, in parallel, each source blob once per copy;
//! - `list`: manifest lists (`--all`, `--multi-arch`), instances in parallel;
//! - [`pipeline`]: the `Read` stages (verification, progress, DiffID tee);
//! - [`report`]: progress events, and the reporter that keeps concurrent instances'
//!   output in list order;
//! - `sign`: the ephemeral key that signs schema1 manifests.

mod engine;
mod layers;
mod list;
pub mod pipeline;
pub mod plan;
pub mod report;
mod sign;

use ferry_reference::Digest;

pub use report::{BlobOutcome, NoReport, OrderedReporter, Reporter};

use crate::context::{CompressionFormat, SystemContext};
use crate::error::{Error, Result};
use crate::transport::{ImageDestination, ImageRef, LayerCompression};
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
#[derive(Debug, Clone, Default)]
pub struct CopyOptions {
    pub src_ctx: SystemContext,
    pub dest_ctx: SystemContext,
    pub policy: ferry_config::policy::PolicyContext,
    pub remove_signatures: bool,
    pub list_selection: ListSelection,
    pub format: Option<ManifestFormat>,
    pub preserve_digests: bool,
    /// Maximum blobs in flight (0 = default 6), across all instances of a list.
    pub parallel: usize,
}

/// Copy options beyond [`CopyOptions`] (kept apart so that existing struct literals of
/// `CopyOptions` keep compiling; see [`copy_image_ext`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtraCopyOptions {
    /// `--strip-removed-platforms`: the written list holds only the copied instances.
    /// Needs `remove_signatures` or `remove_list_signatures`.
    pub strip_removed_platforms: bool,
    /// `--remove-list-signatures`: drop the list's signatures, keep the instances'.
    pub remove_list_signatures: bool,
    /// `--dest-force-compress-format`: layers end up in `dest_ctx.compress_format`
    /// (recompressed if needed), and destination blobs in another compression are not
    /// reused. Needs a compression format.
    pub force_compress_format: bool,
    /// `--dest-precompute-digests`: learn the digest of a (re)compressed layer first (a
    /// counting pass over a second read), so that a blob the destination already has is
    /// not uploaded again.
    pub precompute_digests: bool,
}

/// What a finished copy wrote.
#[derive(Debug, Clone)]
pub struct CopyResult {
    /// The top-level manifest written to the destination.
    pub manifest: RawManifest,
    pub digest: Digest,
}

/// Opens the destination of a copy (sync wraps destinations to track what it wrote).
pub type OpenDestination<'o> =
    dyn Fn(&ImageRef, &SystemContext) -> Result<Box<dyn ImageDestination>> + 'o;

/// Copies one image (or list) from `src` to `dest`.
pub fn copy_image(
    src_ref: &ImageRef,
    dest_ref: &ImageRef,
    opts: &CopyOptions,
    reporter: &dyn Reporter,
) -> Result<CopyResult> {
    copy_image_ext(
        src_ref,
        dest_ref,
        opts,
        &ExtraCopyOptions::default(),
        reporter,
        &|r, ctx| r.open_destination(ctx),
    )
}

/// [`copy_image`] with a custom way to open the destination.
pub fn copy_image_with(
    src_ref: &ImageRef,
    dest_ref: &ImageRef,
    opts: &CopyOptions,
    reporter: &dyn Reporter,
    open_destination: &OpenDestination<'_>,
) -> Result<CopyResult> {
    copy_image_ext(
        src_ref,
        dest_ref,
        opts,
        &ExtraCopyOptions::default(),
        reporter,
        open_destination,
    )
}

/// Checks option combinations that cannot work (skopeo checks most of these in its
/// command line handling; ferry's library checks them for every caller).
pub fn validate_options(opts: &CopyOptions, extra: &ExtraCopyOptions) -> Result<()> {
    if opts.remove_signatures && extra.remove_list_signatures {
        return Err(Error::Other(
            "--remove-signatures and --remove-list-signatures cannot be used together".into(),
        ));
    }
    if extra.strip_removed_platforms && !opts.remove_signatures && !extra.remove_list_signatures {
        return Err(Error::Other(
            "--strip-removed-platforms requires --remove-signatures or --remove-list-signatures"
                .into(),
        ));
    }
    if extra.force_compress_format && opts.dest_ctx.compress_format.is_none() {
        return Err(Error::Other(
            "cannot use ForceCompressionFormat with undefined default compression format".into(),
        ));
    }
    if extra.force_compress_format && opts.preserve_digests {
        return Err(Error::Other(
            "--dest-force-compress-format cannot be used with --preserve-digests: recompressing layers changes their digests".into(),
        ));
    }
    Ok(())
}

/// [`copy_image`] with the [`ExtraCopyOptions`] and a way to open the destination.
pub fn copy_image_ext(
    src_ref: &ImageRef,
    dest_ref: &ImageRef,
    opts: &CopyOptions,
    extra: &ExtraCopyOptions,
    reporter: &dyn Reporter,
    open_destination: &OpenDestination<'_>,
) -> Result<CopyResult> {
    use engine::{Engine, Shared};
    use ferry_config::policy::PolicyInput;
    use ferry_manifest::mime;
    validate_options(opts, extra)?;
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

    let dest = open_destination(dest_ref, &opts.dest_ctx)?;
    let props = dest.properties().clone();
    if opts.dest_ctx.compress_format == Some(CompressionFormat::ZstdChunked)
        && props.desired_layer_compression == LayerCompression::Compress
    {
        reporter.warning(
            "zstd:chunked is written as plain zstd (ferry does not write the chunked table of contents); readers that expect zstd:chunked fall back to a full pull",
        );
    }
    let shared = Shared::new(match opts.parallel {
        0 => engine::DEFAULT_PARALLEL,
        n => n,
    });
    let written = {
        let engine = Engine {
            src: &*src,
            src_ref,
            dest: &*dest,
            dest_ref,
            props: &props,
            opts,
            extra,
            shared: &shared,
        };
        if mime::is_list(&top.mime) {
            engine.copy_list(top, reporter)?
        } else {
            engine.copy_single(top, false, reporter)?
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
