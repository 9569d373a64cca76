//! Raw flag values → resolved library options: [`SystemContext`] per side, the policy,
//! manifest format, list selection. Validation messages are skopeo's
//! (`cmd/skopeo/utils.go`, `copy.go`).

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use ferry_config::policy::PolicyContext;
use ferry_image::SystemContext;
use ferry_image::context::CompressionFormat;
use ferry_image::copy::{ListSelection, ManifestFormat};

use crate::cli::flags::{DestOptions, ImageOptions};
use crate::cli::global::GlobalOptions;

/// skopeo's `globalOptions.newSystemContext`: settings shared by both sides.
pub fn global_context(g: &GlobalOptions) -> SystemContext {
    let mut ctx = SystemContext {
        tmp_dir: g.tmpdir.as_ref().map(PathBuf::from),
        arch: g.override_arch.clone(),
        os: g.override_os.clone(),
        variant: g.override_variant.clone(),
        ..SystemContext::default()
    };
    // Deprecated root `--tls-verify`; a per-image flag overrides it.
    if let Some(v) = g.tls_verify {
        ctx.docker.tls_verify = Some(v);
    }
    ctx.docker.registries_conf = g.registries_conf.as_ref().map(PathBuf::from);
    ctx.docker.user_agent_prefix = g.user_agent_prefix.clone();
    ctx
}

/// skopeo's `imageOptions.newSystemContext`. `shared_authfile` is the unprefixed
/// `--authfile`; `deprecated_tls_verify` the hidden per-command `--tls-verify`.
pub fn image_context(
    g: &GlobalOptions,
    shared_authfile: Option<&str>,
    opts: &ImageOptions,
    deprecated_tls_verify: Option<bool>,
) -> Result<SystemContext> {
    let mut ctx = global_context(g);
    ctx.oci_shared_blob_dir = opts.shared_blob_dir.as_ref().map(PathBuf::from);
    let d = &mut ctx.docker;
    d.cert_dir = opts.cert_dir.as_ref().map(PathBuf::from);
    d.daemon_host = opts.daemon_host.clone();
    d.auth_file = opts
        .auth_file
        .as_deref()
        .or(shared_authfile)
        .filter(|s| !s.is_empty())
        .map(PathBuf::from);
    if let Some(v) = deprecated_tls_verify {
        d.tls_verify = Some(v);
    }
    if let Some(v) = opts.tls_verify {
        d.tls_verify = Some(v);
    }
    if opts.creds.is_some() && opts.no_creds {
        bail!("creds and no-creds cannot be specified at the same time");
    }
    if opts.username.is_some() && opts.no_creds {
        bail!("username and no-creds cannot be specified at the same time");
    }
    if opts.creds.is_some() && opts.username.is_some() {
        bail!("creds and username cannot be specified at the same time");
    }
    match (&opts.username, &opts.password) {
        (Some(_), None) => bail!("password must be specified when username is specified"),
        (None, Some(_)) => bail!("username must be specified when password is specified"),
        _ => {}
    }
    if let Some(creds) = &opts.creds {
        d.creds = Some(parse_creds(creds)?);
    } else if let (Some(u), Some(p)) = (&opts.username, &opts.password) {
        d.creds = Some((u.clone(), p.clone()));
    }
    d.registry_token = opts.registry_token.clone();
    if opts.no_creds {
        d.no_creds = true;
        d.creds = None;
    }
    Ok(ctx)
}

/// skopeo's `parseCreds`: `USER[:PASSWORD]`.
pub fn parse_creds(creds: &str) -> Result<(String, String)> {
    if creds.is_empty() {
        bail!("credentials can't be empty");
    }
    match creds.split_once(':') {
        None => Ok((creds.to_string(), String::new())),
        Some(("", _)) => bail!("username can't be empty"),
        Some((u, p)) => Ok((u.to_string(), p.to_string())),
    }
}

/// skopeo's `imageDestOptions.newSystemContext` additions.
pub fn apply_dest_options(ctx: &mut SystemContext, d: &DestOptions) -> Result<()> {
    ctx.compress = d.compress;
    ctx.decompress = d.decompress;
    ctx.oci_accept_uncompressed_layers = d.oci_accept_uncompressed_layers;
    if let Some(f) = &d.compress_format {
        ctx.compress_format = Some(parse_compression_format(f)?);
    }
    if let Some(level) = d.compress_level {
        let level = i32::try_from(level)
            .map_err(|_| anyhow!("compression level {level} is out of range"))?;
        ctx.compress_level = Some(level);
    }
    Ok(())
}

/// `compression.AlgorithmByName`.
pub fn parse_compression_format(name: &str) -> Result<CompressionFormat> {
    match name {
        "gzip" => Ok(CompressionFormat::Gzip),
        "zstd" => Ok(CompressionFormat::Zstd),
        "zstd:chunked" => Ok(CompressionFormat::ZstdChunked),
        _ => bail!("cannot find compressor for {name:?}"),
    }
}

/// skopeo's `parseManifestFormat` (`--format`).
pub fn parse_manifest_format(s: &str) -> Result<ManifestFormat> {
    match s {
        "oci" => Ok(ManifestFormat::Oci),
        "v2s1" => Ok(ManifestFormat::V2s1),
        "v2s2" => Ok(ManifestFormat::V2s2),
        _ => bail!(
            "unknown format {s:?}. Choose one of the supported formats: 'oci', 'v2s1', or 'v2s2'"
        ),
    }
}

/// skopeo's `parseMultiArch` (`--multi-arch`), including the 1.25 platform list.
pub fn parse_multi_arch(s: &str) -> Result<ListSelection> {
    match s {
        "system" => return Ok(ListSelection::System),
        "all" => return Ok(ListSelection::All),
        "index-only" => return Ok(ListSelection::IndexOnly),
        _ => {}
    }
    let unknown = || {
        anyhow!(
            "unknown multi-arch option {s:?}. Choose one of the supported options: 'system', 'all', 'index-only', or a comma-separated list of OS/ARCH platforms"
        )
    };
    if !s.contains('/') {
        return Err(unknown());
    }
    let mut platforms = Vec::new();
    for item in s.split(',') {
        let item = item.trim();
        match item.split('/').collect::<Vec<_>>().as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => {
                platforms.push((os.to_string(), arch.to_string()));
            }
            _ => bail!("invalid platform {item:?} in --multi-arch {s:?}: expected OS/ARCH"),
        }
    }
    Ok(ListSelection::Platforms(platforms))
}

/// `--additional-tag`: must parse as a normalised, tagged Docker reference.
pub fn parse_additional_tag(s: &str) -> Result<ferry_reference::Named> {
    let named = ferry_reference::Named::parse_normalized(s)
        .map_err(|e| anyhow!("error parsing additional-tag '{s}': {e}"))?;
    if named.tag().is_none() {
        bail!("additional-tag '{s}' must be a tagged reference");
    }
    Ok(named)
}

/// skopeo's `getPolicyContext`. The one place that decides which policy applies.
pub fn load_policy(g: &GlobalOptions) -> Result<PolicyContext> {
    if g.insecure_policy && g.require_signed {
        bail!("--insecure-policy and --require-signed cannot be used together");
    }
    if g.insecure_policy {
        return Ok(insecure_policy());
    }
    let explicit = g.policy.as_deref().map(std::path::Path::new);
    let (policy, warning) = PolicyContext::load(explicit)?;
    if let Some(w) = warning {
        crate::logging::warn(w);
    }
    match policy.source() {
        Some(p) => crate::logging::debug(format!("Using policy {}", p.display())),
        None => crate::logging::debug("Using the built-in default policy"),
    }
    Ok(policy)
}

/// `{"default":[{"type":"insecureAcceptAnything"}]}`.
fn insecure_policy() -> PolicyContext {
    PolicyContext::insecure_accept_anything()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creds_split_like_skopeo() {
        assert_eq!(
            parse_creds("u:p:q").ok(),
            Some(("u".to_string(), "p:q".to_string()))
        );
        assert_eq!(
            parse_creds("u").ok(),
            Some(("u".to_string(), String::new()))
        );
        assert_eq!(
            parse_creds("").unwrap_err().to_string(),
            "credentials can't be empty"
        );
        assert_eq!(
            parse_creds(":p").unwrap_err().to_string(),
            "username can't be empty"
        );
    }

    #[test]
    fn creds_conflicts() {
        let g = GlobalOptions::default();
        let both = ImageOptions {
            creds: Some("a:b".into()),
            no_creds: true,
            ..ImageOptions::default()
        };
        assert_eq!(
            image_context(&g, None, &both, None)
                .unwrap_err()
                .to_string(),
            "creds and no-creds cannot be specified at the same time"
        );
        let user_only = ImageOptions {
            username: Some("a".into()),
            ..ImageOptions::default()
        };
        assert_eq!(
            image_context(&g, None, &user_only, None)
                .unwrap_err()
                .to_string(),
            "password must be specified when username is specified"
        );
        let split = ImageOptions {
            username: Some("a".into()),
            password: Some("b".into()),
            tls_verify: Some(false),
            ..ImageOptions::default()
        };
        let ctx = image_context(&g, Some("/auth.json"), &split, Some(true)).unwrap();
        assert_eq!(ctx.docker.creds, Some(("a".into(), "b".into())));
        assert_eq!(ctx.docker.tls_verify, Some(false));
        assert_eq!(ctx.docker.auth_file, Some(PathBuf::from("/auth.json")));
    }

    #[test]
    fn global_registry_settings_reach_both_sides() {
        let g = GlobalOptions {
            registries_conf: Some("/r.conf".into()),
            user_agent_prefix: Some("me/1".into()),
            tls_verify: Some(false),
            ..GlobalOptions::default()
        };
        let o = ImageOptions {
            registry_token: Some("tok".into()),
            cert_dir: Some("/certs".into()),
            ..ImageOptions::default()
        };
        let ctx = image_context(&g, None, &o, None).unwrap();
        assert_eq!(ctx.docker.registries_conf, Some(PathBuf::from("/r.conf")));
        assert_eq!(ctx.docker.user_agent_prefix.as_deref(), Some("me/1"));
        assert_eq!(ctx.docker.tls_verify, Some(false));
        assert_eq!(ctx.docker.registry_token.as_deref(), Some("tok"));
        assert_eq!(ctx.docker.cert_dir, Some(PathBuf::from("/certs")));
        let anon = ImageOptions {
            no_creds: true,
            ..ImageOptions::default()
        };
        assert!(
            image_context(&g, None, &anon, None)
                .unwrap()
                .docker
                .no_creds
        );
    }

    #[test]
    fn prefixed_authfile_wins() {
        let g = GlobalOptions::default();
        let o = ImageOptions {
            auth_file: Some("/src.json".into()),
            ..ImageOptions::default()
        };
        let ctx = image_context(&g, Some("/shared.json"), &o, None).unwrap();
        assert_eq!(ctx.docker.auth_file, Some(PathBuf::from("/src.json")));
    }

    #[test]
    fn multi_arch_values() {
        assert_eq!(parse_multi_arch("all").unwrap(), ListSelection::All);
        assert_eq!(
            parse_multi_arch("index-only").unwrap(),
            ListSelection::IndexOnly
        );
        assert_eq!(
            parse_multi_arch("linux/amd64,linux/arm64").unwrap(),
            ListSelection::Platforms(vec![
                ("linux".into(), "amd64".into()),
                ("linux".into(), "arm64".into())
            ])
        );
        assert!(parse_multi_arch("foo").unwrap_err().to_string().starts_with(
            "unknown multi-arch option \"foo\". Choose one of the supported options: 'system', 'all', 'index-only'"
        ));
        assert!(parse_multi_arch("linux/").is_err());
        assert!(parse_multi_arch("linux/arm64/v8").is_err());
    }

    #[test]
    fn formats() {
        assert_eq!(parse_manifest_format("v2s2").unwrap(), ManifestFormat::V2s2);
        assert_eq!(
            parse_manifest_format("foo").unwrap_err().to_string(),
            "unknown format \"foo\". Choose one of the supported formats: 'oci', 'v2s1', or 'v2s2'"
        );
        assert_eq!(
            parse_compression_format("zstd:chunked").unwrap(),
            CompressionFormat::ZstdChunked
        );
        assert_eq!(
            parse_compression_format("lz4").unwrap_err().to_string(),
            "cannot find compressor for \"lz4\""
        );
    }
}
