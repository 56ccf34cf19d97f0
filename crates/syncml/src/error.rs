//! Decoding errors: one enum for every codec in the crate, each carrying the byte offset in
//! the input where the problem was found and, where there is one, the element concerned.

use std::fmt;

/// What went wrong while decoding; see [`DecodeError`] for where.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input is larger than [`crate::Limits::max_input_bytes`].
    InputTooLarge {
        /// Input length in bytes.
        len: usize,
        /// The configured limit.
        limit: usize,
    },
    /// Elements are nested deeper than [`crate::Limits::max_depth`].
    TooDeep {
        /// The configured limit.
        limit: usize,
    },
    /// The message has more elements than [`crate::Limits::max_elements`].
    TooManyElements {
        /// The configured limit.
        limit: usize,
    },
    /// Decoding would take more memory than [`crate::Limits::max_bytes_per_input_byte`]
    /// allows for this input.
    OverBudget {
        /// The budget, in bytes.
        limit: usize,
    },
    /// The input ended in the middle of a structure.
    UnexpectedEof,
    /// XML: an `&` that starts no entity or character reference (it should be `&amp;`).
    UnescapedAmpersand {
        /// Where: the element holding the text, as written (`<Data>`), or `the document`.
        element: String,
    },
    /// The XML is not well formed (the parser's own message).
    Xml(String),
    /// An element this codec does not know (XML local name, or WBXML `page:token`).
    UnknownElement(String),
    /// A known element where it is not allowed; `parent` is the enclosing element.
    MisplacedElement {
        /// The element found.
        element: String,
        /// The element it was found in (empty at the document root).
        parent: String,
    },
    /// An element in a namespace SyncML DM does not use.
    UnknownNamespace {
        /// The element's local name.
        element: String,
        /// Its namespace.
        namespace: String,
    },
    /// A required child element is absent.
    MissingElement {
        /// The missing element.
        element: &'static str,
        /// The element that should contain it.
        parent: &'static str,
    },
    /// An element occurs more often than its content model allows.
    DuplicateElement(&'static str),
    /// Character data where only elements are allowed.
    UnexpectedText(String),
    /// An element's value is not valid (bad number, bad boolean, ...).
    InvalidValue {
        /// The element whose value is wrong.
        element: &'static str,
        /// The value found (truncated).
        value: String,
    },
    /// Text that is not valid UTF-8 in the document's charset.
    InvalidUtf8,
    /// WBXML: a version byte this decoder does not accept.
    UnsupportedWbxmlVersion(u8),
    /// WBXML: a public identifier that is not SyncML.
    UnsupportedPublicId(String),
    /// WBXML: a character set other than UTF-8, US-ASCII or ISO-8859-1.
    UnsupportedCharset(u32),
    /// WBXML: a global token that SyncML never uses (EXT, PI, LITERAL, attributes).
    UnsupportedToken(u8),
    /// WBXML: a multi-byte integer longer than 32 bits.
    IntegerOverflow,
    /// WBXML: a string-table reference outside the table.
    BadStringTableRef(u32),
    /// WBXML: a code page with no SyncML tags.
    UnknownCodePage(u8),
    /// WBXML: bytes after the document's root element.
    TrailingData,
    /// Package #0 is shorter than its fixed header or its server identifier.
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        found: usize,
    },
    /// Package #0: a notification version this decoder does not accept.
    UnsupportedNotificationVersion(u16),
    /// Package #0: the server identifier is empty.
    EmptyServerId,
}

/// A decoding failure: what ([`ErrorKind`]) and where (byte offset in the input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Byte offset in the input at which the problem was detected.
    pub offset: usize,
}

impl DecodeError {
    /// Creates an error of `kind` at `offset`.
    pub fn new(kind: ErrorKind, offset: usize) -> Self {
        DecodeError { kind, offset }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::InputTooLarge { len, limit } => {
                write!(f, "input of {len} bytes exceeds the limit of {limit} bytes")
            }
            ErrorKind::TooDeep { limit } => write!(f, "elements nested deeper than {limit}"),
            ErrorKind::TooManyElements { limit } => write!(f, "more than {limit} elements"),
            ErrorKind::OverBudget { limit } => write!(
                f,
                "the message would take more than {limit} bytes of memory to decode"
            ),
            ErrorKind::UnexpectedEof => f.write_str("unexpected end of input"),
            ErrorKind::UnescapedAmpersand { element } => {
                write!(f, "unescaped '&' in {element}")
            }
            ErrorKind::Xml(msg) => write!(f, "malformed XML: {}", shown(msg)),
            ErrorKind::UnknownElement(name) => write!(f, "unknown element <{}>", shown(name)),
            ErrorKind::MisplacedElement { element, parent } if parent.is_empty() => {
                write!(
                    f,
                    "element <{}> not allowed at the document root",
                    shown(element)
                )
            }
            ErrorKind::MisplacedElement { element, parent } => {
                write!(
                    f,
                    "element <{}> not allowed in <{}>",
                    shown(element),
                    shown(parent)
                )
            }
            ErrorKind::UnknownNamespace { element, namespace } => {
                write!(
                    f,
                    "element <{}> in unknown namespace \"{}\"",
                    shown(element),
                    shown(namespace)
                )
            }
            ErrorKind::MissingElement { element, parent } => {
                write!(f, "<{parent}> lacks its required <{element}>")
            }
            ErrorKind::DuplicateElement(name) => write!(f, "element <{name}> given twice"),
            ErrorKind::UnexpectedText(text) => write!(f, "unexpected text \"{}\"", shown(text)),
            ErrorKind::InvalidValue { element, value } => {
                write!(f, "invalid value \"{}\" in <{element}>", shown(value))
            }
            ErrorKind::InvalidUtf8 => f.write_str("text is not valid UTF-8"),
            ErrorKind::UnsupportedWbxmlVersion(v) => {
                write!(f, "unsupported WBXML version 0x{v:02x}")
            }
            ErrorKind::UnsupportedPublicId(id) => {
                write!(f, "public identifier {} is not SyncML", shown(id))
            }
            ErrorKind::UnsupportedCharset(c) => write!(f, "unsupported charset MIBenum {c}"),
            ErrorKind::UnsupportedToken(t) => write!(f, "unsupported WBXML token 0x{t:02x}"),
            ErrorKind::IntegerOverflow => f.write_str("multi-byte integer overflows 32 bits"),
            ErrorKind::BadStringTableRef(i) => write!(f, "string table reference {i} out of range"),
            ErrorKind::UnknownCodePage(p) => write!(f, "unknown WBXML code page {p}"),
            ErrorKind::TrailingData => f.write_str("data after the root element"),
            ErrorKind::Truncated { needed, found } => {
                write!(f, "truncated: {needed} bytes needed, {found} present")
            }
            ErrorKind::UnsupportedNotificationVersion(v) => {
                write!(f, "unsupported notification version {v}")
            }
            ErrorKind::EmptyServerId => f.write_str("empty server identifier"),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for DecodeError {}

/// Input echoed in a message: escaped and cut (see [`crate::printable`]).
fn shown(text: &str) -> crate::Printable<'_> {
    crate::printable(text).limit(64)
}

/// Shortens a value for inclusion in an error message.
pub(crate) fn excerpt(value: &str) -> String {
    const MAX: usize = 64;
    if value.len() <= MAX {
        return value.to_owned();
    }
    let mut end = MAX;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &value[..end])
}
