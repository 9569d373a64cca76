//! Docker Registry HTTP API v2 client (work in progress).

mod auth;
pub mod challenge;
mod client;
pub mod config;
pub mod error;
pub mod retry;

pub use client::Registry;
pub use config::{Access, Credential, RegistryConfig, RetryPolicy};
pub use error::{ApiError, Operation, RegistryError, TransportKind};
