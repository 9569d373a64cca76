//! Progress reporting: the library emits events, the binary renders them.

use ferry_reference::Digest;

/// How a blob ended up at the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobOutcome {
    Copied,
    /// Already present at the destination ("skipped: already exists").
    Reused,
}

/// Receives progress events; every method has a no-op default.
pub trait Reporter: Send + Sync {
    /// "Getting image source signatures"
    fn getting_signatures(&self) {}
    /// "Getting image list signatures"
    fn getting_list_signatures(&self) {}
    /// "Copying N of M images in list"
    fn copying_list_instances(&self, _n: usize, _of: usize) {}
    /// "Copying image sha256:… (i/N)"
    fn copying_instance(&self, _digest: &Digest, _i: usize, _of: usize) {}
    /// A blob copy starts; returns an id for the following events.
    fn blob_started(&self, _digest: &Digest, _size: Option<u64>, _is_config: bool) -> usize {
        0
    }
    fn blob_progress(&self, _id: usize, _bytes: u64) {}
    fn blob_done(&self, _id: usize, _outcome: BlobOutcome) {}
    /// "Writing manifest to image destination"
    fn writing_manifest(&self) {}
    /// "Writing manifest list to image destination"
    fn writing_manifest_list(&self) {}
    /// "Storing signatures"
    fn storing_signatures(&self) {}
    /// "Storing list signatures"
    fn storing_list_signatures(&self) {}
    /// "Skipping: image already present at destination"
    fn skipping_existing(&self) {}
    /// A warning worth showing the user.
    fn warning(&self, _message: &str) {}
}

/// A reporter that reports nothing (`--quiet`, library callers).
pub struct NoReport;
impl Reporter for NoReport {}

/// One buffered progress event of an instance that is not shown live yet.
enum Event {
    GettingSignatures,
    GettingListSignatures,
    CopyingListInstances(usize, usize),
    CopyingInstance(Digest, usize, usize),
    BlobStarted(usize, Digest, Option<u64>, bool),
    BlobProgress(usize, u64),
    BlobDone(usize, BlobOutcome),
    WritingManifest,
    WritingManifestList,
    StoringSignatures,
    StoringListSignatures,
    SkippingExisting,
    Warning(String),
}

#[derive(Default)]
struct Slot {
    events: Vec<Event>,
    /// Local blob id → the inner reporter's id (once started there).
    ids: std::collections::HashMap<usize, usize>,
    next_local: usize,
    done: bool,
}

struct OrderState {
    live: usize,
    slots: Vec<Slot>,
}

/// Keeps the output of concurrently copied list instances readable: the first unfinished
/// instance reports live; the others are buffered (progress coalesced) and replayed, in
/// list order, as soon as every instance before them has finished. The result reads as
/// if the instances had been copied one after the other.
pub struct OrderedReporter<'a> {
    inner: &'a dyn Reporter,
    state: std::sync::Mutex<OrderState>,
}

impl<'a> OrderedReporter<'a> {
    pub fn new(inner: &'a dyn Reporter, slots: usize) -> OrderedReporter<'a> {
        OrderedReporter {
            inner,
            state: std::sync::Mutex::new(OrderState {
                live: 0,
                slots: (0..slots).map(|_| Slot::default()).collect(),
            }),
        }
    }

    /// The reporter for instance `slot` (0-based, in list order).
    pub fn slot(&self, slot: usize) -> SlotReporter<'_, 'a> {
        SlotReporter { parent: self, slot }
    }

    fn with<T>(&self, f: impl FnOnce(&mut OrderState) -> T) -> T {
        let mut g = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut g)
    }

    fn replay(inner: &dyn Reporter, slot: &mut Slot, event: Event) {
        match event {
            Event::GettingSignatures => inner.getting_signatures(),
            Event::GettingListSignatures => inner.getting_list_signatures(),
            Event::CopyingListInstances(n, of) => inner.copying_list_instances(n, of),
            Event::CopyingInstance(d, i, of) => inner.copying_instance(&d, i, of),
            Event::BlobStarted(local, d, size, cfg) => {
                let id = inner.blob_started(&d, size, cfg);
                slot.ids.insert(local, id);
            }
            Event::BlobProgress(local, n) => {
                if let Some(&id) = slot.ids.get(&local) {
                    inner.blob_progress(id, n);
                }
            }
            Event::BlobDone(local, o) => {
                if let Some(&id) = slot.ids.get(&local) {
                    inner.blob_done(id, o);
                }
            }
            Event::WritingManifest => inner.writing_manifest(),
            Event::WritingManifestList => inner.writing_manifest_list(),
            Event::StoringSignatures => inner.storing_signatures(),
            Event::StoringListSignatures => inner.storing_list_signatures(),
            Event::SkippingExisting => inner.skipping_existing(),
            Event::Warning(m) => inner.warning(&m),
        }
    }

    fn emit(&self, slot: usize, event: Event) {
        let inner = self.inner;
        self.with(|st| {
            let live = st.live == slot;
            let Some(s) = st.slots.get_mut(slot) else {
                return;
            };
            if live {
                Self::replay(inner, s, event);
            } else if let Event::BlobProgress(local, n) = event {
                // Coalesce: only the last running total matters.
                if let Some(Event::BlobProgress(l, m)) = s.events.last_mut()
                    && *l == local
                {
                    *m = n;
                } else {
                    s.events.push(Event::BlobProgress(local, n));
                }
            } else {
                s.events.push(event);
            }
        });
    }

    fn advance(&self, st: &mut OrderState) {
        let inner = self.inner;
        while let Some(s) = st.slots.get_mut(st.live) {
            for e in std::mem::take(&mut s.events) {
                Self::replay(inner, s, e);
            }
            if !s.done {
                break;
            }
            st.live += 1;
        }
    }

    /// Marks instance `slot` as finished, releasing the output of the next ones.
    pub fn finish(&self, slot: usize) {
        self.with(|st| {
            if let Some(s) = st.slots.get_mut(slot) {
                s.done = true;
            }
            self.advance(st);
        });
    }

    /// Replays whatever is still buffered (after an error stopped the copy).
    pub fn flush_all(&self) {
        self.with(|st| {
            for s in &mut st.slots {
                s.done = true;
            }
            self.advance(st);
        });
    }
}

/// The [`Reporter`] one instance of an [`OrderedReporter`] reports through.
pub struct SlotReporter<'p, 'a> {
    parent: &'p OrderedReporter<'a>,
    slot: usize,
}

impl Reporter for SlotReporter<'_, '_> {
    fn getting_signatures(&self) {
        self.parent.emit(self.slot, Event::GettingSignatures);
    }
    fn getting_list_signatures(&self) {
        self.parent.emit(self.slot, Event::GettingListSignatures);
    }
    fn copying_list_instances(&self, n: usize, of: usize) {
        self.parent
            .emit(self.slot, Event::CopyingListInstances(n, of));
    }
    fn copying_instance(&self, digest: &Digest, i: usize, of: usize) {
        self.parent
            .emit(self.slot, Event::CopyingInstance(digest.clone(), i, of));
    }
    fn blob_started(&self, digest: &Digest, size: Option<u64>, is_config: bool) -> usize {
        let local = self.parent.with(|st| {
            st.slots.get_mut(self.slot).map_or(0, |s| {
                s.next_local += 1;
                s.next_local - 1
            })
        });
        self.parent.emit(
            self.slot,
            Event::BlobStarted(local, digest.clone(), size, is_config),
        );
        local
    }
    fn blob_progress(&self, id: usize, bytes: u64) {
        self.parent.emit(self.slot, Event::BlobProgress(id, bytes));
    }
    fn blob_done(&self, id: usize, outcome: BlobOutcome) {
        self.parent.emit(self.slot, Event::BlobDone(id, outcome));
    }
    fn writing_manifest(&self) {
        self.parent.emit(self.slot, Event::WritingManifest);
    }
    fn writing_manifest_list(&self) {
        self.parent.emit(self.slot, Event::WritingManifestList);
    }
    fn storing_signatures(&self) {
        self.parent.emit(self.slot, Event::StoringSignatures);
    }
    fn storing_list_signatures(&self) {
        self.parent.emit(self.slot, Event::StoringListSignatures);
    }
    fn skipping_existing(&self) {
        self.parent.emit(self.slot, Event::SkippingExisting);
    }
    fn warning(&self, message: &str) {
        self.parent
            .emit(self.slot, Event::Warning(message.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Lines(Mutex<Vec<String>>, std::sync::atomic::AtomicUsize);
    impl Reporter for Lines {
        fn copying_instance(&self, d: &Digest, i: usize, of: usize) {
            self.0
                .lock()
                .unwrap()
                .push(format!("image {} {i}/{of}", d.short()));
        }
        fn blob_started(&self, d: &Digest, _: Option<u64>, _: bool) -> usize {
            self.0.lock().unwrap().push(format!("blob {}", d.short()));
            self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        }
        fn blob_progress(&self, id: usize, n: u64) {
            self.0.lock().unwrap().push(format!("progress {id} {n}"));
        }
        fn writing_manifest(&self) {
            self.0.lock().unwrap().push("manifest".into());
        }
    }

    #[test]
    fn later_instances_wait_for_earlier_ones() {
        let lines = Lines::default();
        let a = Digest::sha256_of(b"a");
        let b = Digest::sha256_of(b"b");
        let ordered = OrderedReporter::new(&lines, 2);
        let (s0, s1) = (ordered.slot(0), ordered.slot(1));
        s0.copying_instance(&a, 1, 2);
        s1.copying_instance(&b, 2, 2);
        let id1 = s1.blob_started(&b, None, false);
        s1.blob_progress(id1, 5);
        s1.blob_progress(id1, 9);
        let id0 = s0.blob_started(&a, None, false);
        s0.blob_progress(id0, 3);
        s1.writing_manifest();
        ordered.finish(1);
        // Instance 2 is done but still waits for instance 1.
        assert_eq!(lines.0.lock().unwrap().len(), 3);
        s0.writing_manifest();
        ordered.finish(0);
        let got = lines.0.lock().unwrap().clone();
        assert_eq!(
            got,
            vec![
                format!("image {} 1/2", a.short()),
                format!("blob {}", a.short()),
                "progress 0 3".to_string(),
                "manifest".to_string(),
                format!("image {} 2/2", b.short()),
                format!("blob {}", b.short()),
                "progress 1 9".to_string(),
                "manifest".to_string(),
            ]
        );
    }
}
