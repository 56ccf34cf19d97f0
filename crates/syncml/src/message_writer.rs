//! Writing a message command by command ([`MessageWriter`]), for a sender that fits its
//! commands into the peer's MaxMsgSize as it produces them: each command is encoded once,
//! straight into the message, measured as written, and taken back when it does not fit.

use crate::emit;
use crate::model::{Command, DmVersion, ItemStatus, NodeResults, SyncHdr};
use crate::wbxml::writer::WbxmlSink;
use crate::xml::writer::XmlSink;
use crate::Encoding;

/// The sink of either encoding.
enum AnySink {
    Xml(XmlSink),
    Wbxml(WbxmlSink),
}

/// What [`MessageWriter::write_within`] writes.
#[derive(Clone, Copy)]
enum Piece<'p, 'c> {
    Command(&'p Command<'c>),
    ItemStatus(&'p ItemStatus<'c>),
    NodeResults(&'p NodeResults<'c>),
}

/// A message being written: the header and the opening of the body are written by
/// [`MessageWriter::new`], commands by [`MessageWriter::push`] or
/// [`MessageWriter::push_within`], and [`MessageWriter::finish`] closes it. The bytes are
/// those [`crate::encode`] writes for the same message.
pub struct MessageWriter {
    sink: AnySink,
    commands: usize,
}

/// Octets [`MessageWriter::finish`] may add: `<Final/></SyncBody></SyncML>` in XML (a page
/// switch, Final and two ENDs in WBXML).
pub const CLOSING_LEN: usize = 28;

impl MessageWriter {
    /// Starts a message with `header` (the dialect is its VerDTD's, 1.2 when unknown).
    pub fn new(header: &SyncHdr<'_>, encoding: Encoding) -> Self {
        let capacity = match encoding {
            Encoding::Xml => 1024,
            Encoding::Wbxml => 512,
        };
        Self::with_capacity(header, encoding, capacity)
    }

    /// As [`MessageWriter::new`], with room for `capacity` octets before the buffer grows
    /// (a sender that can tell how large the message will be saves the copies a growing
    /// buffer makes).
    pub fn with_capacity(header: &SyncHdr<'_>, encoding: Encoding, capacity: usize) -> Self {
        let version = DmVersion::from_ver_dtd(&header.ver_dtd).unwrap_or(DmVersion::V1_2);
        let mut sink = match encoding {
            Encoding::Xml => AnySink::Xml(XmlSink::with_capacity(capacity)),
            Encoding::Wbxml => AnySink::Wbxml(WbxmlSink::new(version, capacity)),
        };
        match &mut sink {
            AnySink::Xml(s) => emit::emit_opening(version, header, s),
            AnySink::Wbxml(s) => emit::emit_opening(version, header, s),
        }
        MessageWriter { sink, commands: 0 }
    }

    /// Octets the message's buffer has room for before it must grow.
    pub fn capacity(&self) -> usize {
        match &self.sink {
            AnySink::Xml(s) => s.out.capacity(),
            AnySink::Wbxml(s) => s.out.capacity(),
        }
    }

    /// Octets written so far.
    pub fn len(&self) -> usize {
        match &self.sink {
            AnySink::Xml(s) => s.out.len(),
            AnySink::Wbxml(s) => s.out.len(),
        }
    }

    /// Whether no octet is written (never: the header is).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Commands written so far.
    pub fn commands(&self) -> usize {
        self.commands
    }

    /// Writes `command`; returns the octets it took.
    pub fn push(&mut self, command: &Command<'_>) -> usize {
        self.write_within(Piece::Command(command), None, usize::MAX)
            .unwrap_or(0)
    }

    /// Writes `command` if the message stays within `limit` octets; else leaves the message
    /// as it was and returns `None`. Returns the octets it took.
    pub fn push_within(&mut self, command: &Command<'_>, limit: usize) -> Option<usize> {
        self.write_within(Piece::Command(command), None, limit)
    }

    /// As [`MessageWriter::push_within`], the command written with CmdID `cmd_id` whatever
    /// its own (for a sender numbering its commands as they go out).
    pub fn push_numbered_within(
        &mut self,
        command: &Command<'_>,
        cmd_id: u32,
        limit: usize,
    ) -> Option<usize> {
        self.write_numbered_within(Piece::Command(command), cmd_id, limit)
    }

    /// As [`MessageWriter::push_numbered_within`] for a Status held as references to what
    /// it answers: the same bytes as its [`ItemStatus::to_status`], without building it.
    pub fn push_item_status_within(
        &mut self,
        status: &ItemStatus<'_>,
        cmd_id: u32,
        limit: usize,
    ) -> Option<usize> {
        self.write_numbered_within(Piece::ItemStatus(status), cmd_id, limit)
    }

    /// As [`MessageWriter::push_numbered_within`] for a Results held as the node it
    /// answers with: the same bytes as its [`NodeResults::into_results`], without building it.
    pub fn push_node_results_within(
        &mut self,
        results: &NodeResults<'_>,
        cmd_id: u32,
        limit: usize,
    ) -> Option<usize> {
        self.write_numbered_within(Piece::NodeResults(results), cmd_id, limit)
    }

    /// [`MessageWriter::write_within`] with CmdID `cmd_id`.
    #[inline(always)]
    fn write_numbered_within(
        &mut self,
        piece: Piece<'_, '_>,
        cmd_id: u32,
        limit: usize,
    ) -> Option<usize> {
        let mut digits = [0u8; 20];
        self.write_within(
            piece,
            Some(emit::decimal(cmd_id.into(), &mut digits)),
            limit,
        )
    }

    /// Writes `piece` (with CmdID `cmd_id` when given) if the message stays within `limit`
    /// octets; else takes it back.
    // In line: each caller passes one kind of piece, so each keeps only its own arms.
    #[inline(always)]
    fn write_within(
        &mut self,
        piece: Piece<'_, '_>,
        cmd_id: Option<&str>,
        limit: usize,
    ) -> Option<usize> {
        let mark = self.mark();
        let before = self.len();
        match (&mut self.sink, piece) {
            (AnySink::Xml(s), Piece::Command(c)) => emit::emit_command_as(c, cmd_id, s),
            (AnySink::Wbxml(s), Piece::Command(c)) => emit::emit_command_as(c, cmd_id, s),
            (AnySink::Xml(s), Piece::ItemStatus(status)) => {
                emit::emit_item_status(status, cmd_id.unwrap_or(""), s)
            }
            (AnySink::Wbxml(s), Piece::ItemStatus(status)) => {
                emit::emit_item_status(status, cmd_id.unwrap_or(""), s)
            }
            (AnySink::Xml(s), Piece::NodeResults(results)) => {
                emit::emit_node_results(results, cmd_id.unwrap_or(""), s)
            }
            (AnySink::Wbxml(s), Piece::NodeResults(results)) => {
                emit::emit_node_results(results, cmd_id.unwrap_or(""), s)
            }
        }
        self.commands += 1;
        if self.len() <= limit {
            return Some(self.len() - before);
        }
        self.rewind(mark);
        None
    }

    /// Closes the body (with `Final` when `is_final`) and the message; returns its bytes.
    pub fn finish(self, is_final: bool) -> Vec<u8> {
        match self.sink {
            AnySink::Xml(mut s) => {
                emit::emit_closing(is_final, &mut s);
                s.out
            }
            AnySink::Wbxml(mut s) => {
                emit::emit_closing(is_final, &mut s);
                s.out
            }
        }
    }

    fn mark(&self) -> (usize, u8) {
        match &self.sink {
            AnySink::Xml(s) => (s.out.len(), 0),
            AnySink::Wbxml(s) => (s.out.len(), s.page()),
        }
    }

    fn rewind(&mut self, (len, page): (usize, u8)) {
        self.commands -= 1;
        match &mut self.sink {
            AnySink::Xml(s) => s.out.truncate(len),
            AnySink::Wbxml(s) => {
                s.out.truncate(len);
                s.set_page(page);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Alert, Item, ItemCommand, ItemStatus, Location, Meta, NodeResults, Status, SyncBody, SyncMl,
    };

    fn message() -> SyncMl<'static> {
        let header = SyncHdr::new(
            DmVersion::V1_2,
            "1",
            "2",
            Location::new("srv"),
            Location::new("dev"),
        );
        let mut status = Status::new("1", "1", "0", "SyncHdr", 200);
        status.target_refs.push("dev".into());
        let results = Command::Replace(ItemCommand::new(
            "2",
            vec![Item::source("./DevInfo/Lang")
                .with_meta(Meta::format_type("chr", "text/plain"))
                .with_data("en-<us>")],
        ));
        SyncMl {
            header,
            body: SyncBody {
                commands: vec![
                    Command::Status(status),
                    results,
                    Command::Alert(Alert::new("3", 1222)),
                ],
                is_final: true,
            },
        }
    }

    #[test]
    fn writes_the_bytes_encode_writes() {
        for encoding in [Encoding::Xml, Encoding::Wbxml] {
            let msg = message();
            let mut writer = MessageWriter::new(&msg.header, encoding);
            for c in &msg.body.commands {
                writer.push(c);
            }
            assert_eq!(writer.commands(), 3);
            assert_eq!(writer.finish(true), crate::encode(&msg, encoding));
        }
    }

    #[test]
    fn an_item_status_is_written_as_the_status_it_stands_for() {
        let items = [
            Item::target("./a&b"),
            Item::source("./s"),
            Item::default(),
            Item::target("./c").with_data("x"),
        ];
        let header = message().header;
        for encoding in [Encoding::Xml, Encoding::Wbxml] {
            for (items, code) in [
                (&items[..0], 200),
                (&items[..1], 404),
                (&items[1..2], 1234),
                (&items[2..3], 0),
                (&items[3..], 500),
                (&items[..], u16::MAX),
            ] {
                let status = ItemStatus {
                    msg_ref: "12",
                    cmd_ref: "3",
                    cmd: "Copy",
                    items,
                    code,
                };
                let mut direct = MessageWriter::new(&header, encoding);
                let mut built = MessageWriter::new(&header, encoding);
                let len = direct.push_item_status_within(&status, 1000, usize::MAX);
                let expected = built.push_numbered_within(
                    &Command::Status(status.to_status()),
                    1000,
                    usize::MAX,
                );
                assert_eq!(len, expected);
                assert_eq!(direct.commands(), 1);
                // Beyond the limit: taken back whole.
                assert_eq!(
                    direct.push_item_status_within(&status, 1001, direct.len()),
                    None
                );
                assert_eq!(direct.commands(), 1);
                assert_eq!(
                    direct.finish(true),
                    built.finish(true),
                    "{encoding:?} {status:?}"
                );
            }
        }
    }

    #[test]
    fn a_node_results_is_written_as_the_results_it_stands_for() {
        let header = message().header;
        let values: [Option<&[u8]>; 5] = [
            None,
            Some(b""),
            Some(b"en-<us> & \"q\""),
            Some(b"\xff\x00\x01 not UTF-8"),
            Some("caf\u{e9} ]]> \u{1F600}".as_bytes()),
        ];
        let kinds = [
            ("chr", "text/plain"),
            ("chr", ""),
            ("node", ""),
            ("int", "text/plain"),
            ("b64", "application/x-&<type>"),
            ("xml", "text/xml"),
        ];
        for encoding in [Encoding::Xml, Encoding::Wbxml] {
            for value in values {
                for (format, type_) in kinds {
                    for uri in ["./a/b", "./x&y/<z>"] {
                        let results = NodeResults {
                            msg_ref: "12",
                            cmd_ref: "3",
                            uri: uri.into(),
                            format: format.into(),
                            type_: type_.into(),
                            data: value.map(<[u8]>::to_vec),
                        };
                        let mut direct = MessageWriter::new(&header, encoding);
                        let mut built = MessageWriter::new(&header, encoding);
                        let len = direct.push_node_results_within(&results, 1000, usize::MAX);
                        let expected = built.push_numbered_within(
                            &Command::Results(results.clone().into_results()),
                            1000,
                            usize::MAX,
                        );
                        assert_eq!(len, expected);
                        assert_eq!(direct.commands(), 1);
                        // Beyond the limit: taken back whole (and the WBXML page with it).
                        assert_eq!(
                            direct.push_node_results_within(&results, 1001, direct.len()),
                            None
                        );
                        assert_eq!(direct.commands(), 1);
                        assert_eq!(
                            direct.finish(true),
                            built.finish(true),
                            "{encoding:?} {results:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_command_beyond_the_limit_is_taken_back_whole() {
        for encoding in [Encoding::Xml, Encoding::Wbxml] {
            let msg = message();
            let mut writer = MessageWriter::new(&msg.header, encoding);
            writer.push(&msg.body.commands[0]);
            let before = writer.len();
            // The Replace switches WBXML to the MetInf page: taking it back restores page 0.
            assert_eq!(writer.push_within(&msg.body.commands[1], before + 10), None);
            assert_eq!(writer.len(), before);
            let len = writer
                .push_within(&msg.body.commands[2], usize::MAX)
                .unwrap();
            assert!(len > 0);
            let mut expected = msg.clone();
            expected.body.commands.remove(1);
            assert_eq!(writer.finish(true), crate::encode(&expected, encoding));
            let closing = crate::encode(&expected, encoding).len()
                - crate::encode(
                    &SyncMl {
                        body: SyncBody {
                            is_final: false,
                            ..expected.body.clone()
                        },
                        ..expected.clone()
                    },
                    encoding,
                )
                .len();
            assert!(closing <= CLOSING_LEN);
        }
    }
}
