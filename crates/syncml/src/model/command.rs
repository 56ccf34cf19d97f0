//! The commands of a SyncML DM body (RepPro §6.6, DM RepPro §4.1.6).

use super::{Chal, Cred, Item, Meta};
use crate::error::DecodeError;

/// The `CmdRef` a Status for the SyncHdr carries.
pub const STATUS_FOR_HEADER: &str = "0";

/// One command of a SyncBody, or of an Atomic or Sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `Add`: create nodes.
    Add(ItemCommand),
    /// `Alert`: session control, user interaction, generic alerts.
    Alert(Alert),
    /// `Atomic`: all or nothing.
    Atomic(Container),
    /// `Copy`: copy a node's value.
    Copy(ItemCommand),
    /// `Delete`: remove nodes and their subtrees.
    Delete(ItemCommand),
    /// `Exec`: run an executable node.
    Exec(Exec),
    /// `Get`: read values, child lists and properties.
    Get(ItemCommand),
    /// `Replace`: overwrite values and properties.
    Replace(ItemCommand),
    /// `Sequence`: run in order.
    Sequence(Container),
    /// `Status`: the outcome of a command of the peer.
    Status(Status),
    /// `Results`: the data a Get asked for.
    Results(Results),
    /// A command that could not be decoded. Only [`crate::decode_lenient`] and its kin return
    /// these; the session engine answers each with an error status and runs the rest.
    Malformed(Malformed),
}

impl Command {
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
    pub fn items(&self) -> &[Item] {
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
    pub fn first_malformed(&self) -> Option<&Malformed> {
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
pub struct ItemCommand {
    /// `CmdID`.
    pub cmd_id: String,
    /// `NoResp`: no Status wanted.
    pub no_resp: bool,
    /// `Cred` (not used by DM, kept when present).
    pub cred: Option<Box<Cred>>,
    /// `Meta` applying to every item.
    pub meta: Option<Box<Meta>>,
    /// `Item`s, one or more.
    pub items: Vec<Item>,
}

impl ItemCommand {
    /// A command with one item and no Meta.
    pub fn new(cmd_id: impl Into<String>, items: Vec<Item>) -> Self {
        ItemCommand {
            cmd_id: cmd_id.into(),
            no_resp: false,
            cred: None,
            meta: None,
            items,
        }
    }
}

/// `Alert` (DM RepPro §4.2): Data is the alert code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// `CmdID`.
    pub cmd_id: String,
    /// `NoResp`.
    pub no_resp: bool,
    /// `Cred`.
    pub cred: Option<Box<Cred>>,
    /// `Data`: the alert code (1100–1104, 1200, 1201, 1222–1226, ...).
    pub data: Option<String>,
    /// `Correlator` (generic alert answering an Exec).
    pub correlator: Option<String>,
    /// `Item`s: UI parameters and texts, or generic alert payloads.
    pub items: Vec<Item>,
}

impl Alert {
    /// An alert with `code` and no items.
    pub fn new(cmd_id: impl Into<String>, code: u16) -> Self {
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
pub struct Exec {
    /// `CmdID`.
    pub cmd_id: String,
    /// `NoResp`.
    pub no_resp: bool,
    /// `Cred`.
    pub cred: Option<Box<Cred>>,
    /// `Meta`.
    pub meta: Option<Box<Meta>>,
    /// `Correlator`, echoed by the generic alert that reports the result.
    pub correlator: Option<String>,
    /// `Item`s: the node to run, its argument in Data.
    pub items: Vec<Item>,
}

/// `Atomic` and `Sequence`: a list of commands run together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// `CmdID`.
    pub cmd_id: String,
    /// `NoResp`.
    pub no_resp: bool,
    /// `Meta`.
    pub meta: Option<Box<Meta>>,
    /// The nested commands in document order.
    pub commands: Vec<Command>,
}

/// `Status` (RepPro §6.6.17): the outcome of one command (or of a header) of the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// `CmdID`.
    pub cmd_id: String,
    /// `MsgRef`: MsgID of the message that carried the command.
    pub msg_ref: String,
    /// `CmdRef`: CmdID of the command (`0` for the SyncHdr).
    pub cmd_ref: String,
    /// `Cmd`: the command's element name, or `SyncHdr`.
    pub cmd: String,
    /// `TargetRef`s: the command's item targets.
    pub target_refs: Vec<String>,
    /// `SourceRef`s: the command's item sources.
    pub source_refs: Vec<String>,
    /// `Cred`.
    pub cred: Option<Box<Cred>>,
    /// `Chal`: an authentication challenge.
    pub chal: Option<Box<Chal>>,
    /// `Data`: the status code.
    pub data: String,
    /// `Item`s: extra data (user input, the failing implicit-Add target, ...).
    pub items: Vec<Item>,
}

impl Status {
    /// A status answering command `cmd_ref` (named `cmd`) of message `msg_ref` with `code`.
    pub fn new(
        cmd_id: impl Into<String>,
        msg_ref: impl Into<String>,
        cmd_ref: impl Into<String>,
        cmd: impl Into<String>,
        code: u16,
    ) -> Self {
        Status {
            cmd_id: cmd_id.into(),
            msg_ref: msg_ref.into(),
            cmd_ref: cmd_ref.into(),
            cmd: cmd.into(),
            target_refs: Vec::new(),
            source_refs: Vec::new(),
            cred: None,
            chal: None,
            data: code_text(code),
            items: Vec::new(),
        }
    }

    /// A Status answering `command` (CmdRef, Cmd, and a TargetRef and SourceRef for each of
    /// its items' Target and Source, as DM RepPro asks of a Status for a command that names
    /// nodes), with no CmdID yet.
    pub fn for_command(msg_ref: &str, command: &Command, code: u16) -> Status {
        let mut s = Status::new(
            "",
            msg_ref,
            command.cmd_id().unwrap_or(""),
            command.name(),
            code,
        );
        for item in command.items() {
            if let Some(t) = item.target_uri() {
                s.target_refs.push(t.to_owned());
            }
            if let Some(src) = item.source_uri() {
                s.source_refs.push(src.to_owned());
            }
        }
        s
    }

    /// The status code, when Data is a number.
    pub fn code(&self) -> Option<u16> {
        self.data.trim().parse().ok()
    }
}

/// `Results`: values returned for a Get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Results {
    /// `CmdID`.
    pub cmd_id: String,
    /// `MsgRef`.
    pub msg_ref: Option<String>,
    /// `CmdRef`: the Get's CmdID.
    pub cmd_ref: String,
    /// `Meta` applying to every item.
    pub meta: Option<Box<Meta>>,
    /// `TargetRef`.
    pub target_ref: Option<String>,
    /// `SourceRef`.
    pub source_ref: Option<String>,
    /// `Item`s: one per value, Source = node URI.
    pub items: Vec<Item>,
}

/// A command whose content could not be decoded; the rest of the message still was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// The command's element name as written (may be an unknown element).
    pub element: String,
    /// Its `CmdID`, when one could be read.
    pub cmd_id: Option<String>,
    /// What was wrong.
    pub error: DecodeError,
}

/// A status or alert code as text, without the formatting machinery (a Status is built for
/// every command).
pub fn code_text(code: u16) -> String {
    if (1000..=9999).contains(&code) {
        let digits = [
            b'0' + (code / 1000) as u8,
            b'0' + (code / 100 % 10) as u8,
            b'0' + (code / 10 % 10) as u8,
            b'0' + (code % 10) as u8,
        ];
        return digits.iter().map(|&d| d as char).collect();
    }
    if (100..=999).contains(&code) {
        let digits = [
            b'0' + (code / 100) as u8,
            b'0' + (code / 10 % 10) as u8,
            b'0' + (code % 10) as u8,
        ];
        return digits.iter().map(|&d| d as char).collect();
    }
    code.to_string()
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
