//! `ferry list-tags SOURCE-IMAGE` (skopeo `cmd/skopeo/list_tags.go`).

use anyhow::{Context, Result, bail};
use clap::Command;
use ferry_image::transport::{ImageRef, parse_image_name};
use serde::Serialize;

use super::flags::{self, ImageOptions, RetryOptions};
use super::{Invocation, expect_args};
use crate::{output, retry, settings};

/// Transports that can list tags.
const SUPPORTED: &str = "docker, docker-archive";

/// Transport names `alltransports` knows (for "does not specify a transport").
const KNOWN_TRANSPORTS: &[&str] = &[
    "containers-storage",
    "dir",
    "docker",
    "docker-archive",
    "docker-daemon",
    "oci",
    "oci-archive",
    "sif",
    "tarball",
];

pub fn command() -> Command {
    Command::new("list-tags")
        .about("List tags in the transport/repository specified by the SOURCE-IMAGE")
        .long_about(
            "Return the list of tags from the transport/repository \"SOURCE-IMAGE\"\n\nSupported transports:\ndocker docker-archive\n\nSee skopeo-list-tags(1) section \"REPOSITORY NAMES\" for the expected format",
        )
        .before_help("ferry list-tags [command options] SOURCE-IMAGE")
        .after_help("ferry list-tags docker://docker.io/fedora")
        .args(flags::shared_image_flags())
        .args(flags::docker_image_flags("", None))
        .args(flags::retry_flags())
}

/// skopeo's `tagsData`.
#[derive(Debug, Serialize)]
struct TagsData {
    #[serde(rename = "Repository", skip_serializing_if = "String::is_empty")]
    repository: String,
    #[serde(rename = "Tags")]
    tags: Vec<String>,
}

pub fn run(inv: &Invocation<'_>) -> Result<()> {
    expect_args(&inv.args, 1, "Exactly one non-option argument expected")?;
    inv.check_unimplemented()?;
    let m = inv.matches;
    let ctx = settings::image_context(
        inv.global,
        flags::get_str(m, "authfile").as_deref(),
        &ImageOptions::from_matches(m, ""),
        None,
    )?;
    let input = &inv.args[0];
    let transport = input.split_once(':').map(|(t, _)| t);
    let Some(transport) = transport.filter(|t| KNOWN_TRANSPORTS.contains(t)) else {
        bail!("Invalid {input:?}: does not specify a transport");
    };
    if transport != "docker" && transport != "docker-archive" {
        bail!("Unsupported transport '{transport}' for tag listing. Only supported: {SUPPORTED}");
    }
    let retry_opts = RetryOptions::from_matches(m);
    let data = if transport == "docker" {
        let repo = docker_repository(input)?;
        let tags = retry::if_necessary(retry_opts, || {
            ferry_image::transport::docker::list_tags(&repo, &ctx)
                .context("Error listing repository tags")
        })?;
        TagsData {
            repository: repo.name(),
            tags,
        }
    } else {
        let image =
            parse_image_name(input).with_context(|| format!("Cannot parse reference {input:?}"))?;
        let ImageRef::DockerArchive(r) = &image else {
            bail!(
                "Unsupported transport '{transport}' for tag listing. Only supported: {SUPPORTED}"
            );
        };
        retry::if_necessary(retry_opts, || {
            Ok(TagsData {
                repository: String::new(),
                tags: docker_archive_tags(&r.path)?,
            })
        })?
    };
    output::print_json_indented(&data)
}

/// skopeo's `parseDockerRepositoryReference`: `docker://NAME` without tag or digest.
fn docker_repository(input: &str) -> Result<ferry_reference::Named> {
    let Some(name) = input.strip_prefix("docker://") else {
        bail!("docker: image reference {input} does not start with docker://");
    };
    let named = ferry_reference::Named::parse_normalized(name)?;
    if !named.is_name_only() {
        bail!("No tag or digest allowed in reference");
    }
    Ok(named)
}

/// The `RepoTags` of every image in a docker-archive (`@N` for untagged images).
fn docker_archive_tags(path: &std::path::Path) -> Result<Vec<String>> {
    Ok(ferry_image::transport::docker_archive::list_tags(path)?)
}
