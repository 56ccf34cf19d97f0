//! A node of the management tree and its run-time properties (TND §8.3).

use std::collections::BTreeSet;

/// Run-time properties kept for every node of the built-in store.
///
/// Name and Size are derived (the last URI segment, the value's length). TStamp and VerNo are
/// maintained by the store on every change of the value (VerNo wraps FFFF → 0000).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Props {
    /// ACL; empty means inherit from the nearest ancestor.
    pub acl: String,
    /// Format: `node` for interior nodes; `chr` (default), `b64`, `bin`, `bool`, `int`, ...
    pub format: String,
    /// Type: MIME type of a leaf, MO identifier of an interior node, or empty.
    pub type_: String,
    /// Title.
    pub title: String,
    /// TStamp: UTC ISO 8601 basic of the last change, when a clock was given.
    pub tstamp: String,
    /// VerNo: incremented on each change.
    pub verno: u16,
    /// Microsoft `AccessRole` mask; `None` inherits.
    pub access_role: Option<u32>,
}

/// A node: interior (children, no value) or leaf (a value, no children).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// `Some` for a leaf (the value, possibly empty), `None` for an interior node.
    pub value: Option<Vec<u8>>,
    /// Child names of an interior node, in order.
    pub children: BTreeSet<String>,
    /// Run-time properties.
    pub props: Props,
}

impl Node {
    /// A new interior node with Type `type_`.
    pub fn interior(type_: &str) -> Node {
        Node {
            value: None,
            children: BTreeSet::new(),
            props: Props {
                format: "node".into(),
                type_: type_.into(),
                ..Props::default()
            },
        }
    }

    /// A new leaf.
    pub fn leaf(value: Vec<u8>, format: &str, type_: &str) -> Node {
        Node {
            value: Some(value),
            children: BTreeSet::new(),
            props: Props {
                format: if format.is_empty() {
                    "chr".into()
                } else {
                    format.into()
                },
                type_: if type_.is_empty() {
                    "text/plain".into()
                } else {
                    type_.into()
                },
                ..Props::default()
            },
        }
    }

    /// Whether the node is interior.
    pub fn is_interior(&self) -> bool {
        self.value.is_none()
    }
}
