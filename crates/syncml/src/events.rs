//! The seam between the wire codecs and the typed model.
//!
//! Both readers (XML, WBXML) present a message as a pull stream of elements through
//! [`EventSource`]; both writers accept one through [`Sink`]. The typed parser
//! ([`crate::parse`]) and emitter ([`crate::emit`]) are written once against these traits, so
//! the two encodings cannot disagree about the model.

use std::borrow::Cow;

use crate::error::{DecodeError, ErrorKind};
use crate::model::{Data, Malformed};
use crate::tag::Tag;

/// An element start as a reader saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Start {
    /// A SyncML or MetInf element.
    Known(Tag),
    /// Anything else; the kind says why (unknown name, foreign namespace). Boxed: unknown
    /// elements are rare, and every element start is returned through several calls, so a
    /// `Start` is kept to two words.
    Unknown(Box<ErrorKind>),
}

/// The content of a `Data` element, before the typed parser applies the effective Format.
#[derive(Debug)]
pub(crate) enum RawData<'a> {
    /// Character data.
    Text(Cow<'a, str>),
    /// WBXML OPAQUE octets (possibly mixed with strings, concatenated).
    Opaque(Cow<'a, [u8]>),
    /// XML child elements, kept verbatim.
    Markup(Cow<'a, str>),
}

/// A Meta's Format and Type, as [`EventSource::plain_meta`] reads them.
pub(crate) type FormatAndType<'a> = (Option<Cow<'a, str>>, Option<Cow<'a, str>>);

/// An item command's element, its offset and its CmdID, as
/// [`EventSource::plain_item_command`] reads them.
pub(crate) type LedCommand<'a> = (Tag, usize, Cow<'a, str>);

/// A pull stream of elements. After [`EventSource::next_child`] returns a start, the caller
/// is inside that element and must consume it with exactly one of `next_child` (until it
/// returns `None`), `read_text`, `read_data` or `skip_to_depth`. Text is borrowed from the
/// input (`'a`) wherever its wire form is the text itself.
pub(crate) trait EventSource<'a> {
    /// The next child element of the current element, with its byte offset, or `None` once
    /// the current element's end has been consumed (at depth 0: the end of the document).
    fn next_child(&mut self) -> Result<Option<(Start, usize)>, DecodeError>;

    /// The character content of the element just started, up to and including its end.
    fn read_text(&mut self) -> Result<Cow<'a, str>, DecodeError>;

    /// The content of the `Data` element just started, up to and including its end.
    fn read_data(&mut self) -> Result<RawData<'a>, DecodeError>;

    /// Whether this source takes any of the one-step readings below (`plain_location`,
    /// `plain_leaf`, ...): a parser asks once per element rather than trying each, whose
    /// "not taken" costs a call. `false` (the default) when it takes none.
    fn reads_in_one_step(&self) -> bool {
        false
    }

    /// When the element just started (a Target, Source, ...) holds one `LocURI` of plain
    /// text and nothing else: that text, read with both ends in one step, as `next_child`,
    /// `read_text` and `next_child` would give it (the same limits and errors). Otherwise
    /// nothing is read and `None` is returned: the caller reads the element as usual.
    fn plain_location(&mut self) -> Option<Result<Cow<'a, str>, DecodeError>> {
        None
    }

    /// [`EventSource::plain_location`] for the next child when it is a `tag` element (a
    /// Target, Source, ...): its start read in the same step, as `next_child` reads it.
    fn plain_location_child(&mut self, _tag: Tag) -> Option<Result<Cow<'a, str>, DecodeError>> {
        None
    }

    /// When the next child is an `Item` whose first child is a `Target` of one plain
    /// `LocURI`: that text, read with the Item's start in one step, as `next_child` and
    /// [`EventSource::plain_location_child`] would give it (the same limits and errors); the
    /// Item stays open. Otherwise nothing is read and `None` is returned.
    fn plain_item_target(&mut self) -> Option<Result<Cow<'a, str>, DecodeError>> {
        None
    }

    /// When the next child is a `Meta` of a `Format`, a `Type`, both in that order or
    /// neither, each of plain text: their texts, read with the Meta's start and end in one
    /// step, as `next_child` and [`EventSource::plain_leaf`] would give them (the same limits
    /// and errors). Otherwise nothing is read and `None` is returned.
    fn plain_meta(&mut self) -> Option<Result<FormatAndType<'a>, DecodeError>> {
        None
    }

    /// When the next child is a `tag` element of plain text: that text, read with the
    /// element's start and end in one step, as `next_child` and `read_text` would give it
    /// (the same limits and errors). Otherwise nothing is read and `None` is returned.
    fn plain_leaf(&mut self, _tag: Tag) -> Option<Result<Cow<'a, str>, DecodeError>> {
        None
    }

    /// When the next child is an `Add`, `Copy`, `Delete`, `Get` or `Replace` whose first
    /// child is a `CmdID` of plain text: the command's element, its offset and the CmdID's
    /// text, read with the command's start in one step, as `next_child` and
    /// [`EventSource::plain_leaf`] would give them (the same limits and errors); the command
    /// stays open. Otherwise nothing is read and `None` is returned.
    fn plain_item_command(&mut self) -> Option<Result<LedCommand<'a>, DecodeError>> {
        None
    }

    /// When the next child is a `Data`: its start read with its content in one step, as
    /// `next_child` and [`EventSource::read_data`] would give it (the same limits and errors).
    /// Otherwise nothing is read and `None` is returned.
    fn plain_data(&mut self) -> Option<Result<RawData<'a>, DecodeError>> {
        None
    }

    /// When the current element's end comes next: consumes it, as `next_child` does when
    /// it returns `None`, and returns `true`. Otherwise nothing is read and `false` is
    /// returned: the caller reads on with `next_child`.
    fn plain_end(&mut self) -> bool {
        false
    }

    /// Consumes input until `depth()` equals `depth` (closing every element opened deeper).
    fn skip_to_depth(&mut self, depth: usize) -> Result<(), DecodeError>;

    /// Number of elements currently open.
    fn depth(&self) -> usize;

    /// Byte offset of the reader in the input.
    fn offset(&self) -> usize;

    /// Checks that nothing but insignificant content follows the root element.
    fn finish(&mut self) -> Result<(), DecodeError>;

    /// Charges `bytes` of memory the parser is about to keep against the decode's budget
    /// ([`crate::Limits::max_bytes_per_input_byte`]); the text `read_text` and `read_data`
    /// return is charged by the reader itself, when it is not borrowed from the input.
    fn charge(&mut self, bytes: usize) -> Result<(), DecodeError>;

    /// Octets of memory [`EventSource::charge`] still accepts.
    fn budget_left(&self) -> usize;

    /// How many commands the input not read yet likely holds, at the octets a typical DM
    /// command takes in this encoding: an estimate to presize a list by, never a limit.
    fn likely_commands(&self) -> usize;
}

/// A push sink of elements, implemented by the XML and WBXML writers. Writers are infallible:
/// they write to a growing `Vec<u8>`.
pub(crate) trait Sink {
    /// Opens the root `SyncML` element in the given namespace.
    fn root(&mut self, namespace: &str);
    /// Opens `tag`.
    fn start(&mut self, tag: Tag);
    /// Closes `tag`.
    fn end(&mut self, tag: Tag);
    /// Writes `tag` with no content (`<Final/>`).
    fn empty(&mut self, tag: Tag);
    /// Writes character data.
    fn text(&mut self, text: &str);
    /// Writes the content of a `Data` element.
    fn data(&mut self, data: &Data<'_>);

    /// A command that could not be decoded: written by display sinks only (nothing goes on
    /// the wire for it).
    fn malformed(&mut self, _command: &Malformed<'_>) {}

    /// Writes `<tag>text</tag>`.
    fn leaf(&mut self, tag: Tag, text: &str) {
        self.start(tag);
        self.text(text);
        self.end(tag);
    }

    /// Opens a `Status` and writes the references every Status starts with: `CmdID`,
    /// `MsgRef`, `CmdRef` and `Cmd` (a writer may do it in one step: a reply is mostly
    /// these).
    fn status_head(&mut self, refs: [&str; 4]) {
        // Written out rather than looped, so that each tag is a constant where the
        // writer's `leaf` is in line (the XML writer's tags are then fixed copies).
        let [cmd_id, msg_ref, cmd_ref, cmd] = refs;
        self.start(Tag::Status);
        self.leaf(Tag::CmdId, cmd_id);
        self.leaf(Tag::MsgRef, msg_ref);
        self.leaf(Tag::CmdRef, cmd_ref);
        self.leaf(Tag::Cmd, cmd);
    }

    /// Closes a Status whose only reference left is one `TargetRef`, after it and its
    /// `Data` (the code): how most Statuses of a reply end.
    fn status_tail(&mut self, target_ref: &str, data: &str) {
        self.leaf(Tag::TargetRef, target_ref);
        self.leaf(Tag::Data, data);
        self.end(Tag::Status);
    }
}

/// Whether `bytes` is nothing but XML white space.
pub(crate) fn is_blank(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}
