//! An indented rendering of a message, for people (the `omadm decode` and `trace` output).
//! Not for the wire: the white space it adds between elements is not part of the message.

use quick_xml::events::Event;
use quick_xml::{Reader, Writer};

/// Re-indents compact XML produced by [`super::encode`]. Text content is left as it is.
pub(crate) fn indent(compact: &[u8]) -> String {
    let mut reader = Reader::from_reader(compact);
    let mut writer = Writer::new_with_indent(Vec::with_capacity(compact.len() * 2), b' ', 2);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(event) => {
                if writer.write_event(event).is_err() {
                    break;
                }
            }
            // Our own output is well formed; should it ever not be, show it unindented.
            Err(_) => return String::from_utf8_lossy(compact).into_owned(),
        }
    }
    let mut out = String::from_utf8_lossy(&writer.into_inner()).into_owned();
    out.push('\n');
    out
}
