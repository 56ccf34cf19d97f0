//! Durable storage of the built-in tree: a write-ahead journal of committed changes plus an
//! atomic snapshot, behind the [`Storage`] trait so that the Manager itself does no I/O.
//!
//! Design (the choice ARCHITECTURE.md leaves to us): every [`crate::Manager::persist`] appends
//! one journal record holding all changes since the last one, and returns only once the
//! storage says the record is durable (`fsync`). A record is `len (u32 BE) | SHA-256 of the
//! payload | payload`; a record cut short or whose checksum fails *at the end of the journal*
//! is a torn write of a change that was never acknowledged and is dropped; a bad record with
//! valid records after it is corruption and loading fails with [`LoadError::Corrupt`], never a
//! half-loaded tree. When the journal grows past a threshold the Manager writes a snapshot
//! (`generation | SHA-256 | every node`) atomically — temporary file, fsync, rename, fsync of
//! the directory — and starts a new journal whose header carries the snapshot's generation;
//! a journal of another generation is stale and ignored. A crash at any point therefore
//! leaves the old or the new tree, never a mix.

mod codec;
mod file;
mod memory;

pub use codec::{
    decode_changes, decode_journal, decode_snapshot, encode_changes, encode_journal_header,
    encode_record, encode_snapshot, JournalContents,
};
pub use file::{FileStorage, ReadOnlyStorage};
pub use memory::MemoryStorage;

use std::fmt;
use std::io;

/// What a [`Storage`] holds, as loaded.
#[derive(Debug, Default, Clone)]
pub struct Stored {
    /// The snapshot file's bytes, if there is one.
    pub snapshot: Option<Vec<u8>>,
    /// The journal file's bytes (header and records), possibly empty.
    pub journal: Vec<u8>,
}

/// Where the tree is kept. Implementations must make `append` and `replace_snapshot` durable
/// before returning (fsync or equivalent); the Manager reports success to a server only after.
pub trait Storage: Send {
    /// Reads the snapshot and the journal.
    fn load(&mut self) -> io::Result<Stored>;
    /// Appends bytes to the journal, durably. `truncate_to` first cuts the journal to that
    /// length (used once after loading to drop a torn tail).
    fn append(&mut self, bytes: &[u8], truncate_to: Option<u64>) -> io::Result<()>;
    /// Atomically replaces the snapshot, then replaces the journal with `journal_header`.
    fn replace_snapshot(&mut self, snapshot: &[u8], journal_header: &[u8]) -> io::Result<()>;
}

/// Why a stored tree could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The storage could not be read.
    Io(io::Error),
    /// A checksum or structure error: the stored tree is damaged and was not loaded.
    Corrupt(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io(e) => write!(f, "cannot read the stored tree: {e}"),
            LoadError::Corrupt(why) => write!(f, "stored tree is corrupt: {why}"),
        }
    }
}

impl std::error::Error for LoadError {}

impl From<io::Error> for LoadError {
    fn from(e: io::Error) -> Self {
        LoadError::Io(e)
    }
}
