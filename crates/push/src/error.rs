//! The push decoders' error: what and where.

use std::fmt;

/// A decoding failure with the byte offset where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushError {
    /// What is wrong.
    pub what: String,
    /// Byte offset in the input.
    pub offset: usize,
}

impl PushError {
    pub(crate) fn new(what: impl Into<String>, offset: usize) -> Self {
        PushError {
            what: what.into(),
            offset,
        }
    }
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.what, self.offset)
    }
}

impl std::error::Error for PushError {}

/// A bounds-checked cursor over input bytes.
pub(crate) struct Cursor<'a> {
    pub input: &'a [u8],
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Cursor { input, pos: 0 }
    }
    pub fn u8(&mut self, what: &str) -> Result<u8, PushError> {
        let b = *self
            .input
            .get(self.pos)
            .ok_or_else(|| PushError::new(format!("truncated {what}"), self.pos))?;
        self.pos += 1;
        Ok(b)
    }
    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], PushError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.input.len())
            .ok_or_else(|| PushError::new(format!("truncated {what}"), self.pos))?;
        let out = &self.input[self.pos..end];
        self.pos = end;
        Ok(out)
    }
    pub fn rest(&mut self) -> &'a [u8] {
        let out = &self.input[self.pos..];
        self.pos = self.input.len();
        out
    }
    pub fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }
}
