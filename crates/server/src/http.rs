//! The HTTPS front of the reference server: TLS (OpenSSL), HTTP/1.1 with keep-alive, one
//! thread per connection up to a cap ([`ServeOptions::max_connections`]; further connections
//! wait to be accepted), every SyncML message (POST) handed to the shared [`Engine`] with the
//! time, what it recorded made durable by the [`Journal`] before the reply goes out, and
//! update packages served by GET with `Range` ([`Downloads`]).

use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use openssl::pkey::PKey;
use openssl::ssl::{SslAcceptor, SslMethod};
use openssl::x509::X509;

use crate::engine::Engine;
use crate::firmware::Downloads;
use crate::records::Record;

/// Where the server keeps what it records: called with each message's records and, when a
/// device issued a new nonce, every device's current server nonce, before the reply that
/// depends on them is sent (an error answers HTTP 500 instead).
pub trait Journal: Send + Sync {
    /// Makes `records` and `nonces` durable.
    fn persist(
        &self,
        records: &[Record],
        nonces: Option<&[(String, Vec<u8>)]>,
    ) -> std::io::Result<()>;
}

/// How the HTTPS front runs.
pub struct ServeOptions {
    /// Files served by GET.
    pub downloads: Arc<Downloads>,
    /// Where records and nonces go before each reply (none: memory only).
    pub journal: Option<Arc<dyn Journal>>,
    /// The most connections served at once (more wait to be accepted).
    pub max_connections: usize,
    /// CA certificates (PEM) a device's TLS client certificate must chain to; with them,
    /// a device without such a certificate cannot connect, and the certificate's subject is
    /// recorded.
    pub client_ca: Option<Vec<u8>>,
}

impl Default for ServeOptions {
    /// No downloads, no journal, 64 connections.
    fn default() -> Self {
        ServeOptions {
            downloads: Arc::new(Downloads::new()),
            journal: None,
            max_connections: 64,
            client_ca: None,
        }
    }
}

/// Counts open connections up to a cap.
struct Slots {
    open: Mutex<usize>,
    freed: Condvar,
    max: usize,
}

impl Slots {
    /// Waits for a free slot (or the stop flag).
    fn take(&self, stop: &AtomicBool) -> bool {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        while *open >= self.max {
            if stop.load(Ordering::SeqCst) {
                return false;
            }
            open = self
                .freed
                .wait_timeout(open, Duration::from_millis(100))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        *open += 1;
        true
    }

    fn give_back(&self) {
        *self.open.lock().unwrap_or_else(|p| p.into_inner()) -= 1;
        self.freed.notify_one();
    }
}

/// Largest request body accepted.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// A running server.
pub struct RunningServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The engine (records, sessions).
    pub engine: Arc<Mutex<Engine>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// Stops accepting connections and waits for the accept loop.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts serving HTTPS on `listen` with the certificate and key (PEM).
pub fn start(
    listen: SocketAddr,
    cert_pem: &[u8],
    key_pem: &[u8],
    engine: Engine,
) -> std::io::Result<RunningServer> {
    start_with(listen, cert_pem, key_pem, engine, ServeOptions::default())
}

/// As [`start`], also serving `downloads` by GET.
pub fn start_with_downloads(
    listen: SocketAddr,
    cert_pem: &[u8],
    key_pem: &[u8],
    engine: Engine,
    downloads: Arc<Downloads>,
) -> std::io::Result<RunningServer> {
    start_with(
        listen,
        cert_pem,
        key_pem,
        engine,
        ServeOptions {
            downloads,
            ..ServeOptions::default()
        },
    )
}

/// Starts serving HTTPS on `listen` as `options` say.
pub fn start_with(
    listen: SocketAddr,
    cert_pem: &[u8],
    key_pem: &[u8],
    engine: Engine,
    options: ServeOptions,
) -> std::io::Result<RunningServer> {
    let other = |e: openssl::error::ErrorStack| std::io::Error::other(e.to_string());
    let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).map_err(other)?;
    let cert = X509::from_pem(cert_pem).map_err(other)?;
    let key = PKey::private_key_from_pem(key_pem).map_err(other)?;
    acceptor.set_certificate(&cert).map_err(other)?;
    acceptor.set_private_key(&key).map_err(other)?;
    if let Some(ca) = &options.client_ca {
        let mut store = openssl::x509::store::X509StoreBuilder::new().map_err(other)?;
        let cas = X509::stack_from_pem(ca).map_err(other)?;
        if cas.is_empty() {
            return Err(std::io::Error::other(
                "the client CA file holds no certificate",
            ));
        }
        for c in cas {
            store.add_cert(c).map_err(other)?;
        }
        acceptor
            .set_verify_cert_store(store.build())
            .map_err(other)?;
        acceptor.set_verify(
            openssl::ssl::SslVerifyMode::PEER | openssl::ssl::SslVerifyMode::FAIL_IF_NO_PEER_CERT,
        );
    }
    let acceptor = acceptor.build();
    let listener = TcpListener::bind(listen)?;
    let addr = listener.local_addr()?;
    let engine = Arc::new(Mutex::new(engine));
    let stop = Arc::new(AtomicBool::new(false));
    let (e2, s2) = (engine.clone(), stop.clone());
    let slots = Arc::new(Slots {
        open: Mutex::new(0),
        freed: Condvar::new(),
        max: options.max_connections.max(1),
    });
    let shared = Arc::new(Shared {
        downloads: options.downloads,
        journal: options.journal,
        started: Instant::now(),
    });
    let thread = std::thread::spawn(move || loop {
        if !slots.take(&s2) {
            break;
        }
        let stream = listener.accept();
        if s2.load(Ordering::SeqCst) {
            break;
        }
        let Ok((stream, _)) = stream else {
            slots.give_back();
            continue;
        };
        let (acceptor, engine, shared, slots) =
            (acceptor.clone(), e2.clone(), shared.clone(), slots.clone());
        std::thread::spawn(move || {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
            // Replies are single writes; without this, Nagle's algorithm and the peer's
            // delayed ACK add ~40 ms to every round trip.
            let _ = stream.set_nodelay(true);
            match acceptor.accept(stream) {
                Ok(mut tls) => {
                    let subject = tls.ssl().peer_certificate().map(|c| subject_text(&c));
                    serve_connection(&mut tls, &engine, &shared, subject.as_deref())
                }
                Err(e) => {
                    log::info!("TLS handshake failed: {e}");
                    close_after_alert(e);
                }
            }
            slots.give_back();
        });
    });
    Ok(RunningServer {
        addr,
        engine,
        stop,
        thread: Some(thread),
    })
}

/// Closes a connection whose TLS handshake failed so that the peer reads the alert: what it
/// sent meanwhile (a TLS 1.3 client may already have sent its request) is read first, else
/// closing would reset the connection and the alert (a missing or refused client
/// certificate, say) would be lost.
fn close_after_alert(e: openssl::ssl::HandshakeError<TcpStream>) {
    let mut mid = match e {
        openssl::ssl::HandshakeError::Failure(mid)
        | openssl::ssl::HandshakeError::WouldBlock(mid) => mid,
        openssl::ssl::HandshakeError::SetupFailure(_) => return,
    };
    let stream = mid.get_mut();
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut sink = [0u8; 4096];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
}

/// What every connection of a server shares.
struct Shared {
    downloads: Arc<Downloads>,
    journal: Option<Arc<dyn Journal>>,
    started: Instant,
}

/// A certificate's subject as `CN=..., O=...` (RFC 4514 order is not kept: field by field
/// as stored).
fn subject_text(cert: &X509) -> String {
    cert.subject_name()
        .entries()
        .map(|e| {
            let key = e.object().nid().short_name().unwrap_or("?");
            let value = e.data().to_string().unwrap_or_default();
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn serve_connection(
    stream: &mut (impl Read + Write),
    engine: &Mutex<Engine>,
    shared: &Shared,
    client_subject: Option<&str>,
) {
    let mut buf = Vec::new();
    loop {
        let (body, keep_alive, hmac) = match read_request(stream, &mut buf) {
            Ok(Some(Request::Post {
                body,
                keep_alive,
                hmac,
            })) => (body, keep_alive, hmac),
            Ok(Some(Request::Get { path, range })) => {
                serve_file(stream, &shared.downloads, &path, range);
                return;
            }
            Ok(None) => return,
            Err(status) => {
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    reason(status)
                );
                return;
            }
        };
        let now = shared.started.elapsed().as_millis() as u64;
        let (status, reply, encoding, reply_hmac) = {
            let mut engine = engine.lock().unwrap_or_else(|p| p.into_inner());
            let reply = engine.handle_from(now, &body, hmac.as_deref(), client_subject);
            // What the reply reports is durable before the reply goes out.
            let persisted = match &shared.journal {
                Some(journal) if !reply.records.is_empty() || reply.nonces_changed => {
                    let nonces: Option<Vec<(String, Vec<u8>)>> = reply.nonces_changed.then(|| {
                        engine
                            .server_nonces()
                            .map(|(d, n)| (d.to_owned(), n.to_vec()))
                            .collect()
                    });
                    journal.persist(&reply.records, nonces.as_deref())
                }
                _ => Ok(()),
            };
            match persisted {
                Ok(()) => (reply.status, reply.body, reply.encoding, reply.hmac),
                Err(e) => {
                    log::error!("cannot store records or nonces: {e}; answering 500");
                    (500, Vec::new(), reply.encoding, None)
                }
            }
        };
        let head = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n{}{}\r\n",
            reason(status),
            encoding.content_type(),
            reply.len(),
            reply_hmac
                .map(|h| format!("x-syncml-hmac: {h}\r\n"))
                .unwrap_or_default(),
            if keep_alive { "" } else { "Connection: close\r\n" }
        );
        let mut out = head.into_bytes();
        out.extend_from_slice(&reply);
        if stream.write_all(&out).and_then(|_| stream.flush()).is_err() || !keep_alive {
            return;
        }
    }
}

/// Serves one GET of a download (then the connection closes): 200, 206 for `bytes=START-`
/// or `bytes=START-END`, 416 past the end, 404 for an unknown path.
fn serve_file(
    stream: &mut impl Write,
    downloads: &Downloads,
    path: &str,
    range: Option<(u64, Option<u64>)>,
) {
    let simple = |stream: &mut dyn Write, status: u16, extra: String| {
        let _ = write!(
            stream,
            "HTTP/1.1 {status} {}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n",
            reason(status)
        );
    };
    let Some(file) = downloads.file(path) else {
        return simple(stream, 404, String::new());
    };
    let Ok(mut f) = std::fs::File::open(file) else {
        return simple(stream, 404, String::new());
    };
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let cut = downloads.begin(range.is_some());
    let (status, start, end) = match range {
        None => (200, 0, size),
        Some((start, _)) if start >= size => {
            return simple(stream, 416, format!("Content-Range: bytes */{size}\r\n"));
        }
        Some((start, end)) => (206, start, end.map_or(size, |e| (e + 1).min(size))),
    };
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n",
        reason(status),
        end - start
    );
    if status == 206 {
        head.push_str(&format!(
            "Content-Range: bytes {start}-{}/{size}\r\n",
            end - 1
        ));
    }
    head.push_str("\r\n");
    if stream.write_all(head.as_bytes()).is_err() || f.seek(SeekFrom::Start(start)).is_err() {
        return;
    }
    let mut left = end - start;
    if let Some(cut) = cut {
        left = left.min(cut);
    }
    let mut buf = vec![0u8; 64 * 1024];
    while left > 0 {
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = match f.read(&mut buf[..want]) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).is_err() {
            return;
        }
        left -= n as u64;
    }
    let _ = stream.flush();
}

/// The reason phrase of the statuses this server answers with.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        400 => "Bad Request",
        401 => "Unauthorized",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// One request this server takes.
enum Request {
    /// A SyncML message.
    Post {
        body: Vec<u8>,
        keep_alive: bool,
        hmac: Option<String>,
    },
    /// A download, with its byte range.
    Get {
        path: String,
        range: Option<(u64, Option<u64>)>,
    },
}

/// `bytes=START-` or `bytes=START-END`.
fn parse_range(v: &str) -> Option<(u64, Option<u64>)> {
    let (start, end) = v.trim().strip_prefix("bytes=")?.split_once('-')?;
    let start = start.trim().parse().ok()?;
    let end = match end.trim() {
        "" => None,
        e => Some(e.parse().ok()?),
    };
    Some((start, end))
}

/// Reads one request; `Ok(None)` at a clean end of the connection, `Err(status)` for a
/// request this server does not take.
fn read_request(stream: &mut impl Read, buf: &mut Vec<u8>) -> Result<Option<Request>, u16> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(buf) {
            Ok(httparse::Status::Complete(used)) => {
                let header = |n: &str| {
                    req.headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(n))
                        .map(|h| String::from_utf8_lossy(h.value).trim().to_owned())
                };
                if req.method == Some("GET") {
                    let path = req.path.unwrap_or("/").to_owned();
                    let range = match header("range") {
                        Some(r) => Some(parse_range(&r).ok_or(416u16)?),
                        None => None,
                    };
                    buf.drain(..used);
                    return Ok(Some(Request::Get { path, range }));
                }
                if req.method != Some("POST") {
                    return Err(405);
                }
                if header("transfer-encoding").is_some() {
                    return Err(411);
                }
                let len: usize = header("content-length")
                    .and_then(|v| v.parse().ok())
                    .ok_or(411u16)?;
                if len > MAX_BODY {
                    return Err(413);
                }
                let keep_alive =
                    !header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close"));
                let hmac = header("x-syncml-hmac");
                buf.drain(..used);
                while buf.len() < len {
                    let mut chunk = [0u8; 16 * 1024];
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return Ok(None),
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let body: Vec<u8> = buf.drain(..len).collect();
                return Ok(Some(Request::Post {
                    body,
                    keep_alive,
                    hmac,
                }));
            }
            Ok(httparse::Status::Partial) => {
                if buf.len() > 64 * 1024 {
                    return Err(431);
                }
                let mut chunk = [0u8; 16 * 1024];
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => return Ok(None),
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            Err(_) => return Err(400),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any request bytes give a request, the end, or a status to refuse with; never a
        /// panic, and never more than the head limit plus one body buffered.
        #[test]
        fn any_request_bytes_are_taken_or_refused(
            bytes in proptest::collection::vec(any::<u8>(), 0..2048),
            prefix in "(GET /fw/x HTTP/1.1\r\nRange: |POST /dm HTTP/1.1\r\nContent-Length: |)",
        ) {
            let mut input = prefix.into_bytes();
            input.extend_from_slice(&bytes);
            let mut stream: &[u8] = &input;
            let mut buf = Vec::new();
            let _ = read_request(&mut stream, &mut buf);
            prop_assert!(buf.len() <= 64 * 1024 + 16 * 1024 + input.len());
        }
    }

    #[test]
    fn ranges_are_start_and_optional_end() {
        assert_eq!(parse_range("bytes=100-"), Some((100, None)));
        assert_eq!(parse_range("bytes=5-9"), Some((5, Some(9))));
        assert_eq!(parse_range("items=1-2"), None);
        assert_eq!(parse_range("bytes=x-"), None);
    }
}
