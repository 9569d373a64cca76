//! `docker-archive:` (OWNER: helper; skeleton).

use std::io::Read;

use ferry_reference::Digest;

use super::reference::DockerArchiveRef;
use super::{DestinationProperties, ImageDestination, ImageSource};
use crate::context::SystemContext;
use crate::error::{Error, Result};
use crate::types::{BlobInfo, BlobReader, PutBlobInfo, RawManifest};

pub struct DockerArchiveSource {}

impl DockerArchiveSource {
    pub fn open(_r: &DockerArchiveRef, _ctx: &SystemContext) -> Result<DockerArchiveSource> {
        Err(Error::NotImplemented("docker-archive: source".into()))
    }
}

impl ImageSource for DockerArchiveSource {
    fn manifest(&self, _instance: Option<&Digest>) -> Result<RawManifest> {
        Err(Error::NotImplemented("docker-archive: source".into()))
    }
    fn blob(&self, _info: &BlobInfo) -> Result<(BlobReader, Option<u64>)> {
        Err(Error::NotImplemented("docker-archive: source".into()))
    }
}

pub struct DockerArchiveDestination {
    props: DestinationProperties,
}

impl DockerArchiveDestination {
    pub fn open(_r: &DockerArchiveRef, _ctx: &SystemContext) -> Result<DockerArchiveDestination> {
        Err(Error::NotImplemented("docker-archive: destination".into()))
    }
}

impl ImageDestination for DockerArchiveDestination {
    fn properties(&self) -> &DestinationProperties {
        &self.props
    }
    fn put_blob(&self, _data: &mut dyn Read, _info: &PutBlobInfo) -> Result<BlobInfo> {
        Err(Error::NotImplemented("docker-archive: destination".into()))
    }
    fn put_manifest(&self, _m: &RawManifest, _instance: Option<&Digest>) -> Result<()> {
        Err(Error::NotImplemented("docker-archive: destination".into()))
    }
    fn commit(self: Box<Self>) -> Result<()> {
        Err(Error::NotImplemented("docker-archive: destination".into()))
    }
}
