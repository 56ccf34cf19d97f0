//! [`AccountChange`]: the fields a device-side tool sets on a DM account (`omadm account`,
//! the C ABI's `omadm_account` builder), each one optional, applied to a new account or to an
//! existing one the same way.

use omadm_cm::roles;

use super::account::{AuthCreds, DmAccount};

/// How a side authenticates in SyncML (`AAuthType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// `BASIC`: name and secret, base64.
    Basic,
    /// `DIGEST`: the MD5 digest of name, secret and nonce.
    Digest,
    /// `HMAC`: the x-syncml-hmac transport header.
    Hmac,
}

impl AuthScheme {
    /// Its `AAuthType` value.
    pub fn aauth_type(self) -> &'static str {
        match self {
            AuthScheme::Basic => "BASIC",
            AuthScheme::Digest => "DIGEST",
            AuthScheme::Hmac => "HMAC",
        }
    }
}

/// A change to one credential set; what is `None` stays as it is (a new set starts as
/// `DIGEST`, named after the account's ServerID for the server's set).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CredsChange {
    /// The scheme.
    pub scheme: Option<AuthScheme>,
    /// AAuthName.
    pub name: Option<String>,
    /// AAuthSecret.
    pub secret: Option<String>,
}

impl std::fmt::Debug for CredsChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredsChange")
            .field("scheme", &self.scheme)
            .field("name", &self.name)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl CredsChange {
    fn is_empty(&self) -> bool {
        self.scheme.is_none() && self.name.is_none() && self.secret.is_none()
    }

    fn apply(&self, creds: &mut Option<AuthCreds>, default_name: &str) {
        if self.is_empty() {
            return;
        }
        let c = creds.get_or_insert_with(|| AuthCreds {
            auth_type: AuthScheme::Digest.aauth_type().into(),
            name: default_name.to_owned(),
            ..AuthCreds::default()
        });
        if let Some(s) = self.scheme {
            c.auth_type = s.aauth_type().into();
        }
        if let Some(n) = &self.name {
            c.name = n.clone();
        }
        if let Some(s) = &self.secret {
            c.secret = s.clone();
        }
    }
}

/// Which encoding the device's first package uses (`Ext/Microsoft/DefaultEncoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/vnd.syncml.dm+xml`.
    Xml,
    /// `application/vnd.syncml.dm+wbxml`.
    Wbxml,
}

/// The protocol of the first package (`Ext/Microsoft/ProtoVer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolVersion {
    /// DM 1.2.
    V12,
    /// DM 1.1.2.
    V112,
}

/// Changes to a DM account's fields; what is `None` stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountChange {
    /// A new ServerID.
    pub server_id: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// The server URL (AppAddr's Addr), already checked by the caller.
    pub url: Option<String>,
    /// PortNbr.
    pub port: Option<u16>,
    /// The device's credentials (CLCRED).
    pub client: CredsChange,
    /// The server's credentials (SRVCRED); `remove_server_creds` removes them instead.
    pub server: CredsChange,
    /// Removes SRVCRED: the server need not authenticate (and its notifications cannot be
    /// verified). Wins over `server`.
    pub remove_server_creds: bool,
    /// DefaultEncoding.
    pub encoding: Option<Encoding>,
    /// ProtoVer.
    pub protocol: Option<ProtocolVersion>,
    /// ConnRetryFreq.
    pub conn_retry_freq: Option<u32>,
    /// InitialBackOffTime (ms).
    pub initial_backoff_ms: Option<u64>,
    /// MaxBackOffTime (ms).
    pub max_backoff_ms: Option<u64>,
    /// BackCompatRetryDisabled.
    pub back_compat_retry_disabled: Option<bool>,
    /// The account's roles (for a new account, also its ceiling); see [`check_roles`].
    pub roles: Option<u32>,
    /// A client certificate and key (PEM files, absolute paths), already checked.
    pub client_certificate: Option<(String, String)>,
    /// Plain HTTP for this server: `Some(None)` as the agent allows, `Some(Some(false))`
    /// never.
    pub plain_http: Option<Option<bool>>,
}

/// Checks an account's role mask: not empty, and only the roles a server can hold
/// ([`roles::AUTHENTICATION_ROLES`]).
pub fn check_roles(mask: u32) -> Result<u32, String> {
    if mask == 0 || mask & !roles::AUTHENTICATION_ROLES != 0 {
        return Err(format!("0x{mask:x} is not an account's roles"));
    }
    Ok(mask)
}

impl AccountChange {
    /// The account it makes from nothing (AppID `w7`, Name the ServerID unless given,
    /// AddrType `URI`), and its role ceiling (the roles given, or `MANAGER`). Its Role is
    /// left unset: it holds its ceiling.
    pub fn new_account(&self, server_id: &str) -> (DmAccount, u32) {
        let mut account = DmAccount {
            app_id: "w7".into(),
            server_id: server_id.to_owned(),
            name: server_id.to_owned(),
            addr_type: "URI".into(),
            ..DmAccount::default()
        };
        self.apply(&mut account);
        account.ext.role = None;
        (account, self.roles.unwrap_or(roles::MANAGER))
    }

    /// Applies the fields given to `a`.
    pub fn apply(&self, a: &mut DmAccount) {
        if let Some(id) = &self.server_id {
            a.server_id = id.clone();
        }
        if let Some(n) = &self.name {
            a.name = n.clone();
        }
        if let Some(url) = &self.url {
            a.addr = url.clone();
        }
        if let Some(p) = self.port {
            a.port = Some(p);
        }
        self.client.apply(&mut a.client, "");
        if self.remove_server_creds {
            a.server = None;
        } else {
            let server_id = a.server_id.clone();
            self.server.apply(&mut a.server, &server_id);
        }
        if let Some(e) = self.encoding {
            a.ext.default_encoding = match e {
                Encoding::Xml => "application/vnd.syncml.dm+xml",
                Encoding::Wbxml => "application/vnd.syncml.dm+wbxml",
            }
            .into();
        }
        if let Some(p) = self.protocol {
            a.ext.proto_ver = match p {
                ProtocolVersion::V12 => "1.2",
                ProtocolVersion::V112 => "1.1",
            }
            .into();
        }
        if let Some(n) = self.conn_retry_freq {
            a.ext.conn_retry_freq = n;
        }
        if let Some(n) = self.initial_backoff_ms {
            a.ext.initial_backoff_ms = n;
        }
        if let Some(n) = self.max_backoff_ms {
            a.ext.max_backoff_ms = n;
        }
        if let Some(b) = self.back_compat_retry_disabled {
            a.ext.back_compat_retry_disabled = b;
        }
        if let Some((cert, key)) = &self.client_certificate {
            a.local.client_cert = Some(cert.clone());
            a.local.client_key = Some(key.clone());
        }
        if let Some(p) = self.plain_http {
            a.local.plain_http = p;
        }
        if let Some(r) = self.roles {
            a.ext.role = Some(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_account_holds_its_roles_as_ceiling_and_digest_credentials_by_default() {
        let change = AccountChange {
            url: Some("https://dm.example/dm".into()),
            server: CredsChange {
                secret: Some("s".into()),
                ..CredsChange::default()
            },
            roles: Some(roles::OPERATOR),
            ..AccountChange::default()
        };
        let (a, ceiling) = change.new_account("srv");
        assert_eq!(ceiling, roles::OPERATOR);
        assert_eq!(a.ext.role, None);
        let server = a.server.expect("SRVCRED");
        assert_eq!(server.auth_type, "DIGEST");
        assert_eq!(server.name, "srv");
        assert!(a.client.is_none());
        assert_eq!(a.name, "srv");
    }

    #[test]
    fn what_is_not_given_stays_and_server_credentials_can_be_removed() {
        let (mut a, _) = AccountChange {
            server: CredsChange {
                scheme: Some(AuthScheme::Hmac),
                ..CredsChange::default()
            },
            ..AccountChange::default()
        }
        .new_account("srv");
        AccountChange {
            name: Some("Other".into()),
            ..AccountChange::default()
        }
        .apply(&mut a);
        assert_eq!(a.server.as_ref().unwrap().auth_type, "HMAC");
        assert_eq!(a.name, "Other");
        AccountChange {
            remove_server_creds: true,
            ..AccountChange::default()
        }
        .apply(&mut a);
        assert!(a.server.is_none());
    }

    #[test]
    fn roles_beyond_a_servers_are_refused() {
        assert!(check_roles(roles::MANAGER | roles::OEM).is_ok());
        assert!(check_roles(0).is_err());
        assert!(check_roles(roles::KNOWN_PPG).is_err());
    }

    #[test]
    fn secrets_are_not_debug_printed() {
        let c = CredsChange {
            secret: Some("hunter2".into()),
            ..CredsChange::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
