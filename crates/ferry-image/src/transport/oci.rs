//! `oci:` (OWNER: helper; skeleton).

use std::io::Read;

use ferry_reference::Digest;

use super::reference::OciRef;
use super::{DestinationProperties, ImageDestination, ImageSource};
use crate::context::SystemContext;
use crate::error::{Error, Result};
use crate::types::{BlobInfo, BlobReader, PutBlobInfo, RawManifest};

pub struct OciSource {}

impl OciSource {
    pub fn open(_r: &OciRef, _ctx: &SystemContext) -> Result<OciSource> {
        Err(Error::NotImplemented("oci: source".into()))
    }
}

impl ImageSource for OciSource {
    fn manifest(&self, _instance: Option<&Digest>) -> Result<RawManifest> {
        Err(Error::NotImplemented("oci: source".into()))
    }
    fn blob(&self, _info: &BlobInfo) -> Result<(BlobReader, Option<u64>)> {
        Err(Error::NotImplemented("oci: source".into()))
    }
}

pub struct OciDestination {
    props: DestinationProperties,
}

impl OciDestination {
    pub fn open(_r: &OciRef, _ctx: &SystemContext) -> Result<OciDestination> {
        Err(Error::NotImplemented("oci: destination".into()))
    }
}

impl ImageDestination for OciDestination {
    fn properties(&self) -> &DestinationProperties {
        &self.props
    }
    fn put_blob(&self, _data: &mut dyn Read, _info: &PutBlobInfo) -> Result<BlobInfo> {
        Err(Error::NotImplemented("oci: destination".into()))
    }
    fn put_manifest(&self, _m: &RawManifest, _instance: Option<&Digest>) -> Result<()> {
        Err(Error::NotImplemented("oci: destination".into()))
    }
    fn commit(self: Box<Self>) -> Result<()> {
        Err(Error::NotImplemented("oci: destination".into()))
    }
}

/// `skopeo delete oci:…`: removes the index entry and blobs nothing else references.
pub fn delete(_r: &OciRef, _ctx: &SystemContext) -> Result<()> {
    Err(Error::NotImplemented("delete oci:".into()))
}
