//! Copy semantics through the library API (`ferry_image::copy::copy_image_ext`), for
//! the options the command line does not pass yet (`--strip-removed-platforms`,
//! `--remove-list-signatures`, `--dest-force-compress-format`,
//! `--dest-precompute-digests`) and for the progress events of a list whose instances
//! are copied concurrently (they must read exactly like skopeo's sequential output).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "copy_semantics_common.rs"]
mod common;

use std::sync::Mutex;

use common::*;
use ferry_image::context::{CompressionFormat, SystemContext};
use ferry_image::copy::{
    BlobOutcome, CopyOptions, ExtraCopyOptions, ListSelection, NoReport, Reporter, copy_image_ext,
    validate_options,
};
use ferry_image::transport::parse_image_name;
use ferry_reference::Digest;
use ferry_test::{require_skopeo, run, skopeo};

/// Records events as skopeo's non-terminal progress lines, plus blob outcomes.
#[derive(Default)]
struct Lines {
    lines: Mutex<Vec<String>>,
    outcomes: Mutex<Vec<(String, BlobOutcome)>>,
    digests: Mutex<Vec<String>>,
}

impl Lines {
    fn push(&self, s: String) {
        self.lines.lock().unwrap().push(s);
    }
    fn text(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
    /// Outcomes of layer blobs (configs excluded).
    fn layer_outcomes(&self) -> Vec<BlobOutcome> {
        self.outcomes
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| k == "blob")
            .map(|(_, o)| *o)
            .collect()
    }
}

impl Reporter for Lines {
    fn getting_signatures(&self) {
        self.push("Getting image source signatures".into());
    }
    fn getting_list_signatures(&self) {
        self.push("Getting image list signatures".into());
    }
    fn copying_list_instances(&self, n: usize, of: usize) {
        self.push(format!("Copying {n} of {of} images in list"));
    }
    fn copying_instance(&self, d: &Digest, i: usize, of: usize) {
        self.push(format!("Copying image {d} ({i}/{of})"));
    }
    fn blob_started(&self, d: &Digest, _: Option<u64>, is_config: bool) -> usize {
        let kind = if is_config { "config" } else { "blob" };
        self.push(format!("Copying {kind} {d}"));
        let mut ds = self.digests.lock().unwrap();
        ds.push(kind.to_string());
        ds.len() - 1
    }
    fn blob_done(&self, id: usize, o: BlobOutcome) {
        let kind = self.digests.lock().unwrap()[id].clone();
        self.outcomes.lock().unwrap().push((kind, o));
    }
    fn writing_manifest(&self) {
        self.push("Writing manifest to image destination".into());
    }
    fn writing_manifest_list(&self) {
        self.push("Writing manifest list to image destination".into());
    }
    fn storing_signatures(&self) {
        self.push("Storing signatures".into());
    }
    fn storing_list_signatures(&self) {
        self.push("Storing list signatures".into());
    }
}

fn copy(
    src: &str,
    dest: &str,
    opts: &CopyOptions,
    extra: &ExtraCopyOptions,
    rep: &dyn Reporter,
) -> Result<ferry_image::copy::CopyResult, String> {
    let s = parse_image_name(src).unwrap();
    let d = parse_image_name(dest).unwrap();
    copy_image_ext(&s, &d, opts, extra, rep, &|r, ctx| r.open_destination(ctx))
        .map_err(|e| e.to_string())
}

fn platforms(p: &[(&str, &str)]) -> ListSelection {
    ListSelection::Platforms(
        p.iter()
            .map(|(o, a)| (o.to_string(), a.to_string()))
            .collect(),
    )
}

#[test]
fn option_combinations_are_checked() {
    let opts = CopyOptions::default();
    let strip = ExtraCopyOptions {
        strip_removed_platforms: true,
        ..Default::default()
    };
    assert_eq!(
        validate_options(&opts, &strip).unwrap_err().to_string(),
        "--strip-removed-platforms requires --remove-signatures or --remove-list-signatures"
    );
    let both = ExtraCopyOptions {
        remove_list_signatures: true,
        ..Default::default()
    };
    let removing = CopyOptions {
        remove_signatures: true,
        ..Default::default()
    };
    assert!(validate_options(&removing, &both).is_err());
    let force = ExtraCopyOptions {
        force_compress_format: true,
        ..Default::default()
    };
    assert_eq!(
        validate_options(&opts, &force).unwrap_err().to_string(),
        "cannot use ForceCompressionFormat with undefined default compression format"
    );
}

#[test]
fn strip_removed_platforms_writes_only_the_copied_instances() {
    let mut fx = Fx::new();
    let src = fx.multi();
    let arm64 = fx
        .multi_sources()
        .fixture
        .images
        .iter()
        .find(|i| i.platform.architecture == "arm64")
        .unwrap()
        .manifest
        .digest
        .clone();
    let source_top = fx.multi_sources().fixture.top.digest.clone();
    let opts = CopyOptions {
        list_selection: platforms(&[("linux", "arm64")]),
        remove_signatures: true,
        ..Default::default()
    };
    let strip = ExtraCopyOptions {
        strip_removed_platforms: true,
        ..Default::default()
    };
    let dest = fx.path("stripped");
    let r = copy(&src, &dir_ref(&dest), &opts, &strip, &NoReport).unwrap();
    let list = read_json(&dest.join("manifest.json"));
    let entries = list["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["digest"], arm64.as_str());
    assert_ne!(r.digest.to_string(), source_top);
    assert_eq!(r.digest.to_string(), manifest_digest(&dest));
    // Without stripping the list is kept whole (sparse).
    let sparse = fx.path("sparse");
    copy(
        &src,
        &dir_ref(&sparse),
        &opts,
        &ExtraCopyOptions::default(),
        &NoReport,
    )
    .unwrap();
    assert_eq!(manifest_digest(&sparse), source_top);
    // --remove-list-signatures is enough for stripping.
    let opts2 = CopyOptions {
        remove_signatures: false,
        ..opts.clone()
    };
    let strip2 = ExtraCopyOptions {
        strip_removed_platforms: true,
        remove_list_signatures: true,
        ..Default::default()
    };
    copy(
        &src,
        &dir_ref(&fx.path("stripped2")),
        &opts2,
        &strip2,
        &NoReport,
    )
    .unwrap();
    // --preserve-digests forbids it.
    let frozen = CopyOptions {
        preserve_digests: true,
        ..opts
    };
    let e = copy(
        &src,
        &dir_ref(&fx.path("frozen")),
        &frozen,
        &strip,
        &NoReport,
    )
    .unwrap_err();
    assert_eq!(
        e,
        "Cannot strip the platforms that are not copied from the manifest list: Instructed to preserve digests"
    );
}

#[test]
fn remove_list_signatures_keeps_the_instances_signatures() {
    let mut fx = Fx::new();
    let src = fx.multi();
    let signed = fx.path("signed-list");
    run(ferry().args(["copy", "-q", "--all", &src, &dir_ref(&signed)]));
    let instances: Vec<String> = fx
        .multi_sources()
        .fixture
        .images
        .iter()
        .map(|i| i.manifest.digest[7..].to_string())
        .collect();
    fs_err::write(signed.join("signature-1"), b"\xa3list").unwrap();
    for hex in &instances {
        fs_err::write(signed.join(format!("{hex}.signature-1")), b"\xa3instance").unwrap();
    }
    let all = CopyOptions {
        list_selection: ListSelection::All,
        ..Default::default()
    };
    let drop_list = ExtraCopyOptions {
        remove_list_signatures: true,
        ..Default::default()
    };
    let out = fx.path("out");
    let lines = Lines::default();
    copy(&dir_ref(&signed), &dir_ref(&out), &all, &drop_list, &lines).unwrap();
    assert!(!out.join("signature-1").exists());
    for hex in &instances {
        assert_eq!(
            fs_err::read(out.join(format!("{hex}.signature-1"))).unwrap(),
            b"\xa3instance"
        );
    }
    assert!(
        !lines
            .text()
            .iter()
            .any(|l| l == "Getting image list signatures")
    );
    assert_eq!(
        lines
            .text()
            .iter()
            .filter(|l| *l == "Getting image source signatures")
            .count(),
        2
    );
    // Everything kept by default.
    let kept = fx.path("kept");
    copy(
        &dir_ref(&signed),
        &dir_ref(&kept),
        &all,
        &ExtraCopyOptions::default(),
        &NoReport,
    )
    .unwrap();
    assert!(kept.join("signature-1").is_file());
    // oci: stores no signatures: the instances' ones still stop the copy.
    let e = copy(
        &dir_ref(&signed),
        &format!("oci:{}:x", fx.path("oci").display()),
        &all,
        &drop_list,
        &NoReport,
    )
    .unwrap_err();
    assert!(
        e.contains("Pushing signatures for OCI images is not supported"),
        "{e}"
    );
}

/// Without `force_compress_format`, a zstd copy into a layout that already has the
/// gzip layers reuses them (as skopeo does); with it, every layer is zstd.
#[test]
fn force_compress_format_does_not_reuse_other_compressions() {
    if !require_skopeo() {
        return;
    }
    let mut fx = Fx::new();
    let src = fx.oci();
    let zstd_ctx = SystemContext {
        compress_format: Some(CompressionFormat::Zstd),
        ..Default::default()
    };
    let opts = CopyOptions {
        dest_ctx: zstd_ctx,
        ..Default::default()
    };
    let (ours, theirs) = (fx.path("ours"), fx.path("theirs"));
    for p in [&ours, &theirs] {
        run(ferry().args(["copy", "-q", &src, &format!("oci:{}:gzip", p.display())]));
    }
    copy(
        &src,
        &format!("oci:{}:zstd", ours.display()),
        &opts,
        &ExtraCopyOptions::default(),
        &NoReport,
    )
    .unwrap();
    run(skopeo().args([
        "copy",
        "-q",
        "--dest-compress-format",
        "zstd",
        &src,
        &format!("oci:{}:zstd", theirs.display()),
    ]));
    let types = |p: &std::path::Path, tag: &str| -> Vec<String> {
        let back = fx.path(&format!(
            "back-{}-{tag}",
            p.file_name().unwrap().to_string_lossy()
        ));
        run(ferry().args([
            "copy",
            "-q",
            &format!("oci:{}:{tag}", p.display()),
            &dir_ref(&back),
        ]));
        layer_types(&back)
    };
    let ours_reused = types(&ours, "zstd");
    assert_eq!(ours_reused, types(&theirs, "zstd"), "reuse like skopeo");
    assert!(
        ours_reused.iter().all(|t| t.ends_with("+gzip")),
        "{ours_reused:?}"
    );
    let force = ExtraCopyOptions {
        force_compress_format: true,
        ..Default::default()
    };
    let lines = Lines::default();
    copy(
        &src,
        &format!("oci:{}:forced", ours.display()),
        &opts,
        &force,
        &lines,
    )
    .unwrap();
    let forced = types(&ours, "forced");
    assert!(forced.iter().all(|t| t.ends_with("+zstd")), "{forced:?}");
    assert!(
        lines
            .layer_outcomes()
            .iter()
            .all(|o| *o == BlobOutcome::Copied)
    );
}

/// `precompute_digests`: layers that ferry compresses are named first (a counting pass),
/// so a registry that has them already is not sent them again.
#[test]
fn precompute_digests_skips_blobs_the_registry_has() {
    let Some(reg) = ferry_test::Registry::start_or_skip() else {
        return;
    };
    let mut fx = Fx::new();
    let plain = fx.plain_dir();
    let ctx = || {
        let mut c = SystemContext::default();
        c.docker.tls_verify = Some(false);
        c
    };
    let opts = CopyOptions {
        src_ctx: ctx(),
        dest_ctx: ctx(),
        ..Default::default()
    };
    let first = Lines::default();
    let dest = |tag: &str| format!("docker://{}/precompute/img:{tag}", reg.host());
    copy(
        &plain,
        &dest("1"),
        &opts,
        &ExtraCopyOptions::default(),
        &first,
    )
    .unwrap();
    assert!(
        first
            .layer_outcomes()
            .iter()
            .all(|o| *o == BlobOutcome::Copied)
    );
    // Without precomputing, compressed layers have no name before the upload: sent again.
    let again = Lines::default();
    copy(
        &plain,
        &dest("2"),
        &opts,
        &ExtraCopyOptions::default(),
        &again,
    )
    .unwrap();
    assert!(
        again
            .layer_outcomes()
            .iter()
            .all(|o| *o == BlobOutcome::Copied)
    );
    let pre = ExtraCopyOptions {
        precompute_digests: true,
        ..Default::default()
    };
    let third = Lines::default();
    let r = copy(&plain, &dest("3"), &opts, &pre, &third).unwrap();
    let outcomes = third.layer_outcomes();
    assert_eq!(outcomes.len(), 4);
    assert!(
        outcomes.iter().all(|o| *o == BlobOutcome::Reused),
        "{outcomes:?}"
    );
    // The same image as the first push.
    let back1 = fx.path("back1");
    let back3 = fx.path("back3");
    let pull = CopyOptions {
        src_ctx: ctx(),
        ..Default::default()
    };
    let r1 = copy(
        &dest("1"),
        &dir_ref(&back1),
        &pull,
        &ExtraCopyOptions::default(),
        &NoReport,
    )
    .unwrap();
    copy(
        &dest("3"),
        &dir_ref(&back3),
        &pull,
        &ExtraCopyOptions::default(),
        &NoReport,
    )
    .unwrap();
    assert_eq!(r.digest, r1.digest);
    ferry_test::diff_trees(&back1, &back3).unwrap();
}

/// Instances copied concurrently report exactly skopeo's sequential lines.
#[test]
fn concurrent_instances_report_like_skopeo() {
    if !require_skopeo() {
        return;
    }
    let mut fx = Fx::new();
    let src = fx.multi();
    let sk = run(skopeo().args(["copy", "--all", &src, &dir_ref(&fx.path("skopeo"))]));
    let want: Vec<String> = String::from_utf8_lossy(&sk.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    for parallel in [0, 1, 2] {
        let lines = Lines::default();
        let opts = CopyOptions {
            list_selection: ListSelection::All,
            parallel,
            ..Default::default()
        };
        let out = fx.path(&format!("ferry-{parallel}"));
        copy(
            &src,
            &dir_ref(&out),
            &opts,
            &ExtraCopyOptions::default(),
            &lines,
        )
        .unwrap();
        assert_eq!(lines.text(), want, "parallel {parallel}");
        ferry_test::diff_trees(&out, fx.path("skopeo")).unwrap();
    }
}
