//! The commands of a SyncML DM body (RepPro §6.6, DM RepPro §4.1.6).

use std::borrow::Cow;

use super::{Chal, Cred, Item, Items, Meta, Refs};
use crate::error::DecodeError;

/// The `CmdRef` a Status for the SyncHdr carries.
pub const STATUS_FOR_HEADER: &str = "0";

/// One command of a SyncBody, or of an Atomic or Sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    /// `Add`: create nodes.
    Add(ItemCommand<'a>),
    /// `Alert`: session control, user interaction, generic alerts.
    Alert(Alert<'a>),
    /// `Atomic`: all or nothing.
    Atomic(Container<'a>),
    /// `Copy`: copy a node's value.
    Copy(ItemCommand<'a>),
    /// `Delete`: remove nodes and their subtrees.
    Delete(ItemCommand<'a>),
    /// `Exec`: run an executable node.
    Exec(Exec<'a>),
    /// `Get`: read values, child lists and properties.
    Get(ItemCommand<'a>),
    /// `Replace`: overwrite values and properties.
    Replace(ItemCommand<'a>),
    /// `Sequence`: run in order.
    Sequence(Container<'a>),
    /// `Status`: the outcome of a command of the peer.
    Status(Status<'a>),
    /// `Results`: the data a Get asked for.
    Results(Results<'a>),
    /// A command that could not be decoded. Only [`crate::decode_lenient`] and its kin return
    /// these; the session engine answers each with an error status and runs the rest.
    Malformed(Malformed<'a>),
}

impl<'a> Command<'a> {
    /// The element name (`Add`, `Alert`, ...), as used in a Status's `Cmd`.
    pub fn name(&self) -> &str {
        match self {
            Command::Add(_) => "Add",
            Command::Alert(_) => "Alert",
            Command::Atomic(_) => "Atomic",
            Command::Copy(_) => "Copy",
            Command::Delete(_) => "Delete",
            Command::Exec(_) => "Exec",
            Command::Get(_) => "Get",
            Command::Replace(_) => "Replace",
            Command::Sequence(_) => "Sequence",
            Command::Status(_) => "Status",
            Command::Results(_) => "Results",
            Command::Malformed(m) => &m.element,
        }
    }

    /// The command's `CmdID` (a malformed command may lack one).
    pub fn cmd_id(&self) -> Option<&str> {
        Some(match self {
            Command::Add(c)
            | Command::Copy(c)
            | Command::Delete(c)
            | Command::Get(c)
            | Command::Replace(c) => &c.cmd_id,
            Command::Alert(c) => &c.cmd_id,
            Command::Atomic(c) | Command::Sequence(c) => &c.cmd_id,
            Command::Exec(c) => &c.cmd_id,
            Command::Status(c) => &c.cmd_id,
            Command::Results(c) => &c.cmd_id,
            Command::Malformed(m) => return m.cmd_id.as_deref(),
        })
    }

    /// The command's items (none for containers, Status, Results and malformed commands).
    pub fn items(&self) -> &[Item<'a>] {
        match self {
            Command::Add(c)
            | Command::Copy(c)
            | Command::Delete(c)
            | Command::Get(c)
            | Command::Replace(c) => &c.items,
            Command::Alert(c) => &c.items,
            Command::Exec(c) => &c.items,
            _ => &[],
        }
    }

    /// Whether this command or any command nested in it is [`Command::Malformed`].
    pub fn first_malformed(&self) -> Option<&Malformed<'a>> {
        match self {
            Command::Malformed(m) => Some(m),
            Command::Atomic(c) | Command::Sequence(c) => {
                c.commands.iter().find_map(Command::first_malformed)
            }
            _ => None,
        }
    }
}

/// The shape shared by Add, Copy, Delete, Get and Replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemCommand<'a> {
    /// `CmdID`.
    pub cmd_id: Cow<'a, str>,
    /// `NoResp`: no Status wanted.
    pub no_resp: bool,
    /// `Cred` (not used by DM, kept when present).
    pub cred: Option<Box<Cred<'a>>>,
    /// `Meta` applying to every item.
    pub meta: Option<Box<Meta<'a>>>,
    /// `Item`s, one or more (one held in place).
    pub items: Items<'a>,
}

impl<'a> ItemCommand<'a> {
    /// A command with `items` and no Meta.
    pub fn new(cmd_id: impl Into<Cow<'a, str>>, items: impl Into<Items<'a>>) -> Self {
        ItemCommand {
            cmd_id: cmd_id.into(),
            no_resp: false,
            cred: None,
            meta: None,
            items: items.into(),
        }
    }

    /// A command with no CmdID and no items yet, which the decoder fills in its place.
    pub(crate) const fn empty() -> Self {
        ItemCommand {
            cmd_id: Cow::Borrowed(""),
            no_resp: false,
            cred: None,
            meta: None,
            items: Items::new(),
        }
    }
}

/// `Alert` (DM RepPro §4.2): Data is the alert code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert<'a> {
    /// `CmdID`.
    pub cmd_id: Cow<'a, str>,
    /// `NoResp`.
    pub no_resp: bool,
    /// `Cred`.
    pub cred: Option<Box<Cred<'a>>>,
    /// `Data`: the alert code (1100–1104, 1200, 1201, 1222–1226, ...).
    pub data: Option<Cow<'a, str>>,
    /// `Correlator` (generic alert answering an Exec).
    pub correlator: Option<Cow<'a, str>>,
    /// `Item`s: UI parameters and texts, or generic alert payloads.
    pub items: Vec<Item<'a>>,
}

impl<'a> Alert<'a> {
    /// An alert with `code` and no items.
    pub fn new(cmd_id: impl Into<Cow<'a, str>>, code: u16) -> Self {
        Alert {
            cmd_id: cmd_id.into(),
            no_resp: false,
            cred: None,
            data: Some(code_text(code)),
            correlator: None,
            items: Vec::new(),
        }
    }

    /// The alert code, when Data is a number.
    pub fn code(&self) -> Option<u16> {
        self.data.as_deref()?.trim().parse().ok()
    }
}

/// `Exec`: run an executable node, with an optional Correlator for an asynchronous result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exec<'a> {
    /// `CmdID`.
    pub cmd_id: Cow<'a, str>,
    /// `NoResp`.
    pub no_resp: bool,
    /// `Cred`.
    pub cred: Option<Box<Cred<'a>>>,
    /// `Meta`.
    pub meta: Option<Box<Meta<'a>>>,
    /// `Correlator`, echoed by the generic alert that reports the result.
    pub correlator: Option<Cow<'a, str>>,
    /// `Item`s: the node to run, its argument in Data.
    pub items: Vec<Item<'a>>,
}

/// `Atomic` and `Sequence`: a list of commands run together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container<'a> {
    /// `CmdID`.
    pub cmd_id: Cow<'a, str>,
    /// `NoResp`.
    pub no_resp: bool,
    /// `Meta`.
    pub meta: Option<Box<Meta<'a>>>,
    /// The nested commands in document order.
    pub commands: Vec<Command<'a>>,
}

/// `Status` (RepPro §6.6.17): the outcome of one command (or of a header) of the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status<'a> {
    /// `CmdID`.
    pub cmd_id: Cow<'a, str>,
    /// `MsgRef`: MsgID of the message that carried the command.
    pub msg_ref: Cow<'a, str>,
    /// `CmdRef`: CmdID of the command (`0` for the SyncHdr).
    pub cmd_ref: Cow<'a, str>,
    /// `Cmd`: the command's element name, or `SyncHdr`.
    pub cmd: Cow<'a, str>,
    /// `TargetRef`s: the command's item targets.
    pub target_refs: Refs<'a>,
    /// `SourceRef`s: the command's item sources.
    pub source_refs: Refs<'a>,
    /// `Cred`.
    pub cred: Option<Box<Cred<'a>>>,
    /// `Chal`: an authentication challenge.
    pub chal: Option<Box<Chal<'a>>>,
    /// `Data`: the status code.
    pub data: Cow<'a, str>,
    /// `Item`s: extra data (user input, the failing implicit-Add target, ...).
    pub items: Vec<Item<'a>>,
}

impl<'a> Status<'a> {
    /// A status answering command `cmd_ref` (named `cmd`) of message `msg_ref` with `code`.
    pub fn new(
        cmd_id: impl Into<Cow<'a, str>>,
        msg_ref: impl Into<Cow<'a, str>>,
        cmd_ref: impl Into<Cow<'a, str>>,
        cmd: impl Into<Cow<'a, str>>,
        code: u16,
    ) -> Self {
        Status {
            cmd_id: cmd_id.into(),
            msg_ref: msg_ref.into(),
            cmd_ref: cmd_ref.into(),
            cmd: cmd.into(),
            target_refs: Refs::new(),
            source_refs: Refs::new(),
            cred: None,
            chal: None,
            data: code_text(code),
            items: Vec::new(),
        }
    }

    /// A Status answering `command` (CmdRef, Cmd, and a TargetRef and SourceRef for each of
    /// its items' Target and Source, as DM RepPro asks of a Status for a command that names
    /// nodes), with no CmdID yet. The status borrows what it repeats from `command`.
    pub fn for_command(msg_ref: &'a str, command: &'a Command<'_>, code: u16) -> Status<'a> {
        super::ItemStatus::for_command(msg_ref, command, code).to_status()
    }

    /// Sets the TargetRefs and SourceRefs to the Target and Source URIs of `items`, lent
    /// from them: the URIs of a single item (the common case) need no list of their own.
    pub fn refer_to_items<'i>(&mut self, items: &'a [Item<'i>])
    where
        'i: 'a,
    {
        self.target_refs = Refs::of_items(items, |item| item.target.as_ref());
        self.source_refs = Refs::of_items(items, |item| item.source.as_ref());
    }

    /// The status code, when Data is a number.
    pub fn code(&self) -> Option<u16> {
        self.data.trim().parse().ok()
    }
}

/// `Results`: values returned for a Get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Results<'a> {
    /// `CmdID`.
    pub cmd_id: Cow<'a, str>,
    /// `MsgRef`.
    pub msg_ref: Option<Cow<'a, str>>,
    /// `CmdRef`: the Get's CmdID.
    pub cmd_ref: Cow<'a, str>,
    /// `Meta` applying to every item.
    pub meta: Option<Box<Meta<'a>>>,
    /// `TargetRef`.
    pub target_ref: Option<Cow<'a, str>>,
    /// `SourceRef`.
    pub source_ref: Option<Cow<'a, str>>,
    /// `Item`s: one per value, Source = node URI.
    pub items: Vec<Item<'a>>,
}

/// A command whose content could not be decoded; the rest of the message still was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed<'a> {
    /// The command's element name as written (may be an unknown element).
    pub element: String,
    /// Its `CmdID`, when one could be read.
    pub cmd_id: Option<Cow<'a, str>>,
    /// What was wrong.
    pub error: DecodeError,
}

/// A status or alert code as text, without the formatting machinery (a Status is built for
/// every command): the codes a device sends most are static text, the others are formatted.
pub fn code_text(code: u16) -> Cow<'static, str> {
    Cow::Borrowed(match code {
        200 => "200",
        201 => "201",
        202 => "202",
        204 => "204",
        212 => "212",
        213 => "213",
        214 => "214",
        215 => "215",
        216 => "216",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        406 => "406",
        407 => "407",
        412 => "412",
        413 => "413",
        415 => "415",
        418 => "418",
        424 => "424",
        500 => "500",
        506 => "506",
        507 => "507",
        516 => "516",
        1200 => "1200",
        1201 => "1201",
        1222 => "1222",
        1223 => "1223",
        1226 => "1226",
        _ => return Cow::Owned(code.to_string()),
    })
}

#[cfg(test)]
mod code_text_tests {
    #[test]
    fn code_text_is_the_decimal_number() {
        for code in [
            0u16,
            7,
            42,
            99,
            100,
            200,
            212,
            999,
            1000,
            1226,
            9999,
            10000,
            u16::MAX,
        ] {
            assert_eq!(super::code_text(code), code.to_string());
        }
    }
}
