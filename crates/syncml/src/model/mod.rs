//! The typed model of a SyncML DM message (OMA-TS-DM_RepPro-V1_2, OMA-TS-SyncML_RepPro-V1_2).
//!
//! Field names follow the elements they stand for. Identifiers the protocol treats as opaque
//! (SessionID, MsgID, CmdID, MsgRef, CmdRef) are strings: real servers send UUIDs. Status
//! codes and alert codes are strings too, with numeric accessors, so that a message with a bad
//! code still decodes and the session engine can answer it with a status of its own.

mod command;
mod item;
mod message;
mod meta;

pub use command::{
    code_text, Alert, Command, Container, Exec, ItemCommand, Malformed, Results, Status,
    STATUS_FOR_HEADER,
};
pub use item::{Data, Item, Location};
pub use message::{Cred, DmVersion, SyncBody, SyncHdr, SyncMl};
pub use meta::{Chal, Meta};
