//! The Status of a command that names nodes, held as references to what it answers
//! ([`ItemStatus`]): the session engine writes one for nearly every command it executes, so
//! it is written straight from the command's items, with no [`Status`] built for it.

use super::{code_text, Command, Item, Status};

/// A Status answering an Add, Copy, Delete, Exec, Get or Replace (or any command refused
/// whole): CmdRef, Cmd, one TargetRef and one SourceRef for each Target and Source of
/// `items` (DM RepPro asks them of a Status for a command that names nodes), and a code.
/// Its CmdID is given as it is written ([`MessageWriter::push_item_status_within`]).
/// [`ItemStatus::to_status`] gives the same Status as a [`Status`].
///
/// [`MessageWriter::push_item_status_within`]: crate::MessageWriter::push_item_status_within
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemStatus<'a> {
    /// `MsgRef`: MsgID of the message that carried the command.
    pub msg_ref: &'a str,
    /// `CmdRef`: CmdID of the command.
    pub cmd_ref: &'a str,
    /// `Cmd`: the command's element name.
    pub cmd: &'a str,
    /// The items the status answers: their Target and Source URIs are its TargetRefs and
    /// SourceRefs.
    pub items: &'a [Item<'a>],
    /// `Data`: the status code.
    pub code: u16,
}

impl<'a> ItemStatus<'a> {
    /// The status answering `command` (of message `msg_ref`) with `code`, lent from it.
    pub fn for_command(msg_ref: &'a str, command: &'a Command<'_>, code: u16) -> Self {
        ItemStatus {
            msg_ref,
            cmd_ref: command.cmd_id().unwrap_or(""),
            cmd: command.name(),
            items: command.items(),
            code,
        }
    }

    /// The same status as a [`Status`] with no CmdID, its references lent from `items`.
    pub fn to_status(&self) -> Status<'a> {
        let mut status = Status::new("", self.msg_ref, self.cmd_ref, self.cmd, self.code);
        status.refer_to_items(self.items);
        status
    }

    /// The status code as its text.
    pub fn code_text(&self) -> std::borrow::Cow<'static, str> {
        code_text(self.code)
    }

    /// The TargetRefs: each item's Target URI, in order.
    pub fn target_refs(&self) -> impl Iterator<Item = &'a str> {
        self.items
            .iter()
            .filter_map(|item| item.target.as_ref())
            .map(|at| &*at.loc_uri)
    }

    /// The SourceRefs: each item's Source URI, in order.
    pub fn source_refs(&self) -> impl Iterator<Item = &'a str> {
        self.items
            .iter()
            .filter_map(|item| item.source.as_ref())
            .map(|at| &*at.loc_uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_the_status_it_stands_for() {
        let items = [
            Item::target("./a"),
            Item::source("./s"),
            Item::target("./b"),
            Item::default(),
        ];
        let status = ItemStatus {
            msg_ref: "3",
            cmd_ref: "7",
            cmd: "Copy",
            items: &items,
            code: 418,
        };
        let full = status.to_status();
        assert_eq!(full.cmd_id, "");
        assert_eq!(
            (&*full.msg_ref, &*full.cmd_ref, &*full.cmd),
            ("3", "7", "Copy")
        );
        assert_eq!(full.target_refs.to_vec(), ["./a", "./b"]);
        assert_eq!(full.source_refs.to_vec(), ["./s"]);
        assert_eq!(status.target_refs().collect::<Vec<_>>(), ["./a", "./b"]);
        assert_eq!(status.source_refs().collect::<Vec<_>>(), ["./s"]);
        assert_eq!(full.code(), Some(418));
        assert_eq!(status.code_text(), "418");
        assert!(full.items.is_empty() && full.cred.is_none() && full.chal.is_none());
    }
}
