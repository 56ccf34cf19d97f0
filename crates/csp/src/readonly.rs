//! A read-only CSP over a fixed table of leaves, shared by DevInfo and DevDetail.

use std::collections::BTreeMap;

use omadm_cm::{CspError, CspNode, LeafValue};

/// Fixed leaves by canonical path; interior nodes are implied by the paths.
#[derive(Debug, Clone)]
pub(crate) struct FixedTree {
    root: String,
    type_: String,
    leaves: BTreeMap<String, LeafValue<'static>>,
}

impl FixedTree {
    pub(crate) fn new(root: &str, type_: &str) -> Self {
        FixedTree {
            root: root.to_owned(),
            type_: type_.to_owned(),
            leaves: BTreeMap::new(),
        }
    }

    pub(crate) fn leaf(&mut self, relative: &str, value: LeafValue<'static>) {
        self.leaves
            .insert(format!("{}/{relative}", self.root), value);
    }

    pub(crate) fn node(&self, path: &str) -> Result<CspNode, CspError> {
        if let Some(v) = self.leaves.get(path) {
            return Ok(CspNode::Leaf(v.clone()));
        }
        let prefix = format!("{path}/");
        let mut children: Vec<String> = self
            .leaves
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .map(|rest| rest.split('/').next().unwrap_or(rest).to_owned())
            .collect();
        children.dedup();
        if children.is_empty() && path != self.root {
            return Err(CspError::NotFound);
        }
        let type_ = if path == self.root {
            self.type_.clone()
        } else {
            String::new()
        };
        Ok(CspNode::Interior { children, type_ })
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
