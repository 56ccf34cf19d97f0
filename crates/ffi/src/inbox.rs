//! The agent's input queue: what the radio layer and other threads hand over without waiting
//! for a running session (push messages, PINs, session requests, stop). Bounded: a full queue
//! answers `OMADM_RESULT_BUSY` and loses nothing already queued.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use crate::result::omadm_result;

/// Inputs waiting at most.
pub(crate) const INBOX_CAPACITY: usize = 256;
/// Largest push input accepted (a UDP datagram).
pub(crate) const MAX_INPUT_BYTES: usize = 65_535;

/// One queued input.
pub(crate) enum Input {
    Gsm(Vec<u8>),
    Cdma(Vec<u8>),
    Udp { sender: String, datagram: Vec<u8> },
    Pin { id: u32, pin: String },
    Session(String),
}

#[derive(Default)]
struct Queue {
    items: VecDeque<Input>,
    stop: bool,
}

/// The queue and the condition the run loop waits on.
#[derive(Default)]
pub(crate) struct Inbox {
    queue: Mutex<Queue>,
    wake: Condvar,
}

impl Inbox {
    pub(crate) fn push(&self, input: Input) -> Result<(), omadm_result> {
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if q.items.len() >= INBOX_CAPACITY {
            return Err(omadm_result::Busy);
        }
        q.items.push_back(input);
        self.wake.notify_all();
        Ok(())
    }

    /// Everything queued, oldest first.
    pub(crate) fn take(&self) -> Vec<Input> {
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        q.items.drain(..).collect()
    }

    /// Whether input or a stop is waiting (the agent's yield check during long work).
    pub(crate) fn has_work(&self) -> bool {
        let q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        !q.items.is_empty() || q.stop
    }

    /// Whether a stop is waiting (not consumed).
    pub(crate) fn stop_requested(&self) -> bool {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .stop
    }

    /// Asks the run loop to return.
    pub(crate) fn stop(&self) {
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        q.stop = true;
        self.wake.notify_all();
    }

    /// Waits until there is input or a stop (true: stop, consumed).
    pub(crate) fn wait(&self, at_most: Duration) -> bool {
        let q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut q, _) = self
            .wake
            .wait_timeout_while(q, at_most, |q| q.items.is_empty() && !q.stop)
            .unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut q.stop)
    }
}
