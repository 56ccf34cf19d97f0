//! Windows Mobile security role masks (`SECROLE_*`), for CSP registration, local tree access
//! and reading the roles of routed push messages. The same values as `omadm_cm::roles`.

/// No role.
pub const OMADM_ROLE_NONE: u32 = 0;
/// The device manufacturer.
pub const OMADM_ROLE_OEM: u32 = 0x2;
/// The mobile operator.
pub const OMADM_ROLE_OPERATOR: u32 = 0x4;
/// The device's manager (full control).
pub const OMADM_ROLE_MANAGER: u32 = 0x8;
/// An authenticated user.
pub const OMADM_ROLE_USER_AUTH: u32 = 0x10;
/// An enterprise.
pub const OMADM_ROLE_ENTERPRISE: u32 = 0x20;
/// An unauthenticated user.
pub const OMADM_ROLE_USER_UNAUTH: u32 = 0x40;
/// The operator's trusted provisioning server.
pub const OMADM_ROLE_OPERATOR_TPS: u32 = 0x80;
/// Pushed through a known PPG.
pub const OMADM_ROLE_KNOWN_PPG: u32 = 0x100;
/// Pushed through a trusted PPG.
pub const OMADM_ROLE_TRUSTED_PPG: u32 = 0x200;
/// The PPG authenticated the content provider.
pub const OMADM_ROLE_PPG_AUTH: u32 = 0x400;
/// The PPG trusts the content provider.
pub const OMADM_ROLE_PPG_TRUSTED: u32 = 0x800;
/// Any push source.
pub const OMADM_ROLE_ANY_PUSH_SOURCE: u32 = 0x1000;

#[cfg(test)]
mod tests {
    use super::*;
    use omadm_cm::roles;

    #[test]
    fn role_masks_are_the_configuration_managers() {
        assert_eq!(
            [
                OMADM_ROLE_NONE,
                OMADM_ROLE_OEM,
                OMADM_ROLE_OPERATOR,
                OMADM_ROLE_MANAGER,
                OMADM_ROLE_USER_AUTH,
                OMADM_ROLE_ENTERPRISE,
                OMADM_ROLE_USER_UNAUTH,
                OMADM_ROLE_OPERATOR_TPS,
                OMADM_ROLE_KNOWN_PPG,
                OMADM_ROLE_TRUSTED_PPG,
                OMADM_ROLE_PPG_AUTH,
                OMADM_ROLE_PPG_TRUSTED,
                OMADM_ROLE_ANY_PUSH_SOURCE,
            ],
            [
                roles::NONE,
                roles::OEM,
                roles::OPERATOR,
                roles::MANAGER,
                roles::USER_AUTH,
                roles::ENTERPRISE,
                roles::USER_UNAUTH,
                roles::OPERATOR_TPS,
                roles::KNOWN_PPG,
                roles::TRUSTED_PPG,
                roles::PPG_AUTH,
                roles::PPG_TRUSTED,
                roles::ANY_PUSH_SOURCE,
            ]
        );
    }
}
