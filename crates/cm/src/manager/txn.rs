//! Transactions: savepoints for every command, and Atomic (all or nothing across the store
//! and CSPs). Store changes are undone from their recorded old state; CSPs with
//! [`TxMode::External`](crate::TxMode) get the opposite operations; CSPs with
//! [`TxMode::Internal`](crate::TxMode) get exactly one `commit` or `rollback` per `begin`.

use super::Manager;
use crate::csp::LeafValue;
use crate::error::CmError;
use crate::store::Change;

/// One undo step.
pub(super) enum Step {
    /// Store changes restoring the old state, applied in order.
    Store(Vec<Change>),
    /// Delete what an Add created in an external CSP.
    CspDelete { mount: usize, path: String },
    /// Put back the value a Replace overwrote in an external CSP.
    CspReplace {
        mount: usize,
        path: String,
        old: LeafValue<'static>,
    },
    /// Re-create a subtree a Delete removed from an external CSP (parents first).
    CspRestore {
        mount: usize,
        nodes: Vec<(String, Option<LeafValue<'static>>)>,
    },
}

/// Where to roll back to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Savepoint {
    undo: usize,
    pending: usize,
}

impl Manager {
    pub(super) fn savepoint(&self) -> Savepoint {
        Savepoint {
            undo: self.undo.len(),
            pending: self.pending.len(),
        }
    }

    /// Undoes everything after `sp`; false when some undo step failed.
    pub(super) fn rollback_to(&mut self, sp: Savepoint) -> bool {
        let mut ok = true;
        while self.undo.len() > sp.undo {
            let step = self.undo.pop().expect("len checked");
            match step {
                Step::Store(changes) => {
                    for change in changes {
                        self.store.apply(change);
                    }
                }
                Step::CspDelete { mount, path } => {
                    ok &= self.undo_csp(mount, |csp| csp.delete(&path));
                }
                Step::CspReplace { mount, path, old } => {
                    ok &= self.undo_csp(mount, |csp| csp.replace(&path, &old));
                }
                Step::CspRestore { mount, nodes } => {
                    for (path, value) in &nodes {
                        ok &= self.undo_csp(mount, |csp| csp.add(path, value.as_ref()));
                    }
                }
            }
        }
        self.pending.truncate(sp.pending);
        ok
    }

    fn undo_csp(
        &mut self,
        mount: usize,
        f: impl FnOnce(&mut dyn crate::csp::Csp) -> Result<(), crate::csp::CspError>,
    ) -> bool {
        if mount >= self.mounts.len() {
            return false;
        }
        match self.call_csp(mount, false, f) {
            Ok(()) => true,
            Err(e) => {
                log::error!(
                    "rollback step failed in CSP at {}: {e}",
                    self.mounts[mount].prefix
                );
                false
            }
        }
    }

    /// Ends the internal transactions of the CSPs touched since the last end: commit when
    /// `success`, else rollback. Returns false when an end failed.
    fn end_internal(&mut self, success: bool) -> bool {
        if !std::mem::take(&mut self.internal_begun) {
            return true;
        }
        let mut ok = true;
        for i in 0..self.mounts.len() {
            if !self.mounts[i].begun {
                continue;
            }
            self.mounts[i].begun = false;
            let csp = &mut self.mounts[i].csp;
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if success {
                    csp.commit()
                } else {
                    csp.rollback()
                }
            }));
            if !matches!(result, Ok(Ok(()))) {
                log::error!(
                    "CSP at {} failed to {}",
                    self.mounts[i].prefix,
                    if success { "commit" } else { "roll back" }
                );
                ok = false;
            }
        }
        ok
    }

    /// Runs one command: on failure everything it did is undone; outside an Atomic its
    /// internal CSP transactions end with it.
    pub(super) fn run<T>(
        &mut self,
        f: impl FnOnce(&mut Manager) -> Result<T, CmError>,
    ) -> Result<T, CmError> {
        self.run_as(false, f)
    }

    /// [`Manager::run`] for a command that changes the tree in one step at most (a Replace,
    /// a Delete, an Add whose parent exists), which may say otherwise once it knows
    /// (`single_step = false` before a second step).
    pub(super) fn run_single<T>(
        &mut self,
        f: impl FnOnce(&mut Manager) -> Result<T, CmError>,
    ) -> Result<T, CmError> {
        self.run_as(true, f)
    }

    fn run_as<T>(
        &mut self,
        single_step: bool,
        f: impl FnOnce(&mut Manager) -> Result<T, CmError>,
    ) -> Result<T, CmError> {
        self.single_step = single_step;
        let sp = self.savepoint();
        let result = f(self);
        if result.is_err() && !self.rollback_to(sp) {
            log::error!("a failed command could not be fully undone");
        }
        self.single_step = false;
        if !self.in_atomic {
            self.undo.clear();
            if !self.end_internal(result.is_ok()) {
                return result.and(Err(CmError::failed("CSP commit failed")));
            }
        }
        result
    }

    /// Whether a CSP change of the running command needs an undo step: inside an Atomic
    /// (its rollback undoes every command), or when a later step of the same command may
    /// fail. A single-step command needs none: a CSP call that fails leaves its nodes as
    /// they were (the [`Csp`](crate::Csp) contract), and nothing follows one that succeeds.
    /// Skipping it saves the copies an undo step holds (the old value of a Replace, the
    /// whole subtree of a Delete).
    pub(super) fn keep_undo(&self) -> bool {
        self.in_atomic || !self.single_step
    }

    /// Starts an Atomic. Nested Atomics are refused (the session engine answers 500).
    pub fn begin_atomic(&mut self) -> Result<(), CmError> {
        if self.in_atomic {
            return Err(CmError::failed("nested Atomic"));
        }
        self.in_atomic = true;
        self.atomic_pending_mark = self.pending.len();
        self.undo.clear();
        Ok(())
    }

    /// Whether an Atomic is open.
    pub fn in_atomic(&self) -> bool {
        self.in_atomic
    }

    /// Commits the Atomic: its changes stay (and await [`Manager::persist`]); internal CSP
    /// transactions commit. Fails with 500 if a CSP commit fails.
    pub fn commit_atomic(&mut self) -> Result<(), CmError> {
        if !self.in_atomic {
            return Err(CmError::failed("no Atomic to commit"));
        }
        self.in_atomic = false;
        self.undo.clear();
        if self.end_internal(true) {
            Ok(())
        } else {
            Err(CmError::failed("CSP commit failed"))
        }
    }

    /// Rolls the Atomic back: every change since [`Manager::begin_atomic`] is undone.
    /// `Err` (status 516) when some part could not be undone.
    pub fn rollback_atomic(&mut self) -> Result<(), CmError> {
        if !self.in_atomic {
            return Err(CmError::failed("no Atomic to roll back"));
        }
        let ok = self.rollback_to(Savepoint {
            undo: 0,
            pending: self.pending_mark_for_atomic(),
        });
        self.in_atomic = false;
        let ended = self.end_internal(false);
        if ok && ended {
            Ok(())
        } else {
            Err(CmError::new(516, "Atomic roll back failed"))
        }
    }

    fn pending_mark_for_atomic(&self) -> usize {
        self.atomic_pending_mark.min(self.pending.len())
    }
}
