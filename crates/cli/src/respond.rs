//! `omadm respond [--encoding xml|wbxml] MESSAGE...`: plays a device against server messages.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use omadm_dpu::{Credentials, Event, Session, SessionConfig, Trigger};
use omadm_syncml::auth::AuthScheme;
use omadm_syncml::{decode_lenient, Encoding, Limits};

use crate::device;

/// Encoding of the client's messages.
#[derive(Clone, Copy, ValueEnum)]
pub enum Enc {
    /// SyncML XML.
    Xml,
    /// WBXML.
    Wbxml,
}

/// A credential scheme.
#[derive(Clone, Copy, ValueEnum)]
pub enum Scheme {
    /// syncml:auth-basic.
    Basic,
    /// syncml:auth-md5.
    Md5,
    /// x-syncml-hmac (transport header; shown on stderr).
    Hmac,
}

impl From<Scheme> for AuthScheme {
    fn from(s: Scheme) -> Self {
        match s {
            Scheme::Basic => AuthScheme::Basic,
            Scheme::Md5 => AuthScheme::Md5,
            Scheme::Hmac => AuthScheme::Hmac,
        }
    }
}

/// Arguments of `respond`.
#[derive(Args)]
#[command(
    after_help = "The device: DevInfo, DevDetail, the in-memory CSPs and executable nodes \
you name, an in-memory tree whose root ACL grants the server every command. The session is the \
one the first message names (its SessionID), as if started by a notification (Alert 1200). \
Each reply goes to stdout: XML one message per line; WBXML as raw bytes, back to back (use --out \
DIR for one file per message). A message after the session ended gets no reply (noted on stderr)."
)]
pub struct RespondArgs {
    /// Encoding of the client's messages.
    #[arg(long, value_enum, default_value = "xml")]
    encoding: Enc,
    /// Mount an in-memory CSP at this prefix (repeatable), e.g. ./Vendor/memory.
    #[arg(long = "memory-csp")]
    memory_csp: Vec<String>,
    /// Add an executable no-op node (repeatable), e.g. ./test/execute.
    #[arg(long = "exec-node")]
    exec_node: Vec<String>,
    /// The server account's ServerID (the ACL principal); default: the first message's Source.
    #[arg(long = "server-id")]
    server_id: Option<String>,
    /// Require the server to authenticate with this password (its account's SRVCRED secret).
    #[arg(long = "server-password")]
    server_password: Option<String>,
    /// Server credential scheme when --server-password is given.
    #[arg(long = "server-auth", value_enum, default_value = "md5")]
    server_auth: Scheme,
    /// The server nonce (text) for verifying its credentials.
    #[arg(long = "server-nonce", default_value = "")]
    server_nonce: String,
    /// The client's name (CLCRED AAuthName); with --client-password the client sends credentials.
    #[arg(long = "client-name")]
    client_name: Option<String>,
    /// The client's password.
    #[arg(long = "client-password")]
    client_password: Option<String>,
    /// Client credential scheme.
    #[arg(long = "client-auth", value_enum, default_value = "md5")]
    client_auth: Scheme,
    /// The client nonce (text).
    #[arg(long = "client-nonce", default_value = "")]
    client_nonce: String,
    /// Also print package 1 (what the device sends before the first server message).
    #[arg(long = "with-package1")]
    with_package1: bool,
    /// Write each client message to DIR/N.xml or DIR/N.wbxml instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Server messages, in order (XML or WBXML, detected).
    #[arg(required = true)]
    messages: Vec<PathBuf>,
}

/// Builds the device's session for the exchange the first server message belongs to: its
/// SessionID, its Source as the server's address (and, unless given, ServerID).
pub fn build_session(
    first: &[u8],
    encoding: Encoding,
    server_id: Option<&str>,
    server: Option<Credentials>,
    client: Option<Credentials>,
    max_msg_size: Option<u64>,
) -> Result<Session, String> {
    let (msg, _) =
        decode_lenient(first, &Limits::default()).map_err(|e| format!("first message: {e}"))?;
    let server_uri = msg.header.source.loc_uri.clone();
    let server_id = server_id.unwrap_or(&server_uri).to_owned();
    let mut config = SessionConfig::new(device::device_info().dev_id, server_uri, server_id);
    config.version = msg.version().unwrap_or(omadm_syncml::DmVersion::V1_2);
    config.encoding = encoding;
    config.dev_info = device::device_info().package1_items();
    config.server_credentials = server.map(|mut c| {
        if c.name.is_empty() {
            c.name = config.server_id.clone();
        }
        c
    });
    config.client_credentials = client;
    if let Some(size) = max_msg_size {
        config.max_msg_size = size;
    }
    let mut counter = 0u64;
    let entropy = Box::new(move |buf: &mut [u8]| {
        // Deterministic nonces: a test tool's output should be reproducible.
        for b in buf.iter_mut() {
            counter = counter
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            *b = (counter >> 56) as u8;
        }
    });
    let mut session = Session::new(
        config,
        Trigger::Server { session_id: 0 },
        Vec::new(),
        entropy,
    );
    session.set_session_id(msg.header.session_id.trim());
    Ok(session)
}

/// Runs `respond`.
pub fn run(args: RespondArgs) -> Result<(), String> {
    let encoding = match args.encoding {
        Enc::Xml => Encoding::Xml,
        Enc::Wbxml => Encoding::Wbxml,
    };
    let messages: Vec<Vec<u8>> = args
        .messages
        .iter()
        .map(|p| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display())))
        .collect::<Result<_, _>>()?;
    let mut cm = device::build(&args.memory_csp, &args.exec_node)?;
    let server = args.server_password.as_ref().map(|pw| Credentials {
        scheme: args.server_auth.into(),
        name: args.server_id.clone().unwrap_or_default(),
        secret: pw.clone(),
        nonce: args.server_nonce.as_bytes().to_vec(),
    });
    let mut session = build_session(
        &messages[0],
        encoding,
        args.server_id.as_deref(),
        server,
        client_creds(&args),
        None,
    )?;
    let mut n = 0;
    let mut emit = |bytes: &[u8], hmac: Option<&str>| -> Result<(), String> {
        n += 1;
        if let Some(h) = hmac {
            eprintln!("message {n}: x-syncml-hmac: {h}");
        }
        match &args.out {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                let ext = if encoding == Encoding::Xml {
                    "xml"
                } else {
                    "wbxml"
                };
                let path = dir.join(format!("{n}.{ext}"));
                std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))
            }
            None => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes).map_err(|e| e.to_string())?;
                if encoding == Encoding::Xml {
                    out.write_all(b"\n").map_err(|e| e.to_string())?;
                }
                out.flush().map_err(|e| e.to_string())
            }
        }
    };
    let pkg1 = session.start();
    if args.with_package1 {
        emit(&pkg1.body, pkg1.hmac.as_deref())?;
    }
    for (i, message) in messages.iter().enumerate() {
        if session.is_ended() {
            eprintln!("omadm: message {} ignored: the session had ended", i + 1);
            continue;
        }
        match session.handle(&mut cm, message) {
            Ok(Some(reply)) => emit(&reply.body, reply.hmac.as_deref())?,
            Ok(None) => {}
            Err(e) => return Err(format!("message {}: {e}", i + 1)),
        }
        while let Some(event) = session.poll_event() {
            if let Event::Ended(reason) = event {
                eprintln!("omadm: session ended after message {}: {reason:?}", i + 1);
            }
        }
    }
    Ok(())
}

fn client_creds(args: &RespondArgs) -> Option<Credentials> {
    Some(Credentials {
        scheme: args.client_auth.into(),
        name: args.client_name.clone()?,
        secret: args.client_password.clone()?,
        nonce: args.client_nonce.as_bytes().to_vec(),
    })
}
