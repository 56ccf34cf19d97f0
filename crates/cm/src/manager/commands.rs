//! The commands: Add, Get (values, child lists, `?prop=`, `?list=`), Replace (values and
//! properties), Delete, Copy, Exec. Each runs inside a savepoint: when it fails, nothing it
//! did remains.

use std::borrow::Cow;

use super::txn::Step;
use super::{AccessModel, Manager, Principal};
use crate::acl::{Acl, AclCommand};
use crate::csp::{common_text, CspNode, ExecOutcome, LeafValue, TxMode};
use crate::error::CmError;
use crate::node::Node;
use crate::uri::{encode_segment, parent_str, parse_target, NodeUri, Query};

/// What an Add creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewNode<'a> {
    /// An interior node (Meta Format `node`) with a Type (MO identifier) or empty.
    Interior {
        /// Type.
        type_: String,
    },
    /// A leaf with its value (lent by the command: a CSP copies what it keeps).
    Leaf(LeafValue<'a>),
}

/// One item of a Get's Results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultItem<'a> {
    /// The node's URI (with the query for properties): the Get's target when that is in
    /// canonical form (lent, not copied).
    pub uri: Cow<'a, str>,
    /// Format (`node` for interior nodes and child lists); the common ones are static text.
    pub format: Cow<'static, str>,
    /// Type; the common ones are static text.
    pub type_: Cow<'static, str>,
    /// The value; `None` in `?list=Struct` items.
    pub data: Option<Vec<u8>>,
}

impl ResultItem<'_> {
    /// This item, owning its URI.
    pub fn into_owned(self) -> ResultItem<'static> {
        ResultItem {
            uri: Cow::Owned(self.uri.into_owned()),
            format: self.format,
            type_: self.type_,
            data: self.data,
        }
    }
}

/// A node as either owner sees it.
enum Found {
    Store(Node),
    Csp(usize, CspNode),
}

impl Found {
    fn is_interior(&self) -> bool {
        match self {
            Found::Store(n) => n.is_interior(),
            Found::Csp(_, n) => matches!(n, CspNode::Interior { .. }),
        }
    }
}

const READ_ONLY_PROPS: [&str; 5] = ["Format", "Type", "Size", "TStamp", "VerNo"];

impl Manager {
    fn parse<'t>(&self, target: &'t str) -> Result<(NodeUri<'t>, Option<Query>), CmError> {
        Ok(parse_target(target, &self.config.uri_limits)?)
    }

    fn find(&mut self, path: &str) -> Result<Option<Found>, CmError> {
        if let Some(i) = self.owner(path) {
            return match self.call_csp(i, false, |csp| csp.node(path)) {
                Ok(n) => Ok(Some(Found::Csp(i, n))),
                Err(e) if e.status == 404 => Ok(None),
                Err(e) => Err(e),
            };
        }
        Ok(self.store.get(path).cloned().map(Found::Store))
    }

    /// Whether a node exists and is interior, without listing children: `None` when absent.
    fn kind(&mut self, path: &str) -> Result<Option<bool>, CmError> {
        if let Some(i) = self.owner(path) {
            return match self.call_csp(i, false, |csp| csp.is_interior(path)) {
                Ok(interior) => Ok(Some(interior)),
                Err(e) if e.status == 404 => Ok(None),
                Err(e) => Err(e),
            };
        }
        Ok(self.store.get(path).map(Node::is_interior))
    }

    /// The node at `path`, or 404.
    fn existing(&mut self, path: &str) -> Result<Found, CmError> {
        self.find(path)?
            .ok_or_else(|| CmError::not_found([path, " not found"].concat()))
    }

    /// The names of the children of the node at `path`, as `found`: a CSP's own list is lent.
    fn children<'f>(&mut self, path: &str, found: &'f Found) -> Cow<'f, [String]> {
        match found {
            Found::Store(n) => {
                let mut names: Vec<String> = n.children.iter().cloned().collect();
                names.extend(self.mounted_children(path));
                names.sort();
                names.dedup();
                Cow::Owned(names)
            }
            Found::Csp(_, CspNode::Interior { children, .. }) => Cow::Borrowed(&children[..]),
            Found::Csp(_, CspNode::Leaf(_)) => Cow::Borrowed(&[]),
        }
    }

    fn readable(&mut self, path: &str) -> bool {
        match self.owner(path) {
            Some(i) => self
                .call_csp(i, false, |csp| Ok(csp.readable(path)))
                .unwrap_or(false),
            None if self.config.write_only.is_empty() => true,
            None => {
                let segments: Vec<String> = path
                    .split('/')
                    .skip(1)
                    .map(crate::uri::decode_canonical_segment)
                    .collect();
                self.config.write_only.lookup(&segments).is_none()
            }
        }
    }

    // ---- Get ------------------------------------------------------------------------------

    /// Get: a leaf's value, an interior node's child names (`a/b/c`, Format `node`), a
    /// property (`?prop=`), or a subtree listing (`?list=Struct|StructData`).
    pub fn get<'t>(
        &mut self,
        who: &Principal,
        target: &'t str,
    ) -> Result<Vec<ResultItem<'t>>, CmError> {
        let mut items = Vec::with_capacity(1);
        self.get_each(who, target, |item| items.push(item))?;
        Ok(items)
    }

    /// [`Manager::get`], handing each Results item to `found` in order (only once the Get
    /// has succeeded: on an error `found` is not called), for a caller that turns the items
    /// into something else without a list of them.
    pub fn get_each<'t>(
        &mut self,
        who: &Principal,
        target: &'t str,
        mut found: impl FnMut(ResultItem<'t>),
    ) -> Result<(), CmError> {
        self.set_caller(who);
        let (uri, query) = self.parse(target)?;
        let path = uri.as_str();
        if query.is_none() && self.owner(path).is_none() {
            // Fast path for store leaves: no copy of the node beyond its value.
            match self.store.get(path) {
                None => return Err(CmError::not_found([path, " not found"].concat())),
                Some(n) if !n.is_interior() => {
                    self.check(who, path, AclCommand::Get)?;
                    if !self.readable(path) {
                        return Err(CmError::not_allowed([path, " is write-only"].concat()));
                    }
                    let n = self.store.get(path).expect("checked above");
                    found(ResultItem {
                        uri: uri.to_text(),
                        format: common_text(&n.props.format),
                        type_: common_text(&n.props.type_),
                        data: n.value.clone(),
                    });
                    return Ok(());
                }
                Some(_) => {}
            }
        }
        let node = self.existing(path)?;
        self.check(who, path, AclCommand::Get)?;
        match query {
            None => {
                if !self.readable(path) {
                    return Err(CmError::not_allowed([path, " is write-only"].concat()));
                }
                found(self.item(uri.to_text(), node, true));
            }
            Some(Query::Prop(name)) => {
                let value = self.get_property(path, &node, &name)?;
                found(ResultItem {
                    uri: Cow::Owned(format!("{path}?prop={name}")),
                    format: "chr".into(),
                    type_: "text/plain".into(),
                    data: Some(value.into_bytes()),
                });
            }
            Some(Query::ListStruct) => self
                .list(who, path, node, false)?
                .into_iter()
                .for_each(found),
            Some(Query::ListStructData) => self
                .list(who, path, node, true)?
                .into_iter()
                .for_each(found),
            Some(Query::ListOther(form)) => {
                return Err(CmError::not_supported(format!(
                    "?list={form} is not supported"
                )))
            }
        }
        Ok(())
    }

    /// The Results item for the node `found` at `uri` (its value, or for an interior node
    /// its child list, when `with_data`), made of the node's own text without copying it.
    fn item<'t>(&mut self, uri: Cow<'t, str>, found: Found, with_data: bool) -> ResultItem<'t> {
        match found {
            Found::Store(n) if !n.is_interior() => ResultItem {
                uri,
                format: n.props.format.into(),
                type_: n.props.type_.into(),
                data: with_data.then(|| n.value.unwrap_or_default()),
            },
            Found::Csp(_, CspNode::Leaf(v)) => ResultItem {
                uri,
                format: v.format,
                type_: v.type_,
                data: with_data.then(|| v.data.into_owned()),
            },
            found => {
                let children = with_data.then(|| self.children(&uri, &found).join("/"));
                let type_ = match found {
                    Found::Store(n) => n.props.type_,
                    Found::Csp(_, CspNode::Interior { type_, .. }) => type_,
                    Found::Csp(_, CspNode::Leaf(_)) => String::new(),
                };
                ResultItem {
                    uri,
                    format: "node".into(),
                    type_: if type_.is_empty() {
                        "text/plain".into()
                    } else {
                        type_.into()
                    },
                    data: children.map(String::into_bytes),
                }
            }
        }
    }

    fn list(
        &mut self,
        who: &Principal,
        path: &str,
        found: Found,
        with_data: bool,
    ) -> Result<Vec<ResultItem<'static>>, CmError> {
        let mut out = Vec::new();
        let mut stack = vec![(path.to_owned(), found)];
        while let Some((p, f)) = stack.pop() {
            let readable = self.readable(&p);
            let interior = f.is_interior();
            let names = self.children(&p, &f).into_owned();
            // An interior node's Data in a list is not its child list: none.
            out.push(self.item(Cow::Owned(p.clone()), f, with_data && readable && !interior));
            let mut kids = Vec::new();
            for name in names {
                let child = format!("{p}/{}", encode_segment(&name));
                if self.check(who, &child, AclCommand::Get).is_err() {
                    continue;
                }
                if let Some(cf) = self.find(&child)? {
                    kids.push((child, cf));
                }
            }
            // Document order: push in reverse so the first child is listed first.
            stack.extend(kids.into_iter().rev());
        }
        Ok(out)
    }

    fn get_property(&mut self, path: &str, found: &Found, name: &str) -> Result<String, CmError> {
        if let Found::Csp(i, _) = found {
            match self.csp_property(*i, path, name) {
                Ok(v) => return Ok(v),
                Err(e) if e.status == 406 => {}
                Err(e) => return Err(e),
            }
        }
        let (format, type_, size) = match found {
            Found::Store(n) => (
                n.props.format.clone(),
                n.props.type_.clone(),
                n.value.as_ref().map(Vec::len),
            ),
            Found::Csp(_, CspNode::Leaf(v)) => (
                v.format.to_string(),
                v.type_.to_string(),
                Some(v.data.len()),
            ),
            Found::Csp(_, CspNode::Interior { type_, .. }) => ("node".into(), type_.clone(), None),
        };
        let store_node = match found {
            Found::Store(n) => Some(n),
            Found::Csp(..) => None,
        };
        let name_of = NodeUri::parse(path, &self.config.uri_limits)
            .map(|u| u.name().into_owned())
            .unwrap_or_default();
        match name {
            "ACL" => Ok(match store_node {
                Some(n) => n.props.acl.clone(),
                None => self.own_acl(path).unwrap_or_default(),
            }),
            "Format" => Ok(format),
            "Type" => Ok(type_),
            "Name" => Ok(name_of),
            "Size" => size
                .map(|s| s.to_string())
                .ok_or_else(|| CmError::not_allowed("interior nodes have no Size")),
            "Title" => Ok(store_node
                .map(|n| n.props.title.clone())
                .unwrap_or_default()),
            "TStamp" => Ok(store_node
                .map(|n| n.props.tstamp.clone())
                .unwrap_or_default()),
            "VerNo" => Ok(store_node
                .map(|n| n.props.verno.to_string())
                .unwrap_or_default()),
            "msft:AccessRole" | "MSFT:AccessRole" => Ok(self.effective_role(path).to_string()),
            other => Err(CmError::not_supported(format!(
                "property {other} is not supported"
            ))),
        }
    }

    // ---- Add ------------------------------------------------------------------------------

    /// Add: creates a node, and missing interior ancestors implicitly (TND; Windows CM2).
    pub fn add(&mut self, who: &Principal, target: &str, node: NewNode) -> Result<(), CmError> {
        self.set_caller(who);
        let (uri, query) = self.parse(target)?;
        if query.is_some() {
            return Err(CmError::not_allowed("properties cannot be added"));
        }
        self.run_single(|m| m.add_at(who, &uri, node))
    }

    fn add_at(&mut self, who: &Principal, uri: &NodeUri, node: NewNode) -> Result<(), CmError> {
        let path = uri.as_str();
        if self.add_in_checking_csp(who, path, &node)? {
            return Ok(());
        }
        if uri.is_root() || self.kind(path)?.is_some() {
            return Err(CmError::already_exists([path, " exists"].concat()));
        }
        // Nearest existing ancestor, and the missing ones below it (top first). The parent
        // exists in the common case: looked at first, without building any URI.
        let mut missing = Vec::new();
        let parent = parent_str(path).expect("not the root");
        let (existing, existing_interior) = match self.kind(parent)? {
            Some(interior) => (parent, interior),
            None => {
                let mut existing = None;
                for ancestor in uri.ancestors().collect::<Vec<_>>().into_iter().rev() {
                    match self.kind(ancestor.as_str())? {
                        Some(interior) => {
                            existing = Some((ancestor, interior));
                            break;
                        }
                        None => missing.push(ancestor),
                    }
                }
                let (existing, interior) = existing.expect("the root exists");
                let at = path.get(..existing.as_str().len()).unwrap_or(parent);
                (at, interior)
            }
        };
        if !existing_interior {
            return Err(CmError::not_allowed(format!("{existing} is a leaf")));
        }
        missing.reverse();
        if !missing.is_empty() {
            // The ancestors are created first: the last create may fail after them.
            self.single_step = false;
        }
        self.check_add(who, existing, path)?;
        if let NewNode::Leaf(v) = &node {
            crate::format::check_value(&v.format, &v.data)?;
        }
        for ancestor in &missing {
            // A CSP may create fixed children when a node is added (an MO's structure):
            // an ancestor that exists by now is not added again.
            if self.kind(ancestor.as_str())?.is_some() {
                continue;
            }
            self.create(
                who,
                ancestor,
                NewNode::Interior {
                    type_: String::new(),
                },
            )
            .map_err(|mut e| {
                e.message = format!("implicit Add of {ancestor} failed: {}", e.message).into();
                e
            })?;
        }
        self.create(who, uri, node)
    }

    /// The common Add below the mount point of a CSP that checks its targets
    /// ([`Csp::checks_targets`]), in one call: the checks that need no look at the tree
    /// (Add on the parent, the value), then the CSP's `add`. `Ok(false)` when anything
    /// refuses (the node exists, its parent does not or is a leaf, a check fails): nothing
    /// was changed, and the general way finds and reports what is wrong.
    fn add_in_checking_csp(
        &mut self,
        who: &Principal,
        path: &str,
        node: &NewNode,
    ) -> Result<bool, CmError> {
        let Some(i) = self.owner(path) else {
            return Ok(false);
        };
        if !self.mounts[i].checks_targets || path.len() == self.mounts[i].prefix.as_str().len() {
            return Ok(false);
        }
        let Some(parent) = parent_str(path) else {
            return Ok(false);
        };
        if self.check_add(who, parent, path).is_err() {
            return Ok(false);
        }
        let value = match node {
            NewNode::Leaf(v) => {
                if crate::format::check_value(&v.format, &v.data).is_err() {
                    return Ok(false);
                }
                Some(v)
            }
            NewNode::Interior { .. } => None,
        };
        match self.add_to_csp(i, path, value) {
            Ok(()) => Ok(true),
            Err(e) if matches!(e.status, 404 | 405 | 418) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Adds the node at `path` to the CSP of mount `i`, undone with the transaction.
    fn add_to_csp(
        &mut self,
        i: usize,
        path: &str,
        value: Option<&LeafValue>,
    ) -> Result<(), CmError> {
        self.call_csp(i, true, |csp| csp.add(path, value))?;
        if self.keeps_csp_copy(i) {
            self.undo.push(Step::CspDelete {
                mount: i,
                path: path.to_owned(),
            });
        }
        Ok(())
    }

    /// Creates one node whose parent exists.
    fn create(&mut self, who: &Principal, uri: &NodeUri, node: NewNode) -> Result<(), CmError> {
        let path = uri.as_str();
        if let Some(i) = self.owner(path) {
            let value = match &node {
                NewNode::Leaf(v) => Some(v),
                NewNode::Interior { .. } => None,
            };
            return self.add_to_csp(i, path, value);
        }
        let mut new = match node {
            NewNode::Interior { type_ } => Node::interior(&type_),
            NewNode::Leaf(v) => Node::leaf(v.data.into_owned(), &v.format, &v.type_),
        };
        new.props.tstamp = self.now.clone().unwrap_or_default();
        if let (true, AccessModel::OmaAcl, Principal::Server { server_id, .. }) =
            (new.is_interior(), &self.config.access, who)
        {
            // TND: a server adding an interior node without Replace on the parent gets Add,
            // Delete and Replace on it, so that it can manage what it created.
            let parent = uri.parent().expect("not the root");
            if self
                .check(who, parent.as_str(), AclCommand::Replace)
                .is_err()
            {
                new.props.acl = format!("Add={server_id}&Delete={server_id}&Replace={server_id}");
            }
        }
        self.record_put(path, new);
        Ok(())
    }

    // ---- Replace --------------------------------------------------------------------------

    /// Replace: a leaf's value, or a property (`?prop=ACL|Name|Title|msft:AccessRole`).
    pub fn replace(
        &mut self,
        who: &Principal,
        target: &str,
        value: LeafValue,
    ) -> Result<(), CmError> {
        self.set_caller(who);
        let (uri, query) = self.parse(target)?;
        self.run_single(|m| match query {
            None => m.replace_value(who, &uri, value),
            Some(Query::Prop(name)) => m.replace_property(who, &uri, &name, value),
            Some(_) => Err(CmError::not_allowed("Replace on a list query")),
        })
    }

    fn replace_value(
        &mut self,
        who: &Principal,
        uri: &NodeUri,
        value: LeafValue,
    ) -> Result<(), CmError> {
        let path = uri.as_str();
        if let Some(i) = self.owner(path) {
            if !value.format.is_empty() && !self.keep_undo() {
                if self.mounts[i].checks_targets
                    && self.check(who, path, AclCommand::Replace).is_ok()
                    && crate::format::check_value(&value.format, &value.data).is_ok()
                {
                    // The CSP says itself when the node is absent or interior (then the
                    // way below finds which, and names it).
                    match self.call_csp(i, true, |csp| csp.replace(path, &value)) {
                        Err(e) if e.status == 404 => {
                            return Err(CmError::not_found([path, " not found"].concat()))
                        }
                        Err(e) if e.status == 405 => {}
                        done => return done,
                    }
                }
                // Neither the old value (for undo) nor its format is needed: the CSP is
                // asked whether the node is a leaf, not for a copy of it.
                let interior = self
                    .kind(path)?
                    .ok_or_else(|| CmError::not_found([path, " not found"].concat()))?;
                self.check(who, path, AclCommand::Replace)?;
                crate::format::check_value(&value.format, &value.data)?;
                if interior {
                    return Err(CmError::not_allowed([path, " is interior"].concat()));
                }
                return self.call_csp(i, true, |csp| csp.replace(path, &value));
            }
        }
        let found = self.existing(path)?;
        self.check(who, path, AclCommand::Replace)?;
        // The value must be of its format: the one it names, else the node's.
        let format = match (&found, value.format.is_empty()) {
            (Found::Store(n), true) if !n.is_interior() => n.props.format.as_str(),
            (Found::Csp(_, CspNode::Leaf(old)), true) => &*old.format,
            _ => &*value.format,
        };
        crate::format::check_value(format, &value.data)?;
        match found {
            Found::Store(n) if n.is_interior() => {
                Err(CmError::not_allowed([path, " is interior"].concat()))
            }
            Found::Store(mut n) => {
                n.value = Some(value.data.into_owned());
                if !value.format.is_empty() {
                    n.props.format = value.format.into_owned();
                }
                if !value.type_.is_empty() {
                    n.props.type_ = value.type_.into_owned();
                }
                n.props.verno = n.props.verno.wrapping_add(1);
                n.props.tstamp = self.now.clone().unwrap_or_default();
                self.record_put(path, n);
                Ok(())
            }
            Found::Csp(_, CspNode::Interior { .. }) => {
                Err(CmError::not_allowed([path, " is interior"].concat()))
            }
            Found::Csp(i, CspNode::Leaf(old)) => {
                self.call_csp(i, true, |csp| csp.replace(path, &value))?;
                if self.keeps_csp_copy(i) {
                    self.undo.push(Step::CspReplace {
                        mount: i,
                        path: path.to_owned(),
                        old,
                    });
                }
                Ok(())
            }
        }
    }

    fn replace_property(
        &mut self,
        who: &Principal,
        uri: &NodeUri,
        name: &str,
        value: LeafValue,
    ) -> Result<(), CmError> {
        let path = uri.as_str();
        let found = self.existing(path)?;
        let text = String::from_utf8(value.data.into_owned())
            .map_err(|_| CmError::bad_request("property value is not UTF-8"))?;
        if READ_ONLY_PROPS.contains(&name) {
            return Err(CmError::not_allowed(format!("{name} cannot be replaced")));
        }
        match name {
            "ACL" => {
                // TND: an interior node's ACL needs Replace on it or on its parent; a leaf's
                // only on its parent.
                // The root has no parent: Replace on the root itself, and it keeps an ACL.
                match uri.parent() {
                    None => {
                        self.check(who, path, AclCommand::Replace)?;
                        if text.is_empty() {
                            return Err(CmError::bad_request("the root must have an ACL"));
                        }
                    }
                    Some(parent) => {
                        let on_parent = self.check(who, parent.as_str(), AclCommand::Replace);
                        if on_parent.is_err()
                            && !(found.is_interior()
                                && self.check(who, path, AclCommand::Replace).is_ok())
                        {
                            return on_parent;
                        }
                    }
                }
                Acl::parse(&text).map_err(|e| CmError::bad_request(e.to_string()))?;
            }
            "msft:AccessRole" | "MSFT:AccessRole" => {
                self.check(who, path, AclCommand::Replace)?;
                let mask: u32 = text
                    .trim()
                    .parse()
                    .map_err(|_| CmError::bad_request("AccessRole is not a number"))?;
                // A principal cannot hand out roles it does not hold.
                let old = self.effective_role(path);
                if mask & !who.roles() & !old != 0 {
                    return Err(CmError::denied(
                        "AccessRole would grant roles the server does not hold",
                    ));
                }
            }
            "Name" | "Title" => self.check(who, path, AclCommand::Replace)?,
            other => {
                return Err(CmError::not_supported(format!(
                    "property {other} is not supported"
                )))
            }
        }
        match found {
            Found::Csp(i, _) => self.call_csp(i, true, |csp| csp.set_property(path, name, &text)),
            Found::Store(mut n) => match name {
                "Name" => self.rename(uri, &text),
                _ => {
                    match name {
                        "ACL" => n.props.acl = text,
                        "Title" => n.props.title = text,
                        _ => {
                            n.props.access_role = Some(text.trim().parse().expect("checked above"))
                        }
                    }
                    n.props.verno = n.props.verno.wrapping_add(1);
                    n.props.tstamp = self.now.clone().unwrap_or_default();
                    self.record_put(path, n);
                    Ok(())
                }
            },
        }
    }

    /// Renames a store node (Replace `?prop=Name`): its subtree moves with it.
    fn rename(&mut self, uri: &NodeUri, new_name: &str) -> Result<(), CmError> {
        let parent = uri
            .parent()
            .ok_or_else(|| CmError::not_allowed("the root cannot be renamed"))?;
        let to = parent.child(new_name)?;
        to.check_limits(&self.config.uri_limits)?;
        if self.find(to.as_str())?.is_some() {
            return Err(CmError::already_exists(format!("{to} exists")));
        }
        if self.mounts.iter().any(|m| m.prefix.starts_with(uri)) {
            return Err(CmError::not_allowed("a CSP is mounted below this node"));
        }
        let mut nodes = Vec::new();
        let mut stack = vec![uri.clone()];
        while let Some(u) = stack.pop() {
            let node = self
                .store
                .get(u.as_str())
                .cloned()
                .ok_or_else(|| CmError::failed("tree inconsistent"))?;
            for c in &node.children {
                stack.push(u.child(c)?);
            }
            nodes.push((u, node));
        }
        self.record_remove(uri.as_str());
        for (u, mut node) in nodes {
            let moved = u.rebase(uri, &to).expect("inside the subtree");
            node.children.clear();
            self.record_put(moved.as_str(), node);
        }
        Ok(())
    }

    // ---- Delete ---------------------------------------------------------------------------

    /// Delete: the node and its subtree.
    pub fn delete(&mut self, who: &Principal, target: &str) -> Result<(), CmError> {
        self.set_caller(who);
        let (uri, query) = self.parse(target)?;
        if query.is_some() {
            return Err(CmError::not_allowed("properties cannot be deleted"));
        }
        self.run_single(|m| m.delete_at(who, &uri))
    }

    fn delete_at(&mut self, who: &Principal, uri: &NodeUri) -> Result<(), CmError> {
        let path = uri.as_str();
        if uri.is_root() {
            return Err(CmError::not_allowed("the root cannot be deleted"));
        }
        let owner = self.owner(path);
        // A CSP that checks its targets, with nothing to copy for undo, says itself when the
        // node is absent: it is not asked first. A refused check goes the general way, which
        // tells an absent node from a denied one.
        let trusted = owner
            .is_some_and(|i| self.mounts[i].checks_targets && !self.keeps_csp_copy(i))
            && self.check(who, path, AclCommand::Delete).is_ok();
        if !trusted {
            if self.kind(path)?.is_none() {
                return Err(CmError::not_found([path, " not found"].concat()));
            }
            self.check(who, path, AclCommand::Delete)?;
        }
        match owner {
            None => {
                if self.mounts.iter().any(|m| m.prefix.starts_with(uri)) {
                    return Err(CmError::not_allowed(format!(
                        "a CSP is mounted at or below {path}"
                    )));
                }
                self.record_remove(path);
                Ok(())
            }
            Some(i) => {
                let saved = if self.keeps_csp_copy(i) {
                    let node = self.call_csp(i, false, |csp| csp.node(path))?;
                    Some(self.capture(i, path, node)?)
                } else {
                    None
                };
                self.call_csp(i, true, |csp| csp.delete(path))
                    .map_err(|e| match e.status {
                        404 if trusted => CmError::not_found([path, " not found"].concat()),
                        _ => e,
                    })?;
                if let Some(nodes) = saved {
                    self.undo.push(Step::CspRestore { mount: i, nodes });
                }
                Ok(())
            }
        }
    }

    /// Whether a change in the CSP of mount `i` must keep a copy of what it changes, to undo
    /// it with the transaction (the CSP leaves transactions to the Manager).
    fn keeps_csp_copy(&self, i: usize) -> bool {
        self.mounts[i].csp.tx_mode() == TxMode::External && self.keep_undo()
    }

    /// A CSP subtree as (path, value) pairs, parents first, to re-create it on rollback.
    fn capture(
        &mut self,
        i: usize,
        path: &str,
        node: CspNode,
    ) -> Result<Vec<(String, Option<LeafValue<'static>>)>, CmError> {
        let mut out = Vec::new();
        let mut stack = vec![(path.to_owned(), node)];
        while let Some((p, n)) = stack.pop() {
            match n {
                CspNode::Leaf(v) => out.push((p, Some(v))),
                CspNode::Interior { children, .. } => {
                    out.push((p.clone(), None));
                    for c in children.iter().rev() {
                        let cp = format!("{p}/{}", encode_segment(c));
                        let cn = self.call_csp(i, false, |csp| csp.node(&cp))?;
                        stack.push((cp, cn));
                    }
                }
            }
            if out.len() > 100_000 {
                return Err(CmError::failed("subtree too large to delete atomically"));
            }
        }
        Ok(out)
    }

    // ---- Copy -----------------------------------------------------------------------------

    /// Copy: the source's value (or whole subtree) to the target. A leaf onto an existing leaf
    /// replaces its value; otherwise the target must not exist and is created. Needs Get on
    /// every source node and Add (or Replace) at the target.
    pub fn copy(&mut self, who: &Principal, source: &str, target: &str) -> Result<(), CmError> {
        self.set_caller(who);
        let (from, q1) = self.parse(source)?;
        let (to, q2) = self.parse(target)?;
        if q1.is_some() || q2.is_some() {
            return Err(CmError::not_allowed("Copy of properties"));
        }
        if to.starts_with(&from) {
            return Err(CmError::not_allowed("Copy into its own subtree"));
        }
        self.run(|m| {
            if m.copy_inside_csp(who, &from, &to)? {
                return Ok(());
            }
            let found = m
                .find(from.as_str())?
                .ok_or_else(|| CmError::not_found([from.as_str(), " not found"].concat()))?;
            m.check(who, from.as_str(), AclCommand::Get)?;
            let mut nodes = Vec::new();
            let mut stack = vec![(from.clone(), found)];
            while let Some((u, f)) = stack.pop() {
                if !m.readable(u.as_str()) {
                    return Err(CmError::new(403, format!("{u} cannot be copied")));
                }
                let value = match &f {
                    Found::Store(n) => Manager::leaf_of(n),
                    Found::Csp(_, CspNode::Leaf(v)) => Some(v.clone()),
                    Found::Csp(_, CspNode::Interior { .. }) => None,
                };
                for name in m.children(u.as_str(), &f).iter().rev() {
                    let child = u.child(name)?;
                    m.check(who, child.as_str(), AclCommand::Get)?;
                    let cf = m
                        .find(child.as_str())?
                        .ok_or_else(|| CmError::failed("tree changed"))?;
                    stack.push((child, cf));
                }
                nodes.push((u, value));
            }
            let target_exists = m.find(to.as_str())?;
            match (target_exists, &nodes[0].1) {
                (Some(t), Some(v)) if !t.is_interior() => m.replace_value(who, &to, v.clone()),
                (Some(_), _) => Err(CmError::already_exists(format!("{to} exists"))),
                (None, _) => {
                    for (u, value) in nodes {
                        let dest = u.rebase(&from, &to).expect("inside the subtree");
                        dest.check_limits(&m.config.uri_limits)?;
                        let node = match value {
                            Some(v) => NewNode::Leaf(v),
                            None => NewNode::Interior {
                                type_: String::new(),
                            },
                        };
                        m.add_at(who, &dest, node)?;
                    }
                    Ok(())
                }
            }
        })
    }

    /// A Copy whose source and target belong to one CSP and whose target does not exist is
    /// offered to that CSP's own [`Csp::copy`](crate::Csp::copy), after the same checks as
    /// node by node (Get on the source, readable, Add at the target). Returns false when the
    /// CSP does not copy natively (the caller then copies node by node).
    fn copy_inside_csp(
        &mut self,
        who: &Principal,
        from: &NodeUri,
        to: &NodeUri,
    ) -> Result<bool, CmError> {
        let (Some(i), Some(j)) = (self.owner(from.as_str()), self.owner(to.as_str())) else {
            return Ok(false);
        };
        if i != j || self.kind(to.as_str())?.is_some() {
            return Ok(false);
        }
        self.existing(from.as_str())?;
        self.check(who, from.as_str(), AclCommand::Get)?;
        if !self.readable(from.as_str()) {
            return Err(CmError::new(
                403,
                [from.as_str(), " cannot be copied"].concat(),
            ));
        }
        let Some(parent) = to.parent() else {
            return Ok(false);
        };
        match self.kind(parent.as_str())? {
            Some(true) => {}
            _ => return Ok(false),
        }
        to.check_limits(&self.config.uri_limits)?;
        self.check_add(who, parent.as_str(), to.as_str())?;
        match self.call_csp(i, true, |csp| csp.copy(from.as_str(), to.as_str())) {
            Ok(()) => {
                if self.mounts[i].csp.tx_mode() == TxMode::External {
                    self.undo.push(Step::CspDelete {
                        mount: i,
                        path: to.as_str().to_owned(),
                    });
                }
                Ok(true)
            }
            Err(e) if e.status == 406 => Ok(false),
            Err(e) => Err(e),
        }
    }

    // ---- Exec -----------------------------------------------------------------------------

    /// Exec: runs an executable node of a CSP (store nodes are not executable: 405).
    pub fn exec(
        &mut self,
        who: &Principal,
        target: &str,
        data: &[u8],
        correlator: Option<&str>,
    ) -> Result<ExecOutcome, CmError> {
        self.set_caller(who);
        let (uri, query) = self.parse(target)?;
        if query.is_some() {
            return Err(CmError::not_allowed("Exec on a property"));
        }
        let path = uri.as_str().to_owned();
        self.run(|m| {
            let found = m
                .find(&path)?
                .ok_or_else(|| CmError::not_found([path.as_str(), " not found"].concat()))?;
            m.check(who, &path, AclCommand::Exec)?;
            match found {
                Found::Store(_) => Err(CmError::not_allowed(
                    [path.as_str(), " is not executable"].concat(),
                )),
                Found::Csp(i, _) => m.call_csp(i, true, |csp| csp.exec(&path, data, correlator)),
            }
        })
    }

    // ---- local access ---------------------------------------------------------------------

    /// Removes `server_id` from every ACL of the store (TND §7.7.1: when a server account is
    /// deleted). Entries left without a server disappear; a root ACL left empty becomes the
    /// default `Add=*&Get=*`. Call [`Manager::persist`] afterwards.
    pub fn remove_server_from_acls(&mut self, server_id: &str) {
        let changed: Vec<(String, Node)> = self
            .store
            .iter()
            .filter(|(_, n)| !n.props.acl.is_empty())
            .filter_map(|(path, n)| {
                let mut acl = Acl::parse(&n.props.acl).ok()?;
                let before = acl.clone();
                acl.remove_server(server_id);
                if acl == before {
                    return None;
                }
                let mut node = n.clone();
                node.props.acl = match (acl.is_empty(), path.as_str()) {
                    (true, ".") => "Add=*&Get=*".to_owned(),
                    _ => acl.to_string(),
                };
                Some((path.clone(), node))
            })
            .collect();
        for (path, node) in changed {
            self.record_put(&path, node);
        }
        self.undo.clear();
    }

    /// Whether a node exists (no access check: for the device's own use).
    pub fn exists(&mut self, target: &str) -> bool {
        match self.parse(target) {
            Ok((uri, None)) => matches!(self.find(uri.as_str()), Ok(Some(_))),
            _ => false,
        }
    }

    /// Parent path of a canonical path (helper for callers building URIs).
    pub fn parent_of(path: &str) -> Option<&str> {
        parent_str(path)
    }
}
