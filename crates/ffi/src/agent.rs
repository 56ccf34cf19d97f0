//! `omadm_agent`: the device client behind a C handle. Lifecycle (open, free), who drives it
//! (`omadm_agent_process` from the host's loop, or `omadm_agent_run` on a thread the host
//! owns until `omadm_agent_stop`), push input from the radio layer, client-initiated
//! sessions, PINs and generic alerts. See the crate documentation for threads and
//! re-entrance.

use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ::omadm_agent::{Agent, AgentConfig, AgentEvent};
use omadm_dpu::GenericAlert;
use omadm_push::Input as PushInput;

use crate::boundary::{guard, not_null, with_agent, write_out};
use crate::config::omadm_agent_config;
use crate::event::{deliver, EventSink};
use crate::inbox::{Inbox, Input, MAX_INPUT_BYTES};
use crate::log_sink::{LogRegistration, Scope};
use crate::push::PushHandler;
use crate::result::omadm_result;
use crate::strings::{bytes, omadm_str, text, view};
use crate::ui::{NativeUi, UiDesk};
use crate::userdata::{omadm_finalizer, ForeignData};

/// What the agent's lock guards.
pub(crate) struct Core {
    pub(crate) agent: Agent,
    pub(crate) push_handlers: HashMap<u32, PushHandler>,
}

/// An agent. Open with `omadm_agent_open`, free with `omadm_agent_free`.
pub struct omadm_agent {
    core: Mutex<Core>,
    inbox: Arc<Inbox>,
    ui: Arc<UiDesk>,
    log: Mutex<Option<LogRegistration>>,
    events: Option<(EventSink, Arc<ForeignData>)>,
    /// How long calls wait for the agent's lock (ms; 0: as long as it takes).
    lock_timeout_ms: AtomicU64,
    /// Native CSPs by prefix, with their "retired" flags.
    csps: Mutex<HashMap<String, Arc<AtomicBool>>>,
    /// Prefixes retired from inside a callback, unmounted when the operation ends.
    retired: Mutex<Vec<String>>,
    poisoned: AtomicBool,
    started: Instant,
    /// Host-transport sessions open on this agent (`omadm_session_open`).
    pub(crate) open_sessions: AtomicUsize,
}

// SAFETY: the agent's Rust state is behind mutexes; the raw pointers it holds are the
// host's callback userdata, which the header documents as used from the agent thread and
// the threads that call the agent.
unsafe impl Send for omadm_agent {}
// SAFETY: as above; every mutable field is behind a Mutex or atomic.
unsafe impl Sync for omadm_agent {}

/// How many agents one thread may hold at once (a callback of one agent calling another).
const MAX_NESTED_AGENTS: usize = 8;

thread_local! {
    /// The agents whose lock this thread holds (addresses), innermost last. A fixed array, so
    /// that no thread-local heap allocation outlives the thread.
    static HELD: Cell<([usize; MAX_NESTED_AGENTS], usize)> =
        const { Cell::new(([0; MAX_NESTED_AGENTS], 0)) };
}

/// Records that this thread holds an agent's lock, until dropped (also when unwinding).
struct Holding;

impl Holding {
    fn enter(agent: usize) -> Option<Holding> {
        HELD.with(|h| {
            let (mut held, n) = h.get();
            if n == MAX_NESTED_AGENTS {
                return None;
            }
            held[n] = agent;
            h.set((held, n + 1));
            Some(Holding)
        })
    }
}

impl Drop for Holding {
    fn drop(&mut self) {
        HELD.with(|h| {
            let (held, n) = h.get();
            h.set((held, n.saturating_sub(1)));
        });
    }
}

impl omadm_agent {
    pub(crate) fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::SeqCst)
    }

    pub(crate) fn poison(&self) {
        self.poisoned.store(true, Ordering::SeqCst);
    }

    pub(crate) fn log_scope(&self) -> Scope {
        Scope::enter(
            self.log
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }

    pub(crate) fn ui_desk(&self) -> &UiDesk {
        &self.ui
    }

    fn holds_core(&self) -> bool {
        let me = self as *const omadm_agent as usize;
        HELD.with(|h| {
            let (held, n) = h.get();
            held[..n].contains(&me)
        })
    }

    /// Runs `f` with the agent's lock; `Reentrant` from a callback of this agent. Retired
    /// CSPs are unmounted before the lock is released.
    pub(crate) fn with_core<T>(
        &self,
        f: impl FnOnce(&mut Core) -> Result<T, omadm_result>,
    ) -> Result<T, omadm_result> {
        if self.holds_core() {
            return Err(omadm_result::Reentrant);
        }
        let _holding =
            Holding::enter(self as *const omadm_agent as usize).ok_or(omadm_result::Reentrant)?;
        let mut core = self.lock_core()?;
        let result = f(&mut core);
        self.unmount_retired(&mut core);
        result
    }

    /// The agent's lock: waited for as long as it takes, or up to the lock time-out
    /// (`Busy` after it).
    fn lock_core(&self) -> Result<std::sync::MutexGuard<'_, Core>, omadm_result> {
        let timeout = self.lock_timeout_ms.load(Ordering::SeqCst);
        if timeout == 0 {
            return Ok(self.core.lock().unwrap_or_else(PoisonError::into_inner));
        }
        let deadline = Instant::now() + Duration::from_millis(timeout);
        loop {
            match self.core.try_lock() {
                Ok(g) => return Ok(g),
                Err(std::sync::TryLockError::Poisoned(p)) => return Ok(p.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => {
                    if Instant::now() >= deadline {
                        return Err(omadm_result::Busy);
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }

    pub(crate) fn csp_registered(&self, prefix: &str, retired: Arc<AtomicBool>) {
        self.csps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(prefix.to_owned(), retired);
    }

    pub(crate) fn unregister_csp(&self, prefix: &str) -> Result<(), omadm_result> {
        let flag = self
            .csps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(prefix)
            .cloned()
            .ok_or(omadm_result::UnknownId)?;
        if self.holds_core() {
            flag.store(true, Ordering::SeqCst);
            self.retired
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(prefix.to_owned());
            return Ok(());
        }
        self.with_core(|core| {
            flag.store(true, Ordering::SeqCst);
            let csp = core.agent.tree().unmount(prefix)?;
            self.csps
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(prefix);
            drop(csp);
            Ok(())
        })
    }

    fn unmount_retired(&self, core: &mut Core) {
        let prefixes =
            std::mem::take(&mut *self.retired.lock().unwrap_or_else(PoisonError::into_inner));
        for prefix in prefixes {
            if core.agent.tree().in_atomic() {
                // Still inside an Atomic (a callback of a running session): next time.
                self.retired
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(prefix);
                continue;
            }
            match core.agent.tree().unmount(&prefix) {
                Ok(csp) => drop(csp),
                Err(e) => log::warn!("unmounting the retired CSP at {prefix}: {e}"),
            }
            self.csps
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&prefix);
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub(crate) fn emit(&self, core: &Core, event: &AgentEvent) {
        match event {
            AgentEvent::Routed(r) => match core.push_handlers.get(&r.handler) {
                Some(h) => h.deliver(r),
                None => log::warn!("push for handler {} that has no callback", r.handler),
            },
            other => {
                if let Some((sink, owner)) = &self.events {
                    deliver(*sink, owner.data, other);
                }
            }
        }
    }

    /// Handles the queued inputs, then runs the queued sessions and FUMO work; when the work
    /// pauses for newly queued input, handles that and goes on.
    fn process(&self) -> Result<(), omadm_result> {
        self.with_core(|core| loop {
            for input in self.inbox.take() {
                let now = self.now_ms();
                let event = match &input {
                    Input::Gsm(pdu) => core.agent.receive(PushInput::GsmSms(pdu), now),
                    Input::Cdma(m) => core.agent.receive(PushInput::CdmaSms(m), now),
                    Input::Udp { sender, datagram } => {
                        core.agent.receive(PushInput::Udp { sender, datagram }, now)
                    }
                    Input::Pin { id, pin } => core.agent.provide_pin(*id, pin),
                    Input::Session(server) => {
                        core.agent.request_session(server);
                        None
                    }
                };
                if let Some(e) = event {
                    self.emit(core, &e);
                }
            }
            for e in core.agent.run_pending() {
                self.emit(core, &e);
            }
            if !core.agent.paused() || self.inbox.stop_requested() {
                return Ok(());
            }
        })
    }
}

/// Opens (or creates) an agent with `config`'s settings; the configuration can be freed
/// afterwards. The agent holds its state directory alone until it is freed. Generic alerts
/// still pending from an earlier run are queued for delivery at the next
/// `omadm_agent_process` or `omadm_agent_run`. Errors: `OMADM_RESULT_INVALID_ARGUMENT` without
/// a state directory or DevId; `OMADM_RESULT_STATE_LOCKED` when another agent (in this process
/// or another) holds the state directory; `OMADM_RESULT_IO` when a file of it cannot be
/// created, read or written; `OMADM_RESULT_STATE_UNREADABLE` when it holds a tree that cannot
/// be loaded (damaged, or not omadm's).
///
/// # Safety
/// `config` from `omadm_agent_config_new`; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_open(
    config: *const omadm_agent_config,
    out: *mut *mut omadm_agent,
) -> omadm_result {
    guard(|| {
        not_null(config)?;
        not_null(out)?;
        // SAFETY: non-NULL and live by the caller's contract.
        let c = unsafe { &*config };
        let _log = Scope::enter(c.log.clone());
        let state_dir = c.state_dir.clone().ok_or(omadm_result::InvalidArgument)?;
        if c.device.dev_id.is_empty() {
            return Err(omadm_result::InvalidArgument);
        }
        let mut agent = Agent::open(
            &state_dir,
            AgentConfig {
                device: c.device.clone(),
                detail: c.detail.clone(),
                router: c.router.clone(),
                transport: c.transport.clone(),
                tree: c.tree.clone(),
                max_msg_size: c.max_msg_size,
                fallback: c.fallback,
            },
        )
        .map_err(|e| {
            log::error!("opening the agent in {}: {e}", state_dir.display());
            omadm_result::from(&e)
        })?;
        agent.set_host_transport(c.host_transport);
        let desk = Arc::new(UiDesk::default());
        if let Some((callback, owner)) = &c.ui {
            agent.set_ui(Box::new(NativeUi {
                desk: desk.clone(),
                callback: *callback,
                owner: owner.clone(),
                timeout: c.ui_timeout,
            }));
        }
        if let Some(host) = &c.firmware {
            let updater = crate::firmware::NativeFirmware(host.clone());
            let settings = ::omadm_agent::FumoSettings {
                root: c.fumo_root.clone(),
                ..::omadm_agent::FumoSettings::default()
            };
            agent
                .enable_fumo(Box::new(updater), settings)
                .map_err(|e| {
                    log::error!("enabling FUMO: {e}");
                    omadm_result::from(&e)
                })?;
        }
        // A long firmware download pauses when the radio layer hands over input, so that a
        // server's session (and its poll of the FUMO State) is not held up by it.
        let inbox = Arc::new(Inbox::default());
        let waiting = inbox.clone();
        agent.set_yield_check(Box::new(move || waiting.has_work()));
        agent.resume_pending_alerts();
        let handle = Box::new(omadm_agent {
            core: Mutex::new(Core {
                agent,
                push_handlers: HashMap::new(),
            }),
            inbox,
            ui: desk,
            log: Mutex::new(c.log.clone()),
            events: c.events.clone(),
            lock_timeout_ms: AtomicU64::new(0),
            csps: Mutex::new(HashMap::new()),
            retired: Mutex::new(Vec::new()),
            poisoned: AtomicBool::new(false),
            started: Instant::now(),
            open_sessions: AtomicUsize::new(0),
        });
        // SAFETY: checked non-NULL, writable by the caller's contract.
        unsafe { write_out(out, Box::into_raw(handle)) };
        Ok(())
    })
}

/// Frees an agent (NULL is allowed: `OMADM_RESULT_OK`) and releases its state directory.
/// Native CSPs', push handlers' and callbacks' finalizers run here. No other thread may be
/// using the agent (stop and join the thread in `omadm_agent_run` first). From inside a
/// callback of this agent it does nothing and returns `OMADM_RESULT_REENTRANT` (the agent is
/// running that callback). With host-transport sessions open (`omadm_session_open`) it does
/// nothing and returns `OMADM_RESULT_BUSY`: free them first. A finalizer run here must not
/// call this agent.
///
/// # Safety
/// `agent` NULL or from `omadm_agent_open`, not freed before.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_free(agent: *mut omadm_agent) -> omadm_result {
    if agent.is_null() {
        return omadm_result::Ok;
    }
    guard(|| {
        // Every callback runs inside a call on its agent: freeing the agent there would pull
        // it from under that call.
        if crate::boundary::in_call_on(agent) {
            return Err(omadm_result::Reentrant);
        }
        // SAFETY: non-NULL, from omadm_agent_open, not freed (contract).
        if unsafe { &*agent }.open_sessions.load(Ordering::SeqCst) > 0 {
            log::error!("omadm_agent_free with host-transport sessions open: free them first");
            return Err(omadm_result::Busy);
        }
        // SAFETY: from Box::into_raw in omadm_agent_open, freed once, not in use.
        let boxed = unsafe { Box::from_raw(agent) };
        let _log = boxed.log_scope();
        drop(boxed);
        Ok(())
    })
}

/// Handles everything queued (push input, PINs, session requests), then runs the queued
/// sessions one after another, and returns. Blocks while sessions run (network I/O with
/// time-outs and retries). Events and callbacks run on this thread.
///
/// # Safety
/// `agent` from `omadm_agent_open`.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_process(agent: *const omadm_agent) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe { with_agent(agent, |a| a.process()) }
}

/// Runs the agent on the calling thread (the host's agent thread) until `omadm_agent_stop`:
/// waits for input, handles it and runs the sessions it queues. A session in progress when
/// stop is asked completes first.
///
/// # Safety
/// `agent` from `omadm_agent_open`.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_run(agent: *const omadm_agent) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_agent(agent, |a| loop {
            a.process()?;
            if a.inbox.wait(Duration::from_secs(3600)) {
                return Ok(());
            }
        })
    }
}

/// Asks `omadm_agent_run` to return (from any thread, also from a callback). Without a
/// running loop the next `omadm_agent_run` returns at once.
///
/// # Safety
/// `agent` from `omadm_agent_open`.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_stop(agent: *const omadm_agent) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_agent(agent, |a| {
            a.inbox.stop();
            Ok(())
        })
    }
}

fn push_input(a: &omadm_agent, input: Input) -> Result<(), omadm_result> {
    a.inbox.push(input)
}

/// Hands over a GSM SMS-DELIVER TPDU (without the SMSC address) received by the radio layer.
/// Segments of a concatenated push are reassembled. Queued; handled by the next
/// `omadm_agent_process`/run iteration (events report what it was). `OMADM_RESULT_BUSY` when
/// the queue is full.
///
/// # Safety
/// `agent` from `omadm_agent_open`; `(pdu, pdu_len)` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_push_gsm_sms(
    agent: *const omadm_agent,
    pdu: *const u8,
    pdu_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_agent(agent, |a| {
            let b = bytes(pdu, pdu_len)?;
            if b.is_empty() || b.len() > MAX_INPUT_BYTES {
                return Err(omadm_result::InvalidArgument);
            }
            push_input(a, Input::Gsm(b.to_vec()))
        })
    }
}

/// Hands over a CDMA SMS transport-layer message (WAP teleservice). As
/// `omadm_agent_push_gsm_sms`.
///
/// # Safety
/// `agent` from `omadm_agent_open`; `(message, message_len)` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_push_cdma_sms(
    agent: *const omadm_agent,
    message: *const u8,
    message_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_agent(agent, |a| {
            let b = bytes(message, message_len)?;
            if b.is_empty() || b.len() > MAX_INPUT_BYTES {
                return Err(omadm_result::InvalidArgument);
            }
            push_input(a, Input::Cdma(b.to_vec()))
        })
    }
}

/// Hands over a UDP datagram received on the WAP push port (a WSP PDU), with the sender's
/// IP address (text). As `omadm_agent_push_gsm_sms`.
///
/// # Safety
/// `agent` from `omadm_agent_open`; the views readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_push_udp(
    agent: *const omadm_agent,
    sender: *const c_char,
    sender_len: usize,
    datagram: *const u8,
    datagram_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_agent(agent, |a| {
            let s = text(sender, sender_len)?;
            let b = bytes(datagram, datagram_len)?;
            if b.is_empty() || b.len() > MAX_INPUT_BYTES || s.len() > 256 {
                return Err(omadm_result::InvalidArgument);
            }
            push_input(
                a,
                Input::Udp {
                    sender: s.to_owned(),
                    datagram: b.to_vec(),
                },
            )
        })
    }
}

/// Gives the PIN the user typed for the provisioning document of
/// `OMADM_EVENT_PIN_REQUIRED`. Queued like push input; a wrong PIN drops the document.
///
/// # Safety
/// `agent` from `omadm_agent_open`; `(pin, pin_len)` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_provide_pin(
    agent: *const omadm_agent,
    pin_request_id: u32,
    pin: *const c_char,
    pin_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_agent(agent, |a| {
            let p = text(pin, pin_len)?;
            if p.is_empty() || p.len() > 64 {
                return Err(omadm_result::InvalidArgument);
            }
            push_input(
                a,
                Input::Pin {
                    id: pin_request_id,
                    pin: p.to_owned(),
                },
            )
        })
    }
}

/// Queues a client-initiated session (Alert 1201) with the server whose DM account has this
/// ServerID; it runs at the next `omadm_agent_process`/run iteration.
///
/// # Safety
/// `agent` from `omadm_agent_open`; `(server_id, server_id_len)` readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_request_session(
    agent: *const omadm_agent,
    server_id: *const c_char,
    server_id_len: usize,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_agent(agent, |a| {
            let s = text(server_id, server_id_len)?;
            if s.is_empty() {
                return Err(omadm_result::InvalidArgument);
            }
            push_input(a, Input::Session(s.to_owned()))
        })
    }
}

/// A generic alert (Alert 1226) for a server. Initialise with `OMADM_GENERIC_ALERT_INIT` (it
/// sets `struct_size`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct omadm_generic_alert {
    /// `sizeof(omadm_generic_alert)` as the host compiled it.
    pub struct_size: usize,
    /// Meta Type (`org.openmobilealliance.dm.firmwareupdate.update`). Required.
    pub alert_type: omadm_str,
    /// Meta Format (`int`, `chr`); empty means `chr`.
    pub format: omadm_str,
    /// Meta Mark (importance), may be empty.
    pub mark: omadm_str,
    /// Item Source: the node concerned, may be empty.
    pub source: omadm_str,
    /// Item Target, may be empty.
    pub target: omadm_str,
    /// The Correlator of the Exec it answers, may be empty.
    pub correlator: omadm_str,
    /// Item Data (text).
    pub data: omadm_str,
}

// SAFETY: repr(C), starts with struct_size, and all-zero views are empty.
unsafe impl crate::growable::Growable for omadm_generic_alert {
    const MIN_SIZE: usize = std::mem::size_of::<omadm_generic_alert>();
}

/// Stores a generic alert for `server_id` durably (it survives restarts until a server
/// acknowledges it with a Status) and queues a session to deliver it. Writes the alert's id
/// to `out_id` (may be NULL).
///
/// # Safety
/// `agent` from `omadm_agent_open`; `alert` (its first `struct_size` bytes) and its views
/// readable; `out_id` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_add_generic_alert(
    agent: *const omadm_agent,
    server_id: *const c_char,
    server_id_len: usize,
    alert: *const omadm_generic_alert,
    out_id: *mut u64,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_agent(agent, |a| {
            let server = text(server_id, server_id_len)?;
            let g = &crate::growable::read(alert)?;
            let opt = |s: omadm_str| -> Result<Option<String>, omadm_result> {
                let t = view(s)?;
                Ok((!t.is_empty()).then(|| t.to_owned()))
            };
            let alert_type = view(g.alert_type)?;
            if server.is_empty() || alert_type.is_empty() {
                return Err(omadm_result::InvalidArgument);
            }
            let format = view(g.format)?;
            let alert = GenericAlert {
                id: 0,
                correlator: opt(g.correlator)?,
                source: opt(g.source)?,
                target: opt(g.target)?,
                type_: alert_type.to_owned(),
                format: if format.is_empty() { "chr" } else { format }.to_owned(),
                mark: opt(g.mark)?,
                data: view(g.data)?.to_owned(),
            };
            let id = a.with_core(|core| {
                core.agent.add_generic_alert(server, alert).map_err(|e| {
                    log::error!("storing a generic alert: {e}");
                    omadm_result::Io
                })
            })?;
            if !out_id.is_null() {
                write_out(out_id, id);
            }
            Ok(())
        })
    }
}

/// Sets how long calls that need the agent's lock (tree access, registrations, processing)
/// wait for it while another thread runs a session: `timeout_ms` 0 (the default) waits as
/// long as it takes; otherwise they give up after that long with `OMADM_RESULT_BUSY`, so that
/// a UI thread is never held up by a network session. The queueing calls (push input, PINs,
/// session requests, UI answers, stop) never wait in any case.
///
/// # Safety
/// `agent` from `omadm_agent_open`.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_set_lock_timeout_ms(
    agent: *const omadm_agent,
    timeout_ms: u32,
) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_agent(agent, |a| {
            a.lock_timeout_ms.store(timeout_ms.into(), Ordering::SeqCst);
            Ok(())
        })
    }
}

/// Sets, replaces or (with NULL) removes the agent's log callback, as
/// `omadm_agent_config_set_log_callback` does for a configuration. The old callback's
/// finalizer runs once no call logs through it any more (at once unless another thread is in
/// a call on this agent). May be called from any thread, also from a callback.
///
/// # Safety
/// `agent` from `omadm_agent_open`.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_set_log_callback(
    agent: *const omadm_agent,
    callback: crate::log_sink::omadm_log_callback,
    userdata: *mut c_void,
    finalizer: omadm_finalizer,
    max_level: u32,
) -> omadm_result {
    // SAFETY: contract passed on from ours.
    unsafe {
        with_agent(agent, |a| {
            let registration =
                crate::config::log_registration(callback, userdata, finalizer, max_level)?;
            let old = std::mem::replace(
                &mut *a.log.lock().unwrap_or_else(PoisonError::into_inner),
                registration,
            );
            drop(old);
            Ok(())
        })
    }
}

/// Runs a client-initiated session (Alert 1201) with the server whose DM account has this
/// ServerID now, carrying the alerts pending for it, and returns how it ended:
/// `OMADM_RESULT_OK` when it completed, else the outcome (`OMADM_RESULT_SERVER_NOT_AUTHENTICATED`,
/// `..._CREDENTIALS_REFUSED`, `..._PROTOCOL_ERROR`, `..._SESSION_ABORTED`, `..._NO_ACCOUNT`,
/// `..._TLS_FAILED`, `..._NETWORK`, `..._HTTP_STATUS` with the status in `out_http_status` (may
/// be NULL), `..._BAD_URL`, `..._CLIENT_CERTIFICATE`, `..._STORAGE`). Blocks for the session
/// (network I/O with time-outs and the account's retries); events and callbacks run on this
/// thread, and the session's `OMADM_EVENT_SESSION_ENDED` or `_FAILED` event is delivered too.
///
/// # Safety
/// `agent` from `omadm_agent_open`; `(server_id, server_id_len)` readable; `out_http_status`
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_run_session(
    agent: *const omadm_agent,
    server_id: *const c_char,
    server_id_len: usize,
    out_http_status: *mut u32,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_agent(agent, |a| {
            let server = text(server_id, server_id_len)?;
            if server.is_empty() {
                return Err(omadm_result::InvalidArgument);
            }
            let event = a.with_core(|core| {
                let e = core.agent.start_session(server);
                a.emit(core, &e);
                Ok(e)
            })?;
            let (result, http) = match &event {
                AgentEvent::SessionEnded { reason, .. } => (omadm_result::of_end(reason), 0),
                AgentEvent::SessionFailed { reason, .. } => omadm_result::of_failure(reason),
                _ => (omadm_result::ProtocolError, 0),
            };
            if !out_http_status.is_null() {
                write_out(out_http_status, u32::from(http));
            }
            match result {
                omadm_result::Ok => Ok(()),
                e => Err(e),
            }
        })
    }
}
