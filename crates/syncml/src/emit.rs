//! The typed emitter: [`SyncMl`] → element stream ([`Sink`]), children in DTD order.
//!
//! Order (SyncML RepPro 1.2 DTD as reflected in the Synthesis RTK): SyncHdr = VerDTD,
//! VerProto, SessionID, MsgID, Target, Source, RespURI, NoResp, Cred, Meta; Status = CmdID,
//! MsgRef, CmdRef, Cmd, TargetRef*, SourceRef*, Cred, Chal, Data, Item*; Results = CmdID,
//! MsgRef, CmdRef, Meta, TargetRef, SourceRef, Item*; Item = Target, Source, SourceParent,
//! TargetParent, Meta, Data, MoreData; Meta = Format, Type, Mark, Size, Version, NextNonce,
//! MaxMsgSize, MaxObjSize, EMI*. [`Command::Malformed`] entries are not written
//! (a display sink shows them as comments).

use crate::events::Sink;
use crate::model::{
    Alert, Chal, Command, Container, Cred, DmVersion, Exec, Item, ItemCommand, ItemStatus,
    Location, Meta, MoreMeta, NodeResults, Results, Status, SyncHdr, SyncMl,
};
use crate::tag::Tag;

/// Writes a whole message.
pub(crate) fn emit_message<S: Sink>(message: &SyncMl<'_>, sink: &mut S) {
    let version = message.version().unwrap_or(DmVersion::V1_2);
    emit_opening(version, &message.header, sink);
    for command in &message.body.commands {
        emit_command(command, sink);
    }
    emit_closing(message.body.is_final, sink);
}

/// Writes the root, the header and the start of the body.
pub(crate) fn emit_opening<S: Sink>(version: DmVersion, header: &SyncHdr<'_>, sink: &mut S) {
    sink.root(version.namespace());
    emit_header(header, sink);
    sink.start(Tag::SyncBody);
}

/// Writes `Final` (when `is_final`) and closes the body and the root.
pub(crate) fn emit_closing<S: Sink>(is_final: bool, sink: &mut S) {
    if is_final {
        sink.empty(Tag::Final);
    }
    sink.end(Tag::SyncBody);
    sink.end(Tag::SyncMl);
}

fn emit_header<S: Sink>(header: &SyncHdr, sink: &mut S) {
    sink.start(Tag::SyncHdr);
    sink.leaf(Tag::VerDtd, &header.ver_dtd);
    sink.leaf(Tag::VerProto, &header.ver_proto);
    sink.leaf(Tag::SessionId, &header.session_id);
    sink.leaf(Tag::MsgId, &header.msg_id);
    emit_location(Tag::Target, &header.target, sink);
    emit_location(Tag::Source, &header.source, sink);
    if let Some(uri) = &header.resp_uri {
        sink.leaf(Tag::RespUri, uri);
    }
    if header.no_resp {
        sink.empty(Tag::NoResp);
    }
    if let Some(cred) = &header.cred {
        emit_cred(cred, sink);
    }
    if let Some(meta) = &header.meta {
        emit_meta(meta, sink);
    }
    sink.end(Tag::SyncHdr);
}

/// Writes one command.
pub(crate) fn emit_command<S: Sink>(command: &Command, sink: &mut S) {
    emit_command_as(command, None, sink)
}

/// Writes one command with `cmd_id` instead of its own CmdID when one is given (a sender
/// numbering its commands as it writes them).
pub(crate) fn emit_command_as<S: Sink>(command: &Command, cmd_id: Option<&str>, sink: &mut S) {
    match command {
        Command::Add(c) => emit_item_command(Tag::Add, c, cmd_id.unwrap_or(&c.cmd_id), sink),
        Command::Copy(c) => emit_item_command(Tag::Copy, c, cmd_id.unwrap_or(&c.cmd_id), sink),
        Command::Delete(c) => emit_item_command(Tag::Delete, c, cmd_id.unwrap_or(&c.cmd_id), sink),
        Command::Get(c) => emit_item_command(Tag::Get, c, cmd_id.unwrap_or(&c.cmd_id), sink),
        Command::Replace(c) => {
            emit_item_command(Tag::Replace, c, cmd_id.unwrap_or(&c.cmd_id), sink)
        }
        Command::Alert(c) => emit_alert(c, cmd_id.unwrap_or(&c.cmd_id), sink),
        Command::Exec(c) => emit_exec(c, cmd_id.unwrap_or(&c.cmd_id), sink),
        Command::Atomic(c) => emit_container(Tag::Atomic, c, cmd_id.unwrap_or(&c.cmd_id), sink),
        Command::Sequence(c) => emit_container(Tag::Sequence, c, cmd_id.unwrap_or(&c.cmd_id), sink),
        Command::Status(c) => emit_status(c, cmd_id.unwrap_or(&c.cmd_id), sink),
        Command::Results(c) => emit_results(c, cmd_id.unwrap_or(&c.cmd_id), sink),
        Command::Malformed(m) => sink.malformed(m),
    }
}

fn emit_common<S: Sink>(cmd_id: &str, no_resp: bool, cred: Option<&Cred>, sink: &mut S) {
    sink.leaf(Tag::CmdId, cmd_id);
    if no_resp {
        sink.empty(Tag::NoResp);
    }
    if let Some(cred) = cred {
        emit_cred(cred, sink);
    }
}

fn emit_item_command<S: Sink>(tag: Tag, command: &ItemCommand, cmd_id: &str, sink: &mut S) {
    sink.start(tag);
    emit_common(cmd_id, command.no_resp, command.cred.as_deref(), sink);
    if let Some(meta) = &command.meta {
        emit_meta(meta, sink);
    }
    for item in &command.items {
        emit_item(item, sink);
    }
    sink.end(tag);
}

fn emit_alert<S: Sink>(alert: &Alert, cmd_id: &str, sink: &mut S) {
    sink.start(Tag::Alert);
    emit_common(cmd_id, alert.no_resp, alert.cred.as_deref(), sink);
    if let Some(data) = &alert.data {
        sink.leaf(Tag::Data, data);
    }
    if let Some(correlator) = &alert.correlator {
        sink.leaf(Tag::Correlator, correlator);
    }
    for item in &alert.items {
        emit_item(item, sink);
    }
    sink.end(Tag::Alert);
}

fn emit_exec<S: Sink>(exec: &Exec, cmd_id: &str, sink: &mut S) {
    sink.start(Tag::Exec);
    emit_common(cmd_id, exec.no_resp, exec.cred.as_deref(), sink);
    if let Some(meta) = &exec.meta {
        emit_meta(meta, sink);
    }
    if let Some(correlator) = &exec.correlator {
        sink.leaf(Tag::Correlator, correlator);
    }
    for item in &exec.items {
        emit_item(item, sink);
    }
    sink.end(Tag::Exec);
}

fn emit_container<S: Sink>(tag: Tag, container: &Container, cmd_id: &str, sink: &mut S) {
    sink.start(tag);
    emit_common(cmd_id, container.no_resp, None, sink);
    if let Some(meta) = &container.meta {
        emit_meta(meta, sink);
    }
    for command in &container.commands {
        emit_command(command, sink);
    }
    sink.end(tag);
}

/// Writes a Status's opening and the references every Status has.
fn emit_status_head<S: Sink>(cmd_id: &str, msg_ref: &str, cmd_ref: &str, cmd: &str, sink: &mut S) {
    sink.status_head([cmd_id, msg_ref, cmd_ref, cmd]);
}

fn emit_status<S: Sink>(status: &Status, cmd_id: &str, sink: &mut S) {
    emit_status_head(cmd_id, &status.msg_ref, &status.cmd_ref, &status.cmd, sink);
    for target in status.target_refs.iter() {
        sink.leaf(Tag::TargetRef, target);
    }
    for source in status.source_refs.iter() {
        sink.leaf(Tag::SourceRef, source);
    }
    if let Some(cred) = &status.cred {
        emit_cred(cred, sink);
    }
    if let Some(chal) = &status.chal {
        emit_chal(chal, sink);
    }
    sink.leaf(Tag::Data, &status.data);
    for item in &status.items {
        emit_item(item, sink);
    }
    sink.end(Tag::Status);
}

/// Writes `status` with CmdID `cmd_id`: the bytes [`emit_status`] writes for
/// [`ItemStatus::to_status`].
pub(crate) fn emit_item_status<S: Sink>(status: &ItemStatus, cmd_id: &str, sink: &mut S) {
    emit_status_head(cmd_id, status.msg_ref, status.cmd_ref, status.cmd, sink);
    let mut digits = [0u8; 20];
    let code = decimal(status.code.into(), &mut digits);
    if let [Item {
        target: Some(target),
        source: None,
        ..
    }] = status.items
    {
        // One target and no source: most Statuses.
        sink.status_tail(&target.loc_uri, code);
        return;
    }
    for target in status.target_refs() {
        sink.leaf(Tag::TargetRef, target);
    }
    for source in status.source_refs() {
        sink.leaf(Tag::SourceRef, source);
    }
    sink.leaf(Tag::Data, code);
    sink.end(Tag::Status);
}

/// Writes a Results held as the node it answers with: the same bytes as
/// [`NodeResults::into_results`].
pub(crate) fn emit_node_results<S: Sink>(results: &NodeResults, cmd_id: &str, sink: &mut S) {
    sink.start(Tag::Results);
    sink.leaf(Tag::CmdId, cmd_id);
    sink.leaf(Tag::MsgRef, results.msg_ref);
    sink.leaf(Tag::CmdRef, results.cmd_ref);
    sink.start(Tag::Item);
    sink.start(Tag::Source);
    sink.leaf(Tag::LocUri, &results.uri);
    sink.end(Tag::Source);
    // What `emit_meta` writes for a Meta of a Format and a Type, without building one.
    let (format, type_) = results.meta_fields();
    if format.is_some() || type_.is_some() {
        sink.start(Tag::Meta);
        if let Some(format) = format {
            sink.leaf(Tag::Format, format);
        }
        if let Some(type_) = type_ {
            sink.leaf(Tag::Type, type_);
        }
        sink.end(Tag::Meta);
    }
    if let Some(data) = results.data() {
        sink.start(Tag::Data);
        sink.data(&data);
        sink.end(Tag::Data);
    }
    sink.end(Tag::Item);
    sink.end(Tag::Results);
}

fn emit_results<S: Sink>(results: &Results, cmd_id: &str, sink: &mut S) {
    sink.start(Tag::Results);
    sink.leaf(Tag::CmdId, cmd_id);
    if let Some(msg_ref) = &results.msg_ref {
        sink.leaf(Tag::MsgRef, msg_ref);
    }
    sink.leaf(Tag::CmdRef, &results.cmd_ref);
    if let Some(meta) = &results.meta {
        emit_meta(meta, sink);
    }
    if let Some(target) = &results.target_ref {
        sink.leaf(Tag::TargetRef, target);
    }
    if let Some(source) = &results.source_ref {
        sink.leaf(Tag::SourceRef, source);
    }
    for item in &results.items {
        emit_item(item, sink);
    }
    sink.end(Tag::Results);
}

/// Writes one Item.
pub(crate) fn emit_item<S: Sink>(item: &Item, sink: &mut S) {
    sink.start(Tag::Item);
    if let Some(target) = &item.target {
        emit_location(Tag::Target, target, sink);
    }
    if let Some(source) = &item.source {
        emit_location(Tag::Source, source, sink);
    }
    if let Some(parent) = &item.source_parent {
        emit_location(Tag::SourceParent, parent, sink);
    }
    if let Some(parent) = &item.target_parent {
        emit_location(Tag::TargetParent, parent, sink);
    }
    if let Some(meta) = &item.meta {
        emit_meta(meta, sink);
    }
    if let Some(data) = &item.data {
        sink.start(Tag::Data);
        sink.data(data);
        sink.end(Tag::Data);
    }
    if item.more_data {
        sink.empty(Tag::MoreData);
    }
    sink.end(Tag::Item);
}

fn emit_location<S: Sink>(tag: Tag, location: &Location, sink: &mut S) {
    sink.start(tag);
    sink.leaf(Tag::LocUri, &location.loc_uri);
    if let Some(name) = &location.loc_name {
        sink.leaf(Tag::LocName, name);
    }
    sink.end(tag);
}

fn emit_cred<S: Sink>(cred: &Cred, sink: &mut S) {
    sink.start(Tag::Cred);
    if let Some(meta) = &cred.meta {
        emit_meta(meta, sink);
    }
    sink.leaf(Tag::Data, &cred.data);
    sink.end(Tag::Cred);
}

fn emit_chal<S: Sink>(chal: &Chal, sink: &mut S) {
    sink.start(Tag::Chal);
    emit_meta(&chal.meta, sink);
    sink.end(Tag::Chal);
}

fn emit_meta<S: Sink>(meta: &Meta, sink: &mut S) {
    sink.start(Tag::Meta);
    for (tag, value) in [(Tag::Format, &meta.format), (Tag::Type, &meta.type_)] {
        if let Some(value) = value {
            sink.leaf(tag, value);
        }
    }
    if let Some(more) = &meta.more {
        emit_more_meta(more, sink);
    }
    sink.end(Tag::Meta);
}

/// Writes the elements of a Meta after its Format and Type.
fn emit_more_meta<S: Sink>(more: &MoreMeta, sink: &mut S) {
    if let Some(mark) = &more.mark {
        sink.leaf(Tag::Mark, mark);
    }
    if let Some(size) = more.size {
        sink.leaf(Tag::Size, decimal(size, &mut [0; 20]));
    }
    if let Some(version) = &more.version {
        sink.leaf(Tag::Version, version);
    }
    if let Some(nonce) = &more.next_nonce {
        sink.leaf(Tag::NextNonce, nonce);
    }
    if let Some(size) = more.max_msg_size {
        sink.leaf(Tag::MaxMsgSize, decimal(size, &mut [0; 20]));
    }
    if let Some(size) = more.max_obj_size {
        sink.leaf(Tag::MaxObjSize, decimal(size, &mut [0; 20]));
    }
    for emi in &more.emi {
        sink.leaf(Tag::Emi, emi);
    }
}

/// The numbers 0 to 999 in three digits each (`000001002...999`), built at compile time.
static SMALL_DECIMALS: &str = match std::str::from_utf8(&three_digit_numbers()) {
    Ok(text) => text,
    Err(_) => panic!("digits are ASCII"),
};

const fn three_digit_numbers() -> [u8; 3000] {
    let mut table = [0; 3000];
    let mut n = 0;
    while n < 1000 {
        table[3 * n] = b'0' + (n / 100) as u8;
        table[3 * n + 1] = b'0' + (n / 10 % 10) as u8;
        table[3 * n + 2] = b'0' + (n % 10) as u8;
        n += 1;
    }
    table
}

/// `n` in decimal, written into `buf` (no allocation for the numbers every message
/// carries: CmdIDs, sizes).
// In line (its common case, a slice of the table, is a few instructions), the rest not.
#[inline(always)]
pub(crate) fn decimal(n: u64, buf: &mut [u8; 20]) -> &str {
    if n < 1000 {
        // Nearly every CmdID, MsgID and reference: a slice of the table, its leading zeros
        // left out.
        let (at, zeros) = (3 * n as usize, usize::from(n < 100) + usize::from(n < 10));
        return SMALL_DECIMALS.get(at + zeros..at + 3).unwrap_or("0");
    }
    large_decimal(n, buf)
}

/// [`decimal`] of 1000 or more: written digit by digit into `buf`.
#[inline(never)]
fn large_decimal(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    std::str::from_utf8(&buf[at..]).unwrap_or("0")
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn decimal_is_to_string() {
        for n in (0..1100).chain([65_535, 1 << 40, u64::MAX / 3 * 3, u64::MAX]) {
            assert_eq!(decimal(n, &mut [0; 20]), n.to_string());
        }
    }
}
