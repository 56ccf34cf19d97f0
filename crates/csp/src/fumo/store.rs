//! The durable side of FUMO: each package `<x>` (its nodes, state and the job in progress) as
//! one record, and a package delivered in the session (`Update/PkgData`) beside it, in a small
//! tree of their own with the Configuration Manager's journal, so that every change is durable
//! when the call returns and a crash leaves the old or the new record.

use std::sync::{Arc, Mutex, MutexGuard};

use omadm_cm::roles;
use omadm_cm::{
    CmError, Config, CspNode, LeafValue, LoadError, Manager, NewNode, Principal, Storage,
};

use super::csp::FumoCsp;
use super::record;
use super::{FumoState, Job, Operation, PackageInfo};

/// One update package `<x>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// `<x>`.
    pub id: String,
    /// PkgName.
    pub pkg_name: Option<String>,
    /// PkgVersion.
    pub pkg_version: Option<String>,
    /// Download/PkgURL.
    pub download_url: Option<String>,
    /// DownloadAndUpdate/PkgURL.
    pub dlu_url: Option<String>,
    /// Ext/PkgDigest (lower-case SHA-256 hex).
    pub digest: Option<String>,
    /// State.
    pub state: FumoState,
    /// The operation in progress or being reported.
    pub job: Option<Job>,
}

impl Package {
    /// A new, idle package.
    pub fn new(id: &str) -> Package {
        Package {
            id: id.to_owned(),
            pkg_name: None,
            pkg_version: None,
            download_url: None,
            dlu_url: None,
            digest: None,
            state: FumoState::Idle,
            job: None,
        }
    }

    /// The URL an operation downloads from.
    pub fn url_for(&self, op: Operation) -> Option<&str> {
        match op {
            Operation::Download => self.download_url.as_deref(),
            Operation::DownloadAndUpdate => self.dlu_url.as_deref(),
            Operation::Update => None,
        }
    }

    /// What the platform is told about it.
    pub fn info(&self) -> PackageInfo {
        PackageInfo {
            id: self.id.clone(),
            name: self.pkg_name.clone().unwrap_or_default(),
            version: self.pkg_version.clone().unwrap_or_default(),
            url: self
                .job
                .as_ref()
                .and_then(|j| self.url_for(j.operation))
                .map(str::to_owned),
        }
    }
}

const LOCAL: Principal = Principal::Local {
    roles: roles::MANAGER,
};

/// The packages, shared by the CSP and the agent.
#[derive(Clone)]
pub struct FumoStore {
    inner: Arc<Mutex<Manager>>,
}

fn record_path(id: &str) -> String {
    format!("./P/{}", omadm_cm::uri::encode_segment(id))
}

fn data_path(id: &str) -> String {
    format!("./D/{}", omadm_cm::uri::encode_segment(id))
}

impl FumoStore {
    /// Opens the store kept in `storage`.
    pub fn open(storage: Box<dyn Storage>) -> Result<FumoStore, LoadError> {
        let mut tree = Manager::open(storage, Config::default())?;
        for root in ["./P", "./D"] {
            if !tree.exists(root) {
                tree.add(
                    &LOCAL,
                    root,
                    NewNode::Interior {
                        type_: String::new(),
                    },
                )
                .and_then(|_| tree.persist())
                .map_err(|e| LoadError::Io(std::io::Error::other(e.to_string())))?;
            }
        }
        Ok(FumoStore {
            inner: Arc::new(Mutex::new(tree)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Manager> {
        // Every Manager command is undone on failure, so a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The CSP to mount at `root` (`./FwUpdate`).
    pub fn csp(&self, root: &str) -> FumoCsp {
        FumoCsp::new(self.clone(), root)
    }

    /// Every package, by id.
    pub fn packages(&self) -> Vec<Package> {
        let mut tree = self.lock();
        let ids = match tree.inspect("./P") {
            Ok(CspNode::Interior { children, .. }) => children,
            _ => return Vec::new(),
        };
        let mut out = Vec::new();
        for id in ids.iter() {
            match tree.inspect(&record_path(id)) {
                Ok(CspNode::Leaf(v)) => {
                    match record::decode(id, &String::from_utf8_lossy(&v.data)) {
                        Some(p) => out.push(p),
                        None => log::error!("FUMO package {id}: damaged record skipped"),
                    }
                }
                _ => log::error!("FUMO package {id}: record missing"),
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// The package `id`.
    pub fn package(&self, id: &str) -> Option<Package> {
        let mut tree = self.lock();
        match tree.inspect(&record_path(id)) {
            Ok(CspNode::Leaf(v)) => record::decode(id, &String::from_utf8_lossy(&v.data)),
            _ => None,
        }
    }

    /// Packages with an operation in progress or a result to report.
    pub fn jobs(&self) -> Vec<Package> {
        self.packages()
            .into_iter()
            .filter(|p| p.job.is_some())
            .collect()
    }

    /// Stores `p` (creating or replacing its record); durable on return.
    pub fn save(&self, p: &Package) -> Result<(), CmError> {
        let mut tree = self.lock();
        let path = record_path(&p.id);
        let value = LeafValue::text(record::encode(p));
        if tree.exists(&path) {
            tree.replace(&LOCAL, &path, value)?;
        } else {
            tree.add(&LOCAL, &path, NewNode::Leaf(value))?;
        }
        tree.persist()
    }

    /// Removes the package `id` and its data; durable on return.
    pub fn remove(&self, id: &str) -> Result<(), CmError> {
        let mut tree = self.lock();
        for path in [record_path(id), data_path(id)] {
            if tree.exists(&path) {
                tree.delete(&LOCAL, &path)?;
            }
        }
        tree.persist()
    }

    /// The package delivered in the session (`Update/PkgData`), if any.
    pub fn package_data(&self, id: &str) -> Option<Vec<u8>> {
        match self.lock().inspect(&data_path(id)) {
            Ok(CspNode::Leaf(v)) => Some(v.data.into_owned()),
            _ => None,
        }
    }

    /// Whether `id` has a package delivered in the session.
    pub fn has_package_data(&self, id: &str) -> bool {
        self.lock().exists(&data_path(id))
    }

    /// Stores (`Some`) or drops (`None`) the package delivered in the session; durable.
    pub fn set_package_data(&self, id: &str, data: Option<&[u8]>) -> Result<(), CmError> {
        let mut tree = self.lock();
        let path = data_path(id);
        let exists = tree.exists(&path);
        match (data, exists) {
            (Some(d), _) => {
                let value = LeafValue {
                    data: d.to_vec().into(),
                    format: "bin".into(),
                    type_: "application/octet-stream".into(),
                };
                if exists {
                    tree.replace(&LOCAL, &path, value)?;
                } else {
                    tree.add(&LOCAL, &path, NewNode::Leaf(value))?;
                }
            }
            (None, true) => tree.delete(&LOCAL, &path)?,
            (None, false) => return Ok(()),
        }
        tree.persist()
    }
}
