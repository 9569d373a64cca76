//! `dir:` — skopeo's directory layout (OWNER: dir/oci helper; skeleton).

use std::io::Read;

use ferry_reference::Digest;

use super::reference::DirRef;
use super::{DestinationProperties, ImageDestination, ImageSource};
use crate::context::SystemContext;
use crate::error::{Error, Result};
use crate::types::{BlobInfo, BlobReader, PutBlobInfo, RawManifest};

pub struct DirSource {}

impl DirSource {
    pub fn open(_r: &DirRef) -> Result<DirSource> {
        Err(Error::NotImplemented("dir: source".into()))
    }
}

impl ImageSource for DirSource {
    fn manifest(&self, _instance: Option<&Digest>) -> Result<RawManifest> {
        Err(Error::NotImplemented("dir: source".into()))
    }
    fn blob(&self, _info: &BlobInfo) -> Result<(BlobReader, Option<u64>)> {
        Err(Error::NotImplemented("dir: source".into()))
    }
}

pub struct DirDestination {
    props: DestinationProperties,
}

impl DirDestination {
    pub fn open(_r: &DirRef, _ctx: &SystemContext) -> Result<DirDestination> {
        Err(Error::NotImplemented("dir: destination".into()))
    }
}

impl ImageDestination for DirDestination {
    fn properties(&self) -> &DestinationProperties {
        &self.props
    }
    fn put_blob(&self, _data: &mut dyn Read, _info: &PutBlobInfo) -> Result<BlobInfo> {
        Err(Error::NotImplemented("dir: destination".into()))
    }
    fn put_manifest(&self, _m: &RawManifest, _instance: Option<&Digest>) -> Result<()> {
        Err(Error::NotImplemented("dir: destination".into()))
    }
    fn commit(self: Box<Self>) -> Result<()> {
        Err(Error::NotImplemented("dir: destination".into()))
    }
}
