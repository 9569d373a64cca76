//! policy.json → [`Policy`], following containers/image's `policy_config.go`
//! (`paranoidUnmarshalJSONObject` and friends): keys are checked in file order, so the
//! first problem in the file is the one reported, with skopeo 1.9.3's wording.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ferry_reference::Named;

use super::json::{JVal, go_bytes, go_bytes_list, go_string, go_string_list, type_error};
use super::scope::is_valid_scope;
use super::{
    Fulcio, IdentityMatch, KeySource, KeyType, Pki, Policy, Requirement, SignedBy, SigstoreSigned,
};

type R<T> = Result<T, String>;

/// Parses a whole policy file.
pub(crate) fn parse_policy(data: &[u8]) -> R<Policy> {
    let root = JVal::parse(data)?;
    let mut default = None;
    let mut transports = BTreeMap::new();
    for_each_field(&root, &mut |key, value| match key {
        "default" => {
            default = Some(requirements(value)?);
            Ok(true)
        }
        "transports" => {
            transports = transports_map(value)?;
            Ok(true)
        }
        _ => Ok(false),
    })?;
    let default = default.ok_or("Default policy is missing")?;
    Ok(Policy {
        default,
        transports,
    })
}

/// `paranoidUnmarshalJSONObject`: `v` must be an object without duplicate keys; `f`
/// handles each entry in order and returns `false` for an unknown key.
fn for_each_field<'a>(v: &'a JVal, f: &mut dyn FnMut(&'a str, &'a JVal) -> R<bool>) -> R<()> {
    let JVal::Obj(entries) = v else {
        return Err(format!("JSON object expected, got \"{}\"", v.go_token()));
    };
    let mut seen = std::collections::HashSet::new();
    for (key, value) in entries {
        if !seen.insert(key.as_str()) {
            return Err(format!("Duplicate key \"{key}\""));
        }
        if !f(key, value)? {
            return Err(format!("Unknown key \"{key}\""));
        }
    }
    Ok(())
}

/// `paranoidUnmarshalJSONObjectExactFields`: exactly these keys, all present.
fn exact_fields<'a>(v: &'a JVal, names: &[&str]) -> R<Vec<&'a JVal>> {
    let mut found: Vec<Option<&'a JVal>> = vec![None; names.len()];
    for_each_field(v, &mut |key, value| {
        Ok(match names.iter().position(|n| *n == key) {
            Some(i) => {
                found[i] = Some(value);
                true
            }
            None => false,
        })
    })?;
    names
        .iter()
        .zip(found)
        .map(|(n, f)| f.ok_or_else(|| format!("Key \"{n}\" missing in a JSON object")))
        .collect()
}

fn transports_map(v: &JVal) -> R<BTreeMap<String, BTreeMap<String, Vec<Requirement>>>> {
    let mut res = BTreeMap::new();
    for_each_field(v, &mut |transport, scopes_val| {
        let mut scopes = BTreeMap::new();
        for_each_field(scopes_val, &mut |scope, reqs| {
            if !scope.is_empty() && !is_valid_scope(transport, scope) {
                return Ok(false);
            }
            scopes.insert(scope.to_string(), requirements(reqs)?);
            Ok(true)
        })?;
        res.insert(transport.to_string(), scopes);
        Ok(true)
    })?;
    Ok(res)
}

/// `PolicyRequirements.UnmarshalJSON`: a non-empty array.
fn requirements(v: &JVal) -> R<Vec<Requirement>> {
    let items = match v {
        JVal::Null => Vec::new(),
        JVal::Arr(items) => items.iter().collect(),
        other => return Err(type_error(other, "[]json.RawMessage")),
    };
    if items.is_empty() {
        return Err("List of verification policy requirements must not be empty".into());
    }
    items.into_iter().map(requirement).collect()
}

/// The `type` field as Go's case-insensitive, last-one-wins `json.Unmarshal` sees it.
fn loose_type(v: &JVal, go_type: &str, field_type: &str) -> R<String> {
    let entries = match v {
        JVal::Null => return Ok(String::new()),
        JVal::Obj(entries) => entries,
        other => return Err(type_error(other, go_type)),
    };
    let mut ty = String::new();
    for (k, val) in entries {
        if k.eq_ignore_ascii_case("type") {
            match val {
                JVal::Null => {}
                JVal::Str(s) => ty = s.clone(),
                other => {
                    return Err(format!(
                        "json: cannot unmarshal {} into Go struct field {field_type}",
                        other.kind()
                    ));
                }
            }
        }
    }
    Ok(ty)
}

fn requirement(v: &JVal) -> R<Requirement> {
    let ty = loose_type(
        v,
        "signature.prCommon",
        "prCommon.type of type signature.prTypeIdentifier",
    )?;
    match ty.as_str() {
        "insecureAcceptAnything" => {
            exact_fields(v, &["type"])?;
            Ok(Requirement::InsecureAcceptAnything)
        }
        "reject" => {
            exact_fields(v, &["type"])?;
            Ok(Requirement::Reject)
        }
        "signedBy" => signed_by(v).map(Requirement::SignedBy),
        "sigstoreSigned" => sigstore_signed(v).map(|s| Requirement::SigstoreSigned(Box::new(s))),
        "signedBaseLayer" => {
            let f = exact_fields(v, &["type", "baseLayerIdentity"])?;
            Ok(Requirement::SignedBaseLayer {
                base_layer_identity: identity_match(f[1])?,
            })
        }
        other => Err(format!("Unknown policy requirement type \"{other}\"")),
    }
}

fn signed_by(v: &JVal) -> R<SignedBy> {
    let mut key_type = String::new();
    let (mut key_path, mut key_paths, mut key_data) = (None, None, None);
    let mut identity = None;
    for_each_field(v, &mut |key, value| {
        match key {
            "type" => {}
            "keyType" => {
                key_type = go_string(value)?;
                if parse_key_type(&key_type).is_none() {
                    return Err(format!("Unrecognized keyType value \"{key_type}\""));
                }
            }
            "keyPath" => key_path = Some(go_string(value)?),
            "keyPaths" => key_paths = Some(go_string_list(value)?),
            "keyData" => key_data = Some(go_bytes(value)?),
            "signedIdentity" => identity = Some(value),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    let signed_identity = match identity {
        Some(i) => identity_match(i)?,
        None => IdentityMatch::default(),
    };
    match (key_path.is_some(), key_paths.is_some(), key_data.is_some()) {
        (false, false, false) => {
            return Err("Exactly one of keyPath, keyPaths and keyData must be specified, none of them present".into());
        }
        (true, false, false) | (false, true, false) | (false, false, true) => {}
        _ => {
            return Err("Exactly one of keyPath, keyPaths and keyData must be specified, more than one present".into());
        }
    }
    let key_type =
        parse_key_type(&key_type).ok_or_else(|| format!("invalid keyType \"{key_type}\""))?;
    // newPRSignedBy counts non-empty / non-nil sources.
    let keys = match (key_path, key_paths.flatten(), key_data.flatten()) {
        (Some(p), None, None) if !p.is_empty() => KeySource::Path(PathBuf::from(p)),
        (None, Some(ps), None) => KeySource::Paths(ps.into_iter().map(PathBuf::from).collect()),
        (None, None, Some(d)) => KeySource::Data(d),
        _ => {
            return Err("exactly one of keyPath, keyPaths and keyData must be specified".into());
        }
    };
    Ok(SignedBy {
        key_type,
        keys,
        signed_identity,
    })
}

fn parse_key_type(s: &str) -> Option<KeyType> {
    match s {
        "GPGKeys" => Some(KeyType::GpgKeys),
        "signedByGPGKeys" => Some(KeyType::SignedByGpgKeys),
        "X509Certificates" => Some(KeyType::X509Certificates),
        "signedByX509CAs" => Some(KeyType::SignedByX509Cas),
        _ => None,
    }
}

fn sigstore_signed(v: &JVal) -> R<SigstoreSigned> {
    let mut s = SigstoreSigned::default();
    let mut identity = None;
    for_each_field(v, &mut |key, value| {
        match key {
            "type" => {}
            "keyPath" => s.key_path = Some(PathBuf::from(go_string(value)?)),
            "keyPaths" => s.key_paths = Some(paths(go_string_list(value)?)),
            "keyData" => s.key_data = Some(go_bytes(value)?.unwrap_or_default()),
            "keyDatas" => s.key_datas = Some(go_bytes_list(value)?.unwrap_or_default()),
            "fulcio" => s.fulcio = Some(fulcio(value)?),
            "pki" => s.pki = Some(pki(value)?),
            "rekorPublicKeyPath" => {
                s.rekor_public_key_path = Some(PathBuf::from(go_string(value)?));
            }
            "rekorPublicKeyPaths" => {
                s.rekor_public_key_paths = Some(paths(go_string_list(value)?));
            }
            "rekorPublicKeyData" => {
                s.rekor_public_key_data = Some(go_bytes(value)?.unwrap_or_default());
            }
            "rekorPublicKeyDatas" => {
                s.rekor_public_key_datas = Some(go_bytes_list(value)?.unwrap_or_default());
            }
            "signedIdentity" => identity = Some(value),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    let sources = [
        s.key_path.is_some(),
        s.key_paths.is_some(),
        s.key_data.is_some(),
        s.key_datas.is_some(),
        s.fulcio.is_some(),
        s.pki.is_some(),
    ];
    match sources.iter().filter(|b| **b).count() {
        0 => return Err("At least one of keyPath and keyData must be specified".into()),
        1 => {}
        _ if sources == [true, false, true, false, false, false] => {
            return Err("keyPath and keyData cannot be used simultaneously".into());
        }
        _ => {
            return Err("exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio and pki must be specified".into());
        }
    }
    let rekor = [
        s.rekor_public_key_path.is_some(),
        s.rekor_public_key_paths.is_some(),
        s.rekor_public_key_data.is_some(),
        s.rekor_public_key_datas.is_some(),
    ];
    match rekor.iter().filter(|b| **b).count() {
        0 if s.fulcio.is_some() => {
            return Err("At least one of rekorPublicKeyPath, rekorPublicKeyPaths, rekorPublicKeyData and rekorPublicKeyDatas must be specified if fulcio is used".into());
        }
        0 | 1 => {}
        _ => {
            return Err("at most one of rekorPublicKeyPath, rekorPublicKeyPaths, rekorPublicKeyData and rekorPublicKeyDatas can be used simultaneously".into());
        }
    }
    s.signed_identity = match identity {
        Some(i) => identity_match(i)?,
        None => IdentityMatch::default(),
    };
    Ok(s)
}

fn paths(v: Option<Vec<String>>) -> Vec<PathBuf> {
    v.unwrap_or_default()
        .into_iter()
        .map(PathBuf::from)
        .collect()
}

fn fulcio(v: &JVal) -> R<Fulcio> {
    let mut f = Fulcio::default();
    let (mut issuer, mut email) = (None, None);
    for_each_field(v, &mut |key, value| {
        match key {
            "caPath" => f.ca_path = Some(PathBuf::from(go_string(value)?)),
            "caData" => f.ca_data = Some(go_bytes(value)?.unwrap_or_default()),
            "oidcIssuer" => issuer = Some(go_string(value)?),
            "subjectEmail" => email = Some(go_string(value)?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    match (f.ca_path.is_some(), f.ca_data.is_some()) {
        (false, false) => return Err("At least one of caPath and caData must be specified".into()),
        (true, true) => return Err("caPath and caData cannot be used simultaneously".into()),
        _ => {}
    }
    f.oidc_issuer = issuer
        .filter(|s| !s.is_empty())
        .ok_or("oidcIssuer not specified")?;
    f.subject_email = email
        .filter(|s| !s.is_empty())
        .ok_or("subjectEmail not specified")?;
    Ok(f)
}

fn pki(v: &JVal) -> R<Pki> {
    let mut p = Pki::default();
    for_each_field(v, &mut |key, value| {
        match key {
            "caRootsPath" => p.ca_roots_path = Some(PathBuf::from(go_string(value)?)),
            "caRootsData" => p.ca_roots_data = Some(go_bytes(value)?.unwrap_or_default()),
            "caIntermediatesPath" => {
                p.ca_intermediates_path = Some(PathBuf::from(go_string(value)?));
            }
            "caIntermediatesData" => {
                p.ca_intermediates_data = Some(go_bytes(value)?.unwrap_or_default());
            }
            "subjectEmail" => p.subject_email = Some(go_string(value)?),
            "subjectHostname" => p.subject_hostname = Some(go_string(value)?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    match (p.ca_roots_path.is_some(), p.ca_roots_data.is_some()) {
        (false, false) => {
            return Err("At least one of caRootsPath and caRootsData must be specified".into());
        }
        (true, true) => {
            return Err("caRootsPath and caRootsData cannot be used simultaneously".into());
        }
        _ => {}
    }
    if p.ca_intermediates_path.is_some() && p.ca_intermediates_data.is_some() {
        return Err(
            "caIntermediatesPath and caIntermediatesData cannot be used simultaneously".into(),
        );
    }
    if p.subject_email.as_deref().unwrap_or("").is_empty()
        && p.subject_hostname.as_deref().unwrap_or("").is_empty()
    {
        return Err("at least one of subjectEmail and subjectHostname must be specified".into());
    }
    Ok(p)
}

/// `newPolicyReferenceMatchFromJSON`.
fn identity_match(v: &JVal) -> R<IdentityMatch> {
    let ty = loose_type(
        v,
        "signature.prmCommon",
        "prmCommon.type of type signature.prmTypeIdentifier",
    )?;
    match ty.as_str() {
        "matchExact" | "matchRepoDigestOrExact" | "matchRepository" => {
            exact_fields(v, &["type"])?;
            Ok(match ty.as_str() {
                "matchExact" => IdentityMatch::MatchExact,
                "matchRepository" => IdentityMatch::MatchRepository,
                _ => IdentityMatch::MatchRepoDigestOrExact,
            })
        }
        "exactReference" => {
            let f = exact_fields(v, &["type", "dockerReference"])?;
            let s = go_string(f[1])?;
            let named = Named::parse_normalized(&s)
                .map_err(|e| format!("Invalid format of dockerReference {s}: {e}"))?;
            if named.is_name_only() {
                return Err(format!(
                    "dockerReference {s} contains neither a tag nor digest"
                ));
            }
            Ok(IdentityMatch::ExactReference {
                docker_reference: named,
            })
        }
        "exactRepository" => {
            let f = exact_fields(v, &["type", "dockerRepository"])?;
            let s = go_string(f[1])?;
            let named = Named::parse_normalized(&s)
                .map_err(|e| format!("Invalid format of dockerRepository {s}: {e}"))?;
            Ok(IdentityMatch::ExactRepository {
                docker_repository: named,
            })
        }
        "remapIdentity" => {
            let f = exact_fields(v, &["type", "prefix", "signedPrefix"])?;
            let prefix = go_string(f[1])?;
            let signed_prefix = go_string(f[2])?;
            for p in [&prefix, &signed_prefix] {
                if !is_remap_prefix(p) {
                    return Err(format!("prefix {p:?} is not valid"));
                }
            }
            Ok(IdentityMatch::RemapIdentity {
                prefix,
                signed_prefix,
            })
        }
        other => Err(format!("Unknown policy reference match type \"{other}\"")),
    }
}

/// `validateIdentityRemappingPrefix`: a host[:port] or a repository name without tag.
fn is_remap_prefix(s: &str) -> bool {
    let bare = |n: &Named| n.tag().is_none() && n.digest().is_none();
    if let Ok(n) = Named::parse_unnormalized(s)
        && bare(&n)
    {
        return true;
    }
    // A lone domain: "host[:port]/x" must split into exactly that domain.
    matches!(Named::parse_unnormalized(&format!("{s}/x")), Ok(n) if n.domain() == s && bare(&n))
}
