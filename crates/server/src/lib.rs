//! `omadm-server`: the reference OMA DM server, because no server comes with a device stack and
//! nothing can be tested end to end without one.
//!
//! [`engine`] is the sans-I/O server side of a session (device authentication both ways, jobs
//! within the device's MaxMsgSize, records of every status and result); [`http`] serves it over
//! HTTPS (and update packages by GET with `Range`); [`jobs`] reads job files; [`firmware`]
//! makes firmware (FUMO) jobs.

pub mod engine;
pub mod firmware;
pub mod http;
pub mod jobs;
pub mod records;

pub use engine::{system_entropy, DeviceAccount, Engine, EngineConfig, Entropy, Reply, ServerAuth};
pub use jobs::Job;
pub use records::Record;
