//! HTTP/1.1 framing of one request and one response (httparse for the head; bodies by
//! Content-Length, chunked transfer coding, or until the connection closes).

use std::io::{Read, Write};

use crate::TransportError;

/// Largest response head accepted.
pub(crate) const MAX_HEAD: usize = 64 * 1024;

/// A parsed response head.
pub(crate) struct Head {
    pub status: u16,
    /// HTTP/1.1 (else 1.0).
    pub version_11: bool,
    /// Header names lower-cased, values trimmed.
    pub headers: Vec<(String, String)>,
    /// Bytes of `buf` the head took.
    pub used: usize,
}

/// The response head at the start of `buf`, or `None` when it is not complete yet.
pub(crate) fn parse_head(buf: &[u8]) -> Result<Option<Head>, TransportError> {
    let mut hdrs = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut hdrs);
    match resp.parse(buf) {
        Ok(httparse::Status::Complete(used)) => Ok(Some(Head {
            status: resp.code.unwrap_or(0),
            version_11: resp.version == Some(1),
            headers: resp
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_ascii_lowercase(),
                        String::from_utf8_lossy(h.value).trim().to_owned(),
                    )
                })
                .collect(),
            used,
        })),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(TransportError::Protocol(e.to_string())),
    }
}

/// A parsed response.
pub(crate) struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The server keeps the connection open.
    pub keep_alive: bool,
}

/// An I/O error on the connection; a TLS alert from the peer (a refused client certificate
/// reported after a TLS 1.3 handshake, say) is a TLS failure, not a network one.
fn io(e: std::io::Error) -> TransportError {
    let tls = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<openssl::ssl::Error>())
        .is_some_and(|ssl| ssl.code() == openssl::ssl::ErrorCode::SSL);
    if tls {
        TransportError::Tls(e.to_string())
    } else {
        TransportError::Io(e.to_string())
    }
}

/// Writes a POST.
pub(crate) fn write_request(
    w: &mut impl Write,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<(), TransportError> {
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(k);
        head.push_str(": ");
        head.push_str(v);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    // One write: one TLS record and one TCP segment train, no wait on the peer's delayed ACK.
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    w.write_all(&out).map_err(io)?;
    w.flush().map_err(io)
}

/// A buffered reader over the connection that hands out exactly what each part needs.
pub(crate) struct Input<'a, R: Read> {
    inner: &'a mut R,
    buf: Vec<u8>,
}

impl<'a, R: Read> Input<'a, R> {
    pub fn new(inner: &'a mut R) -> Self {
        Input {
            inner,
            buf: Vec::new(),
        }
    }

    fn fill(&mut self) -> Result<usize, TransportError> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.inner.read(&mut chunk).map_err(io)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    fn take(&mut self, n: usize) -> Result<Vec<u8>, TransportError> {
        while self.buf.len() < n {
            if self.fill()? == 0 {
                return Err(TransportError::Io(
                    "connection closed in the middle of a body".into(),
                ));
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    fn line(&mut self) -> Result<String, TransportError> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..i + 2).take(i).collect();
                return String::from_utf8(line)
                    .map_err(|_| TransportError::Protocol("chunk line is not text".into()));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(TransportError::Protocol("chunk line too long".into()));
            }
            if self.fill()? == 0 {
                return Err(TransportError::Io(
                    "connection closed in a chunk line".into(),
                ));
            }
        }
    }

    /// Reads one response.
    pub fn response(&mut self, max_body: usize) -> Result<RawResponse, TransportError> {
        let Head {
            status,
            version_11,
            headers,
            used,
        } = loop {
            if let Some(head) = parse_head(&self.buf)? {
                break head;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(TransportError::Protocol("response head too large".into()));
            }
            if self.fill()? == 0 {
                return Err(TransportError::Io(
                    "connection closed before a response".into(),
                ));
            }
        };
        self.buf.drain(..used);
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let connection = header("connection").unwrap_or("").to_ascii_lowercase();
        let mut keep_alive = if version_11 {
            !connection.contains("close")
        } else {
            connection.contains("keep-alive")
        };
        let chunked =
            header("transfer-encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
        let body = if chunked {
            let mut body = Vec::new();
            loop {
                let line = self.line()?;
                let size_text = line.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(size_text, 16).map_err(|_| {
                    TransportError::Protocol(format!("bad chunk size {size_text:?}"))
                })?;
                if body.len() + size > max_body {
                    return Err(TransportError::Protocol(format!(
                        "response body over {max_body} octets"
                    )));
                }
                if size == 0 {
                    // Trailers, then the empty line.
                    while !self.line()?.is_empty() {}
                    break body;
                }
                body.extend(self.take(size)?);
                if !self.line()?.is_empty() {
                    return Err(TransportError::Protocol(
                        "chunk not followed by CRLF".into(),
                    ));
                }
            }
        } else if let Some(len) = header("content-length") {
            let len: usize = len
                .parse()
                .map_err(|_| TransportError::Protocol(format!("bad Content-Length {len:?}")))?;
            if len > max_body {
                return Err(TransportError::Protocol(format!(
                    "response body of {len} octets over {max_body}"
                )));
            }
            self.take(len)?
        } else if status == 204 || status == 304 || (100..200).contains(&status) {
            Vec::new()
        } else {
            // Delimited by the end of the connection.
            keep_alive = false;
            while self.fill()? > 0 {
                if self.buf.len() > max_body {
                    return Err(TransportError::Protocol(format!(
                        "response body over {max_body} octets"
                    )));
                }
            }
            std::mem::take(&mut self.buf)
        };
        Ok(RawResponse {
            status,
            headers,
            body,
            keep_alive,
        })
    }
}
