//! The typed model of a SyncML DM message (OMA-TS-DM_RepPro-V1_2, OMA-TS-SyncML_RepPro-V1_2).
//!
//! Field names follow the elements they stand for. Identifiers the protocol treats as opaque
//! (SessionID, MsgID, CmdID, MsgRef, CmdRef) are strings: real servers send UUIDs. Status
//! codes and alert codes are strings too, with numeric accessors, so that a message with a bad
//! code still decodes and the session engine can answer it with a status of its own.
//!
//! Text is `Cow<'a, str>`: a decoded message borrows its text from the input wherever the
//! wire form is the text itself (no escapes, no line ends to normalise, UTF-8), so a decode
//! allocates for the model's structure only; a message built in code borrows `'static` text
//! or owns it. `into_owned` detaches a message from its input.

mod command;
mod item;
mod item_status;
mod items;
mod message;
mod meta;
mod node_results;
mod owned;
mod refs;

pub use command::{
    code_text, Alert, Command, Container, Exec, ItemCommand, Malformed, Results, Status,
    STATUS_FOR_HEADER,
};
pub use item::{Data, Item, Location};
pub use item_status::ItemStatus;
pub use items::{Items, ItemsIntoIter};
pub use message::{Cred, DmVersion, SyncBody, SyncHdr, SyncMl};
pub use meta::{Chal, Meta, MoreMeta};
pub use node_results::NodeResults;
pub use refs::Refs;
