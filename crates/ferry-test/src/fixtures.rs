//! The standard test images, small and deterministic:
//! - `oci`: an OCI image, 4 gzip layers (text, symlinks, a hard link, a long path,
//!   incompressible random data, whiteouts and an opaque dir), indented manifest with
//!   annotations, labels, env and an empty-layer history step;
//! - `schema2`: a Docker v2 schema 2 image, 3 layers, `docker_version` set;
//! - `multiarch`: an OCI index over linux/amd64 and linux/arm64/v8 images sharing
//!   their first layer.
//!
//! Each is written as an OCI layout tagged `latest`; see [`crate::export`] for the other
//! transports' forms.

use std::io;
use std::path::Path;

use crate::image::{
    BuiltImage, ImageSpec, ListFormat, ManifestFormat, Platform, write_image, write_index,
};
use crate::layer::{Content, Entry, LayerSpec};
use crate::layout::{Descriptor, OciLayout};

/// The tag every fixture carries in its OCI layout.
pub const TAG: &str = "latest";

/// Which standard image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Oci,
    Schema2,
    Multiarch,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Oci, Kind::Schema2, Kind::Multiarch];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Oci => "oci",
            Kind::Schema2 => "schema2",
            Kind::Multiarch => "multiarch",
        }
    }

    pub fn from_name(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// A built standard image: its OCI layout and what was written into it.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub kind: Kind,
    /// The OCI layout directory (image tagged [`TAG`]).
    pub layout: OciLayout,
    /// Descriptor of the top-level manifest (an index for `multiarch`).
    pub top: Descriptor,
    pub top_bytes: Vec<u8>,
    /// The single-platform images (one, or one per platform).
    pub images: Vec<BuiltImage>,
}

impl Fixture {
    pub fn is_list(&self) -> bool {
        self.images.len() > 1 || self.top.digest != self.images[0].manifest.digest
    }

    /// The image a single-image copy picks on this (linux/amd64) host.
    pub fn host_image(&self) -> &BuiltImage {
        self.images
            .iter()
            .find(|i| i.platform.architecture == "amd64")
            .unwrap_or(&self.images[0])
    }
}

fn base_layer(seed: u64) -> LayerSpec {
    LayerSpec::new(
        "ADD rootfs /",
        vec![
            Entry::dir("bin"),
            Entry::exe(
                "bin/busybox",
                Content::Random {
                    len: 64 * 1024,
                    seed,
                },
            ),
            Entry::symlink("bin/sh", "busybox"),
            Entry::dir("etc"),
            Entry::file("etc/hostname", Content::text("ferry-test\n")),
            Entry::file("etc/motd", Content::text("welcome to a ferry test image\n")),
            Entry::file(
                "etc/os-release",
                Content::text("NAME=\"ferry-test\"\nID=ferrytest\nVERSION_ID=\"1\"\n"),
            ),
            Entry::dir("usr"),
            Entry::dir("usr/bin"),
            Entry::hardlink("usr/bin/busybox", "bin/busybox"),
            Entry::dir("var"),
            Entry::dir("var/cache"),
            Entry::dir("var/cache/apt"),
            Entry::file(
                "var/cache/apt/pkgcache.txt",
                Content::Text {
                    len: 32 * 1024,
                    seed: seed + 1,
                },
            ),
        ],
    )
}

/// The `oci` fixture's spec.
pub fn oci_spec() -> ImageSpec {
    let long = format!(
        "data/{}/file-with-a-long-path.txt",
        "nested-directory".repeat(8)
    );
    ImageSpec {
        format: ManifestFormat::Oci,
        layers: vec![
            base_layer(100),
            LayerSpec::new(
                "COPY data /data",
                vec![
                    Entry::dir("data"),
                    Entry::file(
                        "data/random.bin",
                        Content::Random {
                            len: 256 * 1024,
                            seed: 101,
                        },
                    ),
                    Entry::file(&long, Content::text("a path longer than 100 bytes\n")),
                ],
            ),
            LayerSpec::new(
                "COPY docs /usr/share/doc",
                vec![Entry::file(
                    "usr/share/doc/ferry/words.txt",
                    Content::Text {
                        len: 128 * 1024,
                        seed: 102,
                    },
                )],
            ),
            LayerSpec::new(
                "RUN rm /etc/motd && rm -rf /var/cache/apt/*",
                vec![
                    Entry::whiteout("etc/motd"),
                    Entry::opaque("var/cache/apt"),
                    Entry::file("var/cache/apt/fresh.txt", Content::text("fresh\n")),
                ],
            ),
        ],
        author: Some("ferry test harness".into()),
        env: vec![
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
            "FERRY_TEST=1".into(),
        ],
        labels: vec![
            (
                "org.opencontainers.image.title".into(),
                "ferry-test oci".into(),
            ),
            ("org.opencontainers.image.vendor".into(), "ferry".into()),
        ],
        empty_layer_steps: vec!["ENV FERRY_TEST=1".into()],
        annotations: vec![(
            "org.opencontainers.image.description".into(),
            "ferry test image".into(),
        )],
        pretty_manifest: true,
        ..ImageSpec::default()
    }
}

/// The `schema2` fixture's spec.
pub fn schema2_spec() -> ImageSpec {
    ImageSpec {
        format: ManifestFormat::Schema2,
        layers: vec![
            base_layer(200),
            LayerSpec::new(
                "COPY app /app",
                vec![
                    Entry::dir("app"),
                    Entry::exe(
                        "app/server",
                        Content::Random {
                            len: 128 * 1024,
                            seed: 201,
                        },
                    ),
                    Entry::file(
                        "app/README",
                        Content::Text {
                            len: 16 * 1024,
                            seed: 202,
                        },
                    ),
                ],
            ),
            LayerSpec::new("RUN rm /etc/motd", vec![Entry::whiteout("etc/motd")]),
        ],
        docker_version: Some("24.0.7".into()),
        labels: vec![("maintainer".into(), "ferry".into())],
        cmd: vec!["/app/server".into(), "--port".into(), "8080".into()],
        ..ImageSpec::default()
    }
}

/// The `multiarch` fixture's per-platform specs (amd64, arm64/v8).
pub fn multiarch_specs() -> Vec<ImageSpec> {
    let shared = LayerSpec::new(
        "ADD shared /",
        vec![Entry::file(
            "etc/shared.txt",
            Content::Text {
                len: 8 * 1024,
                seed: 300,
            },
        )],
    );
    [
        (Platform::linux_amd64(), 301),
        (Platform::linux_arm64_v8(), 302),
    ]
    .into_iter()
    .map(|(platform, seed)| {
        let arch = platform.architecture.clone();
        ImageSpec {
            layers: vec![
                shared.clone(),
                LayerSpec::new(
                    &format!("ADD busybox-{arch} /bin/busybox"),
                    vec![
                        Entry::dir("bin"),
                        Entry::exe(
                            "bin/busybox",
                            Content::Random {
                                len: 96 * 1024,
                                seed,
                            },
                        ),
                        Entry::file("etc/arch", Content::text(&format!("{arch}\n"))),
                    ],
                ),
            ],
            labels: vec![(
                "org.opencontainers.image.title".into(),
                format!("ferry-test {arch}"),
            )],
            platform,
            ..ImageSpec::default()
        }
    })
    .collect()
}

/// Builds a standard image as an OCI layout at `dir` (tagged [`TAG`]).
pub fn build(kind: Kind, dir: &Path) -> io::Result<Fixture> {
    let layout = OciLayout::create(dir)?;
    let (top, top_bytes, images) = match kind {
        Kind::Oci | Kind::Schema2 => {
            let spec = if kind == Kind::Oci {
                oci_spec()
            } else {
                schema2_spec()
            };
            let img = write_image(&layout, &spec)?;
            (img.manifest.clone(), img.manifest_bytes.clone(), vec![img])
        }
        Kind::Multiarch => {
            let images = multiarch_specs()
                .iter()
                .map(|s| write_image(&layout, s))
                .collect::<io::Result<Vec<_>>>()?;
            let idx = write_index(&layout, ListFormat::OciIndex, images, &[])?;
            (idx.manifest, idx.manifest_bytes, idx.images)
        }
    };
    layout.add_to_index(&top, Some(TAG))?;
    Ok(Fixture {
        kind,
        layout,
        top,
        top_bytes,
        images,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixtures_are_reproducible() -> io::Result<()> {
        let t = tempfile::tempdir()?;
        for k in Kind::ALL {
            let a = build(k, &t.path().join(format!("{}-a", k.name())))?;
            let b = build(k, &t.path().join(format!("{}-b", k.name())))?;
            assert_eq!(a.top, b.top, "{k:?}");
            assert_eq!(
                crate::tree::diff_trees(a.layout.root(), b.layout.root()),
                Ok(())
            );
            assert_eq!(a.is_list(), k == Kind::Multiarch);
        }
        Ok(())
    }
}
