//! DevDetail (OMA-TS-DM_StdObj-V1_2 §5.3): `./DevDetail/{URI/{MaxDepth, MaxTotLen, MaxSegLen},
//! DevTyp, OEM, FwV, SwV, HwV, LrgObj, Ext}`. The URI limits are the Manager's own, so what
//! DevDetail reports is what the tree enforces; LrgObj says whether the session engine in use
//! supports large objects. Read-only to servers.

use omadm_cm::{Csp, CspError, CspNode, LeafValue, UriLimits};

use crate::readonly::{boolean, int, FixedTree};

/// Device details the platform supplies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceDetail {
    /// DevTyp (`phone`, `PDA`, ...).
    pub dev_typ: String,
    /// OEM.
    pub oem: String,
    /// FwV: firmware version.
    pub fw_v: String,
    /// SwV: software version.
    pub sw_v: String,
    /// HwV: hardware version.
    pub hw_v: String,
}

/// The DevDetail CSP; mount it at `./DevDetail`.
#[derive(Debug, Clone)]
pub struct DevDetailCsp {
    tree: FixedTree,
}

impl DevDetailCsp {
    /// The CSP for `detail`, reporting `limits` and whether large objects are supported.
    pub fn new(detail: &DeviceDetail, limits: &UriLimits, large_objects: bool) -> Self {
        let mut tree = FixedTree::new("./DevDetail", "urn:oma:mo:oma-dm-devdetail:1.0");
        tree.leaf("URI/MaxDepth", int(limits.max_depth));
        tree.leaf("URI/MaxTotLen", int(limits.max_tot_len));
        tree.leaf("URI/MaxSegLen", int(limits.max_seg_len));
        tree.leaf("DevTyp", LeafValue::text(&detail.dev_typ));
        tree.leaf("OEM", LeafValue::text(&detail.oem));
        tree.leaf("FwV", LeafValue::text(&detail.fw_v));
        tree.leaf("SwV", LeafValue::text(&detail.sw_v));
        tree.leaf("HwV", LeafValue::text(&detail.hw_v));
        tree.leaf("LrgObj", boolean(large_objects));
        DevDetailCsp { tree }
    }
}

impl Csp for DevDetailCsp {
    fn node(&mut self, path: &str) -> Result<CspNode, CspError> {
        self.tree.node(path)
    }

    /// No run-time properties: ACLs and roles come from the mount point and above.
    fn keeps_properties(&self) -> bool {
        false
    }
}
