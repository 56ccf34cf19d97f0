//! Session traces: what the agent reports to an observer while a session runs, and the file
//! format `omadm agent --trace` writes and `omadm trace` reads.
//!
//! File format (decided here; binary-safe so WBXML messages are kept byte for byte): the line
//! `omadm-trace 1`, then per message a header line `<direction> <content-type> <length>`
//! (`>` device to server, `<` server to device) followed by exactly `length` bytes of the
//! message body and a newline.

use std::io::{self, Write};

/// What happens during a session, in order, for an observer (logging, the demo, traces).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStep<'a> {
    /// A message is about to be posted (the first one opens the secure channel).
    Sending {
        /// The server.
        server_id: &'a str,
        /// Where to.
        url: &'a str,
        /// The MIME type.
        content_type: &'a str,
        /// The message.
        body: &'a [u8],
        /// 1 for the session's first message.
        number: u32,
    },
    /// A message came back from the server.
    Received {
        /// The server.
        server_id: &'a str,
        /// The HTTP status.
        status: u16,
        /// The MIME type (empty if the server sent none).
        content_type: &'a str,
        /// The message.
        body: &'a [u8],
    },
    /// The session engine processed a server message; `more` tells whether a reply goes back
    /// (its bytes come with the next [`SessionStep::Sending`]).
    Processed {
        /// The server.
        server_id: &'a str,
        /// Whether a reply is sent.
        more: bool,
    },
}

/// Direction of one traced message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Device to server.
    ToServer,
    /// Server to device.
    ToDevice,
}

/// One message read from a trace file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracedMessage {
    /// Who sent it.
    pub direction: Direction,
    /// Its MIME type.
    pub content_type: String,
    /// Its bytes.
    pub body: Vec<u8>,
}

/// The first line of a trace file.
pub const TRACE_MAGIC: &str = "omadm-trace 1";

/// Appends messages to a trace.
#[derive(Debug)]
pub struct TraceWriter<W: Write> {
    out: W,
}

impl<W: Write> TraceWriter<W> {
    /// Starts a trace on `out` (writes the first line).
    pub fn new(mut out: W) -> io::Result<Self> {
        writeln!(out, "{TRACE_MAGIC}")?;
        Ok(TraceWriter { out })
    }

    /// Appends one message.
    pub fn write(
        &mut self,
        direction: Direction,
        content_type: &str,
        body: &[u8],
    ) -> io::Result<()> {
        let d = match direction {
            Direction::ToServer => '>',
            Direction::ToDevice => '<',
        };
        let ct: String = content_type
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let ct = if ct.is_empty() { "-".into() } else { ct };
        writeln!(self.out, "{d} {ct} {}", body.len())?;
        self.out.write_all(body)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

/// An error reading a trace: what is wrong and the byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceError {
    /// What is wrong.
    pub message: String,
    /// Byte offset in the file.
    pub offset: usize,
}

impl std::fmt::Display for TraceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

impl std::error::Error for TraceError {}

/// Reads a whole trace file.
pub fn read_trace(bytes: &[u8]) -> Result<Vec<TracedMessage>, TraceError> {
    let err = |message: &str, offset: usize| TraceError {
        message: message.into(),
        offset,
    };
    let line_end = |from: usize| {
        bytes[from..]
            .iter()
            .position(|b| *b == b'\n')
            .map(|i| from + i)
    };
    let first = line_end(0).ok_or_else(|| err("not an omadm trace (no first line)", 0))?;
    if &bytes[..first] != TRACE_MAGIC.as_bytes() {
        return Err(err("not an omadm trace (expected \"omadm-trace 1\")", 0));
    }
    let mut at = first + 1;
    let mut out = Vec::new();
    while at < bytes.len() {
        let end = line_end(at).ok_or_else(|| err("truncated header line", at))?;
        let header =
            std::str::from_utf8(&bytes[at..end]).map_err(|_| err("header line is not text", at))?;
        let mut parts = header.split(' ');
        let direction = match parts.next() {
            Some(">") => Direction::ToServer,
            Some("<") => Direction::ToDevice,
            _ => return Err(err("header must start with '>' or '<'", at)),
        };
        let content_type = parts
            .next()
            .ok_or_else(|| err("header lacks the content type", at))?;
        let len: usize = parts
            .next()
            .and_then(|l| l.parse().ok())
            .ok_or_else(|| err("header lacks the length", at))?;
        if parts.next().is_some() {
            return Err(err("header has extra fields", at));
        }
        let body_start = end + 1;
        let body_end = body_start
            .checked_add(len)
            .filter(|e| *e < bytes.len() && bytes[*e] == b'\n')
            .ok_or_else(|| err("message shorter than its header says", body_start))?;
        out.push(TracedMessage {
            direction,
            content_type: if content_type == "-" {
                String::new()
            } else {
                content_type.to_owned()
            },
            body: bytes[body_start..body_end].to_vec(),
        });
        at = body_end + 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_byte_for_byte() {
        let mut w = TraceWriter::new(Vec::new()).unwrap();
        w.write(
            Direction::ToServer,
            "application/vnd.syncml.dm+wbxml",
            b"\x02\n\x00<",
        )
        .unwrap();
        w.write(Direction::ToDevice, "", b"").unwrap();
        let bytes = w.out;
        let back = read_trace(&bytes).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].body, b"\x02\n\x00<");
        assert_eq!(back[0].direction, Direction::ToServer);
        assert_eq!(back[1].content_type, "");
    }

    #[test]
    fn damaged_traces_are_errors_not_panics() {
        assert!(read_trace(b"").is_err());
        assert!(read_trace(b"hello\n").is_err());
        assert_eq!(
            read_trace(b"omadm-trace 1\n> x 10\nabc\n")
                .unwrap_err()
                .offset,
            21
        );
        assert!(read_trace(b"omadm-trace 1\n> x 99999999999999999999999\n").is_err());
        assert!(read_trace(b"omadm-trace 1\n? x 1\na\n").is_err());
        for cut in 0..30 {
            let full = b"omadm-trace 1\n> a/b 3\nabc\n< - 0\n\n";
            let _ = read_trace(&full[..cut.min(full.len())]);
        }
    }
}
