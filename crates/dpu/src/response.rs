//! A response to one of the server's commands, waiting for its CmdID ([`Response`]): most
//! are the Status of a command that names nodes, held as references to that command
//! ([`ItemStatus`]) and written straight into the reply, as is the Results of a Get that
//! found one node ([`NodeResults`]); the rest are whole commands.

use omadm_syncml::{code_text, Command, ItemStatus, NodeResults};

/// A response waiting for its CmdID (assigned as the reply is written). It borrows what it
/// repeats (MsgRef, CmdRef, TargetRefs) from the command it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Response<'c> {
    /// The Status of a command that names nodes: no Status model is built for it.
    Status(ItemStatus<'c>),
    /// The Results of a Get that found one node: no Results model is built for it.
    Results(NodeResults<'c>),
    /// Any other response (a Status with Items, Results, ...).
    Command(Command<'c>),
}

impl<'c> From<Command<'c>> for Response<'c> {
    fn from(command: Command<'c>) -> Self {
        Response::Command(command)
    }
}

impl<'c> Response<'c> {
    /// The response as a command (an [`ItemStatus`] becomes its [`omadm_syncml::Status`],
    /// a [`NodeResults`] its [`omadm_syncml::Results`]).
    pub(crate) fn into_command(self) -> Command<'c> {
        match self {
            Response::Status(status) => Command::Status(status.to_status()),
            Response::Results(results) => Command::Results(results.into_results()),
            Response::Command(command) => command,
        }
    }

    /// Whether this is a Status answering the command with CmdID `cmd_id`.
    pub(crate) fn is_status_for(&self, cmd_id: &str) -> bool {
        match self {
            Response::Status(s) => s.cmd_ref == cmd_id,
            Response::Command(Command::Status(s)) => s.cmd_ref == cmd_id,
            Response::Results(_) | Response::Command(_) => false,
        }
    }

    /// Whether this is a Results.
    pub(crate) fn is_results(&self) -> bool {
        matches!(
            self,
            Response::Results(_) | Response::Command(Command::Results(_))
        )
    }

    /// Gives a Status the code `code` (anything else is left as it is).
    pub(crate) fn set_status_code(&mut self, code: u16) {
        match self {
            Response::Status(s) => s.code = code,
            Response::Command(Command::Status(s)) => s.data = code_text(code),
            Response::Results(_) | Response::Command(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use omadm_syncml::{Item, Results, Status};

    #[test]
    fn a_status_is_found_and_recoded_however_it_is_held() {
        let items = [Item::target("./a")];
        let lent = ItemStatus {
            msg_ref: "1",
            cmd_ref: "4",
            cmd: "Add",
            items: &items,
            code: 200,
        };
        let mut responses = [
            Response::Status(lent),
            Response::from(Command::Status(Status::new("", "1", "4", "Replace", 200))),
            Response::from(Command::Results(Results {
                cmd_id: "".into(),
                msg_ref: None,
                cmd_ref: "4".into(),
                meta: None,
                target_ref: None,
                source_ref: None,
                items: Vec::new(),
            })),
            Response::Results(NodeResults {
                msg_ref: "1",
                cmd_ref: "4",
                uri: "./a".into(),
                format: "int".into(),
                type_: "text/plain".into(),
                data: Some(b"7".to_vec()),
            }),
        ];
        let found: Vec<bool> = responses.iter().map(|r| r.is_status_for("4")).collect();
        assert_eq!(found, [true, true, false, false]);
        assert!(responses.iter().all(|r| !r.is_status_for("5")));
        assert_eq!(responses.iter().filter(|r| r.is_results()).count(), 2);
        for r in &mut responses {
            r.set_status_code(216);
        }
        let [lent, built, results, node] = responses.map(Response::into_command);
        let Command::Status(lent) = lent else {
            panic!("{lent:?}")
        };
        assert_eq!(
            (lent.code(), lent.target_refs.to_vec()),
            (Some(216), vec!["./a".into()])
        );
        assert!(matches!(built, Command::Status(s) if s.code() == Some(216)));
        assert!(matches!(results, Command::Results(_)));
        // A node's Results is left as it is, and becomes the Results it stands for.
        let Command::Results(node) = node else {
            panic!("{node:?}")
        };
        assert_eq!(
            (node.cmd_ref.as_ref(), node.items[0].source_uri()),
            ("4", Some("./a"))
        );
        assert_eq!(
            node.items[0].data,
            Some(omadm_syncml::Data::Text("7".into()))
        );
    }
}
