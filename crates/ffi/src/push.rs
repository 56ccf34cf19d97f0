//! Push handlers: other applications' WAP push (by content type and/or application id),
//! routed by the agent's push router to a C callback. DM notifications and provisioning
//! documents are the agent's own and never reach these handlers.

use std::ffi::{c_char, c_void};

use omadm_push::router::Routed;
use omadm_push::wdp::Bearer;
use omadm_push::AppId;

use crate::boundary::{with_agent, write_out};
use crate::result::omadm_result;
use crate::strings::{c_string, omadm_bytes, omadm_str, text};
use crate::userdata::{omadm_finalizer, ForeignData};

/// The message came over GSM SMS.
pub const OMADM_BEARER_GSM: u32 = 1;
/// The message came over CDMA SMS.
pub const OMADM_BEARER_CDMA: u32 = 2;
/// The message came over UDP.
pub const OMADM_BEARER_UDP: u32 = 3;

/// A routed push message, valid during the callback only.
#[repr(C)]
pub struct omadm_push_message {
    /// omadm's `sizeof` of this struct (fields may be added at the end).
    pub struct_size: usize,
    /// The handler it was routed to.
    pub handler_id: u32,
    /// The WSP content type (media type).
    pub content_type: omadm_str,
    /// The X-WAP-Application-ID as a URN (`x-wap-application:...`), empty when absent.
    pub app_id: omadm_str,
    /// The body.
    pub body: omadm_bytes,
    /// The security role mask the router gave it.
    pub roles: u32,
    /// An `OMADM_BEARER_*` value.
    pub bearer: u32,
    /// The sender (SMS originator or IP address).
    pub sender: omadm_str,
}

/// Receives routed push messages on the agent thread.
pub type omadm_push_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, message: *const omadm_push_message)>;

/// A registered push handler; its userdata's finalizer runs when it is dropped.
pub(crate) struct PushHandler {
    callback: unsafe extern "C" fn(*mut c_void, *const omadm_push_message),
    owner: ForeignData,
}

impl PushHandler {
    pub(crate) fn deliver(&self, r: &Routed) {
        let ct = c_string(&r.push.content_type.media);
        let app = c_string(&r.push.app_id.as_ref().map(AppId::urn).unwrap_or_default());
        let sender = c_string(&r.sender);
        let m = omadm_push_message {
            struct_size: std::mem::size_of::<omadm_push_message>(),
            handler_id: r.handler,
            content_type: omadm_str::of(&ct),
            app_id: omadm_str::of(&app),
            body: omadm_bytes::of(&r.push.body),
            roles: r.roles,
            bearer: match r.bearer {
                Bearer::Gsm => OMADM_BEARER_GSM,
                Bearer::Cdma => OMADM_BEARER_CDMA,
                Bearer::Udp => OMADM_BEARER_UDP,
            },
            sender: omadm_str::of(&sender),
        };
        // SAFETY: the host's callback and userdata; `m` and its views live for the call.
        unsafe { (self.callback)(self.owner.data, &m) };
    }
}

fn app_id(s: &str) -> AppId {
    let n = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    };
    n.map_or_else(|| AppId::Uri(s.to_owned()), AppId::Code)
}

/// Registers a handler for push messages with this content type and/or application id
/// (either may be empty, not both; an application id is a URN such as
/// `x-wap-application:wml.ua` or a number, decimal or `0x` hex). The router picks the most
/// specific registration. Writes the handler's id to `out_id`. On success omadm owns
/// `userdata` and calls `finalizer` (may be NULL) once when the handler is unregistered or
/// the agent freed. `OMADM_RESULT_ALREADY_REGISTERED` when that key is taken.
///
/// # Safety
/// `agent` from `omadm_agent_open`; the views readable; `out_id` writable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_register_push_handler(
    agent: *const crate::agent::omadm_agent,
    content_type: *const c_char,
    content_type_len: usize,
    application_id: *const c_char,
    application_id_len: usize,
    callback: omadm_push_callback,
    userdata: *mut c_void,
    finalizer: omadm_finalizer,
    out_id: *mut u32,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_agent(agent, |a| {
            crate::boundary::not_null(out_id)?;
            let callback = callback.ok_or(omadm_result::NullParameter)?;
            let ct = text(content_type, content_type_len)?;
            let app = text(application_id, application_id_len)?;
            if ct.is_empty() && app.is_empty() {
                return Err(omadm_result::InvalidArgument);
            }
            let id = a.with_core(|core| {
                let id = core
                    .agent
                    .router()
                    .register(
                        (!ct.is_empty()).then_some(ct),
                        (!app.is_empty()).then(|| app_id(app)),
                    )
                    .map_err(|_| omadm_result::AlreadyRegistered)?;
                let handler = PushHandler {
                    callback,
                    owner: ForeignData::new(userdata, finalizer),
                };
                core.push_handlers.insert(id, handler);
                Ok(id)
            })?;
            write_out(out_id, id);
            Ok(())
        })
    }
}

/// Unregisters a push handler (its finalizer runs before this returns). Not from a callback
/// of the same agent (`OMADM_RESULT_REENTRANT`). `OMADM_RESULT_UNKNOWN_ID` for an unknown id.
///
/// # Safety
/// `agent` from `omadm_agent_open`.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_unregister_push_handler(
    agent: *const crate::agent::omadm_agent,
    handler_id: u32,
) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_agent(agent, |a| {
            a.with_core(|core| {
                let handler = core
                    .push_handlers
                    .remove(&handler_id)
                    .ok_or(omadm_result::UnknownId)?;
                core.agent.router().unregister(handler_id);
                drop(handler);
                Ok(())
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_ids_are_numbers_or_urns() {
        assert_eq!(app_id("0x07"), AppId::Code(7));
        assert_eq!(app_id("2"), AppId::Code(2));
        assert_eq!(
            app_id("x-wap-application:wml.ua"),
            AppId::Uri("x-wap-application:wml.ua".into())
        );
    }
}
