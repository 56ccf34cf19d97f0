//! `omadm-syncml`: the typed model of SyncML DM 1.2 and 1.1.2 messages and their codecs.
//!
//! This crate owns the bytes of the protocol: the message model ([`SyncMl`] and the
//! commands in [`model`], whose text borrows from the input it was decoded from), the XML
//! codec ([`xml`], on a tokenizer of its own), the WBXML codec ([`wbxml`]), the writer of a
//! message command by command ([`MessageWriter`]), the notification package #0
//! ([`notification`]), and the credential digests of DM Security ([`auth`]: basic, MD5, the
//! `x-syncml-hmac` header). Everything is a pure function over bytes: no I/O, no clock, no
//! global state.
//!
//! It does not own what the commands mean (the session engine, `omadm-dpu`), the management
//! tree (`omadm-cm`) or the transport of messages (`omadm-transport`, `omadm-push`).
//!
//! Every decoder is total: any input gives a value or a [`DecodeError`] carrying the byte
//! offset and, where there is one, the element; memory and time are bounded by the caller's
//! [`Limits`].
//!
//! ```
//! use omadm_syncml::{decode, encode, Encoding, Limits};
//! let xml = br#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD>
//!   <VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>
//!   <Target><LocURI>IMEI:1</LocURI></Target><Source><LocURI>https://dm</LocURI></Source>
//!   </SyncHdr><SyncBody><Final/></SyncBody></SyncML>"#;
//! let (message, encoding) = decode(xml, &Limits::default()).unwrap();
//! assert_eq!(encoding, Encoding::Xml);
//! let wbxml = encode(&message, Encoding::Wbxml);
//! assert_eq!(decode(&wbxml, &Limits::default()).unwrap().0, message);
//! ```

pub mod auth;
pub mod b64;
mod emit;
mod error;
mod events;
mod limits;
mod message_writer;
pub mod model;
pub mod notification;
mod parse;
pub mod printable;
mod tag;
pub mod wbxml;
pub mod xml;

pub use error::{DecodeError, ErrorKind};
pub use limits::Limits;
pub use message_writer::{MessageWriter, CLOSING_LEN};
pub use model::*;
pub use printable::{printable, printable_bytes, Printable};
pub use tag::{Page, Tag, METINF_NS};

/// The two encodings of a SyncML DM message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// XML, `application/vnd.syncml.dm+xml`.
    Xml,
    /// WBXML, `application/vnd.syncml.dm+wbxml`.
    Wbxml,
}

impl Encoding {
    /// The HTTP content type (OMA-TS-SyncML_HTTPBinding-V1_2, DM RepPro MIME types).
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Xml => "application/vnd.syncml.dm+xml",
            Encoding::Wbxml => "application/vnd.syncml.dm+wbxml",
        }
    }

    /// The encoding a content type names (parameters and case ignored).
    pub fn from_content_type(content_type: &str) -> Option<Encoding> {
        let base = content_type.split(';').next().unwrap_or("").trim();
        if base.eq_ignore_ascii_case("application/vnd.syncml.dm+xml") {
            Some(Encoding::Xml)
        } else if base.eq_ignore_ascii_case("application/vnd.syncml.dm+wbxml") {
            Some(Encoding::Wbxml)
        } else {
            None
        }
    }

    /// Guesses the encoding of a message from its first octet: WBXML documents start with
    /// their version (0x01–0x03), XML with `<`, a byte-order mark or white space.
    pub fn detect(input: &[u8]) -> Encoding {
        match input.first() {
            Some(0x01..=0x03) => Encoding::Wbxml,
            _ => Encoding::Xml,
        }
    }
}

/// Decodes a message in either encoding (detected with [`Encoding::detect`]), strictly. The
/// message borrows its text from `input` ([`SyncMl::into_owned`] detaches it).
pub fn decode<'a>(input: &'a [u8], limits: &Limits) -> Result<(SyncMl<'a>, Encoding), DecodeError> {
    let encoding = Encoding::detect(input);
    let message = match encoding {
        Encoding::Xml => xml::decode(input, limits)?,
        Encoding::Wbxml => wbxml::decode(input, limits)?,
    };
    Ok((message, encoding))
}

/// Decodes a message in either encoding, strictly, into one that owns its text: for a caller
/// that keeps the message after the input is gone.
pub fn decode_owned(
    input: &[u8],
    limits: &Limits,
) -> Result<(SyncMl<'static>, Encoding), DecodeError> {
    let (message, encoding) = decode(input, limits)?;
    Ok((message.into_owned(), encoding))
}

/// Decodes a message in either encoding, keeping undecodable commands as
/// [`Command::Malformed`] (what a session engine wants: it answers those with an error status
/// and runs the rest).
pub fn decode_lenient<'a>(
    input: &'a [u8],
    limits: &Limits,
) -> Result<(SyncMl<'a>, Encoding), DecodeError> {
    let encoding = Encoding::detect(input);
    let message = match encoding {
        Encoding::Xml => xml::decode_lenient(input, limits)?,
        Encoding::Wbxml => wbxml::decode_lenient(input, limits)?,
    };
    Ok((message, encoding))
}

/// Encodes a message.
pub fn encode(message: &SyncMl, encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Xml => xml::encode(message),
        Encoding::Wbxml => wbxml::encode(message),
    }
}

/// The number of octets `command` takes when encoded alone in `encoding` (for fitting
/// commands into a peer's MaxMsgSize; a WBXML command inside a message may need up to two more
/// octets for a code-page switch).
pub fn command_len(command: &Command, encoding: Encoding) -> usize {
    thread_local! {
        /// The buffer commands are measured in, reused: the session engine measures every
        /// command it sends.
        static SCRATCH: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
    }
    let mut scratch = SCRATCH.take();
    scratch.clear();
    let len = match encoding {
        Encoding::Xml => {
            let mut sink = xml::sink();
            sink.out = scratch;
            emit::emit_command(command, &mut sink);
            scratch = sink.out;
            scratch.len()
        }
        Encoding::Wbxml => {
            let mut sink = wbxml::writer::WbxmlSink::with_buffer(DmVersion::V1_2, scratch);
            let header = sink.out.len();
            emit::emit_command(command, &mut sink);
            scratch = sink.out;
            scratch.len() - header + 2
        }
    };
    // A huge command's buffer is not kept.
    if scratch.capacity() <= 64 * 1024 {
        SCRATCH.set(scratch);
    }
    len
}

/// Turns a lenient decode into a strict one: the first malformed command becomes the error.
pub(crate) fn strict(message: SyncMl<'_>) -> Result<SyncMl<'_>, DecodeError> {
    match message
        .body
        .commands
        .iter()
        .find_map(Command::first_malformed)
    {
        Some(malformed) => Err(malformed.error.clone()),
        None => Ok(message),
    }
}

impl SyncMl<'_> {
    /// Prepares a message decoded from WBXML for XML: every [`Data::Opaque`] that is valid
    /// XML text becomes [`Data::Text`]; any other becomes Base64 text and its item's Format
    /// becomes `b64` (XML cannot carry raw octets; DM RepPro requires `b64` there).
    pub fn to_xml_safe(&mut self) {
        fn fix_items(items: &mut [Item<'_>]) {
            for item in items {
                let Some(Data::Opaque(bytes)) = &item.data else {
                    continue;
                };
                match std::str::from_utf8(bytes) {
                    Ok(text) if xml::is_xml_text(text) => {
                        item.data = Some(Data::Text(text.to_owned().into()));
                    }
                    _ => {
                        item.data = Some(Data::Text(b64::encode(bytes).into()));
                        item.meta.get_or_insert_with(Default::default).format = Some("b64".into());
                    }
                }
            }
        }
        fn fix(commands: &mut [Command<'_>]) {
            for command in commands {
                match command {
                    Command::Add(c)
                    | Command::Copy(c)
                    | Command::Delete(c)
                    | Command::Get(c)
                    | Command::Replace(c) => fix_items(&mut c.items),
                    Command::Alert(c) => fix_items(&mut c.items),
                    Command::Exec(c) => fix_items(&mut c.items),
                    Command::Status(c) => fix_items(&mut c.items),
                    Command::Results(c) => fix_items(&mut c.items),
                    Command::Atomic(c) | Command::Sequence(c) => fix(&mut c.commands),
                    Command::Malformed(_) => {}
                }
            }
        }
        fix(&mut self.body.commands);
    }
}
