//! Masterminds/semver v3 (the library skopeo's `images-by-semver` uses): lenient version
//! parsing of tags and its constraint language, ported rule by rule so that the same
//! tags are selected.
//!
//! - Versions: `v?MAJOR[.MINOR[.PATCH]][-PRERELEASE][+METADATA]` (missing parts are 0).
//! - Constraints: `||` separates alternatives; within one, constraints are separated by
//!   `,` or spaces and all must hold. Operators: `=` (or none), `!=`, `>`, `<`, `>=`/`=>`,
//!   `<=`/`=<`, `~`/`~>` (patch-level changes), `^` (compatible with); `x`, `X`, `*` or a
//!   missing part are wildcards (`1.2.x`, `~1`, `^0.2`); `A - B` is `>= A, <= B`.
//! - A prerelease tag (`1.2.4-rc1`) only matches constraints that name a prerelease.
//!
//! The crate `semver` is not used: its `VersionReq` is Cargo's language (`1.2` means `^1.2`,
//! no `||`, no leading `v`, no missing version parts), which selects different tags.

use std::cmp::Ordering;
use std::sync::LazyLock;

use regex::Regex;

/// A version parsed as Masterminds' `NewVersion` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
}

const CV: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const SEMVER: &str = r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$";
/// Every operator (the order does not matter: a version never starts with one).
const OPS: &str = r"!=|=>|=<|>=|<=|~>|=|>|<|~|\^|";

fn re(pattern: String) -> Option<Regex> {
    Regex::new(&pattern).ok()
}

static VERSION_RE: LazyLock<Option<Regex>> = LazyLock::new(|| re(SEMVER.to_string()));
static CONSTRAINT_RE: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(format!(r"^\s*({OPS})\s*({CV})\s*$")));
static RANGE_RE: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(format!(r"\s*({CV})\s+-\s+({CV})\s*")));
static FIND_RE: LazyLock<Option<Regex>> = LazyLock::new(|| re(format!(r"({OPS})\s*({CV})")));
static VALID_RE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(format!(
        r"^(\s*({OPS})\s*({CV})\s*)((?:\s+|,\s*)({OPS})\s*({CV})\s*)*$"
    ))
});

fn regex(r: &'static LazyLock<Option<Regex>>) -> Result<&'static Regex, String> {
    r.as_ref()
        .ok_or_else(|| "internal error: invalid semver pattern".to_string())
}

impl Version {
    /// Masterminds' `NewVersion` (not `StrictNewVersion`).
    pub fn parse(s: &str) -> Result<Version, String> {
        let m = regex(&VERSION_RE)?
            .captures(s)
            .ok_or_else(|| format!("invalid semantic version {s:?}"))?;
        let num = |i: usize| -> Result<u64, String> {
            match m.get(i) {
                None => Ok(0),
                Some(g) => g
                    .as_str()
                    .trim_start_matches('.')
                    .parse()
                    .map_err(|e| format!("version {s:?}: error parsing version segment: {e}")),
            }
        };
        let v = Version {
            major: num(1)?,
            minor: num(2)?,
            patch: num(3)?,
            pre: m.get(5).map_or("", |g| g.as_str()).to_string(),
        };
        if !v.pre.is_empty() {
            validate_prerelease(&v.pre).map_err(|e| format!("version {s:?}: {e}"))?;
        }
        Ok(v)
    }

    fn compare(&self, o: &Version) -> Ordering {
        let c = (self.major, self.minor, self.patch).cmp(&(o.major, o.minor, o.patch));
        if c != Ordering::Equal {
            return c;
        }
        match (self.pre.is_empty(), o.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => compare_prerelease(&self.pre, &o.pre),
        }
    }
}

fn validate_prerelease(p: &str) -> Result<(), String> {
    for part in p.split('.') {
        if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            if part.len() > 1 && part.starts_with('0') {
                return Err("version segment starts with 0".into());
            }
        } else if !part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err("invalid prerelease string".into());
        }
    }
    Ok(())
}

fn compare_prerelease(a: &str, b: &str) -> Ordering {
    let pa: Vec<&str> = a.split('.').collect();
    let pb: Vec<&str> = b.split('.').collect();
    for i in 0..pa.len().max(pb.len()) {
        let x = pa.get(i).copied().unwrap_or("");
        let y = pb.get(i).copied().unwrap_or("");
        let d = compare_pre_part(x, y);
        if d != Ordering::Equal {
            return d;
        }
    }
    Ordering::Equal
}

fn compare_pre_part(s: &str, o: &str) -> Ordering {
    if s == o {
        return Ordering::Equal;
    }
    if s.is_empty() {
        return Ordering::Less;
    }
    if o.is_empty() {
        return Ordering::Greater;
    }
    match (s.parse::<u64>(), o.parse::<u64>()) {
        (Err(_), Err(_)) => {
            if s > o {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        // A number sorts before a string.
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Ok(a), Ok(b)) => {
            if a > b {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    TildeOrEqual,
    NotEqual,
    Greater,
    Less,
    GreaterEqual,
    LessEqual,
    Tilde,
    Caret,
}

#[derive(Debug, Clone)]
struct Constraint {
    op: Op,
    con: Version,
    minor_dirty: bool,
    patch_dirty: bool,
    dirty: bool,
}

/// A parsed constraint string: alternatives (`||`) of conjunctions.
#[derive(Debug, Clone)]
pub struct Constraints {
    alternatives: Vec<Vec<Constraint>>,
    source: String,
}

impl std::fmt::Display for Constraints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)
    }
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

/// `A - B` → `>= A, <= B` (Masterminds' `rewriteRange`).
fn rewrite_range(s: &str) -> Result<String, String> {
    let re = regex(&RANGE_RE)?;
    let mut out = s.to_string();
    for m in re.captures_iter(s) {
        let (Some(all), Some(a), Some(b)) = (m.get(0), m.get(1), m.get(11)) else {
            continue;
        };
        let t = format!(">= {}, <= {} ", a.as_str(), b.as_str());
        out = out.replacen(all.as_str(), &t, 1);
    }
    Ok(out)
}

impl Constraints {
    /// Masterminds' `NewConstraint`.
    pub fn parse(s: &str) -> Result<Constraints, String> {
        let rewritten = rewrite_range(s)?;
        let mut alternatives = Vec::new();
        for part in rewritten.split("||") {
            if !regex(&VALID_RE)?.is_match(part) {
                return Err(format!("improper constraint: {part}"));
            }
            let mut found: Vec<&str> = regex(&FIND_RE)?
                .find_iter(part)
                .map(|m| m.as_str())
                .collect();
            if found.is_empty() {
                found.push(part);
            }
            alternatives.push(
                found
                    .into_iter()
                    .map(parse_constraint)
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
        Ok(Constraints {
            alternatives,
            source: s.to_string(),
        })
    }

    /// Whether `v` satisfies one of the alternatives.
    pub fn check(&self, v: &Version) -> bool {
        self.alternatives
            .iter()
            .any(|all| all.iter().all(|c| c.check(v)))
    }
}

fn parse_constraint(c: &str) -> Result<Constraint, String> {
    let m = regex(&CONSTRAINT_RE)?
        .captures(c)
        .ok_or_else(|| format!("improper constraint: {c}"))?;
    let g = |i: usize| m.get(i).map_or("", |x| x.as_str());
    let op = match g(1) {
        "" | "=" => Op::TildeOrEqual,
        "!=" => Op::NotEqual,
        ">" => Op::Greater,
        "<" => Op::Less,
        ">=" | "=>" => Op::GreaterEqual,
        "<=" | "=<" => Op::LessEqual,
        "~" | "~>" => Op::Tilde,
        "^" => Op::Caret,
        other => return Err(format!("improper constraint operator {other:?}")),
    };
    let (major, minor, patch, pre) = (g(3), g(4), g(5), g(6));
    let (mut minor_dirty, mut patch_dirty, mut dirty) = (false, false, false);
    let ver = if is_x(major) || major.is_empty() {
        dirty = true;
        format!("0.0.0{pre}")
    } else if is_x(minor.trim_start_matches('.')) || minor.is_empty() {
        minor_dirty = true;
        dirty = true;
        format!("{major}.0.0{pre}")
    } else if is_x(patch.trim_start_matches('.')) || patch.is_empty() {
        dirty = true;
        patch_dirty = true;
        format!("{major}{minor}.0{pre}")
    } else {
        g(2).to_string()
    };
    let con = Version::parse(&ver).map_err(|_| format!("improper constraint: {c}"))?;
    Ok(Constraint {
        op,
        con,
        minor_dirty,
        patch_dirty,
        dirty,
    })
}

impl Constraint {
    fn check(&self, v: &Version) -> bool {
        let c = &self.con;
        // A prerelease only matches constraints that ask for prereleases (issue 21).
        let pre_mismatch = !v.pre.is_empty() && c.pre.is_empty();
        match self.op {
            Op::NotEqual => {
                if self.dirty {
                    if pre_mismatch {
                        return false;
                    }
                    if c.major != v.major {
                        return true;
                    }
                    if c.minor != v.minor && !self.minor_dirty {
                        return true;
                    } else if self.minor_dirty {
                        return false;
                    } else if c.patch != v.patch && !self.patch_dirty {
                        return true;
                    } else if self.patch_dirty {
                        if !v.pre.is_empty() || !c.pre.is_empty() {
                            return compare_prerelease(&v.pre, &c.pre) != Ordering::Equal;
                        }
                        return false;
                    }
                }
                v.compare(c) != Ordering::Equal
            }
            _ if pre_mismatch => false,
            Op::Greater => {
                if !self.dirty {
                    return v.compare(c) == Ordering::Greater;
                }
                if v.major != c.major {
                    return v.major > c.major;
                }
                if self.minor_dirty {
                    return false;
                }
                if self.patch_dirty {
                    return v.minor > c.minor;
                }
                v.compare(c) == Ordering::Greater
            }
            Op::Less => v.compare(c) == Ordering::Less,
            Op::GreaterEqual => v.compare(c) != Ordering::Less,
            Op::LessEqual => {
                if !self.dirty {
                    return v.compare(c) != Ordering::Greater;
                }
                if v.major > c.major {
                    return false;
                }
                !(v.major == c.major && v.minor > c.minor && !self.minor_dirty)
            }
            Op::Tilde => self.tilde(v),
            Op::TildeOrEqual => {
                if self.dirty {
                    self.tilde(v)
                } else {
                    v.compare(c) == Ordering::Equal
                }
            }
            Op::Caret => {
                if v.compare(c) == Ordering::Less {
                    return false;
                }
                if c.major > 0 || self.minor_dirty {
                    return v.major == c.major;
                }
                if v.major > 0 {
                    return false;
                }
                if c.minor > 0 || self.patch_dirty {
                    return v.minor == c.minor;
                }
                if v.minor > 0 {
                    return false;
                }
                c.patch == v.patch
            }
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        // ~0.0.0 accepts everything (>= 0.0.0).
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        if v.major != c.major {
            return false;
        }
        v.minor == c.minor || self.minor_dirty
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sel(constraint: &str, tags: &[&str]) -> Vec<String> {
        let c = Constraints::parse(constraint).unwrap();
        tags.iter()
            .filter(|t| Version::parse(t).is_ok_and(|v| c.check(&v)))
            .map(|t| t.to_string())
            .collect()
    }

    const TAGS: &[&str] = &[
        "1.0.0",
        "1.2.3",
        "1.2.4-rc1",
        "1.3",
        "2.0.0",
        "v3.1",
        "3.12.0",
        "3.14.2",
        "0.2.5",
        "0.3.0",
        "0.0.3",
        "latest",
        "1.2.x",
        "01.2.3",
    ];

    #[test]
    fn versions_parse_leniently() {
        let v = Version::parse("v3.1").unwrap();
        assert_eq!((v.major, v.minor, v.patch), (3, 1, 0));
        assert!(Version::parse("latest").is_err());
        assert!(Version::parse("1.2.3.4").is_err());
        assert!(Version::parse("1.2.3-01").is_err());
        assert!(Version::parse("1.2.3-rc.1+build.5").is_ok());
        assert!(Version::parse("01.2.3").is_ok());
    }

    #[test]
    fn ordering_follows_semver() {
        let ord = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ];
        for w in ord.windows(2) {
            let (a, b) = (Version::parse(w[0]).unwrap(), Version::parse(w[1]).unwrap());
            assert_eq!(a.compare(&b), Ordering::Less, "{} < {}", w[0], w[1]);
        }
    }

    #[test]
    fn comparison_operators() {
        assert_eq!(sel(">= 3.12.0", TAGS), ["3.12.0", "3.14.2"]);
        assert_eq!(sel(">=1.2, <2", TAGS), ["1.2.3", "1.3", "01.2.3"]);
        assert_eq!(sel(">= 1.2 < 2", TAGS), ["1.2.3", "1.3", "01.2.3"]);
        assert_eq!(
            sel("> 1.2", TAGS),
            ["1.3", "2.0.0", "v3.1", "3.12.0", "3.14.2"]
        );
        assert_eq!(sel(">1", TAGS), ["2.0.0", "v3.1", "3.12.0", "3.14.2"]);
        assert_eq!(
            sel("<= 1.2", TAGS),
            ["1.0.0", "1.2.3", "0.2.5", "0.3.0", "0.0.3", "01.2.3"]
        );
        assert_eq!(
            sel("!= 1.2.3, < 1.3", TAGS),
            ["1.0.0", "0.2.5", "0.3.0", "0.0.3"]
        );
        assert_eq!(sel("=1.2.3", TAGS), ["1.2.3", "01.2.3"]);
        assert_eq!(sel("1.2.3", TAGS), ["1.2.3", "01.2.3"]);
    }

    #[test]
    fn wildcards_tilde_caret() {
        assert_eq!(sel("1.x", TAGS), ["1.0.0", "1.2.3", "1.3", "01.2.3"]);
        assert_eq!(sel("1.2.*", TAGS), ["1.2.3", "01.2.3"]);
        assert_eq!(sel("~1.2", TAGS), ["1.2.3", "01.2.3"]);
        assert_eq!(sel("~1", TAGS), ["1.0.0", "1.2.3", "1.3", "01.2.3"]);
        assert_eq!(sel("~> 3.12.0", TAGS), ["3.12.0"]);
        assert_eq!(sel("^1", TAGS), ["1.0.0", "1.2.3", "1.3", "01.2.3"]);
        assert_eq!(sel("^1.2.3", TAGS), ["1.2.3", "1.3", "01.2.3"]);
        assert_eq!(sel("^0.2", TAGS), ["0.2.5"]);
        assert_eq!(sel("^0.0.3", TAGS), ["0.0.3"]);
        assert_eq!(sel("*", TAGS).len(), 11);
    }

    #[test]
    fn ranges_and_alternatives() {
        assert_eq!(sel("1.2 - 2", TAGS), ["1.2.3", "1.3", "2.0.0", "01.2.3"]);
        assert_eq!(sel("^0.2 || >= 3.14", TAGS), ["3.14.2", "0.2.5"]);
        assert_eq!(
            sel("< 1 || > 3.13", TAGS),
            ["3.14.2", "0.2.5", "0.3.0", "0.0.3"]
        );
    }

    #[test]
    fn prereleases_need_a_prerelease_constraint() {
        assert!(!sel(">= 1.0", TAGS).contains(&"1.2.4-rc1".to_string()));
        assert_eq!(sel(">= 1.2.4-rc0, <= 1.2.4-rc9", TAGS), ["1.2.4-rc1"]);
        assert!(sel(">= 1.2.4-rc0, < 1.2.4", TAGS).is_empty());
        assert!(sel("!= 9.0.0", TAGS).contains(&"1.2.4-rc1".to_string()));
        assert!(!sel("!= 9", TAGS).contains(&"1.2.4-rc1".to_string()));
    }

    #[test]
    fn bad_constraints_are_rejected() {
        for bad in ["", ">= abc", "=> > 1", "1.2.3.4", ">=1,,<2", "latest"] {
            assert!(Constraints::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
