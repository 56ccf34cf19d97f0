//! A read-only CSP over a fixed table of leaves, shared by DevInfo and DevDetail.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use omadm_cm::{CspError, CspNode, LeafValue};

/// Fixed leaves by canonical path; interior nodes are implied by the paths, and their child
/// lists are made as the leaves are added (the table is built once and read often).
#[derive(Debug, Clone)]
pub(crate) struct FixedTree {
    root: String,
    type_: String,
    leaves: BTreeMap<String, LeafValue<'static>>,
    /// Each interior node's canonical path and children (the root's always there; a few
    /// entries, looked through in order), lent to each Get.
    interiors: Vec<(String, Arc<[String]>)>,
}

impl FixedTree {
    pub(crate) fn new(root: &str, type_: &str) -> Self {
        FixedTree {
            root: root.to_owned(),
            type_: type_.to_owned(),
            leaves: BTreeMap::new(),
            interiors: vec![(root.to_owned(), Arc::new([]))],
        }
    }

    pub(crate) fn leaf(&mut self, relative: &str, value: LeafValue<'static>) {
        let path = format!("{}/{relative}", self.root);
        self.leaves.insert(path.clone(), value);
        // Every ancestor up to the root lists its children again.
        let mut at = path.len();
        while let Some(slash) = path[..at].rfind('/') {
            at = slash;
            if at < self.root.len() {
                break;
            }
            let ancestor = &path[..at];
            let children = self.children_of(ancestor).into();
            match self.interiors.iter_mut().find(|(p, _)| p == ancestor) {
                Some((_, listed)) => *listed = children,
                None => self.interiors.push((ancestor.to_owned(), children)),
            }
        }
    }

    /// The children of `path` from the leaves below it: a range of the ordered table, the
    /// keys after `path` that start with `path/` (keys such as `path-x` sort between them
    /// and are skipped). A child's name is the first segment below `path`; its leaves are
    /// next to each other.
    fn children_of(&self, path: &str) -> Vec<String> {
        let mut children: Vec<String> = Vec::new();
        let after = self
            .leaves
            .range::<str, _>((Bound::Excluded(path), Bound::Unbounded))
            .map(|(key, _)| key.as_str())
            .take_while(|key| key.starts_with(path));
        for key in after {
            let Some(rest) = key[path.len()..].strip_prefix('/') else {
                continue;
            };
            let name = rest.split_once('/').map_or(rest, |(name, _)| name);
            if children.last().map(String::as_str) != Some(name) {
                children.push(name.to_owned());
            }
        }
        children
    }

    pub(crate) fn node(&self, path: &str) -> Result<CspNode, CspError> {
        if let Some(v) = self.leaves.get(path) {
            return Ok(CspNode::Leaf(v.clone()));
        }
        let (_, children) = self
            .interiors
            .iter()
            .find(|(p, _)| p == path)
            .ok_or(CspError::NotFound)?;
        let type_ = if path == self.root {
            self.type_.clone()
        } else {
            String::new()
        };
        Ok(CspNode::Interior {
            children: children.clone(),
            type_,
        })
    }
}

pub(crate) fn int(value: impl ToString) -> LeafValue<'static> {
    LeafValue {
        data: value.to_string().into_bytes().into(),
        format: "int".into(),
        type_: "text/plain".into(),
    }
}

pub(crate) fn boolean(value: bool) -> LeafValue<'static> {
    LeafValue {
        data: value.to_string().into_bytes().into(),
        format: "bool".into(),
        type_: "text/plain".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn children(tree: &FixedTree, path: &str) -> Result<Vec<String>, CspError> {
        match tree.node(path)? {
            CspNode::Interior { children, .. } => Ok(children.to_vec()),
            CspNode::Leaf(_) => panic!("{path} is a leaf"),
        }
    }

    #[test]
    fn an_interior_node_lists_each_child_once_and_nothing_that_only_shares_its_prefix() {
        let mut tree = FixedTree::new("./T", "urn:t");
        for leaf in ["a/x", "a/y", "a-b", "ab", "b/c/d", "b/e", "z"] {
            tree.leaf(leaf, int(1));
        }
        // In the order of the paths (`-` sorts before `/`).
        assert_eq!(
            children(&tree, "./T").unwrap(),
            ["a-b", "a", "ab", "b", "z"]
        );
        assert_eq!(children(&tree, "./T/a").unwrap(), ["x", "y"]);
        assert_eq!(children(&tree, "./T/b").unwrap(), ["c", "e"]);
        assert_eq!(children(&tree, "./T/b/c").unwrap(), ["d"]);
        assert!(matches!(tree.node("./T/a/x"), Ok(CspNode::Leaf(_))));
        assert_eq!(children(&tree, "./T/a-"), Err(CspError::NotFound));
        assert_eq!(children(&tree, "./T/q"), Err(CspError::NotFound));
        match tree.node("./T").unwrap() {
            CspNode::Interior { type_, .. } => assert_eq!(type_, "urn:t"),
            CspNode::Leaf(_) => unreachable!(),
        }
        // An empty table: the root exists, with no children.
        assert_eq!(
            children(&FixedTree::new("./E", ""), "./E").unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_child_list_is_lent_not_copied() {
        let mut tree = FixedTree::new("./T", "");
        tree.leaf("a/x", int(1));
        tree.leaf("b", int(2));
        let list = |path| match tree.node(path).unwrap() {
            CspNode::Interior { children, .. } => children,
            CspNode::Leaf(_) => unreachable!(),
        };
        for path in ["./T", "./T/a"] {
            assert!(Arc::ptr_eq(&list(path), &list(path)), "{path}");
        }
        // Each node its own list.
        assert!(!Arc::ptr_eq(&list("./T"), &list("./T/a")));
    }
}
