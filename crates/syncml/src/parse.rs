//! The typed parser: element stream ([`EventSource`]) → [`SyncMl`].
//!
//! Children are accepted in any order (the DTD order of Status, Results and Exec is not
//! confirmed, and peers differ); each singleton may occur once. Errors inside one command of
//! the body do not fail the message: the command becomes [`Command::Malformed`] (with its
//! CmdID when it was read before the error) and parsing resumes after its end tag. Errors in
//! the header, in the body's own structure, and every well-formedness or limit error are fatal.

use crate::error::{excerpt, DecodeError, ErrorKind};
use crate::events::{EventSource, RawData, Start};
use crate::model::{
    Alert, Chal, Command, Container, Cred, Data, Exec, Item, ItemCommand, Location, Malformed,
    Meta, MoreMeta, Results, Status, SyncBody, SyncHdr, SyncMl,
};
use crate::tag::Tag;
use std::borrow::Cow;

type Result<T> = std::result::Result<T, DecodeError>;

use std::mem::size_of;

/// Makes room for one more element in `list`, charging exactly the memory the room takes:
/// one element for a list's first (most lists of a message hold one: an Alert's Items, a
/// Status's TargetRefs), then doubling, at least to four. (An Add, Copy, Delete, Get or
/// Replace holds its first Item in place: [`Items::growth`] says what more cost.)
fn room_for_one<T>(src: &mut dyn EventSource<'_>, list: &mut Vec<T>) -> Result<()> {
    grow(src, list, |capacity| (capacity * 2).max(4))
}

/// As [`room_for_one`] for a list of commands, which grows by half, or by half of what the
/// budget has left when that is less (at least one slot): a command is the model's largest
/// part, and a message of many small commands (100,000 Gets of 20 to 32 octets) must fit
/// the decoding budget whatever its count, not be refused for room it would never use.
fn room_for_command(src: &mut dyn EventSource<'_>, list: &mut Vec<Command<'_>>) -> Result<()> {
    if list.len() < list.capacity() {
        // Nearly every command: the budget is asked only when the list must grow.
        return Ok(());
    }
    let affordable = src.budget_left() / 2 / size_of::<Command>();
    grow(src, list, |capacity| {
        (capacity + (capacity / 2).min(affordable).max(1)).max(4)
    })
}

fn grow<T>(
    src: &mut dyn EventSource<'_>,
    list: &mut Vec<T>,
    next: impl Fn(usize) -> usize,
) -> Result<()> {
    let capacity = list.capacity();
    if list.len() < capacity {
        return Ok(());
    }
    let grown = if capacity == 0 { 1 } else { next(capacity) };
    src.charge((grown - capacity) * size_of::<T>())?;
    list.reserve_exact(grown - capacity);
    Ok(())
}

/// The most command slots reserved before a message's commands are read: a message of a few
/// large commands (a large object's chunk) leaves at most these unused.
const MAX_PRESIZED_COMMANDS: usize = 256;

/// Reserves the command list of a body whose commands are about to be read: the commands the
/// input left likely holds ([`EventSource::likely_commands`]), at most
/// [`MAX_PRESIZED_COMMANDS`] and a third of the budget left, so that the list of a common
/// message is made once instead of copied as it grows (a command's slot holds its first
/// Item and that Item's Meta: the list of a message of dense commands takes about a third of
/// its budget).
fn presize_commands(src: &mut dyn EventSource<'_>, list: &mut Vec<Command<'_>>) -> Result<()> {
    let size = size_of::<Command>();
    let slots = src
        .likely_commands()
        .min(MAX_PRESIZED_COMMANDS)
        .min(src.budget_left() / 3 / size);
    if slots > list.capacity() {
        src.charge((slots - list.capacity()) * size)?;
        list.reserve_exact(slots - list.len());
    }
    Ok(())
}

/// Parses a whole message.
pub(crate) fn parse_message<'a>(src: &mut dyn EventSource<'a>) -> Result<SyncMl<'a>> {
    let (start, offset) = src
        .next_child()?
        .ok_or_else(|| DecodeError::new(ErrorKind::UnexpectedEof, src.offset()))?;
    match start {
        Start::Known(Tag::SyncMl) => {}
        Start::Known(tag) => return Err(misplaced(tag.name(), "", offset)),
        Start::Unknown(kind) => return Err(DecodeError::new(*kind, offset)),
    }
    let mut header = None;
    let mut body = None;
    while let Some((start, offset)) = src.next_child()? {
        match known(start, offset)? {
            Tag::SyncHdr if header.is_none() => header = Some(parse_header(src)?),
            Tag::SyncBody if header.is_some() && body.is_none() => body = Some(parse_body(src)?),
            tag => return Err(misplaced(tag.name(), "SyncML", offset)),
        }
    }
    src.finish()?;
    let at = src.offset();
    Ok(SyncMl {
        header: header.ok_or_else(|| missing("SyncHdr", "SyncML", at))?,
        body: body.ok_or_else(|| missing("SyncBody", "SyncML", at))?,
    })
}

fn parse_header<'a>(src: &mut dyn EventSource<'a>) -> Result<SyncHdr<'a>> {
    let mut ver_dtd = None;
    let mut ver_proto = None;
    let mut session_id = None;
    let mut msg_id = None;
    let mut target = None;
    let mut source = None;
    let mut resp_uri = None;
    let mut no_resp = false;
    let mut cred = None;
    let mut meta = None;
    // The leaves and locations every header starts with, in their usual order, each in one
    // step while they come in that order (the rest, and anything else, as usual).
    let leaves = [
        (Tag::VerDtd, &mut ver_dtd),
        (Tag::VerProto, &mut ver_proto),
        (Tag::SessionId, &mut session_id),
        (Tag::MsgId, &mut msg_id),
    ];
    if plain_leaves(src, leaves)? {
        for (tag, slot) in [(Tag::Target, &mut target), (Tag::Source, &mut source)] {
            match src.plain_location_child(tag) {
                Some(loc_uri) => {
                    *slot = Some(Location {
                        loc_uri: loc_uri?,
                        loc_name: None,
                    })
                }
                None => break,
            }
        }
    }
    while let Some((start, offset)) = src.next_child()? {
        let tag = known(start, offset)?;
        match tag {
            Tag::VerDtd => set(&mut ver_dtd, src.read_text()?, tag, offset)?,
            Tag::VerProto => set(&mut ver_proto, src.read_text()?, tag, offset)?,
            Tag::SessionId => set(&mut session_id, src.read_text()?, tag, offset)?,
            Tag::MsgId => set(&mut msg_id, src.read_text()?, tag, offset)?,
            Tag::Target => set(&mut target, parse_location(src, "Target")?, tag, offset)?,
            Tag::Source => set(&mut source, parse_location(src, "Source")?, tag, offset)?,
            Tag::RespUri => set(&mut resp_uri, src.read_text()?, tag, offset)?,
            Tag::NoResp => no_resp = flag(src)?,
            Tag::Cred => set(&mut cred, parse_cred(src)?, tag, offset)?,
            Tag::Meta => set(&mut meta, parse_meta(src)?, tag, offset)?,
            _ => return Err(misplaced(tag.name(), "SyncHdr", offset)),
        }
    }
    let at = src.offset();
    Ok(SyncHdr {
        ver_dtd: ver_dtd.ok_or_else(|| missing("VerDTD", "SyncHdr", at))?,
        ver_proto: ver_proto.ok_or_else(|| missing("VerProto", "SyncHdr", at))?,
        session_id: session_id.ok_or_else(|| missing("SessionID", "SyncHdr", at))?,
        msg_id: msg_id.ok_or_else(|| missing("MsgID", "SyncHdr", at))?,
        target: target.ok_or_else(|| missing("Target", "SyncHdr", at))?,
        source: source.ok_or_else(|| missing("Source", "SyncHdr", at))?,
        resp_uri,
        no_resp,
        cred,
        meta,
    })
}

fn parse_body<'a>(src: &mut dyn EventSource<'a>) -> Result<SyncBody<'a>> {
    let mut body = SyncBody::default();
    presize_commands(src, &mut body.commands)?;
    let one_step = src.reads_in_one_step();
    loop {
        // Nearly every command: an Add, Copy, Delete, Get or Replace led by its CmdID, its
        // start and CmdID read in one step while the list has room (nothing to charge).
        if one_step && !body.is_final && body.commands.len() < body.commands.capacity() {
            if let Some(led) = src.plain_item_command() {
                let (tag, offset, cmd_id) = led?;
                let list = &mut body.commands;
                parse_known_command(src, (tag, offset), Some(cmd_id), one_step, "SyncBody", list)?;
                continue;
            }
        }
        let Some((start, offset)) = src.next_child()? else {
            break;
        };
        if body.is_final {
            // Final closes the body: anything after it is misplaced, but only that command.
            let element = start_name(&start);
            let depth = src.depth();
            room_for_command(src, &mut body.commands)?;
            body.commands.push(malformed_skip(
                src,
                depth - 1,
                element.clone(),
                None,
                misplaced(&element, "SyncBody", offset),
            )?);
            continue;
        }
        if start == Start::Known(Tag::Final) {
            body.is_final = flag(src)?;
            continue;
        }
        parse_command(src, start, offset, "SyncBody", &mut body.commands)?;
    }
    Ok(body)
}

/// Parses one command whose start has just been read onto the end of `list`; recoverable
/// errors inside it give [`Command::Malformed`]. An Add, Copy, Delete, Get or Replace (most
/// of a message) is parsed in its place in the list, not moved there once parsed.
fn parse_command<'a>(
    src: &mut dyn EventSource<'a>,
    start: Start,
    offset: usize,
    parent: &'static str,
    list: &mut Vec<Command<'a>>,
) -> Result<()> {
    room_for_command(src, list)?;
    let tag = match start {
        Start::Known(tag) => tag,
        Start::Unknown(kind) => {
            let element = unknown_name(&kind);
            let depth = src.depth();
            list.push(malformed_skip(
                src,
                depth - 1,
                element,
                None,
                DecodeError::new(*kind, offset),
            )?);
            return Ok(());
        }
    };
    let one_step = src.reads_in_one_step();
    parse_known_command(src, (tag, offset), None, one_step, parent, list)
}

/// [`parse_command`] for a command of a known element (at `offset`), whose CmdID is `led_by`
/// when it was read with the command's start (and the list's room made); `one_step` tells
/// whether `src` reads in one step ([`EventSource::reads_in_one_step`]).
fn parse_known_command<'a>(
    src: &mut dyn EventSource<'a>,
    (tag, offset): (Tag, usize),
    led_by: Option<Cow<'a, str>>,
    one_step: bool,
    parent: &'static str,
    list: &mut Vec<Command<'a>>,
) -> Result<()> {
    let depth = src.depth();
    let mut cmd_id = led_by;
    // An item command is pushed empty and parsed where it lies; the others are built and
    // then pushed.
    let in_place = matches!(
        tag,
        Tag::Add | Tag::Copy | Tag::Delete | Tag::Get | Tag::Replace
    );
    let result = if in_place {
        // (Made by `resize_with` after the room is checked, the empty command is written
        // straight into the list rather than copied there.)
        list.resize_with(list.len() + 1, || match tag {
            Tag::Add => Command::Add(ItemCommand::empty()),
            Tag::Copy => Command::Copy(ItemCommand::empty()),
            Tag::Delete => Command::Delete(ItemCommand::empty()),
            Tag::Get => Command::Get(ItemCommand::empty()),
            // Replace, the one left.
            _ => Command::Replace(ItemCommand::empty()),
        });
        match list.last_mut() {
            Some(
                Command::Add(command)
                | Command::Copy(command)
                | Command::Delete(command)
                | Command::Get(command)
                | Command::Replace(command),
            ) => parse_item_command(src, &mut cmd_id, tag, command, one_step),
            _ => Err(misplaced(tag.name(), parent, offset)),
        }
    } else {
        let command = match tag {
            Tag::Alert => parse_alert(src, &mut cmd_id).map(Command::Alert),
            Tag::Exec => parse_exec(src, &mut cmd_id).map(Command::Exec),
            Tag::Atomic => parse_container(src, &mut cmd_id, tag).map(Command::Atomic),
            Tag::Sequence => parse_container(src, &mut cmd_id, tag).map(Command::Sequence),
            Tag::Status => parse_status(src, &mut cmd_id).map(Command::Status),
            Tag::Results => parse_results(src, &mut cmd_id).map(Command::Results),
            _ => Err(misplaced(tag.name(), parent, offset)),
        };
        command.map(|command| list.push(command))
    };
    let error = match result {
        Ok(()) => return Ok(()),
        Err(error) if is_recoverable(&error.kind) => error,
        Err(error) => return Err(error),
    };
    // What was parsed in place is dropped for the record of the malformed command.
    if in_place {
        list.pop();
    }
    let malformed = if src.depth() < depth {
        // The command's end was already consumed (error found after its last child).
        src.charge(malformed_cost(tag.name()))?;
        Command::Malformed(Malformed {
            element: tag.name().to_owned(),
            cmd_id,
            error,
        })
    } else {
        malformed_skip(src, depth - 1, tag.name().to_owned(), cmd_id, error)?
    };
    list.push(malformed);
    Ok(())
}

/// Skips to the end of a malformed command (back to `depth`) and records it.
fn malformed_skip<'a>(
    src: &mut dyn EventSource<'a>,
    depth: usize,
    element: String,
    cmd_id: Option<Cow<'a, str>>,
    error: DecodeError,
) -> Result<Command<'a>> {
    src.skip_to_depth(depth)?;
    src.charge(malformed_cost(&element))?;
    Ok(Command::Malformed(Malformed {
        element,
        cmd_id,
        error,
    }))
}

/// What a malformed command keeps: its element name and an error with a message.
fn malformed_cost(element: &str) -> usize {
    size_of::<Malformed>() + element.len() + 128
}

/// Errors that concern one command's content, after which the stream is still in step.
fn is_recoverable(kind: &ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::UnknownElement(_)
            | ErrorKind::MisplacedElement { .. }
            | ErrorKind::UnknownNamespace { .. }
            | ErrorKind::MissingElement { .. }
            | ErrorKind::DuplicateElement(_)
            | ErrorKind::UnexpectedText(_)
            | ErrorKind::InvalidValue { .. }
    )
}

/// Parses an Add, Copy, Delete, Get or Replace into `command` (empty, in its place), with the
/// one-step readings when `one_step` ([`EventSource::reads_in_one_step`]).
fn parse_item_command<'a>(
    src: &mut dyn EventSource<'a>,
    cmd_id: &mut Option<Cow<'a, str>>,
    tag: Tag,
    command: &mut ItemCommand<'a>,
    one_step: bool,
) -> Result<()> {
    // The CmdID first, as nearly every command has it, in one step (unless it was read with
    // the command's start).
    if one_step && cmd_id.is_none() {
        if let Some(text) = src.plain_leaf(Tag::CmdId) {
            *cmd_id = Some(text?);
        }
    }
    // Then nearly always the first Item, its Target of one LocURI first: opened with it in
    // one step. (The first Item is held in the command: no list grows, nothing to charge.)
    let mut ended = false;
    if let Some(loc_uri) = one_step.then(|| src.plain_item_target()).flatten() {
        let loc_uri = loc_uri?;
        debug_assert_eq!(command.items.growth(), 0);
        let item = command.items.push_default();
        item.target = Some(Location {
            loc_uri,
            loc_name: None,
        });
        // A Get's or a Delete's Item ends at its Target; the others go on.
        if !src.plain_end() {
            parse_item(src, command.meta.as_deref(), item, one_step)?;
        }
        // Then nearly always the command's end.
        ended = src.plain_end();
    }
    if !ended {
        while let Some((start, offset)) = src.next_child()? {
            let child = known(start, offset)?;
            match child {
                Tag::CmdId => set(cmd_id, src.read_text()?, child, offset)?,
                Tag::NoResp => command.no_resp = flag(src)?,
                Tag::Cred => {
                    src.charge(size_of::<Cred>())?;
                    set(&mut command.cred, Box::new(parse_cred(src)?), child, offset)?
                }
                Tag::Meta => {
                    src.charge(size_of::<Meta>())?;
                    set(&mut command.meta, parse_boxed_meta(src)?, child, offset)?
                }
                Tag::Item => {
                    // The first is held in the command (charged with it), more in a list.
                    src.charge(command.items.growth())?;
                    let item = command.items.push_default();
                    parse_item(src, command.meta.as_deref(), item, one_step)?
                }
                _ => return Err(misplaced(child.name(), tag.name(), offset)),
            }
        }
    }
    let at = src.offset();
    if cmd_id.is_none() {
        return Err(missing("CmdID", tag.name(), at));
    }
    if command.items.is_empty() {
        return Err(missing("Item", tag.name(), at));
    }
    // Taken only once nothing can fail: the caller names a malformed command by its CmdID.
    command.cmd_id = cmd_id.take().unwrap_or_default();
    Ok(())
}

fn parse_alert<'a>(
    src: &mut dyn EventSource<'a>,
    cmd_id: &mut Option<Cow<'a, str>>,
) -> Result<Alert<'a>> {
    let mut no_resp = false;
    let mut cred = None;
    let mut data = None;
    let mut correlator = None;
    let mut items = Vec::new();
    while let Some((start, offset)) = src.next_child()? {
        let child = known(start, offset)?;
        match child {
            Tag::CmdId => set(cmd_id, src.read_text()?, child, offset)?,
            Tag::NoResp => no_resp = flag(src)?,
            Tag::Cred => {
                src.charge(size_of::<Cred>())?;
                set(&mut cred, Box::new(parse_cred(src)?), child, offset)?
            }
            Tag::Data => set(&mut data, src.read_text()?, child, offset)?,
            Tag::Correlator => set(&mut correlator, src.read_text()?, child, offset)?,
            Tag::Item => parse_listed_item(src, None, &mut items)?,
            _ => return Err(misplaced(child.name(), "Alert", offset)),
        }
    }
    let at = src.offset();
    let cmd_id = cmd_id
        .clone()
        .ok_or_else(|| missing("CmdID", "Alert", at))?;
    Ok(Alert {
        cmd_id,
        no_resp,
        cred,
        data,
        correlator,
        items,
    })
}

fn parse_exec<'a>(
    src: &mut dyn EventSource<'a>,
    cmd_id: &mut Option<Cow<'a, str>>,
) -> Result<Exec<'a>> {
    let mut no_resp = false;
    let mut cred = None;
    let mut meta: Option<Box<Meta<'a>>> = None;
    let mut correlator = None;
    let mut items = Vec::new();
    while let Some((start, offset)) = src.next_child()? {
        let child = known(start, offset)?;
        match child {
            Tag::CmdId => set(cmd_id, src.read_text()?, child, offset)?,
            Tag::NoResp => no_resp = flag(src)?,
            Tag::Cred => {
                src.charge(size_of::<Cred>())?;
                set(&mut cred, Box::new(parse_cred(src)?), child, offset)?
            }
            Tag::Meta => {
                src.charge(size_of::<Meta>())?;
                set(&mut meta, parse_boxed_meta(src)?, child, offset)?
            }
            Tag::Correlator => set(&mut correlator, src.read_text()?, child, offset)?,
            Tag::Item => parse_listed_item(src, meta.as_deref(), &mut items)?,
            _ => return Err(misplaced(child.name(), "Exec", offset)),
        }
    }
    let at = src.offset();
    if cmd_id.is_none() {
        return Err(missing("CmdID", "Exec", at));
    }
    if items.is_empty() {
        return Err(missing("Item", "Exec", at));
    }
    let cmd_id = cmd_id.take().unwrap_or_default();
    Ok(Exec {
        cmd_id,
        no_resp,
        cred,
        meta,
        correlator,
        items,
    })
}

fn parse_container<'a>(
    src: &mut dyn EventSource<'a>,
    cmd_id: &mut Option<Cow<'a, str>>,
    tag: Tag,
) -> Result<Container<'a>> {
    let name = tag.name();
    let mut no_resp = false;
    let mut meta = None;
    let mut commands = Vec::new();
    while let Some((start, offset)) = src.next_child()? {
        match start {
            Start::Known(Tag::CmdId) => set(cmd_id, src.read_text()?, Tag::CmdId, offset)?,
            Start::Known(Tag::NoResp) => no_resp = flag(src)?,
            Start::Known(Tag::Meta) => {
                src.charge(size_of::<Meta>())?;
                set(&mut meta, parse_boxed_meta(src)?, Tag::Meta, offset)?
            }
            start => parse_command(src, start, offset, name, &mut commands)?,
        }
    }
    let at = src.offset();
    let cmd_id = cmd_id.take().ok_or_else(|| missing("CmdID", name, at))?;
    Ok(Container {
        cmd_id,
        no_resp,
        meta,
        commands,
    })
}

fn parse_status<'a>(
    src: &mut dyn EventSource<'a>,
    cmd_id: &mut Option<Cow<'a, str>>,
) -> Result<Status<'a>> {
    let mut msg_ref = None;
    let mut cmd_ref = None;
    let mut cmd = None;
    let mut target_refs = Vec::new();
    let mut source_refs = Vec::new();
    let mut cred = None;
    let mut chal = None;
    let mut data = None;
    let mut items = Vec::new();
    // The references every Status starts with, in their usual order, each in one step while
    // they come in that order (the rest, and anything else, as usual).
    if cmd_id.is_none() {
        let leaves = [
            (Tag::CmdId, &mut *cmd_id),
            (Tag::MsgRef, &mut msg_ref),
            (Tag::CmdRef, &mut cmd_ref),
            (Tag::Cmd, &mut cmd),
        ];
        plain_leaves(src, leaves)?;
    }
    while let Some((start, offset)) = src.next_child()? {
        let child = known(start, offset)?;
        match child {
            Tag::CmdId => set(cmd_id, src.read_text()?, child, offset)?,
            Tag::MsgRef => set(&mut msg_ref, src.read_text()?, child, offset)?,
            Tag::CmdRef => set(&mut cmd_ref, src.read_text()?, child, offset)?,
            Tag::Cmd => set(&mut cmd, src.read_text()?, child, offset)?,
            Tag::TargetRef => {
                room_for_one(src, &mut target_refs)?;
                target_refs.push(src.read_text()?)
            }
            Tag::SourceRef => {
                room_for_one(src, &mut source_refs)?;
                source_refs.push(src.read_text()?)
            }
            Tag::Cred => {
                src.charge(size_of::<Cred>())?;
                set(&mut cred, Box::new(parse_cred(src)?), child, offset)?
            }
            Tag::Chal => {
                src.charge(size_of::<Chal>())?;
                set(&mut chal, Box::new(parse_chal(src)?), child, offset)?
            }
            Tag::Data => set(&mut data, src.read_text()?, child, offset)?,
            Tag::Item => parse_listed_item(src, None, &mut items)?,
            _ => return Err(misplaced(child.name(), "Status", offset)),
        }
    }
    let at = src.offset();
    let cmd_id = cmd_id
        .clone()
        .ok_or_else(|| missing("CmdID", "Status", at))?;
    Ok(Status {
        cmd_id,
        msg_ref: msg_ref.ok_or_else(|| missing("MsgRef", "Status", at))?,
        cmd_ref: cmd_ref.ok_or_else(|| missing("CmdRef", "Status", at))?,
        cmd: cmd.ok_or_else(|| missing("Cmd", "Status", at))?,
        target_refs: target_refs.into(),
        source_refs: source_refs.into(),
        cred,
        chal,
        data: data.ok_or_else(|| missing("Data", "Status", at))?,
        items,
    })
}

fn parse_results<'a>(
    src: &mut dyn EventSource<'a>,
    cmd_id: &mut Option<Cow<'a, str>>,
) -> Result<Results<'a>> {
    let mut msg_ref = None;
    let mut cmd_ref = None;
    let mut meta: Option<Box<Meta<'a>>> = None;
    let mut target_ref = None;
    let mut source_ref = None;
    let mut items = Vec::new();
    while let Some((start, offset)) = src.next_child()? {
        let child = known(start, offset)?;
        match child {
            Tag::CmdId => set(cmd_id, src.read_text()?, child, offset)?,
            Tag::MsgRef => set(&mut msg_ref, src.read_text()?, child, offset)?,
            Tag::CmdRef => set(&mut cmd_ref, src.read_text()?, child, offset)?,
            Tag::Meta => {
                src.charge(size_of::<Meta>())?;
                set(&mut meta, parse_boxed_meta(src)?, child, offset)?
            }
            Tag::TargetRef => set(&mut target_ref, src.read_text()?, child, offset)?,
            Tag::SourceRef => set(&mut source_ref, src.read_text()?, child, offset)?,
            Tag::Item => parse_listed_item(src, meta.as_deref(), &mut items)?,
            _ => return Err(misplaced(child.name(), "Results", offset)),
        }
    }
    let at = src.offset();
    let cmd_id = cmd_id
        .clone()
        .ok_or_else(|| missing("CmdID", "Results", at))?;
    Ok(Results {
        cmd_id,
        msg_ref,
        cmd_ref: cmd_ref.ok_or_else(|| missing("CmdRef", "Results", at))?,
        meta,
        target_ref,
        source_ref,
        items,
    })
}

/// Parses an Item; `command_meta` supplies the effective Format for its Data when the item
/// has no Format of its own; `one_step` as for [`parse_item_command`].
fn parse_item<'a>(
    src: &mut dyn EventSource<'a>,
    command_meta: Option<&Meta<'_>>,
    item: &mut Item<'a>,
    one_step: bool,
) -> Result<()> {
    loop {
        // The common first child in one step (only into an empty slot): a Target of one
        // LocURI.
        if one_step && item.target.is_none() {
            if let Some(loc_uri) = src.plain_location_child(Tag::Target) {
                item.target = Some(Location {
                    loc_uri: loc_uri?,
                    loc_name: None,
                });
                continue;
            }
        }
        // Then nearly always, when it has one, a Meta of a Format and a Type (only into an
        // empty slot).
        if one_step && item.meta.is_none() {
            if let Some(meta) = src.plain_meta() {
                let (format, type_) = meta?;
                item.meta = Some(Meta {
                    format,
                    type_,
                    more: None,
                });
                continue;
            }
        }
        // Then its Data (only into an empty slot), nearly always its last child.
        if one_step && item.data.is_none() {
            if let Some(raw) = src.plain_data() {
                item.data = Some(item_data(raw?, item, command_meta));
                if src.plain_end() {
                    break;
                }
                continue;
            }
        }
        let Some((start, offset)) = src.next_child()? else {
            break;
        };
        let child = known(start, offset)?;
        match child {
            Tag::Target => set(
                &mut item.target,
                parse_location(src, "Target")?,
                child,
                offset,
            )?,
            Tag::Source => set(
                &mut item.source,
                parse_location(src, "Source")?,
                child,
                offset,
            )?,
            Tag::SourceParent => {
                src.charge(size_of::<Location>())?;
                set(
                    &mut item.source_parent,
                    Box::new(parse_location(src, "SourceParent")?),
                    child,
                    offset,
                )?
            }
            Tag::TargetParent => {
                src.charge(size_of::<Location>())?;
                set(
                    &mut item.target_parent,
                    Box::new(parse_location(src, "TargetParent")?),
                    child,
                    offset,
                )?
            }
            Tag::Meta => set(&mut item.meta, parse_meta(src)?, child, offset)?,
            Tag::Data => {
                let data = item_data(src.read_data()?, item, command_meta);
                set(&mut item.data, data, child, offset)?;
                // The Data is nearly always the Item's last child.
                if one_step && src.plain_end() {
                    break;
                }
            }
            Tag::MoreData => item.more_data = flag(src)?,
            _ => return Err(misplaced(child.name(), "Item", offset)),
        }
    }
    Ok(())
}

/// An Item's Data as read: markup kept as XML, and octets too when the Format in force (the
/// Item's own, else its command's) is `xml` and they are UTF-8.
fn item_data<'a>(raw: RawData<'a>, item: &Item<'_>, command_meta: Option<&Meta<'_>>) -> Data<'a> {
    let format = item
        .meta
        .as_ref()
        .and_then(|m| m.format.as_deref())
        .or_else(|| command_meta.and_then(|m| m.format.as_deref()));
    match raw {
        RawData::Text(text) => Data::Text(text),
        RawData::Markup(markup) => Data::Xml(markup),
        RawData::Opaque(Cow::Borrowed(bytes)) if format == Some("xml") => {
            match std::str::from_utf8(bytes) {
                Ok(text) => Data::Xml(Cow::Borrowed(text)),
                Err(_) => Data::Opaque(Cow::Borrowed(bytes)),
            }
        }
        RawData::Opaque(Cow::Owned(bytes)) if format == Some("xml") => {
            match String::from_utf8(bytes) {
                Ok(text) => Data::Xml(Cow::Owned(text)),
                Err(e) => Data::Opaque(Cow::Owned(e.into_bytes())),
            }
        }
        RawData::Opaque(bytes) => Data::Opaque(bytes),
    }
}

/// Parses an Item onto the end of a plain list (an Alert's, Exec's, Status's or Results's).
fn parse_listed_item<'a>(
    src: &mut dyn EventSource<'a>,
    command_meta: Option<&Meta<'_>>,
    items: &mut Vec<Item<'a>>,
) -> Result<()> {
    room_for_one(src, items)?;
    items.push(Item::default());
    let last = items.len() - 1;
    let one_step = src.reads_in_one_step();
    parse_item(src, command_meta, &mut items[last], one_step)
}

fn parse_location<'a>(src: &mut dyn EventSource<'a>, name: &'static str) -> Result<Location<'a>> {
    if let Some(loc_uri) = src.plain_location() {
        // Nearly every location: one LocURI, read in one step.
        return Ok(Location {
            loc_uri: loc_uri?,
            loc_name: None,
        });
    }
    let mut loc_uri = None;
    let mut loc_name = None;
    while let Some((start, offset)) = src.next_child()? {
        let child = known(start, offset)?;
        match child {
            Tag::LocUri => set(&mut loc_uri, src.read_text()?, child, offset)?,
            Tag::LocName => set(&mut loc_name, src.read_text()?, child, offset)?,
            _ => return Err(misplaced(child.name(), name, offset)),
        }
    }
    let at = src.offset();
    let loc_uri = loc_uri.ok_or_else(|| missing("LocURI", name, at))?;
    let loc_name = match loc_name {
        None => None,
        Some(loc_name) => {
            // Its text was charged as read (when owned); here its box.
            src.charge(size_of::<Cow<str>>())?;
            Some(Box::new(loc_name))
        }
    };
    Ok(Location { loc_uri, loc_name })
}

fn parse_cred<'a>(src: &mut dyn EventSource<'a>) -> Result<Cred<'a>> {
    let mut meta = None;
    let mut data = None;
    while let Some((start, offset)) = src.next_child()? {
        let child = known(start, offset)?;
        match child {
            Tag::Meta => set(&mut meta, parse_meta(src)?, child, offset)?,
            Tag::Data => set(&mut data, src.read_text()?, child, offset)?,
            _ => return Err(misplaced(child.name(), "Cred", offset)),
        }
    }
    let at = src.offset();
    Ok(Cred {
        meta,
        data: data.ok_or_else(|| missing("Data", "Cred", at))?,
    })
}

fn parse_chal<'a>(src: &mut dyn EventSource<'a>) -> Result<Chal<'a>> {
    let mut meta = None;
    while let Some((start, offset)) = src.next_child()? {
        let child = known(start, offset)?;
        match child {
            Tag::Meta => set(&mut meta, parse_meta(src)?, child, offset)?,
            _ => return Err(misplaced(child.name(), "Chal", offset)),
        }
    }
    let at = src.offset();
    Ok(Chal {
        meta: meta.ok_or_else(|| missing("Meta", "Chal", at))?,
    })
}

/// Parses Meta; a `MetInf` wrapper (allowed by MetaInfo 1.2, used by a few peers) is
/// flattened into the same Meta.
fn parse_meta<'a>(src: &mut dyn EventSource<'a>) -> Result<Meta<'a>> {
    let mut meta = Meta::default();
    parse_meta_into(src, &mut meta, "Meta")?;
    Ok(meta)
}

/// As [`parse_meta`], into its box (a Meta is parsed where it will be kept, not copied
/// there).
fn parse_boxed_meta<'a>(src: &mut dyn EventSource<'a>) -> Result<Box<Meta<'a>>> {
    let mut meta = Box::<Meta>::default();
    parse_meta_into(src, &mut meta, "Meta")?;
    Ok(meta)
}

fn parse_meta_into<'a>(
    src: &mut dyn EventSource<'a>,
    meta: &mut Meta<'a>,
    parent: &str,
) -> Result<()> {
    // An Item's Meta is nearly always a Format and a Type, in that order: each in one step
    // (only into an empty slot: a MetInf inside may repeat what its Meta has, an error).
    let one_step = src.reads_in_one_step();
    if one_step && meta.format.is_none() {
        if let Some(text) = src.plain_leaf(Tag::Format) {
            meta.format = Some(text?);
        }
    }
    if one_step && meta.type_.is_none() {
        if let Some(text) = src.plain_leaf(Tag::Type) {
            meta.type_ = Some(text?);
        }
    }
    while let Some((start, offset)) = src.next_child()? {
        let child = known(start, offset)?;
        match child {
            Tag::Format => set(&mut meta.format, src.read_text()?, child, offset)?,
            Tag::Type => set(&mut meta.type_, src.read_text()?, child, offset)?,
            Tag::Mark => set(&mut more(src, meta)?.mark, src.read_text()?, child, offset)?,
            Tag::Size => set(
                &mut more(src, meta)?.size,
                number(src, child)?,
                child,
                offset,
            )?,
            Tag::NextNonce => {
                let slot = &mut more(src, meta)?.next_nonce;
                set(slot, src.read_text()?, child, offset)?
            }
            Tag::Version => set(
                &mut more(src, meta)?.version,
                src.read_text()?,
                child,
                offset,
            )?,
            Tag::MaxMsgSize => {
                let slot = &mut more(src, meta)?.max_msg_size;
                set(slot, number(src, child)?, child, offset)?
            }
            Tag::MaxObjSize => {
                let slot = &mut more(src, meta)?.max_obj_size;
                set(slot, number(src, child)?, child, offset)?
            }
            Tag::Emi => {
                let emi = &mut more(src, meta)?.emi;
                room_for_one(src, emi)?;
                emi.push(src.read_text()?)
            }
            Tag::MetInf if parent == "Meta" => parse_meta_into(src, meta, "MetInf")?,
            _ => return Err(misplaced(child.name(), parent, offset)),
        }
    }
    Ok(())
}

/// The elements of `meta` other than Format and Type, their box charged when it is made.
fn more<'m, 'a>(
    src: &mut dyn EventSource<'a>,
    meta: &'m mut Meta<'a>,
) -> Result<&'m mut MoreMeta<'a>> {
    if meta.more.is_none() {
        src.charge(size_of::<MoreMeta>())?;
    }
    Ok(meta.more_mut())
}

/// Reads a decimal element value (surrounding white space allowed).
fn number<'a>(src: &mut dyn EventSource<'a>, tag: Tag) -> Result<u64> {
    let offset = src.offset();
    let text = src.read_text()?;
    text.trim().parse().map_err(|_| {
        DecodeError::new(
            ErrorKind::InvalidValue {
                element: tag.name(),
                value: excerpt(&text),
            },
            offset,
        )
    })
}

/// Reads an empty flag element (`<Final/>`, `<NoResp/>`, `<MoreData/>`); white space inside is
/// tolerated, anything else is an error.
fn flag<'a>(src: &mut dyn EventSource<'a>) -> Result<bool> {
    let offset = src.offset();
    let text = src.read_text()?;
    if text.trim().is_empty() {
        Ok(true)
    } else {
        Err(DecodeError::new(
            ErrorKind::UnexpectedText(excerpt(&text)),
            offset,
        ))
    }
}

fn known(start: Start, offset: usize) -> Result<Tag> {
    match start {
        Start::Known(tag) => Ok(tag),
        Start::Unknown(kind) => Err(DecodeError::new(*kind, offset)),
    }
}

/// Reads `leaves` (empty slots) in one step each, in order, while the next child is the next
/// of them (see [`EventSource::plain_leaf`]); returns whether all of them came.
fn plain_leaves<'a, const N: usize>(
    src: &mut dyn EventSource<'a>,
    leaves: [(Tag, &mut Option<Cow<'a, str>>); N],
) -> Result<bool> {
    for (tag, slot) in leaves {
        match src.plain_leaf(tag) {
            Some(text) => *slot = Some(text?),
            None => return Ok(false),
        }
    }
    Ok(true)
}

fn set<T>(slot: &mut Option<T>, value: T, tag: Tag, offset: usize) -> Result<()> {
    if slot.is_some() {
        return Err(DecodeError::new(
            ErrorKind::DuplicateElement(tag.name()),
            offset,
        ));
    }
    *slot = Some(value);
    Ok(())
}

fn misplaced(element: &str, parent: &str, offset: usize) -> DecodeError {
    DecodeError::new(
        ErrorKind::MisplacedElement {
            element: element.to_owned(),
            parent: parent.to_owned(),
        },
        offset,
    )
}

fn missing(element: &'static str, parent: &'static str, offset: usize) -> DecodeError {
    DecodeError::new(ErrorKind::MissingElement { element, parent }, offset)
}

fn start_name(start: &Start) -> String {
    match start {
        Start::Known(tag) => tag.name().to_owned(),
        Start::Unknown(kind) => unknown_name(kind),
    }
}

fn unknown_name(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::UnknownElement(name) | ErrorKind::UnknownNamespace { element: name, .. } => {
            name.clone()
        }
        other => other.to_string(),
    }
}
