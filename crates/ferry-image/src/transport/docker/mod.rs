//! `docker://` — images in a registry, through [`ferry_registry::Registry`].
//!
//! This module resolves the per-side settings into a registry connection: registries.conf
//! (mirrors, remapping, `insecure`, `blocked`), credentials (`--creds`,
//! `--registry-token`, `--no-creds`, then auth.json and credential helpers), TLS material
//! (`--cert-dir` or certs.d) and `--tls-verify`. Sources try the pull sources in order
//! (mirrors first); destinations always push to the reference itself.

mod dest;
mod source;

use ferry_config::auth::{self, AuthPaths};
use ferry_config::certs;
use ferry_config::registries::{RegistriesConf, RegistriesConfPaths};
use ferry_manifest::mime;
use ferry_reference::Named;
use ferry_registry::{Access, Credential, Registry, RegistryConfig};

pub use dest::DockerDestination;
pub use source::DockerSource;

use super::reference::DockerRef;
use crate::context::SystemContext;
use crate::error::{Error, Result};

/// Loads registries.conf as the context asks.
pub(crate) fn registries_conf(ctx: &SystemContext) -> Result<RegistriesConf> {
    let paths = RegistriesConfPaths::from_env(ctx.docker.registries_conf.as_deref());
    RegistriesConf::load(&paths).map_err(|e| Error::Config(e.to_string()))
}

/// The tag or digest part used in `/manifests/<reference>`.
pub(crate) fn manifest_reference(named: &Named) -> String {
    match (named.digest(), named.tag()) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.to_string(),
        (None, None) => "latest".to_string(),
    }
}

/// Opens a connection to the registry of `named` with the context's credentials and TLS
/// settings; `conf_insecure` is registries.conf's verdict for this endpoint.
pub(crate) fn connect(
    named: &Named,
    ctx: &SystemContext,
    conf: &RegistriesConf,
    conf_insecure: bool,
    access: Access,
) -> Result<Registry> {
    let host = named.domain();
    let d = &ctx.docker;
    let insecure = match d.tls_verify {
        Some(verify) => !verify,
        None => conf_insecure,
    };
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let tls = certs::tls_files(host, d.cert_dir.as_deref(), home.as_deref())
        .map_err(|e| Error::Config(e.to_string()))?;
    let credential = if d.no_creds {
        None
    } else if let Some(token) = &d.registry_token {
        Some(Credential::Bearer(token.clone()))
    } else if let Some((username, password)) = &d.creds {
        Some(Credential::Basic {
            username: username.clone(),
            password: password.clone(),
        })
    } else {
        let paths = AuthPaths::from_env().with_credential_helpers(conf.credential_helpers());
        auth::lookup(&paths, d.auth_file.as_deref(), &named.name())
            .map_err(|e| Error::Config(e.to_string()))?
            .map(|c| match c {
                auth::Credential::Basic { username, password } => {
                    Credential::Basic { username, password }
                }
                auth::Credential::IdentityToken { username, token } => {
                    Credential::IdentityToken { username, token }
                }
            })
    };
    let mut cfg = RegistryConfig::new(host);
    cfg.insecure = insecure;
    cfg.ca_pems = tls.ca_pems.into_iter().map(|(_, pem)| pem).collect();
    cfg.client_cert = tls.client.map(|c| (c.cert_pem, c.key_pem));
    cfg.credential = credential;
    cfg.access = access;
    if let Some(prefix) = &d.user_agent_prefix {
        cfg.user_agent = format!("{prefix} {}", cfg.user_agent);
    }
    Ok(Registry::new(cfg)?)
}

/// `skopeo delete docker://…`: resolves a tag to its digest, then deletes the manifest
/// (which removes every tag pointing at it, as the registry API defines).
pub fn delete(r: &DockerRef, ctx: &SystemContext) -> Result<()> {
    let conf = registries_conf(ctx)?;
    conf.check_not_blocked(&r.named.name())
        .map_err(|e| Error::Config(e.to_string()))?;
    let insecure = conf.is_insecure(r.named.domain());
    let reg = connect(&r.named, ctx, &conf, insecure, Access::Delete)?;
    let repo = r.named.path();
    let digest = match r.named.digest() {
        Some(d) => d.to_string(),
        None => {
            let reference = manifest_reference(&r.named);
            let m = reg.get_manifest(repo, &reference, mime::ALL_MANIFEST_TYPES)?;
            ferry_manifest::digest(&m.bytes)
                .map_err(|e| Error::manifest(format!("{reference} in {}", r.named.name()), e))?
                .to_string()
        }
    };
    reg.delete_manifest(repo, &digest)?;
    Ok(())
}

/// `skopeo list-tags docker://REPO`: every tag of the repository (all pages).
pub fn list_tags(named: &Named, ctx: &SystemContext) -> Result<Vec<String>> {
    let conf = registries_conf(ctx)?;
    let insecure = conf.is_insecure(named.domain());
    let reg = connect(named, ctx, &conf, insecure, Access::Pull)?;
    Ok(reg.list_tags(named.path())?)
}

/// Checks credentials against a registry (`skopeo login`): `GET /v2/` authenticated
/// with them (a bare ping would accept any password).
pub fn check_auth(named_registry: &Named, ctx: &SystemContext) -> Result<()> {
    let conf = registries_conf(ctx)?;
    let insecure = conf.is_insecure(named_registry.domain());
    let reg = connect(named_registry, ctx, &conf, insecure, Access::Pull)?;
    reg.check_auth()?;
    Ok(())
}
