//! The DM client's HTTP(S) connection: one POST per message, the connection kept for the next
//! one while the server allows it.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use openssl::ssl::{SslConnector, SslStream};

use crate::http::{write_request, Input};
use crate::{tls, TransportError, Url};

/// A URL shown in a message: control characters escaped, cut at 200 characters.
pub(crate) fn shown_url(url: &str) -> String {
    let shown: String = url
        .chars()
        .take(200)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    shown
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Trusted CA or server certificates (PEM).
    pub trust_anchors: Vec<Vec<u8>>,
    /// Also trust the system's certificate store.
    pub system_store: bool,
    /// Client certificate and key (PEM), for servers that authenticate devices by TLS.
    pub client_cert: Option<(Vec<u8>, Vec<u8>)>,
    /// Allow `http://` (policy 4130 "OMA DM SSL" set to not enforce). Off by default.
    pub allow_plain_http: bool,
    /// Connect time-out.
    pub connect_timeout: Duration,
    /// Read and write time-out.
    pub io_timeout: Duration,
    /// Largest response body accepted.
    pub max_response_bytes: usize,
    /// The User-Agent header.
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            trust_anchors: Vec::new(),
            system_store: true,
            client_cert: None,
            allow_plain_http: false,
            connect_timeout: Duration::from_secs(30),
            io_timeout: Duration::from_secs(60),
            max_response_bytes: 16 * 1024 * 1024,
            user_agent: concat!("omadm/", env!("CARGO_PKG_VERSION")).into(),
        }
    }
}

/// One message to post.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The URL (the account's address, or the server's RespURI).
    pub url: &'a str,
    /// `application/vnd.syncml.dm+xml` or `+wbxml`.
    pub content_type: &'a str,
    /// The encoded message.
    pub body: &'a [u8],
    /// The `x-syncml-hmac` header value, if the client authenticates with HMAC.
    pub hmac: Option<&'a str>,
}

/// The server's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Content-Type.
    pub content_type: Option<String>,
    /// The server's `x-syncml-hmac` header.
    pub hmac: Option<String>,
    /// The body (the server's next message).
    pub body: Vec<u8>,
}

pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<SslStream<TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// The client. Not shared between threads; one per session.
pub struct Client {
    config: ClientConfig,
    connector: SslConnector,
    /// The open connection and whom it is to.
    conn: Option<((bool, String, u16), Stream)>,
    /// Connections opened (for diagnostics and tests of keep-alive).
    connections_opened: u64,
}

impl Client {
    /// A client with `config`.
    pub fn new(config: ClientConfig) -> Result<Client, TransportError> {
        let cert = config
            .client_cert
            .as_ref()
            .map(|(c, k)| (c.as_slice(), k.as_slice()));
        let connector = tls::connector(&config.trust_anchors, config.system_store, cert)?;
        Ok(Client {
            config,
            connector,
            conn: None,
            connections_opened: 0,
        })
    }

    /// Closes the kept-alive connection, if any (the end of a session); the TLS
    /// configuration stays, so the next session does not rebuild it.
    pub fn disconnect(&mut self) {
        self.conn = None;
    }

    /// The client's settings.
    pub(crate) fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// A fresh connection for a download, kept in the client (replacing a kept-alive session
    /// connection) so that the body can borrow it.
    pub(crate) fn download_stream(&mut self, url: &Url) -> Result<&mut Stream, TransportError> {
        self.conn = None;
        let stream = self.connect(url)?;
        // Kept under an impossible key (empty host, port 0): no POST reuses a download's
        // connection, and the next session's first POST replaces it.
        self.conn = Some(((url.tls, String::new(), 0), stream));
        Ok(&mut self.conn.as_mut().expect("just set").1)
    }

    /// How many connections this client has opened.
    pub fn connections_opened(&self) -> u64 {
        self.connections_opened
    }

    fn connect(&mut self, url: &Url) -> Result<Stream, TransportError> {
        let addrs: Vec<_> = (url.host.as_str(), url.port)
            .to_socket_addrs()
            .map_err(|e| TransportError::Connect(format!("{}: {e}", url.host)))?
            .collect();
        let mut last = None;
        let mut tcp = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, self.config.connect_timeout) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let tcp = tcp.ok_or_else(|| {
            TransportError::Connect(format!(
                "{}:{}: {}",
                url.host,
                url.port,
                last.map(|e| e.to_string())
                    .unwrap_or_else(|| "no address".into())
            ))
        })?;
        tcp.set_read_timeout(Some(self.config.io_timeout))
            .map_err(|e| TransportError::Io(e.to_string()))?;
        tcp.set_write_timeout(Some(self.config.io_timeout))
            .map_err(|e| TransportError::Io(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        self.connections_opened += 1;
        if !url.tls {
            return Ok(Stream::Plain(tcp));
        }
        let tls = self
            .connector
            .configure()
            .map_err(|e| TransportError::Tls(e.to_string()))?
            .verify_hostname(true)
            .connect(&url.host, tcp)
            .map_err(|e| TransportError::Tls(e.to_string()))?;
        Ok(Stream::Tls(Box::new(tls)))
    }

    /// Posts one message and reads the answer. A kept-alive connection the server has closed
    /// meanwhile is replaced once, transparently.
    pub fn post(&mut self, request: &Request<'_>) -> Result<Response, TransportError> {
        let url = Url::parse(request.url)?;
        if !url.tls && !self.config.allow_plain_http {
            return Err(TransportError::PlainHttpRefused(format!(
                "{} is plain HTTP, which is refused: DM sessions use TLS unless plain HTTP is \
                 allowed (omadm agent --allow-plain-http, allow_plain_http in the agent \
                 configuration, omadm_agent_config_set_allow_plain_http)",
                shown_url(request.url)
            )));
        }
        let key = (url.tls, url.host.clone(), url.port);
        let reused = matches!(&self.conn, Some((k, _)) if *k == key);
        if !reused {
            self.conn = None;
        }
        match self.exchange(&url, &key, request) {
            Err(e) if reused && e.is_retryable() => {
                log::debug!(
                    "kept-alive connection to {} failed ({e}); reconnecting",
                    url.host
                );
                self.conn = None;
                self.exchange(&url, &key, request)
            }
            other => other,
        }
    }

    fn exchange(
        &mut self,
        url: &Url,
        key: &(bool, String, u16),
        request: &Request<'_>,
    ) -> Result<Response, TransportError> {
        let mut stream = match self.conn.take() {
            Some((_, s)) => s,
            None => self.connect(url)?,
        };
        let mut headers = vec![
            ("Content-Type", request.content_type),
            ("Accept", request.content_type),
            ("Cache-Control", "no-store"),
            ("Connection", "keep-alive"),
            ("User-Agent", self.config.user_agent.as_str()),
        ];
        if let Some(h) = request.hmac {
            headers.push(("x-syncml-hmac", h));
        }
        write_request(
            &mut stream,
            &url.path,
            &url.authority(),
            &headers,
            request.body,
        )?;
        let raw = Input::new(&mut stream).response(self.config.max_response_bytes)?;
        if raw.keep_alive {
            self.conn = Some((key.clone(), stream));
        }
        let header = |name: &str| {
            raw.headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        Ok(Response {
            status: raw.status,
            content_type: header("content-type"),
            hmac: header("x-syncml-hmac"),
            body: raw.body,
        })
    }
}
