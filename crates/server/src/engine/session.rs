//! One device session as the server keeps it: where the exchange stands (MsgIDs, the last
//! reply for a repeated message), authentication both ways, what is left to send and what
//! awaits the device's Status, and a large object the device is sending in chunks.

use std::collections::{HashMap, VecDeque};

use omadm_syncml::auth::AuthScheme;
use omadm_syncml::{Command, DmVersion, Encoding};

use super::Reply;
use crate::jobs::Job;

/// A job on its way to a device; `once` is the id of a once-job (delivered once per device).
#[derive(Debug, Clone)]
pub(super) struct JobEntry {
    pub job: Job,
    pub once: Option<u64>,
}

/// Something sent that awaits the device's Status.
#[derive(Debug)]
pub(super) struct Sent {
    /// The job, for a top-level command (requeued if the device answers 401/407).
    pub entry: Option<JobEntry>,
    /// What the CmdID names, for records.
    pub what: String,
}

/// A value the device sends in chunks (Results with MoreData), reassembled to be recorded
/// once.
#[derive(Debug)]
pub(super) struct Incoming {
    pub source: String,
    pub data: Vec<u8>,
}

/// The most octets of one chunked value the server reassembles.
pub(super) const MAX_INCOMING: usize = 16 * 1024 * 1024;

/// One session of one device.
#[derive(Debug)]
pub(super) struct DeviceSession {
    pub version: DmVersion,
    pub device_encoding: Encoding,
    /// When the last message of the device arrived (the engine's clock).
    pub last_activity: u64,
    /// The MsgID of the device's last message.
    pub device_msg_id: u64,
    /// The last reply, with a digest of the message it answered: a device that repeats a
    /// message (its reply was lost) gets the same reply again.
    pub last: Option<([u8; 32], Reply)>,
    /// Our last MsgID.
    pub msg_id: u32,
    pub device_authenticated: bool,
    pub auth_failures: u32,
    /// How the server authenticates itself now (None: it sends no credentials).
    pub server_scheme: Option<AuthScheme>,
    pub server_accepted: bool,
    pub server_auth_failures: u32,
    /// Whether the device's jobs were given to this session (after it authenticated).
    pub jobs_assigned: bool,
    /// Statuses (and alerts) to send, in order, before any job.
    pub answers: VecDeque<Command<'static>>,
    /// The statuses for the device's commands in our last message: said again when the
    /// device refuses that message's credentials (it did not believe them either).
    pub last_answers: Vec<Command<'static>>,
    /// Jobs to send.
    pub jobs: VecDeque<JobEntry>,
    /// Sent commands awaiting a Status: (MsgID, CmdID).
    pub sent: HashMap<(String, String), Sent>,
    /// The device's MaxMsgSize and MaxObjSize, when it announced them.
    pub device_max_msg: Option<u64>,
    pub device_max_obj: Option<u64>,
    pub incoming: Option<Incoming>,
}

impl DeviceSession {
    /// The reply again, when `digest` is the message it answered (without what that message
    /// recorded: nothing is recorded twice).
    pub(super) fn repeat(&self, digest: &[u8; 32]) -> Option<Reply> {
        let (d, reply) = self.last.as_ref()?;
        (d == digest).then(|| Reply {
            records: Vec::new(),
            nonces_changed: false,
            ..reply.clone()
        })
    }

    /// As [`DeviceSession::repeat`], for a package 1 that is the very message that opened
    /// this session, nothing after it received (its reply was lost and the device sent it
    /// again): the session goes on rather than start over and record everything twice.
    pub(super) fn repeat_of_first(&self, digest: &[u8; 32]) -> Option<Reply> {
        if self.device_msg_id != 1 {
            return None;
        }
        self.repeat(digest)
    }

    pub(super) fn new(
        now: u64,
        version: DmVersion,
        encoding: Encoding,
        server_scheme: Option<AuthScheme>,
    ) -> Self {
        DeviceSession {
            version,
            device_encoding: encoding,
            last_activity: now,
            device_msg_id: 0,
            last: None,
            msg_id: 0,
            device_authenticated: false,
            auth_failures: 0,
            server_scheme,
            server_accepted: false,
            server_auth_failures: 0,
            jobs_assigned: false,
            answers: VecDeque::new(),
            last_answers: Vec::new(),
            jobs: VecDeque::new(),
            sent: HashMap::new(),
            device_max_msg: None,
            device_max_obj: None,
            incoming: None,
        }
    }

    /// The once-jobs this session holds that the device has not acknowledged (sent and
    /// awaiting a Status, or not sent yet).
    pub(super) fn owed_once_jobs(&self) -> impl Iterator<Item = u64> + '_ {
        self.jobs.iter().filter_map(|e| e.once).chain(
            self.sent
                .values()
                .filter_map(|s| s.entry.as_ref().and_then(|e| e.once)),
        )
    }
}
