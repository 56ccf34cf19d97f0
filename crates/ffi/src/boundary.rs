//! The panic boundary and handle checks every `extern "C"` body runs inside.
//!
//! A panic in Rust never unwinds into C (since Rust 1.81 it would abort the process): it is
//! caught here, logged, turned into `OMADM_RESULT_PANIC`, and the agent it happened on is
//! marked poisoned.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::agent::omadm_agent;
use crate::result::omadm_result;

/// How many calls on agents one thread may be inside at once (a callback of one agent calling
/// another, or a log callback calling a queueing function).
const MAX_NESTED_CALLS: usize = 16;

thread_local! {
    /// The agents (addresses) this thread is inside a call on, innermost last. A fixed array,
    /// so that no thread-local heap allocation outlives the thread.
    static IN_CALL: Cell<([usize; MAX_NESTED_CALLS], usize)> =
        const { Cell::new(([0; MAX_NESTED_CALLS], 0)) };
}

/// Records that this thread is inside a call on an agent, until dropped (also when
/// unwinding).
struct InCall;

impl InCall {
    fn enter(agent: usize) -> Option<InCall> {
        IN_CALL.with(|c| {
            let (mut calls, n) = c.get();
            if n == MAX_NESTED_CALLS {
                return None;
            }
            calls[n] = agent;
            c.set((calls, n + 1));
            Some(InCall)
        })
    }
}

impl Drop for InCall {
    fn drop(&mut self) {
        IN_CALL.with(|c| {
            let (calls, n) = c.get();
            c.set((calls, n.saturating_sub(1)));
        });
    }
}

/// Whether this thread is inside a call on `agent`: every callback runs inside one, so a
/// destroying call made from a callback is caught here.
pub(crate) fn in_call_on(agent: *const omadm_agent) -> bool {
    let me = agent as usize;
    IN_CALL.with(|c| {
        let (calls, n) = c.get();
        calls[..n].contains(&me)
    })
}

/// Runs `body`, turning a panic into [`omadm_result::Panic`].
pub(crate) fn guard(body: impl FnOnce() -> Result<(), omadm_result>) -> omadm_result {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => omadm_result::Ok,
        Ok(Err(e)) => e,
        Err(_) => omadm_result::Panic,
    }
}

/// Runs `body` on the agent behind `agent`: NULL is refused, a poisoned agent answers
/// `Poisoned`, logs go to the agent's log callback, and a panic poisons the agent.
///
/// # Safety
/// A non-NULL `agent` must come from `omadm_agent_open` and not be freed.
pub(crate) unsafe fn with_agent(
    agent: *const omadm_agent,
    body: impl FnOnce(&omadm_agent) -> Result<(), omadm_result>,
) -> omadm_result {
    if agent.is_null() {
        return omadm_result::NullParameter;
    }
    // SAFETY: non-NULL and, by the caller's contract, a live agent.
    let agent = unsafe { &*agent };
    if agent.is_poisoned() {
        return omadm_result::Poisoned;
    }
    let Some(_in_call) = InCall::enter(agent as *const omadm_agent as usize) else {
        return omadm_result::Reentrant;
    };
    let _log = agent.log_scope();
    match catch_unwind(AssertUnwindSafe(|| body(agent))) {
        Ok(Ok(())) => omadm_result::Ok,
        Ok(Err(e)) => e,
        Err(_) => {
            agent.poison();
            log::error!("omadm panicked; the agent is poisoned");
            omadm_result::Panic
        }
    }
}

/// Writes `value` to `out` (checked for NULL by the caller beforehand).
///
/// # Safety
/// `out` must be valid for a write of `T`.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) {
    // SAFETY: the caller checked `out` and guarantees it is writable.
    unsafe { out.write(value) }
}

/// `Err(NullParameter)` when `p` is NULL.
pub(crate) fn not_null<T>(p: *const T) -> Result<(), omadm_result> {
    if p.is_null() {
        Err(omadm_result::NullParameter)
    } else {
        Ok(())
    }
}
