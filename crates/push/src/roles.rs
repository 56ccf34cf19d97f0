//! The security roles the router assigns (the same bit values as the Configuration
//! Manager's role model; windows-mobile-dm.md §1.3).

/// Messages signed with the operator's network PIN.
pub const OPERATOR: u32 = 0x4;
/// User-PIN-signed push.
pub const USER_AUTH: u32 = 0x10;
/// Trusted provisioning server.
pub const OPERATOR_TPS: u32 = 0x80;
/// The PPG's address is known.
pub const KNOWN_PPG: u32 = 0x100;
/// Came through a trusted PPG.
pub const TRUSTED_PPG: u32 = 0x200;
/// The PPG authenticated the initiator.
pub const PPG_AUTH: u32 = 0x400;
/// The PPG marked the content trusted.
pub const PPG_TRUSTED: u32 = 0x800;
/// Every pushed message.
pub const ANY_PUSH_SOURCE: u32 = 0x1000;
