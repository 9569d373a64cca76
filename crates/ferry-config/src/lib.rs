//! Configuration files skopeo reads: files in, typed values out.

pub mod policy;

pub use policy::{PolicyContext, PolicyError, PolicyInput};
pub mod auth;
pub mod certs;
pub mod registries;
pub mod registries_d;
