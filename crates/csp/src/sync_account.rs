//! The sync-account CSP: e-mail, contacts and calendar synchronisation accounts, in the shape
//! of the Windows ActiveSync CSP (`./Vendor/MSFT/ActiveSync`), reduced to what a sync engine
//! needs to start.
//!
//! Decisions (the spec digests say nothing about this CSP):
//! - Tree, under the mount root `R`:
//!   `R/Accounts/<Id>/{EmailAddress, UserName, Password, Domain, AccountName, ServerName}`,
//!   `R/Accounts/<Id>/Options/{UseSSL, Schedule, MailAgeFilter}` and
//!   `R/Accounts/<Id>/Options/ContentTypes/<Email|Contacts|Calendar|Tasks>/Enabled`.
//!   `<Id>` is any valid node name (Windows servers send a GUID in braces).
//! - Values are checked when written: `EmailAddress` needs one `@` with text on both sides;
//!   `UseSSL` and `Enabled` are `0`/`1` (`true`/`false` accepted and stored as `1`/`0`);
//!   `Schedule` is one of the ActiveSync intervals in minutes (`0` manual, `-1` as items
//!   arrive, 5, 10, 15, 30, 60); `MailAgeFilter` is `0`..=`5`. A bad value gets 400-class
//!   status [`CspError::Failed`] with code 400, and the old value stays.
//! - `Password` is write-only: [`Csp::readable`] is false for it, so a Get gets 405 and a
//!   sub-tree Get lists it without data. [`SyncAccount`]'s `Debug` redacts it.
//! - Unknown node names get 405 (the schema is closed), as the Windows CSPs do.
//! - State lives in memory; the platform reads [`SyncAccountCsp::accounts`] (through a
//!   [`SyncAccounts`] handle it keeps) after a session and hands them to its sync engine, which
//!   owns persistence of its own accounts.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use omadm_cm::{Csp, CspError, CspNode, LeafValue};

/// The content types an account can synchronise.
pub const CONTENT_TYPES: [&str; 4] = ["Email", "Contacts", "Calendar", "Tasks"];

const ACCOUNT_LEAVES: [&str; 6] = [
    "EmailAddress",
    "UserName",
    "Password",
    "Domain",
    "AccountName",
    "ServerName",
];
const OPTION_LEAVES: [&str; 3] = ["UseSSL", "Schedule", "MailAgeFilter"];
const SCHEDULES: [&str; 7] = ["0", "-1", "5", "10", "15", "30", "60"];

/// One sync account as the device holds it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SyncAccount {
    /// The account's node name.
    pub id: String,
    /// Leaf values by path relative to the account node (`EmailAddress`, `Options/UseSSL`,
    /// `Options/ContentTypes/Email/Enabled`, ...).
    pub values: BTreeMap<String, String>,
}

impl SyncAccount {
    /// A value by relative path.
    pub fn get(&self, rel: &str) -> Option<&str> {
        self.values.get(rel).map(String::as_str)
    }

    /// The content types whose `Enabled` is `1`.
    pub fn enabled_content(&self) -> Vec<&'static str> {
        CONTENT_TYPES
            .iter()
            .copied()
            .filter(|t| self.get(&format!("Options/ContentTypes/{t}/Enabled")) == Some("1"))
            .collect()
    }
}

impl fmt::Debug for SyncAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        m.entry(&"id", &self.id);
        for (k, v) in &self.values {
            if k == "Password" {
                m.entry(k, &"<redacted>");
            } else {
                m.entry(k, v);
            }
        }
        m.finish()
    }
}

/// What the node at a path relative to the mount root is, by the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Interior,
    Leaf(Check),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Text,
    Email,
    Bool,
    Schedule,
    AgeFilter,
}

fn kind_of(rel: &[&str]) -> Option<Kind> {
    use Check::*;
    match rel {
        [] | ["Accounts"] | ["Accounts", _] | ["Accounts", _, "Options"] => Some(Kind::Interior),
        ["Accounts", _, "Options", "ContentTypes"] => Some(Kind::Interior),
        ["Accounts", _, "Options", "ContentTypes", t] if CONTENT_TYPES.contains(t) => {
            Some(Kind::Interior)
        }
        ["Accounts", _, "Options", "ContentTypes", t, "Enabled"] if CONTENT_TYPES.contains(t) => {
            Some(Kind::Leaf(Bool))
        }
        ["Accounts", _, "EmailAddress"] => Some(Kind::Leaf(Email)),
        ["Accounts", _, leaf] if ACCOUNT_LEAVES.contains(leaf) => Some(Kind::Leaf(Text)),
        ["Accounts", _, "Options", "UseSSL"] => Some(Kind::Leaf(Bool)),
        ["Accounts", _, "Options", "Schedule"] => Some(Kind::Leaf(Schedule)),
        ["Accounts", _, "Options", "MailAgeFilter"] => Some(Kind::Leaf(AgeFilter)),
        ["Accounts", _, "Options", leaf] if OPTION_LEAVES.contains(leaf) => Some(Kind::Leaf(Text)),
        _ => None,
    }
}

fn bad(reason: String) -> CspError {
    CspError::Failed { code: 400, reason }
}

fn checked(check: Check, value: &LeafValue) -> Result<String, CspError> {
    let text = std::str::from_utf8(&value.data)
        .map_err(|_| bad("value is not UTF-8 text".into()))?
        .trim()
        .to_owned();
    match check {
        Check::Text => Ok(text),
        Check::Email => match text.split_once('@') {
            Some((user, host)) if !user.is_empty() && !host.is_empty() && !host.contains('@') => {
                Ok(text)
            }
            _ => Err(bad(format!("{text:?} is not an e-mail address"))),
        },
        Check::Bool => match text.as_str() {
            "1" | "true" => Ok("1".into()),
            "0" | "false" => Ok("0".into()),
            _ => Err(bad(format!("{text:?} is not 0 or 1"))),
        },
        Check::Schedule if SCHEDULES.contains(&text.as_str()) => Ok(text),
        Check::Schedule => Err(bad(format!(
            "{text:?} is not a schedule (one of {})",
            SCHEDULES.join(", ")
        ))),
        Check::AgeFilter => match text.parse::<u8>() {
            Ok(0..=5) => Ok(text),
            _ => Err(bad(format!("{text:?} is not a mail age filter 0..5"))),
        },
    }
}

/// A shared view of the accounts, for the platform to read while the CSP is mounted.
#[derive(Debug, Clone, Default)]
pub struct SyncAccounts(Arc<Mutex<BTreeMap<String, Option<String>>>>);

impl SyncAccounts {
    /// The accounts, in node-name order.
    pub fn list(&self) -> Vec<SyncAccount> {
        let nodes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: BTreeMap<String, SyncAccount> = BTreeMap::new();
        for (path, value) in nodes.iter() {
            let mut parts = path.splitn(3, '/');
            let (Some("Accounts"), Some(id)) = (parts.next(), parts.next()) else {
                continue;
            };
            let account = out.entry(id.to_owned()).or_insert_with(|| SyncAccount {
                id: id.to_owned(),
                values: BTreeMap::new(),
            });
            if let (Some(rel), Some(v)) = (parts.next(), value) {
                account.values.insert(rel.to_owned(), v.clone());
            }
        }
        out.into_values().collect()
    }
}

/// The sync-account CSP. See the module documentation.
#[derive(Debug, Clone)]
pub struct SyncAccountCsp {
    root: String,
    /// Path relative to the root (`""` for the root) → `Some(value)` for leaves.
    nodes: SyncAccounts,
}

impl SyncAccountCsp {
    /// The CSP mounted at `root` (canonical, e.g. `./Vendor/MSFT/ActiveSync`), with its
    /// `Accounts` node.
    pub fn new(root: &str) -> Self {
        let nodes = SyncAccounts::default();
        {
            let mut n = nodes.0.lock().unwrap_or_else(|p| p.into_inner());
            n.insert(String::new(), None);
            n.insert("Accounts".into(), None);
        }
        SyncAccountCsp {
            root: root.to_owned(),
            nodes,
        }
    }

    /// A handle on the accounts that stays valid after the CSP is mounted.
    pub fn accounts(&self) -> SyncAccounts {
        self.nodes.clone()
    }

    fn rel<'a>(&self, path: &'a str) -> Result<&'a str, CspError> {
        if path == self.root {
            return Ok("");
        }
        path.strip_prefix(self.root.as_str())
            .and_then(|r| r.strip_prefix('/'))
            .ok_or(CspError::NotFound)
    }

    fn kind(rel: &str) -> Option<Kind> {
        if rel.is_empty() {
            return Some(Kind::Interior);
        }
        kind_of(&rel.split('/').collect::<Vec<_>>())
    }

    fn parent(rel: &str) -> &str {
        rel.rfind('/').map(|i| &rel[..i]).unwrap_or("")
    }
}

impl Csp for SyncAccountCsp {
    fn node(&mut self, path: &str) -> Result<CspNode, CspError> {
        let rel = self.rel(path)?;
        let nodes = self.nodes.0.lock().unwrap_or_else(|p| p.into_inner());
        match nodes.get(rel) {
            None => Err(CspError::NotFound),
            Some(Some(v)) => Ok(CspNode::Leaf(LeafValue::text(v.clone()))),
            Some(None) => {
                let prefix = if rel.is_empty() {
                    String::new()
                } else {
                    format!("{rel}/")
                };
                let children: Vec<String> = nodes
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .filter_map(|(k, _)| k.strip_prefix(&prefix))
                    .filter(|rest| !rest.is_empty() && !rest.contains('/'))
                    .map(str::to_owned)
                    .collect();
                Ok(CspNode::Interior {
                    children: children.into(),
                    type_: String::new(),
                })
            }
        }
    }

    fn add(&mut self, path: &str, value: Option<&LeafValue>) -> Result<(), CspError> {
        let rel = self.rel(path)?.to_owned();
        let kind = Self::kind(&rel).ok_or(CspError::NotAllowed)?;
        let stored = match (kind, value) {
            (Kind::Interior, None) => None,
            (Kind::Leaf(check), Some(v)) => Some(checked(check, v)?),
            (Kind::Leaf(check), None) => Some(checked(check, &LeafValue::text(""))?),
            (Kind::Interior, Some(_)) => return Err(CspError::NotAllowed),
        };
        let mut nodes = self.nodes.0.lock().unwrap_or_else(|p| p.into_inner());
        if nodes.contains_key(&rel) {
            return Err(CspError::AlreadyExists);
        }
        match nodes.get(Self::parent(&rel)) {
            Some(None) => {}
            Some(Some(_)) => return Err(CspError::NotAllowed),
            None => return Err(CspError::NotFound),
        }
        nodes.insert(rel, stored);
        Ok(())
    }

    fn replace(&mut self, path: &str, value: &LeafValue) -> Result<(), CspError> {
        let rel = self.rel(path)?.to_owned();
        let Some(Kind::Leaf(check)) = Self::kind(&rel) else {
            return Err(CspError::NotAllowed);
        };
        let v = checked(check, value)?;
        let mut nodes = self.nodes.0.lock().unwrap_or_else(|p| p.into_inner());
        match nodes.get_mut(&rel) {
            Some(Some(old)) => {
                *old = v;
                Ok(())
            }
            Some(None) => Err(CspError::NotAllowed),
            None => Err(CspError::NotFound),
        }
    }

    fn delete(&mut self, path: &str) -> Result<(), CspError> {
        let rel = self.rel(path)?.to_owned();
        if rel.is_empty() || rel == "Accounts" {
            return Err(CspError::NotAllowed);
        }
        let mut nodes = self.nodes.0.lock().unwrap_or_else(|p| p.into_inner());
        if !nodes.contains_key(&rel) {
            return Err(CspError::NotFound);
        }
        let prefix = format!("{rel}/");
        nodes.retain(|k, _| *k != rel && !k.starts_with(&prefix));
        Ok(())
    }

    /// No run-time properties: ACLs and roles come from the mount point and above.
    fn keeps_properties(&self) -> bool {
        false
    }

    fn readable(&mut self, path: &str) -> bool {
        !path.ends_with("/Password")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "./Vendor/MSFT/ActiveSync";

    fn p(rel: &str) -> String {
        format!("{ROOT}/{rel}")
    }

    fn leaf(s: &str) -> LeafValue<'static> {
        LeafValue::text(s)
    }

    #[test]
    fn an_account_is_built_node_by_node_and_listed() {
        let mut c = SyncAccountCsp::new(ROOT);
        let view = c.accounts();
        c.add(&p("Accounts/{A1}"), None).unwrap();
        c.add(
            &p("Accounts/{A1}/EmailAddress"),
            Some(&leaf("ann@example.com")),
        )
        .unwrap();
        c.add(&p("Accounts/{A1}/Password"), Some(&leaf("s3cret")))
            .unwrap();
        c.add(&p("Accounts/{A1}/Options"), None).unwrap();
        c.add(&p("Accounts/{A1}/Options/ContentTypes"), None)
            .unwrap();
        c.add(&p("Accounts/{A1}/Options/ContentTypes/Calendar"), None)
            .unwrap();
        c.add(
            &p("Accounts/{A1}/Options/ContentTypes/Calendar/Enabled"),
            Some(&leaf("true")),
        )
        .unwrap();
        let list = view.list();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].get("EmailAddress"), Some("ann@example.com"));
        assert_eq!(list[0].enabled_content(), vec!["Calendar"]);
        let debug = format!("{:?}", list[0]);
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(!c.readable(&p("Accounts/{A1}/Password")));
    }

    #[test]
    fn bad_values_and_unknown_names_are_refused_and_keep_the_old_value() {
        let mut c = SyncAccountCsp::new(ROOT);
        c.add(&p("Accounts/x"), None).unwrap();
        c.add(&p("Accounts/x/Options"), None).unwrap();
        c.add(&p("Accounts/x/Options/Schedule"), Some(&leaf("15")))
            .unwrap();
        let e = c
            .replace(&p("Accounts/x/Options/Schedule"), &leaf("7"))
            .unwrap_err();
        assert_eq!(e.status(), 400);
        assert_eq!(
            c.node(&p("Accounts/x/Options/Schedule")).unwrap(),
            CspNode::Leaf(leaf("15"))
        );
        assert_eq!(
            c.add(&p("Accounts/x/EmailAddress"), Some(&leaf("nobody")))
                .unwrap_err()
                .status(),
            400
        );
        assert_eq!(
            c.add(&p("Accounts/x/Colour"), Some(&leaf("red")))
                .unwrap_err(),
            CspError::NotAllowed
        );
        assert_eq!(
            c.add(&p("Accounts/x/Options/ContentTypes/Music"), None)
                .unwrap_err(),
            CspError::NotAllowed
        );
        assert_eq!(
            c.add(&p("Accounts/y/UserName"), Some(&leaf("u"))),
            Err(CspError::NotFound)
        );
    }

    #[test]
    fn deleting_an_account_removes_its_subtree_but_accounts_stays() {
        let mut c = SyncAccountCsp::new(ROOT);
        c.add(&p("Accounts/x"), None).unwrap();
        c.add(&p("Accounts/x/UserName"), Some(&leaf("u"))).unwrap();
        c.delete(&p("Accounts/x")).unwrap();
        assert!(c.accounts().list().is_empty());
        assert_eq!(c.delete(&p("Accounts")), Err(CspError::NotAllowed));
        assert_eq!(
            c.node(&p("Accounts")).unwrap(),
            CspNode::Interior {
                children: [].into(),
                type_: String::new()
            }
        );
    }
}
