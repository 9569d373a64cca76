//! Platform choice for manifest lists (c/image `internal/pkg/platform`, as in skopeo
//! 1.9.3): the wanted platforms in preference order, and how an entry matches one.
//!
//! Variant compatibility is c/image's: `arm` v8 > v7 > v6 > v5, `arm64` v8. There is no
//! amd64 microarchitecture table in c/image (checked against skopeo 1.9.3: an index with
//! only `amd64/v2` does not match `--override-arch amd64`), so none here either.

use crate::Platform;

/// Go's `runtime.GOOS` for this build.
pub fn host_os() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    }
}

/// Go's `runtime.GOARCH` for this build.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        "mips64" if cfg!(target_endian = "little") => "mips64le",
        "loongarch64" => "loong64",
        other => other,
    }
}

/// c/image `getCPUVariant` on Linux: the ARM variant from `/proc/cpuinfo`, `""` elsewhere.
pub fn host_variant() -> String {
    let arch = host_arch();
    if arch != "arm" && arch != "arm64" {
        return String::new();
    }
    let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") else {
        return String::new();
    };
    let Some(value) = info.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == "Cpu architecture").then(|| v.trim().to_string())
    }) else {
        return String::new();
    };
    arm_variant(&value).to_string()
}

fn arm_variant(cpu_architecture: &str) -> &'static str {
    match cpu_architecture.to_lowercase().as_str() {
        "8" | "aarch64" => "v8",
        "7" | "7m" | "?(12)" | "?(13)" | "?(14)" | "?(15)" | "?(16)" | "?(17)" => "v7",
        "6" | "6tej" => "v6",
        "5" | "5t" | "5te" | "5tej" => "v5",
        "4" | "4t" => "v4",
        "3" => "v3",
        _ => "unknown",
    }
}

fn compatibility(arch: &str) -> Option<&'static [&'static str]> {
    match arch {
        "arm" => Some(&["v8", "v7", "v6", "v5"]),
        "arm64" => Some(&["v8"]),
        _ => None,
    }
}

/// c/image `WantedPlatforms`: candidates, most specific first. `None` (or `""`) means the
/// host's value; the variant is only detected when the architecture is not overridden.
pub fn wanted_platforms(
    os: Option<&str>,
    arch: Option<&str>,
    variant: Option<&str>,
) -> Vec<Platform> {
    let given = |o: Option<&str>| o.filter(|s| !s.is_empty()).map(str::to_string);
    let (wanted_arch, detected) = match given(arch) {
        Some(a) => (a, String::new()),
        None => (host_arch().to_string(), host_variant()),
    };
    let wanted_variant = given(variant).unwrap_or(detected);
    let wanted_os = given(os).unwrap_or_else(|| host_os().to_string());
    let mut variants: Vec<String> = Vec::new();
    if !wanted_variant.is_empty() {
        if let Some(order) = compatibility(&wanted_arch)
            && let Some(i) = order.iter().position(|v| *v == wanted_variant)
        {
            variants = order[i..].iter().map(|v| v.to_string()).collect();
        }
        if variants.is_empty() {
            variants.push(wanted_variant);
        }
        variants.push(String::new());
    } else {
        variants.push(String::new());
        if let Some(order) = compatibility(&wanted_arch) {
            variants.extend(order.iter().map(|v| v.to_string()));
        }
    }
    variants
        .into_iter()
        .map(|variant| Platform {
            architecture: wanted_arch.clone(),
            os: wanted_os.clone(),
            variant,
            ..Platform::default()
        })
        .collect()
}

/// c/image `MatchesPlatform`: architecture, OS and variant equal (OS version and
/// features are ignored).
pub fn matches(image: &Platform, wanted: &Platform) -> bool {
    image.architecture == wanted.architecture
        && image.os == wanted.os
        && image.variant == wanted.variant
}

#[cfg(test)]
mod tests {
    use super::*;

    fn triples(v: Vec<Platform>) -> Vec<String> {
        v.into_iter()
            .map(|p| format!("{}/{}/{}", p.os, p.architecture, p.variant))
            .collect()
    }

    #[test]
    fn arm_variants_walk_down() {
        assert_eq!(
            triples(wanted_platforms(Some("linux"), Some("arm"), Some("v7"))),
            ["linux/arm/v7", "linux/arm/v6", "linux/arm/v5", "linux/arm/"]
        );
        assert_eq!(
            triples(wanted_platforms(Some("linux"), Some("arm"), None)),
            [
                "linux/arm/",
                "linux/arm/v8",
                "linux/arm/v7",
                "linux/arm/v6",
                "linux/arm/v5"
            ]
        );
        assert_eq!(
            triples(wanted_platforms(Some("linux"), Some("arm64"), Some("v8"))),
            ["linux/arm64/v8", "linux/arm64/"]
        );
        assert_eq!(
            triples(wanted_platforms(Some("linux"), Some("arm64"), None)),
            ["linux/arm64/", "linux/arm64/v8"]
        );
    }

    #[test]
    fn unknown_variants_and_amd64() {
        assert_eq!(
            triples(wanted_platforms(Some("linux"), Some("amd64"), Some("v3"))),
            ["linux/amd64/v3", "linux/amd64/"]
        );
        assert_eq!(
            triples(wanted_platforms(Some("windows"), Some("amd64"), None)),
            ["windows/amd64/"]
        );
        assert_eq!(
            triples(wanted_platforms(None, Some("s390x"), Some(""))),
            [format!("{}/s390x/", host_os())]
        );
    }

    #[test]
    fn host_defaults() {
        let w = wanted_platforms(None, None, None);
        assert_eq!(w[0].os, host_os());
        assert_eq!(w[0].architecture, host_arch());
        if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
            assert_eq!(triples(w), ["linux/amd64/"]);
        }
    }

    #[test]
    fn cpuinfo_variants() {
        assert_eq!(arm_variant("8"), "v8");
        assert_eq!(arm_variant("AArch64"), "v8");
        assert_eq!(arm_variant("7"), "v7");
        assert_eq!(arm_variant("6TEJ"), "v6");
        assert_eq!(arm_variant("x"), "unknown");
    }
}
