//! The 1.2 view: `./DMAcc/<x>/...`, the store's own layout.

use omadm_cm::{Caller, Csp, CspError, CspNode, LeafValue, NewNode, TxMode};

use super::{AccountStore, LOCAL};

/// The `./DMAcc` CSP (mount at `./DMAcc`).
#[derive(Debug)]
pub struct DmAccCsp {
    store: AccountStore,
    caller_roles: u32,
}

impl DmAccCsp {
    pub(super) fn new(store: AccountStore) -> Self {
        DmAccCsp {
            store,
            caller_roles: 0,
        }
    }
}

/// Whether `path` is one of the write-only credential leaves.
pub(super) fn is_secret(path: &str) -> bool {
    path.ends_with("/AAuthSecret") || path.ends_with("/AAuthData")
}

/// `<x>` and the rest, for a path below `./DMAcc`.
fn split(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("./DMAcc/")?;
    Some(match rest.split_once('/') {
        Some((x, tail)) => (x, tail),
        None => (rest, ""),
    })
}

/// Checks a new `Ext/Microsoft/Role` value: a number within the account's ceiling and within
/// the caller's own roles.
pub(super) fn check_role(
    store: &AccountStore,
    x: &str,
    value: &LeafValue,
    caller_roles: u32,
) -> Result<(), CspError> {
    let text = std::str::from_utf8(&value.data).map_err(|_| CspError::Failed {
        code: 400,
        reason: "Role is not text".into(),
    })?;
    let role: u32 = text.trim().parse().map_err(|_| CspError::Failed {
        code: 400,
        reason: "Role is not a number".into(),
    })?;
    let ceiling = store.ceiling(x);
    if role & !ceiling != 0 || role & !caller_roles != 0 {
        log::warn!("refused Role {role} for account {x}: ceiling {ceiling}, caller {caller_roles}");
        return Err(CspError::PermissionDenied);
    }
    Ok(())
}

impl Csp for DmAccCsp {
    fn set_caller(&mut self, caller: &Caller<'_>) {
        self.caller_roles = caller.roles;
    }

    fn node(&mut self, path: &str) -> Result<CspNode, CspError> {
        self.store.with(|t| t.inspect(path))
    }

    fn add(&mut self, path: &str, value: Option<&LeafValue>) -> Result<(), CspError> {
        let (x, tail) = split(path).ok_or(CspError::NotAllowed)?;
        match (tail, value) {
            ("Ext/Microsoft/Role", Some(v)) => check_role(&self.store, x, v, self.caller_roles)?,
            ("ServerID", Some(v)) => self.store.check_server_id(x, v)?,
            _ => {}
        }
        let node = match value {
            Some(v) => NewNode::Leaf(v.clone()),
            None => NewNode::Interior {
                type_: if tail.is_empty() {
                    "urn:oma:mo:oma-dm-dmacc:1.0".into()
                } else {
                    String::new()
                },
            },
        };
        self.store.with(|t| t.add(&LOCAL, path, node))?;
        if tail.is_empty() {
            // An account a server creates through the tree can hold at most that server's roles.
            self.store.set_ceiling(x, self.caller_roles)?;
        }
        Ok(())
    }

    fn replace(&mut self, path: &str, value: &LeafValue) -> Result<(), CspError> {
        let (x, tail) = split(path).ok_or(CspError::NotAllowed)?;
        match tail {
            "Ext/Microsoft/Role" => check_role(&self.store, x, value, self.caller_roles)?,
            "ServerID" => self.store.check_server_id(x, value)?,
            _ => {}
        }
        self.store.with(|t| t.replace(&LOCAL, path, value.clone()))
    }

    fn delete(&mut self, path: &str) -> Result<(), CspError> {
        let (x, tail) = split(path).ok_or(CspError::NotAllowed)?;
        self.store.with(|t| t.delete(&LOCAL, path))?;
        if tail.is_empty() {
            self.store.forget(x)?;
        }
        Ok(())
    }

    fn get_property(&mut self, path: &str, name: &str) -> Result<String, CspError> {
        match name {
            "ACL" | "Title" => self.store.with(|t| {
                let target = format!("{path}?prop={name}");
                let items = t.get(&LOCAL, &target)?;
                Ok(
                    String::from_utf8_lossy(items[0].data.as_deref().unwrap_or_default())
                        .into_owned(),
                )
            }),
            _ => Err(CspError::NotSupported),
        }
    }

    fn set_property(&mut self, path: &str, name: &str, value: &str) -> Result<(), CspError> {
        match name {
            "ACL" | "Title" => self.store.with(|t| {
                t.replace(
                    &LOCAL,
                    &format!("{path}?prop={name}"),
                    LeafValue::text(value),
                )
            }),
            _ => Err(CspError::NotAllowed),
        }
    }

    fn readable(&mut self, path: &str) -> bool {
        !is_secret(path)
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
