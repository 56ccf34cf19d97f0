//! The FUMO management object as a server sees it: `<root>/<x>/{PkgName, PkgVersion,
//! Download/PkgURL, Update/PkgData, DownloadAndUpdate/PkgURL, State, Ext/PkgDigest}`, with
//! Exec on the three operation nodes. `Update/PkgData` always exists (empty until a package is
//! delivered, never readable): a server delivers the package with Replace, as FUMO says. Changes are stored at once in the [`FumoStore`]; the
//! Manager undoes them inside an Atomic with the opposite commands.

use omadm_cm::uri::decode_canonical_segment;
use omadm_cm::{Caller, Csp, CspError, CspNode, ExecOutcome, LeafValue};

use super::store::{FumoStore, Package};
use super::{parse_digest, FumoState, Job, Operation, FUMO_MO};

/// The FUMO CSP; get it from [`FumoStore::csp`].
pub struct FumoCsp {
    store: FumoStore,
    root: String,
    server_id: Option<String>,
    acl: Option<String>,
}

/// A node of the MO, by its place under `<root>`.
enum Place {
    Root,
    Package(String),
    PkgName(String),
    PkgVersion(String),
    Executable(String, Operation),
    PkgUrl(String, Operation),
    PkgData(String),
    State(String),
    Ext(String),
    PkgDigest(String),
}

fn interior(children: Vec<&str>, type_: &str) -> CspNode {
    CspNode::Interior {
        children: children.into_iter().map(str::to_owned).collect(),
        type_: type_.to_owned(),
    }
}

fn store_err(e: omadm_cm::CmError) -> CspError {
    log::error!("FUMO store: {e}");
    CspError::failed("FUMO store failure")
}

fn text(v: &LeafValue) -> Result<String, CspError> {
    String::from_utf8(v.data.to_vec()).map_err(|_| CspError::Failed {
        code: 400,
        reason: "not UTF-8 text".into(),
    })
}

impl FumoCsp {
    pub(crate) fn new(store: FumoStore, root: &str) -> FumoCsp {
        FumoCsp {
            store,
            root: root.trim_end_matches('/').to_owned(),
            server_id: None,
            acl: None,
        }
    }

    /// Gives the MO's root this ACL (OMA ACL model; the nodes below inherit it). Without one
    /// the root inherits its parent's, which rarely allows Exec.
    pub fn with_acl(mut self, acl: &str) -> FumoCsp {
        self.acl = Some(acl.to_owned());
        self
    }

    fn parse(&self, path: &str) -> Result<Place, CspError> {
        let rest = if path == self.root {
            return Ok(Place::Root);
        } else {
            path.strip_prefix(&self.root)
                .and_then(|r| r.strip_prefix('/'))
                .ok_or(CspError::NotFound)?
        };
        let segs: Vec<&str> = rest.split('/').collect();
        let id = decode_canonical_segment(segs[0]);
        Ok(match segs[1..] {
            [] => Place::Package(id),
            ["PkgName"] => Place::PkgName(id),
            ["PkgVersion"] => Place::PkgVersion(id),
            ["State"] => Place::State(id),
            ["Ext"] => Place::Ext(id),
            ["Ext", "PkgDigest"] => Place::PkgDigest(id),
            ["Update", "PkgData"] => Place::PkgData(id),
            [op] => Place::Executable(id, Operation::from_node(op).ok_or(CspError::NotFound)?),
            [op, "PkgURL"] => match Operation::from_node(op) {
                Some(o @ (Operation::Download | Operation::DownloadAndUpdate)) => {
                    Place::PkgUrl(id, o)
                }
                _ => return Err(CspError::NotFound),
            },
            _ => return Err(CspError::NotFound),
        })
    }

    fn package(&self, id: &str) -> Result<Package, CspError> {
        self.store.package(id).ok_or(CspError::NotFound)
    }

    fn save(&self, p: &Package) -> Result<(), CspError> {
        self.store.save(p).map_err(store_err)
    }

    fn url_slot(p: &mut Package, op: Operation) -> &mut Option<String> {
        match op {
            Operation::Download => &mut p.download_url,
            _ => &mut p.dlu_url,
        }
    }

    /// Sets a leaf: `create` for Add (418 when set), else Replace (404 when not set).
    fn set_leaf(&mut self, node: Place, v: &LeafValue, create: bool) -> Result<(), CspError> {
        let check = |present: bool| match (create, present) {
            (true, true) => Err(CspError::AlreadyExists),
            (false, false) => Err(CspError::NotFound),
            _ => Ok(()),
        };
        match node {
            Place::PkgName(id) => {
                let mut p = self.package(&id)?;
                check(p.pkg_name.is_some())?;
                p.pkg_name = Some(text(v)?);
                self.save(&p)
            }
            Place::PkgVersion(id) => {
                let mut p = self.package(&id)?;
                check(p.pkg_version.is_some())?;
                p.pkg_version = Some(text(v)?);
                self.save(&p)
            }
            Place::PkgUrl(id, op) => {
                let mut p = self.package(&id)?;
                let url = text(v)?;
                let slot = Self::url_slot(&mut p, op);
                check(slot.is_some())?;
                *slot = Some(url.trim().to_owned());
                self.save(&p)
            }
            Place::PkgDigest(id) => {
                let mut p = self.package(&id)?;
                check(p.digest.is_some())?;
                let digest = parse_digest(&text(v)?).ok_or(CspError::Failed {
                    code: 400,
                    reason: "PkgDigest must be a SHA-256 (64 hex digits, sha256: allowed)".into(),
                })?;
                p.digest = Some(digest);
                self.save(&p)
            }
            Place::PkgData(id) => {
                let mut p = self.package(&id)?;
                check(self.store.has_package_data(&id))?;
                if p.state.busy() {
                    return Err(CspError::NotAllowed);
                }
                self.store
                    .set_package_data(&id, Some(&v.data))
                    .map_err(store_err)?;
                p.state = FumoState::ReadyToUpdate;
                self.save(&p)
            }
            _ => Err(CspError::NotAllowed),
        }
    }

    fn exec_op(
        &mut self,
        id: &str,
        op: Operation,
        path: &str,
        correlator: Option<&str>,
    ) -> Result<ExecOutcome, CspError> {
        let mut p = self.package(id)?;
        if p.state.busy() || p.job.is_some() {
            log::info!(
                "FUMO {id}: Exec {} refused, an operation is in progress",
                op.node()
            );
            return Err(CspError::NotAllowed);
        }
        // Update needs a package on the device: delivered as PkgData, or downloaded (50).
        let ready = match op {
            Operation::Update => p.state == FumoState::ReadyToUpdate,
            _ => p.url_for(op).is_some_and(|u| !u.is_empty()),
        };
        if !ready {
            log::info!("FUMO {id}: Exec {} refused, nothing to work on", op.node());
            return Err(CspError::NotAllowed);
        }
        p.state = match op {
            Operation::Update => FumoState::UpdateProgressing,
            _ => FumoState::DownloadProgressing,
        };
        p.job = Some(Job {
            operation: op,
            correlator: correlator.map(str::to_owned),
            server_id: self.server_id.clone().unwrap_or_default(),
            source: path.to_owned(),
            confirmed: false,
            install_started: false,
            result: None,
        });
        self.save(&p)?;
        log::info!("FUMO {id}: {} accepted", op.node());
        Ok(ExecOutcome::Accepted)
    }
}

impl Csp for FumoCsp {
    fn set_caller(&mut self, caller: &Caller<'_>) {
        self.server_id = caller.server_id.map(str::to_owned);
    }

    fn node(&mut self, path: &str) -> Result<CspNode, CspError> {
        Ok(match self.parse(path)? {
            Place::Root => CspNode::Interior {
                children: self.store.packages().into_iter().map(|p| p.id).collect(),
                type_: String::new(),
            },
            Place::Package(id) => {
                let p = self.package(&id)?;
                let mut children = Vec::new();
                if p.pkg_name.is_some() {
                    children.push("PkgName");
                }
                if p.pkg_version.is_some() {
                    children.push("PkgVersion");
                }
                children.extend(["Download", "Update", "DownloadAndUpdate", "State", "Ext"]);
                interior(children, FUMO_MO)
            }
            Place::PkgName(id) => CspNode::Leaf(LeafValue::text(
                self.package(&id)?.pkg_name.ok_or(CspError::NotFound)?,
            )),
            Place::PkgVersion(id) => CspNode::Leaf(LeafValue::text(
                self.package(&id)?.pkg_version.ok_or(CspError::NotFound)?,
            )),
            Place::Executable(id, op) => {
                let p = self.package(&id)?;
                let child = match op {
                    Operation::Update => Some("PkgData"),
                    _ => p.url_for(op).map(|_| "PkgURL"),
                };
                interior(child.into_iter().collect(), "")
            }
            Place::PkgUrl(id, op) => {
                let p = self.package(&id)?;
                CspNode::Leaf(LeafValue::text(p.url_for(op).ok_or(CspError::NotFound)?))
            }
            Place::PkgData(id) => {
                self.package(&id)?;
                CspNode::Leaf(LeafValue {
                    data: self.store.package_data(&id).unwrap_or_default().into(),
                    format: "bin".into(),
                    type_: "application/octet-stream".into(),
                })
            }
            Place::State(id) => CspNode::Leaf(LeafValue {
                data: self
                    .package(&id)?
                    .state
                    .code()
                    .to_string()
                    .into_bytes()
                    .into(),
                format: "int".into(),
                type_: "text/plain".into(),
            }),
            Place::Ext(id) => {
                let p = self.package(&id)?;
                interior(
                    p.digest.as_ref().map(|_| "PkgDigest").into_iter().collect(),
                    "",
                )
            }
            Place::PkgDigest(id) => CspNode::Leaf(LeafValue::text(format!(
                "sha256:{}",
                self.package(&id)?.digest.ok_or(CspError::NotFound)?
            ))),
        })
    }

    fn is_interior(&mut self, path: &str) -> Result<bool, CspError> {
        match self.parse(path)? {
            Place::Root => Ok(true),
            Place::Package(id) | Place::Executable(id, _) | Place::Ext(id) => {
                self.package(&id).map(|_| true)
            }
            _ => self
                .node(path)
                .map(|n| matches!(n, CspNode::Interior { .. })),
        }
    }

    fn add(&mut self, path: &str, value: Option<&LeafValue>) -> Result<(), CspError> {
        match (self.parse(path)?, value) {
            (Place::Package(id), None) => {
                if self.store.package(&id).is_some() {
                    return Err(CspError::AlreadyExists);
                }
                self.save(&Package::new(&id))
            }
            (Place::Package(_), Some(_)) => Err(CspError::NotAllowed),
            (Place::Executable(id, _) | Place::Ext(id) | Place::State(id), _) => {
                self.package(&id)?;
                Err(CspError::AlreadyExists)
            }
            (node, Some(v)) => self.set_leaf(node, v, true),
            (_, None) => Err(CspError::NotAllowed),
        }
    }

    fn replace(&mut self, path: &str, value: &LeafValue) -> Result<(), CspError> {
        let node = self.parse(path)?;
        if let Place::PkgData(id) = &node {
            // Replace is how a server delivers the package (FUMO: Replace PkgData).
            if !self.store.has_package_data(id) {
                return self.set_leaf(node, value, true);
            }
            let mut p = self.package(id)?;
            if p.state.busy() {
                return Err(CspError::NotAllowed);
            }
            self.store
                .set_package_data(id, Some(&value.data))
                .map_err(store_err)?;
            p.state = FumoState::ReadyToUpdate;
            return self.save(&p);
        }
        self.set_leaf(node, value, false)
    }

    fn delete(&mut self, path: &str) -> Result<(), CspError> {
        match self.parse(path)? {
            Place::Package(id) => {
                let p = self.package(&id)?;
                if p.state.busy() || p.job.is_some() {
                    return Err(CspError::NotAllowed);
                }
                self.store.remove(&id).map_err(store_err)
            }
            Place::PkgName(id) => {
                let mut p = self.package(&id)?;
                p.pkg_name.take().ok_or(CspError::NotFound)?;
                self.save(&p)
            }
            Place::PkgVersion(id) => {
                let mut p = self.package(&id)?;
                p.pkg_version.take().ok_or(CspError::NotFound)?;
                self.save(&p)
            }
            Place::PkgUrl(id, op) => {
                let mut p = self.package(&id)?;
                Self::url_slot(&mut p, op)
                    .take()
                    .ok_or(CspError::NotFound)?;
                self.save(&p)
            }
            Place::PkgDigest(id) => {
                let mut p = self.package(&id)?;
                p.digest.take().ok_or(CspError::NotFound)?;
                self.save(&p)
            }
            Place::PkgData(id) => {
                let mut p = self.package(&id)?;
                if p.state.busy() {
                    return Err(CspError::NotAllowed);
                }
                if !self.store.has_package_data(&id) {
                    return Err(CspError::NotFound);
                }
                self.store.set_package_data(&id, None).map_err(store_err)?;
                if p.state == FumoState::ReadyToUpdate {
                    p.state = FumoState::Idle;
                }
                self.save(&p)
            }
            _ => Err(CspError::NotAllowed),
        }
    }

    fn exec(
        &mut self,
        path: &str,
        _data: &[u8],
        correlator: Option<&str>,
    ) -> Result<ExecOutcome, CspError> {
        match self.parse(path)? {
            Place::Executable(id, op) => self.exec_op(&id, op, path, correlator),
            _ => Err(CspError::NotAllowed),
        }
    }

    fn get_property(&mut self, path: &str, name: &str) -> Result<String, CspError> {
        match (&self.acl, name) {
            (Some(acl), "ACL") if path == self.root => Ok(acl.clone()),
            _ => Err(CspError::NotSupported),
        }
    }

    fn readable(&mut self, path: &str) -> bool {
        // The package delivered in the session is large and never read back.
        !matches!(self.parse(path), Ok(Place::PkgData(_)))
    }
}
