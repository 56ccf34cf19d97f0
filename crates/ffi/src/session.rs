//! Sessions over the host's own transport (since 1.1): the library decides everything of the
//! protocol (what to send, credentials, retries and their schedule, the DM 1.1.2 fallback,
//! when the session is over) and the host moves the bytes — over the bearer its connection
//! manager picked, through its proxy, with its own HTTP stack.
//!
//! ```text
//! omadm_session_open(agent, "srv", 3, &s);
//! for (;;) {
//!     omadm_session_step step = OMADM_SESSION_STEP_INIT;
//!     omadm_session_next(s, now_ms(), &step);
//!     if (step.action == OMADM_SESSION_SEND) {
//!         ... POST step.body to step.url (Content-Type step.content_type, and
//!         x-syncml-hmac: step.hmac when not empty), then
//!         omadm_session_feed_response(s, now_ms(), &response)
//!         or omadm_session_feed_failure(s, now_ms(), OMADM_TRANSPORT_..., why, len);
//!     } else if (step.action == OMADM_SESSION_WAIT) {
//!         ... wait until step.wake_at_ms (or do other work), then loop
//!     } else break;            OMADM_SESSION_DONE: step.outcome, step.http_status
//! }
//! omadm_session_free(s);
//! ```
//!
//! Time is the host's: any millisecond clock that never goes back (the same one in every call
//! on a session). The step's views stay valid until the next call on the session. A session
//! holds the agent's lock only inside its calls (tree, accounts and alerts are the agent's),
//! never while the host moves bytes; calls on one session are serialised. The agent's event
//! callback gets the session's SESSION_ENDED or SESSION_FAILED event, as for
//! `omadm_agent_run_session`.

use std::ffi::{c_char, CString};
use std::sync::atomic::Ordering;
use std::sync::{Mutex, PoisonError};

use ::omadm_agent::{AgentEvent, Driver, FailureKind, HttpResponse};

use crate::agent::omadm_agent;
use crate::boundary::{guard, not_null, with_agent, write_out};
use crate::growable::{self, Growable};
use crate::result::omadm_result;
use crate::strings::{bytes, omadm_bytes, omadm_str, text};

/// `omadm_session_step.action`: post `body` to `url`, then feed the response or the failure.
pub const OMADM_SESSION_SEND: u32 = 1;
/// `omadm_session_step.action`: nothing to send before `wake_at_ms` (a backoff, or the
/// fallback's interval); call `omadm_session_next` again then.
pub const OMADM_SESSION_WAIT: u32 = 2;
/// `omadm_session_step.action`: the session is over; `outcome` and `http_status` say how.
pub const OMADM_SESSION_DONE: u32 = 3;

/// Failure kind: the server could not be reached (DNS, refused, unreachable, connect
/// time-out). Retried with backoff.
pub const OMADM_TRANSPORT_CONNECT: u32 = 1;
/// Failure kind: no complete response within the host's time-out. Retried with backoff.
pub const OMADM_TRANSPORT_TIMEOUT: u32 = 2;
/// Failure kind: the connection broke while sending or reading (a response cut short).
/// Retried with backoff.
pub const OMADM_TRANSPORT_IO: u32 = 3;
/// Failure kind: TLS failed (handshake, untrusted certificate, host name). Not retried.
pub const OMADM_TRANSPORT_TLS: u32 = 4;
/// Failure kind: the URL cannot be used by the host's transport. Not retried.
pub const OMADM_TRANSPORT_BAD_URL: u32 = 5;
/// Failure kind: the URL is `http://` and `plain_http_allowed` was false. Not retried.
pub const OMADM_TRANSPORT_PLAIN_HTTP_REFUSED: u32 = 6;
/// Failure kind: the response is not HTTP, or is longer than `max_response_bytes`. Not
/// retried.
pub const OMADM_TRANSPORT_PROTOCOL: u32 = 7;

/// What to do next, filled in by `omadm_session_next` up to the caller's `struct_size`
/// (initialise with `OMADM_SESSION_STEP_INIT`; on return `struct_size` is what was filled).
/// Views stay valid until the next call on the session.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct omadm_session_step {
    /// The caller's `sizeof`; on return, the bytes omadm filled in.
    pub struct_size: usize,
    /// `OMADM_SESSION_SEND`, `_WAIT` or `_DONE`.
    pub action: u32,
    /// WAIT: when to call again (the caller's clock).
    pub wake_at_ms: u64,
    /// SEND: where to POST.
    pub url: omadm_str,
    /// SEND: the `Content-Type` header.
    pub content_type: omadm_str,
    /// SEND: the body.
    pub body: omadm_bytes,
    /// SEND: the `x-syncml-hmac` header's value; empty when the header is not sent.
    pub hmac: omadm_str,
    /// SEND: the message's number in the session attempt (from 1).
    pub message_number: u32,
    /// SEND: 0 for the message's first try, then its retry number.
    pub retry: u32,
    /// SEND: whether an `http://` URL may be used; when false the connection must be TLS
    /// (else feed `OMADM_TRANSPORT_PLAIN_HTTP_REFUSED`).
    pub plain_http_allowed: bool,
    /// SEND: the longest response body the session accepts; refuse a longer one while
    /// reading it (`OMADM_TRANSPORT_PROTOCOL`).
    pub max_response_bytes: usize,
    /// SEND: the account's client certificate (PEM file) to present in the TLS handshake;
    /// empty when it has none.
    pub client_cert_path: omadm_str,
    /// SEND: its private key (PEM file); empty when none.
    pub client_key_path: omadm_str,
    /// DONE: `OMADM_RESULT_OK` when the session completed, else its outcome (600–610, as in
    /// `omadm_agent_run_session`).
    pub outcome: u32,
    /// DONE: the HTTP status that ended it (`OMADM_RESULT_HTTP_STATUS`), else 0.
    pub http_status: u32,
}

// SAFETY: repr(C), starts with struct_size, and all-zero is a valid value.
unsafe impl Growable for omadm_session_step {
    const MIN_SIZE: usize = std::mem::size_of::<omadm_session_step>();
}

/// A response the host's transport received (initialise with
/// `OMADM_HTTP_RESPONSE_INIT`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct omadm_http_response {
    /// The caller's `sizeof`.
    pub struct_size: usize,
    /// The HTTP status.
    pub status: u32,
    /// The `Content-Type` header; empty when absent.
    pub content_type: omadm_str,
    /// The `x-syncml-hmac` header; empty when absent.
    pub hmac: omadm_str,
    /// The body.
    pub body: omadm_bytes,
}

// SAFETY: repr(C), starts with struct_size, and all-zero views are empty.
unsafe impl Growable for omadm_http_response {
    const MIN_SIZE: usize = std::mem::size_of::<omadm_http_response>();
}

/// The current request's text, kept NUL-terminated for the step's views.
#[derive(Default)]
struct Views {
    url: Option<CString>,
    content_type: Option<CString>,
    hmac: Option<CString>,
    cert: Option<CString>,
    key: Option<CString>,
    body: Vec<u8>,
}

struct State {
    driver: Driver,
    /// The outcome once over: (result, HTTP status).
    outcome: Option<(omadm_result, u16)>,
    views: Views,
}

/// A session over the host's transport. Open with `omadm_session_open`, free with
/// `omadm_session_free` (before the agent).
pub struct omadm_session {
    agent: *const omadm_agent,
    state: Mutex<State>,
}

fn cstring(s: &str) -> Option<CString> {
    CString::new(s).ok()
}

fn str_view(s: &Option<CString>) -> omadm_str {
    s.as_ref().map(omadm_str::of).unwrap_or(omadm_str::EMPTY)
}

impl omadm_session {
    /// Hands the driver's queued events to the agent (nonces stored, observer told) and the
    /// host (the final event through the event callback).
    fn settle(&self, agent: &omadm_agent, state: &mut State) -> Result<(), omadm_result> {
        agent.with_core(|core| {
            while let Some((_, report)) = core.agent.take_driver_event(&mut state.driver) {
                if let Some(report) = report {
                    core.agent.driver_finished(&state.driver);
                    state.outcome = Some(match &report {
                        AgentEvent::SessionEnded { reason, .. } => {
                            (omadm_result::of_end(reason), 0)
                        }
                        AgentEvent::SessionFailed { reason, .. } => {
                            omadm_result::of_failure(reason)
                        }
                        _ => (omadm_result::ProtocolError, 0),
                    });
                    agent.emit(core, &report);
                }
            }
            Ok(())
        })
    }
}

/// Runs `body` on the session's state and its agent.
///
/// # Safety
/// `session` NULL or from `omadm_session_open`, not freed.
unsafe fn with_session(
    session: *mut omadm_session,
    body: impl FnOnce(&omadm_session, &omadm_agent, &mut State) -> Result<(), omadm_result>,
) -> omadm_result {
    if session.is_null() {
        return omadm_result::NullParameter;
    }
    // SAFETY: non-NULL and, by the caller's contract, a live session.
    let s = unsafe { &*session };
    // Callbacks run inside calls on the agent, holding this session: a call on a session
    // from one would wait for itself.
    if crate::boundary::in_call_on(s.agent) {
        return omadm_result::Reentrant;
    }
    // SAFETY: a session is freed before its agent (omadm_agent_free refuses otherwise).
    unsafe {
        with_agent(s.agent, |agent| {
            let mut state = s.state.lock().unwrap_or_else(PoisonError::into_inner);
            body(s, agent, &mut state)
        })
    }
}

/// A new session handle on `agent` (counted, so that the agent is not freed under it).
fn new_session(agent: *const omadm_agent, a: &omadm_agent, driver: Driver) -> *mut omadm_session {
    a.open_sessions.fetch_add(1, Ordering::SeqCst);
    Box::into_raw(Box::new(omadm_session {
        agent,
        state: Mutex::new(State {
            driver,
            outcome: None,
            views: Views::default(),
        }),
    }))
}

/// Opens a client-initiated session (Alert 1201) with the server whose DM account has this
/// ServerID, carrying the generic alerts pending for it, to be run over the host's
/// transport: see `omadm_session_next`. `OMADM_RESULT_NO_ACCOUNT` when no account has it.
/// Several sessions may be open at once (with different servers); free each with
/// `omadm_session_free` before freeing the agent.
///
/// # Safety
/// `agent` from `omadm_agent_open`; `(server_id, server_id_len)` readable; `out_session`
/// writable.
#[no_mangle]
pub unsafe extern "C" fn omadm_session_open(
    agent: *const omadm_agent,
    server_id: *const c_char,
    server_id_len: usize,
    out_session: *mut *mut omadm_session,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_agent(agent, |a| {
            not_null(out_session)?;
            let server = text(server_id, server_id_len)?;
            if server.is_empty() {
                return Err(omadm_result::InvalidArgument);
            }
            let driver = a
                .with_core(|core| Ok(core.agent.client_driver(server)))?
                .ok_or(omadm_result::NoAccount)?;
            write_out(out_session, new_session(agent, a, driver));
            Ok(())
        })
    }
}

/// Takes the next queued session (a server's notification, a session request, alerts to
/// deliver; oldest first) to run over the host's transport, as `omadm_session_open` does for
/// one the host starts; writes NULL to `out_session` when none is queued. See
/// `omadm_agent_config_set_host_transport`. A queued session whose server has no DM account
/// is skipped with its `OMADM_EVENT_SESSION_FAILED` event.
///
/// # Safety
/// `agent` from `omadm_agent_open`; `out_session` writable.
#[no_mangle]
pub unsafe extern "C" fn omadm_session_open_queued(
    agent: *const omadm_agent,
    out_session: *mut *mut omadm_session,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_agent(agent, |a| {
            not_null(out_session)?;
            let driver = a.with_core(|core| loop {
                match core.agent.take_queued_driver() {
                    None => return Ok(None),
                    Some(Ok(driver)) => return Ok(Some(driver)),
                    Some(Err(report)) => a.emit(core, &report),
                }
            })?;
            let session = driver.map(|driver| new_session(agent, a, driver));
            write_out(out_session, session.unwrap_or(std::ptr::null_mut()));
            Ok(())
        })
    }
}

/// What to do next at `now_ms`: SEND a request, WAIT until `wake_at_ms`, or DONE (see
/// `omadm_session_step`). `OMADM_RESULT_OUT_OF_ORDER` while a request handed out awaits its
/// response or failure. After DONE, every call answers DONE again.
///
/// # Safety
/// `session` from `omadm_session_open`; `step` writable for its `struct_size`, which must be
/// at least this header's `sizeof(omadm_session_step)`.
#[no_mangle]
pub unsafe extern "C" fn omadm_session_next(
    session: *mut omadm_session,
    now_ms: u64,
    step: *mut omadm_session_step,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_session(session, |s, agent, state| {
            // Check the caller's struct before anything changes.
            growable::read(step.cast_const())?;
            s.settle(agent, state)?;
            if state.outcome.is_none() && !state.driver.is_done() {
                state.driver.handle_timeout(now_ms);
            }
            let mut out = zeroed_step();
            if let Some((result, http)) = state.outcome {
                out.action = OMADM_SESSION_DONE;
                out.outcome = result as u32;
                out.http_status = u32::from(http);
            } else if let Some(until) = state.driver.poll_timeout() {
                out.action = OMADM_SESSION_WAIT;
                out.wake_at_ms = until;
            } else {
                let State { driver, views, .. } = state;
                let request = driver.poll_request().ok_or(omadm_result::OutOfOrder)?;
                let rules = request.rules;
                *views = Views {
                    url: cstring(request.url),
                    content_type: cstring(request.content_type),
                    hmac: request.hmac.and_then(cstring),
                    cert: rules
                        .client_certificate
                        .as_ref()
                        .and_then(|(c, _)| cstring(c)),
                    key: rules
                        .client_certificate
                        .as_ref()
                        .and_then(|(_, k)| cstring(k)),
                    body: request.body.to_vec(),
                };
                out.action = OMADM_SESSION_SEND;
                out.message_number = request.number;
                out.retry = request.retry;
                out.plain_http_allowed = rules.plain_http_allowed;
                out.max_response_bytes = rules.max_response_bytes;
                out.url = str_view(&views.url);
                out.content_type = str_view(&views.content_type);
                out.hmac = str_view(&views.hmac);
                out.client_cert_path = str_view(&views.cert);
                out.client_key_path = str_view(&views.key);
                out.body = omadm_bytes::of(&views.body);
            }
            growable::write(step, out)
        })
    }
}

fn zeroed_step() -> omadm_session_step {
    omadm_session_step {
        struct_size: std::mem::size_of::<omadm_session_step>(),
        action: 0,
        wake_at_ms: 0,
        url: omadm_str::EMPTY,
        content_type: omadm_str::EMPTY,
        body: omadm_bytes::of(&[]),
        hmac: omadm_str::EMPTY,
        message_number: 0,
        retry: 0,
        plain_http_allowed: false,
        max_response_bytes: 0,
        client_cert_path: omadm_str::EMPTY,
        client_key_path: omadm_str::EMPTY,
        outcome: 0,
        http_status: 0,
    }
}

/// Hands in the response to the request of the last SEND, received at `now_ms`. A 200's body
/// is executed on the agent's tree (callbacks of native CSPs and the UI run on this thread,
/// inside this call); any status is taken (retryable ones are retried per the account).
/// `OMADM_RESULT_OUT_OF_ORDER` with no request outstanding.
///
/// # Safety
/// `session` from `omadm_session_open`; `response` readable for its `struct_size`, its views
/// readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_session_feed_response(
    session: *mut omadm_session,
    now_ms: u64,
    response: *const omadm_http_response,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_session(session, |s, agent, state| {
            let r = growable::read(response)?;
            let status = u16::try_from(r.status)
                .ok()
                .filter(|s| (100..=999).contains(s))
                .ok_or(omadm_result::InvalidArgument)?;
            let content_type = text(r.content_type.data, r.content_type.len)?;
            let hmac = text(r.hmac.data, r.hmac.len)?;
            let body = bytes(r.body.data, r.body.len)?;
            let response = HttpResponse {
                status,
                content_type: (!content_type.is_empty()).then_some(content_type),
                hmac: (!hmac.is_empty()).then_some(hmac),
                body,
            };
            agent
                .with_core(|core| {
                    core.agent
                        .feed_response(&mut state.driver, now_ms, response)
                        .map_err(|_| omadm_result::OutOfOrder)
                })
                .inspect(|_| state.views = Views::default())?;
            s.settle(agent, state)
        })
    }
}

/// Tells the session that the request of the last SEND got no response at `now_ms`:
/// `kind` is an `OMADM_TRANSPORT_*` value, `(detail, detail_len)` the transport's words
/// (for logs and the failure's text; may be empty). `OMADM_RESULT_INVALID_ARGUMENT` for an
/// unknown kind, `OMADM_RESULT_OUT_OF_ORDER` with no request outstanding.
///
/// # Safety
/// `session` from `omadm_session_open`; `(detail, detail_len)` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_session_feed_failure(
    session: *mut omadm_session,
    now_ms: u64,
    kind: u32,
    detail: *const c_char,
    detail_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_session(session, |s, agent, state| {
            let kind = match kind {
                OMADM_TRANSPORT_CONNECT => FailureKind::Connect,
                OMADM_TRANSPORT_TIMEOUT => FailureKind::Timeout,
                OMADM_TRANSPORT_IO => FailureKind::Io,
                OMADM_TRANSPORT_TLS => FailureKind::Tls,
                OMADM_TRANSPORT_BAD_URL => FailureKind::BadUrl,
                OMADM_TRANSPORT_PLAIN_HTTP_REFUSED => FailureKind::PlainHttpRefused,
                OMADM_TRANSPORT_PROTOCOL => FailureKind::Protocol,
                _ => return Err(omadm_result::InvalidArgument),
            };
            let detail = String::from_utf8_lossy(bytes(detail.cast(), detail_len)?).into_owned();
            state
                .driver
                .handle_failure(now_ms, kind, &detail)
                .map_err(|_| omadm_result::OutOfOrder)?;
            state.views = Views::default();
            s.settle(agent, state)
        })
    }
}

/// Frees a session (NULL is ignored). A session freed before DONE ends there: nothing more is
/// sent, what it executed stays (persisted), its alerts stay pending unless acknowledged.
/// Not from a callback running inside a call on this session (`OMADM_RESULT_REENTRANT`).
///
/// # Safety
/// `session` NULL or from `omadm_session_open`, not freed before.
#[no_mangle]
pub unsafe extern "C" fn omadm_session_free(session: *mut omadm_session) -> omadm_result {
    if session.is_null() {
        return omadm_result::Ok;
    }
    guard(|| {
        // SAFETY: non-NULL, from omadm_session_open, not freed (contract).
        let agent = unsafe { (*session).agent };
        if crate::boundary::in_call_on(agent) {
            return Err(omadm_result::Reentrant);
        }
        // SAFETY: from Box::into_raw in new_session, freed once, not in use.
        let boxed = unsafe { Box::from_raw(session) };
        // SAFETY: the agent outlives its sessions (omadm_agent_free refuses while any is open).
        let a = unsafe { &*agent };
        let state = boxed
            .state
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        if state.outcome.is_none() {
            // Ended here: a server's notification for it may start a new one.
            let _ = a.with_core(|core| {
                core.agent.driver_finished(&state.driver);
                Ok(())
            });
        }
        a.open_sessions.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    })
}
