//! Device messages into the reference server's engine, several per session, for known and
//! unknown devices with MD5 and HMAC credentials; and the same bytes into the session trace
//! reader. Nothing may panic; every answer is a status and a body.
#![no_main]
use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use omadm_server::{jobs, DeviceAccount, Engine, EngineConfig};
use omadm_syncml::auth::AuthScheme;

const SEPARATOR: &[u8] = b"\xff\xfe\xfd";

fuzz_target!(|data: &[u8]| {
    let _ = omadm_agent::read_trace(data);
    let mut devices = HashMap::new();
    for (id, scheme) in [("IMEI:1", AuthScheme::Md5), ("IMEI:2", AuthScheme::Hmac)] {
        devices.insert(
            id.to_owned(),
            DeviceAccount {
                name: "dev".into(),
                password: "pw".into(),
                scheme,
                jobs: vec![],
            },
        );
    }
    let value = "x".repeat(3000);
    let mut engine = Engine::new(
        EngineConfig {
            server_id: "srv".into(),
            server_password: "spw".into(),
            server_uri: "https://s/dm".into(),
            devices,
            default_jobs: jobs::parse(&format!(
                "AddNode ./A\nAdd ./A/b {value}\nGet ./DevInfo/Man\nExec ./X arg\n"
            ))
            .expect("jobs"),
            require_device_auth: data.first().is_some_and(|b| b & 1 == 1),
            max_msg_size: 2048,
            accept_v12: data.first().is_none_or(|b| b & 2 == 0),
            busy_responses: 0,
            ..EngineConfig::default()
        },
        Box::new(|b: &mut [u8]| b.fill(7)),
    );
    let mut rest = data.get(1..).unwrap_or_default();
    for i in 0..6u64 {
        let (msg, next) = match rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
            Some(i) => (&rest[..i], &rest[i + SEPARATOR.len()..]),
            None => (rest, &[][..]),
        };
        // Time advances in leaps as well as steps (sessions expire after 5 minutes).
        let now = i * if data.first().is_some_and(|b| b & 4 == 4) { 200_000 } else { 10 };
        let reply = engine.handle(
            now,
            msg,
            Some("algorithm=MD5, username=\"dev\", mac=AAAA"),
        );
        assert!(matches!(reply.status, 200 | 400 | 503));
        if next.is_empty() {
            break;
        }
        rest = next;
    }
});
