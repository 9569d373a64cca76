//! The copy matrix: every test image through every source × destination pair of local
//! transports (dir, oci, oci-archive, docker-archive). Each destination is read back by
//! ferry *and* by skopeo and checked against the fixture: same config bytes, same layer
//! contents, the right manifest type, and the exact bytes where nothing had to change.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use ferry_test::fixtures::Kind;
use ferry_test::sources::Transport;
use support::*;

fn pair(kind: Kind, src: Transport, dst: Transport) {
    let tmp = scratch();
    let s = sources(kind, tmp.path());
    let src_ref = source(&s, src);
    let dst_path = dst.path_in(tmp.path(), "dest");
    let dst_ref = dst.reference(&dst_path, Some("copied"));
    let all = copies_whole_list(&s, src, dst);
    copy(ferry(), all, &src_ref, &dst_ref);

    let want = expectation(&s, src, dst);
    let what = format!("{} image, {} -> {}", kind.name(), src.name(), dst.name());
    let back = read_back(ferry(), all, &dst_ref, &tmp.path().join("back-ferry"));
    ok_or_fail(
        &format!("{what}, read back by ferry"),
        check_image(&back, &s.fixture, &want),
    );
    if ferry_test::require_skopeo() {
        let back = read_back(
            ferry_test::skopeo(),
            all,
            &dst_ref,
            &tmp.path().join("back-skopeo"),
        );
        ok_or_fail(
            &format!("{what}, read back by skopeo"),
            check_image(&back, &s.fixture, &want),
        );
    }
}

macro_rules! to_every_destination {
    ($kind:expr, $src:expr) => {
        #[test]
        fn to_dir() {
            super::pair($kind, $src, Transport::Dir);
        }
        #[test]
        fn to_oci() {
            super::pair($kind, $src, Transport::Oci);
        }
        #[test]
        fn to_oci_archive() {
            super::pair($kind, $src, Transport::OciArchive);
        }
        #[test]
        fn to_docker_archive() {
            super::pair($kind, $src, Transport::DockerArchive);
        }
    };
}

macro_rules! from {
    ($kind:expr; $($module:ident = $src:expr),+) => {
        $(
            mod $module {
                use super::*;
                to_every_destination!($kind, $src);
            }
        )+
    };
}

/// The OCI image (4 layers).
mod oci {
    use super::*;
    from!(Kind::Oci; from_dir = Transport::Dir, from_oci = Transport::Oci,
          from_oci_archive = Transport::OciArchive, from_docker_archive = Transport::DockerArchive);
}

/// The Docker schema 2 image: it has no oci:/oci-archive: form (see `source_available`).
mod schema2 {
    use super::*;
    from!(Kind::Schema2; from_dir = Transport::Dir, from_docker_archive = Transport::DockerArchive);
}

/// The amd64 + arm64/v8 index: `--all` where the destination holds lists, else amd64.
mod multiarch {
    use super::*;
    from!(Kind::Multiarch; from_dir = Transport::Dir, from_oci = Transport::Oci,
          from_oci_archive = Transport::OciArchive, from_docker_archive = Transport::DockerArchive);
}
