//! Copying manifest lists (c/image `copyMultipleImages`): the instance for this
//! platform (`--multi-arch system`), every instance (`--all`), none (`index-only`) or
//! those of some platforms (`--multi-arch os/arch,…`, every variant), copied
//! concurrently with a bounded number of blobs in flight, then the list (converted,
//! updated, or stripped of the platforms not copied with `--strip-removed-platforms`).
//! Lists nested in lists are copied whole (c/image cannot).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ferry_manifest::{Descriptor, Manifest, ManifestList, mime};
use ferry_reference::Digest;

use super::engine::Engine;
use super::plan;
use super::report::{OrderedReporter, Reporter};
use super::{ListSelection, ManifestFormat};
use crate::error::{Error, Result};
use crate::types::RawManifest;

impl Engine<'_> {
    /// Copies the top-level list `top` according to `--all` / `--multi-arch`.
    pub fn copy_list(&self, top: RawManifest, rep: &dyn Reporter) -> Result<RawManifest> {
        let list = parse_list(&top)?;
        let Some(list) = list else {
            return self.copy_single(top, false, rep);
        };
        if self.opts.list_selection == ListSelection::System {
            return self.copy_system_instance(list, rep);
        }
        self.copy_list_as(top, list, false, &self.opts.list_selection, rep)
    }

    /// A list found as an instance of a list: copied whole, written by digest.
    pub fn copy_nested_list(&self, m: RawManifest, rep: &dyn Reporter) -> Result<RawManifest> {
        match parse_list(&m)? {
            Some(list) => self.copy_list_as(m, list, true, &ListSelection::All, rep),
            None => self.copy_single(m, true, rep),
        }
    }

    /// `--multi-arch system`: the instance matching the (overridden) platform, copied
    /// as a single image (descending into nested lists).
    fn copy_system_instance(
        &self,
        mut list: ManifestList,
        rep: &dyn Reporter,
    ) -> Result<RawManifest> {
        let (os, arch, variant) = self.wanted_platform();
        loop {
            let chosen = list
                .choose_instance(os.as_deref(), arch.as_deref(), variant.as_deref())
                .map_err(|e| {
                    Error::Other(format!(
                        "choosing an image from manifest list {}: {e}",
                        self.src_ref
                    ))
                })?
                .clone();
            let m = self.src.manifest(Some(&chosen.digest))?;
            match parse_list(&m)? {
                Some(inner) => list = inner,
                None => return self.copy_single(m, false, rep),
            }
        }
    }

    fn copy_list_as(
        &self,
        top: RawManifest,
        list: ManifestList,
        as_instance: bool,
        selection: &ListSelection,
        rep: &dyn Reporter,
    ) -> Result<RawManifest> {
        if !self.props.supports_lists {
            return Err(Error::Unsupported(format!(
                "destination transport {:?} does not support copying multiple images as a group",
                self.dest_ref.transport_name()
            )));
        }
        let own_digest = if as_instance {
            Some(top.digest().map_err(|e| Error::manifest("list", e))?)
        } else {
            None
        };
        let sigs = self.source_signatures(own_digest.as_ref(), true, rep)?;
        let cannot_modify = self.cannot_modify(!sigs.is_empty());
        let strip = self.extra.strip_removed_platforms && !as_instance;
        if strip && let Some(reason) = cannot_modify {
            return Err(Error::Unsupported(format!(
                "Cannot strip the platforms that are not copied from the manifest list: {reason}"
            )));
        }
        let forced = self.opts.format.map(|f| match f {
            ManifestFormat::Oci => mime::OCI_INDEX,
            ManifestFormat::V2s2 | ManifestFormat::V2s1 => mime::DOCKER_V2_LIST,
        });
        let supported = self.props.supported_manifest_types.as_deref();
        let list_plan = plan::list_conversion(&top.mime, supported, forced).map_err(|e| {
            Error::Unsupported(format!(
                "determining manifest list type to write to destination: {e}"
            ))
        })?;
        if list_plan.preferred != top.mime
            && let Some(reason) = cannot_modify
        {
            return Err(Error::Unsupported(format!(
                "Manifest list must be converted to type {:?} to be written to destination, but we cannot modify it: {reason:?}",
                list_plan.preferred
            )));
        }

        let instances: Vec<Descriptor> = list.instances().to_vec();
        let selected = select_instances(&list, selection)?;
        rep.copying_list_instances(selected.len(), instances.len());
        let written = self.copy_instances(&instances, &selected, rep)?;

        let mut updated = instances.clone();
        for (i, m) in &written {
            let d = &mut updated[*i];
            d.digest = m.digest().map_err(|e| Error::manifest("instance", e))?;
            d.size = m.bytes.len() as i64;
            d.media_type = m.mime.clone();
        }
        if strip {
            updated = selected.iter().map(|&i| updated[i].clone()).collect();
        }

        let mut candidates = vec![list_plan.preferred.clone()];
        candidates.extend(list_plan.fallbacks.iter().cloned());
        rep.writing_manifest_list();
        // c/image tries every candidate whatever the error, and reports them all.
        let mut errors: Vec<String> = Vec::new();
        for target in &candidates {
            let bytes = if *target == top.mime && updated == instances {
                top.bytes.clone()
            } else {
                list.to_format(target, &updated)
                    .map_err(|e| Error::manifest("list", e))?
            };
            if bytes != top.bytes
                && let Some(reason) = cannot_modify
            {
                return Err(Error::Unsupported(format!(
                    "Manifest list must be converted to type {target:?} to be written to destination, but we cannot modify it: {reason:?}"
                )));
            }
            let out = RawManifest::new(bytes, target.clone());
            let inst = if as_instance {
                Some(out.digest().map_err(|e| Error::manifest("list", e))?)
            } else {
                None
            };
            match self.dest.put_manifest(&out, inst.as_ref()) {
                Ok(()) => {
                    rep.storing_list_signatures();
                    self.dest.put_signatures(&sigs, inst.as_ref())?;
                    return Ok(out);
                }
                Err(e) => errors.push(format!("{target}({e})")),
            }
        }
        Err(Error::Other(format!(
            "Uploading manifest list failed, attempted the following formats: {}",
            errors.join(", ")
        )))
    }

    /// Copies the selected instances (indices into `instances`) concurrently, reporting
    /// as if one after the other. Returns (index, manifest as written) in list order.
    fn copy_instances(
        &self,
        instances: &[Descriptor],
        selected: &[usize],
        rep: &dyn Reporter,
    ) -> Result<Vec<(usize, RawManifest)>> {
        let n = selected.len();
        let threads = if self.props.parallel_put_blob {
            self.parallel_limit().min(n).max(1)
        } else {
            1
        };
        let ordered = OrderedReporter::new(rep, n);
        let results: Mutex<Vec<Option<Result<RawManifest>>>> =
            Mutex::new((0..n).map(|_| None).collect());
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let work = || {
            loop {
                if failed.load(Ordering::Relaxed) {
                    return;
                }
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&i) = selected.get(k) else { return };
                let digest: &Digest = &instances[i].digest;
                let slot = ordered.slot(k);
                slot.copying_instance(digest, k + 1, n);
                let r = self
                    .src
                    .manifest(Some(digest))
                    .and_then(|m| self.copy_single(m, true, &slot))
                    .map_err(|e| {
                        if e.is_not_found() {
                            e
                        } else {
                            Error::Other(format!(
                                "copying image {}/{n} from manifest list: {e}",
                                k + 1
                            ))
                        }
                    });
                ordered.finish(k);
                if r.is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
                if let Ok(mut g) = results.lock() {
                    g[k] = Some(r);
                }
            }
        };
        if threads == 1 {
            work();
        } else {
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(work);
                }
            });
        }
        ordered.flush_all();
        let results = results
            .into_inner()
            .map_err(|_| Error::Other("an image copy thread panicked".into()))?;
        let mut out = Vec::with_capacity(n);
        for (k, r) in results.into_iter().enumerate() {
            match r {
                Some(Ok(m)) => out.push((selected[k], m)),
                Some(Err(e)) => return Err(e),
                None => {}
            }
        }
        if out.len() != n {
            return Err(Error::Other("an image copy did not finish".into()));
        }
        Ok(out)
    }
}

fn parse_list(m: &RawManifest) -> Result<Option<ManifestList>> {
    match ferry_manifest::parse(&m.bytes, &m.mime).map_err(|e| Error::manifest("list", e))? {
        Manifest::List(l) => Ok(Some(l)),
        Manifest::Image(_) => Ok(None),
    }
}

/// The indices of the instances to copy, in list order. A platform that matches no
/// instance is an error (c/image `determineSpecificImages`).
pub(super) fn select_instances(
    list: &ManifestList,
    selection: &ListSelection,
) -> Result<Vec<usize>> {
    let instances = list.instances();
    match selection {
        ListSelection::All | ListSelection::System => Ok((0..instances.len()).collect()),
        ListSelection::IndexOnly => Ok(Vec::new()),
        ListSelection::Platforms(platforms) => {
            let what = if list.mime == mime::OCI_INDEX {
                "image index"
            } else {
                "manifest list"
            };
            let mut keep = vec![false; instances.len()];
            for (os, arch) in platforms {
                let mut found = false;
                for (i, d) in instances.iter().enumerate() {
                    if d.platform
                        .as_ref()
                        .is_some_and(|p| p.os == *os && p.architecture == *arch)
                    {
                        keep[i] = true;
                        found = true;
                    }
                }
                if !found {
                    return Err(Error::Other(format!(
                        "finding instance for platform {os}/{arch}: no image found in {what} for architecture {arch}, variant \"\", OS {os}"
                    )));
                }
            }
            Ok((0..instances.len()).filter(|&i| keep[i]).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> ManifestList {
        let d = |n: u8, p: &str| {
            let parts: Vec<&str> = p.split('/').collect();
            format!(
                r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{}","size":1,"platform":{{"os":"{}","architecture":"{}"{}}}}}"#,
                format!("{n:02x}").repeat(32),
                parts[0],
                parts[1],
                parts
                    .get(2)
                    .map(|v| format!(r#","variant":"{v}""#))
                    .unwrap_or_default()
            )
        };
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{},{},{},{}]}}"#,
            d(1, "linux/amd64"),
            d(2, "linux/arm/v6"),
            d(3, "linux/arm64/v8"),
            d(4, "linux/arm/v7")
        );
        match ferry_manifest::parse(body.as_bytes(), mime::OCI_INDEX) {
            Ok(Manifest::List(l)) => l,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn selections() {
        let l = index();
        let p = |v: &[(&str, &str)]| {
            ListSelection::Platforms(
                v.iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect(),
            )
        };
        assert_eq!(
            select_instances(&l, &ListSelection::All).unwrap(),
            [0, 1, 2, 3]
        );
        assert!(
            select_instances(&l, &ListSelection::IndexOnly)
                .unwrap()
                .is_empty()
        );
        // Every variant of a platform, in list order whatever the request order.
        assert_eq!(
            select_instances(&l, &p(&[("linux", "arm")])).unwrap(),
            [1, 3]
        );
        assert_eq!(
            select_instances(&l, &p(&[("linux", "arm64"), ("linux", "amd64")])).unwrap(),
            [0, 2]
        );
        let e = select_instances(&l, &p(&[("linux", "amd64"), ("linux", "s390x")]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "finding instance for platform linux/s390x: no image found in image index for architecture s390x, variant \"\", OS linux"
        );
    }
}
