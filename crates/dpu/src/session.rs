//! The session state machine: package 1, authentication both ways, executing each server
//! message and building the reply within the server's MaxMsgSize, continuation with Alert
//! 1222, and the end of the session.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};

use omadm_cm::{Manager, Principal};
use omadm_syncml::auth::{decode_nonce, AuthScheme};
use omadm_syncml::notification::session_id_text;
use omadm_syncml::{
    b64, decode_lenient, encode, Alert, Chal, Command, Cred, Data, Item, ItemCommand, Location,
    Meta, MoreMeta, Refs, Status, SyncBody, SyncHdr, SyncMl,
};

use crate::config::{Credentials, SessionConfig};
use crate::event::{EndReason, Event};
use crate::exec::Executor;
use crate::large_object::Assembler;
use crate::reply::ReplyBuilder;
use crate::response::Response;
use crate::ui::UserInterface;
use crate::{AlertStore, GenericAlert};

/// How the session was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// In answer to a notification (package #0): Alert 1200 with its session id.
    Server {
        /// The notification's session id.
        session_id: u16,
    },
    /// On the device's own initiative: Alert 1201.
    Client {
        /// A session id the driver chose.
        session_id: u16,
    },
}

/// How many server messages in a row may ask for more (Alert 1222) with nothing to exchange,
/// or leave a large object the device awaits without its next chunk, before the session ends
/// with [`EndReason::ProtocolError`].
pub const MAX_IDLE_EXCHANGES: u32 = 4;

/// The largest server message accepted when `max_msg_size` was announced: that size plus
/// an eighth of it (at least 1 KiB). Decided here: some servers count only the SyncBody, or
/// the message before re-encoding it, and overshoot a little; a slack of 12.5 % lets them
/// through while a hostile server still cannot make a message cost more than a small
/// multiple of what the device announced (decoding memory is bounded per input octet by the
/// decoder's [`omadm_syncml::Limits`]). Larger messages are refused before they are decoded.
pub fn accepted_size(max_msg_size: u64) -> u64 {
    max_msg_size.saturating_add((max_msg_size / 8).max(1024))
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The encoded message.
    pub body: Vec<u8>,
    /// Its content type.
    pub content_type: &'static str,
    /// Where to send it: the server's RespURI if it gave one, else the account's address.
    pub url: String,
    /// The `x-syncml-hmac` header value, when the client authenticates with HMAC.
    pub hmac: Option<String>,
}

/// Why [`Session::handle`] failed; the session is over (an [`Event::Ended`] with
/// [`EndReason::ProtocolError`] says so too).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionError {
    /// The session had already ended.
    Ended,
    /// The server's message is larger than the device announced (plus the slack of
    /// [`accepted_size`]); it was not decoded.
    TooLarge {
        /// The message's size in octets.
        size: usize,
        /// The MaxMsgSize the device announced.
        max_msg_size: u64,
        /// What it accepts, slack included.
        accepted: u64,
    },
    /// The server's message does not decode.
    Undecodable(omadm_syncml::DecodeError),
    /// The message belongs to another session.
    WrongSession {
        /// Its SessionID (escaped, cut).
        got: String,
        /// This session's.
        expected: String,
    },
    /// The tree could not be made durable: nothing of the message is reported done.
    Storage(omadm_cm::CmError),
    /// The driver's alert store could not record an acknowledgement.
    AlertStore {
        /// The alert.
        id: u64,
        /// What the store said.
        reason: String,
    },
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionError::Ended => f.write_str("the session is over"),
            SessionError::TooLarge {
                size,
                max_msg_size,
                accepted,
            } => write!(
                f,
                "the server sent {size} octets, more than the MaxMsgSize {max_msg_size} this \
                 device announced (plus {} octets of slack)",
                accepted - max_msg_size
            ),
            SessionError::Undecodable(e) => write!(f, "undecodable server message: {e}"),
            SessionError::WrongSession { got, expected } => {
                write!(f, "SessionID {got} is not this session's {expected}")
            }
            SessionError::Storage(e) => write!(f, "cannot persist the tree: {e}"),
            SessionError::AlertStore { id, reason } => {
                write!(
                    f,
                    "cannot store the acknowledgement of alert {id}: {reason}"
                )
            }
        }
    }
}

impl std::error::Error for SessionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SessionError::Undecodable(e) => Some(e),
            SessionError::Storage(e) => Some(e),
            _ => None,
        }
    }
}

/// Fills a buffer with unpredictable octets (new nonces). Passed in: the engine reads no
/// randomness of its own.
pub type Entropy = Box<dyn FnMut(&mut [u8]) + Send>;

/// One management session. See the crate documentation.
pub struct Session {
    config: SessionConfig,
    /// Who the server's commands come from, for the Configuration Manager (built once).
    server: Principal,
    trigger: Trigger,
    session_id: String,
    /// Our next MsgID.
    msg_id: u32,
    entropy: Entropy,
    events: VecDeque<Event>,
    ended: bool,
    resp_uri: Option<String>,
    server_max_msg_size: Option<u64>,
    /// The client's credential state.
    client_creds: Option<Credentials>,
    client_authenticated: bool,
    client_attempts: u32,
    /// The server's credential state.
    server_authenticated: bool,
    /// A nonce issued to the server in the message being built: reported
    /// ([`Event::ServerNonce`]) only once that message is handed out, so that a nonce the
    /// server never received is never stored.
    pending_server_nonce: Option<Vec<u8>>,
    server_failures: u32,
    /// Server messages in a row that asked for more (Alert 1222) while sending nothing and
    /// with nothing owed to them: a loop a broken server would keep up forever.
    idle_exchanges: u32,
    /// Generic alerts to carry in package 1, and those sent awaiting a Status, by
    /// (MsgID, CmdID).
    alerts: Vec<GenericAlert>,
    alerts_in_flight: HashMap<(String, String), u64>,
    /// Generic alerts an authenticated server refused with 401/407 (it had not believed our
    /// credentials yet): sent again in the next reply, once the client is authenticated.
    alerts_to_resend: Vec<u64>,
    /// Responses that did not fit the previous message.
    outbox: VecDeque<Command<'static>>,
    large_object: Assembler,
    ui: Option<Box<dyn UserInterface>>,
    /// Items of an Alert 1224 (client event) for package 1.
    client_events: Vec<Item<'static>>,
}

fn random_nonce(entropy: &mut Entropy) -> Vec<u8> {
    let mut nonce = vec![0u8; 16];
    entropy(&mut nonce);
    nonce
}

impl Session {
    /// A session for `config`, started by `trigger`, carrying `alerts` (pending generic
    /// alerts) in package 1.
    pub fn new(
        config: SessionConfig,
        trigger: Trigger,
        alerts: Vec<GenericAlert>,
        entropy: Entropy,
    ) -> Self {
        let id = match trigger {
            Trigger::Server { session_id } | Trigger::Client { session_id } => session_id,
        };
        let client_creds = config.client_credentials.clone();
        let max_obj = config.max_obj_size;
        let server = Principal::server(config.server_id.clone(), config.server_roles);
        Session {
            server,
            config,
            trigger,
            session_id: session_id_text(id),
            msg_id: 0,
            entropy,
            events: VecDeque::new(),
            ended: false,
            resp_uri: None,
            server_max_msg_size: None,
            client_creds,
            client_authenticated: false,
            client_attempts: 0,
            server_authenticated: false,
            pending_server_nonce: None,
            server_failures: 0,
            idle_exchanges: 0,
            alerts,
            alerts_in_flight: HashMap::new(),
            alerts_to_resend: Vec::new(),
            outbox: VecDeque::new(),
            large_object: Assembler::new(max_obj),
            ui: None,
            client_events: Vec::new(),
        }
    }

    /// Adds a client event (Alert 1224) item to package 1: Meta Type and Format, and Data.
    pub fn add_client_event(&mut self, type_: &str, format: &str, data: &str) {
        self.client_events.push(
            Item::default()
                .with_meta(Meta::format_type(format.to_owned(), type_.to_owned()))
                .with_data(data.to_owned()),
        );
    }

    /// Attaches the UI that answers user-interaction alerts (without one they get 406).
    pub fn set_ui(&mut self, ui: Box<dyn UserInterface>) {
        self.ui = Some(ui);
    }

    /// Uses `id` as the SessionID instead of the trigger's number (for tools that replay a
    /// recorded exchange whose SessionID is not a notification's hex number).
    pub fn set_session_id(&mut self, id: impl Into<String>) {
        self.session_id = id.into();
    }

    /// The SessionID of every message (upper-case hex of the notification's session id).
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// Whether the session is over.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn end(&mut self, reason: EndReason) {
        if !self.ended {
            self.ended = true;
            log::info!("session {} ended: {reason}", self.session_id);
            self.events.push_back(Event::Ended(reason));
        }
    }

    fn url(&self) -> String {
        self.resp_uri
            .clone()
            .unwrap_or_else(|| self.config.server_uri.clone())
    }

    /// The header of the next message, and its MsgID taken.
    fn header(&mut self) -> SyncHdr<'static> {
        let header = self.next_header().into_owned();
        self.msg_id += 1;
        header
    }

    /// The header of the next message, its MsgID not yet taken (a reply that is never sent
    /// takes none).
    fn next_header(&self) -> SyncHdr<'_> {
        let mut header = SyncHdr::new(
            self.config.version,
            self.session_id.as_str(),
            (self.msg_id + 1).to_string(),
            Location::new(self.config.server_uri.as_str()),
            Location::new(self.config.device_id.as_str()),
        );
        if let Some(creds) = &self.client_creds {
            if !self.client_authenticated {
                header.source.loc_name = Some(Box::new(creds.name.as_str().into()));
                header.cred = match creds.scheme {
                    AuthScheme::Basic => Some(Cred::basic(&creds.name, &creds.secret)),
                    AuthScheme::Md5 => Some(Cred::md5(&creds.name, &creds.secret, &creds.nonce)),
                    AuthScheme::Hmac => None,
                };
            }
        }
        header.meta = Some(Meta {
            more: Some(Box::new(MoreMeta {
                max_msg_size: Some(self.config.max_msg_size),
                max_obj_size: Some(self.config.max_obj_size),
                ..MoreMeta::default()
            })),
            ..Meta::default()
        });
        header
    }

    /// Package 1: Alert 1200/1201, DevInfo, the pending generic alerts, Final.
    pub fn start(&mut self) -> Outgoing {
        let header = self.header();
        let mut commands = Vec::new();
        let mut next = 0u32;
        let mut id = || {
            next += 1;
            next.to_string()
        };
        let code = match self.trigger {
            Trigger::Server { .. } => 1200,
            Trigger::Client { .. } => 1201,
        };
        commands.push(Command::Alert(Alert::new(id(), code)));
        let items: Vec<Item<'static>> = self
            .config
            .dev_info
            .iter()
            .map(|(uri, value)| {
                Item::source(uri.clone())
                    .with_meta(Meta::format_type("chr", "text/plain"))
                    .with_data(value.clone())
            })
            .collect();
        if !items.is_empty() {
            commands.push(Command::Replace(ItemCommand::new(id(), items)));
        }
        if !self.client_events.is_empty() {
            let mut alert = Alert::new(id(), 1224);
            alert.items = self.client_events.clone();
            commands.push(Command::Alert(alert));
        }
        self.alerts_in_flight.clear();
        self.alerts_to_resend.clear();
        // Generic alerts are a DM 1.2 feature: a 1.1.2 session leaves them pending.
        if self.config.version == omadm_syncml::DmVersion::V1_2 {
            for alert in &self.alerts {
                let cmd_id = id();
                self.alerts_in_flight
                    .insert((header.msg_id.to_string(), cmd_id.clone()), alert.id);
                commands.push(Command::Alert(alert.to_alert(cmd_id)));
            }
        }
        let msg = SyncMl {
            header,
            body: SyncBody {
                commands,
                is_final: true,
            },
        };
        self.outgoing(&msg)
    }

    fn outgoing(&self, msg: &SyncMl<'_>) -> Outgoing {
        self.outgoing_body(encode(msg, self.config.encoding))
    }

    /// The message `body` as sent: to our URL, with its HMAC when the account uses it.
    fn outgoing_body(&self, body: Vec<u8>) -> Outgoing {
        let hmac = match &self.client_creds {
            Some(c) if c.scheme == AuthScheme::Hmac => Some(
                omadm_syncml::auth::HmacHeader::compute(&c.name, &c.secret, &c.nonce, &body)
                    .to_header_value(),
            ),
            _ => None,
        };
        Outgoing {
            body,
            content_type: self.config.encoding.content_type(),
            url: self.url(),
            hmac,
        }
    }

    /// Handles one server message; returns the reply, or `None` when the session is over
    /// (then an [`Event::Ended`] is queued). Changes to the tree are persisted before the reply
    /// that reports them is returned.
    pub fn handle(
        &mut self,
        cm: &mut Manager,
        bytes: &[u8],
    ) -> Result<Option<Outgoing>, SessionError> {
        self.handle_with_hmac(cm, bytes, None)
    }

    /// As [`Session::handle`], with the server message's `x-syncml-hmac` header, which the
    /// transport passes on: it authenticates the server when its account uses HMAC.
    pub fn handle_with_hmac(
        &mut self,
        cm: &mut Manager,
        bytes: &[u8],
        hmac: Option<&str>,
    ) -> Result<Option<Outgoing>, SessionError> {
        self.process(cm, None, bytes, hmac)
    }

    /// As [`Session::handle_with_hmac`], telling `alerts` of every generic alert the server
    /// acknowledged, durably, before the message's effects are persisted (see
    /// [`AlertStore`]).
    pub fn handle_with_alerts(
        &mut self,
        cm: &mut Manager,
        alerts: &mut dyn AlertStore,
        bytes: &[u8],
        hmac: Option<&str>,
    ) -> Result<Option<Outgoing>, SessionError> {
        self.process(cm, Some(alerts), bytes, hmac)
    }

    fn process(
        &mut self,
        cm: &mut Manager,
        alerts: Option<&mut dyn AlertStore>,
        bytes: &[u8],
        hmac: Option<&str>,
    ) -> Result<Option<Outgoing>, SessionError> {
        if self.ended {
            return Err(SessionError::Ended);
        }
        let result = self.handle_inner(cm, alerts, bytes, hmac);
        // A nonce issued in this message reaches the server only if the message goes out.
        let nonce = self.pending_server_nonce.take();
        match &result {
            Ok(Some(_)) => {
                if let Some(nonce) = nonce {
                    self.events.push_back(Event::ServerNonce { nonce });
                }
            }
            Ok(None) => {}
            Err(e) => self.end(EndReason::ProtocolError(e.to_string())),
        }
        result
    }

    fn handle_inner(
        &mut self,
        cm: &mut Manager,
        alerts: Option<&mut dyn AlertStore>,
        bytes: &[u8],
        hmac: Option<&str>,
    ) -> Result<Option<Outgoing>, SessionError> {
        // A message larger than we announced is refused before it costs anything.
        let accepted = accepted_size(self.config.max_msg_size);
        if bytes.len() as u64 > accepted {
            return Err(SessionError::TooLarge {
                size: bytes.len(),
                max_msg_size: self.config.max_msg_size,
                accepted,
            });
        }
        let mut limits = self.config.limits;
        limits.max_input_bytes = limits
            .max_input_bytes
            .min(usize::try_from(accepted).unwrap_or(usize::MAX));
        let (msg, encoding) = decode_lenient(bytes, &limits).map_err(SessionError::Undecodable)?;
        if msg.header.session_id.trim() != self.session_id {
            return Err(SessionError::WrongSession {
                got: omadm_syncml::printable(&msg.header.session_id)
                    .limit(64)
                    .to_string(),
                expected: self.session_id.clone(),
            });
        }
        let server_msg_id: &str = &msg.header.msg_id;

        // 1. Is the server who it says? Judged before anything the message says is believed.
        let mac_valid = match (&self.config.server_credentials, hmac) {
            (Some(c), Some(h)) if c.scheme == AuthScheme::Hmac => Some(
                omadm_syncml::auth::HmacHeader::parse(h)
                    .is_some_and(|h| h.username == c.name && h.verify(&c.secret, &c.nonce, bytes)),
            ),
            _ => None,
        };
        let header_status = self.check_server(&msg, mac_valid);
        let server_ok = crate::exec::is_success(header_status.code().unwrap_or(500));

        // 2. Only from a server that authenticated: its RespURI, its MaxMsgSize and its answers
        // to our previous message (acknowledged alerts, challenges, nonces). Acknowledged
        // alerts are made durable before anything of this message is committed.
        let mut resend_package1 = false;
        if server_ok {
            if let Some(uri) = &msg.header.resp_uri {
                self.resp_uri = Some(uri.to_string());
            }
            if let Some(size) = msg.header.meta.as_ref().and_then(Meta::max_msg_size) {
                self.server_max_msg_size = Some(size);
            }
            let events_before = self.events.len();
            for command in &msg.body.commands {
                if let Command::Status(s) = command {
                    if self.on_status(s) {
                        resend_package1 = true;
                    }
                }
            }
            if let Some(store) = alerts {
                let acknowledged: Vec<u64> = self
                    .events
                    .iter()
                    .skip(events_before)
                    .filter_map(|e| match e {
                        Event::GenericAlertAcknowledged { id, .. } => Some(*id),
                        _ => None,
                    })
                    .collect();
                for id in acknowledged {
                    store
                        .acknowledge(id)
                        .map_err(|reason| SessionError::AlertStore { id, reason })?;
                }
            }
            if self.ended {
                return Ok(None);
            }
        } else {
            // A server that failed is still heard on the challenge to our credentials: else
            // two sides that each refuse the other at once would deadlock, each ignoring the
            // other's new nonce (see `take_challenge`).
            for command in &msg.body.commands {
                if let Command::Status(s) = command {
                    self.take_challenge(s);
                }
            }
        }

        // 3. Run its commands (only for an authenticated server and a client it accepted).
        // Their responses go straight into the reply, after the header's Status and what
        // did not fit the previous message; package 1 sent again carries them too.
        let header_code = header_status.code();
        let outbox_was_empty = self.outbox.is_empty();
        let mut responses = if resend_package1 {
            Responses::Restart(Box::new(header_status), Vec::new())
        } else {
            let mut reply = ReplyBuilder::new(
                &self.next_header(),
                self.config.encoding,
                self.server_max_msg_size,
                bytes.len(),
                encoding,
            );
            let mut header_status = header_status;
            header_status.msg_ref = Cow::Borrowed(server_msg_id);
            reply.push(Command::Status(header_status).into());
            for c in self.outbox.drain(..) {
                reply.push(c.into());
            }
            Responses::Reply(reply)
        };
        let mut has_commands = false;
        let mut aborted = false;
        // Each command's responses, in one list reused from command to command.
        let mut scratch = Vec::new();
        let mut exec = Executor {
            cm,
            who: &self.server,
            msg_ref: server_msg_id,
            ui: self.ui.as_deref_mut(),
            server_name: &self.config.server_id,
            cancelled: false,
        };
        for command in &msg.body.commands {
            match command {
                Command::Status(_) | Command::Results(_) => continue,
                Command::Alert(a) if a.code() == Some(1223) => {
                    aborted = true;
                    break;
                }
                _ => {}
            }
            has_commands = true;
            if !server_ok || resend_package1 {
                // Not executed: every command answers with the header's verdict (or 215 while
                // the client is re-authenticating).
                let code = if resend_package1 {
                    215
                } else {
                    header_code.unwrap_or(401)
                };
                responses.extend(crate::exec::refused(server_msg_id, command, code));
                continue;
            }
            match self.large_object.offer(command, server_msg_id) {
                crate::large_object::Offer::Pass => {
                    exec.run(command, &mut scratch);
                    responses.take_from(&mut scratch);
                }
                crate::large_object::Offer::Respond(extra) => {
                    responses.extend(extra.into_iter().map(Response::from))
                }
                crate::large_object::Offer::Complete {
                    command: whole,
                    extra,
                } => {
                    responses.extend(extra.into_iter().map(Response::from));
                    // The assembled command lives here only: its responses own their text.
                    let mut own = Vec::new();
                    exec.run(&whole, &mut own);
                    responses.extend(
                        own.into_iter()
                            .map(|r| Response::Command(r.into_command().into_owned())),
                    );
                }
            }
        }
        let cm = exec.cm;
        if aborted {
            self.end(EndReason::AbortedByServer);
            return Ok(None);
        }
        // A change reported as done must survive a crash: persist before replying.
        cm.persist().map_err(SessionError::Storage)?;

        let reply = match responses {
            Responses::Restart(header_status, responses) => {
                return Ok(Some(self.restart_package1(*header_status, &msg, responses)));
            }
            Responses::Reply(reply) => reply,
        };

        // 4. The end: a final server message with nothing to do and nothing left to say.
        let more_from_server = !msg.body.is_final;
        if msg.body.is_final
            && !has_commands
            && outbox_was_empty
            && !self.has_alerts_to_resend()
            && server_ok
            && !self.large_object.is_pending()
        {
            // No reply goes back: a nonce issued in this message's header status is dropped
            // (see `process`), the server keeps the one it has.
            self.end(EndReason::Completed);
            return Ok(None);
        }
        if !server_ok && self.server_failures >= self.config.max_auth_attempts {
            self.end(EndReason::ServerNotAuthenticated);
            return Ok(None);
        }

        // A server that only keeps asking for the next message while neither side has
        // anything left to send is looping: end the session rather than ping-pong forever.
        // So is one that leaves a large object unfinished and sends nothing more of it
        // (messages ended with Final, which the device would answer with Alert 1222 for
        // the next chunk, forever): only a message with a command in it is progress.
        let substantive = msg.body.commands.iter().any(|c| match c {
            Command::Status(_) | Command::Results(_) => false,
            Command::Alert(a) => a.code() != Some(1222),
            _ => true,
        });
        let asks_for_more = !msg.body.is_final || self.large_object.is_pending();
        if !substantive && asks_for_more && outbox_was_empty {
            self.idle_exchanges += 1;
            if self.idle_exchanges > MAX_IDLE_EXCHANGES {
                log::warn!(
                    "server {} asked for more {} times in a row with nothing to exchange; ending the session",
                    self.config.server_id,
                    self.idle_exchanges
                );
                self.end(EndReason::ProtocolError(
                    "the server keeps asking for more messages with nothing to exchange".into(),
                ));
                return Ok(None);
            }
        } else {
            self.idle_exchanges = 0;
        }

        // 5. The reply, within the server's MaxMsgSize.
        let more = more_from_server || self.large_object.is_pending();
        Ok(Some(self.finish_reply(reply, more)))
    }

    /// Whether refused alerts wait to go again (and can: the client is authenticated).
    fn has_alerts_to_resend(&self) -> bool {
        self.client_authenticated && !self.alerts_to_resend.is_empty()
    }

    /// Handles a Status from the server; true when package 1 must be sent again.
    fn on_status(&mut self, s: &Status<'_>) -> bool {
        let code = s.code().unwrap_or(500);
        if let Some(id) = self
            .alerts_in_flight
            .remove(&(s.msg_ref.to_string(), s.cmd_ref.to_string()))
        {
            if code == 200 || code == 202 {
                self.events
                    .push_back(Event::GenericAlertAcknowledged { id, status: code });
                self.alerts.retain(|a| a.id != id);
            } else if code == 401 || code == 407 {
                // Refused for our credentials, not for what it says: it goes again once they
                // are accepted (a header 401 restarts package 1 with every alert anyway).
                self.alerts_to_resend.push(id);
            }
            return false;
        }
        if s.cmd_ref != "0" && s.cmd != "SyncHdr" {
            return false;
        }
        let nonce = s
            .chal
            .as_ref()
            .and_then(|c| c.meta.next_nonce())
            .and_then(decode_nonce);
        let scheme = s
            .chal
            .as_ref()
            .and_then(|c| c.meta.type_.as_deref())
            .and_then(AuthScheme::from_meta_type);
        match code {
            212 | 200 => {
                if code == 212 {
                    self.client_authenticated = true;
                }
                if let Some(nonce) = nonce {
                    if let Some(creds) = &mut self.client_creds {
                        creds.nonce = nonce.clone();
                    }
                    self.events.push_back(Event::ClientNonce {
                        nonce,
                        trusted: self.server_authenticated
                            || self.config.server_credentials.is_none(),
                    });
                }
                false
            }
            401 | 407 => {
                self.client_attempts += 1;
                if self.client_attempts >= self.config.max_auth_attempts {
                    log::warn!(
                        "server refused our credentials {} times",
                        self.client_attempts
                    );
                    self.end(EndReason::CredentialsRefused);
                    return false;
                }
                let Some(creds) = &mut self.client_creds else {
                    log::warn!("server wants credentials and the account has none");
                    self.end(EndReason::CredentialsRefused);
                    return false;
                };
                if let Some(scheme) = scheme {
                    creds.scheme = scheme;
                }
                if let Some(nonce) = nonce {
                    creds.nonce = nonce.clone();
                    self.events.push_back(Event::ClientNonce {
                        nonce,
                        trusted: false,
                    });
                }
                self.client_authenticated = false;
                true
            }
            _ => false,
        }
    }

    /// Takes the challenge in a Status for our SyncHdr from a server that has not
    /// authenticated: its scheme and nonce go into our next credentials in this session, and
    /// nowhere else (the nonce is never stored: whoever sent it is not trusted, and a wrong
    /// nonce costs only a refused attempt, which the attempt limits bound). Nothing else of
    /// the Status is believed.
    fn take_challenge(&mut self, s: &Status<'_>) {
        if s.cmd_ref != "0" || s.cmd != "SyncHdr" || !matches!(s.code(), Some(401 | 407)) {
            return;
        }
        let Some(chal) = &s.chal else {
            return;
        };
        let Some(creds) = &mut self.client_creds else {
            return;
        };
        if let Some(scheme) = chal
            .meta
            .type_
            .as_deref()
            .and_then(AuthScheme::from_meta_type)
        {
            creds.scheme = scheme;
        }
        if let Some(nonce) = chal.meta.next_nonce().and_then(decode_nonce) {
            creds.nonce = nonce;
        }
        self.client_authenticated = false;
    }

    /// The Status for the server's SyncHdr: 212 once the server proved itself (with a new
    /// nonce for its next session when MD5 is used), 200 when it need not, 401/407 with a
    /// challenge when it failed.
    fn check_server<'m>(&mut self, msg: &'m SyncMl<'_>, mac_valid: Option<bool>) -> Status<'m> {
        let h = &msg.header;
        let mut s = Status::new("", &*h.msg_id, "0", "SyncHdr", 200);
        s.target_refs = Refs::lent(std::slice::from_ref(&h.target.loc_uri));
        s.source_refs = Refs::lent(std::slice::from_ref(&h.source.loc_uri));
        let Some(expected) = &self.config.server_credentials else {
            return s;
        };
        let hmac = expected.scheme == AuthScheme::Hmac;
        // HMAC authenticates every message; Cred-based schemes once per session.
        if self.server_authenticated && !hmac {
            return s;
        }
        let expected = expected.clone();
        let verdict = if hmac {
            match mac_valid {
                None => 407,
                Some(true) => 200,
                Some(false) => 401,
            }
        } else {
            match &h.cred {
                None => 407,
                Some(cred) => {
                    let name = h.source.name().unwrap_or(&expected.name);
                    if cred.scheme() == Some(expected.scheme)
                        && cred.verify(name, &expected.secret, &expected.nonce)
                    {
                        212
                    } else {
                        401
                    }
                }
            }
        };
        s.data = omadm_syncml::code_text(verdict);
        if verdict == 212 || verdict == 200 {
            self.server_authenticated = true;
        } else {
            self.server_authenticated = false;
            self.server_failures += 1;
            log::warn!(
                "server {} failed authentication ({verdict}), attempt {}",
                self.config.server_id,
                self.server_failures
            );
        }
        // A new nonce: after a failure, for MD5 (the next session), and for every HMAC message.
        if verdict != 212 || expected.scheme == AuthScheme::Md5 || hmac {
            let nonce = random_nonce(&mut self.entropy);
            if let Some(creds) = &mut self.config.server_credentials {
                creds.nonce = nonce.clone();
            }
            self.pending_server_nonce = Some(nonce.clone());
            s.chal = Some(Box::new(Chal {
                meta: Meta {
                    type_: Some(expected.scheme.meta_type().into()),
                    format: Some("b64".into()),
                    more: Some(Box::new(MoreMeta {
                        next_nonce: Some(b64::encode(&nonce).into()),
                        ..MoreMeta::default()
                    })),
                },
            }));
        }
        s
    }

    /// Package 1 again, with the credentials the challenge asked for.
    fn restart_package1<'m>(
        &mut self,
        mut header_status: Status<'m>,
        msg: &'m SyncMl<'_>,
        responses: Vec<Command<'m>>,
    ) -> Outgoing {
        let mut out = self.start();
        // Also answer the server's header and commands (not executed) in the same message.
        let body = std::mem::take(&mut out.body);
        let (mut decoded, _) =
            decode_lenient(&body, &self.config.limits).expect("our own message decodes");
        header_status.msg_ref = Cow::Borrowed(&msg.header.msg_id);
        let mut prefix = vec![Command::Status(header_status)];
        prefix.extend(responses);
        let mut n = decoded.body.commands.len() as u32;
        for c in &mut prefix {
            n += 1;
            if let Command::Status(s) = c {
                s.cmd_id = n.to_string().into();
            }
        }
        prefix.append(&mut decoded.body.commands);
        decoded.body.commands = prefix;
        out.body = encode(&decoded, self.config.encoding);
        out
    }

    /// Ends the reply: alerts refused for our credentials (now that the server is heard,
    /// after the responses, as many as fit), Alert 1222 when the server has more to send and
    /// we have nothing left, Final when neither side has. Takes the MsgID; what did not fit
    /// goes to the outbox.
    fn finish_reply(&mut self, mut reply: ReplyBuilder, more_from_server: bool) -> Outgoing {
        let msg_id = (self.msg_id + 1).to_string();
        while self.client_authenticated && !reply.is_full() {
            let Some(&id) = self.alerts_to_resend.first() else {
                break;
            };
            let Some(alert) = self.alerts.iter().find(|a| a.id == id) else {
                self.alerts_to_resend.remove(0);
                continue;
            };
            let cmd_id = reply.next_cmd_id().to_string();
            if !reply.push_if_room(Command::Alert(alert.to_alert(String::new()))) {
                break;
            }
            self.alerts_in_flight.insert((msg_id.clone(), cmd_id), id);
            self.alerts_to_resend.remove(0);
        }
        let more_to_send = reply.is_full() || self.has_alerts_to_resend();
        if more_from_server && !more_to_send {
            reply.push_reserved(Command::Alert(Alert::new("", 1222)));
        }
        let (body, overflow) = reply.finish(!more_from_server && !more_to_send);
        self.outbox = overflow;
        self.msg_id += 1;
        self.outgoing_body(body)
    }
}

/// Where a message's responses go: into the reply, or into package 1 sent again.
enum Responses<'m> {
    Reply(ReplyBuilder),
    Restart(Box<Status<'m>>, Vec<Command<'m>>),
}

impl<'m> Responses<'m> {
    /// Adds the responses of `list`, emptying it: those the reply takes as they are
    /// written from where they lie in the list, the rest moved out of it.
    fn take_from<'c: 'm>(&mut self, list: &mut Vec<Response<'c>>) {
        let mut written = 0;
        if let Responses::Reply(reply) = self {
            while written < list.len() && reply.push_lent(&list[written]) {
                written += 1;
            }
        }
        self.extend(list.drain(written..));
        list.clear();
    }

    fn extend<'c: 'm>(&mut self, responses: impl IntoIterator<Item = Response<'c>>) {
        for r in responses {
            match self {
                Responses::Reply(reply) => reply.push(r),
                Responses::Restart(_, list) => list.push(r.into_command()),
            }
        }
    }
}

impl GenericAlert {
    /// The Alert 1226 carrying this generic alert.
    pub fn to_alert(&self, cmd_id: String) -> Alert<'_> {
        let meta = Meta {
            type_: Some(Cow::Borrowed(&self.type_)),
            format: Some(Cow::Borrowed(&self.format)),
            more: self.mark.as_deref().map(|mark| {
                Box::new(MoreMeta {
                    mark: Some(Cow::Borrowed(mark)),
                    ..MoreMeta::default()
                })
            }),
        };
        let item = Item {
            source: self.source.as_deref().map(Location::new),
            target: self.target.as_deref().map(Location::new),
            meta: Some(meta),
            data: Some(Data::Text(Cow::Borrowed(&self.data))),
            ..Item::default()
        };
        Alert {
            cmd_id: cmd_id.into(),
            no_resp: false,
            cred: None,
            data: Some("1226".into()),
            correlator: self.correlator.as_deref().map(Cow::Borrowed),
            items: vec![item],
        }
    }
}
