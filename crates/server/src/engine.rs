//! The server side of a DM session, sans-I/O: a device's message in, the server's reply out.
//!
//! Per device and SessionID: the device must authenticate (basic or MD5 per its account, with a
//! nonce this server issued; 401/407 with a challenge otherwise, and no job is sent until it
//! does); the server authenticates itself with MD5 Cred built from its password and the nonce
//! the device issued (initially the one agreed at bootstrap); jobs go out in order, as many
//! per message as fit the device's MaxMsgSize; every Status and Results the device returns is
//! recorded; a job answered 401/407 (the device did not yet trust the server) is sent again;
//! when no job is left and nothing awaits a status, the server sends a message with statuses
//! only, which ends the session.

use std::collections::{HashMap, VecDeque};

use omadm_syncml::auth::{decode_nonce, AuthScheme, HmacHeader};
use omadm_syncml::{
    b64, command_len, decode_lenient, encode, Alert, Chal, Command, Cred, DmVersion, Encoding,
    Limits, Location, Meta, Status, SyncBody, SyncHdr, SyncMl,
};

use crate::jobs::Job;

/// What the server expects from one device.
#[derive(Debug, Clone)]
pub struct DeviceAccount {
    /// The device's name in its credentials (CLCRED AAuthName).
    pub name: String,
    /// Its password (CLCRED AAuthSecret).
    pub password: String,
    /// Basic, MD5 or HMAC (used both ways: how the device proves itself and how the server
    /// does).
    pub scheme: AuthScheme,
    /// Jobs for this device (the server's default jobs when empty).
    pub jobs: Vec<Job>,
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
    /// The server's own MaxMsgSize.
    pub max_msg_size: u64,
    /// Whether DM 1.2 packages are accepted. Off, the server plays a DM 1.1.2-only server:
    /// a 1.2 package gets HTTP 400 with no body (what such servers answer a namespace they
    /// do not know), so that devices' fallback can be tested.
    pub accept_v12: bool,
    /// The first this many requests get HTTP 503 (an overloaded server), so that devices'
    /// retries can be tested; 0 in normal operation.
    pub busy_responses: u32,
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

/// One thing a device reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The device's DevId.
    pub device: String,
    /// The SessionID.
    pub session: String,
    /// `Status`, `Results`, `Alert` (generic alerts and client events) or `DevInfo`.
    pub kind: String,
    /// What it is about: the job, the node, the alert type.
    pub what: String,
    /// The status code (Status) or alert code.
    pub code: Option<u16>,
    /// The value (Results, alert data, DevInfo value).
    pub data: Option<String>,
}

struct DeviceSession {
    msg_id: u32,
    queue: VecDeque<Job>,
    /// Sent jobs awaiting a Status: (MsgID, CmdID) → job.
    sent: HashMap<(String, String), Job>,
    device_authenticated: bool,
    server_accepted: bool,
    encoding: Encoding,
    version: DmVersion,
}

/// The engine. One per server; sessions of many devices at once.
pub struct Engine {
    config: EngineConfig,
    sessions: HashMap<(String, String), DeviceSession>,
    /// Nonce the server issued to each device (for its next MD5 credentials).
    device_nonces: HashMap<String, Vec<u8>>,
    /// Nonce each device issued to the server.
    server_nonces: HashMap<String, Vec<u8>>,
    records: Vec<Record>,
    entropy: Entropy,
    busy_left: u32,
    /// Jobs each device gets once, in its next session (firmware updates).
    once_jobs: Vec<Job>,
    /// Devices that got them.
    once_done: std::collections::HashSet<String>,
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl Engine {
    /// An engine; `entropy` supplies nonces.
    pub fn new(config: EngineConfig, entropy: Entropy) -> Self {
        Engine {
            busy_left: config.busy_responses,
            config,
            sessions: HashMap::new(),
            device_nonces: HashMap::new(),
            server_nonces: HashMap::new(),
            records: Vec::new(),
            entropy,
            once_jobs: Vec::new(),
            once_done: std::collections::HashSet::new(),
        }
    }

    /// Adds jobs every device gets once, after its other jobs, in its next session (a
    /// firmware update must be started once, not in every session). Devices that already
    /// had the earlier once-jobs get these in their next session too.
    pub fn add_once_jobs(&mut self, jobs: Vec<Job>) {
        self.once_jobs.extend(jobs);
        self.once_done.clear();
    }

    /// Everything recorded so far.
    pub fn records(&self) -> &[Record] {
        &self.records
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

    fn new_nonce(&mut self) -> Vec<u8> {
        let mut n = vec![0u8; 16];
        (self.entropy)(&mut n);
        n
    }

    fn record(
        &mut self,
        device: &str,
        session: &str,
        kind: &str,
        what: String,
        code: Option<u16>,
        data: Option<String>,
    ) {
        log::info!("{device} {session}: {kind} {what} {code:?}");
        self.records.push(Record {
            device: device.to_owned(),
            session: session.to_owned(),
            kind: kind.to_owned(),
            what,
            code,
            data,
        });
    }

    /// Handles one device message; returns the HTTP status and the reply body.
    pub fn handle(&mut self, body: &[u8]) -> (u16, Vec<u8>, Encoding) {
        let (status, reply, encoding, _) = self.handle_with_hmac(body, None);
        (status, reply, encoding)
    }

    /// Handles one device message with its `x-syncml-hmac` header; returns the HTTP status,
    /// the reply body, its encoding and the reply's own `x-syncml-hmac` header value.
    ///
    /// HMAC (decided here): a device account's scheme is used both ways. For an HMAC device,
    /// every message must carry a valid header (username = the account name, keyed with the
    /// nonce the server issued last); the server issues a new nonce in every SyncHdr Status
    /// and signs every reply with its password and the nonce the device issued last.
    pub fn handle_with_hmac(
        &mut self,
        body: &[u8],
        hmac: Option<&str>,
    ) -> (u16, Vec<u8>, Encoding, Option<String>) {
        let (status, reply, encoding, device) = self.handle_inner(body, hmac);
        let header = device.and_then(|d| {
            let acc = self.config.devices.get(&d)?;
            if acc.scheme != AuthScheme::Hmac || status != 200 {
                return None;
            }
            let nonce = self.server_nonces.get(&d).cloned().unwrap_or_default();
            Some(
                HmacHeader::compute(
                    &self.config.server_id,
                    &self.config.server_password,
                    &nonce,
                    &reply,
                )
                .to_header_value(),
            )
        });
        (status, reply, encoding, header)
    }

    fn handle_inner(
        &mut self,
        body: &[u8],
        hmac: Option<&str>,
    ) -> (u16, Vec<u8>, Encoding, Option<String>) {
        if self.busy_left > 0 {
            self.busy_left -= 1;
            log::info!("answering 503 (busy; {} more)", self.busy_left);
            return (503, Vec::new(), Encoding::Xml, None);
        }
        let (msg, encoding) = match decode_lenient(body, &Limits::default()) {
            Ok(m) => m,
            Err(e) => {
                log::warn!("undecodable device message: {e}");
                return (400, Vec::new(), Encoding::Xml, None);
            }
        };
        if !self.config.accept_v12 && msg.version() != Some(DmVersion::V1_1) {
            log::info!("refusing a DM 1.2 package (1.1.2-only server)");
            return (400, Vec::new(), encoding, None);
        }
        let device = msg.header.source.loc_uri.clone();
        let sid = msg.header.session_id.clone();
        let key = (device.clone(), sid.clone());
        if !self.sessions.contains_key(&key) {
            let jobs = self
                .config
                .devices
                .get(&device)
                .map(|d| d.jobs.clone())
                .filter(|j| !j.is_empty())
                .unwrap_or_else(|| self.config.default_jobs.clone());
            let mut jobs = jobs;
            if !self.once_jobs.is_empty() && self.once_done.insert(device.clone()) {
                jobs.extend(self.once_jobs.iter().cloned());
            }
            self.sessions.insert(
                key.clone(),
                DeviceSession {
                    msg_id: 0,
                    queue: jobs.into(),
                    sent: HashMap::new(),
                    device_authenticated: !self.config.require_device_auth,
                    server_accepted: false,
                    encoding,
                    version: msg.version().unwrap_or(DmVersion::V1_2),
                },
            );
        }
        // The device's credentials.
        let mut header_status = Status::new("", &msg.header.msg_id, "0", "SyncHdr", 200);
        header_status
            .target_refs
            .push(msg.header.target.loc_uri.clone());
        header_status.source_refs.push(device.clone());
        let is_hmac = self
            .config
            .devices
            .get(&device)
            .is_some_and(|d| d.scheme == AuthScheme::Hmac);
        let authenticated = self.sessions[&key].device_authenticated && !is_hmac;
        if !authenticated {
            let verdict = match (self.config.devices.get(&device), &msg.header.cred) {
                (None, _) => 401,
                (Some(acc), _) if acc.scheme == AuthScheme::Hmac => {
                    let nonce = self.device_nonces.get(&device).cloned().unwrap_or_default();
                    match hmac.and_then(HmacHeader::parse) {
                        None => 407,
                        Some(h)
                            if h.username == acc.name && h.verify(&acc.password, &nonce, body) =>
                        {
                            200
                        }
                        Some(_) => 401,
                    }
                }
                (Some(_), None) => 407,
                (Some(acc), Some(cred)) => {
                    let nonce = self.device_nonces.get(&device).cloned().unwrap_or_default();
                    let name = msg.header.source.loc_name.as_deref().unwrap_or(&acc.name);
                    if name == acc.name
                        && cred.scheme() == Some(acc.scheme)
                        && cred.verify(&acc.name, &acc.password, &nonce)
                    {
                        212
                    } else {
                        401
                    }
                }
            };
            header_status.data = verdict.to_string();
            if verdict == 212 || (verdict == 200 && is_hmac) {
                self.sessions
                    .get_mut(&key)
                    .expect("inserted")
                    .device_authenticated = true;
            }
            let scheme = self
                .config
                .devices
                .get(&device)
                .map(|d| d.scheme)
                .unwrap_or(AuthScheme::Md5);
            if !matches!(verdict, 200 | 212) || scheme != AuthScheme::Basic {
                let nonce = self.new_nonce();
                self.device_nonces.insert(device.clone(), nonce.clone());
                header_status.chal = Some(Box::new(Chal {
                    meta: Meta {
                        type_: Some(scheme.meta_type().into()),
                        format: Some("b64".into()),
                        next_nonce: Some(b64::encode(&nonce)),
                        ..Meta::default()
                    },
                }));
            }
            if !matches!(verdict, 200 | 212) {
                self.record(
                    &device,
                    &sid,
                    "Auth",
                    "device credentials refused".into(),
                    Some(verdict),
                    None,
                );
                let reply =
                    self.build(&key, vec![Command::Status(header_status)], Vec::new(), true);
                return (200, reply, encoding, Some(device));
            }
        }

        // What the device says.
        let mut answers = vec![Command::Status(header_status)];
        let mut requeue = Vec::new();
        for command in &msg.body.commands {
            match command {
                Command::Status(s) => {
                    let code = s.code();
                    if s.cmd_ref == "0" {
                        if let Some(nonce) = s
                            .chal
                            .as_ref()
                            .and_then(|c| c.meta.next_nonce.as_deref())
                            .and_then(decode_nonce)
                        {
                            self.server_nonces.insert(device.clone(), nonce);
                        }
                        if matches!(code, Some(200 | 212)) {
                            self.sessions
                                .get_mut(&key)
                                .expect("session")
                                .server_accepted = true;
                        }
                        continue;
                    }
                    let job = self
                        .sessions
                        .get_mut(&key)
                        .expect("session")
                        .sent
                        .remove(&(s.msg_ref.clone(), s.cmd_ref.clone()));
                    match (job, code) {
                        (Some(job), Some(401 | 407)) => requeue.push(job),
                        // A chunk taken, more to come: the large object's status comes last.
                        (Some(Job::Chunk { more: true, .. }), Some(213)) => {}
                        // A chunk refused: the rest of its large object is not sent.
                        (Some(job @ Job::Chunk { more: true, .. }), code) => {
                            let uri = match &job {
                                Job::Chunk { uri, .. } => uri.clone(),
                                _ => unreachable!("matched a chunk"),
                            };
                            let s = self.sessions.get_mut(&key).expect("session");
                            s.queue.retain(|j| !matches!(j, Job::Chunk { uri: u, size: None, .. } if *u == uri));
                            self.record(&device, &sid, "Status", job.describe(), code, None);
                        }
                        (Some(job), _) => {
                            self.record(&device, &sid, "Status", job.describe(), code, None)
                        }
                        (None, _) => self.record(
                            &device,
                            &sid,
                            "Status",
                            format!("{} {}", s.cmd, s.cmd_ref),
                            code,
                            None,
                        ),
                    }
                }
                Command::Results(r) => {
                    for item in &r.items {
                        let what = item.source_uri().unwrap_or("").to_owned();
                        let data = item.data.as_ref().map(|d| text(d.as_bytes()));
                        self.record(&device, &sid, "Results", what, None, data);
                    }
                }
                Command::Alert(a) => {
                    let code = a.code();
                    for item in &a.items {
                        if matches!(code, Some(1224 | 1226)) {
                            let what = item
                                .meta
                                .as_ref()
                                .and_then(|m| m.type_.clone())
                                .unwrap_or_default();
                            let data = item.data.as_ref().map(|d| text(d.as_bytes()));
                            let what = match (&a.correlator, item.source_uri()) {
                                (Some(c), Some(s)) => format!("{what} correlator={c} source={s}"),
                                (None, Some(s)) => format!("{what} source={s}"),
                                _ => what,
                            };
                            self.record(&device, &sid, "Alert", what, code, data);
                        }
                    }
                    if !matches!(code, Some(1222)) {
                        answers.push(Command::Status(Status::new(
                            "",
                            &msg.header.msg_id,
                            &a.cmd_id,
                            "Alert",
                            200,
                        )));
                    }
                }
                Command::Replace(r) => {
                    for item in &r.items {
                        let what = item
                            .source_uri()
                            .or(item.target_uri())
                            .unwrap_or("")
                            .to_owned();
                        self.record(
                            &device,
                            &sid,
                            "DevInfo",
                            what,
                            None,
                            item.data.as_ref().map(|d| text(d.as_bytes())),
                        );
                    }
                    answers.push(Command::Status(Status::new(
                        "",
                        &msg.header.msg_id,
                        &r.cmd_id,
                        "Replace",
                        200,
                    )));
                }
                other => {
                    answers.push(Command::Status(Status::new(
                        "",
                        &msg.header.msg_id,
                        other.cmd_id().unwrap_or(""),
                        other.name(),
                        406,
                    )));
                }
            }
        }
        {
            let s = self.sessions.get_mut(&key).expect("session");
            for job in requeue.into_iter().rev() {
                s.queue.push_front(job);
            }
        }
        // A device message that is not final either continues the device's package (ask for
        // the rest with 1222) or itself asks for our next message (it carries 1222, e.g. while
        // it takes a large object's chunks).
        let device_asks_for_more = msg
            .body
            .commands
            .iter()
            .any(|c| matches!(c, Command::Alert(a) if a.code() == Some(1222)));
        if !msg.body.is_final && !device_asks_for_more {
            let mut next = Alert::new("", 1222);
            next.cmd_id = String::new();
            answers.push(Command::Alert(next));
            let reply = self.build(&key, answers, Vec::new(), false);
            return (200, reply, encoding, Some(device));
        }
        let jobs = self.next_jobs(&key, &msg);
        let reply = self.build(&key, answers, jobs, true);
        (200, reply, encoding, Some(device))
    }

    /// The jobs that fit the device's MaxMsgSize in the next message.
    fn next_jobs(&mut self, key: &(String, String), msg: &SyncMl) -> Vec<Job> {
        let limit = msg
            .header
            .meta
            .as_ref()
            .and_then(|m| m.max_msg_size)
            .unwrap_or(u64::MAX) as usize;
        let s = self.sessions.get_mut(key).expect("session");
        let overhead = 1024; // header and statuses, generously
        let mut used = overhead;
        let mut out = Vec::new();
        while let Some(job) = s.queue.front() {
            let len = command_len(&job.to_command("9999".into()), s.encoding);
            if used + len > limit {
                if !out.is_empty() {
                    break;
                }
                // Alone it does not fit either: send its value as a large object, one chunk
                // per message (the device must get a large object's chunks in a row).
                let job = s.queue.pop_front().expect("front");
                let room = limit.saturating_sub(overhead + 512).max(64);
                let mut chunks = job.clone().split(room);
                if chunks.len() == 1 {
                    out.push(job); // not splittable: let the device say 413
                    break;
                }
                for c in chunks.drain(1..).rev() {
                    s.queue.push_front(c);
                }
                out.extend(chunks);
                break;
            }
            used += len;
            let job = s.queue.pop_front().expect("front");
            let is_open_chunk = matches!(job, Job::Chunk { more: true, .. });
            out.push(job);
            if is_open_chunk {
                break;
            }
        }
        out
    }

    fn build(
        &mut self,
        key: &(String, String),
        mut commands: Vec<Command>,
        jobs: Vec<Job>,
        is_final: bool,
    ) -> Vec<u8> {
        let (device, sid) = key;
        let server_nonce = self.server_nonces.get(device).cloned().unwrap_or_default();
        let s = self.sessions.get_mut(key).expect("session");
        s.msg_id += 1;
        let msg_id = s.msg_id.to_string();
        let mut n = 0;
        for c in &mut commands {
            n += 1;
            match c {
                Command::Status(st) => st.cmd_id = n.to_string(),
                Command::Alert(a) => a.cmd_id = n.to_string(),
                _ => {}
            }
        }
        let ending = jobs.is_empty() && s.sent.is_empty() && is_final;
        for job in jobs {
            n += 1;
            let id = n.to_string();
            commands.push(job.to_command(id.clone()));
            s.sent.insert((msg_id.clone(), id), job);
        }
        let mut header = SyncHdr::new(
            s.version,
            sid.clone(),
            msg_id,
            Location::new(device.clone()),
            Location {
                loc_uri: self.config.server_uri.clone(),
                loc_name: Some(self.config.server_id.clone()),
            },
        );
        let hmac_device = self
            .config
            .devices
            .get(device)
            .is_some_and(|d| d.scheme == AuthScheme::Hmac);
        if !s.server_accepted && !hmac_device {
            header.cred = Some(Cred::md5(
                &self.config.server_id,
                &self.config.server_password,
                &server_nonce,
            ));
        }
        header.meta = Some(Meta {
            max_msg_size: Some(self.config.max_msg_size),
            ..Meta::default()
        });
        let encoding = s.encoding;
        if ending {
            self.sessions.remove(key);
        }
        encode(
            &SyncMl {
                header,
                body: SyncBody { commands, is_final },
            },
            encoding,
        )
    }
}
