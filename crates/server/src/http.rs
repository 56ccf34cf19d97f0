//! The HTTPS front of the reference server: TLS (OpenSSL), HTTP/1.1 with keep-alive, one
//! thread per connection, every SyncML message handed to the shared [`Engine`].

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use openssl::pkey::PKey;
use openssl::ssl::{SslAcceptor, SslMethod};
use openssl::x509::X509;

use crate::engine::Engine;

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
    let other = |e: openssl::error::ErrorStack| std::io::Error::other(e.to_string());
    let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).map_err(other)?;
    let cert = X509::from_pem(cert_pem).map_err(other)?;
    let key = PKey::private_key_from_pem(key_pem).map_err(other)?;
    acceptor.set_certificate(&cert).map_err(other)?;
    acceptor.set_private_key(&key).map_err(other)?;
    let acceptor = acceptor.build();
    let listener = TcpListener::bind(listen)?;
    let addr = listener.local_addr()?;
    let engine = Arc::new(Mutex::new(engine));
    let stop = Arc::new(AtomicBool::new(false));
    let (e2, s2) = (engine.clone(), stop.clone());
    let thread = std::thread::spawn(move || {
        for stream in listener.incoming() {
            if s2.load(Ordering::SeqCst) {
                break;
            }
            let Ok(stream) = stream else { continue };
            let (acceptor, engine) = (acceptor.clone(), e2.clone());
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
                // Replies are single writes; without this, Nagle's algorithm and the peer's
                // delayed ACK add ~40 ms to every round trip.
                let _ = stream.set_nodelay(true);
                match acceptor.accept(stream) {
                    Ok(mut tls) => serve_connection(&mut tls, &engine),
                    Err(e) => log::info!("TLS handshake failed: {e}"),
                }
            });
        }
    });
    Ok(RunningServer {
        addr,
        engine,
        stop,
        thread: Some(thread),
    })
}

fn serve_connection(stream: &mut (impl Read + Write), engine: &Mutex<Engine>) {
    let mut buf = Vec::new();
    loop {
        let (body, keep_alive, hmac) = match read_request(stream, &mut buf) {
            Ok(Some(r)) => r,
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
        let (status, reply, encoding, reply_hmac) = engine
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .handle_with_hmac(&body, hmac.as_deref());
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

/// The reason phrase of the statuses this server answers with.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// Reads one request's body; `Ok(None)` at a clean end of the connection, `Err(status)` for a
/// request this server does not take.
type RequestParts = (Vec<u8>, bool, Option<String>);

fn read_request(stream: &mut impl Read, buf: &mut Vec<u8>) -> Result<Option<RequestParts>, u16> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(buf) {
            Ok(httparse::Status::Complete(used)) => {
                if req.method != Some("POST") {
                    return Err(405);
                }
                let header = |n: &str| {
                    req.headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(n))
                        .map(|h| String::from_utf8_lossy(h.value).trim().to_owned())
                };
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
                return Ok(Some((body, keep_alive, hmac)));
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
