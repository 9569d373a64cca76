//! Configuration files skopeo reads: files in, typed values out.

pub mod policy;

pub use policy::{PolicyContext, PolicyError, PolicyInput};
