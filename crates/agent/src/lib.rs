//! `omadm-agent`: the device client. It owns a state directory (the durable tree, the DM
//! accounts, the pending generic alerts), takes push input from the radio layer, and runs one
//! session per server at a time, the rest queued: transport ↔ session engine ↔ Configuration
//! Manager. Client-initiated sessions and generic alerts are requested through it; generic
//! alerts stay on disk until a server acknowledges them, across restarts. With
//! [`Agent::enable_fumo`] it carries out firmware updates (the `firmware` module): download,
//! install through the platform, the result after the reboot, the final alert; a long
//! download pauses when the host has input waiting ([`Agent::set_yield_check`]).
//!
//! Retries and fallback (from the account's `Ext/Microsoft` settings) are decided by the
//! sans-I/O [`Driver`] (the [`driver`] module has the rules): a message that cannot be
//! delivered is sent again with backoff, a first DM 1.2 message refused as by an old server
//! starts the session over as DM 1.1.2. [`Agent::run_session`] is the blocking loop around a
//! driver with our HTTPS client; a host with its own transport drives one itself
//! ([`Agent::client_driver`], [`Agent::take_queued_driver`] with
//! [`Agent::set_host_transport`], [`Agent::feed_response`], [`Agent::take_driver_event`]).
//! Bad server behaviour ends that session with a log line; nothing is lost (alerts stay
//! pending, the tree keeps what was persisted).

mod alerts;
mod client_cert;
pub mod driver;
mod error;
mod firmware;
mod free_space;
mod lock;
mod trace;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Duration;

use omadm_cm::{Config as CmConfig, Csp, FileStorage, Manager};
use omadm_csp::{AccountStore, DevDetailCsp, DevInfoCsp, DeviceDetail, DeviceInfo};
use omadm_dpu::ui::UserInterface;
use omadm_dpu::{EndReason, GenericAlert, Trigger};
use omadm_push::router::{Output, RouterConfig};
use omadm_push::{AccountLookup, Input, Router, ServerCredentials};
use omadm_transport::retry::RetryPolicy;
use omadm_transport::{Client, ClientConfig, Request};

pub use alerts::PendingAlerts;
pub use client_cert::read_client_certificate;
pub use driver::{
    ConnectionRules, Driver, DriverEvent, DriverMisuse, DriverSettings, FailureKind,
    FallbackPolicy, HttpRequest, HttpResponse, SharedUi,
};
pub use error::{AgentError, SessionFailure};
pub use firmware::FumoSettings;
pub use lock::StateLock;
pub use trace::{
    read_trace, Direction, SessionStep, TraceError, TraceWriter, TracedMessage, TRACE_MAGIC,
};

/// Agent settings.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// DevInfo.
    pub device: DeviceInfo,
    /// DevDetail.
    pub detail: DeviceDetail,
    /// Push router settings.
    pub router: RouterConfig,
    /// HTTPS client settings.
    pub transport: ClientConfig,
    /// The tree's settings (access model, root ACL, limits).
    pub tree: CmConfig,
    /// MaxMsgSize this client announces.
    pub max_msg_size: u64,
    /// How the DM 1.1.2 fallback is retried.
    pub fallback: FallbackPolicy,
}

/// What the agent did with an input or a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentEvent {
    /// A notification was authenticated; a session for the server is queued.
    SessionQueued {
        /// The server.
        server_id: String,
        /// The notification's session id.
        session_id: u16,
    },
    /// A provisioning document created DM accounts (their node names).
    Bootstrapped(Vec<String>),
    /// A provisioning document waits for the user's PIN.
    PinRequired(u32),
    /// A message for another registered push client (registered with
    /// [`Router::register`]): the handler's id, the message, its roles and bearer.
    Routed(Box<omadm_push::router::Routed>),
    /// A session ended.
    SessionEnded {
        /// The server.
        server_id: String,
        /// How.
        reason: EndReason,
        /// Messages exchanged.
        messages: u32,
        /// Whether the session fell back to DM 1.1.2.
        fell_back: bool,
    },
    /// A session could not be carried out (transport failure after the retries its kind
    /// allows, no account, ...).
    SessionFailed {
        /// The server.
        server_id: String,
        /// Why.
        reason: SessionFailure,
    },
    /// A FUMO package changed state, or its result was reported (`result`).
    Firmware {
        /// `<x>`.
        package: String,
        /// The FUMO State value now.
        state: u16,
        /// The result code, once reported.
        result: Option<u16>,
    },
}

struct Lookup(AccountStore);

impl AccountLookup for Lookup {
    fn has_account(&self, server_id: &str) -> bool {
        self.0.find_by_server_id(server_id).is_some()
    }

    fn server_credentials(&self, server_id: &str) -> Option<ServerCredentials> {
        let a = self.0.find_by_server_id(server_id)?;
        let s = a.server?;
        Some(ServerCredentials {
            name: s.name,
            secret: s.secret,
            nonce: s.data,
            nonce_resync: a.ext.use_nonce_resync,
        })
    }
}

/// The agent. See the crate documentation.
pub struct Agent {
    config: AgentConfig,
    tree: Manager,
    accounts: AccountStore,
    router: Router,
    alerts: PendingAlerts,
    queue: VecDeque<(String, Trigger, bool)>,
    sleeper: Box<dyn FnMut(Duration) + Send>,
    observer: Option<Observer>,
    /// The user interface for server alerts 1100–1104, shared by every session.
    ui: Option<std::sync::Arc<std::sync::Mutex<Box<dyn UserInterface>>>>,
    /// The transport, built once per set of TLS settings (building an OpenSSL context and
    /// loading the trust anchors costs milliseconds) and disconnected after each session.
    client: Option<(TransportKey, Client)>,
    /// One attempt per session: no retries with backoff, no alert retries.
    once: bool,
    /// Held for the agent's life: one agent per state directory.
    _lock: StateLock,
    next_session_id: u16,
    state_dir: PathBuf,
    fumo: Option<firmware::Fumo>,
    alert_retry: RetryPolicy,
    /// Asked during long work (a firmware download): true when the host has other work for
    /// the agent (push input waiting); the work then pauses and `run_pending` returns.
    yield_check: Box<dyn FnMut() -> bool + Send>,
    /// A firmware download paused for other work; `run_pending` should be called again.
    paused: bool,
    /// Queued sessions are the host's to run over its own transport
    /// ([`Agent::take_queued_driver`]); `run_pending` leaves them queued.
    host_transport: bool,
}

/// What makes one session's transport differ from another's: the account's client
/// certificate and whether it may use plain HTTP.
type TransportKey = (Option<(String, String)>, bool);

/// The most sessions one [`Agent::run_pending`] runs.
pub const MAX_SESSIONS_PER_RUN: usize = 32;

/// A callback told of every [`SessionStep`].
pub type Observer = Box<dyn FnMut(&SessionStep<'_>) + Send>;

impl Agent {
    /// Opens (or creates) the agent's state in `state_dir`, which it holds alone until it is
    /// dropped: a second agent on the same directory, in this process or another, gets
    /// [`AgentError::StateLocked`] at once.
    pub fn open(state_dir: &Path, config: AgentConfig) -> Result<Agent, AgentError> {
        let lock = StateLock::acquire(state_dir)?;
        let tree_dir = state_dir.join("tree");
        let tree_storage = FileStorage::open(&tree_dir).map_err(AgentError::io(&tree_dir))?;
        let mut tree = Manager::open(Box::new(tree_storage), config.tree.clone())
            .map_err(AgentError::load(&tree_dir))?;
        let accounts_dir = state_dir.join("accounts");
        let accounts = AccountStore::open(Box::new(
            FileStorage::open(&accounts_dir).map_err(AgentError::io(&accounts_dir))?,
        ))
        .map_err(AgentError::load(&accounts_dir))?;
        let limits = tree.config().uri_limits;
        let manager =
            omadm_cm::roles::MANAGER | omadm_cm::roles::OPERATOR | omadm_cm::roles::OPERATOR_TPS;
        tree.mount(
            "./DevInfo",
            Box::new(DevInfoCsp::new(&config.device)),
            manager,
        )?;
        tree.mount(
            "./DevDetail",
            Box::new(DevDetailCsp::new(&config.detail, &limits, true)),
            manager,
        )?;
        tree.mount("./DMAcc", Box::new(accounts.v12_view()), manager)?;
        tree.mount("./SyncML/DMAcc", Box::new(accounts.v11_view()), manager)?;
        tree.persist()?;
        let router = Router::new(config.router.clone(), Box::new(Lookup(accounts.clone())));
        let alerts =
            PendingAlerts::open(state_dir).map_err(AgentError::io(state_dir.join("alerts")))?;
        let mut next = [0u8; 2];
        openssl::rand::rand_bytes(&mut next).map_err(|e| AgentError::Random(e.to_string()))?;
        Ok(Agent {
            config,
            tree,
            accounts,
            router,
            alerts,
            queue: VecDeque::new(),
            sleeper: Box::new(std::thread::sleep),
            observer: None,
            client: None,
            once: false,
            _lock: lock,
            ui: None,
            next_session_id: u16::from_be_bytes(next),
            state_dir: state_dir.to_owned(),
            fumo: None,
            alert_retry: RetryPolicy {
                retries: 3,
                initial: Duration::from_secs(30),
                max: Duration::from_secs(600),
            },
            yield_check: Box::new(|| false),
            paused: false,
            host_transport: false,
        })
    }

    /// One attempt per session from now on: a message is not sent again after a failure,
    /// and a failed session carrying alerts is not tried again (`omadm agent --once`). Off
    /// by default (the account's ConnRetryFreq and backoff apply to network failures).
    pub fn set_once(&mut self, once: bool) {
        self.once = once;
    }

    /// Sets the user interface that shows the servers' user-interaction alerts (display,
    /// confirm, input, choices). Without one, such alerts get the statuses of a device that
    /// cannot show them.
    pub fn set_ui(&mut self, ui: Box<dyn UserInterface>) {
        self.ui = Some(std::sync::Arc::new(std::sync::Mutex::new(ui)));
    }

    /// Sets the callback told of every step of every session (traces, progress output).
    pub fn set_observer(&mut self, observer: Observer) {
        self.observer = Some(observer);
    }

    fn observe(&mut self, step: SessionStep<'_>) {
        if let Some(o) = self.observer.as_mut() {
            o(&step);
        }
    }

    /// Replaces how the agent waits between retries (default: `std::thread::sleep`).
    pub fn set_sleeper(&mut self, sleeper: Box<dyn FnMut(Duration) + Send>) {
        self.sleeper = sleeper;
    }

    /// Mounts a CSP.
    pub fn mount(
        &mut self,
        prefix: &str,
        csp: Box<dyn Csp>,
        default_role: u32,
    ) -> Result<(), AgentError> {
        Ok(self.tree.mount(prefix, csp, default_role)?)
    }

    /// The management tree (for local reads and writes).
    pub fn tree(&mut self) -> &mut Manager {
        &mut self.tree
    }

    /// The DM accounts.
    pub fn accounts(&self) -> &AccountStore {
        &self.accounts
    }

    /// The push router (registrations, counters).
    pub fn router(&mut self) -> &mut Router {
        &mut self.router
    }

    /// Pending generic alerts.
    pub fn alerts(&self) -> &PendingAlerts {
        &self.alerts
    }

    /// Handles one push input at `now_ms`.
    pub fn receive(&mut self, input: Input<'_>, now_ms: u64) -> Option<AgentEvent> {
        let output = self.router.receive(input, now_ms);
        self.handle_output(output)
    }

    /// Gives the PIN the user typed for the provisioning document `id` (from
    /// [`AgentEvent::PinRequired`]); a right PIN bootstraps its accounts.
    pub fn provide_pin(&mut self, id: u32, pin: &str) -> Option<AgentEvent> {
        let output = self.router.provide_pin(id, pin);
        self.handle_output(output)
    }

    fn handle_output(&mut self, output: Output) -> Option<AgentEvent> {
        match output {
            Output::None => None,
            Output::StartSession(s) => {
                let already = self.queue.iter().any(|(id, t, _)| {
                    id == &s.server_id
                        && *t
                            == Trigger::Server {
                                session_id: s.session_id,
                            }
                });
                if !already {
                    self.queue.push_back((
                        s.server_id.clone(),
                        Trigger::Server {
                            session_id: s.session_id,
                        },
                        s.nonce_resync,
                    ));
                }
                Some(AgentEvent::SessionQueued {
                    server_id: s.server_id,
                    session_id: s.session_id,
                })
            }
            Output::Bootstrap(b) => match omadm_push::cp::apply(&self.accounts, &b) {
                Ok(names) => Some(AgentEvent::Bootstrapped(names)),
                Err(e) => {
                    log::warn!("bootstrap failed: {e}");
                    None
                }
            },
            Output::PinRequired { id, .. } => Some(AgentEvent::PinRequired(id)),
            Output::Routed(r) => Some(AgentEvent::Routed(Box::new(r))),
        }
    }

    /// Queues a client-initiated session with `server_id` (Alert 1201).
    pub fn request_session(&mut self, server_id: &str) {
        let trigger = self.client_trigger();
        self.queue.push_back((server_id.to_owned(), trigger, false));
    }

    /// Runs a client-initiated session (Alert 1201) with `server_id` now, carrying the
    /// alerts pending for it, and returns how it ended (`omadm session`). Other queued
    /// sessions stay queued.
    pub fn start_session(&mut self, server_id: &str) -> AgentEvent {
        let trigger = self.client_trigger();
        self.run_session(server_id, trigger, false)
    }

    /// The trigger of a new client-initiated session: Alert 1201 with the next session id.
    fn client_trigger(&mut self) -> Trigger {
        self.next_session_id = self.next_session_id.wrapping_add(1);
        Trigger::Client {
            session_id: self.next_session_id,
        }
    }

    /// Stores a generic alert for `server_id` (durable) and queues a session to deliver it.
    pub fn add_generic_alert(
        &mut self,
        server_id: &str,
        alert: GenericAlert,
    ) -> Result<u64, AgentError> {
        let id = self
            .alerts
            .add(server_id, alert)
            .map_err(AgentError::io(self.state_dir.join("alerts")))?;
        self.request_session(server_id);
        Ok(id)
    }

    /// Queues a session for every server with pending alerts (after a restart).
    pub fn resume_pending_alerts(&mut self) {
        for server in self.alerts.servers() {
            if !self.queue.iter().any(|(s, _, _)| *s == server) {
                self.request_session(&server);
            }
        }
    }

    /// Sessions waiting to run.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// How sessions that carry pending generic alerts are tried again when they fail (after
    /// the transport's own retries): default 3 more sessions, 30 s doubling to 10 min, waited
    /// with the sleeper. Alerts left pending go with the next session, or after a restart.
    pub fn set_alert_retry(&mut self, policy: RetryPolicy) {
        self.alert_retry = policy;
    }

    /// Runs the queued sessions, one at a time, and the FUMO operations they start (downloads,
    /// installs, results after a restart), until nothing is left to do now, or
    /// [`MAX_SESSIONS_PER_RUN`] sessions have run (a server that starts an operation in every
    /// session would otherwise keep the caller forever; the rest stays queued).
    pub fn run_pending(&mut self) -> Vec<AgentEvent> {
        let mut out = Vec::new();
        let mut alert_retries: Vec<(String, u32)> = Vec::new();
        let mut sessions = 0;
        self.paused = false;
        loop {
            // Sessions first (a server may be polling a running operation), then the FUMO
            // work; the work may queue sessions (results to report).
            if self.queue.is_empty() || self.host_transport {
                out.extend(self.run_firmware_jobs());
                if self.paused || self.queue.is_empty() || self.host_transport {
                    break;
                }
            }
            if sessions == MAX_SESSIONS_PER_RUN {
                log::warn!("{sessions} sessions in one run; the rest waits for the next");
                break;
            }
            let Some((server_id, trigger, resync)) = self.queue.pop_front() else {
                break;
            };
            sessions += 1;
            let event = self.run_session(&server_id, trigger, resync);
            self.session_finished(&server_id, trigger);
            // A failure that retrying can mend, of a session carrying alerts: try again later.
            let retry = !self.once
                && matches!(&event, AgentEvent::SessionFailed { reason, .. } if !reason.is_permanent());
            out.push(event);
            if retry && !self.alerts.for_server(&server_id).is_empty() {
                let tries = match alert_retries.iter_mut().find(|(s, _)| *s == server_id) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        alert_retries.push((server_id.clone(), 1));
                        1
                    }
                };
                if let Some(wait) = self.alert_retry.backoff(tries) {
                    log::info!("{server_id}: pending alerts; next session in {wait:?}");
                    (self.sleeper)(wait);
                    self.request_session(&server_id);
                }
            }
        }
        out
    }

    /// Sets the check long work makes now and then (every MiB of a firmware download): when
    /// it answers true (push input is waiting, say), the work pauses where it is (on disk),
    /// [`Agent::run_pending`] returns, and [`Agent::paused`] is true until the next run
    /// continues it. This is how a server's session, and its poll of a FUMO State, gets in
    /// during a long download. Default: never.
    pub fn set_yield_check(&mut self, check: Box<dyn FnMut() -> bool + Send>) {
        self.yield_check = check;
    }

    /// Whether the last [`Agent::run_pending`] stopped early for other work (run it again
    /// after handling that work).
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// The driver of a session with `server_id` (see [`driver`]), carrying the alerts
    /// pending for it, with this agent's user interface; `None` when no DM account has this
    /// ServerID. Run it with this agent's transport ([`Agent::run_session`]) or the host's
    /// ([`Agent::feed_response`], [`Agent::feed_failure`], [`Agent::take_driver_event`]).
    pub fn driver(&self, server_id: &str, trigger: Trigger, resync: bool) -> Option<Driver> {
        let account = self.accounts.find_by_server_id(server_id)?;
        let settings = DriverSettings {
            device: self.config.device.clone(),
            max_msg_size: self.config.max_msg_size,
            fallback: self.config.fallback,
            once: self.once,
            plain_http_allowed: self.config.transport.allow_plain_http,
        };
        let alerts = self.alerts.for_server(server_id);
        // Predictable nonces would let a replayed server message through: if the generator
        // fails, stop rather than go on.
        let entropy = Box::new(|b: &mut [u8]| {
            if let Err(e) = openssl::rand::rand_bytes(b) {
                log::error!("the random generator failed ({e}); stopping");
                std::process::abort();
            }
        });
        let mut driver = Driver::new(account, trigger, resync, settings, alerts, entropy);
        if let Some(ui) = &self.ui {
            driver.set_ui(ui.clone());
        }
        Some(driver)
    }

    /// Leaves queued sessions (notifications, requests, alerts to deliver) to the host, which
    /// runs them over its own transport: [`Agent::run_pending`] then runs only the FUMO work,
    /// and the host takes each session with [`Agent::take_queued_driver`]. Off by default.
    pub fn set_host_transport(&mut self, on: bool) {
        self.host_transport = on;
    }

    /// The driver of the next queued session (server- or client-initiated), taken out of the
    /// queue; `None` when none is queued. A queued session for a server without an account
    /// comes back as its `SessionFailed` report instead. Tell the agent when a driver is done
    /// with [`Agent::driver_finished`].
    pub fn take_queued_driver(&mut self) -> Option<Result<Driver, AgentEvent>> {
        let (server_id, trigger, resync) = self.queue.pop_front()?;
        match self.driver(&server_id, trigger, resync) {
            Some(driver) => Some(Ok(driver)),
            None => {
                log::warn!(
                    "no session with {}: no DM account has this ServerID",
                    omadm_syncml::printable(&server_id).limit(64)
                );
                self.session_finished(&server_id, trigger);
                Some(Err(AgentEvent::SessionFailed {
                    server_id,
                    reason: SessionFailure::NoAccount,
                }))
            }
        }
    }

    /// Records that `driver`'s session is over (a server's notification for it may start a
    /// new one).
    pub fn driver_finished(&mut self, driver: &Driver) {
        self.session_finished(driver.server_id(), driver.trigger());
    }

    fn session_finished(&mut self, server_id: &str, trigger: Trigger) {
        if let Trigger::Server { session_id } = trigger {
            self.router
                .notifications()
                .session_finished(server_id, session_id);
        }
    }

    /// The driver of a client-initiated session (Alert 1201) with `server_id`, with a new
    /// session id; `None` when no DM account has this ServerID.
    pub fn client_driver(&mut self, server_id: &str) -> Option<Driver> {
        let trigger = self.client_trigger();
        self.driver(server_id, trigger, false)
    }

    /// Hands `response` to `driver` at `now` with this agent's tree and pending alerts (the
    /// observer is told of it). Then poll the driver's events through
    /// [`Agent::take_driver_event`].
    pub fn feed_response(
        &mut self,
        driver: &mut Driver,
        now: u64,
        response: HttpResponse<'_>,
    ) -> Result<(), DriverMisuse> {
        if response.status == 200 {
            self.observe(SessionStep::Received {
                server_id: driver.server_id(),
                status: response.status,
                content_type: response.content_type.unwrap_or(""),
                body: response.body,
            });
        }
        driver.handle_response(now, response, &mut self.tree, &mut self.alerts)
    }

    /// Tells `driver` at `now` that its request got no response (see
    /// [`Driver::handle_failure`]).
    pub fn feed_failure(
        &mut self,
        driver: &mut Driver,
        now: u64,
        kind: FailureKind,
        detail: &str,
    ) -> Result<(), DriverMisuse> {
        driver.handle_failure(now, kind, detail)
    }

    /// The next event of `driver`, after the agent did its part: nonces stored in the
    /// account, the observer told of processed messages. A final event
    /// ([`DriverEvent::is_final`]) comes with the [`AgentEvent`] that reports the session.
    pub fn take_driver_event(
        &mut self,
        driver: &mut Driver,
    ) -> Option<(DriverEvent, Option<AgentEvent>)> {
        let event = driver.poll_event()?;
        let server_id = driver.server_id();
        let report = match &event {
            DriverEvent::StoreClientNonce(nonce) => {
                if let Err(e) = self.accounts.set_nonce(server_id, "CLCRED", nonce) {
                    log::warn!("cannot store the client nonce: {e}");
                }
                None
            }
            DriverEvent::StoreServerNonce(nonce) => {
                if let Err(e) = self.accounts.set_nonce(server_id, "SRVCRED", nonce) {
                    log::warn!("cannot store the server nonce: {e}");
                }
                None
            }
            DriverEvent::MessageProcessed { more } => {
                let step = SessionStep::Processed {
                    server_id,
                    more: *more,
                };
                if let Some(o) = self.observer.as_mut() {
                    o(&step);
                }
                None
            }
            DriverEvent::AlertAcknowledged { .. }
            | DriverEvent::AttemptStarted { .. }
            | DriverEvent::Retrying { .. }
            | DriverEvent::FellBack { .. } => None,
            DriverEvent::Ended {
                reason,
                messages,
                fell_back,
            } => Some(AgentEvent::SessionEnded {
                server_id: server_id.into(),
                reason: reason.clone(),
                messages: *messages,
                fell_back: *fell_back,
            }),
            DriverEvent::Failed(reason) => Some(AgentEvent::SessionFailed {
                server_id: server_id.into(),
                reason: reason.clone(),
            }),
        };
        Some((event, report))
    }

    /// Runs one session with `server_id` over this agent's HTTPS transport: the blocking loop
    /// around a [`Driver`]. Waits go through the sleeper, and the driver's clock is the sum
    /// of them (what the driver decides depends on nothing else).
    pub fn run_session(&mut self, server_id: &str, trigger: Trigger, resync: bool) -> AgentEvent {
        let Some(mut driver) = self.driver(server_id, trigger, resync) else {
            log::warn!(
                "no session with {}: no DM account has this ServerID",
                omadm_syncml::printable(server_id).limit(64)
            );
            return AgentEvent::SessionFailed {
                server_id: server_id.into(),
                reason: SessionFailure::NoAccount,
            };
        };
        let mut client: Option<(TransportKey, Client)> = None;
        let mut now = 0u64;
        loop {
            while let Some((_, report)) = self.take_driver_event(&mut driver) {
                if let Some(report) = report {
                    if let Some((key, mut c)) = client {
                        c.disconnect();
                        self.client = Some((key, c));
                    }
                    return report;
                }
            }
            if let Some(until) = driver.poll_timeout() {
                (self.sleeper)(Duration::from_millis(until.saturating_sub(now)));
                now = now.max(until);
                driver.handle_timeout(now);
                continue;
            }
            if client.is_none() {
                match self.transport_for(driver.connection_rules()) {
                    Ok(c) => client = Some(c),
                    Err(reason) => {
                        return AgentEvent::SessionFailed {
                            server_id: server_id.into(),
                            reason,
                        }
                    }
                }
            }
            let Some((_, c)) = client.as_mut() else {
                continue;
            };
            let Some(request) = driver.poll_request() else {
                // Neither a request nor a wait, and no final event: cannot happen; end
                // rather than spin.
                return AgentEvent::SessionFailed {
                    server_id: server_id.into(),
                    reason: SessionFailure::Protocol("the session stalled".into()),
                };
            };
            if request.retry == 0 {
                if let Some(o) = self.observer.as_mut() {
                    o(&SessionStep::Sending {
                        server_id,
                        url: request.url,
                        content_type: request.content_type,
                        body: request.body,
                        number: request.number,
                    });
                }
            }
            let result = c.post(&Request {
                url: request.url,
                content_type: request.content_type,
                body: request.body,
                hmac: request.hmac,
            });
            let fed = match &result {
                Ok(r) => self.feed_response(
                    &mut driver,
                    now,
                    HttpResponse {
                        status: r.status,
                        content_type: r.content_type.as_deref(),
                        hmac: r.hmac.as_deref(),
                        body: &r.body,
                    },
                ),
                Err(e) => self.feed_failure(&mut driver, now, FailureKind::from(e), &e.to_string()),
            };
            if let Err(e) = fed {
                log::error!("{server_id}: {e}");
            }
        }
    }

    /// This agent's transport for a session under `rules`: the one kept from the last
    /// session when its settings are the same (building an OpenSSL context and loading the
    /// trust anchors costs milliseconds), else a new one.
    fn transport_for(
        &mut self,
        rules: &ConnectionRules,
    ) -> Result<(TransportKey, Client), SessionFailure> {
        let key = (rules.client_certificate.clone(), rules.plain_http_allowed);
        match self.client.take() {
            Some((k, c)) if k == key => Ok((key, c)),
            _ => {
                let config = self.account_transport(&key)?;
                let client = Client::new(config).map_err(|e| SessionFailure::Tls(e.to_string()))?;
                Ok((key, client))
            }
        }
    }

    /// The transport configuration for a session with these account settings.
    fn account_transport(&self, key: &TransportKey) -> Result<ClientConfig, SessionFailure> {
        let mut c = self.transport_config();
        c.allow_plain_http = key.1;
        if let Some((cert, k)) = &key.0 {
            c.client_cert = Some(
                read_client_certificate(Path::new(cert), Path::new(k))
                    .map_err(|e| SessionFailure::ClientCertificate(e.to_string()))?,
            );
        }
        Ok(c)
    }

    /// The transport's settings, with responses capped at what the session accepts (the
    /// MaxMsgSize this device announces, plus the slack of [`omadm_dpu::accepted_size`]): a
    /// larger server message is refused while it is read, before it costs memory.
    fn transport_config(&self) -> ClientConfig {
        let mut c = self.config.transport.clone();
        let accepted = omadm_dpu::accepted_size(self.config.max_msg_size);
        c.max_response_bytes = c
            .max_response_bytes
            .min(usize::try_from(accepted).unwrap_or(usize::MAX));
        c
    }

    /// The state directory's tree files (for diagnostics).
    pub fn state_files(state_dir: &Path) -> Vec<PathBuf> {
        [
            "tree/tree.journal",
            "tree/tree.snap",
            "accounts/tree.journal",
            "accounts/tree.snap",
            "alerts",
            "fumo/tree.journal",
            "fumo/tree.snap",
        ]
        .iter()
        .map(|p| state_dir.join(p))
        .collect()
    }
}
