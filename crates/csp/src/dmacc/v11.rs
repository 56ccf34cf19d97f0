//! The 1.1.2 view: `./SyncML/DMAcc/<x>/{Addr, AddrType, PortNbr, ConRef, ServerId, ServerPW,
//! ServerNonce, UserName, ClientPW, ClientNonce, AuthPref, Name}`, each field mapped onto the
//! 1.2 node that holds the same setting. The credential fields map onto the AppAuth object of
//! the matching AAuthLevel (created on first write, named after the level).

use omadm_cm::{Caller, CmError, Csp, CspError, CspNode, LeafValue, Manager, NewNode, TxMode};

use super::account::{auth_node, set_leaf};
use super::v12::check_role;
use super::{AccountStore, LOCAL};

/// The 1.1.2 field names, in the order a Get lists them.
const FIELDS: [&str; 12] = [
    "Addr",
    "AddrType",
    "PortNbr",
    "ConRef",
    "ServerId",
    "ServerPW",
    "ServerNonce",
    "UserName",
    "ClientPW",
    "ClientNonce",
    "AuthPref",
    "Name",
];

/// Where a 1.1.2 field lives in the 1.2 layout of account `<x>`.
enum Target {
    Plain(String),
    Auth {
        level: &'static str,
        leaf: &'static str,
    },
}

fn target(x: &str, field: &str) -> Option<Target> {
    let base = format!("./DMAcc/{x}");
    Some(match field {
        "Addr" => Target::Plain(format!("{base}/AppAddr/1/Addr")),
        "AddrType" => Target::Plain(format!("{base}/AppAddr/1/AddrType")),
        "PortNbr" => Target::Plain(format!("{base}/AppAddr/1/Port/1/PortNbr")),
        "ConRef" => Target::Plain(format!("{base}/PrefConRef")),
        "ServerId" => Target::Plain(format!("{base}/ServerID")),
        "AuthPref" => Target::Plain(format!("{base}/AAuthPref")),
        "Name" => Target::Plain(format!("{base}/Name")),
        "ServerPW" => Target::Auth {
            level: "SRVCRED",
            leaf: "AAuthSecret",
        },
        "ServerNonce" => Target::Auth {
            level: "SRVCRED",
            leaf: "AAuthData",
        },
        "UserName" => Target::Auth {
            level: "CLCRED",
            leaf: "AAuthName",
        },
        "ClientPW" => Target::Auth {
            level: "CLCRED",
            leaf: "AAuthSecret",
        },
        "ClientNonce" => Target::Auth {
            level: "CLCRED",
            leaf: "AAuthData",
        },
        "Role" => Target::Plain(format!("{base}/Ext/Microsoft/Role")),
        _ => return None,
    })
}

/// The existing 1.2 path of a field, if it has one.
fn existing(t: &mut Manager, x: &str, field: &str) -> Option<String> {
    match target(x, field)? {
        Target::Plain(p) => t.exists(&p).then_some(p),
        Target::Auth { level, leaf } => {
            let base = format!("./DMAcc/{x}/AppAuth");
            let names = match t.inspect(&base) {
                Ok(CspNode::Interior { children, .. }) => children,
                _ => return None,
            };
            names.iter().find_map(|y| {
                let lvl = match t.inspect(&format!("{base}/{y}/AAuthLevel")) {
                    Ok(CspNode::Leaf(v)) => v.data,
                    _ => return None,
                };
                let p = format!("{base}/{y}/{leaf}");
                (lvl == level.as_bytes() && t.exists(&p)).then_some(p)
            })
        }
    }
}

fn write(t: &mut Manager, x: &str, field: &str, value: &LeafValue) -> Result<(), CmError> {
    match target(x, field).ok_or_else(|| CmError::not_found(format!("no field {field}")))? {
        Target::Plain(p) => set_leaf(t, &p, value.clone()),
        Target::Auth { level, leaf } => {
            let node = auth_node(t, x, level)?;
            set_leaf(t, &format!("{node}/{leaf}"), value.clone())
        }
    }
}

/// `<x>` and the field, for a path below `./SyncML/DMAcc`.
fn split(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("./SyncML/DMAcc/")?;
    Some(match rest.split_once('/') {
        Some((x, field)) => (x, field),
        None => (rest, ""),
    })
}

/// The `./SyncML/DMAcc` CSP (mount at `./SyncML/DMAcc`).
#[derive(Debug)]
pub struct SyncMlDmAccCsp {
    store: AccountStore,
    caller_roles: u32,
}

impl SyncMlDmAccCsp {
    pub(super) fn new(store: AccountStore) -> Self {
        SyncMlDmAccCsp {
            store,
            caller_roles: 0,
        }
    }
}

impl Csp for SyncMlDmAccCsp {
    fn set_caller(&mut self, caller: &Caller<'_>) {
        self.caller_roles = caller.roles;
    }

    fn node(&mut self, path: &str) -> Result<CspNode, CspError> {
        if path == "./SyncML/DMAcc" {
            return self.store.with(|t| t.inspect("./DMAcc"));
        }
        let (x, field) = split(path).ok_or(CspError::NotFound)?;
        self.store.with(|t| {
            if !t.exists(&format!("./DMAcc/{x}")) {
                return Err(CmError::not_found("no such account"));
            }
            if field.is_empty() {
                let children = FIELDS
                    .iter()
                    .filter(|f| existing(t, x, f).is_some())
                    .map(|f| (*f).to_owned())
                    .collect();
                return Ok(CspNode::Interior {
                    children,
                    type_: String::new(),
                });
            }
            match existing(t, x, field) {
                Some(p) => t.inspect(&p),
                None => Err(CmError::not_found(format!("{path} not found"))),
            }
        })
    }

    fn add(&mut self, path: &str, value: Option<&LeafValue>) -> Result<(), CspError> {
        let (x, field) = split(path).ok_or(CspError::NotAllowed)?;
        let roles = self.caller_roles;
        if field.is_empty() {
            if value.is_some() {
                return Err(CspError::NotAllowed);
            }
            self.store.with(|t| {
                t.add(
                    &LOCAL,
                    &format!("./DMAcc/{x}"),
                    NewNode::Interior {
                        type_: "urn:oma:mo:oma-dm-dmacc:1.0".into(),
                    },
                )?;
                set_leaf(t, &format!("./DMAcc/{x}/AppID"), LeafValue::text("w7"))
            })?;
            return self.store.set_ceiling(x, roles);
        }
        let value = value.ok_or(CspError::NotAllowed)?;
        match field {
            "Role" => check_role(&self.store, x, value, roles)?,
            "ServerId" => self.store.check_server_id(x, value)?,
            _ => {}
        }
        self.store.with(|t| {
            if existing(t, x, field).is_some() {
                return Err(CmError::already_exists(format!("{path} exists")));
            }
            write(t, x, field, value)
        })
    }

    fn replace(&mut self, path: &str, value: &LeafValue) -> Result<(), CspError> {
        let (x, field) = split(path).ok_or(CspError::NotAllowed)?;
        if field.is_empty() {
            return Err(CspError::NotAllowed);
        }
        match field {
            "Role" => check_role(&self.store, x, value, self.caller_roles)?,
            "ServerId" => self.store.check_server_id(x, value)?,
            _ => {}
        }
        self.store.with(|t| match existing(t, x, field) {
            Some(p) => t.replace(&LOCAL, &p, value.clone()),
            None => Err(CmError::not_found(format!("{path} not found"))),
        })
    }

    fn delete(&mut self, path: &str) -> Result<(), CspError> {
        let (x, field) = split(path).ok_or(CspError::NotAllowed)?;
        if field.is_empty() {
            self.store
                .with(|t| t.delete(&LOCAL, &format!("./DMAcc/{x}")))?;
            return self.store.forget(x);
        }
        self.store.with(|t| match existing(t, x, field) {
            Some(p) => t.delete(&LOCAL, &p),
            None => Err(CmError::not_found(format!("{path} not found"))),
        })
    }

    fn get_property(&mut self, path: &str, name: &str) -> Result<String, CspError> {
        // The account's ACL is the 1.2 node's: one store, one set of rights.
        let (x, _) = split(path).ok_or(CspError::NotSupported)?;
        match name {
            "ACL" => self.store.with(|t| {
                let target = format!("./DMAcc/{x}?prop=ACL");
                let items = t.get(&LOCAL, &target)?;
                Ok(
                    String::from_utf8_lossy(items[0].data.as_deref().unwrap_or_default())
                        .into_owned(),
                )
            }),
            _ => Err(CspError::NotSupported),
        }
    }

    fn readable(&mut self, path: &str) -> bool {
        !matches!(
            split(path),
            Some((_, "ServerPW" | "ClientPW" | "ServerNonce" | "ClientNonce"))
        )
    }

    fn tx_mode(&self) -> TxMode {
        TxMode::Internal
    }

    fn begin(&mut self) -> Result<(), CspError> {
        self.store.begin()
    }

    fn commit(&mut self) -> Result<(), CspError> {
        self.store.end(true)
    }

    fn rollback(&mut self) -> Result<(), CspError> {
        self.store.end(false)
    }
}
