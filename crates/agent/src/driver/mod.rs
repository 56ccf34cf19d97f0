//! The session driver: every rule of a DM session that is about delivery rather than content,
//! as a state machine that does no I/O (the model is quinn-proto's `Connection`). It owns
//! the DPU [`Session`], decides what to send and when, and learns what happened from the
//! host's transport:
//!
//! - [`Driver::poll_request`]: the next HTTP POST to make (URL, content type, body, HMAC
//!   header, and the [`ConnectionRules`] the transport must keep);
//! - [`Driver::handle_response`] / [`Driver::handle_failure`]: its response, or why there is
//!   none ([`FailureKind`]);
//! - [`Driver::poll_timeout`] / [`Driver::handle_timeout`]: when to wake it (a backoff);
//! - [`Driver::poll_event`]: what happened ([`DriverEvent`]: nonces to store, alerts
//!   acknowledged, retries, the fallback, the end).
//!
//! Time is the host's: any millisecond clock that never goes back, passed in with each call.
//!
//! # Rules (the README's "Transport and agent")
//! - **Retries**: a message that cannot be delivered (a [`FailureKind`] that
//!   [`FailureKind::is_retryable`], or HTTP 408, 429, 500, 502, 503, 504) is sent again, the
//!   same bytes, after InitialBackOffTime, doubling up to MaxBackOffTime, at most
//!   ConnRetryFreq times ([`RetryPolicy`]); then the attempt fails. Never retried: TLS, bad
//!   URLs, plain HTTP refused, malformed responses, other statuses.
//! - **Fallback**: a first DM 1.2 message refused with HTTP 400, 415, 501 or 505 makes the
//!   session start over as DM 1.1.2 after [`FallbackPolicy::interval`], unless the account
//!   sets BackCompatRetryDisabled or the policy allows no attempts; a 1.1.2 attempt that
//!   fails counts as one of [`FallbackPolicy::attempts`]. A 1.1.2 session carries no generic
//!   alerts (DM 1.1.2 has none).
//! - **Done**: the session is over when the DPU says so (the server's last package, or an
//!   end it decided: abort, authentication given up, protocol error); any other HTTP status
//!   than 200 ends the attempt.
//! - **Nonces**: a nonce the device issues to the server is stored only once the server's
//!   HTTP 200 to the message carrying it arrives; a client nonce only when the server has
//!   authenticated itself.
//! - **Once** ([`DriverSettings::once`]): no retries and no fallback retries.

mod event;
mod http;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use omadm_cm::Manager;
use omadm_csp::{DeviceInfo, DmAccount};
use omadm_dpu::ui::{UiRequest, UiResponse, UserInterface};
use omadm_dpu::{
    AlertStore, Credentials, EndReason, Entropy, Event, GenericAlert, Outgoing, Session,
    SessionConfig, SessionError, Trigger,
};
use omadm_syncml::auth::AuthScheme;
use omadm_syncml::{DmVersion, Encoding};
use omadm_transport::retry::{retryable_status, RetryPolicy};

pub use event::DriverEvent;
pub use http::{ConnectionRules, FailureKind, HttpRequest, HttpResponse};

use crate::SessionFailure;

/// The DM 1.1.2 fallback: after a server refuses a DM 1.2 package, the session is tried as
/// DM 1.1.2 up to `attempts` times, waiting `interval` before each (unless the account sets
/// BackCompatRetryDisabled). A 1.1.2 attempt that fails (the transport's own retries
/// exhausted, or a refusal) counts as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FallbackPolicy {
    /// DM 1.1.2 attempts after a refusal (0 disables fallback for every account).
    pub attempts: u32,
    /// Wait before each attempt.
    pub interval: Duration,
}

impl Default for FallbackPolicy {
    /// One attempt, at once.
    fn default() -> Self {
        FallbackPolicy {
            attempts: 1,
            interval: Duration::ZERO,
        }
    }
}

/// What a driver needs besides the account: the device's side of every session.
#[derive(Debug, Clone)]
pub struct DriverSettings {
    /// DevInfo: the DevId (LocURI of the device) and the package-1 DevInfo items.
    pub device: DeviceInfo,
    /// MaxMsgSize the device announces.
    pub max_msg_size: u64,
    /// The DM 1.1.2 fallback.
    pub fallback: FallbackPolicy,
    /// One attempt: no retries of a message, no fallback retries.
    pub once: bool,
    /// Whether the device allows plain HTTP at all (the account may still refuse it).
    pub plain_http_allowed: bool,
}

/// A user interface shared by the sessions of a driver (and of an agent).
pub type SharedUi = Arc<Mutex<Box<dyn UserInterface>>>;

/// A call the driver did not expect in its state (a host bug); nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverMisuse {
    /// A response or failure was handed in while no request was outstanding.
    NoRequestOutstanding,
}

impl std::fmt::Display for DriverMisuse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DriverMisuse::NoRequestOutstanding => {
                f.write_str("a response or failure without an outstanding request")
            }
        }
    }
}

impl std::error::Error for DriverMisuse {}

/// Where the driver is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The current message is to be sent.
    Ready,
    /// The current message was handed out; its response or failure is awaited.
    InFlight,
    /// Waiting until a time, then doing `then`.
    Waiting { until: u64, then: AfterWait },
    /// Over: the final event is queued.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterWait {
    /// Send the same message again.
    Resend,
    /// Start a new attempt of the session (the DM 1.1.2 fallback).
    NewAttempt,
}

/// How one attempt of a session ended.
enum Attempt {
    Done(EndReason),
    OldServer(u16),
    Failed(SessionFailure),
}

/// The driver of one session with one server. See the module documentation.
pub struct Driver {
    account: DmAccount,
    trigger: Trigger,
    resync: bool,
    settings: DriverSettings,
    rules: ConnectionRules,
    policy: RetryPolicy,
    entropy: Arc<Mutex<Entropy>>,
    ui: Option<SharedUi>,
    version: DmVersion,
    fell_back: bool,
    fallback_attempts: u32,
    /// Attempts started so far.
    attempts: u32,
    session: Session,
    /// The message being delivered (kept for retries).
    out: Option<Outgoing>,
    state: State,
    /// Retries of the current message so far.
    retry: u32,
    /// Messages sent in this attempt (counted when their delivery is decided).
    messages: u32,
    /// A server nonce issued in the message in flight: stored on the server's HTTP 200.
    nonce_in_flight: Option<Vec<u8>>,
    events: VecDeque<DriverEvent>,
}

impl Driver {
    /// A driver for a session with `account`'s server, started by `trigger`, carrying
    /// `alerts` (pending generic alerts; a DM 1.1.2 session carries none). `resync` starts
    /// with an all-zero client nonce (a notification asked for a nonce resynchronisation).
    /// `entropy` fills the nonces the device issues.
    pub fn new(
        account: DmAccount,
        trigger: Trigger,
        resync: bool,
        settings: DriverSettings,
        alerts: Vec<GenericAlert>,
        entropy: Entropy,
    ) -> Driver {
        let version = if account.ext.proto_ver.trim() == "1.1" {
            DmVersion::V1_1
        } else {
            DmVersion::V1_2
        };
        let policy = RetryPolicy {
            retries: if settings.once {
                0
            } else {
                account.ext.conn_retry_freq
            },
            initial: Duration::from_millis(account.ext.initial_backoff_ms),
            max: Duration::from_millis(account.ext.max_backoff_ms),
        };
        let rules = ConnectionRules {
            plain_http_allowed: settings.plain_http_allowed
                && account.local.plain_http != Some(false),
            max_response_bytes: usize::try_from(omadm_dpu::accepted_size(settings.max_msg_size))
                .unwrap_or(usize::MAX),
            client_certificate: None,
        };
        let entropy = Arc::new(Mutex::new(entropy));
        let alerts = if version == DmVersion::V1_2 {
            alerts
        } else {
            Vec::new()
        };
        let session = new_session(
            &account, &settings, version, trigger, resync, alerts, &entropy,
        );
        let mut driver = Driver {
            account,
            trigger,
            resync,
            settings,
            rules,
            policy,
            entropy,
            ui: None,
            version,
            fell_back: false,
            fallback_attempts: 0,
            attempts: 1,
            session,
            out: None,
            state: State::Ready,
            retry: 0,
            messages: 0,
            nonce_in_flight: None,
            events: VecDeque::new(),
        };
        match client_certificate(&driver.account) {
            Ok(cert) => {
                driver.rules.client_certificate = cert;
                driver.events.push_back(DriverEvent::AttemptStarted {
                    attempt: 1,
                    version,
                });
                driver.out = Some(driver.session.start());
                driver.take_session_events();
            }
            Err(f) => driver.finish(DriverEvent::Failed(f)),
        }
        driver
    }

    /// The server's ServerID.
    pub fn server_id(&self) -> &str {
        &self.account.server_id
    }

    /// What started the session (a server's notification, or the client).
    pub fn trigger(&self) -> Trigger {
        self.trigger
    }

    /// Sets the user interface for the server's user-interaction alerts (1100–1104), for
    /// this attempt and any later one.
    pub fn set_ui(&mut self, ui: SharedUi) {
        self.session.set_ui(Box::new(UiHandle(ui.clone())));
        self.ui = Some(ui);
    }

    /// What every connection of this session must be.
    pub fn connection_rules(&self) -> &ConnectionRules {
        &self.rules
    }

    /// The DM version of the current attempt.
    pub fn version(&self) -> DmVersion {
        self.version
    }

    /// Whether the session is over (its final event is queued or was polled).
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The next HTTP request to make, if one is due now. Once handed out, the driver waits
    /// for [`Driver::handle_response`] or [`Driver::handle_failure`]; until then this returns
    /// `None`.
    pub fn poll_request(&mut self) -> Option<HttpRequest<'_>> {
        if self.state != State::Ready {
            return None;
        }
        let out = self.out.as_ref()?;
        self.state = State::InFlight;
        Some(HttpRequest {
            url: &out.url,
            content_type: out.content_type,
            body: &out.body,
            hmac: out.hmac.as_deref(),
            number: self.messages + 1,
            retry: self.retry,
            rules: &self.rules,
        })
    }

    /// When the driver wants [`Driver::handle_timeout`]: the end of a backoff or of the
    /// fallback interval (a time of the host's clock), or `None` when it waits for nothing.
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.state {
            State::Waiting { until, .. } => Some(until),
            _ => None,
        }
    }

    /// Tells the driver the time is `now`: a wait that is over ends (a request is then due).
    pub fn handle_timeout(&mut self, now: u64) {
        let State::Waiting { until, then } = self.state else {
            return;
        };
        if now < until {
            return;
        }
        match then {
            AfterWait::Resend => self.state = State::Ready,
            AfterWait::NewAttempt => self.new_attempt(),
        }
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<DriverEvent> {
        self.events.pop_front()
    }

    /// Hands in the response to the request last handed out, at `now`. A 200's body is the
    /// server's message: it is executed on `tree` (acknowledged alerts dropped from
    /// `alerts` first, durably), and the reply becomes the next request.
    pub fn handle_response(
        &mut self,
        now: u64,
        response: HttpResponse<'_>,
        tree: &mut Manager,
        alerts: &mut dyn AlertStore,
    ) -> Result<(), DriverMisuse> {
        self.expect_in_flight()?;
        if retryable_status(response.status) {
            self.retry_or_fail(
                now,
                format!("HTTP {}", response.status),
                SessionFailure::HttpStatus(response.status),
            );
            return Ok(());
        }
        self.messages += 1;
        if response.status != 200 {
            let attempt = if self.messages == 1 && matches!(response.status, 400 | 415 | 501 | 505)
            {
                Attempt::OldServer(response.status)
            } else {
                Attempt::Failed(SessionFailure::HttpStatus(response.status))
            };
            self.attempt_over(now, attempt);
            return Ok(());
        }
        if let Some(nonce) = self.nonce_in_flight.take() {
            self.events.push_back(DriverEvent::StoreServerNonce(nonce));
        }
        let next = self
            .session
            .handle_with_alerts(tree, alerts, response.body, response.hmac);
        let ended = self.take_session_events();
        match next {
            Ok(Some(o)) => {
                self.events
                    .push_back(DriverEvent::MessageProcessed { more: true });
                self.out = Some(o);
                self.retry = 0;
                self.state = State::Ready;
            }
            Ok(None) => {
                self.events
                    .push_back(DriverEvent::MessageProcessed { more: false });
                self.attempt_over(now, Attempt::Done(ended.unwrap_or(EndReason::Completed)));
            }
            Err(SessionError::Storage(e)) => {
                self.attempt_over(now, Attempt::Failed(SessionFailure::Storage(e.to_string())))
            }
            Err(SessionError::AlertStore { id, reason }) => self.attempt_over(
                now,
                Attempt::Failed(SessionFailure::Storage(format!("alert {id}: {reason}"))),
            ),
            Err(e) => self.attempt_over(
                now,
                Attempt::Failed(SessionFailure::Protocol(e.to_string())),
            ),
        }
        Ok(())
    }

    /// Tells the driver the request last handed out got no response, at `now`, and why
    /// (`detail`: the transport's words, for logs and the failure's text).
    pub fn handle_failure(
        &mut self,
        now: u64,
        kind: FailureKind,
        detail: &str,
    ) -> Result<(), DriverMisuse> {
        self.expect_in_flight()?;
        let detail = omadm_syncml::printable(detail).limit(512).to_string();
        let failure = kind.failure(detail.clone());
        if kind.is_retryable() {
            self.retry_or_fail(now, detail, failure);
        } else {
            self.messages += 1;
            self.attempt_over(now, Attempt::Failed(failure));
        }
        Ok(())
    }

    fn expect_in_flight(&self) -> Result<(), DriverMisuse> {
        if self.state == State::InFlight {
            Ok(())
        } else {
            Err(DriverMisuse::NoRequestOutstanding)
        }
    }

    /// The current message was not delivered: wait and send it again, or give up.
    fn retry_or_fail(&mut self, now: u64, cause: String, failure: SessionFailure) {
        self.retry += 1;
        match self.policy.backoff(self.retry) {
            Some(wait) => {
                log::info!(
                    "{}: retry {} in {wait:?} ({cause})",
                    self.account.server_id,
                    self.retry
                );
                self.events.push_back(DriverEvent::Retrying {
                    number: self.messages + 1,
                    retry: self.retry,
                    wait,
                    cause,
                });
                self.state = State::Waiting {
                    until: now.saturating_add(millis(wait)),
                    then: AfterWait::Resend,
                };
            }
            None => {
                self.messages += 1;
                self.attempt_over(now, Attempt::Failed(failure));
            }
        }
    }

    /// An attempt is over: the session ends, fails, or starts over (the fallback).
    fn attempt_over(&mut self, now: u64, attempt: Attempt) {
        let server_id = &self.account.server_id;
        let fallback = self.settings.fallback;
        match attempt {
            Attempt::OldServer(_) | Attempt::Failed(_)
                if self.fell_back
                    && !self.settings.once
                    && self.fallback_attempts < fallback.attempts =>
            {
                self.fallback_attempts += 1;
                log::info!(
                    "{server_id}: DM 1.1.2 attempt {} did not go through; trying again",
                    self.fallback_attempts
                );
                self.wait_for_new_attempt(now);
            }
            Attempt::Done(reason) => self.finish(DriverEvent::Ended {
                reason,
                messages: self.messages,
                fell_back: self.fell_back,
            }),
            Attempt::OldServer(status)
                if self.version == DmVersion::V1_2
                    && !self.account.ext.back_compat_retry_disabled
                    && fallback.attempts > 0 =>
            {
                log::warn!(
                    "{server_id} refused a DM 1.2 package (HTTP {status}): falling back to DM 1.1.2"
                );
                self.events.push_back(DriverEvent::FellBack { status });
                self.version = DmVersion::V1_1;
                self.fell_back = true;
                self.fallback_attempts = 1;
                self.wait_for_new_attempt(now);
            }
            Attempt::OldServer(status) => {
                self.finish(DriverEvent::Failed(SessionFailure::HttpStatus(status)))
            }
            Attempt::Failed(reason) => {
                log::warn!("session with {server_id} failed: {reason}");
                self.finish(DriverEvent::Failed(reason))
            }
        }
    }

    fn wait_for_new_attempt(&mut self, now: u64) {
        self.state = State::Waiting {
            until: now.saturating_add(millis(self.settings.fallback.interval)),
            then: AfterWait::NewAttempt,
        };
    }

    fn finish(&mut self, last: DriverEvent) {
        self.events.push_back(last);
        self.out = None;
        self.state = State::Done;
    }

    /// Starts the session over at `self.version` (no alerts: only DM 1.1.2 comes here).
    fn new_attempt(&mut self) {
        self.session = new_session(
            &self.account,
            &self.settings,
            self.version,
            self.trigger,
            self.resync,
            Vec::new(),
            &self.entropy,
        );
        if let Some(ui) = &self.ui {
            self.session.set_ui(Box::new(UiHandle(ui.clone())));
        }
        self.attempts += 1;
        self.events.push_back(DriverEvent::AttemptStarted {
            attempt: self.attempts,
            version: self.version,
        });
        self.out = Some(self.session.start());
        self.take_session_events();
        self.messages = 0;
        self.retry = 0;
        self.nonce_in_flight = None;
        self.state = State::Ready;
    }

    /// Moves the DPU session's events into the driver's; returns how the session ended, if it
    /// said.
    fn take_session_events(&mut self) -> Option<EndReason> {
        let mut ended = None;
        while let Some(event) = self.session.poll_event() {
            match event {
                Event::ClientNonce {
                    nonce,
                    trusted: true,
                } => self.events.push_back(DriverEvent::StoreClientNonce(nonce)),
                Event::ClientNonce { trusted: false, .. } => {}
                Event::ServerNonce { nonce } => self.nonce_in_flight = Some(nonce),
                Event::GenericAlertAcknowledged { id, status } => self
                    .events
                    .push_back(DriverEvent::AlertAcknowledged { id, status }),
                Event::Ended(reason) => ended = Some(reason),
            }
        }
        ended
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The account's client certificate and key paths: both or neither.
fn client_certificate(account: &DmAccount) -> Result<Option<(String, String)>, SessionFailure> {
    match (&account.local.client_cert, &account.local.client_key) {
        (Some(c), Some(k)) => Ok(Some((c.clone(), k.clone()))),
        (None, None) => Ok(None),
        _ => Err(SessionFailure::ClientCertificate(
            "the account has a client certificate without its key, or a key without its \
             certificate"
                .into(),
        )),
    }
}

fn scheme_of(auth_type: &str) -> AuthScheme {
    match auth_type.to_ascii_uppercase().as_str() {
        "BASIC" => AuthScheme::Basic,
        "HMAC" => AuthScheme::Hmac,
        _ => AuthScheme::Md5,
    }
}

/// The DPU session's settings for `account` at `version`.
fn session_config(
    account: &DmAccount,
    settings: &DriverSettings,
    version: DmVersion,
    resync: bool,
) -> SessionConfig {
    let mut c = SessionConfig::new(
        settings.device.dev_id.clone(),
        account.addr.clone(),
        account.server_id.clone(),
    );
    c.version = version;
    c.encoding = if account
        .ext
        .default_encoding
        .to_ascii_lowercase()
        .contains("wbxml")
    {
        Encoding::Wbxml
    } else {
        Encoding::Xml
    };
    c.server_roles = account.roles();
    c.max_msg_size = settings.max_msg_size;
    c.dev_info = settings.device.package1_items();
    c.client_credentials = account.client.as_ref().map(|a| Credentials {
        scheme: scheme_of(&a.auth_type),
        name: a.name.clone(),
        secret: a.secret.clone(),
        nonce: if resync { vec![0; 4] } else { a.data.clone() },
    });
    c.server_credentials = account.server.as_ref().map(|a| Credentials {
        scheme: scheme_of(&a.auth_type),
        name: a.name.clone(),
        secret: a.secret.clone(),
        nonce: a.data.clone(),
    });
    c
}

fn new_session(
    account: &DmAccount,
    settings: &DriverSettings,
    version: DmVersion,
    trigger: Trigger,
    resync: bool,
    alerts: Vec<GenericAlert>,
    entropy: &Arc<Mutex<Entropy>>,
) -> Session {
    let config = session_config(account, settings, version, resync);
    let shared = entropy.clone();
    let entropy: Entropy =
        Box::new(move |b: &mut [u8]| (shared.lock().unwrap_or_else(PoisonError::into_inner))(b));
    Session::new(config, trigger, alerts, entropy)
}

/// A [`SharedUi`] lent to one DPU session.
pub(crate) struct UiHandle(pub(crate) SharedUi);

impl UserInterface for UiHandle {
    fn ask(&mut self, request: &UiRequest) -> UiResponse {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .ask(request)
    }
}
