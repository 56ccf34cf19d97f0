//! The typed DM account, read from and written to the store's 1.2 layout.

use std::fmt;

use omadm_cm::{CmError, CspNode, LeafValue, Manager, NewNode};

use super::LOCAL;

/// One credential set (`AppAuth/<y>`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AuthCreds {
    /// AAuthType: `BASIC`, `DIGEST`, `HMAC`, `HTTP-BASIC`, ...
    pub auth_type: String,
    /// AAuthName.
    pub name: String,
    /// AAuthSecret (never printed by `Debug`).
    pub secret: String,
    /// AAuthData: the nonce, raw octets (never printed by `Debug`).
    pub data: Vec<u8>,
}

impl fmt::Debug for AuthCreds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthCreds")
            .field("auth_type", &self.auth_type)
            .field("name", &self.name)
            .field("secret", &"<redacted>")
            .field("data", &format_args!("<{} octets>", self.data.len()))
            .finish()
    }
}

/// The Windows extension nodes under `Ext/Microsoft` (windows-mobile-dm.md §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsExt {
    /// ConnRetryFreq: retries after connection-level errors (default 3).
    pub conn_retry_freq: u32,
    /// InitialBackOffTime in ms (default 16000), doubling after each retry.
    pub initial_backoff_ms: u64,
    /// MaxBackOffTime in ms (default 86400000).
    pub max_backoff_ms: u64,
    /// BackCompatRetryDisabled: no fallback to DM 1.1.2 (default false).
    pub back_compat_retry_disabled: bool,
    /// ProtoVer: `1.2` (default) or `1.1`.
    pub proto_ver: String,
    /// DefaultEncoding of the first package (`application/vnd.syncml.dm+xml` by default).
    pub default_encoding: String,
    /// UseHwDevID (default false).
    pub use_hw_dev_id: bool,
    /// UseNonceResync (default false).
    pub use_nonce_resync: bool,
    /// Role: the account's role mask; `None` means the ceiling.
    pub role: Option<u32>,
}

impl Default for MsExt {
    fn default() -> Self {
        MsExt {
            conn_retry_freq: 3,
            initial_backoff_ms: 16_000,
            max_backoff_ms: 86_400_000,
            back_compat_retry_disabled: false,
            proto_ver: "1.2".into(),
            default_encoding: "application/vnd.syncml.dm+xml".into(),
            use_hw_dev_id: false,
            use_nonce_resync: false,
            role: None,
        }
    }
}

/// Settings of an account that only the device sets (a platform, `omadm account`): kept in
/// the account store out of both views' sight, so that no server can change them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountLocal {
    /// A PEM certificate chain to present to this server (TLS client authentication).
    pub client_cert: Option<String>,
    /// The PEM private key of `client_cert`.
    pub client_key: Option<String>,
    /// Plain `http://` for this server: `Some(true)` asks for it (it is used only when the
    /// agent allows plain HTTP), `Some(false)` refuses it even then, `None` follows the agent.
    pub plain_http: Option<bool>,
}

/// A DM server account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DmAccount {
    /// The node name `<x>` (chosen by the device at creation).
    pub node_name: String,
    /// AppID (`w7`).
    pub app_id: String,
    /// ServerID: the server's identity (ACL principal, package #0 server identifier).
    pub server_id: String,
    /// Name.
    pub name: String,
    /// PrefConRef.
    pub pref_con_ref: String,
    /// The first AppAddr's Addr (the server URL).
    pub addr: String,
    /// Its AddrType (`URI` by default).
    pub addr_type: String,
    /// Its first PortNbr.
    pub port: Option<u16>,
    /// AAuthPref.
    pub auth_pref: String,
    /// Credentials the client presents (AAuthLevel CLCRED).
    pub client: Option<AuthCreds>,
    /// Credentials the client expects from the server (AAuthLevel SRVCRED).
    pub server: Option<AuthCreds>,
    /// Transport credentials (AAuthLevel HTTP).
    pub http: Option<AuthCreds>,
    /// The Windows extensions.
    pub ext: MsExt,
    /// The role ceiling (the creating bootstrap's or server's roles).
    pub ceiling: u32,
    /// What only the device sets.
    pub local: AccountLocal,
}

impl DmAccount {
    /// The account's effective role mask: its Role, limited to its ceiling.
    pub fn roles(&self) -> u32 {
        self.ext.role.unwrap_or(self.ceiling) & self.ceiling
    }
}

fn leaf(tree: &mut Manager, path: &str) -> Option<Vec<u8>> {
    match tree.inspect(path) {
        Ok(CspNode::Leaf(v)) => Some(v.data.into_owned()),
        _ => None,
    }
}

fn text(tree: &mut Manager, path: &str) -> String {
    leaf(tree, path)
        .map(|d| String::from_utf8_lossy(&d).into_owned())
        .unwrap_or_default()
}

fn children(tree: &mut Manager, path: &str) -> Vec<String> {
    match tree.inspect(path) {
        Ok(CspNode::Interior { children, .. }) => children.to_vec(),
        _ => Vec::new(),
    }
}

fn flag(tree: &mut Manager, path: &str, default: bool) -> bool {
    match leaf(tree, path) {
        Some(d) => matches!(
            String::from_utf8_lossy(&d).trim(),
            "1" | "true" | "True" | "TRUE" | ""
        ),
        None => default,
    }
}

fn number<T: std::str::FromStr>(tree: &mut Manager, path: &str) -> Option<T> {
    leaf(tree, path).and_then(|d| String::from_utf8_lossy(&d).trim().parse().ok())
}

/// Reads account `<x>`.
pub(super) fn read(tree: &mut Manager, x: &str) -> Option<DmAccount> {
    let base = format!("./DMAcc/{x}");
    if !matches!(tree.inspect(&base), Ok(CspNode::Interior { .. })) {
        return None;
    }
    let mut a = DmAccount {
        node_name: x.to_owned(),
        app_id: text(tree, &format!("{base}/AppID")),
        server_id: text(tree, &format!("{base}/ServerID")),
        name: text(tree, &format!("{base}/Name")),
        pref_con_ref: text(tree, &format!("{base}/PrefConRef")),
        auth_pref: text(tree, &format!("{base}/AAuthPref")),
        ceiling: number(tree, &format!("./Ceiling/{x}")).unwrap_or(0),
        ..DmAccount::default()
    };
    if let Some(y) = children(tree, &format!("{base}/AppAddr")).first() {
        let addr = format!("{base}/AppAddr/{y}");
        a.addr = text(tree, &format!("{addr}/Addr"));
        a.addr_type = text(tree, &format!("{addr}/AddrType"));
        if let Some(z) = children(tree, &format!("{addr}/Port")).first() {
            a.port = number(tree, &format!("{addr}/Port/{z}/PortNbr"));
        }
    }
    for y in children(tree, &format!("{base}/AppAuth")) {
        let auth = format!("{base}/AppAuth/{y}");
        let creds = AuthCreds {
            auth_type: text(tree, &format!("{auth}/AAuthType")),
            name: text(tree, &format!("{auth}/AAuthName")),
            secret: text(tree, &format!("{auth}/AAuthSecret")),
            data: leaf(tree, &format!("{auth}/AAuthData")).unwrap_or_default(),
        };
        match text(tree, &format!("{auth}/AAuthLevel")).as_str() {
            "CLCRED" => a.client = Some(creds),
            "SRVCRED" => a.server = Some(creds),
            "HTTP" => a.http = Some(creds),
            _ => {}
        }
    }
    let local = format!("./Local/{x}");
    let opt = |tree: &mut Manager, name: &str| {
        Some(text(tree, &format!("{local}/{name}"))).filter(|t| !t.is_empty())
    };
    a.local = AccountLocal {
        client_cert: opt(tree, "ClientCert"),
        client_key: opt(tree, "ClientKey"),
        plain_http: opt(tree, "PlainHttp").map(|v| v == "1"),
    };
    let ms = format!("{base}/Ext/Microsoft");
    let d = MsExt::default();
    a.ext = MsExt {
        conn_retry_freq: number(tree, &format!("{ms}/ConnRetryFreq")).unwrap_or(d.conn_retry_freq),
        initial_backoff_ms: number(tree, &format!("{ms}/InitialBackOffTime"))
            .unwrap_or(d.initial_backoff_ms),
        max_backoff_ms: number(tree, &format!("{ms}/MaxBackOffTime")).unwrap_or(d.max_backoff_ms),
        back_compat_retry_disabled: flag(tree, &format!("{ms}/BackCompatRetryDisabled"), false),
        proto_ver: Some(text(tree, &format!("{ms}/ProtoVer")))
            .filter(|s| !s.is_empty())
            .unwrap_or(d.proto_ver),
        default_encoding: Some(text(tree, &format!("{ms}/DefaultEncoding")))
            .filter(|s| !s.is_empty())
            .unwrap_or(d.default_encoding),
        use_hw_dev_id: flag(tree, &format!("{ms}/UseHwDevID"), false),
        use_nonce_resync: flag(tree, &format!("{ms}/UseNonceResync"), false),
        role: number(tree, &format!("{ms}/Role")),
    };
    Some(a)
}

/// Adds or replaces a leaf (creating missing interior ancestors).
pub(super) fn set_leaf(tree: &mut Manager, path: &str, value: LeafValue) -> Result<(), CmError> {
    if tree.exists(path) {
        tree.replace(&LOCAL, path, value)
    } else {
        tree.add(&LOCAL, path, NewNode::Leaf(value))
    }
}

/// Fails with 418 (Already exists) when an account other than `<x>` has ServerID `id`.
pub(super) fn check_server_id_free(tree: &mut Manager, x: &str, id: &[u8]) -> Result<(), CmError> {
    for other in children(tree, "./DMAcc") {
        if other != x && leaf(tree, &format!("./DMAcc/{other}/ServerID")).as_deref() == Some(id) {
            return Err(CmError::already_exists(format!(
                "ServerID {} belongs to another account",
                crate::printable(&String::from_utf8_lossy(id))
            )));
        }
    }
    Ok(())
}

/// A free node name for a new account, derived from its ServerID.
pub(super) fn node_name(tree: &mut Manager, account: &DmAccount) -> String {
    if !account.node_name.is_empty() && !tree.exists(&format!("./DMAcc/{}", account.node_name)) {
        return account.node_name.clone();
    }
    let base: String = account
        .server_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(32)
        .collect();
    let base = if base.is_empty() || base == "." || base == ".." {
        "account".to_owned()
    } else {
        base
    };
    let mut name = base.clone();
    let mut n = 1;
    while tree.exists(&format!("./DMAcc/{name}")) {
        n += 1;
        name = format!("{base}{n}");
    }
    name
}

/// The AppAuth node of account `<x>` with AAuthLevel `level`, created when missing.
pub(super) fn auth_node(tree: &mut Manager, x: &str, level: &str) -> Result<String, CmError> {
    let base = format!("./DMAcc/{x}/AppAuth");
    for y in children(tree, &base) {
        if text(tree, &format!("{base}/{y}/AAuthLevel")) == level {
            return Ok(format!("{base}/{y}"));
        }
    }
    let node = format!("{base}/{level}");
    set_leaf(tree, &format!("{node}/AAuthLevel"), LeafValue::text(level))?;
    Ok(node)
}

fn write_creds(tree: &mut Manager, x: &str, level: &str, creds: &AuthCreds) -> Result<(), CmError> {
    let node = auth_node(tree, x, level)?;
    set_leaf(
        tree,
        &format!("{node}/AAuthType"),
        LeafValue::text(&creds.auth_type),
    )?;
    set_leaf(
        tree,
        &format!("{node}/AAuthName"),
        LeafValue::text(&creds.name),
    )?;
    set_leaf(
        tree,
        &format!("{node}/AAuthSecret"),
        LeafValue::text(&creds.secret),
    )?;
    let data = LeafValue {
        data: creds.data.clone().into(),
        format: "bin".into(),
        type_: "application/octet-stream".into(),
    };
    set_leaf(tree, &format!("{node}/AAuthData"), data)
}

/// Writes a whole account at `<x>` with role ceiling `ceiling`.
pub(super) fn write(
    tree: &mut Manager,
    x: &str,
    a: &DmAccount,
    ceiling: u32,
) -> Result<(), CmError> {
    let base = format!("./DMAcc/{x}");
    tree.add(
        &LOCAL,
        &base,
        NewNode::Interior {
            type_: "urn:oma:mo:oma-dm-dmacc:1.0".into(),
        },
    )?;
    let sid = &a.server_id;
    tree.replace(
        &LOCAL,
        &format!("{base}?prop=ACL"),
        LeafValue::text(format!("Get={sid}&Replace={sid}&Delete={sid}")),
    )?;
    let app_id = if a.app_id.is_empty() { "w7" } else { &a.app_id };
    set_leaf(tree, &format!("{base}/AppID"), LeafValue::text(app_id))?;
    set_leaf(tree, &format!("{base}/ServerID"), LeafValue::text(sid))?;
    set_leaf(tree, &format!("{base}/Name"), LeafValue::text(&a.name))?;
    if !a.pref_con_ref.is_empty() {
        set_leaf(
            tree,
            &format!("{base}/PrefConRef"),
            LeafValue::text(&a.pref_con_ref),
        )?;
    }
    set_leaf(
        tree,
        &format!("{base}/AppAddr/1/Addr"),
        LeafValue::text(&a.addr),
    )?;
    let addr_type = if a.addr_type.is_empty() {
        "URI"
    } else {
        &a.addr_type
    };
    set_leaf(
        tree,
        &format!("{base}/AppAddr/1/AddrType"),
        LeafValue::text(addr_type),
    )?;
    if let Some(port) = a.port {
        set_leaf(
            tree,
            &format!("{base}/AppAddr/1/Port/1/PortNbr"),
            LeafValue::text(port.to_string()),
        )?;
    }
    if !a.auth_pref.is_empty() {
        set_leaf(
            tree,
            &format!("{base}/AAuthPref"),
            LeafValue::text(&a.auth_pref),
        )?;
    }
    for (level, creds) in [
        ("CLCRED", &a.client),
        ("SRVCRED", &a.server),
        ("HTTP", &a.http),
    ] {
        if let Some(creds) = creds {
            write_creds(tree, x, level, creds)?;
        }
    }
    let ms = format!("{base}/Ext/Microsoft");
    let e = &a.ext;
    set_leaf(
        tree,
        &format!("{ms}/ConnRetryFreq"),
        LeafValue::text(e.conn_retry_freq.to_string()),
    )?;
    set_leaf(
        tree,
        &format!("{ms}/InitialBackOffTime"),
        LeafValue::text(e.initial_backoff_ms.to_string()),
    )?;
    set_leaf(
        tree,
        &format!("{ms}/MaxBackOffTime"),
        LeafValue::text(e.max_backoff_ms.to_string()),
    )?;
    set_leaf(
        tree,
        &format!("{ms}/BackCompatRetryDisabled"),
        LeafValue::text(if e.back_compat_retry_disabled {
            "1"
        } else {
            "0"
        }),
    )?;
    set_leaf(
        tree,
        &format!("{ms}/ProtoVer"),
        LeafValue::text(&e.proto_ver),
    )?;
    set_leaf(
        tree,
        &format!("{ms}/DefaultEncoding"),
        LeafValue::text(&e.default_encoding),
    )?;
    set_leaf(
        tree,
        &format!("{ms}/UseHwDevID"),
        LeafValue::text(if e.use_hw_dev_id { "1" } else { "0" }),
    )?;
    set_leaf(
        tree,
        &format!("{ms}/UseNonceResync"),
        LeafValue::text(if e.use_nonce_resync { "1" } else { "0" }),
    )?;
    let role = e.role.unwrap_or(ceiling);
    if role & !ceiling != 0 {
        return Err(CmError::denied(
            "account Role exceeds the roles of its bootstrap",
        ));
    }
    set_leaf(
        tree,
        &format!("{ms}/Role"),
        LeafValue::text(role.to_string()),
    )?;
    set_leaf(
        tree,
        &format!("./Ceiling/{x}"),
        LeafValue::text(ceiling.to_string()),
    )?;
    write_local(tree, x, &a.local)
}

/// Writes the device-only settings of account `<x>` (replacing what was there).
pub(super) fn write_local(tree: &mut Manager, x: &str, l: &AccountLocal) -> Result<(), CmError> {
    let base = format!("./Local/{x}");
    if tree.exists(&base) {
        tree.delete(&LOCAL, &base)?;
    }
    let values = [
        ("ClientCert", l.client_cert.clone()),
        ("ClientKey", l.client_key.clone()),
        (
            "PlainHttp",
            l.plain_http.map(|b| if b { "1" } else { "0" }.to_owned()),
        ),
    ];
    for (name, value) in values {
        if let Some(v) = value {
            set_leaf(tree, &format!("{base}/{name}"), LeafValue::text(v))?;
        }
    }
    Ok(())
}
