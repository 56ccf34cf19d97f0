//! The DM notification handler: package #0 in, "start a session for server X with session id
//! N" out, or the notification dropped and counted.
//!
//! The digest is verified with the server credentials (SRVCRED) of the account whose ServerID
//! the notification names: first with the ServerID as the name, then, when the account's
//! AAuthName differs, with that name (libdmclient's reading). With nonce resynchronisation on
//! for the account (off by default), a failed check is retried once with the nonce
//! `00 00 00 00`. A repeated notification for a session already pending starts nothing.
//! The ui-mode is honoured through a [`NotificationUi`]: informative tells the user, user
//! interaction asks (a refusal drops the notification); background starts silently.

use std::collections::BTreeSet;

use omadm_syncml::notification::{Package0, UiMode, RESYNC_NONCE};

/// What the handler needs to know of a DM account.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerCredentials {
    /// SRVCRED AAuthName (normally the ServerID).
    pub name: String,
    /// SRVCRED AAuthSecret.
    pub secret: String,
    /// SRVCRED AAuthData: the nonce the client last issued to the server.
    pub nonce: Vec<u8>,
    /// Ext/Microsoft/UseNonceResync.
    pub nonce_resync: bool,
}

impl std::fmt::Debug for ServerCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerCredentials")
            .field("name", &self.name)
            .field("nonce_resync", &self.nonce_resync)
            .finish_non_exhaustive()
    }
}

/// Looks DM accounts up by ServerID (the agent implements it over the account store).
pub trait AccountLookup: Send {
    /// The server credentials of the account with this ServerID.
    fn server_credentials(&self, server_id: &str) -> Option<ServerCredentials>;

    /// Whether an account has this ServerID (with or without server credentials): tells
    /// "unknown server" from "this server's notifications cannot be authenticated" in the
    /// log. Default: whether it has server credentials.
    fn has_account(&self, server_id: &str) -> bool {
        self.server_credentials(server_id).is_some()
    }
}

/// How the device involves its user when a notification asks for it (ui-mode 2 and 3).
pub trait NotificationUi: Send {
    /// Ui-mode informative: tell the user a session with `server` starts.
    fn inform(&mut self, server: &str);
    /// Ui-mode user interaction: ask whether a session with `server` may start.
    fn ask(&mut self, server: &str) -> bool;
}

/// A session to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartSession {
    /// The account's ServerID.
    pub server_id: String,
    /// The notification's session id (the SessionID is its upper-case hex).
    pub session_id: u16,
    /// The server's UI recommendation.
    pub ui_mode: UiMode,
    /// Whether the digest only matched the resynchronisation nonce: the session must then
    /// use `00 00 00 00` for the client's first credentials and reissue nonces.
    pub nonce_resync: bool,
    /// The vendor-specific part of the notification.
    pub vendor_specific: Vec<u8>,
}

/// Why notifications were dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotificationStats {
    /// Could not be decoded.
    pub malformed: u64,
    /// Named a server with no account.
    pub unknown_server: u64,
    /// Failed the digest check.
    pub bad_digest: u64,
    /// Repeated a pending session.
    pub duplicate: u64,
    /// The user declined (ui-mode user interaction).
    pub declined: u64,
    /// Accepted.
    pub accepted: u64,
}

/// The handler, with its record of pending sessions.
pub struct NotificationHandler {
    accounts: Box<dyn AccountLookup>,
    ui: Option<Box<dyn NotificationUi>>,
    pending: BTreeSet<(String, u16)>,
    max_pending: usize,
    stats: NotificationStats,
}

impl NotificationHandler {
    /// A handler over `accounts`; at most 64 sessions are remembered as pending.
    pub fn new(accounts: Box<dyn AccountLookup>) -> Self {
        NotificationHandler {
            accounts,
            ui: None,
            pending: BTreeSet::new(),
            max_pending: 64,
            stats: NotificationStats::default(),
        }
    }

    /// Attaches the UI that honours the notifications' ui-mode. Without one, informative and
    /// user-interaction notifications start their sessions as background ones (a device with no
    /// display cannot ask), and the log says so.
    pub fn set_ui(&mut self, ui: Box<dyn NotificationUi>) {
        self.ui = Some(ui);
    }

    /// Counters.
    pub fn stats(&self) -> NotificationStats {
        self.stats
    }

    /// The session ended (or was given up): a new notification for it may start one again.
    pub fn session_finished(&mut self, server_id: &str, session_id: u16) {
        self.pending.remove(&(server_id.to_owned(), session_id));
    }

    /// Handles one package #0 (warnings about it are not rate-limited: see
    /// `NotificationHandler::handle_at`, which the push router uses).
    pub fn handle(&mut self, body: &[u8]) -> Option<StartSession> {
        self.handle_at(body, 0, &mut crate::warn_limit::WarnLimit::default())
    }

    /// Handles one package #0 that arrived at `now`, its warnings counted in `warnings`.
    pub(crate) fn handle_at(
        &mut self,
        body: &[u8],
        now: u64,
        warnings: &mut crate::warn_limit::WarnLimit,
    ) -> Option<StartSession> {
        let pkg = match Package0::decode(body) {
            Ok(p) => p,
            Err(e) => {
                warnings.warn(now, format_args!("DM notification dropped: {e}"));
                self.stats.malformed += 1;
                return None;
            }
        };
        let n = &pkg.notification;
        let server = omadm_syncml::printable(&n.server_id).limit(64);
        let Some(creds) = self.accounts.server_credentials(&n.server_id) else {
            if self.accounts.has_account(&n.server_id) {
                warnings.warn(
                    now,
                    format_args!(
                        "DM notification from \"{server}\" dropped: its account has no server \
                         credentials (SRVCRED), so its notifications cannot be authenticated"
                    ),
                );
            } else {
                warnings.warn(
                    now,
                    format_args!("DM notification from unknown server \"{server}\" dropped"),
                );
            }
            self.stats.unknown_server += 1;
            return None;
        };
        let check = |nonce: &[u8]| {
            pkg.verify(&creds.secret, nonce)
                || (creds.name != n.server_id && pkg.verify_as(&creds.name, &creds.secret, nonce))
        };
        let nonce_resync = if check(&creds.nonce) {
            false
        } else if creds.nonce_resync && check(&RESYNC_NONCE) {
            log::info!("DM notification from {server} matched the resynchronisation nonce");
            true
        } else {
            warnings.warn(
                now,
                format_args!("DM notification from {server} dropped: bad digest"),
            );
            self.stats.bad_digest += 1;
            return None;
        };
        let key = (n.server_id.clone(), n.session_id);
        if self.pending.contains(&key) {
            log::info!(
                "DM notification for pending session {:X} of {server} ignored",
                n.session_id
            );
            self.stats.duplicate += 1;
            return None;
        }
        let declined = n.ui_mode == UiMode::UserInteraction
            && self.ui.as_mut().is_some_and(|ui| !ui.ask(&n.server_id));
        if declined {
            log::info!("the user declined a session with {server}");
            self.stats.declined += 1;
            return None;
        }
        match (n.ui_mode, self.ui.as_mut()) {
            (UiMode::Informative, Some(ui)) => ui.inform(&n.server_id),
            (UiMode::Informative | UiMode::UserInteraction, None) => {
                log::info!("no UI attached: session with {server} starts in the background");
            }
            _ => {}
        }
        if self.pending.len() >= self.max_pending {
            // Forget the oldest-keyed entry rather than grow without bound.
            let first = self.pending.iter().next().cloned();
            if let Some(k) = first {
                self.pending.remove(&k);
            }
        }
        self.pending.insert(key);
        self.stats.accepted += 1;
        Some(StartSession {
            server_id: n.server_id.clone(),
            session_id: n.session_id,
            ui_mode: n.ui_mode,
            nonce_resync,
            vendor_specific: n.vendor_specific.clone(),
        })
    }
}
