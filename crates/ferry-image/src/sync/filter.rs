//! Tag filters: `--include`/`--exclude` regular expressions (and the YAML `include`/
//! `exclude` keys). A tag passes when it matches at least one include pattern (if there
//! are any) and no exclude pattern. Patterns are searched, not anchored, like Go's
//! `MatchString` in skopeo's `images-by-tag-regex`: write `^…$` to match whole tags.

use regex::Regex;

use crate::error::{Error, Result};

/// A conjunction of include/exclude rules (several levels: CLI, registry, repository).
#[derive(Debug, Clone, Default)]
pub struct TagFilter {
    /// Each group: the tag must match one of its patterns.
    include: Vec<Vec<Regex>>,
    exclude: Vec<Regex>,
}

impl TagFilter {
    /// Compiles patterns given on the command line; errors name the pattern.
    pub fn new(include: &[String], exclude: &[String]) -> Result<TagFilter> {
        let compile = |what: &str, p: &String| {
            Regex::new(p).map_err(|e| {
                Error::Config(format!("invalid {what} pattern {p:?}: {}", regex_error(&e)))
            })
        };
        let inc = include
            .iter()
            .map(|p| compile("include", p))
            .collect::<Result<Vec<_>>>()?;
        let exc = exclude
            .iter()
            .map(|p| compile("exclude", p))
            .collect::<Result<Vec<_>>>()?;
        Ok(TagFilter::from_regexes(inc, exc))
    }

    pub fn from_regexes(include: Vec<Regex>, exclude: Vec<Regex>) -> TagFilter {
        TagFilter {
            include: if include.is_empty() {
                Vec::new()
            } else {
                vec![include]
            },
            exclude,
        }
    }

    /// Both filters must pass.
    pub fn and(mut self, other: TagFilter) -> TagFilter {
        self.include.extend(other.include);
        self.exclude.extend(other.exclude);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    pub fn passes(&self, tag: &str) -> bool {
        self.include
            .iter()
            .all(|group| group.iter().any(|r| r.is_match(tag)))
            && !self.exclude.iter().any(|r| r.is_match(tag))
    }
}

/// A regex error on one line: the reason without the pattern and caret drawing.
pub fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or(text.trim())
        .to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn include_exclude_levels() {
        let cli = TagFilter::new(&["^1\\.".into(), "^2\\.".into()], &["-rc".into()]).unwrap();
        assert!(cli.passes("1.2"));
        assert!(cli.passes("2.0"));
        assert!(!cli.passes("3.0"));
        assert!(!cli.passes("1.2-rc1"));
        let repo = TagFilter::new(&["\\.0$".into()], &[]).unwrap();
        let both = cli.and(repo);
        assert!(both.passes("2.0"));
        assert!(!both.passes("1.2"));
        assert!(TagFilter::default().passes("anything"));
        assert!(TagFilter::new(&["(".into()], &[]).is_err());
    }
}
