//! Element stream → XML, in the canonical compact form servers expect.
//!
//! The form: no XML declaration, no white space between elements, the root in the
//! `SYNCML:SYNCML1.x` default namespace, every MetInf element carrying its own
//! `xmlns="syncml:metinf"` (as Funambol, libdmclient and Windows clients write it), and
//! `<Final/>`-style empty elements. Text escapes `&`, `<` and `>`; characters XML 1.0 cannot
//! carry at all are written as character references so that nothing is silently dropped.

use crate::events::Sink;
use crate::model::Data;
use crate::tag::Tag;

/// Writes XML into a byte buffer.
pub(crate) struct XmlSink {
    pub(crate) out: Vec<u8>,
    /// Show commands that could not be decoded as comments (display only).
    pub(crate) show_malformed: bool,
}

impl XmlSink {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        XmlSink {
            out: Vec::with_capacity(capacity),
            show_malformed: false,
        }
    }

    fn escaped(&mut self, text: &str) {
        let bytes = text.as_bytes();
        // Most text needs no escape: find the first octet that does with a table lookup.
        let Some(first) = bytes.iter().position(|&b| NEEDS_ESCAPE[usize::from(b)]) else {
            self.out.extend_from_slice(bytes);
            return;
        };
        let mut last = 0;
        for (i, &b) in bytes.iter().enumerate().skip(first) {
            let replacement: &[u8] = match b {
                b'&' => b"&amp;",
                b'<' => b"&lt;",
                b'>' => b"&gt;",
                b'\r' => b"&#13;",
                0x00..=0x08 | 0x0B | 0x0C | 0x0E..=0x1F => {
                    self.out.extend_from_slice(&bytes[last..i]);
                    self.out.extend_from_slice(format!("&#{b};").as_bytes());
                    last = i + 1;
                    continue;
                }
                _ => continue,
            };
            self.out.extend_from_slice(&bytes[last..i]);
            self.out.extend_from_slice(replacement);
            last = i + 1;
        }
        self.out.extend_from_slice(&bytes[last..]);
    }
}

/// The octets [`XmlSink::escaped`] replaces: `&`, `<`, `>`, CR and the C0 controls but TAB
/// and LF.
const NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b != 0x09 && b != 0x0A;
        b += 1;
    }
    table[b'&' as usize] = true;
    table[b'<' as usize] = true;
    table[b'>' as usize] = true;
    table
};

/// Whether `text` consists only of characters XML 1.0 can carry as text.
pub(crate) fn is_xml_text(text: &str) -> bool {
    text.chars().all(|c| {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
            || c >= '\u{10000}'
    })
}

impl Sink for XmlSink {
    fn root(&mut self, namespace: &str) {
        self.out.extend_from_slice(b"<SyncML xmlns=\"");
        self.escaped(namespace);
        self.out.extend_from_slice(b"\">");
    }

    fn start(&mut self, tag: Tag) {
        self.out.extend_from_slice(tag.xml_start().as_bytes());
    }

    fn end(&mut self, tag: Tag) {
        self.out.extend_from_slice(tag.xml_end().as_bytes());
    }

    fn empty(&mut self, tag: Tag) {
        self.out.extend_from_slice(tag.xml_empty().as_bytes());
    }

    fn text(&mut self, text: &str) {
        self.escaped(text);
    }

    fn malformed(&mut self, m: &crate::model::Malformed) {
        if !self.show_malformed {
            return;
        }
        let cmd_id = match &m.cmd_id {
            Some(id) => format!(" (CmdID {})", crate::printable(id).limit(32)),
            None => String::new(),
        };
        let text = format!(
            " not decoded: <{}>{cmd_id}: {} ",
            crate::printable(&m.element).limit(64),
            m.error
        );
        // A comment cannot hold `--` (and the text ends with a space, not a `-`).
        let text = text.replace("--", "- -");
        self.out.extend_from_slice(b"<!--");
        self.out.extend_from_slice(text.as_bytes());
        self.out.extend_from_slice(b"-->");
    }

    fn data(&mut self, data: &Data) {
        match data {
            Data::Text(text) => self.escaped(text),
            Data::Xml(markup) => self.out.extend_from_slice(markup.as_bytes()),
            Data::Opaque(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) if is_xml_text(text) => self.escaped(text),
                _ => self
                    .out
                    .extend_from_slice(crate::b64::encode(bytes).as_bytes()),
            },
        }
    }
}
