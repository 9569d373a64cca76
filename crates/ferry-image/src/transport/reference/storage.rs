//! `containers-storage:[[driver@]root[+runroot][:options]]{image-id|docker-ref[@image-id]}`
//! as containers/image 5.23 parses it (`storage_transport.go`), minus the store look-ups
//! that need an opened store: a bare 64-hex string is taken as a full image ID, and
//! truncated IDs are not expanded.

use std::path::PathBuf;

use ferry_reference::{Named, validate_go_digest};

use super::StorageRef;

const INVALID: &str = "invalid reference";

/// Parses the part after `containers-storage:`; errors are skopeo's texts.
pub(super) fn parse(within: &str) -> Result<StorageRef, String> {
    if within.is_empty() {
        return Err(format!("\"\" is an empty reference: {INVALID}"));
    }
    let mut r = StorageRef {
        driver: None,
        root: None,
        run_root: None,
        options: Vec::new(),
        named: None,
        id: None,
    };
    let mut rest = within;
    if let Some(after_bracket) = within.strip_prefix('[') {
        let Some(close) = after_bracket.find(']') else {
            return Err(INVALID.to_string());
        };
        let mut spec = &after_bracket[..close];
        rest = &after_bracket[close + 1..];
        match spec.split_once('@') {
            None if spec.is_empty() => return Err(INVALID.to_string()),
            None => {}
            Some((driver, s)) => {
                if driver.is_empty() || s.is_empty() {
                    return Err(INVALID.to_string());
                }
                r.driver = Some(driver.to_string());
                spec = s;
            }
        }
        if let Some((s, opts)) = spec.split_once(':') {
            r.options = opts.split(',').map(str::to_string).collect();
            spec = s;
        }
        if let Some((s, run_root)) = spec.split_once('+') {
            if !run_root.is_empty() {
                r.run_root = Some(PathBuf::from(run_root));
            }
            spec = s;
        }
        if !spec.is_empty() {
            r.root = Some(PathBuf::from(spec));
        }
        let not_abs = |p: &Option<PathBuf>| p.as_ref().is_some_and(|p| !p.is_absolute());
        if not_abs(&r.root) || not_abs(&r.run_root) {
            return Err("path name is not absolute".to_string());
        }
    }
    parse_store_reference(rest, r)
}

/// `ParseStoreReference`: `name[:tag][@digest][@id]`, `@id`, or a bare full ID.
fn parse_store_reference(reference: &str, mut r: StorageRef) -> Result<StorageRef, String> {
    if reference.is_empty() {
        return Err(format!("\"\" is an empty reference: {INVALID}"));
    }
    let mut name = reference;
    if let Some(split) = reference.rfind('@') {
        let possible_id = &reference[split + 1..];
        if possible_id.is_empty() {
            return Err(format!(
                "empty trailing digest or ID in {reference:?}: {INVALID}"
            ));
        }
        // A digest stays part of the name; anything else must be an image ID.
        if validate_go_digest(possible_id).is_err() {
            if !is_image_id(possible_id) {
                return Err(format!(
                    "{possible_id:?} does not look like an image ID or digest: {INVALID}"
                ));
            }
            r.id = Some(possible_id.to_string());
            name = &reference[..split];
        }
    }
    if r.id.is_none() && is_image_id(name) {
        r.id = Some(name.to_string());
        name = "";
    }
    if !name.is_empty() {
        let named = Named::parse_normalized(name)
            .map_err(|e| format!("parsing named reference {name:?}: {e}"))?;
        r.named = Some(named.tag_name_only());
    }
    if r.named.is_none() && r.id.is_none() {
        return Err(INVALID.to_string());
    }
    Ok(r)
}

/// A full image ID: 64 lower-case hex characters.
fn is_image_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

impl StorageRef {
    /// `[driver@root+runroot:options]` when a store was named, else `""`.
    pub fn store_spec(&self) -> String {
        if self.driver.is_none()
            && self.root.is_none()
            && self.run_root.is_none()
            && self.options.is_empty()
        {
            return String::new();
        }
        let mut s = format!(
            "[{}@{}+{}",
            self.driver.as_deref().unwrap_or(""),
            path_str(&self.root),
            path_str(&self.run_root)
        );
        if !self.options.is_empty() {
            s.push(':');
            s.push_str(&self.options.join(","));
        }
        s.push(']');
        s
    }

    /// `[driver@root]name@id`, as skopeo prints it (with the store spec only when given).
    pub fn string_within_transport(&self) -> String {
        let mut s = self.store_spec();
        self.push_name_and_id(&mut s);
        s
    }

    /// `[driver@root]`, the store part of policy scopes.
    fn policy_store_spec(&self) -> String {
        format!(
            "[{}@{}]",
            self.driver.as_deref().unwrap_or(""),
            path_str(&self.root)
        )
    }

    fn push_name_and_id(&self, s: &mut String) {
        if let Some(n) = &self.named {
            s.push_str(&n.to_string());
        }
        if let Some(id) = &self.id {
            s.push('@');
            s.push_str(id);
        }
    }

    /// `storageReference.PolicyConfigurationIdentity`.
    pub fn policy_configuration_identity(&self) -> String {
        let mut s = self.policy_store_spec();
        self.push_name_and_id(&mut s);
        s
    }

    /// `storageReference.PolicyConfigurationNamespaces`.
    pub fn policy_configuration_namespaces(&self) -> Vec<String> {
        let store = self.policy_store_spec();
        let mut res = Vec::new();
        if let Some(named) = &self.named {
            if self.id.is_some() {
                res.push(format!("{store}{named}"));
            }
            if let (Some(tag), Some(_)) = (named.tag(), named.digest()) {
                res.push(format!("{store}{}:{tag}", named.name()));
            }
            let name = named.name();
            let mut components: Vec<&str> = name.split('/').collect();
            while !components.is_empty() {
                res.push(format!("{store}{}", components.join("/")));
                components.pop();
            }
        }
        res.push(store);
        res.push(format!("[{}]", path_str(&self.root)));
        res
    }
}

fn path_str(p: &Option<PathBuf>) -> String {
    p.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}
