//! The XML representation of SyncML DM (OMA-TS-SyncML_RepPro-V1_2, DM RepPro §5): decoder on
//! `quick-xml`, and a writer of the canonical compact form.

mod pretty;
mod reader;
mod tokenizer;
pub(crate) mod writer;

pub(crate) use writer::is_xml_text;

use crate::error::DecodeError;
use crate::limits::Limits;
use crate::model::SyncMl;

/// Decodes an XML SyncML DM message. Fails on the first error, including an error inside a
/// single command; see [`decode_lenient`] to keep the rest of such a message.
pub fn decode<'a>(input: &'a [u8], limits: &Limits) -> Result<SyncMl<'a>, DecodeError> {
    crate::strict(decode_lenient(input, limits)?)
}

/// Decodes an XML SyncML DM message, turning commands that cannot be decoded into
/// [`crate::Command::Malformed`] instead of failing the whole message.
pub fn decode_lenient<'a>(input: &'a [u8], limits: &Limits) -> Result<SyncMl<'a>, DecodeError> {
    let mut source = reader::XmlSource::new(input, *limits)?;
    crate::parse::parse_message(&mut source)
}

/// Room [`encode`] makes for a message's header and for each of its commands before it
/// writes them: a little more than a typical header and command take (about 300 and 90 to
/// 250 octets), so that a common message's buffer is made once instead of copied as it grows.
const ENCODE_ROOM: (usize, usize) = (512, 192);

/// Encodes a message as XML (canonical compact form; see the writer's notes). Malformed
/// commands are left out.
pub fn encode(message: &SyncMl) -> Vec<u8> {
    let (header, command) = ENCODE_ROOM;
    let capacity = header.saturating_add(command.saturating_mul(message.body.commands.len()));
    let mut sink = writer::XmlSink::with_capacity(capacity);
    crate::emit::emit_message(message, &mut sink);
    sink.out
}

/// Encodes a message as indented XML for display (not for sending). A command that could not
/// be decoded is shown in its place as a comment (`<!-- not decoded: <Get> (CmdID 2): ... -->`).
pub fn encode_pretty(message: &SyncMl) -> String {
    let mut sink = writer::XmlSink::with_capacity(1024);
    sink.show_malformed = true;
    crate::emit::emit_message(message, &mut sink);
    pretty::indent(&sink.out)
}

/// Whether `data` is well-formed XML content: UTF-8, elements properly nested and closed,
/// entity and character references valid (several top-level elements and text between them
/// are allowed: the content of a `Data` with Format `xml`).
pub fn is_well_formed_content(data: &[u8]) -> bool {
    use quick_xml::events::Event;
    if std::str::from_utf8(data).is_err() {
        return false;
    }
    let mut reader = quick_xml::Reader::from_reader(data);
    reader.config_mut().check_end_names = true;
    let mut depth = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Start(_)) => depth += 1,
            Ok(Event::End(_)) => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            Ok(Event::GeneralRef(r)) => {
                let known = if r.is_char_ref() {
                    matches!(r.resolve_char_ref(), Ok(Some(_)))
                } else {
                    quick_xml::escape::resolve_predefined_entity(&r).is_some()
                };
                if !known {
                    return false;
                }
            }
            Ok(Event::Eof) => return depth == 0,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
}

/// A writer for measuring fragments.
pub(crate) fn sink() -> writer::XmlSink {
    writer::XmlSink::with_capacity(256)
}
