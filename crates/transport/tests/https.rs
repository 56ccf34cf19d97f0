//! The client against a TLS server on loopback: bodies by length and chunks, keep-alive,
//! certificate and host-name verification, plain HTTP policy, time-outs.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use omadm_transport::tls::self_signed;
use omadm_transport::{Client, ClientConfig, Request, TransportError};
use openssl::pkey::PKey;
use openssl::ssl::{SslAcceptor, SslMethod};
use openssl::x509::X509;

#[derive(Clone, Copy)]
enum Reply {
    Length,
    Chunked,
    Close,
    Status(u16),
    Silent,
}

struct Server {
    port: u16,
    cert: Vec<u8>,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

fn read_request(s: &mut impl Read) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).ok()?;
    Some(body)
}

fn serve(reply: Reply, names: &[&str], tls: bool) -> Server {
    let (cert, key) = self_signed(names, 1).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).unwrap();
    acceptor
        .set_certificate(&X509::from_pem(&cert).unwrap())
        .unwrap();
    acceptor
        .set_private_key(&PKey::private_key_from_pem(&key).unwrap())
        .unwrap();
    let acceptor = acceptor.build();
    let (c2, r2) = (connections.clone(), requests.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(stream) = stream else { continue };
            c2.fetch_add(1, Ordering::SeqCst);
            let (acceptor, r3) = (acceptor.clone(), r2.clone());
            std::thread::spawn(move || {
                let mut s: Box<dyn ReadWrite> = if tls {
                    match acceptor.accept(stream) {
                        Ok(s) => Box::new(s),
                        Err(_) => return,
                    }
                } else {
                    Box::new(stream)
                };
                while let Some(body) = read_request(&mut s) {
                    r3.fetch_add(1, Ordering::SeqCst);
                    let answer = format!("echo:{}", String::from_utf8_lossy(&body));
                    let out = match reply {
                        Reply::Length => format!("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.syncml.dm+xml\r\nx-syncml-hmac: algorithm=MD5, username=\"s\", mac=m\r\nContent-Length: {}\r\n\r\n{answer}", answer.len()),
                        Reply::Chunked => {
                            let (a, b) = answer.split_at(answer.len() / 2);
                            format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x};ext=1\r\n{b}\r\n0\r\n\r\n", a.len(), b.len())
                        }
                        Reply::Close => format!("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{answer}"),
                        Reply::Status(code) => format!("HTTP/1.1 {code} Nope\r\nContent-Length: 0\r\n\r\n"),
                        Reply::Silent => {
                            std::thread::sleep(Duration::from_secs(3));
                            return;
                        }
                    };
                    if s.write_all(out.as_bytes()).is_err() {
                        return;
                    }
                    if matches!(reply, Reply::Close) {
                        return;
                    }
                }
            });
        }
    });
    Server {
        port,
        cert,
        connections,
        requests,
    }
}

trait ReadWrite: Read + Write + Send {}
impl<T: Read + Write + Send> ReadWrite for T {}

fn client(server: &Server) -> Client {
    Client::new(ClientConfig {
        trust_anchors: vec![server.cert.clone()],
        system_store: false,
        io_timeout: Duration::from_millis(500),
        ..ClientConfig::default()
    })
    .unwrap()
}

fn post<'a>(url: &'a str, body: &'a [u8]) -> Request<'a> {
    Request {
        url,
        content_type: "application/vnd.syncml.dm+xml",
        body,
        hmac: Some("algorithm=MD5, username=\"d\", mac=x"),
    }
}

#[test]
fn content_length_responses_and_keep_alive() {
    let s = serve(Reply::Length, &["127.0.0.1"], true);
    let mut c = client(&s);
    let url = format!("https://127.0.0.1:{}/dm", s.port);
    for i in 0..3 {
        let body = format!("msg{i}");
        let r = c.post(&post(&url, body.as_bytes())).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, format!("echo:msg{i}").into_bytes());
        assert_eq!(
            r.content_type.as_deref(),
            Some("application/vnd.syncml.dm+xml")
        );
        assert!(r.hmac.unwrap().contains("mac=m"));
    }
    assert_eq!(
        c.connections_opened(),
        1,
        "one connection kept alive for three messages"
    );
    assert_eq!(s.requests.load(Ordering::SeqCst), 3);
}

#[test]
fn chunked_responses_are_reassembled() {
    let s = serve(Reply::Chunked, &["localhost"], true);
    let mut c = client(&s);
    let r = c
        .post(&post(
            &format!("https://localhost:{}/", s.port),
            b"abcdefgh",
        ))
        .unwrap();
    assert_eq!(r.body, b"echo:abcdefgh");
}

#[test]
fn a_closing_server_gets_a_new_connection_next_time() {
    let s = serve(Reply::Close, &["127.0.0.1"], true);
    let mut c = client(&s);
    let url = format!("https://127.0.0.1:{}/", s.port);
    assert_eq!(c.post(&post(&url, b"1")).unwrap().body, b"echo:1");
    assert_eq!(c.post(&post(&url, b"2")).unwrap().body, b"echo:2");
    assert_eq!(s.connections.load(Ordering::SeqCst), 2);
}

#[test]
fn an_untrusted_certificate_is_refused() {
    let s = serve(Reply::Length, &["127.0.0.1"], true);
    let other = serve(Reply::Length, &["127.0.0.1"], true);
    let mut c = client(&other);
    let err = c
        .post(&post(&format!("https://127.0.0.1:{}/", s.port), b"x"))
        .unwrap_err();
    assert!(matches!(err, TransportError::Tls(_)), "{err}");
    assert!(!err.is_retryable());
    assert_eq!(s.requests.load(Ordering::SeqCst), 0);
}

#[test]
fn a_certificate_for_another_host_is_refused() {
    let s = serve(Reply::Length, &["dm.example.com"], true);
    let mut c = client(&s);
    let err = c
        .post(&post(&format!("https://127.0.0.1:{}/", s.port), b"x"))
        .unwrap_err();
    assert!(matches!(err, TransportError::Tls(_)), "{err}");
}

#[test]
fn plain_http_is_refused_unless_the_policy_allows_it() {
    let s = serve(Reply::Length, &["127.0.0.1"], false);
    let url = format!("http://127.0.0.1:{}/", s.port);
    let mut strict = client(&s);
    let refused = strict.post(&post(&url, b"x")).unwrap_err();
    assert!(
        matches!(&refused, TransportError::PlainHttpRefused(m) if m.contains("--allow-plain-http")),
        "the error says how to allow it: {refused}"
    );
    let mut lax = Client::new(ClientConfig {
        allow_plain_http: true,
        system_store: false,
        ..ClientConfig::default()
    })
    .unwrap();
    assert_eq!(lax.post(&post(&url, b"x")).unwrap().body, b"echo:x");
}

#[test]
fn http_errors_come_back_as_statuses() {
    let s = serve(Reply::Status(503), &["127.0.0.1"], true);
    let mut c = client(&s);
    let r = c
        .post(&post(&format!("https://127.0.0.1:{}/", s.port), b"x"))
        .unwrap();
    assert_eq!(r.status, 503);
    assert!(omadm_transport::retry::retryable_status(r.status));
}

#[test]
fn a_silent_server_times_out_and_the_error_is_retryable() {
    let s = serve(Reply::Silent, &["127.0.0.1"], true);
    let mut c = client(&s);
    let err = c
        .post(&post(&format!("https://127.0.0.1:{}/", s.port), b"x"))
        .unwrap_err();
    assert!(matches!(err, TransportError::Io(_)), "{err}");
    assert!(err.is_retryable());
}

#[test]
fn nobody_listening_is_a_retryable_connect_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = Client::new(ClientConfig {
        system_store: false,
        ..ClientConfig::default()
    })
    .unwrap();
    let err = c
        .post(&post(&format!("https://127.0.0.1:{port}/"), b"x"))
        .unwrap_err();
    assert!(
        matches!(err, TransportError::Connect(_)) && err.is_retryable(),
        "{err}"
    );
}
