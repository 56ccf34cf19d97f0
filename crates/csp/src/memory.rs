//! A CSP keeping its nodes in memory: every command supported, values kept as given. Used by
//! tests and by `omadm respond --memory-csp PREFIX`.

use std::collections::BTreeMap;

use omadm_cm::{Csp, CspError, CspNode, LeafValue};

/// In-memory CSP rooted at a prefix.
#[derive(Debug, Clone)]
pub struct MemoryCsp {
    root: String,
    /// Canonical path → `Some(value)` for leaves, `None` for interior nodes.
    nodes: BTreeMap<String, Option<LeafValue>>,
}

impl MemoryCsp {
    /// An empty CSP whose root (an interior node) is `root` (canonical, e.g. `./Vendor/memory`).
    pub fn new(root: &str) -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert(root.to_owned(), None);
        MemoryCsp {
            root: root.to_owned(),
            nodes,
        }
    }

    /// Number of nodes, the root included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether only the root exists.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() == 1
    }

    fn parent(path: &str) -> &str {
        path.rfind('/').map(|i| &path[..i]).unwrap_or(".")
    }
}

impl Csp for MemoryCsp {
    fn node(&mut self, path: &str) -> Result<CspNode, CspError> {
        match self.nodes.get(path) {
            None => Err(CspError::NotFound),
            Some(Some(v)) => Ok(CspNode::Leaf(v.clone())),
            Some(None) => {
                let prefix = format!("{path}/");
                let children = self
                    .nodes
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .filter_map(|(k, _)| k.strip_prefix(&prefix))
                    .filter(|rest| !rest.contains('/'))
                    .map(str::to_owned)
                    .collect();
                Ok(CspNode::Interior {
                    children,
                    type_: String::new(),
                })
            }
        }
    }

    fn is_interior(&mut self, path: &str) -> Result<bool, CspError> {
        match self.nodes.get(path) {
            None => Err(CspError::NotFound),
            Some(v) => Ok(v.is_none()),
        }
    }

    fn add(&mut self, path: &str, value: Option<&LeafValue>) -> Result<(), CspError> {
        if self.nodes.contains_key(path) {
            return Err(CspError::AlreadyExists);
        }
        match self.nodes.get(Self::parent(path)) {
            Some(None) => {}
            Some(Some(_)) => return Err(CspError::NotAllowed),
            None => return Err(CspError::NotFound),
        }
        self.nodes.insert(path.to_owned(), value.cloned());
        Ok(())
    }

    fn replace(&mut self, path: &str, value: &LeafValue) -> Result<(), CspError> {
        match self.nodes.get_mut(path) {
            Some(Some(v)) => {
                *v = value.clone();
                Ok(())
            }
            Some(None) => Err(CspError::NotAllowed),
            None => Err(CspError::NotFound),
        }
    }

    fn delete(&mut self, path: &str) -> Result<(), CspError> {
        if path == self.root {
            return Err(CspError::NotAllowed);
        }
        if !self.nodes.contains_key(path) {
            return Err(CspError::NotFound);
        }
        let prefix = format!("{path}/");
        self.nodes
            .retain(|k, _| k != path && !k.starts_with(&prefix));
        Ok(())
    }
}
