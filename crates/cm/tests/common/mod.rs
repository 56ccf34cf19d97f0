//! Helpers shared by the Manager's integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use omadm_cm::{Config, Csp, CspError, CspNode, LeafValue, Manager, MemoryStorage, TxMode};

pub fn manager() -> Manager {
    Manager::open(Box::new(MemoryStorage::new()), Config::default()).unwrap()
}

pub fn text(s: &str) -> LeafValue<'static> {
    LeafValue::text(s)
}

/// Every call a test CSP received, in order.
pub type Calls = Arc<Mutex<Vec<String>>>;

/// A CSP keeping nodes in a map; can be told to fail on a path, and to be transactional.
pub struct TestCsp {
    pub prefix: String,
    pub nodes: Arc<Mutex<BTreeMap<String, Option<LeafValue<'static>>>>>,
    pub fail_on: Option<String>,
    pub internal: bool,
    pub calls: Calls,
    pub panic_on: Option<String>,
    /// Copies natively (`copy` answers) instead of leaving it to the Manager.
    pub native_copy: bool,
    /// An interior child this CSP creates with every interior node added (an MO's fixed
    /// structure).
    pub fixed_child: Option<String>,
    /// Every path `node` was asked for, in order.
    pub reads: Calls,
    /// Checks the targets of its changes itself ([`Csp::checks_targets`]).
    pub checks_targets: bool,
    /// Every path `is_interior` was asked for, in order.
    pub kinds: Calls,
    /// Promises to keep no run-time properties ([`Csp::keeps_properties`] false).
    pub keeps_no_properties: bool,
    /// Every `path?prop=name` `get_property` was asked for, in order.
    pub properties: Calls,
}

impl TestCsp {
    pub fn new(prefix: &str) -> TestCsp {
        let mut map = BTreeMap::new();
        map.insert(prefix.to_owned(), None);
        TestCsp {
            prefix: prefix.to_owned(),
            nodes: Arc::new(Mutex::new(map)),
            fail_on: None,
            internal: false,
            calls: Arc::default(),
            panic_on: None,
            native_copy: false,
            fixed_child: None,
            reads: Arc::default(),
            checks_targets: false,
            kinds: Arc::default(),
            keeps_no_properties: false,
            properties: Arc::default(),
        }
    }

    fn log(&self, s: String) {
        self.calls.lock().unwrap().push(s);
    }

    fn check(&self, path: &str) -> Result<(), CspError> {
        if self.panic_on.as_deref() == Some(path) {
            panic!("test CSP told to panic");
        }
        if self.fail_on.as_deref() == Some(path) {
            return Err(CspError::failed("told to fail"));
        }
        Ok(())
    }
}

impl Csp for TestCsp {
    fn node(&mut self, path: &str) -> Result<CspNode, CspError> {
        self.reads.lock().unwrap().push(path.to_owned());
        let nodes = self.nodes.lock().unwrap();
        match nodes.get(path) {
            None => Err(CspError::NotFound),
            Some(Some(v)) => Ok(CspNode::Leaf(v.clone())),
            Some(None) => {
                let prefix = format!("{path}/");
                let children: Vec<String> = nodes
                    .keys()
                    .filter_map(|k| k.strip_prefix(&prefix))
                    .filter(|rest| !rest.contains('/'))
                    .map(str::to_owned)
                    .collect();
                Ok(CspNode::Interior {
                    children: children.into(),
                    type_: String::new(),
                })
            }
        }
    }
    fn is_interior(&mut self, path: &str) -> Result<bool, CspError> {
        self.kinds.lock().unwrap().push(path.to_owned());
        match self.nodes.lock().unwrap().get(path) {
            None => Err(CspError::NotFound),
            Some(v) => Ok(v.is_none()),
        }
    }
    fn add(&mut self, path: &str, value: Option<&LeafValue>) -> Result<(), CspError> {
        self.log(format!("add {path}"));
        self.check(path)?;
        let mut nodes = self.nodes.lock().unwrap();
        if nodes.contains_key(path) {
            return Err(CspError::AlreadyExists);
        }
        if self.checks_targets {
            let parent = &path[..path.rfind('/').unwrap_or(0)];
            match nodes.get(parent) {
                None => return Err(CspError::NotFound),
                Some(Some(_)) => return Err(CspError::NotAllowed),
                Some(None) => {}
            }
        }
        nodes.insert(path.to_owned(), value.map(LeafValue::to_static));
        if let (None, Some(fixed)) = (value, &self.fixed_child) {
            nodes.insert(format!("{path}/{fixed}"), None);
        }
        Ok(())
    }
    fn replace(&mut self, path: &str, value: &LeafValue) -> Result<(), CspError> {
        self.log(format!("replace {path}"));
        self.check(path)?;
        let mut nodes = self.nodes.lock().unwrap();
        match nodes.get_mut(path) {
            Some(Some(v)) => {
                *v = value.to_static();
                Ok(())
            }
            Some(None) => Err(CspError::NotAllowed),
            None => Err(CspError::NotFound),
        }
    }
    fn delete(&mut self, path: &str) -> Result<(), CspError> {
        self.log(format!("delete {path}"));
        self.check(path)?;
        let mut nodes = self.nodes.lock().unwrap();
        if self.checks_targets && !nodes.contains_key(path) {
            return Err(CspError::NotFound);
        }
        let prefix = format!("{path}/");
        nodes.retain(|k, _| k != path && !k.starts_with(&prefix));
        Ok(())
    }
    fn checks_targets(&self) -> bool {
        self.checks_targets
    }
    fn get_property(&mut self, path: &str, name: &str) -> Result<String, CspError> {
        self.properties
            .lock()
            .unwrap()
            .push(format!("{path}?prop={name}"));
        Err(CspError::NotSupported)
    }
    fn keeps_properties(&self) -> bool {
        !self.keeps_no_properties
    }
    fn copy(&mut self, source: &str, target: &str) -> Result<(), CspError> {
        if !self.native_copy {
            return Err(CspError::NotSupported);
        }
        self.log(format!("copy {source} {target}"));
        self.check(target)?;
        let mut nodes = self.nodes.lock().unwrap();
        let prefix = format!("{source}/");
        let copies: Vec<(String, Option<LeafValue<'static>>)> = nodes
            .iter()
            .filter(|(k, _)| *k == source || k.starts_with(&prefix))
            .map(|(k, v)| (format!("{target}{}", &k[source.len()..]), v.clone()))
            .collect();
        nodes.extend(copies);
        Ok(())
    }
    fn exec(
        &mut self,
        path: &str,
        _data: &[u8],
        correlator: Option<&str>,
    ) -> Result<omadm_cm::ExecOutcome, CspError> {
        self.log(format!("exec {path}"));
        self.check(path)?;
        Ok(if correlator.is_some() {
            omadm_cm::ExecOutcome::Accepted
        } else {
            omadm_cm::ExecOutcome::Done
        })
    }
    fn readable(&mut self, path: &str) -> bool {
        !path.ends_with("/Secret")
    }
    fn tx_mode(&self) -> TxMode {
        if self.internal {
            TxMode::Internal
        } else {
            TxMode::External
        }
    }
    fn begin(&mut self) -> Result<(), CspError> {
        self.log("begin".into());
        Ok(())
    }
    fn commit(&mut self) -> Result<(), CspError> {
        self.log("commit".into());
        Ok(())
    }
    fn rollback(&mut self) -> Result<(), CspError> {
        self.log("rollback".into());
        Ok(())
    }
}
