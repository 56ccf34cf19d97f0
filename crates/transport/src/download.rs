//! HTTP(S) GET of a large file, streamed: the alternative download of a firmware package
//! (FUMO), resumable with `Range`. The body is handed out as a [`Read`] so the caller writes
//! it where it wants with a bounded buffer; nothing here holds more than one read's worth of
//! the body in memory.
//!
//! A response to a ranged request is `206 Partial Content` with `Content-Range: bytes
//! START-END/TOTAL` (the caller appends), or `200 OK` when the server ignores ranges (the
//! caller starts over), or `416` when the offset is past the end (the file is complete, or
//! changed on the server).

use std::io::{self, Read, Write};

use crate::client::Client;
use crate::http::{parse_head, Head, MAX_HEAD};
use crate::url::Url;
use crate::TransportError;

/// The head of a download response, and its body as a reader.
pub struct Download<'a> {
    /// HTTP status (200, 206, 404, 416, ...).
    pub status: u16,
    /// Where the body starts in the file: the `Content-Range` start for 206, else 0.
    pub offset: u64,
    /// The whole file's size when the server says (`Content-Range` total, or the
    /// `Content-Length` of a 200).
    pub total: Option<u64>,
    /// The body.
    pub body: Body<'a>,
}

enum Framing {
    Length(u64),
    Chunked { left: u64, done: bool },
    UntilClose,
}

/// A download's body: read it to its end; an early end of the connection is an error
/// (`UnexpectedEof`), so a truncated transfer is never mistaken for a complete one.
pub struct Body<'a> {
    stream: &'a mut dyn Read,
    pending: Vec<u8>,
    framing: Framing,
}

impl Body<'_> {
    fn raw_read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.pending.is_empty() {
            let n = buf.len().min(self.pending.len());
            buf[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            return Ok(n);
        }
        self.stream.read(buf)
    }

    fn raw_line(&mut self) -> io::Result<String> {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while !line.ends_with(b"\r\n") {
            if line.len() > 1024 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "chunk line too long",
                ));
            }
            if self.raw_read(&mut byte)? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            line.push(byte[0]);
        }
        line.truncate(line.len() - 2);
        String::from_utf8(line)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "chunk line is not text"))
    }
}

impl Read for Body<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        match self.framing {
            Framing::Length(0) => Ok(0),
            Framing::Length(left) => {
                let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                let n = self.raw_read(&mut buf[..want])?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                self.framing = Framing::Length(left - n as u64);
                Ok(n)
            }
            Framing::Chunked { done: true, .. } => Ok(0),
            Framing::Chunked { left: 0, .. } => {
                let line = self.raw_line()?;
                let size_text = line.split(';').next().unwrap_or("").trim();
                let size = u64::from_str_radix(size_text, 16)
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
                if size == 0 {
                    while !self.raw_line()?.is_empty() {}
                    self.framing = Framing::Chunked {
                        left: 0,
                        done: true,
                    };
                    return Ok(0);
                }
                self.framing = Framing::Chunked {
                    left: size,
                    done: false,
                };
                self.read(buf)
            }
            Framing::Chunked { left, .. } => {
                let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                let n = self.raw_read(&mut buf[..want])?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                let left = left - n as u64;
                if left == 0 && !self.raw_line()?.is_empty() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "chunk not followed by CRLF",
                    ));
                }
                self.framing = Framing::Chunked { left, done: false };
                Ok(n)
            }
            Framing::UntilClose => self.raw_read(buf),
        }
    }
}

/// `bytes START-END/TOTAL` → (START, TOTAL).
fn content_range(v: &str) -> Option<(u64, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes")?.trim();
    let (range, total) = rest.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    let start = start.trim().parse().ok()?;
    let total = total.trim().parse().ok();
    Some((start, total))
}

impl Client {
    /// Starts a GET of `url` from byte `offset` (a `Range` request when not 0) on a new
    /// connection, and returns the response head with the body to read. The connection is
    /// closed when the body is dropped.
    pub fn download(&mut self, url: &str, offset: u64) -> Result<Download<'_>, TransportError> {
        let parsed = Url::parse(url)?;
        if !parsed.tls && !self.config().allow_plain_http {
            return Err(TransportError::PlainHttpRefused(format!(
                "{} is plain HTTP, which is refused: downloads use TLS unless plain HTTP is \
                 allowed",
                crate::client::shown_url(url)
            )));
        }
        let mut head = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\nAccept: */*\r\nConnection: close\r\n",
            parsed.path,
            parsed.authority(),
            self.config().user_agent
        );
        if offset > 0 {
            head.push_str(&format!("Range: bytes={offset}-\r\n"));
        }
        head.push_str("\r\n");
        let stream = self.download_stream(&parsed)?;
        let io_err = |e: io::Error| TransportError::Io(e.to_string());
        stream.write_all(head.as_bytes()).map_err(io_err)?;
        stream.flush().map_err(io_err)?;
        let mut buf = Vec::new();
        let Head {
            status,
            headers,
            used,
            ..
        } = loop {
            if let Some(head) = parse_head(&buf)? {
                break head;
            }
            if buf.len() > MAX_HEAD {
                return Err(TransportError::Protocol("response head too large".into()));
            }
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).map_err(io_err)?;
            if n == 0 {
                return Err(TransportError::Io(
                    "connection closed before a response".into(),
                ));
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let length = match header("content-length") {
            Some(v) => Some(
                v.parse::<u64>()
                    .map_err(|_| TransportError::Protocol(format!("bad Content-Length {v:?}")))?,
            ),
            None => None,
        };
        let chunked =
            header("transfer-encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
        let (offset, total) = match (status, header("content-range")) {
            (206, Some(v)) => content_range(v)
                .ok_or_else(|| TransportError::Protocol(format!("bad Content-Range {v:?}")))?,
            (206, None) => {
                return Err(TransportError::Protocol("206 without Content-Range".into()))
            }
            (416, v) => (
                0,
                v.and_then(|v| v.trim().strip_prefix("bytes */")?.parse().ok()),
            ),
            (200, _) => (0, if chunked { None } else { length }),
            _ => (0, None),
        };
        let framing = if chunked {
            Framing::Chunked {
                left: 0,
                done: false,
            }
        } else if let Some(len) = length {
            Framing::Length(len)
        } else if status == 204 || status == 304 || status == 416 {
            Framing::Length(0)
        } else {
            Framing::UntilClose
        };
        buf.drain(..used);
        Ok(Download {
            status,
            offset,
            total,
            body: Body {
                stream,
                pending: buf,
                framing,
            },
        })
    }
}

/// The SHA-256 of a file (a downloaded package), as lower-case hex, read in 64 KB pieces.
pub fn sha256_file(path: &std::path::Path) -> io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = openssl::sha::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finish().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any bytes under any framing: the body reader ends with data or an error, never a
        /// panic, and reads no more than the caller's buffer at a time.
        #[test]
        fn any_body_bytes_read_to_an_end_or_an_error(
            bytes in proptest::collection::vec(any::<u8>(), 0..4096),
            framing in 0u8..3,
            length in 0u64..8192,
        ) {
            let mut input: &[u8] = &bytes;
            let mut body = Body {
                stream: &mut input,
                pending: Vec::new(),
                framing: match framing {
                    0 => Framing::Length(length),
                    1 => Framing::Chunked { left: 0, done: false },
                    _ => Framing::UntilClose,
                },
            };
            let mut buf = [0u8; 512];
            let mut total = 0usize;
            loop {
                match body.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        prop_assert!(n <= buf.len());
                        total += n;
                    }
                }
            }
            prop_assert!(total <= bytes.len());
        }
    }

    #[test]
    fn content_range_gives_start_and_total() {
        assert_eq!(content_range("bytes 100-199/1000"), Some((100, Some(1000))));
        assert_eq!(content_range("bytes 5-9/*"), Some((5, None)));
        assert_eq!(content_range("items 1-2/3"), None);
    }
}
