//! User interaction: the servers' alerts 1100–1104 shown through the host's UI callback and
//! answered with `omadm_agent_ui_answer`, at once or later from any thread. The session
//! waits for the answer (up to MAXDT, else the configured UI time-out) without holding
//! anything the answering thread needs.

use std::ffi::c_void;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use omadm_dpu::ui::{InputType, UiKind, UiRequest, UiResponse, UserInterface};

use crate::boundary::with_agent;
use crate::result::omadm_result;
use crate::strings::{bytes, c_string, omadm_str};

/// Show a text (1100).
pub const OMADM_UI_DISPLAY: u32 = 1100;
/// Ask yes or no (1101).
pub const OMADM_UI_CONFIRM: u32 = 1101;
/// Ask for text (1102).
pub const OMADM_UI_TEXT_INPUT: u32 = 1102;
/// Pick one of `choices` (1103).
pub const OMADM_UI_SINGLE_CHOICE: u32 = 1103;
/// Pick any of `choices` (1104).
pub const OMADM_UI_MULTIPLE_CHOICE: u32 = 1104;

/// Answer: display acknowledged, or confirm answered yes.
pub const OMADM_UI_ANSWER_ACCEPTED: u32 = 0;
/// Answer: confirm answered no.
pub const OMADM_UI_ANSWER_REJECTED: u32 = 1;
/// Answer: the text typed (`text`).
pub const OMADM_UI_ANSWER_TEXT: u32 = 2;
/// Answer: the chosen numbers, from 1 (`selected`).
pub const OMADM_UI_ANSWER_SELECTED: u32 = 3;
/// Answer: the user cancelled.
pub const OMADM_UI_ANSWER_CANCELLED: u32 = 4;
/// Answer: nobody answered in time.
pub const OMADM_UI_ANSWER_TIMED_OUT: u32 = 5;
/// Answer: this UI cannot show that kind.
pub const OMADM_UI_ANSWER_NOT_SUPPORTED: u32 = 6;

/// What the UI is asked to show; valid during the callback only (copy what is kept).
#[repr(C)]
pub struct omadm_ui_request {
    /// omadm's `sizeof` of this struct (fields may be added at the end).
    pub struct_size: usize,
    /// Give this to `omadm_agent_ui_answer`.
    pub id: u64,
    /// An `OMADM_UI_*` kind.
    pub kind: u32,
    /// The text to show.
    pub text: omadm_str,
    /// The server's name.
    pub server: omadm_str,
    /// The choices (1103, 1104), numbered from 1 in this order.
    pub choices: *const omadm_str,
    /// How many choices.
    pub choices_len: usize,
    /// MINDT in seconds, 0 when absent.
    pub min_display_secs: u32,
    /// MAXDT in seconds, 0 when absent.
    pub max_display_secs: u32,
    /// MAXLEN of a text input, 0 when absent.
    pub max_len: u32,
    /// IT: 0 alphanumeric, 1 numeric, 2 date (DDMMYYYY), 3 time (hhmmss), 4 phone, 5 IP.
    pub input_type: u32,
    /// ET=P: echo the input as a password.
    pub password_echo: bool,
    /// DR: the default response, empty when absent.
    pub default_response: omadm_str,
}

/// The user's answer, read during `omadm_agent_ui_answer` only. Initialise with
/// `OMADM_UI_ANSWER_INIT` (it sets `struct_size`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct omadm_ui_answer {
    /// `sizeof(omadm_ui_answer)` as the host compiled it.
    pub struct_size: usize,
    /// An `OMADM_UI_ANSWER_*` value.
    pub kind: u32,
    /// The text typed (`OMADM_UI_ANSWER_TEXT`), UTF-8.
    pub text: *const std::ffi::c_char,
    /// Its length.
    pub text_len: usize,
    /// The chosen numbers, from 1 (`OMADM_UI_ANSWER_SELECTED`).
    pub selected: *const u32,
    /// How many.
    pub selected_len: usize,
}

// SAFETY: repr(C), starts with struct_size; all-zero is an answer of kind 0 with no text and
// no choices.
unsafe impl crate::growable::Growable for omadm_ui_answer {
    const MIN_SIZE: usize = std::mem::offset_of!(omadm_ui_answer, text);
}

/// Shows a request. Runs on the agent thread; must not unwind.
pub type omadm_ui_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, request: *const omadm_ui_request)>;

pub(crate) type UiSink = unsafe extern "C" fn(*mut c_void, *const omadm_ui_request);

/// The one open question (sessions run one at a time) and its answer.
#[derive(Default)]
pub(crate) struct UiDesk {
    state: Mutex<Open>,
    answered: Condvar,
}

#[derive(Default)]
struct Open {
    next_id: u64,
    id: Option<u64>,
    choices: usize,
    answer: Option<UiResponse>,
}

impl UiDesk {
    fn answer(&self, id: u64, response: UiResponse) -> Result<(), omadm_result> {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if s.id != Some(id) || s.answer.is_some() {
            return Err(omadm_result::UnknownId);
        }
        if let UiResponse::Selected(numbers) = &response {
            if numbers.iter().any(|n| *n == 0 || *n > s.choices) {
                return Err(omadm_result::InvalidArgument);
            }
        }
        s.answer = Some(response);
        self.answered.notify_all();
        Ok(())
    }
}

/// The `UserInterface` the agent's sessions use: calls the C callback, waits for the answer.
pub(crate) struct NativeUi {
    pub(crate) desk: Arc<UiDesk>,
    pub(crate) callback: UiSink,
    pub(crate) owner: Arc<crate::userdata::ForeignData>,
    pub(crate) timeout: Duration,
}

impl UserInterface for NativeUi {
    fn ask(&mut self, request: &UiRequest) -> UiResponse {
        let id = {
            let mut s = self
                .desk
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            s.next_id += 1;
            s.id = Some(s.next_id);
            s.choices = request.choices.len();
            s.answer = None;
            s.next_id
        };
        let text = c_string(&request.text);
        let server = c_string(&request.server);
        let default = c_string(request.options.default_response.as_deref().unwrap_or(""));
        let choices: Vec<_> = request.choices.iter().map(|c| c_string(c)).collect();
        let views: Vec<omadm_str> = choices.iter().map(omadm_str::of).collect();
        let o = &request.options;
        let r = omadm_ui_request {
            struct_size: std::mem::size_of::<omadm_ui_request>(),
            id,
            kind: match request.kind {
                UiKind::Display => OMADM_UI_DISPLAY,
                UiKind::Confirm => OMADM_UI_CONFIRM,
                UiKind::TextInput => OMADM_UI_TEXT_INPUT,
                UiKind::SingleChoice => OMADM_UI_SINGLE_CHOICE,
                UiKind::MultipleChoice => OMADM_UI_MULTIPLE_CHOICE,
            },
            text: omadm_str::of(&text),
            server: omadm_str::of(&server),
            choices: if views.is_empty() {
                std::ptr::null()
            } else {
                views.as_ptr()
            },
            choices_len: views.len(),
            min_display_secs: o.min_display_secs.unwrap_or(0),
            max_display_secs: o.max_display_secs.unwrap_or(0),
            max_len: o.max_len.unwrap_or(0),
            input_type: match o.input_type {
                None | Some(InputType::Alphanumeric) => 0,
                Some(InputType::Numeric) => 1,
                Some(InputType::Date) => 2,
                Some(InputType::Time) => 3,
                Some(InputType::Phone) => 4,
                Some(InputType::Ip) => 5,
            },
            password_echo: o.password_echo,
            default_response: omadm_str::of(&default),
        };
        // SAFETY: the host registered the callback with this userdata; `r` and everything it
        // views live until the callback returns.
        unsafe { (self.callback)(self.owner.data, &r) };
        let wait = match o.max_display_secs {
            Some(s) if s > 0 => Duration::from_secs(s.into()),
            _ => self.timeout,
        };
        let deadline = Instant::now() + wait;
        let mut s = self
            .desk
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while s.answer.is_none() {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            s = self
                .desk
                .answered
                .wait_timeout(s, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        s.id = None;
        s.answer.take().unwrap_or(UiResponse::TimedOut)
    }
}

/// Answers the user-interaction request `request_id` (from the UI callback), once. May be
/// called from the UI callback itself or later from any thread, also while the agent's lock
/// is held. `OMADM_RESULT_UNKNOWN_ID` when that request is not waiting (answered, timed out);
/// `OMADM_RESULT_INVALID_ARGUMENT` for an unknown answer kind, text that is not UTF-8, or a
/// choice number outside 1..choices_len.
///
/// # Safety
/// `agent` from `omadm_agent_open`; `answer` (its first `struct_size` bytes) and the arrays
/// it points to readable.
#[no_mangle]
pub unsafe extern "C" fn omadm_agent_ui_answer(
    agent: *const crate::agent::omadm_agent,
    request_id: u64,
    answer: *const omadm_ui_answer,
) -> omadm_result {
    // SAFETY: contracts passed on from ours.
    unsafe {
        with_agent(agent, |a| {
            let ans = &crate::growable::read(answer)?;
            let response = match ans.kind {
                OMADM_UI_ANSWER_ACCEPTED => UiResponse::Accepted,
                OMADM_UI_ANSWER_REJECTED => UiResponse::Rejected,
                OMADM_UI_ANSWER_TEXT => {
                    let t = std::str::from_utf8(bytes(ans.text.cast(), ans.text_len)?)
                        .map_err(|_| omadm_result::InvalidArgument)?;
                    UiResponse::Text(t.to_owned())
                }
                OMADM_UI_ANSWER_SELECTED => {
                    let n = ans.selected_len;
                    if n > 0 && ans.selected.is_null() {
                        return Err(omadm_result::NullParameter);
                    }
                    if n > 10_000 {
                        return Err(omadm_result::InvalidArgument);
                    }
                    let s = if n == 0 {
                        &[][..]
                    } else {
                        std::slice::from_raw_parts(ans.selected, n)
                    };
                    UiResponse::Selected(s.iter().map(|v| *v as usize).collect())
                }
                OMADM_UI_ANSWER_CANCELLED => UiResponse::Cancelled,
                OMADM_UI_ANSWER_TIMED_OUT => UiResponse::TimedOut,
                OMADM_UI_ANSWER_NOT_SUPPORTED => UiResponse::NotSupported,
                _ => return Err(omadm_result::InvalidArgument),
            };
            a.ui_desk().answer(request_id, response)
        })
    }
}
