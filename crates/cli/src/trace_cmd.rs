//! `omadm trace FILE`: pretty-prints a recorded session (the trace `omadm demo --trace` and
//! the agent write), message by message, as SyncML XML. WBXML messages are decoded; secrets
//! (credentials, nonces) are redacted. A message that does not decode is reported with its
//! error and the rest are still printed; the exit status is then 1.
//!
//! Redaction (decided here): header and command credentials of type `syncml:auth-basic` carry
//! the password in Base64, so their data is replaced by `(redacted)`; MD5 and HMAC digests are
//! one-way and kept (they are what one debugs). Item data whose target or source node is named
//! like a secret (`Password`, `AAuthSecret`, `AAuthData`, `ClientPW`, `ServerPW`, `Secret`,
//! `PIN`) is replaced by `(redacted)`.

use std::path::PathBuf;

use clap::Args;
use omadm_agent::{read_trace, Direction};
use omadm_syncml::{xml, Command, Cred, Data, Item, Limits, SyncMl};

const SECRET_NAMES: [&str; 7] = [
    "password",
    "aauthsecret",
    "aauthdata",
    "clientpw",
    "serverpw",
    "secret",
    "pin",
];

fn redact_cred(cred: &mut Cred) {
    let basic = cred
        .meta
        .as_ref()
        .and_then(|m| m.type_.as_deref())
        .is_some_and(|t| t.eq_ignore_ascii_case("syncml:auth-basic"));
    if basic {
        cred.data = "(redacted)".into();
    }
}

fn redact_items(items: &mut [Item]) {
    for item in items {
        let secret = [&item.target, &item.source].into_iter().flatten().any(|l| {
            let last = l.loc_uri.rsplit('/').next().unwrap_or("");
            SECRET_NAMES.contains(&last.to_ascii_lowercase().as_str())
        });
        if secret && item.data.is_some() {
            item.data = Some(Data::Text("(redacted)".into()));
        }
    }
}

fn redact_commands(commands: &mut [Command]) {
    for c in commands {
        match c {
            Command::Add(x)
            | Command::Copy(x)
            | Command::Delete(x)
            | Command::Get(x)
            | Command::Replace(x) => {
                if let Some(cred) = x.cred.as_deref_mut() {
                    redact_cred(cred);
                }
                redact_items(&mut x.items);
            }
            Command::Results(r) => redact_items(&mut r.items),
            Command::Atomic(x) | Command::Sequence(x) => redact_commands(&mut x.commands),
            _ => {}
        }
    }
}

/// Removes secrets from a message before it is shown (see the module documentation).
fn redact(msg: &mut SyncMl) {
    if let Some(cred) = msg.header.cred.as_mut() {
        redact_cred(cred);
    }
    redact_commands(&mut msg.body.commands);
}

/// Arguments of `omadm trace`.
#[derive(Args)]
pub struct TraceArgs {
    /// The trace file.
    file: PathBuf,
}

/// Runs the command.
pub fn run(args: TraceArgs) -> Result<(), String> {
    let bytes = std::fs::read(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let messages = read_trace(&bytes).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let mut bad = 0;
    for (i, m) in messages.iter().enumerate() {
        let who = match m.direction {
            Direction::ToServer => "device → server",
            Direction::ToDevice => "server → device",
        };
        let ct = if m.content_type.is_empty() {
            "no content type"
        } else {
            &m.content_type
        };
        outln!(
            "--- message {}: {who} ({ct}, {} bytes) ---",
            i + 1,
            m.body.len()
        );
        if m.body.is_empty() {
            outln!("(empty body)");
            continue;
        }
        match omadm_syncml::decode(&m.body, &Limits::default()) {
            Ok((mut msg, _)) => {
                msg.to_xml_safe();
                redact(&mut msg);
                outln!("{}", xml::encode_pretty(&msg).trim_end());
            }
            Err(e) => {
                bad += 1;
                outln!("(does not decode: {e})");
            }
        }
    }
    if bad > 0 {
        return Err(format!(
            "{bad} of {} messages did not decode",
            messages.len()
        ));
    }
    Ok(())
}
