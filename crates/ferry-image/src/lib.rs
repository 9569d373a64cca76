//! ferry's library: image references and transports, the streaming copy engine, inspect.
//!
//! Data flows one way: a reference names a transport; its source hands out raw manifest
//! bytes and *unverified* blob streams; the copy engine plans the destination format,
//! streams each blob through verification (and any (de)compression) into the destination,
//! then writes the manifest and signatures and commits. The library never prints: it
//! reports progress through [`copy::Reporter`].
//!
//! Why synchronous I/O with threads rather than async: the work is a handful of concurrent
//! streams (≤ 6 blobs per image), every CPU-heavy stage (SHA-256, gzip, zstd, tar) is a
//! blocking `Read`/`Write` codec, and archive writers need `Seek`. Plain threads keep each
//! stage a small `Read` adapter, with no executor hops, at no measurable cost.

pub mod blobcache;
pub mod compression;
pub mod context;
pub mod copy;
pub mod error;
pub mod inspect;
mod pargz;
pub mod sync;
pub mod transport;
pub mod types;
mod writeback;

pub use context::SystemContext;
pub use error::{Error, Result};
pub use transport::{ImageDestination, ImageRef, ImageSource};
pub use types::{BlobInfo, BlobReader, RawManifest};
