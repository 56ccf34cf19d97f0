//! What a session needs to know before it starts: who the device and the server are, the
//! credentials both ways, the limits, and what package 1 reports.

use std::fmt;

use omadm_syncml::auth::AuthScheme;
use omadm_syncml::{DmVersion, Encoding, Limits};

/// Credentials one side presents (name, secret, the nonce to use next).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The scheme (basic or MD5 in Cred; HMAC is carried by the transport).
    pub scheme: AuthScheme,
    /// The name (AAuthName).
    pub name: String,
    /// The secret (AAuthSecret); never printed.
    pub secret: String,
    /// The nonce (AAuthData), raw octets.
    pub nonce: Vec<u8>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("scheme", &self.scheme)
            .field("name", &self.name)
            .field("secret", &"<redacted>")
            .field("nonce", &format_args!("<{} octets>", self.nonce.len()))
            .finish()
    }
}

/// Session settings.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Protocol dialect of package 1 (the account's ProtoVer).
    pub version: DmVersion,
    /// Encoding of the messages this client sends.
    pub encoding: Encoding,
    /// The device's identity: Source LocURI of every message (DevInfo/DevId).
    pub device_id: String,
    /// The server's URI: Target LocURI (the account's AppAddr).
    pub server_uri: String,
    /// The server's ServerID (the ACL principal).
    pub server_id: String,
    /// The server account's roles (the role model's principal mask).
    pub server_roles: u32,
    /// What the client presents (CLCRED); `None` sends no credentials until challenged.
    pub client_credentials: Option<Credentials>,
    /// What the client expects from the server (SRVCRED); `None` means the server need not
    /// authenticate itself.
    pub server_credentials: Option<Credentials>,
    /// Largest message this client accepts (announced as MaxMsgSize).
    pub max_msg_size: u64,
    /// Largest object this client accepts (announced as MaxObjSize).
    pub max_obj_size: u64,
    /// DevInfo (URI, value) pairs sent in package 1.
    pub dev_info: Vec<(String, String)>,
    /// Challenges a side may answer before the session is given up (MOT uses 2; we allow 3
    /// attempts in all, the first included).
    pub max_auth_attempts: u32,
    /// Decoder limits for server messages.
    pub limits: Limits,
}

impl SessionConfig {
    /// A configuration with the defaults: DM 1.2, XML, 64 KiB messages, 16 MiB objects.
    pub fn new(
        device_id: impl Into<String>,
        server_uri: impl Into<String>,
        server_id: impl Into<String>,
    ) -> Self {
        SessionConfig {
            version: DmVersion::V1_2,
            encoding: Encoding::Xml,
            device_id: device_id.into(),
            server_uri: server_uri.into(),
            server_id: server_id.into(),
            server_roles: omadm_cm::roles::MANAGER,
            client_credentials: None,
            server_credentials: None,
            max_msg_size: 64 * 1024,
            max_obj_size: 16 * 1024 * 1024,
            dev_info: Vec::new(),
            max_auth_attempts: 3,
            limits: Limits::default(),
        }
    }
}
