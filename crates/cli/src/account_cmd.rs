//! `omadm account`: the device's DM accounts, created and edited through the same account
//! store (and the same code path, [`omadm_csp::AccountStore::create`]) a `w7` bootstrap uses.
//!
//! ```text
//! omadm account add    --state DIR --server-id ID --url URL [fields...]
//! omadm account set    --state DIR --server-id ID [--new-server-id ID] [fields...]
//! omadm account list   --state DIR [--json]
//! omadm account show   --state DIR --server-id ID [--json]
//! omadm account remove --state DIR --server-id ID
//! ```
//! Fields: `--name`, `--url` (AppAddr), `--port` (its PortNbr), `--client-auth
//! basic|md5|hmac --client-name N --client-secret S` (CLCRED), `--server-auth
//! none|basic|md5|hmac --server-name N --server-secret S` (SRVCRED; `none` removes it: the
//! server need not authenticate, and its notifications cannot be verified), `--encoding
//! xml|wbxml`, `--protocol 1.2|1.1.2`, the Windows `Ext/Microsoft` settings
//! `--conn-retry-freq`, `--initial-backoff` and `--max-backoff` (milliseconds),
//! `--back-compat-retry-disabled true|false`, `--roles` (names or a mask: the account's role
//! ceiling and roles), and what only the device sets: `--client-cert FILE --client-key FILE`
//! (TLS client authentication to this server) and `--plain-http agent|refuse` (whether this
//! server may use plain http:// when the agent allows it). Secrets may come from a file
//! (`--client-secret-file`, `--server-secret-file`) to keep them off the command line.
//!
//! Every command takes the state directory's lock: while an agent runs on it, it is refused
//! with the agent's pid (stop the agent, or use the C ABI from within it). `show` and `list`
//! print secrets as `(set)`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use omadm_cm::roles;
use omadm_csp::{
    check_roles, AccountChange, AccountStore, AuthCreds, AuthScheme, CredsChange, DmAccount,
    Encoding, ProtocolVersion,
};

/// What `omadm account` does.
#[derive(Subcommand)]
pub enum AccountCommand {
    /// Creates a DM account (as a w7 bootstrap would).
    Add(AddArgs),
    /// Changes fields of an account.
    Set(SetArgs),
    /// Lists the accounts.
    List(ListArgs),
    /// Shows one account (secrets as "(set)").
    Show(ShowArgs),
    /// Removes an account.
    Remove(RemoveArgs),
}

/// A credential scheme for the device (`--client-auth`).
#[derive(Clone, Copy, ValueEnum)]
pub enum ClientAuth {
    /// HTTP-basic-style credentials.
    Basic,
    /// MD5 digest (AAuthType DIGEST).
    Md5,
    /// The x-syncml-hmac header.
    Hmac,
}

/// A credential scheme for the server (`--server-auth`).
#[derive(Clone, Copy, ValueEnum)]
pub enum ServerAuthArg {
    /// The server need not authenticate (no SRVCRED).
    None,
    /// Basic.
    Basic,
    /// MD5 digest.
    Md5,
    /// HMAC.
    Hmac,
}

/// `--encoding`.
#[derive(Clone, Copy, ValueEnum)]
pub enum EncodingArg {
    /// application/vnd.syncml.dm+xml.
    Xml,
    /// application/vnd.syncml.dm+wbxml.
    Wbxml,
}

/// `--protocol`.
#[derive(Clone, Copy, ValueEnum)]
pub enum ProtocolArg {
    /// DM 1.2.
    #[value(name = "1.2")]
    V12,
    /// DM 1.1.2.
    #[value(name = "1.1.2")]
    V112,
}

/// `--plain-http`.
#[derive(Clone, Copy, ValueEnum)]
pub enum PlainHttpArg {
    /// As the agent allows (--allow-plain-http).
    Agent,
    /// Never for this server, even when the agent allows it.
    Refuse,
}

/// The fields `add` and `set` take.
#[derive(Args, Default)]
pub struct Fields {
    /// The account's Name.
    #[arg(long)]
    name: Option<String>,
    /// The server's URL (AppAddr): https://host[:port]/path.
    #[arg(long)]
    url: Option<String>,
    /// The server's port (PortNbr).
    #[arg(long)]
    port: Option<u16>,
    /// How the device authenticates (CLCRED).
    #[arg(long = "client-auth", value_enum)]
    client_auth: Option<ClientAuth>,
    /// The device's name in its credentials.
    #[arg(long = "client-name")]
    client_name: Option<String>,
    /// The device's secret.
    #[arg(long = "client-secret", conflicts_with = "client_secret_file")]
    client_secret: Option<String>,
    /// A file holding the device's secret (its first line).
    #[arg(long = "client-secret-file")]
    client_secret_file: Option<PathBuf>,
    /// How the server authenticates (SRVCRED); none: it need not.
    #[arg(long = "server-auth", value_enum)]
    server_auth: Option<ServerAuthArg>,
    /// The server's name in its credentials (default: its ServerID).
    #[arg(long = "server-name")]
    server_name: Option<String>,
    /// The server's secret.
    #[arg(long = "server-secret", conflicts_with = "server_secret_file")]
    server_secret: Option<String>,
    /// A file holding the server's secret (its first line).
    #[arg(long = "server-secret-file")]
    server_secret_file: Option<PathBuf>,
    /// The encoding of the device's messages.
    #[arg(long, value_enum)]
    encoding: Option<EncodingArg>,
    /// The protocol of the first package.
    #[arg(long, value_enum)]
    protocol: Option<ProtocolArg>,
    /// ConnRetryFreq: retries after a network failure.
    #[arg(long = "conn-retry-freq")]
    conn_retry_freq: Option<u32>,
    /// InitialBackOffTime (ms).
    #[arg(long = "initial-backoff")]
    initial_backoff: Option<u64>,
    /// MaxBackOffTime (ms).
    #[arg(long = "max-backoff")]
    max_backoff: Option<u64>,
    /// BackCompatRetryDisabled: no fallback to DM 1.1.2.
    #[arg(long = "back-compat-retry-disabled")]
    back_compat_retry_disabled: Option<bool>,
    /// Roles: names (manager, operator, operator-tps, enterprise, oem, user-auth,
    /// user-unauth) separated by commas, or a mask (8, 0x8).
    #[arg(long)]
    roles: Option<String>,
    /// A PEM certificate chain to present to this server.
    #[arg(long = "client-cert", requires = "client_key")]
    client_cert: Option<PathBuf>,
    /// Its PEM private key (mode 0600 or stricter).
    #[arg(long = "client-key", requires = "client_cert")]
    client_key: Option<PathBuf>,
    /// Plain http:// for this server: as the agent allows, or never.
    #[arg(long = "plain-http", value_enum)]
    plain_http: Option<PlainHttpArg>,
}

/// `omadm account add`.
#[derive(Args)]
pub struct AddArgs {
    /// State directory.
    #[arg(long)]
    state: PathBuf,
    /// The server's ServerID (unique on the device).
    #[arg(long = "server-id")]
    server_id: String,
    #[command(flatten)]
    fields: Fields,
}

/// `omadm account set`.
#[derive(Args)]
pub struct SetArgs {
    /// State directory.
    #[arg(long)]
    state: PathBuf,
    /// The account's ServerID.
    #[arg(long = "server-id")]
    server_id: String,
    /// A new ServerID for it.
    #[arg(long = "new-server-id")]
    new_server_id: Option<String>,
    #[command(flatten)]
    fields: Fields,
}

/// `omadm account list`.
#[derive(Args)]
pub struct ListArgs {
    /// State directory.
    #[arg(long)]
    state: PathBuf,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// `omadm account show`.
#[derive(Args)]
pub struct ShowArgs {
    /// State directory.
    #[arg(long)]
    state: PathBuf,
    /// The account's ServerID.
    #[arg(long = "server-id")]
    server_id: String,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// `omadm account remove`.
#[derive(Args)]
pub struct RemoveArgs {
    /// State directory.
    #[arg(long)]
    state: PathBuf,
    /// The account's ServerID.
    #[arg(long = "server-id")]
    server_id: String,
}

/// The account store of `state`, with its lock held.
fn store(state: &Path) -> Result<(omadm_agent::StateLock, AccountStore), String> {
    let lock = omadm_agent::StateLock::acquire(state).map_err(|e| e.to_string())?;
    let dir = state.join("accounts");
    let storage =
        omadm_cm::FileStorage::open(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let store =
        AccountStore::open(Box::new(storage)).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok((lock, store))
}

/// Parses `--roles`.
pub fn parse_roles(text: &str) -> Result<u32, String> {
    let t = text.trim();
    let check = |mask: u32| check_roles(mask).map_err(|e| format!("--roles {t}: {e}"));
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return check(
            u32::from_str_radix(hex, 16).map_err(|_| format!("--roles {t}: not a mask"))?,
        );
    }
    if let Ok(n) = t.parse::<u32>() {
        return check(n);
    }
    let mut mask = 0;
    for name in t.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        mask |= match name.to_ascii_lowercase().as_str() {
            "manager" => roles::MANAGER,
            "operator" => roles::OPERATOR,
            "operator-tps" | "tps" => roles::OPERATOR_TPS,
            "enterprise" => roles::ENTERPRISE,
            "oem" => roles::OEM,
            "user-auth" => roles::USER_AUTH,
            "user-unauth" => roles::USER_UNAUTH,
            other => return Err(format!("--roles: unknown role {other:?}")),
        };
    }
    check(mask)
}

fn role_names(mask: u32) -> String {
    let names = [
        (roles::MANAGER, "manager"),
        (roles::OPERATOR, "operator"),
        (roles::OPERATOR_TPS, "operator-tps"),
        (roles::ENTERPRISE, "enterprise"),
        (roles::OEM, "oem"),
        (roles::USER_AUTH, "user-auth"),
        (roles::USER_UNAUTH, "user-unauth"),
    ];
    let list: Vec<&str> = names
        .iter()
        .filter(|(bit, _)| mask & bit != 0)
        .map(|(_, n)| *n)
        .collect();
    format!("{} (0x{mask:x})", list.join(","))
}

fn secret(inline: &Option<String>, file: &Option<PathBuf>) -> Result<Option<String>, String> {
    match (inline, file) {
        (Some(s), _) => Ok(Some(s.clone())),
        (None, Some(p)) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            Ok(Some(text.lines().next().unwrap_or("").to_owned()))
        }
        (None, None) => Ok(None),
    }
}

impl Fields {
    /// The change these fields ask for (files read, URL and certificate checked).
    fn change(&self) -> Result<AccountChange, String> {
        if let Some(url) = &self.url {
            omadm_transport::Url::parse(url).map_err(|e| e.to_string())?;
        }
        let client_certificate = match (&self.client_cert, &self.client_key) {
            (Some(c), Some(k)) => {
                omadm_agent::read_client_certificate(c, k).map_err(|e| e.to_string())?;
                let absolute = |p: &PathBuf| {
                    std::fs::canonicalize(p)
                        .unwrap_or_else(|_| p.clone())
                        .display()
                        .to_string()
                };
                Some((absolute(c), absolute(k)))
            }
            _ => None,
        };
        let server_scheme = match self.server_auth {
            Some(ServerAuthArg::Basic) => Some(AuthScheme::Basic),
            Some(ServerAuthArg::Md5) => Some(AuthScheme::Digest),
            Some(ServerAuthArg::Hmac) => Some(AuthScheme::Hmac),
            Some(ServerAuthArg::None) | None => None,
        };
        Ok(AccountChange {
            server_id: None,
            name: self.name.clone(),
            url: self.url.clone(),
            port: self.port,
            client: CredsChange {
                scheme: self.client_auth.map(|s| match s {
                    ClientAuth::Basic => AuthScheme::Basic,
                    ClientAuth::Md5 => AuthScheme::Digest,
                    ClientAuth::Hmac => AuthScheme::Hmac,
                }),
                name: self.client_name.clone(),
                secret: secret(&self.client_secret, &self.client_secret_file)?,
            },
            server: CredsChange {
                scheme: server_scheme,
                name: self.server_name.clone(),
                secret: secret(&self.server_secret, &self.server_secret_file)?,
            },
            remove_server_creds: matches!(self.server_auth, Some(ServerAuthArg::None)),
            encoding: self.encoding.map(|e| match e {
                EncodingArg::Xml => Encoding::Xml,
                EncodingArg::Wbxml => Encoding::Wbxml,
            }),
            protocol: self.protocol.map(|p| match p {
                ProtocolArg::V12 => ProtocolVersion::V12,
                ProtocolArg::V112 => ProtocolVersion::V112,
            }),
            conn_retry_freq: self.conn_retry_freq,
            initial_backoff_ms: self.initial_backoff,
            max_backoff_ms: self.max_backoff,
            back_compat_retry_disabled: self.back_compat_retry_disabled,
            roles: self.roles.as_deref().map(parse_roles).transpose()?,
            client_certificate,
            plain_http: self.plain_http.map(|p| match p {
                PlainHttpArg::Agent => None,
                PlainHttpArg::Refuse => Some(false),
            }),
        })
    }
}

/// Runs `omadm account`.
pub fn run(command: AccountCommand) -> Result<(), String> {
    match command {
        AccountCommand::Add(a) => add(a),
        AccountCommand::Set(a) => set(a),
        AccountCommand::List(a) => list(a),
        AccountCommand::Show(a) => show(a),
        AccountCommand::Remove(a) => remove(a),
    }
}

fn refused(e: omadm_cm::CmError, server_id: &str) -> String {
    match e.status {
        418 => format!("an account with ServerID {server_id} exists already; nothing changed"),
        404 => format!("no account has ServerID {server_id}"),
        425 => format!("refused: {e}; nothing changed"),
        _ => format!("{e}; nothing changed"),
    }
}

fn add(a: AddArgs) -> Result<(), String> {
    if a.server_id.trim().is_empty() {
        return Err("--server-id must not be empty".into());
    }
    if a.fields.url.is_none() {
        return Err("--url is needed for a new account".into());
    }
    let (account, roles) = a.fields.change()?.new_account(&a.server_id);
    let (_lock, store) = store(&a.state)?;
    let node = store
        .create(&account, roles)
        .map_err(|e| refused(e, &a.server_id))?;
    outln!(
        "account {} added as ./DMAcc/{node}",
        omadm_syncml::printable(&a.server_id)
    );
    Ok(())
}

fn set(a: SetArgs) -> Result<(), String> {
    let mut change = a
        .fields
        .change()
        .map_err(|e| format!("{e}; nothing changed"))?;
    change.server_id = a.new_server_id.clone();
    let (_lock, store) = store(&a.state)?;
    let updated = store
        .update(&a.server_id, |acc| change.apply(acc))
        .map_err(|e| refused(e, a.new_server_id.as_deref().unwrap_or(&a.server_id)))?;
    outln!(
        "account {} updated",
        omadm_syncml::printable(&updated.server_id)
    );
    Ok(())
}

fn remove(a: RemoveArgs) -> Result<(), String> {
    let (_lock, store) = store(&a.state)?;
    let account = store
        .find_by_server_id(&a.server_id)
        .ok_or_else(|| format!("no account has ServerID {}", a.server_id))?;
    store
        .delete(&account.node_name)
        .map_err(|e| refused(e, &a.server_id))?;
    outln!("account {} removed", omadm_syncml::printable(&a.server_id));
    Ok(())
}

fn list(a: ListArgs) -> Result<(), String> {
    let (_lock, store) = store(&a.state)?;
    let accounts = store.accounts();
    if a.json {
        let v: Vec<serde_json::Value> = accounts.iter().map(account_json).collect();
        outln!("{}", serde_json::to_string_pretty(&v).expect("JSON"));
        return Ok(());
    }
    for acc in &accounts {
        outln!(
            "{}\t{}\t./DMAcc/{}",
            omadm_syncml::printable(&acc.server_id),
            omadm_syncml::printable(&acc.addr),
            omadm_syncml::printable(&acc.node_name)
        );
    }
    Ok(())
}

fn show(a: ShowArgs) -> Result<(), String> {
    let (_lock, store) = store(&a.state)?;
    let acc = store
        .find_by_server_id(&a.server_id)
        .ok_or_else(|| format!("no account has ServerID {}", a.server_id))?;
    let v = account_json(&acc);
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&v).expect("JSON"));
    } else {
        crate::decode::print_text(&v, 0);
    }
    Ok(())
}

fn creds_json(c: &Option<AuthCreds>) -> serde_json::Value {
    match c {
        None => serde_json::Value::Null,
        Some(c) => serde_json::json!({
            "auth_type": c.auth_type,
            "name": c.name,
            "secret": if c.secret.is_empty() { "(not set)" } else { "(set)" },
            "nonce": if c.data.is_empty() { "(none)" } else { "(set)" },
        }),
    }
}

/// An account as JSON: every field, secrets and nonces as "(set)".
pub fn account_json(a: &DmAccount) -> serde_json::Value {
    serde_json::json!({
        "server_id": a.server_id,
        "node": format!("./DMAcc/{}", a.node_name),
        "name": a.name,
        "app_id": a.app_id,
        "url": a.addr,
        "port": a.port,
        "client_credentials": creds_json(&a.client),
        "server_credentials": creds_json(&a.server),
        "encoding": if a.ext.default_encoding.to_ascii_lowercase().contains("wbxml") { "wbxml" } else { "xml" },
        "protocol": if a.ext.proto_ver.trim() == "1.1" { "1.1.2" } else { "1.2" },
        "conn_retry_freq": a.ext.conn_retry_freq,
        "initial_backoff_ms": a.ext.initial_backoff_ms,
        "max_backoff_ms": a.ext.max_backoff_ms,
        "back_compat_retry_disabled": a.ext.back_compat_retry_disabled,
        "roles": role_names(a.roles()),
        "client_certificate": a.local.client_cert,
        "client_key": a.local.client_key,
        "plain_http": match a.local.plain_http { Some(false) => "refuse", _ => "agent" },
    })
}
