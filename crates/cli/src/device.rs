//! The default device that `omadm respond` and `omadm bench dpu` play: DevInfo, DevDetail,
//! in-memory CSPs and executable no-op nodes where asked, a tree whose root ACL lets the
//! server do everything (a test tool trusts its server; access control is exercised by the
//! `omadm-cm` tests), all in memory.

use omadm_cm::roles;
use omadm_cm::{
    Config, Csp, CspError, CspNode, ExecOutcome, LeafValue, Manager, MemoryStorage, Principal,
    UriLimits,
};
use omadm_csp::{DevDetailCsp, DevInfoCsp, DeviceDetail, DeviceInfo, MemoryCsp};

/// The device's DevInfo.
pub fn device_info() -> DeviceInfo {
    DeviceInfo {
        dev_id: "IMEI:000000000000000".into(),
        man: "omadm".into(),
        model: "reference device".into(),
        dm_v: concat!("omadm ", env!("CARGO_PKG_VERSION")).into(),
        lang: "en-US".into(),
        ext: vec![],
    }
}

/// The device's DevDetail, for the commands that run a whole agent (`demo`, `agent`,
/// `bench session`).
pub fn device_detail() -> omadm_csp::DeviceDetail {
    omadm_csp::DeviceDetail {
        dev_typ: "smartphone".into(),
        oem: "omadm".into(),
        fw_v: "1.0".into(),
        sw_v: env!("CARGO_PKG_VERSION").into(),
        hw_v: "1.0".into(),
    }
}

/// The MIME type of a `--encoding xml|wbxml` argument.
pub fn dm_content_type(encoding: &str) -> Result<&'static str, String> {
    match encoding {
        "xml" => Ok("application/vnd.syncml.dm+xml"),
        "wbxml" => Ok("application/vnd.syncml.dm+wbxml"),
        other => Err(format!("--encoding {other}: expected xml or wbxml")),
    }
}

/// A node that can be executed and does nothing (200, or 202 with a Correlator).
struct ExecNode {
    path: String,
}

impl Csp for ExecNode {
    fn node(&mut self, path: &str) -> Result<CspNode, CspError> {
        if path == self.path {
            Ok(CspNode::Leaf(LeafValue::text("")))
        } else {
            Err(CspError::NotFound)
        }
    }
    fn exec(
        &mut self,
        _: &str,
        _: &[u8],
        correlator: Option<&str>,
    ) -> Result<ExecOutcome, CspError> {
        Ok(if correlator.is_some() {
            ExecOutcome::Accepted
        } else {
            ExecOutcome::Done
        })
    }
}

/// Builds the device tree.
pub fn build(memory_csps: &[String], exec_nodes: &[String]) -> Result<Manager, String> {
    let config = Config {
        root_acl: "Add=*&Delete=*&Exec=*&Get=*&Replace=*".into(),
        ..Config::default()
    };
    let limits = config.uri_limits;
    let mut m = Manager::open(Box::new(MemoryStorage::new()), config).map_err(|e| e.to_string())?;
    let _ = Principal::Local {
        roles: roles::MANAGER,
    };
    m.mount(
        "./DevInfo",
        Box::new(DevInfoCsp::new(&device_info())),
        roles::MANAGER,
    )
    .map_err(|e| e.to_string())?;
    let detail = DeviceDetail {
        dev_typ: "phone".into(),
        oem: "omadm".into(),
        fw_v: "1.0".into(),
        sw_v: env!("CARGO_PKG_VERSION").into(),
        hw_v: "1.0".into(),
    };
    m.mount(
        "./DevDetail",
        Box::new(DevDetailCsp::new(&detail, &limits, true)),
        roles::MANAGER,
    )
    .map_err(|e| e.to_string())?;
    for prefix in memory_csps {
        let canonical = omadm_cm::NodeUri::parse(prefix, &UriLimits::default())
            .map_err(|e| format!("--memory-csp {prefix}: {e}"))?;
        m.mount(
            prefix,
            Box::new(MemoryCsp::new(canonical.as_str())),
            roles::MANAGER,
        )
        .map_err(|e| format!("--memory-csp {prefix}: {e}"))?;
    }
    for node in exec_nodes {
        let canonical = omadm_cm::NodeUri::parse(node, &UriLimits::default())
            .map_err(|e| format!("--exec-node {node}: {e}"))?;
        m.mount(
            node,
            Box::new(ExecNode {
                path: canonical.as_str().to_owned(),
            }),
            roles::MANAGER,
        )
        .map_err(|e| format!("--exec-node {node}: {e}"))?;
    }
    m.persist().map_err(|e| e.to_string())?;
    Ok(m)
}
