//! Same results as `skopeo sync` (names, digests, log lines).

use ferry_image::sync::{DestKind, SourceKind, sync};
use ferry_test::{OrDie, Registry};

use super::support::*;

const TAGS: &[(&str, &str)] = &[
    ("1.0.0", "one"),
    ("1.2.3", "two"),
    ("1.2.4-rc1", "three"),
    ("2.0.0", "four"),
    ("latest", "four"),
];

/// `--src docker --dest dir`, scoped and not: same directories, same bytes, same
/// `Copying image ref` lines as skopeo.
#[test]
fn docker_to_dir_matches_skopeo() {
    let Some(reg) = Registry::start_or_skip() else {
        return;
    };
    let t = tmp();
    seed(t.path(), "lay", 1, TAGS, &reg.host(), "ns/app");
    let src = format!("{}/ns/app", reg.host());
    for scoped in [false, true] {
        let mine = t.path().join(format!("ferry-{scoped}"));
        let theirs = t.path().join(format!("skopeo-{scoped}"));
        let mut o = opts();
        o.scoped = scoped;
        let ev = Events::default();
        let sum =
            sync(&o, SourceKind::Docker, &src, DestKind::Dir, &s(&mine), &ev).ok_or_die("sync");
        assert_eq!((sum.images, sum.copied, sum.sources), (5, 5, 1));
        let mut args = vec!["--src", "docker", "--dest", "dir", "--src-tls-verify=false"];
        if scoped {
            args.push("--scoped");
        }
        let theirs_s = s(&theirs);
        args.extend([src.as_str(), theirs_s.as_str()]);
        let Some(out) = skopeo_sync(&args) else {
            return;
        };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        ferry_test::diff_trees(&mine, &theirs).or_die("ferry and skopeo trees differ");
        let fix = |v: Vec<(String, String)>, dir: &str| -> Vec<(String, String)> {
            v.into_iter()
                .map(|(f, to)| (f, to.replace(dir, "DEST")))
                .collect()
        };
        assert_eq!(
            fix(ev.copying(), &s(&mine)),
            fix(skopeo_copying(&out.stderr), &theirs_s)
        );
    }
}

/// `--src yaml --dest docker` (images with tags and a digest, images-by-tag-regex): the
/// same repositories, tags and digests as skopeo writes into its own registry; with
/// `--scoped` both refuse the `host:port` path component the same way.
#[test]
fn yaml_to_docker_matches_skopeo() {
    let Some(src) = Registry::start_or_skip() else {
        return;
    };
    let Some(mine) = Registry::start_or_skip() else {
        return;
    };
    let Some(theirs) = Registry::start_or_skip() else {
        return;
    };
    let t = tmp();
    seed(t.path(), "a", 1, TAGS, &src.host(), "ns/app");
    seed(
        t.path(),
        "b",
        2,
        &[("v1", "b1"), ("v2", "b2")],
        &src.host(),
        "other",
    );
    let d = digest(&src, "other", "v1").or_die("digest");
    let yaml = t.path().join("sync.yaml");
    fs_err::write(
        &yaml,
        format!(
            "{host}:\n  tls-verify: false\n  images:\n    other: [\"v2\", \"{d}\"]\n  images-by-tag-regex:\n    ns/app: ^1\\.2\n",
            host = src.host()
        ),
    )
    .or_die("yaml");
    for scoped in [false, true] {
        let prefix = format!("scoped{scoped}");
        let mut o = opts();
        o.scoped = scoped;
        let ev = Events::default();
        let res = sync(
            &o,
            SourceKind::Yaml,
            &s(&yaml),
            DestKind::Docker,
            &format!("{}/{prefix}", mine.host()),
            &ev,
        );
        let dest = format!("{}/{prefix}", theirs.host());
        let mut args = vec![
            "--src",
            "yaml",
            "--dest",
            "docker",
            "--dest-tls-verify=false",
        ];
        if scoped {
            args.push("--scoped");
        }
        let y = s(&yaml);
        args.extend([y.as_str(), dest.as_str()]);
        let out = skopeo_sync(&args);
        if scoped {
            // `host:port/…` inside a repository path is not a valid reference: both fail
            // on the first image, for the same reason.
            let e = chain(&res.expect_err("scoped sync with a port in the path"));
            assert!(
                e.contains("Cannot obtain a valid image reference for transport \"docker\""),
                "{e}"
            );
            assert!(e.contains("invalid reference format"), "{e}");
            let Some(out) = out else { return };
            assert!(!out.status.success());
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains("Cannot obtain a valid image reference for transport \\\"docker\\\""),
                "{err}"
            );
            continue;
        }
        let sum = res.ok_or_die("sync");
        assert_eq!((sum.images, sum.sources), (4, 2));
        let Some(out) = out else { return };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let repos = [format!("{prefix}/app"), format!("{prefix}/other")];
        for r in &repos {
            let a = tag_digests(&mine, r);
            assert!(!a.is_empty(), "nothing in {r}");
            assert_eq!(a, tag_digests(&theirs, r), "{r}");
        }
        assert!(digest(&mine, &repos[1], &d).is_some());
        assert_eq!(digest(&mine, &repos[1], &d), digest(&theirs, &repos[1], &d));
        let mut mine_lines: Vec<_> = ev
            .copying()
            .into_iter()
            .map(|(f, to)| (f, to.replace(&mine.host(), "DEST")))
            .collect();
        let mut their_lines: Vec<_> = skopeo_copying(&out.stderr)
            .into_iter()
            .map(|(f, to)| (f, to.replace(&theirs.host(), "DEST")))
            .collect();
        // skopeo walks the YAML maps in Go's random order; ferry in file order.
        mine_lines.sort();
        their_lines.sort();
        assert_eq!(mine_lines, their_lines);
    }
}

/// `--src dir --dest docker`: names from the walked paths, as skopeo computes them
/// (`/a/./tree` keeps its prefix, `tree/` does not), compared in dry-run mode.
#[test]
fn dir_source_names_match_skopeo() {
    let Some(reg) = Registry::start_or_skip() else {
        return;
    };
    let t = LowerTmp::new();
    seed(t.path(), "lay", 1, &TAGS[..2], &reg.host(), "ns/app");
    let tree = t.path().join("tree");
    let src = format!("{}/ns/app", reg.host());
    sync(
        &opts(),
        SourceKind::Docker,
        &src,
        DestKind::Dir,
        &s(&tree.join("sub")),
        &Events::default(),
    )
    .ok_or_die("sync to dir");
    fs_err::rename(tree.join("sub/app:1.0.0"), tree.join("top")).or_die("mv");
    let dest = format!("{}/fromdir", reg.host());
    let root = s(t.path());
    let bases = [
        (false, format!("{root}/tree")),
        (true, format!("{root}/tree")),
        (true, format!("{root}/./tree")),
        (true, format!("{root}/tree/")),
        (true, format!("{root}/tree/top")),
    ];
    for (scoped, base) in bases {
        let mut o = opts();
        o.scoped = scoped;
        o.dry_run = true;
        let ev = Events::default();
        sync(&o, SourceKind::Dir, &base, DestKind::Docker, &dest, &ev).ok_or_die("dry-run sync");
        let mut args = vec!["--dry-run", "--src", "dir", "--dest", "docker"];
        if scoped {
            args.push("--scoped");
        }
        args.extend([base.as_str(), dest.as_str()]);
        let Some(out) = skopeo_sync(&args) else {
            return;
        };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            ev.copying(),
            skopeo_copying(&out.stderr),
            "scoped={scoped} {base}"
        );
        assert!(!ev.copying().is_empty());
    }
}
