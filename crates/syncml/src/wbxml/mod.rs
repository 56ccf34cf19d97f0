//! The WBXML representation of SyncML DM (WAP-192-WBXML 1.2/1.3 with the SyncML 1.1/1.2
//! code pages 0 and 1). No Rust crate does this well, so it is written here.

mod header;
mod nul;
mod reader;
#[cfg(any(test, fuzzing))]
mod step_by_step;
pub(crate) mod writer;

use crate::error::DecodeError;
use crate::limits::Limits;
use crate::model::{DmVersion, SyncMl};

/// Decodes a WBXML SyncML DM message. Fails on the first error, including an error inside a
/// single command; see [`decode_lenient`] to keep the rest of such a message.
pub fn decode<'a>(input: &'a [u8], limits: &Limits) -> Result<SyncMl<'a>, DecodeError> {
    crate::strict(decode_lenient(input, limits)?)
}

/// Decodes a WBXML SyncML DM message, turning commands that cannot be decoded into
/// [`crate::Command::Malformed`] instead of failing the whole message.
pub fn decode_lenient<'a>(input: &'a [u8], limits: &Limits) -> Result<SyncMl<'a>, DecodeError> {
    let mut source = reader::WbxmlSource::new(input, *limits)?;
    crate::parse::parse_message(&mut source)
}

#[cfg(any(test, fuzzing))]
pub use step_by_step::decode_lenient_step_by_step;

/// Room [`encode`] makes for a message's header and for each of its commands before it
/// writes them: a little more than a typical header and command take (about 100 and 30 to 80
/// octets), so that a common message's buffer is made once instead of copied as it grows.
const ENCODE_ROOM: (usize, usize) = (256, 64);

/// Encodes a message as WBXML 1.2 with the registered public id of its dialect. Malformed
/// commands are left out.
pub fn encode(message: &SyncMl) -> Vec<u8> {
    let version = message.version().unwrap_or(DmVersion::V1_2);
    let (header, command) = ENCODE_ROOM;
    let capacity = header.saturating_add(command.saturating_mul(message.body.commands.len()));
    let mut sink = writer::WbxmlSink::new(version, capacity);
    crate::emit::emit_message(message, &mut sink);
    sink.out
}
