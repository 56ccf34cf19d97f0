//! Local access to the management tree by the device itself (settings UI, platform code),
//! with a role mask: Get, Add, Replace, Delete, Exec. Changes are durable when the call
//! returns. Secrets are never returned (405).

use std::ffi::c_char;

use omadm_cm::{LeafValue, NewNode, Principal};

use crate::boundary::{not_null, with_agent, write_out};
use crate::result::omadm_result;
use crate::strings::{bytes, omadm_str, text, view};

/// A leaf value (or, with Format `node`, an interior node) to write. Initialise with
/// `OMADM_VALUE_INIT` (it sets `struct_size`). An empty value is `(NULL, 0)` data: a leaf
/// with no bytes, not a missing one.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct omadm_value {
    /// `sizeof(omadm_value)` as the host compiled it.
    pub struct_size: usize,
    /// The value's bytes.
    pub data: *const u8,
    /// Their length.
    pub data_len: usize,
    /// Meta Format: `chr` when empty; `node` adds an interior node.
    pub format: omadm_str,
    /// Meta Type: `text/plain` when empty (the MO identifier for an interior node).
    pub type_: omadm_str,
}

// SAFETY: repr(C), starts with struct_size; all-zero is an empty chr value.
unsafe impl crate::growable::Growable for omadm_value {
    const MIN_SIZE: usize = std::mem::offset_of!(omadm_value, format);
}

/// Runs `f` with the tree of the agent and the uri text.
///
/// # Safety
/// `agent` from `omadm_agent_open`; `(uri, uri_len)` readable.
unsafe fn on_tree(
    agent: *const crate::agent::omadm_agent,
    uri: *const c_char,
    uri_len: usize,
    f: impl FnOnce(&mut omadm_cm::Manager, &str) -> Result<(), omadm_result>,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_agent(agent, |a| {
            let uri = text(uri, uri_len)?;
            a.with_core(|core| f(core.agent.tree(), uri))
        })
    }
}

/// Writes `data`'s length to `out_len`, then `data` to `(buffer, buffer_len)`:
/// `BufferTooSmall` (length written, nothing else) when it does not fit.
///
/// # Safety
/// `out_len` writable; a non-NULL `buffer` writable for `buffer_len` bytes (the callers
/// refuse a NULL buffer with a length).
unsafe fn copy_out(
    data: &[u8],
    buffer: *mut u8,
    buffer_len: usize,
    out_len: *mut usize,
) -> Result<(), omadm_result> {
    // SAFETY: contracts passed on from ours.
    unsafe {
        write_out(out_len, data.len());
        if data.len() > buffer_len {
            return Err(omadm_result::BufferTooSmall);
        }
        if !data.is_empty() {
            std::ptr::copy_nonoverlapping(data.as_ptr(), buffer, data.len());
        }
    }
    Ok(())
}

fn persisted(tree: &mut omadm_cm::Manager) -> Result<(), omadm_result> {
    tree.persist().map_err(|e| {
        log::error!("persisting the tree: {e}");
        omadm_result::Io
    })
}

/// Reads the node `uri` as a device caller with `roles`: a leaf's value, or an interior
/// node's child names separated by `/`. Copies it into `(buffer, buffer_len)` and writes its
/// length to `out_len`. When the buffer is too small: `OMADM_RESULT_BUFFER_TOO_SMALL` with the
/// length needed in `out_len` (the one output written on failure), nothing copied. `(NULL,
/// 0)` asks for the length only. A secret answers `OMADM_RESULT_NOT_ALLOWED`.
///
/// # Safety
/// `agent` from `omadm_agent_open`; `(uri, uri_len)` readable; `(buffer, buffer_len)`
/// writable; `out_len` writable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_tree_get(
    agent: *const crate::agent::omadm_agent,
    uri: *const c_char,
    uri_len: usize,
    roles: u32,
    buffer: *mut u8,
    buffer_len: usize,
    out_len: *mut usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        on_tree(agent, uri, uri_len, |tree, uri| {
            not_null(out_len)?;
            if buffer.is_null() && buffer_len > 0 {
                return Err(omadm_result::NullParameter);
            }
            let items = tree.get(&Principal::Local { roles }, uri)?;
            let data = items
                .into_iter()
                .next()
                .and_then(|i| i.data)
                .unwrap_or_default();
            copy_out(&data, buffer, buffer_len, out_len)
        })
    }
}

/// The node a value describes.
///
/// # Safety
/// `value` and its views readable.
unsafe fn new_node(value: *const omadm_value) -> Result<NewNode<'static>, omadm_result> {
    // SAFETY: readable by the caller's contract.
    let v = &unsafe { crate::growable::read(value) }?;
    // SAFETY: as above for the views.
    let (data, format, type_) =
        unsafe { (bytes(v.data, v.data_len)?, view(v.format)?, view(v.type_)?) };
    if format == "node" {
        return Ok(NewNode::Interior {
            type_: type_.to_owned(),
        });
    }
    Ok(NewNode::Leaf(LeafValue {
        data: data.to_vec().into(),
        format: omadm_cm::common_text(if format.is_empty() { "chr" } else { format }),
        type_: omadm_cm::common_text(if type_.is_empty() {
            "text/plain"
        } else {
            type_
        }),
    }))
}

/// Adds the node `uri` (missing ancestors are added as interior nodes) as a device caller
/// with `roles`.
///
/// # Safety
/// `agent` from `omadm_agent_open`; `(uri, uri_len)` and `value` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_tree_add(
    agent: *const crate::agent::omadm_agent,
    uri: *const c_char,
    uri_len: usize,
    roles: u32,
    value: *const omadm_value,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        on_tree(agent, uri, uri_len, |tree, uri| {
            let node = new_node(value)?;
            tree.add(&Principal::Local { roles }, uri, node)?;
            persisted(tree)
        })
    }
}

/// Replaces the value of the leaf `uri` as a device caller with `roles`.
///
/// # Safety
/// `agent` from `omadm_agent_open`; `(uri, uri_len)` and `value` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_tree_replace(
    agent: *const crate::agent::omadm_agent,
    uri: *const c_char,
    uri_len: usize,
    roles: u32,
    value: *const omadm_value,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        on_tree(agent, uri, uri_len, |tree, uri| {
            let NewNode::Leaf(leaf) = new_node(value)? else {
                return Err(omadm_result::InvalidArgument);
            };
            tree.replace(&Principal::Local { roles }, uri, leaf)?;
            persisted(tree)
        })
    }
}

/// Deletes the node `uri` and its subtree as a device caller with `roles`.
///
/// # Safety
/// `agent` from `omadm_agent_open`; `(uri, uri_len)` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_tree_delete(
    agent: *const crate::agent::omadm_agent,
    uri: *const c_char,
    uri_len: usize,
    roles: u32,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        on_tree(agent, uri, uri_len, |tree, uri| {
            tree.delete(&Principal::Local { roles }, uri)?;
            persisted(tree)
        })
    }
}

/// Executes the node `uri` with `(data, data_len)` as a device caller with `roles`.
///
/// # Safety
/// `agent` from `omadm_agent_open`; the views readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_tree_exec(
    agent: *const crate::agent::omadm_agent,
    uri: *const c_char,
    uri_len: usize,
    roles: u32,
    data: *const u8,
    data_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        on_tree(agent, uri, uri_len, |tree, uri| {
            let d = bytes(data, data_len)?;
            tree.exec(&Principal::Local { roles }, uri, d, None)?;
            persisted(tree)
        })
    }
}

/// Reads the ACL property of the node `uri` (empty when it inherits its parent's) into
/// `(buffer, buffer_len)` as `omadm_agent_tree_get` does. For the mount point of a native CSP
/// that keeps no ACL of its own, the one set with `omadm_agent_tree_set_acl`.
///
/// # Safety
/// As `omadm_agent_tree_get`.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_tree_get_acl(
    agent: *const crate::agent::omadm_agent,
    uri: *const c_char,
    uri_len: usize,
    buffer: *mut u8,
    buffer_len: usize,
    out_len: *mut usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        on_tree(agent, uri, uri_len, |tree, uri| {
            not_null(out_len)?;
            if buffer.is_null() && buffer_len > 0 {
                return Err(omadm_result::NullParameter);
            }
            let local = Principal::Local {
                roles: omadm_cm::roles::MANAGER,
            };
            let target = format!("{uri}?prop=ACL");
            let items = tree.get(&local, &target)?;
            let acl = items
                .into_iter()
                .next()
                .and_then(|i| i.data)
                .unwrap_or_default();
            copy_out(&acl, buffer, buffer_len, out_len)
        })
    }
}

/// Sets the ACL property of the node `uri` (`Get=*&Replace=dm1&Exec=dm1`; empty: inherit the
/// parent's; the root's may not be empty), as the device. Durable for the tree's own nodes.
/// For a native CSP's node the CSP keeps it (its `set_property`); at the mount point of a CSP
/// that keeps no properties, omadm holds it in memory for the CSP's subtree (set it again
/// after registering at each start). `OMADM_RESULT_INVALID_ARGUMENT` for text that is not an
/// ACL; `OMADM_RESULT_NOT_SUPPORTED` for a node inside such a CSP below its mount point.
///
/// # Safety
/// `agent` from `omadm_agent_open`; the views readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_tree_set_acl(
    agent: *const crate::agent::omadm_agent,
    uri: *const c_char,
    uri_len: usize,
    acl: *const c_char,
    acl_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        on_tree(agent, uri, uri_len, |tree, uri| {
            let acl = text(acl, acl_len)?;
            omadm_cm::Acl::parse(acl).map_err(|_| omadm_result::InvalidArgument)?;
            let local = Principal::Local {
                roles: omadm_cm::roles::MANAGER,
            };
            match tree.replace(&local, &format!("{uri}?prop=ACL"), LeafValue::text(acl)) {
                Ok(()) => persisted(tree),
                // A CSP that keeps no properties: its mount point's ACL, held by omadm.
                Err(e) if e.status == 406 && tree.is_mount_point(uri) => {
                    Ok(tree.set_mount_acl(uri, acl)?)
                }
                Err(e) => Err(e.into()),
            }
        })
    }
}
