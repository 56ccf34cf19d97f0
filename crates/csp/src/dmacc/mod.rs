//! DM server accounts (OMA-TS-DM_StdObj-V1_2 §5.1, `urn:oma:mo:oma-dm-dmacc:1.0`) in one
//! durable store, seen through two CSPs: the 1.2 form `./DMAcc/<x>` and the 1.1.2 form
//! `./SyncML/DMAcc/<x>`.
//!
//! The store is a private [`Manager`] over its own [`Storage`], holding the 1.2 layout
//! (`./DMAcc/<x>/{AppID, ServerID, Name, PrefConRef, AppAddr/<y>/{Addr, AddrType,
//! Port/<z>/PortNbr}, AAuthPref, AppAuth/<y>/{AAuthLevel, AAuthType, AAuthName, AAuthSecret,
//! AAuthData}, Ext/Microsoft/{ConnRetryFreq, InitialBackOffTime, MaxBackOffTime,
//! BackCompatRetryDisabled, ProtoVer, DefaultEncoding, UseHwDevID, UseNonceResync, Role}}`)
//! and, out of both views' sight, each account's role ceiling. Both views translate into the
//! same nodes, so roles and credentials cannot diverge; both are transactional
//! ([`TxMode::Internal`]): a command's (or an Atomic's) changes become durable on commit.
//!
//! Secrets (AAuthSecret, AAuthData, and the 1.1.2 ServerPW, ClientPW, ServerNonce,
//! ClientNonce that map onto them) are write-only. An account's roles (`Ext/Microsoft/Role`)
//! can never exceed the ceiling set when it was created: the bootstrap's roles
//! ([`AccountStore::create`]) or, for an account a server adds through the tree, that
//! server's own roles; a server can never set a role it does not hold.

mod account;
mod change;
mod v11;
mod v12;

use std::sync::{Arc, Mutex, MutexGuard};

use omadm_cm::roles::RoleMap;
use omadm_cm::{
    CmError, Config, CspError, CspNode, LeafValue, LoadError, Manager, NewNode, Principal, Storage,
};

pub use account::{AccountLocal, AuthCreds, DmAccount, MsExt};
pub use change::{check_roles, AccountChange, AuthScheme, CredsChange, Encoding, ProtocolVersion};
pub use v11::SyncMlDmAccCsp;
pub use v12::DmAccCsp;

const LOCAL: Principal = Principal::Local {
    roles: omadm_cm::roles::MANAGER,
};

struct Inner {
    tree: Manager,
    /// Open internal transactions (one per view that began one).
    depth: u32,
}

/// The account store shared by both views and by the stack (credentials, nonces, roles).
#[derive(Clone)]
pub struct AccountStore {
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for AccountStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccountStore { .. }")
    }
}

fn store_config() -> Config {
    let mut write_only = RoleMap::default();
    write_only.assign(&["DMAcc", "*", "AppAuth", "*", "AAuthSecret"], 1);
    write_only.assign(&["DMAcc", "*", "AppAuth", "*", "AAuthData"], 1);
    Config {
        write_only,
        snapshot_threshold: 256 * 1024,
        ..Config::default()
    }
}

/// Removes the hidden parts of account `<x>`: its role ceiling and device-only settings.
fn forget_hidden(tree: &mut Manager, x: &str) -> Result<(), CmError> {
    for hidden in [format!("./Ceiling/{x}"), format!("./Local/{x}")] {
        if tree.exists(&hidden) {
            tree.delete(&LOCAL, &hidden)?;
        }
    }
    Ok(())
}

fn csp_error(e: CmError) -> CspError {
    match e.status {
        404 => CspError::NotFound,
        405 => CspError::NotAllowed,
        418 => CspError::AlreadyExists,
        425 => CspError::PermissionDenied,
        406 => CspError::NotSupported,
        code => CspError::Failed {
            code,
            reason: e.message.into_owned(),
        },
    }
}

impl AccountStore {
    /// Opens the store (an empty one holds `./DMAcc` only).
    pub fn open(storage: Box<dyn Storage>) -> Result<AccountStore, LoadError> {
        let mut tree = Manager::open(storage, store_config())?;
        if !tree.exists("./DMAcc") {
            tree.add(
                &LOCAL,
                "./DMAcc",
                NewNode::Interior {
                    type_: String::new(),
                },
            )
            .and_then(|_| tree.persist())
            .map_err(|e| LoadError::Io(std::io::Error::other(e.to_string())))?;
        }
        Ok(AccountStore {
            inner: Arc::new(Mutex::new(Inner { tree, depth: 0 })),
        })
    }

    /// Opens a store for reading what it holds (`omadm tree`): nothing is created, and a
    /// store without `./DMAcc` reads as one without accounts.
    pub fn open_existing(storage: Box<dyn Storage>) -> Result<AccountStore, LoadError> {
        let tree = Manager::open(storage, store_config())?;
        Ok(AccountStore {
            inner: Arc::new(Mutex::new(Inner { tree, depth: 0 })),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the tree half-changed (every Manager
        // command is undone on failure), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The 1.2 view, to mount at `./DMAcc`.
    pub fn v12_view(&self) -> DmAccCsp {
        DmAccCsp::new(self.clone())
    }

    /// The 1.1.2 view, to mount at `./SyncML/DMAcc`.
    pub fn v11_view(&self) -> SyncMlDmAccCsp {
        SyncMlDmAccCsp::new(self.clone())
    }

    /// Every account.
    pub fn accounts(&self) -> Vec<DmAccount> {
        let mut inner = self.lock();
        let names = match inner.tree.inspect("./DMAcc") {
            Ok(CspNode::Interior { children, .. }) => children,
            _ => return Vec::new(),
        };
        names
            .iter()
            .filter_map(|x| account::read(&mut inner.tree, x))
            .collect()
    }

    /// The account whose ServerID is `server_id`. ServerIDs are unique (every path that
    /// writes one refuses a duplicate with 418); should a store written before that rule hold
    /// two accounts with one ServerID, neither is found (and an error is logged): a lookup is
    /// never ambiguous, so a notification or a session can never reach the wrong account.
    pub fn find_by_server_id(&self, server_id: &str) -> Option<DmAccount> {
        if server_id.is_empty() {
            return None;
        }
        let mut found = self
            .accounts()
            .into_iter()
            .filter(|a| a.server_id == server_id);
        let first = found.next()?;
        if found.next().is_some() {
            log::error!(
                "two DM accounts claim ServerID {}: neither is used until one is removed",
                crate::printable(server_id)
            );
            return None;
        }
        Some(first)
    }

    /// Refuses (418, Already exists) a ServerID that an account other than `<x>` holds: a
    /// ServerID names one account, so no server can claim another's identity.
    pub(crate) fn check_server_id(&self, x: &str, value: &LeafValue) -> Result<(), CspError> {
        let mut inner = self.lock();
        account::check_server_id_free(&mut inner.tree, x, &value.data).map_err(csp_error)
    }

    /// Creates an account (a bootstrap's work) with `bootstrap_roles` as its role ceiling
    /// and, unless the account names a Role, its roles. The server gets Get, Replace and
    /// Delete on the account node. Returns the node name `<x>`. A ServerID another account
    /// holds is refused (418) and nothing is written.
    pub fn create(&self, account: &DmAccount, bootstrap_roles: u32) -> Result<String, CmError> {
        let mut names = self.create_all(std::slice::from_ref(account), bootstrap_roles)?;
        Ok(names.remove(0))
    }

    /// Creates several accounts (one bootstrap document's) all or nothing: when one is
    /// refused (a ServerID already held, also by an earlier account of the same list, or a
    /// Role beyond `bootstrap_roles`) none is written.
    pub fn create_all(
        &self,
        accounts: &[DmAccount],
        bootstrap_roles: u32,
    ) -> Result<Vec<String>, CmError> {
        let mut inner = self.lock();
        if inner.depth > 0 {
            return Err(CmError::new(409, "account store is in a transaction"));
        }
        let tree = &mut inner.tree;
        tree.begin_atomic()?;
        let mut names = Vec::with_capacity(accounts.len());
        let result = accounts.iter().try_for_each(|account| {
            account::check_server_id_free(tree, "", account.server_id.as_bytes())?;
            let name = account::node_name(tree, account);
            account::write(tree, &name, account, bootstrap_roles)?;
            names.push(name);
            Ok(())
        });
        match result {
            Ok(()) => {
                tree.commit_atomic()?;
                tree.persist()?;
                Ok(names)
            }
            Err(e) => {
                let _ = tree.rollback_atomic();
                Err(e)
            }
        }
    }

    /// Stores the next nonce for one of an account's credential sets (`CLCRED`: the nonce the
    /// server issued for the client's next credentials; `SRVCRED`: the nonce the client issued
    /// to the server). Durable on return.
    pub fn set_nonce(&self, server_id: &str, level: &str, nonce: &[u8]) -> Result<(), CmError> {
        let account = self
            .find_by_server_id(server_id)
            .ok_or_else(|| CmError::not_found("no such account"))?;
        let mut inner = self.lock();
        let tree = &mut inner.tree;
        let auth = account::auth_node(tree, &account.node_name, level)?;
        let path = format!("{auth}/AAuthData");
        let value = LeafValue {
            data: nonce.to_vec().into(),
            format: "bin".into(),
            type_: "application/octet-stream".into(),
        };
        if tree.exists(&path) {
            tree.replace(&LOCAL, &path, value)?;
        } else {
            tree.add(&LOCAL, &path, NewNode::Leaf(value))?;
        }
        tree.persist()
    }

    /// Deletes an account, durably.
    pub fn delete(&self, node_name: &str) -> Result<(), CmError> {
        let mut inner = self.lock();
        let tree = &mut inner.tree;
        tree.delete(&LOCAL, &format!("./DMAcc/{node_name}"))?;
        forget_hidden(tree, node_name)?;
        tree.persist()
    }

    /// Changes the account whose ServerID is `server_id`: `change` edits a copy, which then
    /// replaces the account whole, durably and all or nothing (its node name, role ceiling
    /// and nonces kept unless `change` sets them). A new ServerID another account holds is
    /// refused (418), as is a Role beyond the ceiling (425).
    pub fn update(
        &self,
        server_id: &str,
        change: impl FnOnce(&mut DmAccount),
    ) -> Result<DmAccount, CmError> {
        let old = self
            .find_by_server_id(server_id)
            .ok_or_else(|| CmError::not_found(format!("no account has ServerID {server_id}")))?;
        let mut new = old.clone();
        change(&mut new);
        new.node_name = old.node_name.clone();
        let mut inner = self.lock();
        if inner.depth > 0 {
            return Err(CmError::new(409, "account store is in a transaction"));
        }
        let tree = &mut inner.tree;
        tree.begin_atomic()?;
        let x = old.node_name.as_str();
        let result = (|| {
            account::check_server_id_free(tree, x, new.server_id.as_bytes())?;
            tree.delete(&LOCAL, &format!("./DMAcc/{x}"))?;
            account::write(tree, x, &new, old.ceiling)
        })();
        match result {
            Ok(()) => {
                tree.commit_atomic()?;
                tree.persist()?;
                drop(inner);
                self.find_by_server_id(&new.server_id)
                    .ok_or_else(|| CmError::failed("the account vanished"))
            }
            Err(e) => {
                let _ = tree.rollback_atomic();
                Err(e)
            }
        }
    }

    // ---- shared by the views ----------------------------------------------------------

    /// Forgets what the store keeps of account `<x>` beside its node (after a view deleted
    /// it).
    pub(crate) fn forget(&self, x: &str) -> Result<(), CspError> {
        self.with(|tree| forget_hidden(tree, x))
    }

    pub(crate) fn begin(&self) -> Result<(), CspError> {
        let mut inner = self.lock();
        if inner.depth == 0 {
            inner.tree.begin_atomic().map_err(csp_error)?;
        }
        inner.depth += 1;
        Ok(())
    }

    pub(crate) fn end(&self, commit: bool) -> Result<(), CspError> {
        let mut inner = self.lock();
        if inner.depth == 0 {
            return Ok(());
        }
        inner.depth -= 1;
        if inner.depth > 0 {
            return Ok(());
        }
        let tree = &mut inner.tree;
        if commit {
            tree.commit_atomic()
                .and_then(|_| tree.persist())
                .map_err(csp_error)
        } else {
            tree.rollback_atomic().map_err(csp_error)
        }
    }

    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&mut Manager) -> Result<T, CmError>,
    ) -> Result<T, CspError> {
        let mut inner = self.lock();
        f(&mut inner.tree).map_err(csp_error)
    }

    /// The role ceiling of account `<x>` (0 when unknown).
    pub(crate) fn ceiling(&self, name: &str) -> u32 {
        let mut inner = self.lock();
        match inner.tree.inspect(&format!("./Ceiling/{name}")) {
            Ok(CspNode::Leaf(v)) => std::str::from_utf8(&v.data)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
            _ => 0,
        }
    }

    pub(crate) fn set_ceiling(&self, name: &str, roles: u32) -> Result<(), CspError> {
        self.with(|tree| {
            account::set_leaf(
                tree,
                &format!("./Ceiling/{name}"),
                LeafValue::text(roles.to_string()),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use omadm_cm::MemoryStorage;

    #[test]
    fn a_lookup_is_never_ambiguous_even_in_a_store_with_duplicates() {
        // A store written before ServerIDs were unique may hold two accounts with one id:
        // neither is used, rather than the first one found.
        let store = AccountStore::open(Box::new(MemoryStorage::new())).unwrap();
        let mut a = DmAccount {
            server_id: "victim".into(),
            addr: "https://victim.example/dm".into(),
            ..DmAccount::default()
        };
        store.create(&a, 1).unwrap();
        a.addr = "https://attacker.example/dm".into();
        {
            let mut inner = store.lock();
            account::write(&mut inner.tree, "dup", &a, 1).unwrap();
        }
        assert_eq!(store.accounts().len(), 2);
        assert!(store.find_by_server_id("victim").is_none());
        assert!(store.find_by_server_id("").is_none());
    }
}
