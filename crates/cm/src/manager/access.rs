//! Access checks in both models (TND §7.7 ACLs; Windows role masks).

use super::{AccessModel, Manager, Principal};
use crate::acl::{self, AclCommand};
use crate::error::CmError;
use crate::uri::{decode_canonical_segment, parent_str};

/// The ACL the TND recommends for a root that has none.
const DEFAULT_ROOT_ACL: &str = "Add=*&Get=*";

/// How many store nodes' ACLs [`AclMemo`] keeps: the commands of a message reach the store
/// at a few places (the parents of the mounts they address, and the store's own nodes),
/// often in turn.
const ACL_MEMO_ENTRIES: usize = 4;

/// What an ACL grants one server, by command (`AclCommand as usize`).
pub(super) type Verdicts = [bool; AclCommand::ALL.len()];

/// What the ACLs in force at the nodes of the built-in store last looked up grant one
/// server, true while the store is unchanged (its generation), so that the commands of a
/// message walk each place's ancestors and read its ACL once.
#[derive(Debug, Default)]
pub(super) struct AclMemo {
    /// How many times the memo was emptied (for another store generation or server):
    /// verdicts read from it in one epoch hold for as long as it lasts.
    epoch: u64,
    /// The store's generation when the entries were looked up.
    generation: u64,
    /// The server whose verdicts the entries keep.
    server_id: String,
    /// The places looked up.
    entries: [AclMemoEntry; ACL_MEMO_ENTRIES],
    /// The entry a new lookup replaces (in turn).
    next: usize,
}

/// One node's ACL in [`AclMemo`].
#[derive(Debug, Default)]
struct AclMemoEntry {
    /// Whether the rest holds a lookup.
    valid: bool,
    /// The node looked up.
    path: String,
    /// Where the ACL in force there was found: the length of the ancestor of `path` (or
    /// `path` itself) that holds it, `None` for the root's default.
    source: Option<usize>,
    /// What the ACL in force there (its own, an ancestor's, or the default for the root)
    /// grants the memo's server, by command (`AclCommand as usize`): all read in one pass
    /// over the ACL, which is then not kept.
    verdicts: Verdicts,
}

impl Manager {
    /// Whether the ACL in force at the existing node `path` (its own, else its nearest
    /// ancestor's, else the TND's default for the root) permits `cmd` to `server_id`; the ACLs
    /// of stored nodes are read in place (this runs for every command).
    fn acl_permits(&mut self, path: &str, cmd: AclCommand, server_id: &str) -> bool {
        let Some(i) = self.owner(path) else {
            // No mount owns `path`, nor any of its ancestors (a mount owns its prefix and
            // everything below it): the whole walk is in the store.
            return self.store_acl_permits(path, cmd, server_id);
        };
        // Up to the mount point every node is the CSP's (mounts do not nest: `mount`
        // refuses a prefix inside or above another), above it the store's.
        // `path` is the mount point or below it.
        let mount_point_len = self.mounts[i].prefix.as_str().len();
        if !self.mounts[i].keeps_properties {
            // No node of the CSP has an ACL of its own: what the walk below finds without
            // asking it.
            let mount = &self.mounts[i];
            if !mount.acl.is_empty() {
                return acl::permits(&mount.acl, cmd, server_id);
            }
            // What the mount point's parent grants, kept in the mount while the memo holds
            // (this runs for every command).
            if let Some((epoch, verdicts)) = mount.parent_verdicts {
                if self.acl_memo_epoch(server_id) == Some(epoch) {
                    return verdicts[cmd as usize];
                }
            }
            return match parent_str(&path[..mount_point_len]) {
                Some(parent) => {
                    let verdicts = self.store_acl_verdicts(parent, server_id);
                    self.mounts[i].parent_verdicts = Some((self.acl_memo.epoch, verdicts));
                    verdicts[cmd as usize]
                }
                None => acl::permits(DEFAULT_ROOT_ACL, cmd, server_id),
            };
        }
        // `p` is always `path` or one of its ancestors: the mount point exactly when it is
        // as long.
        let mut p = path;
        loop {
            let at_mount_point = p.len() == mount_point_len;
            // As `own_acl`, the mount point's ACL read in place; the CSP's refusal is an
            // answer here, not an error to report.
            let own = self.call_csp(i, false, |csp| Ok(csp.get_property(p, "ACL")));
            let mount = &self.mounts[i];
            let verdict = match own {
                Ok(Ok(acl)) => (!acl.is_empty()).then(|| acl::permits(&acl, cmd, server_id)),
                _ => (at_mount_point && !mount.acl.is_empty())
                    .then(|| acl::permits(&mount.acl, cmd, server_id)),
            };
            if let Some(verdict) = verdict {
                return verdict;
            }
            match parent_str(p) {
                Some(parent) if at_mount_point => {
                    return self.store_acl_permits(parent, cmd, server_id)
                }
                Some(parent) => p = parent,
                None => return acl::permits(DEFAULT_ROOT_ACL, cmd, server_id),
            }
        }
    }

    /// The ACL memo's epoch when what it remembers holds for `server_id` (the store
    /// unchanged since, the same server).
    fn acl_memo_epoch(&self, server_id: &str) -> Option<u64> {
        let memo = &self.acl_memo;
        (memo.generation == self.store.generation() && memo.server_id == server_id)
            .then_some(memo.epoch)
    }

    /// Whether the ACL in force at `path` of the store (no mount owns it: the nearest own
    /// ACL of it or its ancestors, else the default for the root) permits `cmd` to
    /// `server_id`. Its verdicts are remembered while the store is unchanged.
    fn store_acl_permits(&mut self, path: &str, cmd: AclCommand, server_id: &str) -> bool {
        self.store_acl_verdicts(path, server_id)[cmd as usize]
    }

    /// What the ACL in force at `path` of the store grants `server_id`, by command (see
    /// [`Manager::store_acl_permits`]).
    fn store_acl_verdicts(&mut self, path: &str, server_id: &str) -> Verdicts {
        let generation = self.store.generation();
        let memo = &mut self.acl_memo;
        if memo.generation != generation || memo.server_id != server_id {
            // The store changed, or another server asks: nothing remembered holds.
            memo.epoch += 1;
            memo.entries.iter_mut().for_each(|e| e.valid = false);
            memo.generation = generation;
            memo.server_id.clear();
            memo.server_id.push_str(server_id);
        }
        let i = match memo.entries.iter().position(|e| e.valid && e.path == path) {
            Some(i) => i,
            None => {
                let mut p = path;
                let (source, acl) = loop {
                    if let Some(n) = self.store.get(p).filter(|n| !n.props.acl.is_empty()) {
                        break (Some(p), n.props.acl.as_str());
                    }
                    match parent_str(p) {
                        Some(parent) => p = parent,
                        None => break (None, DEFAULT_ROOT_ACL),
                    }
                };
                // Places that inherit one ACL (the mounts' parents, below a root that holds
                // the only ACL) share its verdicts: it is read once.
                let shared = memo
                    .entries
                    .iter()
                    .find(|e| {
                        e.valid
                            && match (e.source, source) {
                                (Some(len), Some(holder)) => e.path.get(..len) == Some(holder),
                                (None, None) => true,
                                _ => false,
                            }
                    })
                    .map(|e| e.verdicts);
                let i = memo.next;
                memo.next = (i + 1) % ACL_MEMO_ENTRIES;
                let entry = &mut memo.entries[i];
                entry.path.clear();
                entry.path.push_str(path);
                entry.source = source.map(str::len);
                entry.verdicts = shared.unwrap_or_else(|| acl::verdicts(acl, server_id));
                entry.valid = true;
                i
            }
        };
        memo.entries[i].verdicts
    }

    /// The node's own ACL property (empty when it inherits), or `None` if unknown.
    pub(super) fn own_acl(&mut self, path: &str) -> Option<String> {
        if let Some(i) = self.owner(path) {
            let own = self.csp_property(i, path, "ACL").ok();
            // A CSP that keeps no ACL: its mount point's, as the device set it.
            return own.or_else(|| {
                (self.mounts[i].prefix.as_str() == path && !self.mounts[i].acl.is_empty())
                    .then(|| self.mounts[i].acl.clone())
            });
        }
        self.store.get(path).map(|n| n.props.acl.clone())
    }

    /// The role mask in force at `path` (which need not exist: Add is checked at the child).
    pub(super) fn effective_role(&mut self, path: &str) -> u32 {
        let mut p = path.to_owned();
        loop {
            if let Some(mask) = self.own_role(&p) {
                return mask;
            }
            if let AccessModel::Roles(map) = &self.config.access {
                let segments: Vec<String> =
                    p.split('/').skip(1).map(decode_canonical_segment).collect();
                if let Some(mask) = map.lookup(&segments) {
                    return mask;
                }
            }
            if let Some(m) = self.mounts.iter().find(|m| m.prefix.as_str() == p) {
                return m.default_role;
            }
            match parent_str(&p) {
                Some(parent) => p = parent.to_owned(),
                None => return self.config.root_role,
            }
        }
    }

    /// The node's own AccessRole, if it has one.
    pub(super) fn own_role(&mut self, path: &str) -> Option<u32> {
        if let Some(i) = self.owner(path) {
            let text = self.csp_property(i, path, "msft:AccessRole").ok()?;
            return text.trim().parse().ok();
        }
        self.store.get(path).and_then(|n| n.props.access_role)
    }

    /// Checks that `who` may do `cmd` at `path` (an existing node, or for Add under the role
    /// model the target child).
    pub(super) fn check(
        &mut self,
        who: &Principal,
        path: &str,
        cmd: AclCommand,
    ) -> Result<(), CmError> {
        let oma_acl = matches!(self.config.access, AccessModel::OmaAcl);
        let allowed = match who {
            Principal::Local { .. } if oma_acl => true,
            Principal::Server { server_id, .. } if oma_acl => {
                self.acl_permits(path, cmd, server_id)
            }
            who => self.effective_role(path) & who.roles() != 0,
        };
        if allowed {
            Ok(())
        } else {
            Err(CmError::denied(format!("{} on {path} denied", cmd.name())))
        }
    }

    /// Checks an Add of `target` whose nearest existing ancestor is `existing`: the ACL model
    /// needs Add on that ancestor; the role model checks at the target child itself.
    pub(super) fn check_add(
        &mut self,
        who: &Principal,
        existing: &str,
        target: &str,
    ) -> Result<(), CmError> {
        match self.config.access {
            AccessModel::OmaAcl => self.check(who, existing, AclCommand::Add),
            AccessModel::Roles(_) => self.check(who, target, AclCommand::Add),
        }
    }
}
