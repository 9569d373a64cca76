//! Container image manifests as skopeo (containers/image) understands them.
//!
//! Raw bytes are the truth: a manifest is stored and hashed exactly as received; the
//! parsed views here are for reading and for building *new* manifests when a copy has to
//! convert. New manifests are serialised the way Go's `encoding/json` does (struct field
//! order, compact, HTML-escaped), so converted manifests are byte-identical to skopeo's.

pub mod descriptor;
pub mod gojson;
pub mod list;
pub mod mime;
pub mod platform;
pub mod schema1;
pub mod single;

mod error;
mod parse;

pub use descriptor::{Descriptor, Platform};
pub use error::ManifestError;
pub use list::ManifestList;
pub use parse::{Manifest, digest, guess_mime_type, normalize_mime_type, parse};
pub use single::{ImageManifest, LayerInfo};
