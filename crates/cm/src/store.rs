//! The built-in tree store: every node no CSP owns, in memory, keyed by canonical URI text,
//! with the change records that transactions undo and the journal makes durable.

use std::collections::HashMap;

use crate::node::Node;
use crate::uri::parent_str;

/// One change to the store, as recorded for undo (old state) or redo (new state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The node at the path is now this (created or replaced).
    Put(String, Node),
    /// The node at the path is gone.
    Remove(String),
}

/// The in-memory tree.
#[derive(Debug, Clone)]
pub struct TreeStore {
    nodes: HashMap<String, Node>,
    /// Counts changes: what was read of the store stays true while it is the same.
    generation: u64,
}

impl TreeStore {
    /// A tree holding only the root, with the given root ACL.
    pub fn new(root_acl: &str) -> TreeStore {
        let mut root = Node::interior("");
        root.props.acl = root_acl.to_owned();
        let mut nodes = HashMap::new();
        nodes.insert(".".to_owned(), root);
        TreeStore {
            nodes,
            generation: 0,
        }
    }

    /// The node at a canonical path.
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// A number that changes whenever the store may have changed (every mutating call).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Number of nodes, the root included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether only the root exists.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() <= 1
    }

    /// Every (path, node), in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Node)> {
        self.nodes.iter()
    }

    /// Puts `node` at `path` (whose parent must exist and be interior), linking it into the
    /// parent; returns the undo record. Children of a replaced interior node are kept.
    pub fn put(&mut self, path: &str, mut node: Node) -> Change {
        self.generation += 1;
        if let Some(existing) = self.nodes.get_mut(path) {
            if node.is_interior() && existing.is_interior() {
                node.children = existing.children.clone();
            }
            // The old node moves into the undo record: no copy of its value.
            let old = std::mem::replace(existing, node);
            return Change::Put(path.to_owned(), old);
        }
        if let Some(parent) = parent_str(path) {
            let name = &path[parent.len() + 1..];
            if let Some(p) = self.nodes.get_mut(parent) {
                p.children
                    .insert(crate::uri::decode_canonical_segment(name));
            }
        }
        self.nodes.insert(path.to_owned(), node);
        Change::Remove(path.to_owned())
    }

    /// Removes the node at `path` and its subtree; returns undo records (to be applied in
    /// order) that restore them.
    pub fn remove(&mut self, path: &str) -> Vec<Change> {
        self.generation += 1;
        let mut undo = Vec::new();
        let mut stack = vec![path.to_owned()];
        while let Some(p) = stack.pop() {
            if let Some(node) = self.nodes.remove(&p) {
                for child in &node.children {
                    stack.push(format!("{p}/{}", crate::uri::encode_segment(child)));
                }
                undo.push(Change::Put(p, node));
            }
        }
        if let Some(parent) = parent_str(path) {
            let name = crate::uri::decode_canonical_segment(&path[parent.len() + 1..]);
            if let Some(p) = self.nodes.get_mut(parent) {
                p.children.remove(&name);
            }
        }
        // Parents before children when restoring.
        undo
    }

    /// Applies a change (undo or redo), keeping parent links consistent.
    pub fn apply(&mut self, change: Change) {
        match change {
            Change::Put(path, node) => {
                let children = node.children.clone();
                self.put(&path, node);
                if let Some(n) = self.nodes.get_mut(&path) {
                    n.children = children;
                }
            }
            Change::Remove(path) => {
                self.remove(&path);
            }
        }
    }

    /// Mutable access to a node's value and properties (not its children).
    pub fn node_mut(&mut self, path: &str) -> Option<&mut Node> {
        self.generation += 1;
        self.nodes.get_mut(path)
    }

    /// Checks the structural invariants: every node but the root has an interior parent
    /// listing it, every listed child exists, leaves have no children.
    pub fn check_consistency(&self) -> Result<(), String> {
        for (path, node) in &self.nodes {
            if !node.is_interior() && !node.children.is_empty() {
                return Err(format!("leaf {path} has children"));
            }
            for child in &node.children {
                let child_path = format!("{path}/{}", crate::uri::encode_segment(child));
                if !self.nodes.contains_key(&child_path) {
                    return Err(format!("{path} lists missing child {child}"));
                }
            }
            if let Some(parent) = parent_str(path) {
                let name = crate::uri::decode_canonical_segment(&path[parent.len() + 1..]);
                match self.nodes.get(parent) {
                    Some(p) if p.is_interior() && p.children.contains(&name) => {}
                    _ => return Err(format!("{path} is not linked from its parent")),
                }
            }
        }
        if !self.nodes.contains_key(".") {
            return Err("no root".into());
        }
        Ok(())
    }
}
