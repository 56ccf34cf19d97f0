//! DevInfo (OMA-TS-DM_StdObj-V1_2 §5.2): `./DevInfo/{DevId, Man, Mod, DmV, Lang, Ext}`.
//! Read-only to servers: Replace, Add and Delete are 405.

use omadm_cm::{Csp, CspError, CspNode, LeafValue};

use crate::readonly::FixedTree;

/// The device identity the platform supplies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// DevId: unique, URN syntax (`IMEI:493005100592800`).
    pub dev_id: String,
    /// Man: manufacturer.
    pub man: String,
    /// Mod: model.
    pub model: String,
    /// DmV: the DM client's version string.
    pub dm_v: String,
    /// Lang: RFC 1766 language tag (`en-US`).
    pub lang: String,
    /// Ext: vendor leaves (name, value) under `./DevInfo/Ext`.
    pub ext: Vec<(String, String)>,
}

impl DeviceInfo {
    /// The (URI, value) pairs a client sends in the Replace of every package 1.
    pub fn package1_items(&self) -> Vec<(String, String)> {
        vec![
            ("./DevInfo/DevId".into(), self.dev_id.clone()),
            ("./DevInfo/Man".into(), self.man.clone()),
            ("./DevInfo/Mod".into(), self.model.clone()),
            ("./DevInfo/DmV".into(), self.dm_v.clone()),
            ("./DevInfo/Lang".into(), self.lang.clone()),
        ]
    }
}

/// The DevInfo CSP; mount it at `./DevInfo`.
#[derive(Debug, Clone)]
pub struct DevInfoCsp {
    tree: FixedTree,
}

impl DevInfoCsp {
    /// The CSP for `info`.
    pub fn new(info: &DeviceInfo) -> Self {
        let mut tree = FixedTree::new("./DevInfo", "urn:oma:mo:oma-dm-devinfo:1.0");
        tree.leaf("DevId", LeafValue::text(&info.dev_id));
        tree.leaf("Man", LeafValue::text(&info.man));
        tree.leaf("Mod", LeafValue::text(&info.model));
        tree.leaf("DmV", LeafValue::text(&info.dm_v));
        tree.leaf("Lang", LeafValue::text(&info.lang));
        for (name, value) in &info.ext {
            tree.leaf(&format!("Ext/{name}"), LeafValue::text(value));
        }
        DevInfoCsp { tree }
    }
}

impl Csp for DevInfoCsp {
    fn node(&mut self, path: &str) -> Result<CspNode, CspError> {
        if path == "./DevInfo/Ext" {
            return match self.tree.node(path) {
                Err(CspError::NotFound) => Ok(CspNode::Interior {
                    children: [].into(),
                    type_: String::new(),
                }),
                other => other,
            };
        }
        self.tree.node(path)
    }

    /// No run-time properties: ACLs and roles come from the mount point and above.
    fn keeps_properties(&self) -> bool {
        false
    }
}
