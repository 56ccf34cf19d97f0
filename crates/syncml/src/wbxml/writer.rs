//! Element stream → WBXML 1.2.
//!
//! Header `02 <public id> 6A 00`: WBXML 1.2, the registered public id of the message's
//! dialect (SyncML 1.2 `A4 01`, SyncML 1.1 `9F 53`), UTF-8, empty string table. Text is
//! written as inline strings (a NUL inside text as `ENTITY 0`); `Data` that is
//! [`Data::Opaque`] or [`Data::Xml`] as OPAQUE. Code pages are switched lazily, right before
//! the first tag of the other page, as libwbxml does.

use super::header::{token, write_mb_u32};
use super::nul::find_nul;
use crate::events::Sink;
use crate::model::{Data, DmVersion};
use crate::tag::Tag;

/// The leaves [`Sink::status_head`] writes after the Status's tag, in order.
const STATUS_HEAD: [Tag; 4] = [Tag::CmdId, Tag::MsgRef, Tag::CmdRef, Tag::Cmd];

/// The octets of a leaf beside its text: tag, `STR_I`, the text's NUL, `END`.
const LEAF_OCTETS: usize = 4;

/// Whether `text` is written as one inline string (it is not empty and holds no NUL, which
/// [`Sink::text`] writes as `ENTITY 0`).
fn is_one_inline_string(text: &str) -> bool {
    !text.is_empty() && find_nul(text.as_bytes()).is_none()
}

/// Writes WBXML into a byte buffer.
pub(crate) struct WbxmlSink {
    pub(crate) out: Vec<u8>,
    page: u8,
}

impl WbxmlSink {
    pub(crate) fn new(version: DmVersion, capacity: usize) -> Self {
        Self::with_buffer(version, Vec::with_capacity(capacity))
    }

    /// A sink writing into `out` (cleared first), to reuse its allocation.
    pub(crate) fn with_buffer(version: DmVersion, mut out: Vec<u8>) -> Self {
        out.clear();
        out.push(0x02);
        write_mb_u32(&mut out, version.wbxml_public_id());
        out.push(0x6A);
        out.push(0x00);
        WbxmlSink { out, page: 0 }
    }

    /// The code page the writer is on.
    pub(crate) fn page(&self) -> u8 {
        self.page
    }

    /// Puts the writer back on `page` (after its output was cut back to where it was on it).
    pub(crate) fn set_page(&mut self, page: u8) {
        self.page = page;
    }

    fn tag(&mut self, tag: Tag, content: bool) {
        let page = tag.page() as u8;
        if page != self.page {
            self.out.push(token::SWITCH_PAGE);
            self.out.push(page);
            self.page = page;
        }
        let mut byte = tag.token();
        if content {
            byte |= token::WITH_CONTENT;
        }
        self.out.push(byte);
    }

    /// Switches to code page 0 if the writer is on another.
    fn page_0(&mut self) {
        if self.page != 0 {
            self.out.extend_from_slice(&[token::SWITCH_PAGE, 0]);
            self.page = 0;
        }
    }

    /// Writes `tag` (of code page 0, the one in force) holding `text` as one inline string
    /// (see [`is_one_inline_string`]), into room reserved by the caller: the Status
    /// writers' steps, as [`Sink::leaf`] writes them.
    #[inline(always)]
    fn page_0_leaf(&mut self, tag: Tag, text: &str) {
        self.out
            .extend_from_slice(&[tag.token() | token::WITH_CONTENT, token::STR_I]);
        self.out.extend_from_slice(text.as_bytes());
        self.out.extend_from_slice(&[0, token::END]);
    }

    fn opaque(&mut self, bytes: &[u8]) {
        self.out.push(token::OPAQUE);
        write_mb_u32(&mut self.out, bytes.len() as u32);
        self.out.extend_from_slice(bytes);
    }
}

impl Sink for WbxmlSink {
    fn root(&mut self, _namespace: &str) {
        self.tag(Tag::SyncMl, true);
    }

    fn start(&mut self, tag: Tag) {
        self.tag(tag, true);
    }

    fn end(&mut self, _tag: Tag) {
        self.out.push(token::END);
    }

    fn empty(&mut self, tag: Tag) {
        self.tag(tag, false);
    }

    fn text(&mut self, text: &str) {
        // The pieces between NULs as inline strings, each NUL as `ENTITY 0`; found on
        // octets (a NUL octet is only ever the character U+0000 in UTF-8).
        let mut rest = text.as_bytes();
        self.out.reserve(rest.len() + 2);
        loop {
            let nul = rest.iter().position(|&b| b == 0);
            let piece = &rest[..nul.unwrap_or(rest.len())];
            if !piece.is_empty() {
                self.out.push(token::STR_I);
                self.out.extend_from_slice(piece);
                self.out.push(0);
            }
            let Some(at) = nul else { break };
            self.out.extend_from_slice(&[token::ENTITY, 0]);
            rest = &rest[at + 1..];
        }
    }

    fn leaf(&mut self, tag: Tag, text: &str) {
        let bytes = text.as_bytes();
        if bytes.is_empty() || find_nul(bytes).is_some() {
            self.tag(tag, true);
            self.text(text);
            self.out.push(token::END);
            return;
        }
        // The common case in one go: [SWITCH_PAGE page] tag STR_I, the text, its NUL, END;
        // fixed-size pieces copied without a call.
        let page = tag.page() as u8;
        let start = tag.token() | token::WITH_CONTENT;
        if page == self.page {
            self.out.extend_from_slice(&[start, token::STR_I]);
        } else {
            self.page = page;
            self.out
                .extend_from_slice(&[token::SWITCH_PAGE, page, start, token::STR_I]);
        }
        self.out.extend_from_slice(bytes);
        self.out.extend_from_slice(&[0, token::END]);
    }

    fn status_head(&mut self, refs: [&str; 4]) {
        if !refs.iter().all(|text| is_one_inline_string(text)) {
            let [cmd_id, msg_ref, cmd_ref, cmd] = refs;
            self.tag(Tag::Status, true);
            self.leaf(Tag::CmdId, cmd_id);
            self.leaf(Tag::MsgRef, msg_ref);
            self.leaf(Tag::CmdRef, cmd_ref);
            self.leaf(Tag::Cmd, cmd);
            return;
        }
        let text: usize = refs.iter().map(|text| text.len()).sum();
        self.out.reserve(text + 3 + 4 * LEAF_OCTETS);
        self.page_0();
        self.out.push(Tag::Status.token() | token::WITH_CONTENT);
        for (tag, text) in STATUS_HEAD.into_iter().zip(refs) {
            self.page_0_leaf(tag, text);
        }
    }

    fn status_tail(&mut self, target_ref: &str, data: &str) {
        if !(is_one_inline_string(target_ref) && is_one_inline_string(data)) {
            self.leaf(Tag::TargetRef, target_ref);
            self.leaf(Tag::Data, data);
            self.out.push(token::END);
            return;
        }
        self.out
            .reserve(target_ref.len() + data.len() + 3 + 2 * LEAF_OCTETS);
        self.page_0();
        self.page_0_leaf(Tag::TargetRef, target_ref);
        self.page_0_leaf(Tag::Data, data);
        self.out.push(token::END);
    }

    fn data(&mut self, data: &Data) {
        match data {
            Data::Text(text) => self.text(text),
            Data::Opaque(bytes) => self.opaque(bytes),
            Data::Xml(markup) => self.opaque(markup.as_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `status_head` must write: the Status's tag and its four leaves one by one.
    fn one_by_one(page: u8, refs: [&str; 4]) -> Vec<u8> {
        let mut sink = WbxmlSink::new(DmVersion::V1_2, 0);
        sink.set_page(page);
        sink.start(Tag::Status);
        for (tag, text) in STATUS_HEAD.into_iter().zip(refs) {
            sink.leaf(tag, text);
        }
        sink.out
    }

    #[test]
    fn a_status_head_in_one_step_is_its_leaves_one_by_one() {
        for page in [0, 1] {
            for refs in [
                ["1", "1", "0", "SyncHdr"],
                ["12", "3", "456", "Replace"],
                ["", "1", "2", "Add"],
                ["7", "", "", ""],
                ["7", "1", "2\0", "Get"],
                ["\0", "a\0b", "2", "Get"],
                ["9", "1", "2", "Caf\u{e9}"],
            ] {
                let mut sink = WbxmlSink::new(DmVersion::V1_2, 0);
                sink.set_page(page);
                sink.status_head(refs);
                assert_eq!(sink.out, one_by_one(page, refs), "{page} {refs:?}");
                assert_eq!(sink.page(), 0, "{page} {refs:?}");
            }
        }
    }

    #[test]
    fn a_status_tail_in_one_step_is_its_leaves_one_by_one() {
        for page in [0, 1] {
            for (target, data) in [
                ("./Vendor/memory/n5", "200"),
                ("./a", ""),
                ("", "404"),
                ("./a\0b", "200"),
                ("./caf\u{e9}", "\0"),
            ] {
                let mut sink = WbxmlSink::new(DmVersion::V1_2, 0);
                sink.set_page(page);
                sink.status_tail(target, data);
                let mut expected = WbxmlSink::new(DmVersion::V1_2, 0);
                expected.set_page(page);
                expected.leaf(Tag::TargetRef, target);
                expected.leaf(Tag::Data, data);
                expected.end(Tag::Status);
                assert_eq!(sink.out, expected.out, "{page} {target:?} {data:?}");
                assert_eq!(sink.page(), 0);
            }
        }
    }
}
