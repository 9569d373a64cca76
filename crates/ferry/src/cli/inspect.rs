//! `ferry inspect IMAGE-NAME` (skopeo `cmd/skopeo/inspect.go`).

use anyhow::{Context, Result, bail};
use clap::Command;
use ferry_image::inspect::{self, InspectOptions, InspectOutput};
use ferry_image::transport::parse_image_name;

use super::flags::{self, ImageOptions, RetryOptions, bool_flag, string_flag};
use super::inspect_data::{config_value, image_value};
use super::{Invocation, TRANSPORTS};
use crate::{gotemplate, output, retry, settings};

/// The template name in `--format` error messages (skopeo: "skopeo inspect").
const TEMPLATE_NAME: &str = "ferry inspect";

pub fn command() -> Command {
    Command::new("inspect")
        .about("Inspect image IMAGE-NAME")
        .long_about(format!(
            "Return low-level information about \"IMAGE-NAME\" in a registry/transport\nSupported transports:\n{TRANSPORTS}\n\nSee skopeo(1) section \"IMAGE NAMES\" for the expected format"
        ))
        .before_help("ferry inspect [command options] IMAGE-NAME")
        .after_help(
            "ferry inspect docker://registry.fedoraproject.org/fedora\n  ferry inspect --config docker://docker.io/alpine\n  ferry inspect  --format \"Name: {{.Name}} Digest: {{.Digest}}\" docker://registry.access.redhat.com/ubi8",
        )
        .args(flags::shared_image_flags())
        .args(flags::image_flags("", None))
        .args(flags::retry_flags())
        .args([
            bool_flag("raw", "output raw manifest or configuration"),
            bool_flag("config", "output configuration"),
            string_flag("format", "string", "Format the output to a Go template").short('f'),
            bool_flag(
                "no-tags",
                "Do not list the available tags from the repository in the output",
            )
            .short('n'),
            string_flag(
                "manifest-digest",
                "string",
                "*Experimental* Algorithm to use for computing manifest digest (sha256, sha512)",
            ),
        ])
}

pub fn run(inv: &Invocation<'_>) -> Result<()> {
    let m = inv.matches;
    if inv.args.len() != 1 {
        bail!("Exactly one argument expected");
    }
    let opts = InspectOptions {
        raw: flags::get_bool(m, "raw"),
        config: flags::get_bool(m, "config"),
        no_tags: flags::get_bool(m, "no-tags"),
    };
    let format = flags::get_nonempty(m, "format");
    if opts.raw && format.is_some() {
        bail!("raw output does not support format option");
    }
    inv.check_unimplemented()?;
    let name = &inv.args[0];
    let ctx = settings::image_context(
        inv.global,
        flags::get_str(m, "authfile").as_deref(),
        &ImageOptions::from_matches(m, ""),
        None,
    )?;
    let image =
        parse_image_name(name).with_context(|| format!("Error parsing image name {name:?}"))?;
    let retry_opts = RetryOptions::from_matches(m);
    let src = retry::if_necessary(retry_opts, || {
        image
            .open_source(&ctx)
            .with_context(|| format!("Error parsing image name {name:?}"))
    })?;
    // The tag list needs only the repository: it is fetched while the manifest and the
    // config are (skopeo lists it last; its errors still come after theirs).
    let want_tags = !opts.raw && !opts.config && !opts.no_tags;
    let (mut out, tags) = std::thread::scope(|s| -> Result<_> {
        let src = &*src;
        let tags = want_tags.then(|| {
            s.spawn(move || retry::if_necessary(retry_opts, || Ok(inspect::repo_tags(src)?)))
        });
        let top = retry::if_necessary(retry_opts, || {
            src.manifest(None)
                .context("Error retrieving manifest for image")
        })?;
        let out = retry::if_necessary(retry_opts, || {
            let no_tags = InspectOptions {
                no_tags: true,
                ..opts
            };
            Ok(inspect::inspect(&image, src, &top, &ctx, &no_tags)?)
        })?;
        let tags = match tags.map(|h| h.join()) {
            None => None,
            Some(Ok(r)) => Some(r?),
            Some(Err(_)) => bail!("listing the repository's tags panicked"),
        };
        Ok((out, tags))
    })?;
    if let (InspectOutput::Image(info), Some(tags)) = (&mut out, tags)
        && let Some(w) = info.set_repo_tags(tags)
    {
        crate::logging::warn(w);
    }
    let template = format.filter(|f| !gotemplate::is_json_format(f));
    match (&out, template) {
        (InspectOutput::Image(info), Some(t)) => {
            let text = gotemplate::render_report(TEMPLATE_NAME, &t, &image_value(info))?;
            output::write_stdout(text.as_bytes())
        }
        (InspectOutput::Config(config), Some(t)) => {
            let text = gotemplate::render_report(TEMPLATE_NAME, &t, &config_value(config))
                .context("Error writing OCI-formatted configuration data to standard output")?;
            output::write_stdout(text.as_bytes())
        }
        (out, _) => output::write_stdout(&out.stdout_bytes()),
    }
}
