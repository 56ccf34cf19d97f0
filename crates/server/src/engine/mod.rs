//! The server side of a DM session, sans-I/O: a device's message in (with the time it
//! arrived), the server's reply out, with what it recorded.
//!
//! Rules (decided here; the README's "Reference server" section lists them):
//! - **Sessions** are keyed by the device's LocURI and the SessionID. A package 1 (MsgID 1
//!   carrying Alert 1200 or 1201) always starts a new session, authenticated afresh; an open
//!   session with the same key is dropped (nothing of it — MsgIDs, jobs, large objects —
//!   carries over), unless it is the very package 1 that opened that session, nothing after
//!   it received: a repeat after a lost reply, answered with the same reply (so that its
//!   alerts and DevInfo are not recorded twice). Any other message must continue an open session: the next MsgID, or the
//!   same MsgID with the same bytes (a repeat after a lost reply, answered with the same
//!   reply). A message of no open session gets a SyncHdr Status 404, one whose MsgID does
//!   not follow 400; neither is executed or recorded. Sessions idle longer than the
//!   configured time-out (default 5 minutes) expire; at most [`MAX_SESSIONS`] are open (the
//!   least recently active goes first).
//! - **The device authenticates** (basic, MD5 or HMAC per its account, with a nonce this
//!   server issued) before anything it sends is believed: until it does, every command of
//!   its message is answered with the header's 401/407 (and a challenge), nothing is
//!   recorded and no job is sent. After 3 refusals the session ends. An unknown device (when
//!   accounts are required) is refused at once.
//! - **The server authenticates itself** with the account's scheme, or the one configured
//!   ([`ServerAuth`]); when the device answers 401/407 with a challenge, with the scheme it
//!   challenged for (basic, MD5, HMAC) and its nonce, and with the statuses of the refused
//!   message said again (the device did not believe them: an alert acknowledged there is
//!   acknowledged again). An unsupported scheme, or a third refusal, ends the session with a
//!   `Failed` record. [`ServerAuth::None`] sends no credentials at all (a lax server).
//! - **Jobs** go out in order, as many per message as fit the smaller of the server's and the
//!   device's MaxMsgSize (measured on the encoded message); a job that does not fit beside
//!   the answers waits for the next message (this one is not Final); a value that cannot fit
//!   goes as a large object, one chunk per message, in messages without Final; a value over the
//!   device's MaxObjSize is not sent (`Failed`). A chunk answered with anything but 213
//!   ends its object (`Failed`, with the device's code). A job answered 401/407 is sent
//!   again. Once-jobs (firmware) count as delivered when the device's Status for them
//!   arrives; until then a session that expires leaves them owed for the next one.
//! - **Records** (see [`crate::records`]) come only from authenticated messages; they are
//!   handed out with the reply ([`Reply::records`]) so that the caller makes them durable
//!   before it sends the reply, and only a bounded window stays in memory.

mod auth;
mod message;
mod session;

use std::collections::{HashMap, HashSet};

use omadm_syncml::auth::{decode_nonce, AuthScheme};
use omadm_syncml::{decode_lenient, Command, DmVersion, Encoding, Limits, Status, SyncMl};

use crate::jobs::Job;
pub use crate::records::Record;
use crate::records::RecordWindow;
use session::{DeviceSession, Incoming, JobEntry, MAX_INCOMING};

/// The most sessions open at once (the least recently active is dropped beyond it).
pub const MAX_SESSIONS: usize = 10_000;

/// Credential attempts either way before a session ends.
pub const MAX_AUTH_ATTEMPTS: u32 = 3;

/// What the server expects from one device.
#[derive(Debug, Clone)]
pub struct DeviceAccount {
    /// The device's name in its credentials (CLCRED AAuthName).
    pub name: String,
    /// Its password (CLCRED AAuthSecret).
    pub password: String,
    /// Basic, MD5 or HMAC: how the device proves itself, and (with [`ServerAuth::AsAccount`])
    /// how the server does.
    pub scheme: AuthScheme,
    /// Jobs for this device (the server's default jobs when empty).
    pub jobs: Vec<Job>,
}

/// How the server authenticates itself to devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServerAuth {
    /// With the device account's scheme ("used both ways").
    #[default]
    AsAccount,
    /// Always with this scheme (until a device challenges for another).
    Scheme(AuthScheme),
    /// Never: the server sends no credentials, as lax servers do (a device that requires
    /// them refuses the session).
    None,
}

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The server's ServerID (its name towards devices).
    pub server_id: String,
    /// The server's password (the devices' SRVCRED secret).
    pub server_password: String,
    /// The URL devices post to (Source of the server's messages).
    pub server_uri: String,
    /// Known devices by DevId; others are refused when `require_device_auth` is on.
    pub devices: HashMap<String, DeviceAccount>,
    /// Jobs for devices without their own.
    pub default_jobs: Vec<Job>,
    /// Refuse devices that do not authenticate.
    pub require_device_auth: bool,
    /// The largest message the server sends (and announces).
    pub max_msg_size: u64,
    /// Whether DM 1.2 packages are accepted. Off, the server plays a DM 1.1.2-only server:
    /// a 1.2 package gets HTTP 400 with no body (what such servers answer a namespace they
    /// do not know), so that devices' fallback can be tested.
    pub accept_v12: bool,
    /// The first this many requests get HTTP 503 (an overloaded server), so that devices'
    /// retries can be tested; 0 in normal operation.
    pub busy_responses: u32,
    /// How the server authenticates itself.
    pub server_auth: ServerAuth,
    /// Idle time (milliseconds of the clock given to [`Engine::handle`]) after which a
    /// session expires.
    pub session_timeout_ms: u64,
    /// The encoding of the server's messages; `None` answers each device in its own.
    pub encoding: Option<Encoding>,
    /// How many of the latest records stay in memory ([`Engine::records`]).
    pub record_window: usize,
}

impl Default for EngineConfig {
    /// ServerID `omadm-reference`, no devices (any device may connect), no jobs, 64 KiB
    /// messages, DM 1.2, sessions expiring after 5 idle minutes, the last 10,000 records in
    /// memory.
    fn default() -> Self {
        EngineConfig {
            server_id: "omadm-reference".into(),
            server_password: String::new(),
            server_uri: "https://127.0.0.1/dm".into(),
            devices: HashMap::new(),
            default_jobs: Vec::new(),
            require_device_auth: false,
            max_msg_size: 64 * 1024,
            accept_v12: true,
            busy_responses: 0,
            server_auth: ServerAuth::AsAccount,
            session_timeout_ms: 5 * 60 * 1000,
            encoding: None,
            record_window: 10_000,
        }
    }
}

/// Fills a buffer with unpredictable octets (the server's nonces).
pub type Entropy = Box<dyn FnMut(&mut [u8]) + Send>;

/// Entropy from OpenSSL's CSPRNG. Predictable nonces would let anyone replay credentials, so
/// if the generator fails the process stops (after a log line) rather than go on.
pub fn system_entropy() -> Entropy {
    Box::new(|b: &mut [u8]| {
        if let Err(e) = openssl::rand::rand_bytes(b) {
            log::error!(
                "the random generator failed ({e}); stopping rather than issue predictable nonces"
            );
            std::process::abort();
        }
    })
}

/// The server's answer to one device message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status (200, or 400 / 503 with an empty body).
    pub status: u16,
    /// The reply message.
    pub body: Vec<u8>,
    /// Its encoding.
    pub encoding: Encoding,
    /// Its `x-syncml-hmac` header value, when the server authenticates with HMAC.
    pub hmac: Option<String>,
    /// What this message made the server record: make it durable before sending the reply.
    pub records: Vec<Record>,
    /// Whether a device issued the server a new nonce ([`Engine::server_nonces`]): make
    /// them durable before sending the reply.
    pub nonces_changed: bool,
}

impl Reply {
    fn http(status: u16) -> Reply {
        Reply {
            status,
            body: Vec::new(),
            encoding: Encoding::Xml,
            hmac: None,
            records: Vec::new(),
            nonces_changed: false,
        }
    }
}

/// The engine. One per server; sessions of many devices at once.
pub struct Engine {
    config: EngineConfig,
    sessions: HashMap<(String, String), DeviceSession>,
    /// Nonce the server issued to each device (for its next credentials).
    device_nonces: HashMap<String, Vec<u8>>,
    /// Nonce each device issued to the server.
    server_nonces: HashMap<String, Vec<u8>>,
    records: RecordWindow,
    entropy: Entropy,
    busy_left: u32,
    /// Jobs each device gets once (firmware updates), by id.
    once_jobs: Vec<(u64, Job)>,
    next_once: u64,
    /// The once-jobs each device has answered.
    once_delivered: HashMap<String, HashSet<u64>>,
    /// What the message being handled recorded, and whether it changed a server nonce.
    new_records: Vec<Record>,
    nonces_changed: bool,
    /// The subject of the client certificate the message came with.
    client_subject: Option<String>,
}

/// Whether `msg` is a package 1: MsgID 1 with Alert 1200 or 1201.
fn is_package1(msg: &SyncMl) -> bool {
    msg.header.msg_id.trim() == "1"
        && msg
            .body
            .commands
            .iter()
            .any(|c| matches!(c, Command::Alert(a) if matches!(a.code(), Some(1200 | 1201))))
}

/// What identifies a repeated message: SHA-256 of its bytes (a repeat gets the stored reply,
/// so a forged collision must be out of reach).
fn digest(bytes: &[u8]) -> [u8; 32] {
    openssl::sha::sha256(bytes)
}

/// A DM status code (1xx–5xx), or None for what is no status.
fn dm_code(s: &Status) -> Option<u16> {
    s.code().filter(|c| (100..=599).contains(c))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl Engine {
    /// An engine; `entropy` supplies nonces.
    pub fn new(config: EngineConfig, entropy: Entropy) -> Self {
        Engine {
            busy_left: config.busy_responses,
            records: RecordWindow::new(config.record_window.max(1)),
            config,
            sessions: HashMap::new(),
            device_nonces: HashMap::new(),
            server_nonces: HashMap::new(),
            entropy,
            once_jobs: Vec::new(),
            next_once: 1,
            once_delivered: HashMap::new(),
            new_records: Vec::new(),
            nonces_changed: false,
            client_subject: None,
        }
    }

    /// Adds jobs every device gets once, after its other jobs, in its next session (a
    /// firmware update must be started once, not in every session).
    pub fn add_once_jobs(&mut self, jobs: Vec<Job>) {
        for job in jobs {
            self.once_jobs.push((self.next_once, job));
            self.next_once += 1;
        }
    }

    /// The latest records (at most [`EngineConfig::record_window`]).
    pub fn records(&self) -> Vec<Record> {
        self.records.to_vec()
    }

    /// Sets the nonce a device will use for the server's credentials (agreed at bootstrap).
    pub fn set_server_nonce(&mut self, device: &str, nonce: Vec<u8>) {
        self.server_nonces.insert(device.to_owned(), nonce);
    }

    /// The nonce `device` expects in the server's next credentials and notification digest
    /// (the one it issued last), if it issued one.
    pub fn server_nonce(&self, device: &str) -> Option<&[u8]> {
        self.server_nonces.get(device).map(Vec::as_slice)
    }

    /// Every device's current server nonce.
    pub fn server_nonces(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.server_nonces
            .iter()
            .map(|(d, n)| (d.as_str(), n.as_slice()))
    }

    /// Whether a session of `device` is open.
    pub fn has_session(&self, device: &str) -> bool {
        self.sessions.keys().any(|(d, _)| d == device)
    }

    /// How many sessions are open.
    pub fn open_sessions(&self) -> usize {
        self.sessions.len()
    }

    fn new_nonce(&mut self) -> Vec<u8> {
        let mut n = vec![0u8; 16];
        (self.entropy)(&mut n);
        n
    }

    fn record(
        &mut self,
        (device, session): &(String, String),
        kind: &str,
        what: String,
        code: Option<u16>,
        data: Option<String>,
    ) {
        let record = Record {
            device: device.clone(),
            session: session.clone(),
            kind: kind.to_owned(),
            what,
            code,
            data,
        };
        log::info!("{}", record.tsv_line().replace('\t', " "));
        self.records.push(record.clone());
        self.new_records.push(record);
    }

    /// Handles one device message that arrived at `now` (milliseconds of any clock that
    /// only goes forward), with its `x-syncml-hmac` header.
    pub fn handle(&mut self, now: u64, body: &[u8], hmac: Option<&str>) -> Reply {
        self.handle_from(now, body, hmac, None)
    }

    /// As [`Engine::handle`], for a message that came over a TLS connection on which the
    /// device presented a client certificate with `client_subject`: recorded (kind
    /// `ClientCert`) once the device has authenticated in a session.
    pub fn handle_from(
        &mut self,
        now: u64,
        body: &[u8],
        hmac: Option<&str>,
        client_subject: Option<&str>,
    ) -> Reply {
        self.new_records.clear();
        self.nonces_changed = false;
        self.expire(now);
        self.client_subject = client_subject.map(str::to_owned);
        let mut reply = self.handle_inner(now, body, hmac);
        reply.records = std::mem::take(&mut self.new_records);
        reply.nonces_changed = std::mem::take(&mut self.nonces_changed);
        reply
    }

    /// Drops the sessions idle for longer than the time-out.
    fn expire(&mut self, now: u64) {
        let timeout = self.config.session_timeout_ms;
        self.sessions.retain(|(device, sid), s| {
            let keep = now.saturating_sub(s.last_activity) < timeout;
            if !keep {
                log::info!(
                    "{} {}: session expired after {} s idle",
                    omadm_syncml::printable(device).limit(64),
                    omadm_syncml::printable(sid).limit(32),
                    now.saturating_sub(s.last_activity) / 1000
                );
            }
            keep
        });
    }

    fn handle_inner(&mut self, now: u64, body: &[u8], hmac: Option<&str>) -> Reply {
        if self.busy_left > 0 {
            self.busy_left -= 1;
            log::info!("answering 503 (busy; {} more)", self.busy_left);
            return Reply::http(503);
        }
        // The engine keeps what it answers across messages: the message owns its text.
        let (msg, encoding) = match decode_lenient(body, &Limits::default()) {
            Ok(m) => m,
            Err(e) => {
                log::warn!("undecodable device message: {e}");
                return Reply::http(400);
            }
        };
        if !self.config.accept_v12 && msg.version() != Some(DmVersion::V1_1) {
            log::info!("refusing a DM 1.2 package (1.1.2-only server)");
            return Reply::http(400);
        }
        let key = (
            msg.header.source.loc_uri.to_string(),
            msg.header.session_id.to_string(),
        );
        let shown = format!(
            "{} {}",
            omadm_syncml::printable(&key.0).limit(64),
            omadm_syncml::printable(&key.1).limit(32)
        );
        let msg_id: Option<u64> = msg.header.msg_id.trim().parse().ok();
        let body_digest = digest(body);
        if is_package1(&msg) {
            if let Some(reply) = self
                .sessions
                .get(&key)
                .and_then(|s| s.repeat_of_first(&body_digest))
            {
                log::info!("{shown}: package 1 again (its reply was lost): the same reply again");
                return reply;
            }
            if self.sessions.remove(&key).is_some() {
                log::info!("{shown}: package 1 starts the session again; the open one is dropped");
            }
            if self.sessions.len() >= MAX_SESSIONS {
                let oldest = self
                    .sessions
                    .iter()
                    .min_by_key(|(_, s)| s.last_activity)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    self.sessions.remove(&k);
                }
            }
            let account = self.config.devices.get(&key.0);
            let scheme = auth::initial_server_scheme(self.config.server_auth, account);
            self.sessions.insert(
                key.clone(),
                DeviceSession::new(
                    now,
                    msg.version().unwrap_or(DmVersion::V1_2),
                    encoding,
                    scheme,
                ),
            );
        } else {
            let Some(s) = self.sessions.get(&key) else {
                log::warn!(
                    "{shown}: MsgID {} of no open session: refused (404)",
                    omadm_syncml::printable(&msg.header.msg_id).limit(16)
                );
                return self.refusal(&msg, encoding, 404);
            };
            match msg_id {
                Some(id) if id == s.device_msg_id => {
                    if let Some(reply) = s.repeat(&body_digest) {
                        log::info!("{shown}: MsgID {id} again: the same reply again");
                        return reply;
                    }
                    log::warn!("{shown}: another message with MsgID {id}: refused (400)");
                    return self.refusal(&msg, encoding, 400);
                }
                Some(id) if id == s.device_msg_id + 1 => {}
                _ => {
                    log::warn!(
                        "{shown}: MsgID {} does not follow {}: refused (400)",
                        omadm_syncml::printable(&msg.header.msg_id).limit(16),
                        s.device_msg_id
                    );
                    return self.refusal(&msg, encoding, 400);
                }
            }
        }
        {
            let s = self.sessions.get_mut(&key).expect("open");
            s.last_activity = now;
            s.device_msg_id = msg_id.unwrap_or(1);
            if let Some(meta) = &msg.header.meta {
                if let Some(m) = meta.max_msg_size() {
                    s.device_max_msg = Some(m);
                }
                if let Some(m) = meta.max_obj_size() {
                    s.device_max_obj = Some(m);
                }
            }
        }
        let reply = self.respond(&key, &msg, body, hmac);
        if let Some(s) = self.sessions.get_mut(&key) {
            s.last = Some((body_digest, reply.clone()));
        }
        reply
    }

    /// The reply to a message that continues no session: a SyncHdr Status `code`, Final,
    /// nothing executed, no session state touched.
    fn refusal(&mut self, msg: &SyncMl, encoding: Encoding, code: u16) -> Reply {
        let mut status = Status::new("1", &*msg.header.msg_id, "0", "SyncHdr", code);
        status.target_refs.push(msg.header.target.loc_uri.clone());
        status.source_refs.push(msg.header.source.loc_uri.clone());
        let header = omadm_syncml::SyncHdr::new(
            msg.version().unwrap_or(DmVersion::V1_2),
            msg.header.session_id.clone(),
            "1",
            omadm_syncml::Location::new(msg.header.source.loc_uri.clone()),
            omadm_syncml::Location::new(self.config.server_uri.clone()),
        );
        let encoding = self.config.encoding.unwrap_or(encoding);
        Reply {
            body: omadm_syncml::encode(
                &SyncMl {
                    header,
                    body: omadm_syncml::SyncBody {
                        commands: vec![Command::Status(status)],
                        is_final: true,
                    },
                },
                encoding,
            ),
            encoding,
            ..Reply::http(200)
        }
    }

    /// Authenticates the device's message, takes in what it says and builds the reply.
    fn respond(
        &mut self,
        key: &(String, String),
        msg: &SyncMl,
        body: &[u8],
        hmac: Option<&str>,
    ) -> Reply {
        let device = key.0.clone();
        let account = self.config.devices.get(&device).cloned();
        let scheme = account.as_ref().map_or(AuthScheme::Md5, |a| a.scheme);
        let mut header_status = Status::new("", msg.header.msg_id.to_string(), "0", "SyncHdr", 200);
        header_status
            .target_refs
            .push(msg.header.target.loc_uri.to_string().into());
        header_status.source_refs.push(device.clone().into());
        let authenticated = self.sessions[key].device_authenticated;
        if !authenticated || scheme == AuthScheme::Hmac {
            let nonce = self.device_nonces.get(&device).cloned().unwrap_or_default();
            let verdict = auth::device_verdict(
                account.as_ref(),
                self.config.require_device_auth,
                msg,
                body,
                hmac,
                &nonce,
            );
            header_status.data = omadm_syncml::code_text(verdict);
            let ok = matches!(verdict, 200 | 212);
            if account.is_some() && (!ok || scheme != AuthScheme::Basic) {
                let n = self.new_nonce();
                self.device_nonces.insert(device.clone(), n.clone());
                header_status.chal = Some(auth::challenge(
                    scheme,
                    (scheme != AuthScheme::Basic).then_some(&n[..]),
                ));
            }
            if !ok {
                let s = self.sessions.get_mut(key).expect("open");
                s.auth_failures += 1;
                let end = s.auth_failures >= MAX_AUTH_ATTEMPTS || account.is_none();
                log::warn!(
                    "{} {}: device credentials refused ({verdict}), attempt {}{}",
                    omadm_syncml::printable(&device).limit(64),
                    omadm_syncml::printable(&key.1).limit(32),
                    s.auth_failures,
                    if end { "; the session ends" } else { "" }
                );
                // Every command gets its Status, with the header's verdict.
                s.answers.clear();
                s.answers.push_back(Command::Status(header_status));
                for c in &msg.body.commands {
                    if !matches!(c, Command::Status(_) | Command::Results(_)) {
                        s.answers.push_back(Command::Status(
                            Status::for_command(&msg.header.msg_id, c, verdict).into_owned(),
                        ));
                    }
                }
                return self.build(
                    key,
                    if end {
                        message::Build::End
                    } else {
                        message::Build::Refused
                    },
                );
            }
            let s = self.sessions.get_mut(key).expect("open");
            let first = !s.device_authenticated;
            s.device_authenticated = true;
            if let (true, Some(subject)) = (first, self.client_subject.clone()) {
                self.record(key, "ClientCert", "subject".into(), None, Some(subject));
            }
        }
        self.sessions
            .get_mut(key)
            .expect("open")
            .answers
            .push_back(Command::Status(header_status));
        if let Some(end) = self.take_in(key, msg) {
            return self.build(key, end);
        }
        // A device message that is not final continues the device's package (ask for the
        // rest with 1222), unless it asks for our next message itself (1222).
        let device_asks_for_more = msg
            .body
            .commands
            .iter()
            .any(|c| matches!(c, Command::Alert(a) if a.code() == Some(1222)));
        if !msg.body.is_final && !device_asks_for_more {
            return self.build(key, message::Build::Continue);
        }
        self.assign_jobs(key);
        self.build(key, message::Build::Jobs)
    }

    /// Takes in an authenticated device message: its verdict on our credentials, its
    /// statuses, results, alerts and DevInfo, with the answers it needs. Returns how the
    /// session ends, when it must.
    fn take_in(&mut self, key: &(String, String), msg: &SyncMl) -> Option<message::Build> {
        let mut ending = None;
        for command in &msg.body.commands {
            match command {
                Command::Status(s) if s.cmd_ref.trim() == "0" => {
                    if let Some(end) = self.server_verdict(key, s) {
                        ending = Some(end);
                    }
                }
                Command::Status(s) => self.job_status(key, s),
                Command::Results(r) => {
                    for item in &r.items {
                        self.result_item(key, item);
                    }
                }
                Command::Alert(a) => {
                    let code = a.code();
                    if matches!(code, Some(1224 | 1226)) {
                        for item in &a.items {
                            let type_ = item
                                .meta
                                .as_ref()
                                .and_then(|m| m.type_.as_deref())
                                .unwrap_or_default()
                                .to_owned();
                            let what = match (&a.correlator, item.source_uri()) {
                                (Some(c), Some(s)) => format!("{type_} correlator={c} source={s}"),
                                (None, Some(s)) => format!("{type_} source={s}"),
                                (Some(c), None) => format!("{type_} correlator={c}"),
                                (None, None) => type_,
                            };
                            let data = item.data.as_ref().map(|d| text(d.as_bytes()));
                            self.record(key, "Alert", what, code, data);
                        }
                    }
                    if code != Some(1222) {
                        self.answer(key, Status::for_command(&msg.header.msg_id, command, 200));
                    }
                }
                Command::Replace(r) => {
                    for item in &r.items {
                        let what = item
                            .source_uri()
                            .or(item.target_uri())
                            .unwrap_or("")
                            .to_owned();
                        let data = item.data.as_ref().map(|d| text(d.as_bytes()));
                        self.record(key, "DevInfo", what, None, data);
                    }
                    self.answer(key, Status::for_command(&msg.header.msg_id, command, 200));
                }
                other => {
                    self.answer(key, Status::for_command(&msg.header.msg_id, other, 406));
                }
            }
        }
        ending
    }

    fn answer(&mut self, key: &(String, String), status: Status<'_>) {
        self.sessions
            .get_mut(key)
            .expect("open")
            .answers
            .push_back(Command::Status(status.into_owned()));
    }

    /// The device's Status for our header: its verdict on our credentials and the nonce for
    /// the next ones. Returns how the session ends, when it must.
    fn server_verdict(&mut self, key: &(String, String), st: &Status) -> Option<message::Build> {
        if let Some(nonce) = st
            .chal
            .as_ref()
            .and_then(|c| c.meta.next_nonce())
            .and_then(decode_nonce)
        {
            self.server_nonces.insert(key.0.clone(), nonce);
            self.nonces_changed = true;
        }
        let code = dm_code(st);
        let lax = self.config.server_auth == ServerAuth::None;
        let s = self.sessions.get_mut(key).expect("open");
        match code {
            Some(200 | 212) => {
                s.server_accepted = true;
                None
            }
            Some(401 | 407) => {
                s.server_accepted = false;
                s.server_auth_failures += 1;
                // The device did not believe our last message: its statuses go again, with
                // the credentials it asked for (an acknowledged alert must reach it believed).
                let again = std::mem::take(&mut s.last_answers);
                s.answers.extend(again);
                let failures = s.server_auth_failures;
                let asked = st.chal.as_ref().and_then(|c| c.meta.type_.clone());
                let scheme = asked
                    .as_deref()
                    .and_then(omadm_syncml::auth::AuthScheme::from_meta_type);
                match (asked, scheme) {
                    (Some(t), None) => {
                        self.record(
                            key,
                            "Failed",
                            "session".into(),
                            code,
                            Some(format!(
                                "the device asked for server authentication {t}, which this server does not support"
                            )),
                        );
                        return Some(message::Build::End);
                    }
                    (_, Some(scheme)) if !lax => s.server_scheme = Some(scheme),
                    _ => {}
                }
                if failures >= MAX_AUTH_ATTEMPTS {
                    self.record(
                        key,
                        "Failed",
                        "session".into(),
                        code,
                        Some(format!(
                            "the device refused the server's credentials {failures} times"
                        )),
                    );
                    return Some(message::Build::End);
                }
                None
            }
            _ => None,
        }
    }

    /// The device's Status for one of our commands.
    fn job_status(&mut self, key: &(String, String), st: &Status) {
        let code = dm_code(st);
        let s = self.sessions.get_mut(key).expect("open");
        let Some(sent) = s
            .sent
            .remove(&(st.msg_ref.to_string(), st.cmd_ref.to_string()))
        else {
            let what = format!(
                "{} {}",
                st.cmd,
                omadm_syncml::printable(&st.cmd_ref).limit(32)
            );
            match code {
                Some(c) => self.record(key, "Status", what, Some(c), None),
                None => self.record(key, "Malformed", what, None, Some(st.data.to_string())),
            }
            return;
        };
        let Some(code) = code else {
            self.record(key, "Malformed", sent.what, None, Some(st.data.to_string()));
            return;
        };
        if let Some(entry) = sent.entry {
            if matches!(code, 401 | 407) {
                // The device did not trust us yet: the job goes again.
                s.jobs.push_front(entry);
                return;
            }
            if let Some(id) = entry.once {
                self.once_delivered
                    .entry(key.0.clone())
                    .or_default()
                    .insert(id);
            }
            if let Job::Chunk {
                more: true, uri, ..
            } = &entry.job
            {
                if code == 213 {
                    return;
                }
                // The object ends here: the rest of it is not sent, and the records say so.
                let s = self.sessions.get_mut(key).expect("open");
                let before = s.jobs.len();
                s.jobs.retain(
                    |e| !matches!(&e.job, Job::Chunk { uri: u, size: None, .. } if u == uri),
                );
                let dropped = before - s.jobs.len();
                self.record(
                    key,
                    "Failed",
                    sent.what,
                    Some(code),
                    Some(format!(
                        "large object ended by the device's status; {dropped} chunk(s) not sent"
                    )),
                );
                return;
            }
        }
        self.record(key, "Status", sent.what, Some(code), None);
    }

    /// A Results item: recorded, or, for a value the device sends in chunks, kept until its
    /// last chunk.
    fn result_item(&mut self, key: &(String, String), item: &omadm_syncml::Item) {
        let source = item.source_uri().unwrap_or("").to_owned();
        let bytes = item.data.as_ref().map(|d| d.as_bytes()).unwrap_or_default();
        let s = self.sessions.get_mut(key).expect("open");
        let continues = s.incoming.as_ref().is_some_and(|i| i.source == source);
        if !continues {
            if let Some(old) = s.incoming.take() {
                let data = text(&old.data);
                self.record(
                    key,
                    "Failed",
                    old.source,
                    None,
                    Some(format!(
                        "large object cut short after {} octets",
                        data.len()
                    )),
                );
            }
        }
        let s = self.sessions.get_mut(key).expect("open");
        if item.more_data || continues {
            let incoming = s.incoming.get_or_insert_with(|| Incoming {
                source: source.clone(),
                data: Vec::new(),
            });
            if incoming.data.len() + bytes.len() > MAX_INCOMING {
                s.incoming = None;
                self.record(
                    key,
                    "Failed",
                    source,
                    None,
                    Some(format!("large object over {MAX_INCOMING} octets")),
                );
                return;
            }
            incoming.data.extend_from_slice(bytes);
            if item.more_data {
                return;
            }
            let whole = s.incoming.take().expect("just filled");
            self.record(key, "Results", source, None, Some(text(&whole.data)));
            return;
        }
        let data = item.data.as_ref().map(|d| text(d.as_bytes()));
        self.record(key, "Results", source, None, data);
    }

    /// Gives an authenticated session its jobs (once): the device's own or the default ones,
    /// then the once-jobs it has not answered and no other open session of it holds.
    fn assign_jobs(&mut self, key: &(String, String)) {
        if self.sessions[key].jobs_assigned {
            return;
        }
        let device = &key.0;
        let jobs = self
            .config
            .devices
            .get(device)
            .map(|d| d.jobs.clone())
            .filter(|j| !j.is_empty())
            .unwrap_or_else(|| self.config.default_jobs.clone());
        let owed_elsewhere: HashSet<u64> = self
            .sessions
            .iter()
            .filter(|(k, _)| k.0 == *device && *k != key)
            .flat_map(|(_, s)| s.owed_once_jobs().collect::<Vec<_>>())
            .collect();
        let delivered = self.once_delivered.get(device);
        let once: Vec<JobEntry> = self
            .once_jobs
            .iter()
            .filter(|(id, _)| {
                !owed_elsewhere.contains(id) && !delivered.is_some_and(|d| d.contains(id))
            })
            .map(|(id, job)| JobEntry {
                job: job.clone(),
                once: Some(*id),
            })
            .collect();
        let s = self.sessions.get_mut(key).expect("open");
        s.jobs_assigned = true;
        s.jobs
            .extend(jobs.into_iter().map(|job| JobEntry { job, once: None }));
        s.jobs.extend(once);
    }
}
