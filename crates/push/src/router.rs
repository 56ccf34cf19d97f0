//! The push router: bytes from the radio layer in, authenticated and routed messages out
//! (windows-mobile-dm.md §1).
//!
//! Every message gets a security role mask: ANY_PUSH_SOURCE always; KNOWN_PPG when the sender
//! is a configured PPG address; TRUSTED_PPG when it is a trusted one; from a trusted PPG, the
//! Push-Flag's bits give PPG_AUTH (initiator authenticated) and PPG_TRUSTED (content trusted),
//! and OPERATOR_TPS when the initiator was authenticated, equals the configured TPS URI, and
//! the TPS policy allows it. Policies then decide acceptance: WSP push on or off (4113), and
//! for Client Provisioning documents the OTA provisioning mask (4111) and, once their SEC/MAC
//! verifies (NETWPIN with the configured IMSI at once; the user-PIN methods after
//! [`Router::provide_pin`], waiting meanwhile in a bounded queue), the signature policies
//! 4141–4143 applied to the message's roles plus those the signature earned.
//!
//! Routing (WM 6.5): a handler registered for both the content type and the application id
//! wins; then one registered for the application id only; then one for the content type only.
//! One handler per key. DM notifications (`application/vnd.syncml.notification` or
//! `x-wap-application:syncml.dm`) go to the built-in [`NotificationHandler`] unless a handler
//! was registered for them. Unrouted messages are dropped and counted.

use omadm_csp::DmAccount;

use crate::cdma::{CdmaOptions, CdmaWap};
use crate::cp::Sec;
use crate::error::PushError;
use crate::gsm::SmsDeliver;
use crate::notification::{AccountLookup, NotificationHandler, StartSession};
use crate::roles;
use crate::wdp::{Bearer, Datagram, Reassembler, ReassemblyLimits, Segment};
use crate::wsp::{AppId, WspPush};

/// The WAP push port (connectionless WSP).
pub const PUSH_PORT: u16 = 2948;

/// Role-mask policies (windows-mobile-dm.md §1.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policies {
    /// 4113: route WSP push at all (default on).
    pub wsp_push: bool,
    /// 4111: role mask of provisioning documents accepted (default OPERATOR_TPS | KNOWN_PPG).
    pub ota_provisioning: u32,
    /// 4104: operators may be given OPERATOR_TPS (default on).
    pub tps: bool,
    /// 4141: role mask for NETWPIN-signed provisioning (default 0: refused).
    pub cp_netwpin: u32,
    /// 4142: role mask for USERPIN/USERPINMAC-signed provisioning (default KNOWN_PPG).
    pub cp_userpin: u32,
    /// 4143: role mask for USERNETWPIN-signed provisioning (default KNOWN_PPG).
    pub cp_usernetwpin: u32,
    /// Unauthenticated provisioning documents waiting for the user's PIN (default 8).
    pub max_unauthenticated: usize,
}

impl Default for Policies {
    fn default() -> Self {
        Policies {
            wsp_push: true,
            ota_provisioning: roles::OPERATOR_TPS | roles::KNOWN_PPG,
            tps: true,
            cp_netwpin: 0,
            cp_userpin: roles::KNOWN_PPG,
            cp_usernetwpin: roles::KNOWN_PPG,
            max_unauthenticated: 8,
        }
    }
}

/// Router settings.
#[derive(Debug, Clone, Default)]
pub struct RouterConfig {
    /// Addresses of the PPGs the device knows (SMS originators, IP addresses).
    pub known_ppgs: Vec<String>,
    /// Addresses of trusted PPGs (also known).
    pub trusted_ppgs: Vec<String>,
    /// The Trusted Provisioning Server URI.
    pub tps_uri: Option<String>,
    /// Policies.
    pub policies: Policies,
    /// WDP reassembly limits.
    pub reassembly: ReassemblyLimits,
    /// CDMA decoding options.
    pub cdma: CdmaOptions,
    /// The SIM's IMSI (the NETWPIN key of Client Provisioning).
    pub imsi: Option<String>,
}

/// What arrives from the radio layer.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A GSM SMS-DELIVER TPDU (no SMSC address).
    GsmSms(&'a [u8]),
    /// A CDMA SMS transport-layer message.
    CdmaSms(&'a [u8]),
    /// A UDP datagram to the push port, with the sender's address.
    Udp {
        /// Sender address (IP).
        sender: &'a str,
        /// The datagram: a WSP PDU.
        datagram: &'a [u8],
    },
}

/// A handler's registration id.
pub type HandlerId = u32;

/// A message routed to a registered handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    /// The handler.
    pub handler: HandlerId,
    /// The message.
    pub push: WspPush,
    /// Its role mask.
    pub roles: u32,
    /// The bearer it came over.
    pub bearer: Bearer,
    /// The sender.
    pub sender: String,
}

/// The result of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Nothing yet (a segment awaiting the rest) or nothing at all (dropped: see the stats).
    None,
    /// For a registered handler.
    Routed(Routed),
    /// An authenticated DM notification.
    StartSession(StartSession),
    /// A Client Provisioning document that was accepted: the DM accounts its `w7`
    /// applications define, with the roles the message earned (for the accounts' ceiling).
    Bootstrap(Bootstrap),
    /// A provisioning document signed with a user PIN waits for it:
    /// [`Router::provide_pin`] with this id.
    PinRequired {
        /// The waiting document's id.
        id: u32,
        /// How it is signed.
        sec: Sec,
    },
}

/// An accepted provisioning document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootstrap {
    /// The DM accounts of its `w7` APPLICATION characteristics.
    pub accounts: Vec<DmAccount>,
    /// The message's roles (origin roles plus those its signature earned).
    pub roles: u32,
    /// The sender.
    pub sender: String,
}

struct WaitingCp {
    id: u32,
    push: WspPush,
    sec: Sec,
    roles: u32,
    sender: String,
}

/// Counters of what the router dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouterStats {
    /// Inputs that could not be decoded.
    pub malformed: u64,
    /// Datagrams to another port.
    pub other_port: u64,
    /// Refused by a policy.
    pub refused_by_policy: u64,
    /// Provisioning documents whose MAC did not verify.
    pub bad_mac: u64,
    /// Provisioning documents dropped because too many wait for a PIN.
    pub unauthenticated_queue_full: u64,
    /// No handler matched.
    pub unrouted: u64,
}

/// Why a registration failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterError {
    /// Neither a content type nor an application id was given.
    Empty,
    /// Another handler has this key.
    AlreadyRegistered,
}

struct Registration {
    id: HandlerId,
    content_type: Option<String>,
    app_id: Option<AppId>,
}

/// The push router.
pub struct Router {
    config: RouterConfig,
    reassembler: Reassembler,
    registrations: Vec<Registration>,
    next_id: HandlerId,
    notifications: NotificationHandler,
    stats: RouterStats,
    waiting: std::collections::VecDeque<WaitingCp>,
    next_waiting: u32,
    /// The time of the input being handled.
    now: u64,
    /// Warnings about dropped input, rate-limited.
    warnings: crate::warn_limit::WarnLimit,
}

fn is_dm_notification(push: &WspPush) -> bool {
    push.content_type
        .media
        .eq_ignore_ascii_case("application/vnd.syncml.notification")
        || push
            .app_id
            .as_ref()
            .is_some_and(|a| a.same_as(&AppId::Code(7)))
}

fn is_provisioning(push: &WspPush) -> bool {
    let m = &push.content_type.media;
    m.eq_ignore_ascii_case("application/vnd.wap.connectivity-wbxml")
        || m.eq_ignore_ascii_case("text/vnd.wap.connectivity-xml")
}

impl Router {
    /// A router with `config`, verifying DM notifications against `accounts`.
    pub fn new(config: RouterConfig, accounts: Box<dyn AccountLookup>) -> Self {
        let reassembler = Reassembler::new(config.reassembly);
        Router {
            config,
            reassembler,
            registrations: Vec::new(),
            next_id: 1,
            notifications: NotificationHandler::new(accounts),
            stats: RouterStats::default(),
            waiting: std::collections::VecDeque::new(),
            next_waiting: 1,
            now: 0,
            warnings: Default::default(),
        }
    }

    /// Counters.
    pub fn stats(&self) -> RouterStats {
        self.stats
    }

    /// The DM notification handler (its counters, and to clear finished sessions).
    pub fn notifications(&mut self) -> &mut NotificationHandler {
        &mut self.notifications
    }

    /// The reassembler (its counters).
    pub fn reassembler(&self) -> &Reassembler {
        &self.reassembler
    }

    /// Registers a handler for a content type, an application id, or both.
    pub fn register(
        &mut self,
        content_type: Option<&str>,
        app_id: Option<AppId>,
    ) -> Result<HandlerId, RegisterError> {
        if content_type.is_none() && app_id.is_none() {
            return Err(RegisterError::Empty);
        }
        let ct = content_type.map(str::to_ascii_lowercase);
        let taken = self.registrations.iter().any(|r| {
            r.content_type == ct
                && match (&r.app_id, &app_id) {
                    (Some(a), Some(b)) => a.same_as(b),
                    (None, None) => true,
                    _ => false,
                }
        });
        if taken {
            return Err(RegisterError::AlreadyRegistered);
        }
        let id = self.next_id;
        self.next_id += 1;
        self.registrations.push(Registration {
            id,
            content_type: ct,
            app_id,
        });
        Ok(id)
    }

    /// Removes a registration; false when there was none.
    pub fn unregister(&mut self, id: HandlerId) -> bool {
        let before = self.registrations.len();
        self.registrations.retain(|r| r.id != id);
        before != self.registrations.len()
    }

    /// The handler a message goes to, by the WM 6.5 priority.
    pub fn find_handler(&self, push: &WspPush) -> Option<HandlerId> {
        let ct = push.content_type.media.to_ascii_lowercase();
        let app_matches = |r: &Registration| match (&r.app_id, &push.app_id) {
            (Some(a), Some(b)) => a.same_as(b),
            _ => false,
        };
        let ct_matches = |r: &Registration| r.content_type.as_deref() == Some(ct.as_str());
        self.registrations
            .iter()
            .find(|r| ct_matches(r) && app_matches(r))
            .or_else(|| {
                self.registrations
                    .iter()
                    .find(|r| r.content_type.is_none() && app_matches(r))
            })
            .or_else(|| {
                self.registrations
                    .iter()
                    .find(|r| r.app_id.is_none() && ct_matches(r))
            })
            .map(|r| r.id)
    }

    /// The role mask of a message from `sender`.
    pub fn roles_for(&self, sender: &str, push: &WspPush) -> u32 {
        let mut mask = roles::ANY_PUSH_SOURCE;
        let trusted = self.config.trusted_ppgs.iter().any(|p| p == sender);
        if trusted || self.config.known_ppgs.iter().any(|p| p == sender) {
            mask |= roles::KNOWN_PPG;
        }
        if trusted {
            mask |= roles::TRUSTED_PPG;
            let flag = push.push_flag.unwrap_or(0);
            if flag & 0x01 != 0 {
                mask |= roles::PPG_AUTH;
                let tps = self.config.tps_uri.as_deref();
                if self.config.policies.tps && tps.is_some() && push.initiator_uri.as_deref() == tps
                {
                    mask |= roles::OPERATOR_TPS;
                }
            }
            if flag & 0x02 != 0 {
                mask |= roles::PPG_TRUSTED;
            }
        }
        mask
    }

    /// Handles one input at time `now` (milliseconds).
    pub fn receive(&mut self, input: Input<'_>, now: u64) -> Output {
        self.now = now;
        self.warnings.tick(now);
        let segment = match self.segment(input) {
            Ok(s) => s,
            Err(e) => {
                self.warnings
                    .warn(now, format_args!("push input dropped: {e}"));
                self.stats.malformed += 1;
                return Output::None;
            }
        };
        match self.reassembler.push(segment, now) {
            Some(datagram) => self.datagram(datagram),
            None => Output::None,
        }
    }

    fn segment(&self, input: Input<'_>) -> Result<Segment, PushError> {
        Ok(match input {
            Input::GsmSms(bytes) => {
                let sms = SmsDeliver::decode(bytes)?;
                let ports = sms.ports().map(|p| (p.destination, p.origin));
                let (reference, total, seq) = sms
                    .concat()
                    .map(|c| (c.reference, c.total, c.seq))
                    .unwrap_or((0, 1, 1));
                Segment {
                    bearer: Bearer::Gsm,
                    sender: sms.originator.display(),
                    reference,
                    total,
                    seq,
                    ports,
                    payload: sms.user_data,
                }
            }
            Input::CdmaSms(bytes) => {
                let m = CdmaWap::decode(bytes, self.config.cdma)?;
                Segment {
                    bearer: Bearer::Cdma,
                    sender: m.originator,
                    reference: m.message_id,
                    total: m.total,
                    seq: m.seq + 1,
                    ports: m.ports.map(|(src, dst)| (dst, src)),
                    payload: m.payload,
                }
            }
            Input::Udp { sender, datagram } => Segment {
                bearer: Bearer::Udp,
                sender: sender.to_owned(),
                reference: 0,
                total: 1,
                seq: 1,
                ports: Some((PUSH_PORT, 0)),
                payload: datagram.to_vec(),
            },
        })
    }

    fn datagram(&mut self, d: Datagram) -> Output {
        if d.destination_port != PUSH_PORT {
            self.stats.other_port += 1;
            return Output::None;
        }
        let push = match WspPush::decode(&d.payload) {
            Ok(p) => p,
            Err(e) => {
                self.warnings.warn(
                    self.now,
                    format_args!(
                        "WSP push from {} dropped: {e}",
                        omadm_syncml::printable(&d.sender).limit(64)
                    ),
                );
                self.stats.malformed += 1;
                return Output::None;
            }
        };
        if !self.config.policies.wsp_push {
            self.stats.refused_by_policy += 1;
            return Output::None;
        }
        let roles = self.roles_for(&d.sender, &push);
        let handler = self.find_handler(&push);
        if handler.is_some()
            && is_provisioning(&push)
            && roles & self.config.policies.ota_provisioning == 0
        {
            self.warnings.warn(
                self.now,
                format_args!(
                    "provisioning document from {} refused by policy (roles 0x{roles:X})",
                    omadm_syncml::printable(&d.sender).limit(64)
                ),
            );
            self.stats.refused_by_policy += 1;
            return Output::None;
        }
        match handler {
            Some(handler) => Output::Routed(Routed {
                handler,
                push,
                roles,
                bearer: d.bearer,
                sender: d.sender,
            }),
            None if is_dm_notification(&push) => {
                match self
                    .notifications
                    .handle_at(&push.body, self.now, &mut self.warnings)
                {
                    Some(start) => Output::StartSession(start),
                    None => Output::None,
                }
            }
            None if push
                .content_type
                .media
                .eq_ignore_ascii_case("application/vnd.wap.connectivity-wbxml") =>
            {
                self.provisioning(push, roles, d.sender)
            }
            None => {
                self.stats.unrouted += 1;
                Output::None
            }
        }
    }

    /// A Client Provisioning document: verify its signature (now, or once the user gives the
    /// PIN), apply the SEC policies, and hand out its DM accounts.
    fn provisioning(&mut self, push: WspPush, roles: u32, sender: String) -> Output {
        let Some(sec_code) = push.content_type.sec else {
            return self.accept_cp(&push, roles, sender);
        };
        let Some(sec) = Sec::from_code(sec_code) else {
            log::warn!("provisioning document with unknown SEC {sec_code} dropped");
            self.stats.bad_mac += 1;
            return Output::None;
        };
        if sec.needs_user_pin() {
            if self.waiting.len() >= self.config.policies.max_unauthenticated {
                log::warn!(
                    "provisioning document dropped: {} already wait for a PIN",
                    self.waiting.len()
                );
                self.stats.unauthenticated_queue_full += 1;
                return Output::None;
            }
            let id = self.next_waiting;
            self.next_waiting = self.next_waiting.wrapping_add(1).max(1);
            self.waiting.push_back(WaitingCp {
                id,
                push,
                sec,
                roles,
                sender,
            });
            return Output::PinRequired { id, sec };
        }
        self.verify_cp(push, sec, roles, sender, None)
    }

    /// Gives the user's PIN (for USERPINMAC, the PIN followed by the digits shown) for a
    /// waiting provisioning document. A wrong PIN drops it.
    pub fn provide_pin(&mut self, id: u32, pin: &str) -> Output {
        let Some(i) = self.waiting.iter().position(|w| w.id == id) else {
            return Output::None;
        };
        let w = self.waiting.remove(i).expect("found");
        self.verify_cp(w.push, w.sec, w.roles, w.sender, Some(pin))
    }

    /// Provisioning documents waiting for a PIN.
    pub fn waiting_for_pin(&self) -> usize {
        self.waiting.len()
    }

    fn verify_cp(
        &mut self,
        push: WspPush,
        sec: Sec,
        roles: u32,
        sender: String,
        pin: Option<&str>,
    ) -> Output {
        let mac = push.content_type.mac.clone().unwrap_or_default();
        if !crate::cp::verify(sec, &mac, &push.body, self.config.imsi.as_deref(), pin) {
            self.warnings.warn(
                self.now,
                format_args!(
                    "provisioning document from {}: {sec} MAC does not verify",
                    omadm_syncml::printable(&sender).limit(64)
                ),
            );
            self.stats.bad_mac += 1;
            return Output::None;
        }
        let roles = roles | sec.roles();
        let policy = match sec {
            Sec::NetwPin => self.config.policies.cp_netwpin,
            Sec::UserPin | Sec::UserPinMac => self.config.policies.cp_userpin,
            Sec::UserNetwPin => self.config.policies.cp_usernetwpin,
        };
        if roles & policy == 0 {
            self.warnings.warn(
                self.now,
                format_args!(
                    "{sec}-signed provisioning document refused by policy (roles 0x{roles:X})"
                ),
            );
            self.stats.refused_by_policy += 1;
            return Output::None;
        }
        self.accept_cp(&push, roles, sender)
    }

    fn accept_cp(&mut self, push: &WspPush, roles: u32, sender: String) -> Output {
        if roles & self.config.policies.ota_provisioning == 0 {
            log::warn!(
                "provisioning document from {sender} refused by policy 4111 (roles 0x{roles:X})"
            );
            self.stats.refused_by_policy += 1;
            return Output::None;
        }
        match crate::cp::decode(&push.body) {
            Ok(doc) => {
                let accounts: Vec<DmAccount> = doc
                    .children
                    .iter()
                    .filter_map(crate::cp::w7_account)
                    .collect();
                Output::Bootstrap(Bootstrap {
                    accounts,
                    roles,
                    sender,
                })
            }
            Err(e) => {
                log::warn!("provisioning document from {sender} dropped: {e}");
                self.stats.malformed += 1;
                Output::None
            }
        }
    }
}
