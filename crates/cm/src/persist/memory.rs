//! [`Storage`] in memory, for tests and for hosts that persist elsewhere. Clones share the
//! same bytes, so a test can "restart" by opening a new Manager on a clone.

use std::io;
use std::sync::{Arc, Mutex};

use super::{Storage, Stored};

/// In-memory storage.
#[derive(Debug, Clone, Default)]
pub struct MemoryStorage {
    inner: Arc<Mutex<Stored>>,
}

impl MemoryStorage {
    /// Empty storage.
    pub fn new() -> Self {
        MemoryStorage::default()
    }

    /// The journal's current length in bytes.
    pub fn journal_len(&self) -> usize {
        self.inner.lock().expect("not poisoned").journal.len()
    }

    /// Damages one byte of the journal (for corruption tests).
    pub fn corrupt_journal_byte(&self, at: usize) {
        let mut s = self.inner.lock().expect("not poisoned");
        if let Some(b) = s.journal.get_mut(at) {
            *b ^= 0xFF;
        }
    }
}

impl Storage for MemoryStorage {
    fn load(&mut self) -> io::Result<Stored> {
        Ok(self.inner.lock().expect("not poisoned").clone())
    }

    fn append(&mut self, bytes: &[u8], truncate_to: Option<u64>) -> io::Result<()> {
        let mut s = self.inner.lock().expect("not poisoned");
        if let Some(len) = truncate_to {
            s.journal.truncate(len as usize);
        }
        s.journal.extend_from_slice(bytes);
        Ok(())
    }

    fn replace_snapshot(&mut self, snapshot: &[u8], journal_header: &[u8]) -> io::Result<()> {
        let mut s = self.inner.lock().expect("not poisoned");
        s.snapshot = Some(snapshot.to_vec());
        s.journal = journal_header.to_vec();
        Ok(())
    }
}
