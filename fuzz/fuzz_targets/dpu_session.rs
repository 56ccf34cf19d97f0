//! Arbitrary server messages into a live session (after package 1): no panic, bounded memory.
//! The device has an in-memory CSP and FUMO (`./FwUpdate`), so Exec, PkgData and the FUMO
//! state machine are reached too.
//! The input is split at the first 0xFF 0xFF pair into two messages, so that continuation,
//! large objects and authentication state are reached too.
#![no_main]
use libfuzzer_sys::fuzz_target;
use omadm_cm::{roles, Config, Manager, MemoryStorage};
use omadm_csp::fumo::FumoStore;
use omadm_csp::MemoryCsp;
use omadm_dpu::{Session, SessionConfig, Trigger};
use omadm_syncml::Limits;

fuzz_target!(|data: &[u8]| {
    let config = Config { root_acl: "Add=*&Get=*&Replace=*&Delete=*&Exec=*".into(), ..Config::default() };
    let mut cm = Manager::open(Box::new(MemoryStorage::new()), config).unwrap();
    cm.mount("./Vendor/memory", Box::new(MemoryCsp::new("./Vendor/memory")), roles::MANAGER).unwrap();
    let fumo = FumoStore::open(Box::new(MemoryStorage::new())).unwrap();
    cm.mount("./FwUpdate", Box::new(fumo.csp("./FwUpdate")), roles::MANAGER).unwrap();
    let mut sc = SessionConfig::new("IMEI:1", "https://dm", "srv");
    sc.limits = Limits { max_input_bytes: 1 << 20, max_depth: 32, max_elements: 100_000, max_bytes_per_input_byte: 64 };
    sc.max_obj_size = 1 << 20;
    let mut s = Session::new(sc, Trigger::Server { session_id: 1 }, vec![], Box::new(|b: &mut [u8]| b.fill(1)));
    s.start();
    let split = data.windows(2).position(|w| w == [0xFF, 0xFF]).unwrap_or(data.len());
    let (first, second) = (&data[..split], data.get(split + 2..).unwrap_or(&[]));
    for message in [first, second] {
        if s.is_ended() {
            break;
        }
        let _ = s.handle(&mut cm, message);
        while s.poll_event().is_some() {}
    }
    cm.check_consistency().expect("the tree stays consistent");
});
