//! The Manager: routes each command to the store or the CSP owning the node, after the access
//! check; keeps the undo log of transactions and the redo log that [`Manager::persist`] makes
//! durable.

mod access;
mod commands;
mod time;
mod txn;

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::csp::{Caller, Csp, CspError, CspNode, LeafValue};
use crate::error::CmError;
use crate::node::Node;
use crate::persist::{self, LoadError, Storage};
use crate::roles::{self, RoleMap};
use crate::store::{Change, TreeStore};
use crate::uri::{NodeUri, UriLimits};

pub use commands::{NewNode, ResultItem};

/// Which access-control model the device uses (one per deployment).
#[derive(Debug, Clone)]
pub enum AccessModel {
    /// The OMA DM ACL property, inherited from the nearest ancestor that has one.
    OmaAcl,
    /// The Windows role masks: each node's AccessRole (own, assigned by the map, or
    /// inherited) must share a bit with the principal's roles.
    Roles(RoleMap),
}

/// Who issues a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A DM server in a session, authenticated as `server_id`, holding `roles` (its account's
    /// roles, used by the role model).
    Server {
        /// The account's ServerID (the ACL principal).
        server_id: String,
        /// The account's role mask.
        roles: u32,
    },
    /// The device itself (UI, platform code) with a role mask. Under the OMA ACL model local
    /// callers are not restricted by ACLs; under the role model their mask is checked.
    Local {
        /// The caller's role mask.
        roles: u32,
    },
}

impl Principal {
    /// A server principal.
    pub fn server(server_id: impl Into<String>, roles: u32) -> Self {
        Principal::Server {
            server_id: server_id.into(),
            roles,
        }
    }

    /// The role mask.
    pub fn roles(&self) -> u32 {
        match self {
            Principal::Server { roles, .. } | Principal::Local { roles } => *roles,
        }
    }
}

/// Manager settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The access-control model.
    pub access: AccessModel,
    /// URI limits (reported by DevDetail).
    pub uri_limits: UriLimits,
    /// The root's ACL when the tree is new (TND recommends `Add=*&Get=*`).
    pub root_acl: String,
    /// The root's role mask under the role model (everything below inherits it unless set).
    pub root_role: u32,
    /// Journal size in bytes after which a snapshot is written and the journal restarted.
    pub snapshot_threshold: u64,
    /// Store leaves whose value Get never returns (status 405) and listings leave out:
    /// secrets such as `DMAcc/*/AppAuth/*/AAuthSecret`. Patterns as in [`RoleMap`] (a `*`
    /// segment matches any name); any mask value marks the path.
    pub write_only: RoleMap,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            access: AccessModel::OmaAcl,
            uri_limits: UriLimits::default(),
            root_acl: "Add=*&Get=*".into(),
            root_role: roles::MANAGER,
            snapshot_threshold: 1 << 20,
            write_only: RoleMap::default(),
        }
    }
}

struct Mount {
    prefix: NodeUri<'static>,
    csp: Box<dyn Csp>,
    default_role: u32,
    /// The ACL of the mount point when the CSP keeps no ACL property of its own (set by the
    /// device with [`Manager::set_mount_acl`]; empty: inherited from the parent).
    acl: String,
    /// An internal transaction was begun on this CSP and awaits its end.
    begun: bool,
    /// The [`Manager::caller_epoch`] the CSP was last told the caller in (0: never).
    told: u64,
    /// The CSP checks the targets of its changes itself ([`Csp::checks_targets`]).
    checks_targets: bool,
    /// The CSP keeps run-time properties ([`Csp::keeps_properties`]): it is asked for them.
    keeps_properties: bool,
    /// For a CSP that keeps none and a mount point without an ACL of its own: what the ACL
    /// in force at the mount point's parent grants the ACL memo's server, by command, and
    /// the memo's epoch it was read in ([`access::AclMemo`]: the same store and server while
    /// the epoch is unchanged).
    parent_verdicts: Option<(u64, access::Verdicts)>,
}

/// The Configuration Manager. See the crate documentation.
pub struct Manager {
    store: TreeStore,
    mounts: Vec<Mount>,
    config: Config,
    storage: Box<dyn Storage>,
    /// Changes applied but not yet made durable.
    pending: Vec<Change>,
    /// Undo steps of the running transaction or command.
    undo: Vec<txn::Step>,
    in_atomic: bool,
    /// The ACLs last looked up in the store (see [`access::AclMemo`]).
    acl_memo: access::AclMemo,
    /// Some mount's internal transaction was begun ([`Mount::begun`]): the end of a command
    /// looks through the mounts only then.
    internal_begun: bool,
    /// The running command changes the tree in one CSP call at most, after which nothing
    /// of it can fail: outside an Atomic its undo steps would never be used, so none are
    /// recorded (see [`Manager::keep_undo`]).
    single_step: bool,
    /// The principal of the command being run, handed to CSPs.
    caller: Option<Principal>,
    /// Counts the changes of `caller` (from 1), so that a CSP is told the caller once
    /// after each change rather than before every call.
    caller_epoch: u64,
    /// `pending.len()` when the Atomic began.
    atomic_pending_mark: usize,
    now: Option<String>,
    generation: u64,
    journal_len: u64,
    /// The journal needs a header (new, or stale) before the next record.
    needs_header: bool,
    /// A torn tail to cut before the next append.
    truncate_to: Option<u64>,
}

impl Manager {
    /// Loads the tree from `storage` (empty storage gives a tree holding only the root).
    /// Damaged storage is refused with [`LoadError::Corrupt`]; nothing is half-loaded.
    pub fn open(mut storage: Box<dyn Storage>, config: Config) -> Result<Manager, LoadError> {
        let stored = storage.load()?;
        let mut store = TreeStore::new(&config.root_acl);
        let mut generation = 0;
        if let Some(snapshot) = &stored.snapshot {
            let (gen, changes) = persist::decode_snapshot(snapshot).map_err(LoadError::Corrupt)?;
            generation = gen;
            for change in changes {
                store.apply(change);
            }
        }
        let journal = persist::decode_journal(&stored.journal).map_err(LoadError::Corrupt)?;
        let mut needs_header = true;
        let mut truncate_to = None;
        let mut journal_len = 0;
        if journal.generation == Some(generation) {
            for record in &journal.records {
                for change in persist::decode_changes(record).map_err(LoadError::Corrupt)? {
                    store.apply(change);
                }
            }
            needs_header = false;
            journal_len = journal.valid_len;
            if journal.valid_len != stored.journal.len() as u64 {
                log::warn!(
                    "dropping a torn journal tail of {} bytes",
                    stored.journal.len() as u64 - journal.valid_len
                );
                truncate_to = Some(journal.valid_len);
            }
        }
        store.check_consistency().map_err(LoadError::Corrupt)?;
        Ok(Manager {
            store,
            mounts: Vec::new(),
            config,
            storage,
            pending: Vec::new(),
            undo: Vec::new(),
            in_atomic: false,
            acl_memo: access::AclMemo::default(),
            internal_begun: false,
            single_step: false,
            caller: None,
            caller_epoch: 1,
            atomic_pending_mark: 0,
            now: None,
            generation,
            journal_len,
            needs_header,
            truncate_to,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Sets the time used for TStamp (seconds since the Unix epoch, UTC).
    pub fn set_time(&mut self, unix_seconds: i64) {
        self.now = Some(time::iso8601_basic(unix_seconds));
    }

    /// Mounts `csp` at `prefix`; commands on the prefix and below go to it. `default_role` is
    /// the AccessRole of the CSP's root under the role model. Missing ancestors of the prefix
    /// are created in the store as interior nodes.
    pub fn mount(
        &mut self,
        prefix: &str,
        csp: Box<dyn Csp>,
        default_role: u32,
    ) -> Result<(), CmError> {
        let prefix = NodeUri::parse(prefix, &self.config.uri_limits)?.into_owned();
        if prefix.is_root() {
            return Err(CmError::not_allowed("a CSP cannot own the root"));
        }
        if self.mounts.iter().any(|m| m.prefix == prefix) {
            return Err(CmError::already_exists(format!(
                "{prefix} is already mounted"
            )));
        }
        if self.owner(prefix.as_str()).is_some() {
            return Err(CmError::not_allowed(format!(
                "{prefix} lies inside another CSP"
            )));
        }
        if self.store.get(prefix.as_str()).is_some() {
            return Err(CmError::already_exists(format!(
                "{prefix} exists in the tree"
            )));
        }
        for ancestor in prefix.ancestors().skip(1) {
            match self.store.get(ancestor.as_str()) {
                Some(n) if n.is_interior() => {}
                Some(_) => return Err(CmError::not_allowed(format!("{ancestor} is a leaf"))),
                None => {
                    let node = Node::interior("");
                    self.store.put(ancestor.as_str(), node.clone());
                    self.pending
                        .push(Change::Put(ancestor.as_str().to_owned(), node));
                }
            }
        }
        // Deepest prefix first, so that ownership lookups find the deepest mount; after the
        // mounts as deep, in the order they were made.
        let depth = prefix.depth();
        let at = self.mounts.partition_point(|m| m.prefix.depth() >= depth);
        self.mounts.insert(
            at,
            Mount {
                prefix,
                checks_targets: csp.checks_targets(),
                keeps_properties: csp.keeps_properties(),
                csp,
                default_role,
                acl: String::new(),
                begun: false,
                told: 0,
                parent_verdicts: None,
            },
        );
        Ok(())
    }

    /// Whether a CSP is mounted exactly at `uri`.
    pub fn is_mount_point(&self, uri: &str) -> bool {
        NodeUri::parse(uri, &self.config.uri_limits)
            .is_ok_and(|u| self.mounts.iter().any(|m| m.prefix == u))
    }

    /// Sets the ACL of the CSP mounted at `prefix`, in force for its whole subtree (under the
    /// OMA ACL model) wherever the CSP keeps no ACL property of its own (its `get_property`
    /// answers `NotSupported`); empty inherits the parent's again. Held in memory with the
    /// mount: the device sets it again after mounting at each start.
    pub fn set_mount_acl(&mut self, prefix: &str, acl: &str) -> Result<(), CmError> {
        let prefix = NodeUri::parse(prefix, &self.config.uri_limits)?;
        crate::acl::Acl::parse(acl).map_err(|e| CmError::bad_request(format!("ACL: {e}")))?;
        let mount = self
            .mounts
            .iter_mut()
            .find(|m| m.prefix == prefix)
            .ok_or_else(|| CmError::not_found(format!("nothing is mounted at {prefix}")))?;
        mount.acl = acl.to_owned();
        Ok(())
    }

    /// Unmounts the CSP at `prefix` and hands it back. Refused inside an Atomic.
    pub fn unmount(&mut self, prefix: &str) -> Result<Box<dyn Csp>, CmError> {
        if self.in_atomic {
            return Err(CmError::new(409, "cannot unmount inside an Atomic"));
        }
        let prefix = NodeUri::parse(prefix, &self.config.uri_limits)?;
        let i = self
            .mounts
            .iter()
            .position(|m| m.prefix == prefix)
            .ok_or_else(|| CmError::not_found(format!("nothing mounted at {prefix}")))?;
        Ok(self.mounts.remove(i).csp)
    }

    /// Records who issues the command being run (told to CSPs); copied only when it changes
    /// (a session's commands all come from one server).
    // In line, the copy out of line: this runs for every command.
    #[inline(always)]
    fn set_caller(&mut self, who: &Principal) {
        if self.caller.as_ref() != Some(who) {
            self.change_caller(who);
        }
    }

    /// [`Manager::set_caller`] when the caller changes.
    #[cold]
    fn change_caller(&mut self, who: &Principal) {
        self.caller = Some(who.clone());
        self.caller_epoch += 1;
    }

    /// The mount owning a canonical path, if any.
    fn owner(&self, path: &str) -> Option<usize> {
        self.mounts.iter().position(|m| {
            let p = m.prefix.as_str();
            // The octet after the prefix first: it rules out most mounts without comparing
            // the prefix (this runs several times for every command).
            path == p || (path.as_bytes().get(p.len()) == Some(&b'/') && path.starts_with(p))
        })
    }

    /// Names of mounts directly below the store node `path`.
    fn mounted_children(&self, path: &str) -> impl Iterator<Item = String> + '_ {
        let path = path.to_owned();
        self.mounts.iter().filter_map(move |m| {
            let parent = m.prefix.parent()?;
            (parent.as_str() == path).then(|| m.prefix.name().into_owned())
        })
    }

    /// Calls the CSP of mount `i`, turning a panic into a failure, and beginning an internal
    /// transaction before its first change when `mutating`.
    fn call_csp<T>(
        &mut self,
        i: usize,
        mutating: bool,
        f: impl FnOnce(&mut dyn Csp) -> Result<T, CspError>,
    ) -> Result<T, CmError> {
        if mutating
            && !self.mounts[i].begun
            && self.mounts[i].csp.tx_mode() == crate::csp::TxMode::Internal
        {
            // Marked begun even if begin fails: every begin gets exactly one end.
            self.mounts[i].begun = true;
            self.internal_begun = true;
            let csp = &mut self.mounts[i].csp;
            match catch_unwind(AssertUnwindSafe(|| csp.begin())) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e.into()),
                Err(_) => return Err(CmError::failed("CSP panicked in begin")),
            }
        }
        let caller = match &self.caller {
            Some(Principal::Server { server_id, roles }) => Caller {
                server_id: Some(server_id),
                roles: *roles,
            },
            Some(Principal::Local { roles }) => Caller {
                server_id: None,
                roles: *roles,
            },
            None => Caller {
                server_id: None,
                roles: 0,
            },
        };
        let epoch = self.caller_epoch;
        let mount = &mut self.mounts[i];
        match catch_unwind(AssertUnwindSafe(|| {
            if mount.told != epoch {
                mount.csp.set_caller(&caller);
                mount.told = epoch;
            }
            f(mount.csp.as_mut())
        })) {
            Ok(result) => result.map_err(CmError::from),
            Err(_) => {
                log::error!("CSP at {} panicked", self.mounts[i].prefix);
                Err(CmError::failed("CSP panicked"))
            }
        }
    }

    /// The CSP's property `name` of `path` (as [`Csp::get_property`] answers it); a CSP that
    /// keeps none ([`Csp::keeps_properties`]) is not asked: `NotSupported`, its answer.
    fn csp_property(&mut self, i: usize, path: &str, name: &str) -> Result<String, CmError> {
        if !self.mounts[i].keeps_properties {
            return Err(CspError::NotSupported.into());
        }
        self.call_csp(i, false, |csp| csp.get_property(path, name))
    }

    /// Makes every change since the last call durable (one journal record). The session
    /// engine calls it before it sends statuses that report those changes. Refused inside an
    /// Atomic (commit it first).
    pub fn persist(&mut self) -> Result<(), CmError> {
        if self.in_atomic {
            return Err(CmError::failed("persist inside an Atomic"));
        }
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut bytes = Vec::new();
        let mut truncate = self.truncate_to;
        if self.needs_header {
            bytes.extend_from_slice(&persist::encode_journal_header(self.generation));
            truncate = Some(0);
        }
        bytes.extend_from_slice(&persist::encode_record(&persist::encode_changes(
            &self.pending,
        )));
        self.storage
            .append(&bytes, truncate)
            .map_err(|e| CmError::failed(format!("cannot write the journal: {e}")))?;
        self.needs_header = false;
        self.truncate_to = None;
        self.journal_len = truncate.unwrap_or(self.journal_len) + bytes.len() as u64;
        self.pending.clear();
        if self.journal_len > self.config.snapshot_threshold {
            self.snapshot()?;
        }
        Ok(())
    }

    /// Writes a snapshot of the whole store and restarts the journal.
    pub fn snapshot(&mut self) -> Result<(), CmError> {
        if self.in_atomic || !self.pending.is_empty() {
            return Err(CmError::failed("snapshot with unpersisted changes"));
        }
        let generation = self.generation + 1;
        let snap = persist::encode_snapshot(generation, self.store.iter());
        let header = persist::encode_journal_header(generation);
        self.storage
            .replace_snapshot(&snap, &header)
            .map_err(|e| CmError::failed(format!("cannot write the snapshot: {e}")))?;
        self.generation = generation;
        self.journal_len = header.len() as u64;
        self.needs_header = false;
        self.truncate_to = None;
        Ok(())
    }

    /// Whether changes await [`Manager::persist`].
    pub fn has_unpersisted_changes(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Checks the store's structural invariants (for tests and diagnostics).
    pub fn check_consistency(&self) -> Result<(), String> {
        self.store.check_consistency()
    }

    /// Number of nodes in the built-in store.
    pub fn store_len(&self) -> usize {
        self.store.len()
    }

    fn record_put(&mut self, path: &str, node: Node) {
        let undo = self.store.put(path, node);
        let after = self.store.get(path).expect("just put").clone();
        self.pending.push(Change::Put(path.to_owned(), after));
        self.undo.push(txn::Step::Store(vec![undo]));
    }

    fn record_remove(&mut self, path: &str) {
        let undo = self.store.remove(path);
        self.pending.push(Change::Remove(path.to_owned()));
        self.undo.push(txn::Step::Store(undo));
    }

    /// The node at `target` with its value, whatever the access rules: for the device's own
    /// code (the account store reading credentials), never for answering a server.
    pub fn inspect(&mut self, target: &str) -> Result<CspNode, CmError> {
        let uri = NodeUri::parse(target, &self.config.uri_limits)?;
        let path = uri.as_str();
        if let Some(i) = self.owner(path) {
            return self.call_csp(i, false, |csp| csp.node(path));
        }
        let node = self
            .store
            .get(path)
            .ok_or_else(|| CmError::not_found([path, " not found"].concat()))?;
        Ok(match Manager::leaf_of(node) {
            Some(v) => CspNode::Leaf(v),
            None => {
                let mut children: Vec<String> = node.children.iter().cloned().collect();
                children.extend(self.mounted_children(path));
                children.sort();
                children.dedup();
                CspNode::Interior {
                    children: children.into(),
                    type_: node.props.type_.clone(),
                }
            }
        })
    }

    fn leaf_of(node: &Node) -> Option<LeafValue<'static>> {
        node.value.as_ref().map(|v| LeafValue {
            data: v.clone().into(),
            format: crate::csp::common_text(&node.props.format),
            type_: crate::csp::common_text(&node.props.type_),
        })
    }
}
