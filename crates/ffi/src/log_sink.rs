//! Logging: the `log` crate's records go to the C callback of the agent whose call produced
//! them. omadm installs its dispatching logger only when a host gives a log callback (it never
//! takes the process's logger unasked); while a call on an agent runs, that agent's callback
//! is the thread's current sink.

use std::cell::Cell;
use std::ffi::c_void;
use std::sync::OnceLock;

use crate::strings::{c_string, omadm_str};
use crate::userdata::ForeignData;

/// Log level: nothing is logged.
pub const OMADM_LOG_OFF: u32 = 0;
/// Log level: errors.
pub const OMADM_LOG_ERROR: u32 = 1;
/// Log level: warnings.
pub const OMADM_LOG_WARN: u32 = 2;
/// Log level: information (sessions started and ended, accounts bootstrapped).
pub const OMADM_LOG_INFO: u32 = 3;
/// Log level: debugging detail.
pub const OMADM_LOG_DEBUG: u32 = 4;
/// Log level: everything.
pub const OMADM_LOG_TRACE: u32 = 5;

/// One log record, valid during the callback only.
#[repr(C)]
pub struct omadm_log_params {
    /// omadm's `sizeof` of this struct (fields may be added at the end).
    pub struct_size: usize,
    /// Severity (an `OMADM_LOG_*` value).
    pub level: u32,
    /// The module that logged it (`omadm_dpu::session`, ...).
    pub target: omadm_str,
    /// The message (never holds a secret).
    pub message: omadm_str,
}

/// Receives log records. Runs on the thread whose call logged; must not block for long.
pub type omadm_log_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, params: *const omadm_log_params)>;

/// A C log callback with its userdata and threshold.
#[derive(Clone, Copy)]
pub(crate) struct LogSink {
    pub(crate) callback: unsafe extern "C" fn(*mut c_void, *const omadm_log_params),
    pub(crate) userdata: *mut c_void,
    pub(crate) max: log::LevelFilter,
}

// SAFETY: the header states that a log callback's userdata may be used from the agent thread
// and the threads that call the agent; the host gives it under that contract.
unsafe impl Send for LogSink {}
// SAFETY: as above.
unsafe impl Sync for LogSink {}

/// A registered log callback: the sink, and the userdata's owner (its finalizer runs when the
/// registration is replaced or dropped and no call still logs through it).
#[derive(Clone)]
pub(crate) struct LogRegistration {
    pub(crate) sink: LogSink,
    /// Held, never read: dropping the last clone runs the finalizer.
    #[allow(dead_code)]
    pub(crate) owner: std::sync::Arc<ForeignData>,
}

thread_local! {
    static CURRENT: Cell<Option<LogSink>> = const { Cell::new(None) };
}

struct Dispatch;

impl log::Log for Dispatch {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        CURRENT.with(|c| c.get().is_some_and(|s| metadata.level() <= s.max))
    }

    fn log(&self, record: &log::Record<'_>) {
        let Some(sink) = CURRENT.with(Cell::get) else {
            return;
        };
        if record.level() > sink.max {
            return;
        }
        // The message may echo what peers sent: one printable line, cut (no escape sequence or
        // line break of theirs reaches the host's log).
        let message = c_string(
            &omadm_syncml::printable(&record.args().to_string())
                .limit(2048)
                .plain_backslashes()
                .to_string(),
        );
        let target = c_string(record.target());
        let params = omadm_log_params {
            struct_size: std::mem::size_of::<omadm_log_params>(),
            level: match record.level() {
                log::Level::Error => 1,
                log::Level::Warn => 2,
                log::Level::Info => 3,
                log::Level::Debug => 4,
                log::Level::Trace => 5,
            },
            target: omadm_str::of(&target),
            message: omadm_str::of(&message),
        };
        // No logging from inside the callback (a callback that calls omadm must not recurse).
        CURRENT.with(|c| c.set(None));
        // SAFETY: the host registered this callback with this userdata; params lives for the
        // call.
        unsafe { (sink.callback)(sink.userdata, &params) };
        CURRENT.with(|c| c.set(Some(sink)));
    }

    fn flush(&self) {}
}

static DISPATCH: Dispatch = Dispatch;

/// Installs omadm's dispatching logger once; false when another logger owns the process.
pub(crate) fn install() -> bool {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    *INSTALLED.get_or_init(|| {
        let ok = log::set_logger(&DISPATCH).is_ok();
        if ok {
            log::set_max_level(log::LevelFilter::Trace);
        }
        ok
    })
}

/// Makes a registration's sink the thread's current sink until dropped (then the previous
/// one again); it keeps the registration's userdata alive meanwhile.
pub(crate) struct Scope(Option<LogSink>, #[allow(dead_code)] Option<LogRegistration>);

impl Scope {
    pub(crate) fn enter(registration: Option<LogRegistration>) -> Scope {
        let sink = registration.as_ref().map(|r| r.sink);
        Scope(CURRENT.with(|c| c.replace(sink)), registration)
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

/// The `log` threshold for a level value, or None when out of range.
pub(crate) fn level_filter(level: u32) -> Option<log::LevelFilter> {
    Some(match level {
        0 => log::LevelFilter::Off,
        1 => log::LevelFilter::Error,
        2 => log::LevelFilter::Warn,
        3 => log::LevelFilter::Info,
        4 => log::LevelFilter::Debug,
        5 => log::LevelFilter::Trace,
        _ => return None,
    })
}
