//! Registry connections shared by a whole sync run: one [`Registry`] per (settings,
//! host, access), so `/v2/` is pinged once per registry and tokens are reused, instead
//! of once per image as separate `copy` runs would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ferry_config::registries::RegistriesConf;
use ferry_reference::Named;
use ferry_registry::{Access, Registry};

use crate::context::SystemContext;
use crate::error::{Error, Result};
use crate::transport::docker::{connect, registries_conf};

/// Which settings a connection uses: the destination's, or one source context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Dest,
    Source(usize),
}

#[derive(Default)]
pub struct Connections {
    regs: Mutex<HashMap<(Side, String, u8), Registry>>,
    confs: Mutex<HashMap<Side, Arc<RegistriesConf>>>,
}

fn access_key(a: Access) -> u8 {
    match a {
        Access::Pull => 0,
        Access::Push => 1,
        Access::Delete => 2,
    }
}

impl Connections {
    fn conf(&self, side: Side, ctx: &SystemContext) -> Result<Arc<RegistriesConf>> {
        let mut confs = self
            .confs
            .lock()
            .map_err(|_| Error::Other("sync connections poisoned".into()))?;
        if let Some(c) = confs.get(&side) {
            return Ok(c.clone());
        }
        let c = Arc::new(registries_conf(ctx)?);
        confs.insert(side, c.clone());
        Ok(c)
    }

    /// The connection to `named`'s registry with `ctx`'s settings.
    pub fn get(
        &self,
        side: Side,
        ctx: &SystemContext,
        named: &Named,
        access: Access,
    ) -> Result<Registry> {
        let key = (side, named.domain().to_string(), access_key(access));
        if let Some(r) = self
            .regs
            .lock()
            .map_err(|_| Error::Other("sync connections poisoned".into()))?
            .get(&key)
        {
            return Ok(r.clone());
        }
        let conf = self.conf(side, ctx)?;
        if side == Side::Dest {
            conf.check_not_blocked(&named.name())
                .map_err(|e| Error::Config(e.to_string()))?;
        }
        let insecure = conf.is_insecure(named.domain());
        let reg = connect(named, ctx, &conf, insecure, access)?;
        let mut regs = self
            .regs
            .lock()
            .map_err(|_| Error::Other("sync connections poisoned".into()))?;
        Ok(regs.entry(key).or_insert(reg).clone())
    }
}
