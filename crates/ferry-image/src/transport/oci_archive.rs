//! `oci-archive:` (OWNER: helper; skeleton).

use std::io::Read;

use ferry_reference::Digest;

use super::reference::OciArchiveRef;
use super::{DestinationProperties, ImageDestination, ImageSource};
use crate::context::SystemContext;
use crate::error::{Error, Result};
use crate::types::{BlobInfo, BlobReader, PutBlobInfo, RawManifest};

pub struct OciArchiveSource {}

impl OciArchiveSource {
    pub fn open(_r: &OciArchiveRef, _ctx: &SystemContext) -> Result<OciArchiveSource> {
        Err(Error::NotImplemented("oci-archive: source".into()))
    }
}

impl ImageSource for OciArchiveSource {
    fn manifest(&self, _instance: Option<&Digest>) -> Result<RawManifest> {
        Err(Error::NotImplemented("oci-archive: source".into()))
    }
    fn blob(&self, _info: &BlobInfo) -> Result<(BlobReader, Option<u64>)> {
        Err(Error::NotImplemented("oci-archive: source".into()))
    }
}

pub struct OciArchiveDestination {
    props: DestinationProperties,
}

impl OciArchiveDestination {
    pub fn open(_r: &OciArchiveRef, _ctx: &SystemContext) -> Result<OciArchiveDestination> {
        Err(Error::NotImplemented("oci-archive: destination".into()))
    }
}

impl ImageDestination for OciArchiveDestination {
    fn properties(&self) -> &DestinationProperties {
        &self.props
    }
    fn put_blob(&self, _data: &mut dyn Read, _info: &PutBlobInfo) -> Result<BlobInfo> {
        Err(Error::NotImplemented("oci-archive: destination".into()))
    }
    fn put_manifest(&self, _m: &RawManifest, _instance: Option<&Digest>) -> Result<()> {
        Err(Error::NotImplemented("oci-archive: destination".into()))
    }
    fn commit(self: Box<Self>) -> Result<()> {
        Err(Error::NotImplemented("oci-archive: destination".into()))
    }
}
