//! The reply being built ([`ReplyBuilder`]): responses are numbered and written into the
//! message as they are produced, each measured as written against the server's MaxMsgSize;
//! what does not fit is kept, owning its text, for the next message. A Results too large for
//! any message is split: one Results per Item, and an Item's Data over several messages as a
//! large object (MoreData, Size on the first chunk).

use std::borrow::Cow;
use std::collections::VecDeque;

use omadm_syncml::{
    command_len, Alert, Command, Data, Encoding, Item, MessageWriter, SyncHdr, CLOSING_LEN,
};

use crate::response::Response;

/// The least room a reply's buffer starts with.
const MIN_CAPACITY: usize = 1024;

/// The most room a reply's buffer starts with, whatever it answers: beyond it the buffer
/// grows as it is written.
const MAX_CAPACITY: usize = 256 * 1024;

/// About how many octets of XML a SyncML message takes for each octet of its WBXML form: 2.5
/// to 2.8 in the samples, for a server's packages and a device's replies alike (tags spelled
/// out where WBXML has one token, namespaces, escapes).
const XML_OCTETS_PER_WBXML_OCTET: usize = 3;

/// What a message of `octets` in `from` takes in `to`, about.
fn in_encoding(octets: usize, from: Encoding, to: Encoding) -> usize {
    match (from, to) {
        (Encoding::Wbxml, Encoding::Xml) => octets.saturating_mul(XML_OCTETS_PER_WBXML_OCTET),
        (Encoding::Xml, Encoding::Wbxml) => octets / XML_OCTETS_PER_WBXML_OCTET,
        _ => octets,
    }
}

/// The room a reply's buffer starts with, answering `answered` octets (counted in the reply's
/// encoding) under `limit`.
fn capacity(answered: usize, limit: usize) -> usize {
    answered
        .saturating_mul(2)
        .clamp(MIN_CAPACITY, MAX_CAPACITY)
        .min(limit.saturating_add(CLOSING_LEN))
}

/// A reply message being written.
pub(crate) struct ReplyBuilder {
    writer: MessageWriter,
    encoding: Encoding,
    /// The most the message may take before `Final` and a closing Alert 1222 (`usize::MAX`
    /// for a server that announced no MaxMsgSize).
    limit: usize,
    next_id: u32,
    /// Responses for the next message, in order.
    overflow: VecDeque<Command<'static>>,
}

impl ReplyBuilder {
    /// A reply with `header`, answering a message of `answered` octets, to a server that
    /// accepts `max_msg_size` octets.
    ///
    /// The buffer starts with room for twice the message answered, `answered` octets in
    /// `answered_encoding`, as it would be written in the reply's encoding (Results make a
    /// reply larger than what asked for them; an XML message is about three times its WBXML
    /// form), at least [`MIN_CAPACITY`] and at most the message's limit and [`MAX_CAPACITY`]:
    /// a buffer that grows copies what it holds each time it doubles.
    pub(crate) fn new(
        header: &SyncHdr<'_>,
        encoding: Encoding,
        max_msg_size: Option<u64>,
        answered: usize,
        answered_encoding: Encoding,
    ) -> Self {
        let limit = match max_msg_size {
            None => usize::MAX,
            Some(size) => {
                let size = usize::try_from(size).unwrap_or(usize::MAX);
                // Room for Final, the closing tags and, when needed, an Alert 1222.
                let reserve = command_len(&Command::Alert(Alert::new("99999", 1222)), encoding)
                    + CLOSING_LEN
                    + 16;
                size.saturating_sub(reserve)
            }
        };
        ReplyBuilder {
            writer: MessageWriter::with_capacity(
                header,
                encoding,
                capacity(in_encoding(answered, answered_encoding, encoding), limit),
            ),
            encoding,
            limit,
            next_id: 0,
            overflow: VecDeque::new(),
        }
    }

    /// Writes `command` with the next CmdID if the message stays within `limit`.
    fn write_within(&mut self, command: &Command<'_>, limit: usize) -> Option<usize> {
        let written = self
            .writer
            .push_numbered_within(command, self.next_id + 1, limit);
        if written.is_some() {
            self.next_id += 1;
        }
        written
    }

    /// Whether something beside the header's Status is in the message.
    fn has_responses(&self) -> bool {
        self.writer.commands() > 1
    }

    /// Whether responses wait for the next message.
    pub(crate) fn is_full(&self) -> bool {
        !self.overflow.is_empty()
    }

    /// The CmdID the next command written gets.
    pub(crate) fn next_cmd_id(&self) -> u32 {
        self.next_id + 1
    }

    /// Adds a response: written now if it fits (the first response always is, however
    /// large, with a warning), cut when it is a Results that can be, else kept for the next
    /// message, as is everything after it.
    pub(crate) fn push(&mut self, response: Response<'_>) {
        if self.push_lent(&response) {
            return;
        }
        if self.is_full() {
            self.overflow
                .push_back(response.into_command().into_owned());
            return;
        }
        self.push_unfit(response.into_command());
    }

    /// Writes `response` when it fits the room left and nothing waits for the next message
    /// (what [`ReplyBuilder::push`] then does); returns whether it was written. A response
    /// not written is left for `push`.
    pub(crate) fn push_lent(&mut self, response: &Response<'_>) -> bool {
        if self.is_full() {
            return false;
        }
        let id = self.next_id + 1;
        let written = match response {
            Response::Status(status) => self.writer.push_item_status_within(status, id, self.limit),
            Response::Results(results) => self
                .writer
                .push_node_results_within(results, id, self.limit),
            Response::Command(command) => self.writer.push_numbered_within(command, id, self.limit),
        };
        if written.is_some() {
            self.next_id = id;
        }
        written.is_some()
    }

    /// Adds a response that did not fit the room left: cut when it is a Results that can
    /// be, written anyway when it is the first response, else kept for the next message.
    fn push_unfit(&mut self, command: Command<'_>) {
        let room = self.limit.saturating_sub(self.writer.len());
        match split_results(command, room, self.encoding) {
            Split::Whole(command) => {
                if self.has_responses() {
                    self.overflow.push_back(command.into_owned());
                } else {
                    let len = self.write_within(&command, usize::MAX).unwrap_or(0);
                    log::warn!(
                        "a response of {len} octets cannot fit the server's MaxMsgSize (room {room})"
                    );
                }
            }
            Split::Parts(head, rest) => {
                if let Some(head) = head {
                    self.write_within(&head, usize::MAX);
                }
                // Nothing more fits after a split part.
                self.overflow
                    .extend(rest.into_iter().map(Command::into_owned));
            }
        }
    }

    /// Adds `command` only if it fits (or nothing but the header's Status is there yet);
    /// returns whether it was added.
    pub(crate) fn push_if_room(&mut self, command: Command<'_>) -> bool {
        if self.is_full() {
            return false;
        }
        if self.write_within(&command, self.limit).is_some() {
            return true;
        }
        if self.has_responses() {
            return false;
        }
        self.write_within(&command, usize::MAX);
        true
    }

    /// Adds `command` whatever its size (the room for it was kept: Alert 1222).
    pub(crate) fn push_reserved(&mut self, command: Command<'_>) {
        self.write_within(&command, usize::MAX);
    }

    /// The message's bytes, and the responses left for the next message.
    pub(crate) fn finish(self, is_final: bool) -> (Vec<u8>, VecDeque<Command<'static>>) {
        (self.writer.finish(is_final), self.overflow)
    }
}

/// How a response too large for the room left was cut.
enum Split<'c> {
    /// It cannot be cut.
    Whole(Command<'c>),
    /// The part to send now (if one fits) and the parts for later messages, in order.
    Parts(Option<Command<'c>>, Vec<Command<'c>>),
}

/// Cuts a Results into one per Item, or one Item's Data into a chunk that fits `room` and the
/// rest (DM Protocol §2.2: MoreData on every chunk but the last, Size on the first).
fn split_results(command: Command<'_>, room: usize, encoding: omadm_syncml::Encoding) -> Split<'_> {
    let Command::Results(r) = command else {
        return Split::Whole(command);
    };
    if r.items.len() > 1 {
        let parts: Vec<Command<'_>> = r
            .items
            .iter()
            .map(|item| {
                Command::Results(omadm_syncml::Results {
                    items: vec![item.clone()],
                    ..r.clone()
                })
            })
            .collect();
        return Split::Parts(None, parts);
    }
    let Some(item) = r.items.first() else {
        return Split::Whole(Command::Results(r));
    };
    let data: Vec<u8> = item
        .data
        .as_ref()
        .map(|d| d.as_bytes().to_vec())
        .unwrap_or_default();
    let is_text = matches!(item.data, Some(Data::Text(_)) | Some(Data::Xml(_)));
    let overhead = {
        let mut empty = item.clone();
        empty.data = Some(Data::Text(Cow::Borrowed("")));
        empty.more_data = true;
        let mut meta = empty.meta.take().unwrap_or_default();
        meta.more_mut().size = Some(data.len() as u64);
        empty.meta = Some(meta);
        command_len(
            &Command::Results(omadm_syncml::Results {
                items: vec![empty],
                ..r.clone()
            }),
            encoding,
        )
    };
    if room <= overhead + 16 || data.len() < 2 {
        return Split::Whole(Command::Results(r));
    }
    // XML escaping can grow text up to five times; measure and shrink until it fits.
    let mut n = (room - overhead).min(data.len() - 1);
    loop {
        if is_text {
            while n > 0 && std::str::from_utf8(&data[..n]).is_err() {
                n -= 1;
            }
        } else if encoding == omadm_syncml::Encoding::Xml {
            // Raw octets travel as Base64 in XML: whole 3-octet groups keep the chunks'
            // Base64 texts concatenable.
            n -= n % 3;
        }
        if n == 0 {
            return Split::Whole(Command::Results(r));
        }
        let chunk = make_chunk(
            &r,
            item,
            &data[..n],
            is_text,
            item.more_data || n < data.len(),
            Some(data.len() as u64),
        );
        if command_len(&chunk, encoding) <= room {
            let rest = make_chunk(&r, item, &data[n..], is_text, item.more_data, None);
            return Split::Parts(Some(chunk), vec![rest]);
        }
        n = n * 3 / 4;
    }
}

fn make_chunk<'c>(
    r: &omadm_syncml::Results<'c>,
    item: &Item<'c>,
    bytes: &[u8],
    is_text: bool,
    more: bool,
    size: Option<u64>,
) -> Command<'c> {
    let mut piece = item.clone();
    piece.data = Some(if is_text {
        Data::Text(Cow::Owned(String::from_utf8_lossy(bytes).into_owned()))
    } else {
        Data::Opaque(Cow::Owned(bytes.to_vec()))
    });
    piece.more_data = more;
    let mut meta = piece.meta.take().unwrap_or_default();
    if size.is_some() || meta.more.is_some() {
        meta.more_mut().size = size;
    }
    piece.meta = (!meta.is_empty()).then_some(meta);
    Command::Results(omadm_syncml::Results {
        items: vec![piece],
        ..r.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_starts_with_room_for_twice_what_it_answers_within_its_bounds() {
        assert_eq!(capacity(5_000, usize::MAX), 10_000);
        assert_eq!(capacity(0, usize::MAX), MIN_CAPACITY);
        assert_eq!(capacity(10_000_000, usize::MAX), MAX_CAPACITY);
        assert_eq!(capacity(usize::MAX, usize::MAX), MAX_CAPACITY);
        // Never more than the server accepts (with the closing tags).
        assert_eq!(capacity(5_000, 3_000), 3_000 + CLOSING_LEN);
        assert_eq!(capacity(5_000, 0), CLOSING_LEN);
    }

    /// The reply to a message of `commands` Replace commands in `message_encoding`, written in
    /// `reply_encoding`: its bytes, and the room its buffer started with.
    fn reply_to_replaces(
        commands: usize,
        message_encoding: Encoding,
        reply_encoding: Encoding,
    ) -> (Vec<u8>, usize) {
        let mut xml = String::from(
            "<SyncML xmlns='SYNCML:SYNCML1.2'><SyncHdr><VerDTD>1.2</VerDTD>\
             <VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>2</MsgID>\
             <Target><LocURI>dev</LocURI></Target><Source><LocURI>srv</LocURI></Source>\
             </SyncHdr><SyncBody>",
        );
        for i in 0..commands {
            xml.push_str(&format!(
                "<Replace><CmdID>{}</CmdID><Item><Target><LocURI>./Vendor/memory/n{i}\
                 </LocURI></Target><Data>value-{i}</Data></Item></Replace>",
                i + 2
            ));
        }
        xml.push_str("<Final/></SyncBody></SyncML>");
        let (message, _) = omadm_syncml::decode(xml.as_bytes(), &Default::default()).unwrap();
        let bytes = omadm_syncml::encode(&message, message_encoding);
        let (message, _) = omadm_syncml::decode(&bytes, &Default::default()).unwrap();
        let mut reply = ReplyBuilder::new(
            &message.header,
            reply_encoding,
            None,
            bytes.len(),
            message_encoding,
        );
        let start = reply.writer.capacity();
        for command in &message.body.commands {
            reply.push(Response::Status(omadm_syncml::ItemStatus::for_command(
                "2", command, 200,
            )));
        }
        (reply.finish(true).0, start)
    }

    #[test]
    fn a_reply_in_either_encoding_is_written_without_growing_its_buffer() {
        // Each reply to a message in the other encoding too: an XML reply to WBXML takes
        // about three times the octets of the message it answers, which outgrew a buffer of
        // twice the message (and was copied as it grew).
        for commands in [1, 10, 80, 400] {
            for message in [Encoding::Xml, Encoding::Wbxml] {
                for reply in [Encoding::Xml, Encoding::Wbxml] {
                    let (bytes, start) = reply_to_replaces(commands, message, reply);
                    assert!(
                        bytes.len() <= start && bytes.capacity() == start,
                        "{commands} commands, {message:?} answered in {reply:?}: \
                         {} octets, room for {start}, grew to {}",
                        bytes.len(),
                        bytes.capacity()
                    );
                }
            }
        }
    }
}
