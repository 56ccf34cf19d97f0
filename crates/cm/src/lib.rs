//! `omadm-cm`: the Configuration Manager (what Windows calls Configuration Manager2).
//!
//! It owns the management tree (OMA-TS-DM_TND-V1_2): the built-in store of nodes and their
//! run-time properties, URI rules and limits, access control in both models a deployment may
//! choose (the OMA ACL, or the Windows role masks), the registry of configuration service
//! providers (CSPs) mounted at URI prefixes, transactions for Atomic (all or nothing across
//! CSPs and the store), and the durable storage of the tree (journal and snapshot behind a
//! [`Storage`] trait). Every command the session engine executes goes through
//! [`Manager`], which answers with data or an OMA DM status code ([`CmError`]).
//!
//! It does not own the protocol (the DPU turns commands and results into SyncML), the
//! standard MOs (`omadm-csp`), or any I/O of its own: storage is passed in, and so is time.

pub mod acl;
pub mod csp;
mod error;
pub mod format;
mod manager;
pub mod node;
pub mod persist;
pub mod roles;
pub mod store;
pub mod uri;

pub use acl::{Acl, AclCommand};
pub use csp::{common_text, Caller, Csp, CspError, CspNode, ExecOutcome, LeafValue, TxMode};
pub use error::CmError;
pub use manager::{AccessModel, Config, Manager, NewNode, Principal, ResultItem};
pub use persist::{FileStorage, LoadError, MemoryStorage, ReadOnlyStorage, Storage};
pub use uri::{NodeUri, Query, UriLimits};
