//! A CSP keeping its nodes in memory: every command supported, values kept as given. Used by
//! tests and by `omadm respond --memory-csp PREFIX`.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::ops::Bound;

use omadm_cm::{common_text, Csp, CspError, CspNode, LeafValue};

/// In-memory CSP rooted at a prefix.
#[derive(Debug, Clone)]
pub struct MemoryCsp {
    root: String,
    /// Canonical path → `Some(value)` for leaves, `None` for interior nodes.
    nodes: BTreeMap<String, Option<LeafValue<'static>>>,
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
        path.bytes()
            .rposition(|b| b == b'/')
            .map(|i| &path[..i])
            .unwrap_or(".")
    }
}

impl Csp for MemoryCsp {
    fn node(&mut self, path: &str) -> Result<CspNode, CspError> {
        match self.nodes.get(path) {
            None => Err(CspError::NotFound),
            Some(Some(v)) => Ok(CspNode::Leaf(v.clone())),
            Some(None) => {
                let prefix = format!("{path}/");
                let children: Vec<String> = self
                    .nodes
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .filter_map(|(k, _)| k.strip_prefix(&prefix))
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

    /// Each change finds its node (and an Add its parent) in the map and refuses as the
    /// trait asks: the Manager need not look first.
    fn checks_targets(&self) -> bool {
        true
    }

    /// No run-time properties: ACLs and roles come from the mount point and above.
    fn keeps_properties(&self) -> bool {
        false
    }

    fn is_interior(&mut self, path: &str) -> Result<bool, CspError> {
        match self.nodes.get(path) {
            None => Err(CspError::NotFound),
            Some(v) => Ok(v.is_none()),
        }
    }

    fn add(&mut self, path: &str, value: Option<&LeafValue>) -> Result<(), CspError> {
        // The parent first: a node can only exist below an interior parent, so the errors
        // are the same in either order, and the node's slot is then found once.
        match self.nodes.get(Self::parent(path)) {
            Some(None) => {}
            Some(Some(_)) => return Err(CspError::NotAllowed),
            None => return Err(CspError::NotFound),
        }
        match self.nodes.entry(path.to_owned()) {
            Entry::Occupied(_) => Err(CspError::AlreadyExists),
            Entry::Vacant(slot) => {
                slot.insert(value.map(LeafValue::to_static));
                Ok(())
            }
        }
    }

    fn replace(&mut self, path: &str, value: &LeafValue) -> Result<(), CspError> {
        match self.nodes.get_mut(path) {
            Some(Some(v)) => {
                // In place: the old value's buffers are reused when the new one fits.
                let data = v.data.to_mut();
                data.clear();
                data.extend_from_slice(&value.data);
                if v.format != value.format {
                    v.format = common_text(&value.format);
                }
                if v.type_ != value.type_ {
                    v.type_ = common_text(&value.type_);
                }
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
        match self.nodes.remove(path) {
            None => return Err(CspError::NotFound),
            // A leaf has nothing below it.
            Some(Some(_)) => return Ok(()),
            Some(None) => {}
        }
        // An interior node's subtree: the keys after `path` that start with `path/` (a range
        // of the ordered map, not a scan of every node). Keys between `path` and `path/`
        // (`path-x`: `-` sorts before `/`) are skipped, not the end of the range.
        let below: Vec<String> = self
            .nodes
            .range::<str, _>((Bound::Excluded(path), Bound::Unbounded))
            .map(|(k, _)| k)
            .take_while(|k| k.starts_with(path))
            .filter(|k| k.as_bytes().get(path.len()) == Some(&b'/'))
            .cloned()
            .collect();
        for key in below {
            self.nodes.remove(&key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf() -> LeafValue<'static> {
        LeafValue {
            data: b"v".to_vec().into(),
            format: "chr".into(),
            type_: "text/plain".into(),
        }
    }

    #[test]
    fn delete_removes_the_subtree_and_nothing_that_only_shares_its_prefix() {
        let mut csp = MemoryCsp::new("./m");
        csp.add("./m/a", None).unwrap();
        csp.add("./m/a/b", Some(&leaf())).unwrap();
        csp.add("./m/a/c", None).unwrap();
        csp.add("./m/a/c/d", Some(&leaf())).unwrap();
        csp.add("./m/ab", Some(&leaf())).unwrap();
        csp.add("./m/a-", Some(&leaf())).unwrap();
        csp.delete("./m/a").unwrap();
        let left: Vec<&str> = csp.nodes.keys().map(String::as_str).collect();
        assert_eq!(left, ["./m", "./m/a-", "./m/ab"]);
        assert_eq!(csp.delete("./m/a"), Err(CspError::NotFound));
        assert_eq!(csp.delete("./m"), Err(CspError::NotAllowed));
        csp.delete("./m/ab").unwrap();
        assert_eq!(csp.len(), 2);
    }

    #[test]
    fn add_refuses_an_existing_node_a_leaf_parent_and_a_missing_parent() {
        let mut csp = MemoryCsp::new("./m");
        csp.add("./m/a", None).unwrap();
        csp.add("./m/a/b", Some(&leaf())).unwrap();
        assert_eq!(csp.add("./m/a", None), Err(CspError::AlreadyExists));
        assert_eq!(
            csp.add("./m/a/b", Some(&leaf())),
            Err(CspError::AlreadyExists)
        );
        assert_eq!(csp.add("./m/a/b/c", None), Err(CspError::NotAllowed));
        assert_eq!(csp.add("./m/x/y", None), Err(CspError::NotFound));
        assert_eq!(csp.len(), 3);
        // And the rest of what `checks_targets` promises.
        assert!(csp.checks_targets());
        assert_eq!(csp.replace("./m/x", &leaf()), Err(CspError::NotFound));
        assert_eq!(csp.replace("./m/a", &leaf()), Err(CspError::NotAllowed));
        assert_eq!(csp.delete("./m/x"), Err(CspError::NotFound));
        assert_eq!(csp.len(), 3);
    }
}
