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

    fn data(&mut self, data: &Data) {
        match data {
            Data::Text(text) => self.text(text),
            Data::Opaque(bytes) => self.opaque(bytes),
            Data::Xml(markup) => self.opaque(markup.as_bytes()),
        }
    }
}
