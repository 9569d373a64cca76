//! Container image manifests as skopeo (containers/image) understands them.
//!
//! Raw bytes are the truth: a manifest is stored and hashed exactly as received; the
//! parsed views here are for reading and for building *new* manifests when a copy has to
//! convert. New manifests are serialised the way Go's `encoding/json` does (struct field
//! order, compact, HTML-escaped), so converted manifests are byte-identical to skopeo's.
//!
//! - [`parse`], [`guess_mime_type`], [`normalize_mime_type`], [`digest`]: c/image's
//!   `manifest` package entry points.
//! - [`ImageManifest`] (schema1, schema2, OCI) and [`ManifestList`] (Docker list, OCI
//!   index): read views plus `to_format` for conversions (schema1 sources with the
//!   config `target_config` rebuilds from DiffIDs); `to_schema1` writes signed schema1.
//! - [`jws`]: libtrust's pretty JWS (schema1 signatures; the key is the caller's),
//!   [`schema1_write`]: c/image's conversions to schema1.
//! - [`config`]: image config blobs (reading view, OCI conversion).
//! - [`gojson`]: Go-compatible JSON reading and writing.

pub mod config;
pub mod descriptor;
pub mod gojson;
pub mod jws;
pub mod list;
pub mod mime;
pub mod oci;
pub mod platform;
pub mod schema1;
pub mod schema1_write;
pub mod schema2;
pub mod single;

mod error;
mod parse;

pub use descriptor::{Descriptor, Platform};
pub use error::ManifestError;
pub use list::ManifestList;
pub use parse::{
    Fields, Manifest, digest, digest_payload, digest_with, guess_mime_type, is_known_manifest_type,
    matches_digest, normalize_mime_type, parse, validate_unambiguous,
};
pub use schema1_write::{Schema1Options, Schema1Output};
pub use single::{ImageManifest, LayerInfo};
