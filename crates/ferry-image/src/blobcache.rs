//! A persistent blob-info cache (skopeo's `blob-info-cache-v1`): which registry
//! repositories are known to hold a blob, and compressed ↔ uncompressed digest pairs.
//!
//! It lets a push mount a blob from *another* repository of the same registry (the
//! source repository is tried without any cache). Stored as JSON at
//! `$XDG_DATA_HOME/ferry/blob-info-cache.json` (`~/.local/share/…`; root:
//! `/var/lib/ferry/…`), capped in size, merged under a file lock and replaced atomically,
//! so concurrent ferry processes lose nothing. Any failure to read or write it only
//! disables the cache: it is a hint, never a source of truth (every mount is checked by
//! the registry, every blob is still verified).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Serialize};

/// Most locations remembered per digest, and most digests kept.
const MAX_LOCATIONS: usize = 16;
const MAX_DIGESTS: usize = 50_000;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Data {
    /// digest → ["registry/repo", …]
    #[serde(default)]
    locations: BTreeMap<String, Vec<String>>,
    /// compressed digest → uncompressed digest
    #[serde(default)]
    uncompressed: BTreeMap<String, String>,
}

/// The process-wide cache: loaded on first use, new facts saved by [`flush`].
struct Cache {
    path: Option<PathBuf>,
    data: Data,
    /// Facts learned by this process, merged into the file on flush.
    new_locations: BTreeSet<(String, String)>,
    new_pairs: BTreeMap<String, String>,
}

fn cache() -> &'static Mutex<Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(|| {
        let path = default_path();
        let data = path.as_ref().and_then(read).unwrap_or_default();
        Mutex::new(Cache {
            path,
            data,
            new_locations: BTreeSet::new(),
            new_pairs: BTreeMap::new(),
        })
    })
}

fn default_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("FERRY_BLOB_INFO_CACHE") {
        return (!p.is_empty()).then(|| PathBuf::from(p));
    }
    let data_home = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(data_home.join("ferry").join("blob-info-cache.json"))
}

fn read(path: &PathBuf) -> Option<Data> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Records that `registry/repo` holds `digest`.
pub fn record_location(digest: &str, registry: &str, repo: &str) {
    let Ok(mut c) = cache().lock() else { return };
    let loc = format!("{registry}/{repo}");
    let known = c
        .data
        .locations
        .get(digest)
        .is_some_and(|v| v.contains(&loc));
    if !known {
        c.data
            .locations
            .entry(digest.to_string())
            .or_default()
            .push(loc.clone());
        c.new_locations.insert((digest.to_string(), loc));
    }
}

/// Records that `compressed` decompresses to `uncompressed`.
pub fn record_uncompressed(compressed: &str, uncompressed: &str) {
    let Ok(mut c) = cache().lock() else { return };
    if c.data.uncompressed.get(compressed).map(String::as_str) != Some(uncompressed) {
        c.data
            .uncompressed
            .insert(compressed.to_string(), uncompressed.to_string());
        c.new_pairs
            .insert(compressed.to_string(), uncompressed.to_string());
    }
}

/// Repositories of `registry` (other than `except`) known to hold `digest`, newest first.
pub fn candidates(digest: &str, registry: &str, except: &str) -> Vec<String> {
    let Ok(c) = cache().lock() else {
        return Vec::new();
    };
    let prefix = format!("{registry}/");
    c.data
        .locations
        .get(digest)
        .map(|v| {
            v.iter()
                .rev()
                .filter_map(|l| l.strip_prefix(&prefix))
                .filter(|repo| *repo != except)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The uncompressed digest recorded for `compressed`, if any.
pub fn uncompressed_of(compressed: &str) -> Option<String> {
    let c = cache().lock().ok()?;
    c.data.uncompressed.get(compressed).cloned()
}

/// Merges this process's new facts into the cache file (under a lock, atomically).
pub fn flush() {
    let Ok(mut c) = cache().lock() else { return };
    if c.new_locations.is_empty() && c.new_pairs.is_empty() {
        return;
    }
    let Some(path) = c.path.clone() else { return };
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let Ok(lock) = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("blob-info-cache.lock"))
    else {
        return;
    };
    if lock.lock().is_err() {
        return;
    }
    let mut data = read(&path).unwrap_or_default();
    for (digest, loc) in &c.new_locations {
        let v = data.locations.entry(digest.clone()).or_default();
        v.retain(|l| l != loc);
        v.push(loc.clone());
        if v.len() > MAX_LOCATIONS {
            let cut = v.len() - MAX_LOCATIONS;
            v.drain(..cut);
        }
    }
    for (k, v) in &c.new_pairs {
        data.uncompressed.insert(k.clone(), v.clone());
    }
    if data.locations.len() > MAX_DIGESTS {
        // Crude but bounded: drop everything older by starting over with this run's facts.
        data.locations
            .retain(|d, _| c.new_locations.iter().any(|(nd, _)| nd == d));
    }
    if data.uncompressed.len() > MAX_DIGESTS {
        let keep = c.new_pairs.clone();
        data.uncompressed = keep;
    }
    if let Ok(bytes) = serde_json::to_vec(&data) {
        let tmp = dir.join(format!(".blob-info-cache.{}.tmp", std::process::id()));
        if std::fs::write(&tmp, bytes).is_ok() && std::fs::rename(&tmp, &path).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
    c.new_locations.clear();
    c.new_pairs.clear();
    let _ = lock.unlock();
}
