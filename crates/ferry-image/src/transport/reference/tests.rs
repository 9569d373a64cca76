//! Unit tests for transport references; expected texts were checked against skopeo 1.9.3.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;

use super::*;

const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const ID: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

fn parse(s: &str) -> ImageRef {
    match parse_image_name(s) {
        Ok(r) => r,
        Err(e) => panic!("{s}: {e}"),
    }
}

fn err(s: &str) -> String {
    match parse_image_name(s) {
        Ok(r) => panic!("{s} parsed as {r:?}"),
        Err(e) => e.to_string(),
    }
}

/// A temp dir with its canonical path (tmp may be a symlink).
fn tmp() -> (tempfile::TempDir, String) {
    let t = tempfile::tempdir().unwrap();
    let c = std::fs::canonicalize(t.path()).unwrap();
    (t, c.display().to_string())
}

#[test]
fn transport_prefix() {
    assert_eq!(
        err("foo"),
        "Invalid image name \"foo\", expected colon-separated transport:reference"
    );
    assert_eq!(
        err("bar:x"),
        "Invalid image name \"bar:x\", unknown transport \"bar\""
    );
    assert_eq!(
        err("atomic:foo"),
        "Invalid image name \"atomic:foo\", unknown transport \"atomic\""
    );
    assert_eq!(
        err("ostree:x"),
        "The transport \"ostree:\" is not supported in this build"
    );
}

#[test]
fn docker_valid() {
    let r = parse("docker://busybox");
    assert_eq!(r.to_string(), "docker://busybox:latest");
    let n = r.docker_reference().unwrap();
    assert_eq!(n.to_string(), "docker.io/library/busybox:latest");
    let r = parse("docker://localhost:5000/a/b:t");
    assert_eq!(r.string_within_transport(), "//localhost:5000/a/b:t");
    let r = parse(&format!("docker://quay.io/x@sha256:{HEX}"));
    assert_eq!(r.to_string(), format!("docker://quay.io/x@sha256:{HEX}"));
    assert_eq!(r.docker_reference().unwrap().tag(), None);
    assert_eq!(
        parse("docker://index.docker.io/foo/bar").to_string(),
        "docker://foo/bar:latest"
    );
}

#[test]
fn docker_invalid() {
    assert_eq!(
        err("docker:busybox"),
        "docker: image reference busybox does not start with //"
    );
    assert_eq!(
        err("docker://Busybox"),
        "invalid reference format: repository name must be lowercase"
    );
    assert_eq!(err("docker://"), "invalid reference format");
    assert_eq!(
        err(&format!("docker://a:t@sha256:{HEX}")),
        "Docker references with both a tag and digest are currently not supported"
    );
    assert_eq!(
        err(&format!("docker://{HEX}")),
        format!("invalid repository name ({HEX}), cannot specify 64-byte hexadecimal strings")
    );
}

#[test]
fn docker_policy_scopes() {
    let r = parse("docker://127.0.0.1:5087/foo/bar:t");
    assert_eq!(
        r.policy_configuration_identity(),
        "127.0.0.1:5087/foo/bar:t"
    );
    assert_eq!(
        r.policy_configuration_namespaces(),
        [
            "127.0.0.1:5087/foo/bar",
            "127.0.0.1:5087/foo",
            "127.0.0.1:5087",
            "*.0.0.1",
            "*.0.1",
            "*.1"
        ]
    );
    let r = parse("docker://busybox");
    assert_eq!(
        r.policy_configuration_identity(),
        "docker.io/library/busybox:latest"
    );
    assert_eq!(
        r.policy_configuration_namespaces(),
        [
            "docker.io/library/busybox",
            "docker.io/library",
            "docker.io",
            "*.io"
        ]
    );
    let r = parse(&format!("docker://localhost/x@sha256:{HEX}"));
    assert_eq!(
        r.policy_configuration_identity(),
        format!("localhost/x@sha256:{HEX}")
    );
    assert_eq!(
        r.policy_configuration_namespaces(),
        ["localhost/x", "localhost"]
    );
}

#[test]
fn docker_archive() {
    let r = parse("docker-archive:/x/a.tar");
    assert_eq!(r.to_string(), "docker-archive:/x/a.tar");
    assert!(r.docker_reference().is_none());
    let r = parse("docker-archive:a.tar:foo:bar");
    assert_eq!(
        r.to_string(),
        "docker-archive:a.tar:docker.io/library/foo:bar"
    );
    let r = parse("docker-archive:a.tar:foo");
    assert_eq!(
        r.docker_reference().unwrap().to_string(),
        "docker.io/library/foo:latest"
    );
    let r = parse("docker-archive:a.tar:@+1");
    assert_eq!(r.string_within_transport(), "a.tar:@1");
    let ImageRef::DockerArchive(d) = &r else {
        panic!("{r:?}")
    };
    assert_eq!(d.index, Some(1));
    assert_eq!(r.policy_configuration_identity(), "");
    assert!(r.policy_configuration_namespaces().is_empty());
}

#[test]
fn docker_archive_invalid() {
    assert_eq!(
        err("docker-archive:"),
        "docker-archive reference  isn't of the form <path>[:<reference>]"
    );
    assert_eq!(
        err("docker-archive:/x:@"),
        "Invalid source index @: strconv.Atoi: parsing \"\": invalid syntax"
    );
    assert_eq!(
        err("docker-archive:/x:@abc"),
        "Invalid source index @abc: strconv.Atoi: parsing \"abc\": invalid syntax"
    );
    assert_eq!(
        err("docker-archive:/x:@-1"),
        "Invalid source index @-1: must not be negative"
    );
    assert_eq!(
        err("docker-archive:/x:@99999999999999999999999"),
        "Invalid source index @99999999999999999999999: strconv.Atoi: parsing \"99999999999999999999999\": value out of range"
    );
    assert_eq!(
        err("docker-archive:/x:Busybox"),
        "docker-archive parsing reference: invalid reference format: repository name must be lowercase"
    );
    assert_eq!(
        err(&format!("docker-archive:/x:busybox@sha256:{HEX}")),
        format!("reference does not include a tag: docker.io/library/busybox@sha256:{HEX}")
    );
    assert_eq!(
        err(&format!("docker-archive:/x:busybox:t@sha256:{HEX}")),
        format!(
            "docker-archive doesn't support digest references: docker.io/library/busybox:t@sha256:{HEX}"
        )
    );
    assert_eq!(
        err("docker-archive:/x:"),
        "docker-archive parsing reference: invalid reference format"
    );
}

#[test]
fn docker_daemon() {
    let r = parse("docker-daemon:foo:bar");
    assert_eq!(r.to_string(), "docker-daemon:foo:bar");
    assert_eq!(
        r.policy_configuration_identity(),
        "docker.io/library/foo:bar"
    );
    assert_eq!(
        r.policy_configuration_namespaces()[0],
        "docker.io/library/foo"
    );
    let r = parse(&format!("docker-daemon:sha256:{HEX}"));
    assert_eq!(r.to_string(), format!("docker-daemon:sha256:{HEX}"));
    assert!(r.docker_reference().is_none());
    assert_eq!(r.policy_configuration_identity(), "");
    assert!(r.policy_configuration_namespaces().is_empty());

    assert_eq!(err("docker-daemon:"), "invalid reference format");
    assert_eq!(
        err("docker-daemon:busybox"),
        "docker-daemon: reference busybox has neither a tag nor a digest"
    );
    assert_eq!(
        err("docker-daemon:sha256:abc"),
        "Invalid docker-daemon: reference sha256:abc: The sha256 repository name is reserved for (non-shortened) digest references"
    );
    assert_eq!(
        err("docker-daemon:sha256"),
        "Invalid docker-daemon: reference sha256: The sha256 repository name is reserved for (non-shortened) digest references"
    );
    assert_eq!(
        err(&format!("docker-daemon:sha512:{HEX}{HEX}")),
        format!(
            "Invalid docker-daemon: reference sha512:{HEX}{HEX}: only digest algorithm sha256 accepted"
        )
    );
    assert_eq!(
        err(&format!("docker-daemon:busybox:t@sha256:{HEX}")),
        "docker-daemon: references with both a tag and digest are currently not supported"
    );
    assert_eq!(
        err(&format!("docker-daemon:{HEX}")),
        format!("invalid repository name ({HEX}), cannot specify 64-byte hexadecimal strings")
    );
}

#[test]
fn dir() {
    let (_t, base) = tmp();
    let r = parse(&format!("dir:{base}/img"));
    assert_eq!(r.to_string(), format!("dir:{base}/img"));
    assert_eq!(r.policy_configuration_identity(), format!("{base}/img"));
    let ns = r.policy_configuration_namespaces();
    assert_eq!(ns[0], base);
    assert!(!ns.contains(&"/".to_string()));
    // Non-canonical input keeps its spelling but resolves for policy.
    let r = parse(&format!("dir:{base}/./x/../img"));
    assert_eq!(r.string_within_transport(), format!("{base}/./x/../img"));
    assert_eq!(r.policy_configuration_identity(), format!("{base}/img"));
    assert_eq!(
        err(&format!("dir:{base}/./new/")),
        format!("lstat {base}/new: no such file or directory")
    );

    assert_eq!(
        err("dir:/nonexistent-ferry/a/b"),
        "lstat /nonexistent-ferry: no such file or directory"
    );
    std::fs::write(format!("{base}/file1"), b"x").unwrap();
    assert_eq!(
        err(&format!("dir:{base}/file1/x")),
        format!("lstat {base}/file1/x: not a directory")
    );
}

#[test]
fn oci() {
    let (_t, base) = tmp();
    let r = parse(&format!("oci:{base}/l:tag1"));
    let ImageRef::Oci(o) = &r else {
        panic!("{r:?}")
    };
    assert_eq!(o.name.as_deref(), Some("tag1"));
    assert_eq!(o.index, None);
    assert_eq!(o.dir, Path::new(&format!("{base}/l")));
    assert_eq!(r.to_string(), format!("oci:{base}/l:tag1"));
    // The ref name is not part of the policy identity.
    assert_eq!(r.policy_configuration_identity(), format!("{base}/l"));
    let ns = r.policy_configuration_namespaces();
    assert_eq!(ns[0], format!("{base}/l"));
    assert_eq!(ns[1], base);

    let r = parse(&format!("oci:{base}/l"));
    assert_eq!(r.to_string(), format!("oci:{base}/l:"));
    let r = parse(&format!("oci:{base}/l:"));
    assert_eq!(r.to_string(), format!("oci:{base}/l:"));
    let r = parse(&format!("oci:{base}/l:a:b"));
    let ImageRef::Oci(o) = &r else {
        panic!("{r:?}")
    };
    assert_eq!(o.name.as_deref(), Some("a:b"));
    for ok in ["a--b", "a/b", "A.b_c@d+e", "v1.0"] {
        parse(&format!("oci:{base}/l:{ok}"));
    }
    let r = parse(&format!("oci:{base}/l:@3"));
    let ImageRef::Oci(o) = &r else {
        panic!("{r:?}")
    };
    assert_eq!((o.name.as_deref(), o.index), (None, Some(3)));
    assert_eq!(r.to_string(), format!("oci:{base}/l:@3"));

    for bad in ["Bad Ref", "-a", "a---b", "a//b", "a/", "a-.b"] {
        assert_eq!(
            err(&format!("oci:{base}/l:{bad}")),
            format!("Invalid image {bad}")
        );
    }
    assert_eq!(
        err(&format!("oci:{base}/l:@x")),
        "Invalid source index @x: not an integer: strconv.Atoi: parsing \"x\": invalid syntax"
    );
    assert_eq!(
        err(&format!("oci:{base}/l:@-2")),
        "Invalid source index @-2: must not be negative"
    );
    assert_eq!(
        err("oci:/nonexistent-ferry/a:tag"),
        "lstat /nonexistent-ferry: no such file or directory"
    );
}

#[test]
fn oci_archive() {
    let (_t, base) = tmp();
    let r = parse(&format!("oci-archive:{base}/a.tar:tag2"));
    let ImageRef::OciArchive(o) = &r else {
        panic!("{r:?}")
    };
    assert_eq!(o.name.as_deref(), Some("tag2"));
    assert_eq!(r.to_string(), format!("oci-archive:{base}/a.tar:tag2"));
    assert_eq!(r.policy_configuration_identity(), format!("{base}/a.tar"));
    assert_eq!(
        r.policy_configuration_namespaces()[0],
        format!("{base}/a.tar")
    );
    assert_eq!(
        err(&format!("oci-archive:{base}/a.tar:@1x")),
        "Invalid source index @1x: not an integer: strconv.Atoi: parsing \"1x\": invalid syntax"
    );
    assert_eq!(
        err(&format!("oci-archive:{base}/a.tar:B c")),
        "Invalid image B c"
    );
}

#[test]
fn sif_and_tarball() {
    let (_t, base) = tmp();
    let r = parse(&format!("sif:{base}/x.sif"));
    assert_eq!(r.to_string(), format!("sif:{base}/x.sif"));
    assert_eq!(r.policy_configuration_identity(), format!("{base}/x.sif"));
    assert_eq!(r.policy_configuration_namespaces()[0], base);
    assert_eq!(
        err("sif:/nonexistent-ferry/x"),
        "lstat /nonexistent-ferry: no such file or directory"
    );

    std::fs::write(format!("{base}/l1"), b"x").unwrap();
    std::fs::write(format!("{base}/l2"), b"x").unwrap();
    let r = parse(&format!("tarball:{base}/l1:{base}/l2:-"));
    let ImageRef::Tarball(files) = &r else {
        panic!("{r:?}")
    };
    assert_eq!(files.len(), 3);
    assert_eq!(r.to_string(), format!("tarball:{base}/l1:{base}/l2:-"));
    assert_eq!(r.policy_configuration_identity(), "");
    assert!(r.policy_configuration_namespaces().is_empty());
    assert_eq!(
        err("tarball:"),
        "error opening \"\": open : no such file or directory"
    );
    assert_eq!(
        err(&format!("tarball:{base}/l1:/nonexistent-ferry")),
        "error opening \"/nonexistent-ferry\": open /nonexistent-ferry: no such file or directory"
    );
}

#[test]
fn containers_storage_valid() {
    let s = "[vfs@/st+/run]";
    let r = parse(&format!("containers-storage:{s}busybox"));
    let ImageRef::ContainersStorage(c) = &r else {
        panic!("{r:?}")
    };
    assert_eq!(c.driver.as_deref(), Some("vfs"));
    assert_eq!(c.root.as_deref(), Some(Path::new("/st")));
    assert_eq!(c.run_root.as_deref(), Some(Path::new("/run")));
    assert_eq!(c.id, None);
    assert_eq!(
        r.to_string(),
        "containers-storage:[vfs@/st+/run]docker.io/library/busybox:latest"
    );
    assert_eq!(
        r.policy_configuration_identity(),
        "[vfs@/st]docker.io/library/busybox:latest"
    );
    assert_eq!(
        r.policy_configuration_namespaces(),
        [
            "[vfs@/st]docker.io/library/busybox",
            "[vfs@/st]docker.io/library",
            "[vfs@/st]docker.io",
            "[vfs@/st]",
            "[/st]"
        ]
    );

    let r = parse(&format!(
        "containers-storage:[overlay@/st:a=b,c=d]q.io/x:t@sha256:{HEX}@{ID}"
    ));
    let ImageRef::ContainersStorage(c) = &r else {
        panic!("{r:?}")
    };
    assert_eq!(c.options, ["a=b", "c=d"]);
    assert_eq!(c.id.as_deref(), Some(ID));
    assert_eq!(
        r.string_within_transport(),
        format!("[overlay@/st+:a=b,c=d]q.io/x:t@sha256:{HEX}@{ID}")
    );
    assert_eq!(
        r.policy_configuration_namespaces()[..2],
        [
            format!("[overlay@/st]q.io/x:t@sha256:{HEX}"),
            "[overlay@/st]q.io/x:t".to_string()
        ]
    );

    let r = parse(&format!("containers-storage:@{ID}"));
    let ImageRef::ContainersStorage(c) = &r else {
        panic!("{r:?}")
    };
    assert_eq!((c.named.as_ref(), c.id.as_deref()), (None, Some(ID)));
    assert_eq!(r.string_within_transport(), format!("@{ID}"));
    let r = parse(&format!("containers-storage:{ID}"));
    let ImageRef::ContainersStorage(c) = &r else {
        panic!("{r:?}")
    };
    assert_eq!(c.id.as_deref(), Some(ID));
    let r = parse(&format!("containers-storage:busybox@sha512:{HEX}{HEX}"));
    assert!(r.docker_reference().unwrap().digest().is_some());
    let r = parse("containers-storage:[/st]busybox:1");
    let ImageRef::ContainersStorage(c) = &r else {
        panic!("{r:?}")
    };
    assert_eq!(
        (c.driver.as_deref(), c.root.as_deref()),
        (None, Some(Path::new("/st")))
    );
}

#[test]
fn containers_storage_invalid() {
    let e = |x: &str| err(&format!("containers-storage:{x}"));
    assert_eq!(e(""), "\"\" is an empty reference: invalid reference");
    assert_eq!(e("["), "invalid reference");
    assert_eq!(e("[]busybox"), "invalid reference");
    assert_eq!(e("[@/x]busybox"), "invalid reference");
    assert_eq!(e("[vfs@]busybox"), "invalid reference");
    assert_eq!(e("[vfs@rel]busybox:t"), "path name is not absolute");
    assert_eq!(e("[vfs@/st+rel]busybox:t"), "path name is not absolute");
    assert_eq!(
        e("[vfs@/st]"),
        "\"\" is an empty reference: invalid reference"
    );
    assert_eq!(
        e("[vfs@/st]busybox@"),
        "empty trailing digest or ID in \"busybox@\": invalid reference"
    );
    assert_eq!(
        e("busybox@xyz"),
        "\"xyz\" does not look like an image ID or digest: invalid reference"
    );
    assert_eq!(
        e("busybox@md5:abc"),
        "\"md5:abc\" does not look like an image ID or digest: invalid reference"
    );
    assert_eq!(
        e("Busybox"),
        "parsing named reference \"Busybox\": invalid reference format: repository name must be lowercase"
    );
    assert_eq!(
        e(&format!("busybox@@{ID}")),
        "parsing named reference \"busybox@\": invalid reference format"
    );
    assert_eq!(
        e(&format!("busybox@sha256:abc@{ID}")),
        "parsing named reference \"busybox@sha256:abc\": invalid reference format"
    );
}
