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
}

impl Limits {
    /// Limits suited to a device: 16 MiB messages, depth 32, a million elements.
    ///
    /// SyncML DM nests at most about 12 deep (Atomic in Sequence, Item, Meta, MetInf), so 32
    /// leaves room for embedded `Format xml` data without allowing runaway recursion.
    pub const DEFAULT: Limits = Limits {
        max_input_bytes: 16 * 1024 * 1024,
        max_depth: 32,
        max_elements: 1_000_000,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
