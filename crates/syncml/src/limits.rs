//! Caller-set bounds on what a decoder accepts, so that any input costs bounded memory and time.

/// Bounds a decoder enforces; beyond them it returns a typed error instead of allocating.
///
/// Memory use of a decode is at most a small multiple of the input size, and the input size is
/// bounded by `max_input_bytes`; depth bounds the recursion of the typed parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest input accepted, in bytes.
    pub max_input_bytes: usize,
    /// Deepest element nesting accepted (the root `SyncML` is depth 1).
    pub max_depth: usize,
    /// Most elements accepted in one message.
    pub max_elements: usize,
    /// Most memory the decoded message may take, per octet of input (plus 4 KiB): the
    /// decoder charges what it builds (the model's structures, its text) against this budget
    /// as it goes and stops with [`crate::ErrorKind::OverBudget`] beyond it, so that no
    /// shape of input (a million one-octet elements, a WBXML string-table entry referenced
    /// again and again) costs more than this multiple of its size.
    pub max_bytes_per_input_byte: usize,
}

impl Limits {
    /// Limits suited to a device: 16 MiB messages, depth 32, a million elements, 16 octets
    /// of model per input octet.
    ///
    /// SyncML DM nests at most about 12 deep (Atomic in Sequence, Item, Meta, MetInf), so 32
    /// leaves room for embedded `Format xml` data without allowing runaway recursion. Text
    /// borrowed from the input costs nothing, so 16 is room for a legitimate message of the
    /// densest kind a server sends (WBXML Gets of about 20 to 32 octets each: a command with
    /// its first Item and that Item's Format and Type takes about 260 octets on a 64-bit
    /// target, a Meta's other elements about 150 more); shapes denser than that (a few
    /// octets per element) are refused with [`crate::ErrorKind::OverBudget`].
    pub const DEFAULT: Limits = Limits {
        max_input_bytes: 16 * 1024 * 1024,
        max_depth: 32,
        max_elements: 1_000_000,
        max_bytes_per_input_byte: 16,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// The memory budget of one decode (see [`Limits::max_bytes_per_input_byte`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    left: usize,
    limit: usize,
}

impl Budget {
    /// The budget for decoding `input_len` octets under `limits`.
    pub(crate) fn new(limits: &Limits, input_len: usize) -> Budget {
        let limit = limits
            .max_bytes_per_input_byte
            .saturating_mul(input_len)
            .saturating_add(4096);
        Budget { left: limit, limit }
    }

    /// A budget with `left` octets to spend (tests that run it out at every charge).
    #[cfg(test)]
    pub(crate) fn with_left(left: usize) -> Budget {
        Budget { left, limit: left }
    }

    /// Octets not spent yet.
    pub(crate) fn left(&self) -> usize {
        self.left
    }

    /// Takes `bytes` from the budget; an error at `offset` once it is spent.
    pub(crate) fn charge(&mut self, bytes: usize, offset: usize) -> Result<(), crate::DecodeError> {
        match self.left.checked_sub(bytes) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(crate::DecodeError::new(
                crate::ErrorKind::OverBudget { limit: self.limit },
                offset,
            )),
        }
    }
}
