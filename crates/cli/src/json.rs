//! JSON renderings of decoded messages and notifications, with the stable field names
//! documented in `omadm decode --help`.

use omadm_syncml::notification::Package0;
use omadm_syncml::{Command, Cred, Data, DmVersion, Encoding, Item, Location, Meta, SyncMl};
use serde_json::{json, Map, Value};

use crate::input::to_hex;

/// A package #0; `check` is (digest valid, expected digest) when a password was given.
pub fn package0(pkg: &Package0, check: Option<(bool, [u8; 16])>) -> Value {
    let n = &pkg.notification;
    let mut v = json!({
        "version": n.version,
        "ui_mode": n.ui_mode as u8,
        "ui_mode_name": n.ui_mode.name(),
        "initiator": n.initiator as u8,
        "initiator_name": n.initiator.name(),
        "session_id": n.session_id,
        "session_id_hex": n.session_id_text(),
        "server_id": n.server_id,
        "vendor_specific": to_hex(&n.vendor_specific),
        "digest": to_hex(&pkg.digest),
    });
    if let Some((valid, expected)) = check {
        v["digest_valid"] = json!(valid);
        v["expected_digest"] = json!(to_hex(&expected));
    }
    v
}

/// A whole SyncML message.
pub fn message(msg: &SyncMl, encoding: Encoding) -> Value {
    let h = &msg.header;
    json!({
        "encoding": match encoding { Encoding::Xml => "xml", Encoding::Wbxml => "wbxml" },
        "version": msg.version().map(|v| match v { DmVersion::V1_1 => "1.1", DmVersion::V1_2 => "1.2" }),
        "header": {
            "ver_dtd": h.ver_dtd,
            "ver_proto": h.ver_proto,
            "session_id": h.session_id,
            "msg_id": h.msg_id,
            "target": location(&h.target),
            "source": location(&h.source),
            "resp_uri": h.resp_uri,
            "no_resp": h.no_resp,
            "cred": h.cred.as_ref().map(cred),
            "meta": h.meta.as_ref().map(meta),
        },
        "body": {
            "final": msg.body.is_final,
            "commands": msg.body.commands.iter().map(command).collect::<Vec<_>>(),
        },
    })
}

fn command(c: &Command) -> Value {
    let mut o = Map::new();
    o.insert("cmd".into(), json!(c.name()));
    o.insert("cmd_id".into(), json!(c.cmd_id()));
    match c {
        Command::Add(x)
        | Command::Copy(x)
        | Command::Delete(x)
        | Command::Get(x)
        | Command::Replace(x) => {
            o.insert("no_resp".into(), json!(x.no_resp));
            o.insert("meta".into(), opt_meta(x.meta.as_deref()));
            o.insert("items".into(), items(&x.items));
        }
        Command::Alert(x) => {
            o.insert("no_resp".into(), json!(x.no_resp));
            o.insert("data".into(), json!(x.data));
            o.insert("correlator".into(), json!(x.correlator));
            o.insert("items".into(), items(&x.items));
        }
        Command::Exec(x) => {
            o.insert("no_resp".into(), json!(x.no_resp));
            o.insert("meta".into(), opt_meta(x.meta.as_deref()));
            o.insert("correlator".into(), json!(x.correlator));
            o.insert("items".into(), items(&x.items));
        }
        Command::Atomic(x) | Command::Sequence(x) => {
            o.insert("no_resp".into(), json!(x.no_resp));
            o.insert("meta".into(), opt_meta(x.meta.as_deref()));
            o.insert(
                "commands".into(),
                Value::Array(x.commands.iter().map(command).collect()),
            );
        }
        Command::Status(x) => {
            o.insert("msg_ref".into(), json!(x.msg_ref));
            o.insert("cmd_ref".into(), json!(x.cmd_ref));
            o.insert("ref_cmd".into(), json!(x.cmd));
            o.insert("target_refs".into(), json!(&*x.target_refs));
            o.insert("source_refs".into(), json!(&*x.source_refs));
            o.insert(
                "cred".into(),
                x.cred.as_deref().map(cred).unwrap_or(Value::Null),
            );
            o.insert(
                "chal".into(),
                x.chal
                    .as_ref()
                    .map(|c| meta(&c.meta))
                    .unwrap_or(Value::Null),
            );
            o.insert("data".into(), json!(x.data));
            o.insert("items".into(), items(&x.items));
        }
        Command::Results(x) => {
            o.insert("msg_ref".into(), json!(x.msg_ref));
            o.insert("cmd_ref".into(), json!(x.cmd_ref));
            o.insert("meta".into(), opt_meta(x.meta.as_deref()));
            o.insert("target_ref".into(), json!(x.target_ref));
            o.insert("source_ref".into(), json!(x.source_ref));
            o.insert("items".into(), items(&x.items));
        }
        Command::Malformed(m) => {
            o.insert("error".into(), json!(m.error.kind.to_string()));
            o.insert("offset".into(), json!(m.error.offset));
        }
    }
    Value::Object(o)
}

fn items(items: &[Item]) -> Value {
    Value::Array(items.iter().map(item).collect())
}

fn item(i: &Item) -> Value {
    json!({
        "target": i.target.as_ref().map(location),
        "source": i.source.as_ref().map(location),
        "source_parent": i.source_parent.as_deref().map(location),
        "target_parent": i.target_parent.as_deref().map(location),
        "meta": opt_meta(i.meta.as_ref()),
        "data": i.data.as_ref().map(data),
        "more_data": i.more_data,
    })
}

fn data(d: &Data) -> Value {
    match d {
        Data::Text(s) => json!({ "text": s }),
        Data::Xml(s) => json!({ "xml": s }),
        Data::Opaque(b) => match std::str::from_utf8(b) {
            Ok(s) => json!({ "opaque_text": s }),
            Err(_) => json!({ "opaque_hex": to_hex(b) }),
        },
    }
}

fn location(l: &Location) -> Value {
    json!({ "loc_uri": l.loc_uri, "loc_name": l.name() })
}

/// Credentials: the scheme only; the value is a secret-derived token and is not printed.
fn cred(c: &Cred) -> Value {
    json!({ "meta": opt_meta(c.meta.as_ref()), "data_len": c.data.len() })
}

fn opt_meta(m: Option<&Meta>) -> Value {
    m.map(meta).unwrap_or(Value::Null)
}

fn meta(m: &Meta) -> Value {
    let mut o = Map::new();
    let mut put = |k: &str, v: Value| {
        if !v.is_null() {
            o.insert(k.into(), v);
        }
    };
    put("format", json!(m.format));
    put("type", json!(m.type_));
    put("mark", json!(m.mark()));
    put("size", json!(m.size()));
    put("next_nonce", json!(m.next_nonce()));
    put("version", json!(m.version()));
    put("max_msg_size", json!(m.max_msg_size()));
    put("max_obj_size", json!(m.max_obj_size()));
    if !m.emi().is_empty() {
        put("emi", json!(m.emi()));
    }
    Value::Object(o)
}
