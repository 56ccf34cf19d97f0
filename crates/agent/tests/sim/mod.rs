//! A simulated device–server pair (quinn-proto's `Pair` is the model): the device's
//! [`Driver`] with its tree, account and pending alerts, and the reference server's
//! [`Engine`], wired in memory with a virtual clock and a script of transport faults. No
//! sockets, no sleeps: every run is deterministic.
//!
//! Shared by the pair tests (`tests/pair.rs`) and the `session_pair` fuzz target, which
//! includes this file by path.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use omadm_agent::{Driver, DriverEvent, DriverSettings, FailureKind, FallbackPolicy, HttpResponse};
use omadm_cm::{
    roles, Config as CmConfig, Csp, CspError, CspNode, ExecOutcome, LeafValue, Manager,
    MemoryStorage,
};
use omadm_csp::{AuthCreds, DevInfoCsp, DeviceInfo, DmAccount, MemoryCsp, MsExt};
use omadm_dpu::{AlertStore, GenericAlert, Trigger};
use omadm_server::{jobs, DeviceAccount, Engine, EngineConfig};
use omadm_syncml::auth::AuthScheme;

/// The device's DevId.
pub const DEVICE: &str = "IMEI:490154203237518";

/// What the transport does with one request (in script order; an empty script delivers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Delivered, answered.
    None,
    /// Something on the way (a proxy, a load balancer) answers this HTTP status; the server
    /// never sees the message.
    Status(u16),
    /// The connection is refused; the server never sees the message.
    Refused,
    /// The server handles the message; its response is lost (the connection breaks).
    DropResponse,
    /// The message reaches the server twice (a proxy's repeat); the device gets the second
    /// reply.
    Duplicate,
    /// The server handles the message; the response breaks off part-way and the transport
    /// notices (fewer bytes than Content-Length).
    CutShort,
    /// The server handles the message; its body arrives cut in half but the transport hands
    /// it over as a 200 (a host transport that does not check the length).
    Truncated,
    /// The server handles the message but answers after the transport's time-out.
    Slow,
    /// The TLS handshake fails.
    Tls,
}

/// Pending generic alerts kept in memory.
#[derive(Debug, Default, Clone)]
pub struct MemoryAlerts {
    /// The alerts not yet acknowledged.
    pub pending: Vec<GenericAlert>,
}

impl AlertStore for MemoryAlerts {
    fn acknowledge(&mut self, id: u64) -> Result<(), String> {
        self.pending.retain(|a| a.id != id);
        Ok(())
    }
}

/// Every Exec the device ran: (attempt, data).
pub type ExecLog = Arc<Mutex<Vec<(u32, String)>>>;

/// An executable leaf `./X` that logs each run with the attempt it ran in.
struct ExecCsp {
    log: ExecLog,
    attempt: Arc<Mutex<u32>>,
}

impl Csp for ExecCsp {
    fn node(&mut self, path: &str) -> Result<CspNode, CspError> {
        if path == "./X" {
            Ok(CspNode::Leaf(LeafValue::text("")))
        } else {
            Err(CspError::NotFound)
        }
    }

    fn exec(
        &mut self,
        _path: &str,
        data: &[u8],
        _correlator: Option<&str>,
    ) -> Result<ExecOutcome, CspError> {
        let attempt = *self.attempt.lock().unwrap();
        self.log
            .lock()
            .unwrap()
            .push((attempt, String::from_utf8_lossy(data).into_owned()));
        Ok(ExecOutcome::Done)
    }
}

/// What a run of one driver came to.
#[derive(Debug)]
pub struct Run {
    /// Every event, in order.
    pub events: Vec<DriverEvent>,
    /// The virtual time when it ended.
    pub ended_at: u64,
}

impl Run {
    /// The final event.
    pub fn last(&self) -> &DriverEvent {
        self.events.last().expect("a final event")
    }

    /// The waits of the retries, in order (ms).
    pub fn retry_waits(&self) -> Vec<u64> {
        self.events
            .iter()
            .filter_map(|e| match e {
                DriverEvent::Retrying { wait, .. } => Some(wait.as_millis() as u64),
                _ => None,
            })
            .collect()
    }

    /// Whether the session completed.
    pub fn completed(&self) -> bool {
        matches!(
            self.last(),
            DriverEvent::Ended {
                reason: omadm_dpu::EndReason::Completed,
                ..
            }
        )
    }
}

/// The pair. Build with [`Pair::new`], adjust the public fields, then [`Pair::session`].
pub struct Pair {
    /// The virtual clock (ms).
    pub now: u64,
    /// Time one round trip takes (ms).
    pub latency_ms: u64,
    /// The host transport's response time-out (ms): what a [`Fault::Slow`] costs.
    pub timeout_ms: u64,
    /// The device's tree.
    pub tree: Manager,
    /// The device's DM account for the server (nonces kept as the driver asks).
    pub account: DmAccount,
    /// The device's settings for every driver.
    pub settings: DriverSettings,
    /// The device's pending generic alerts.
    pub alerts: MemoryAlerts,
    /// The server.
    pub server: Engine,
    /// The faults for the coming requests, in order.
    pub faults: VecDeque<Fault>,
    /// Every Exec run on the device.
    pub execs: ExecLog,
    attempt: Arc<Mutex<u32>>,
    /// Sizes of the server's messages the device received.
    pub server_message_sizes: Vec<usize>,
    /// Sizes of the device's messages the server received.
    pub device_message_sizes: Vec<usize>,
    /// Requests that reached the server.
    pub server_requests: u32,
    next_session_id: u16,
    next_alert_id: u64,
    seed: u64,
}

/// The device's entropy: a fixed xorshift stream (the pair is deterministic).
fn entropy(seed: u64) -> omadm_dpu::Entropy {
    let mut x = seed | 1;
    Box::new(move |b: &mut [u8]| {
        for o in b {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *o = x as u8;
        }
    })
}

impl Pair {
    /// A device with an MD5 account for a server that requires device authentication, and
    /// the server with `jobs` (the reference server's job syntax) for every session.
    pub fn new(jobs_text: &str) -> Pair {
        Self::with(jobs_text, |_| {})
    }

    /// As [`Pair::new`], with the server's settings adjusted by `adjust`.
    pub fn with(jobs_text: &str, adjust: impl FnOnce(&mut EngineConfig)) -> Pair {
        let mut devices = HashMap::new();
        devices.insert(
            DEVICE.to_owned(),
            DeviceAccount {
                name: "device".into(),
                password: "devpw".into(),
                scheme: AuthScheme::Md5,
                jobs: vec![],
            },
        );
        let mut config = EngineConfig {
            server_id: "ref".into(),
            server_password: "srvpw".into(),
            server_uri: "https://dm.example/dm".into(),
            devices,
            default_jobs: jobs::parse(jobs_text).expect("jobs"),
            require_device_auth: true,
            max_msg_size: 64 * 1024,
            ..EngineConfig::default()
        };
        adjust(&mut config);
        let server = Engine::new(config, entropy(0x5eed_5e4e));
        let device = DeviceInfo {
            dev_id: DEVICE.into(),
            man: "omadm".into(),
            model: "pair".into(),
            dm_v: "1".into(),
            lang: "en".into(),
            ext: vec![],
        };
        let tree_config = CmConfig {
            root_acl: "Add=*&Get=*&Replace=*&Delete=*&Exec=*".into(),
            ..CmConfig::default()
        };
        let mut tree = Manager::open(Box::new(MemoryStorage::new()), tree_config).expect("tree");
        tree.mount(
            "./DevInfo",
            Box::new(DevInfoCsp::new(&device)),
            roles::MANAGER,
        )
        .expect("DevInfo");
        tree.mount(
            "./Vendor/memory",
            Box::new(MemoryCsp::new("./Vendor/memory")),
            roles::MANAGER,
        )
        .expect("memory");
        let execs: ExecLog = Arc::default();
        let attempt = Arc::new(Mutex::new(0));
        tree.mount(
            "./X",
            Box::new(ExecCsp {
                log: execs.clone(),
                attempt: attempt.clone(),
            }),
            roles::MANAGER,
        )
        .expect("X");
        let account = DmAccount {
            server_id: "ref".into(),
            name: "Reference server".into(),
            addr: "https://dm.example/dm".into(),
            client: Some(AuthCreds {
                auth_type: "DIGEST".into(),
                name: "device".into(),
                secret: "devpw".into(),
                data: vec![],
            }),
            server: Some(AuthCreds {
                auth_type: "DIGEST".into(),
                name: "ref".into(),
                secret: "srvpw".into(),
                data: vec![],
            }),
            ext: MsExt {
                initial_backoff_ms: 16_000,
                max_backoff_ms: 60_000,
                ..MsExt::default()
            },
            ceiling: roles::MANAGER,
            ..DmAccount::default()
        };
        Pair {
            now: 1_000,
            latency_ms: 50,
            timeout_ms: 30_000,
            tree,
            account,
            settings: DriverSettings {
                device,
                max_msg_size: 16 * 1024,
                fallback: FallbackPolicy::default(),
                once: false,
                plain_http_allowed: false,
            },
            alerts: MemoryAlerts::default(),
            server,
            faults: VecDeque::new(),
            execs,
            attempt,
            server_message_sizes: Vec::new(),
            device_message_sizes: Vec::new(),
            server_requests: 0,
            next_session_id: 0,
            next_alert_id: 0,
            seed: 1,
        }
    }

    /// Adds a pending generic alert whose Data is `data`; returns its id.
    pub fn add_alert(&mut self, data: &str) -> u64 {
        self.next_alert_id += 1;
        self.alerts.pending.push(GenericAlert {
            id: self.next_alert_id,
            correlator: None,
            source: Some("./X".into()),
            target: None,
            type_: "org.openmobilealliance.dm.firmwareupdate.download".into(),
            format: "int".into(),
            mark: None,
            data: data.into(),
        });
        self.next_alert_id
    }

    /// The fault script, from now on.
    pub fn script(&mut self, faults: &[Fault]) {
        self.faults = faults.iter().copied().collect();
    }

    /// Runs one client-initiated session to its end (at most `10_000` steps).
    pub fn session(&mut self) -> Run {
        self.next_session_id += 1;
        self.seed += 1;
        let mut driver = Driver::new(
            self.account.clone(),
            Trigger::Client {
                session_id: self.next_session_id,
            },
            false,
            self.settings.clone(),
            self.alerts.pending.clone(),
            entropy(self.seed),
        );
        self.drive(&mut driver)
    }

    /// Runs `driver` to its end.
    pub fn drive(&mut self, driver: &mut Driver) -> Run {
        let mut events = Vec::new();
        for _ in 0..10_000 {
            while let Some(event) = driver.poll_event() {
                self.apply(&event);
                let last = event.is_final();
                events.push(event);
                if last {
                    assert!(driver.is_done());
                    assert!(driver.poll_request().is_none());
                    return Run {
                        events,
                        ended_at: self.now,
                    };
                }
            }
            if let Some(until) = driver.poll_timeout() {
                assert!(driver.poll_request().is_none(), "a request while waiting");
                self.now = self.now.max(until);
                driver.handle_timeout(self.now);
                continue;
            }
            let request = driver.poll_request().expect("a request, a wait or the end");
            let body = request.body.to_vec();
            let hmac = request.hmac.map(str::to_owned);
            assert!(request.url.starts_with("https://"));
            let fault = self.faults.pop_front().unwrap_or(Fault::None);
            self.now += self.latency_ms;
            let fed = match fault {
                Fault::None => self.deliver(driver, &body, hmac.as_deref(), 1, |_| {}),
                Fault::Duplicate => self.deliver(driver, &body, hmac.as_deref(), 2, |_| {}),
                Fault::Truncated => self.deliver(driver, &body, hmac.as_deref(), 1, |b| {
                    b.truncate(b.len() / 2)
                }),
                Fault::Status(status) => {
                    let r = HttpResponse {
                        status,
                        content_type: Some("text/html"),
                        hmac: None,
                        body: b"<html>busy</html>",
                    };
                    driver.handle_response(self.now, r, &mut self.tree, &mut self.alerts)
                }
                Fault::Refused => {
                    driver.handle_failure(self.now, FailureKind::Connect, "connection refused")
                }
                Fault::Tls => {
                    driver.handle_failure(self.now, FailureKind::Tls, "certificate verify failed")
                }
                Fault::DropResponse | Fault::CutShort | Fault::Slow => {
                    self.post_to_server(&body, hmac.as_deref());
                    if fault == Fault::Slow {
                        self.now += self.timeout_ms;
                        driver.handle_failure(self.now, FailureKind::Timeout, "timed out")
                    } else {
                        driver.handle_failure(self.now, FailureKind::Io, "connection reset")
                    }
                }
            };
            fed.expect("the driver awaited a response");
        }
        panic!("the session did not end in 10,000 steps");
    }

    /// The message reaches the server `times` times; the device gets the last reply
    /// (`cut` may damage its body).
    fn deliver(
        &mut self,
        driver: &mut Driver,
        body: &[u8],
        hmac: Option<&str>,
        times: u32,
        cut: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(), omadm_agent::DriverMisuse> {
        let mut reply = self.post_to_server(body, hmac);
        for _ in 1..times {
            reply = self.post_to_server(body, hmac);
        }
        let (status, mut rbody, rhmac) = reply;
        if status == 200 {
            self.server_message_sizes.push(rbody.len());
        }
        cut(&mut rbody);
        let r = HttpResponse {
            status,
            content_type: Some("application/vnd.syncml.dm+xml"),
            hmac: rhmac.as_deref(),
            body: &rbody,
        };
        driver.handle_response(self.now, r, &mut self.tree, &mut self.alerts)
    }

    fn post_to_server(
        &mut self,
        body: &[u8],
        hmac: Option<&str>,
    ) -> (u16, Vec<u8>, Option<String>) {
        self.server_requests += 1;
        self.device_message_sizes.push(body.len());
        let reply = self.server.handle(self.now, body, hmac);
        (reply.status, reply.body, reply.hmac)
    }

    /// What the device's host does with an event.
    fn apply(&mut self, event: &DriverEvent) {
        match event {
            DriverEvent::StoreClientNonce(n) => {
                if let Some(c) = self.account.client.as_mut() {
                    c.data = n.clone();
                }
            }
            DriverEvent::StoreServerNonce(n) => {
                if let Some(s) = self.account.server.as_mut() {
                    s.data = n.clone();
                }
            }
            DriverEvent::AttemptStarted { .. } => *self.attempt.lock().unwrap() += 1,
            _ => {}
        }
    }

    /// The Data of every generic alert the server recorded.
    pub fn alerts_received(&self) -> Vec<String> {
        self.server
            .records()
            .iter()
            .filter(|r| r.kind == "Alert" && r.code == Some(1226))
            .filter_map(|r| r.data.clone())
            .collect()
    }

    /// Panics if the server recorded one thing twice in one session (a repeated message
    /// executed again): records are unique per session.
    pub fn assert_server_recorded_nothing_twice(&self) {
        let records = self.server.records();
        let mut seen = std::collections::HashSet::new();
        for r in &records {
            assert!(
                seen.insert(r.tsv_line()),
                "recorded twice in one session: {}",
                r.tsv_line()
            );
        }
    }

    /// Panics unless no Exec ran twice in one attempt.
    pub fn assert_nothing_ran_twice(&self) {
        let execs = self.execs.lock().unwrap();
        let mut seen = std::collections::HashSet::new();
        for e in execs.iter() {
            assert!(seen.insert(e.clone()), "executed twice: {e:?} in {execs:?}");
        }
    }

    /// Panics if an alert was lost: every alert added is pending on the device or was
    /// received by the server.
    pub fn assert_no_alert_lost(&self, added: &[String]) {
        let received = self.alerts_received();
        for data in added {
            let pending = self.alerts.pending.iter().any(|a| &a.data == data);
            assert!(
                pending || received.contains(data),
                "alert {data} lost: neither pending nor received"
            );
        }
    }
}
