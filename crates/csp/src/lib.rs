//! `omadm-csp`: the configuration service providers that come with the stack.
//!
//! - [`DevInfoCsp`] (`./DevInfo`, `urn:oma:mo:oma-dm-devinfo:1.0`) and [`DevDetailCsp`]
//!   (`./DevDetail`, `urn:oma:mo:oma-dm-devdetail:1.0`): read-only device identity and
//!   capabilities, reporting only what the stack really supports.
//! - [`AccountStore`] with its two views, [`DmAccCsp`] (1.2, `./DMAcc/<x>`) and
//!   [`SyncMlDmAccCsp`] (1.1.2, `./SyncML/DMAcc/<x>`): the DM server accounts, kept in one
//!   durable store so that roles and credentials cannot diverge between the views; secrets are
//!   write-only; an account's roles never grow beyond those of the bootstrap that created it.
//! - [`fumo`]: firmware update (FUMO 1.0, `./FwUpdate/<x>`): [`fumo::FumoStore`] keeps the
//!   packages and the operation in progress durably, [`fumo::FumoCsp`] is the server's view,
//!   [`fumo::FirmwareUpdater`] is the platform's part (install).
//! - [`SyncAccountCsp`]: e-mail, contacts and calendar sync accounts (ActiveSync CSP shape).
//! - [`MemoryCsp`]: a CSP holding plain values in memory (tests, `omadm respond`).
//!
//! It does not own the tree, access control or transactions (`omadm-cm`), nor the protocol.

mod devdetail;
mod devinfo;
mod dmacc;
pub mod fumo;
mod memory;
mod readonly;
mod sync_account;

use omadm_syncml::printable;

pub use devdetail::{DevDetailCsp, DeviceDetail};
pub use devinfo::{DevInfoCsp, DeviceInfo};
pub use dmacc::{
    check_roles, AccountChange, AccountLocal, AccountStore, AuthCreds, AuthScheme, CredsChange,
    DmAccCsp, DmAccount, Encoding, MsExt, ProtocolVersion, SyncMlDmAccCsp,
};
pub use memory::MemoryCsp;
pub use sync_account::{SyncAccount, SyncAccountCsp, SyncAccounts, CONTENT_TYPES};
