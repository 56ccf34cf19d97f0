//! The Windows Mobile security roles (role bit masks) and the role-based access model that
//! replaces the OMA ACL there (windows-mobile-dm.md §1.3, §2.2–2.3).
//!
//! Each node has an effective AccessRole mask: its own (`msft:AccessRole` property), else one
//! assigned in advance to its path by a [`RoleMap`] pattern (a `*` segment matches any name),
//! else its nearest ancestor's; the root's default is MANAGER. A principal may act on a node
//! when its role mask and the node's mask share a bit. Add is checked at the target child,
//! whose mask may have been assigned before the node exists.

/// No role.
pub const NONE: u32 = 0;
/// Equipment manufacturer.
pub const OEM: u32 = 0x2;
/// Messages signed with the operator's network PIN.
pub const OPERATOR: u32 = 0x4;
/// Highest authority.
pub const MANAGER: u32 = 0x8;
/// User-PIN-signed push, the UI.
pub const USER_AUTH: u32 = 0x10;
/// Enterprise IT.
pub const ENTERPRISE: u32 = 0x20;
/// Unauthenticated user or application.
pub const USER_UNAUTH: u32 = 0x40;
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

/// The authentication roles (those an account or a local caller can hold).
pub const AUTHENTICATION_ROLES: u32 =
    OEM | OPERATOR | MANAGER | USER_AUTH | ENTERPRISE | USER_UNAUTH | OPERATOR_TPS;

/// Role masks assigned to paths before or regardless of the nodes existing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleMap {
    entries: Vec<(Vec<String>, u32)>,
}

impl RoleMap {
    /// Assigns `mask` to the path pattern (segments below the root; `*` matches any name).
    pub fn assign(&mut self, pattern: &[&str], mask: u32) {
        let pattern: Vec<String> = pattern.iter().map(|s| (*s).to_owned()).collect();
        match self.entries.iter_mut().find(|(p, _)| *p == pattern) {
            Some((_, m)) => *m = mask,
            None => self.entries.push((pattern, mask)),
        }
    }

    /// Whether nothing is assigned.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The mask assigned exactly to `segments`, if any.
    pub fn lookup(&self, segments: &[String]) -> Option<u32> {
        self.entries
            .iter()
            .filter(|(p, _)| {
                p.len() == segments.len() && p.iter().zip(segments).all(|(p, s)| p == "*" || p == s)
            })
            // The most specific pattern (fewest wildcards) wins.
            .min_by_key(|(p, _)| p.iter().filter(|s| *s == "*").count())
            .map(|(_, m)| *m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_values_match_the_windows_table() {
        assert_eq!(
            (
                OPERATOR,
                MANAGER,
                USER_AUTH,
                ENTERPRISE,
                OPERATOR_TPS,
                ANY_PUSH_SOURCE
            ),
            (4, 8, 16, 32, 128, 4096)
        );
        assert_eq!(OPERATOR + OPERATOR_TPS, 132);
    }

    #[test]
    fn role_map_prefers_the_most_specific_pattern() {
        let mut map = RoleMap::default();
        map.assign(&["DMAcc", "*"], MANAGER);
        map.assign(&["DMAcc", "x"], OPERATOR);
        let seg = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(map.lookup(&seg(&["DMAcc", "x"])), Some(OPERATOR));
        assert_eq!(map.lookup(&seg(&["DMAcc", "y"])), Some(MANAGER));
        assert_eq!(map.lookup(&seg(&["DMAcc"])), None);
    }
}
