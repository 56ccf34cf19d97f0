//! TLS configuration: the connector the client uses, and self-signed certificates for test
//! servers and demos.

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::ssl::{SslConnector, SslMethod, SslVersion};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, SubjectAlternativeName, SubjectKeyIdentifier,
};
use openssl::x509::{X509NameBuilder, X509};

use crate::TransportError;

fn tls_err(e: impl std::fmt::Display) -> TransportError {
    TransportError::Tls(e.to_string())
}

/// Builds the client connector: TLS 1.2 or later, peer verification on, the given trust
/// anchors (PEM certificates) and the system store unless `system_store` is false, and an
/// optional client certificate and key (PEM).
pub fn connector(
    trust_anchors: &[Vec<u8>],
    system_store: bool,
    client_cert: Option<(&[u8], &[u8])>,
) -> Result<SslConnector, TransportError> {
    let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(tls_err)?;
    b.set_min_proto_version(Some(SslVersion::TLS1_2))
        .map_err(tls_err)?;
    if !system_store {
        // Start from an empty store: only the configured anchors are trusted.
        b.set_cert_store(
            openssl::x509::store::X509StoreBuilder::new()
                .map_err(tls_err)?
                .build(),
        );
    } else {
        b.set_default_verify_paths().map_err(tls_err)?;
    }
    for pem in trust_anchors {
        for cert in X509::stack_from_pem(pem).map_err(tls_err)? {
            b.cert_store_mut().add_cert(cert).map_err(tls_err)?;
        }
    }
    if let Some((cert, key)) = client_cert {
        let cert = X509::from_pem(cert).map_err(tls_err)?;
        let key = PKey::private_key_from_pem(key).map_err(tls_err)?;
        b.set_certificate(&cert).map_err(tls_err)?;
        b.set_private_key(&key).map_err(tls_err)?;
    }
    Ok(b.build())
}

/// Checks a client certificate before it is used: `cert_pem` holds at least one PEM
/// certificate, `key_pem` a PEM private key, and the key belongs to the first certificate.
pub fn check_client_certificate(cert_pem: &[u8], key_pem: &[u8]) -> Result<(), TransportError> {
    let certs = X509::stack_from_pem(cert_pem)
        .map_err(|_| TransportError::Tls("the certificate is not PEM".into()))?;
    let first = certs
        .first()
        .ok_or_else(|| TransportError::Tls("no certificate in the PEM text".into()))?;
    let key = PKey::private_key_from_pem(key_pem)
        .map_err(|_| TransportError::Tls("the private key is not PEM".into()))?;
    let public = first.public_key().map_err(tls_err)?;
    if !public.public_eq(&key) {
        return Err(TransportError::Tls(
            "the private key does not belong to the certificate".into(),
        ));
    }
    Ok(())
}

/// A self-signed certificate (PEM) and its P-256 key (PEM) for `names` (DNS names or IP
/// addresses, all in the subjectAltName), valid for `days`.
///
/// Every certificate made here can be trusted beside any other: a random serial, a subject
/// of its own (CN the first name, O `omadm`, OU `omadm-<serial's first 8 hex digits>`) and
/// subject and authority key identifiers, so that a client trusting several (two reference
/// servers, say) finds the right one for each peer.
pub fn self_signed(names: &[&str], days: u32) -> Result<(Vec<u8>, Vec<u8>), TransportError> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(tls_err)?;
    let key = PKey::from_ec_key(EcKey::generate(&group).map_err(tls_err)?).map_err(tls_err)?;
    let mut serial = BigNum::new().map_err(tls_err)?;
    serial
        .rand(127, MsbOption::MAYBE_ZERO, false)
        .map_err(tls_err)?;
    let serial_hex = serial.to_hex_str().map_err(tls_err)?.to_string();
    let mut name = X509NameBuilder::new().map_err(tls_err)?;
    name.append_entry_by_text("CN", names.first().copied().unwrap_or("omadm"))
        .map_err(tls_err)?;
    name.append_entry_by_text("O", "omadm").map_err(tls_err)?;
    name.append_entry_by_text(
        "OU",
        &format!("omadm-{}", &serial_hex[..serial_hex.len().min(8)]),
    )
    .map_err(tls_err)?;
    let name = name.build();
    let mut b = X509::builder().map_err(tls_err)?;
    b.set_version(2).map_err(tls_err)?;
    let serial = serial.to_asn1_integer().map_err(tls_err)?;
    b.set_serial_number(&serial).map_err(tls_err)?;
    b.set_subject_name(&name).map_err(tls_err)?;
    b.set_issuer_name(&name).map_err(tls_err)?;
    b.set_pubkey(&key).map_err(tls_err)?;
    let not_before = Asn1Time::days_from_now(0).map_err(tls_err)?;
    let not_after = Asn1Time::days_from_now(days).map_err(tls_err)?;
    b.set_not_before(&not_before).map_err(tls_err)?;
    b.set_not_after(&not_after).map_err(tls_err)?;
    let mut san = SubjectAlternativeName::new();
    for n in names {
        if n.parse::<std::net::IpAddr>().is_ok() {
            san.ip(n);
        } else {
            san.dns(n);
        }
    }
    let ctx = b.x509v3_context(None, None);
    let san = san.build(&ctx).map_err(tls_err)?;
    let skid = SubjectKeyIdentifier::new().build(&ctx).map_err(tls_err)?;
    b.append_extension(san).map_err(tls_err)?;
    b.append_extension(skid).map_err(tls_err)?;
    let ctx = b.x509v3_context(None, None);
    let akid = AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&ctx)
        .map_err(tls_err)?;
    b.append_extension(akid).map_err(tls_err)?;
    b.append_extension(
        BasicConstraints::new()
            .critical()
            .ca()
            .build()
            .map_err(tls_err)?,
    )
    .map_err(tls_err)?;
    b.sign(&key, MessageDigest::sha256()).map_err(tls_err)?;
    let cert = b.build();
    Ok((
        cert.to_pem().map_err(tls_err)?,
        key.private_key_to_pem_pkcs8().map_err(tls_err)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::stack::Stack;
    use openssl::x509::store::X509StoreBuilder;
    use openssl::x509::X509StoreContext;

    /// Issue 13.6: before, every certificate was `CN=127.0.0.1` with no key identifiers, and
    /// a store trusting two of them failed the second with "self-signed certificate".
    #[test]
    fn two_self_signed_certificates_can_be_trusted_side_by_side() {
        let a = X509::from_pem(&self_signed(&["127.0.0.1"], 1).unwrap().0).unwrap();
        let b = X509::from_pem(&self_signed(&["127.0.0.1"], 1).unwrap().0).unwrap();
        assert_ne!(
            a.subject_name().to_der().unwrap(),
            b.subject_name().to_der().unwrap()
        );
        assert_ne!(
            a.serial_number().to_bn().unwrap(),
            b.serial_number().to_bn().unwrap()
        );
        let mut store = X509StoreBuilder::new().unwrap();
        store.add_cert(a.clone()).unwrap();
        store.add_cert(b.clone()).unwrap();
        let store = store.build();
        for cert in [&a, &b] {
            let mut ctx = X509StoreContext::new().unwrap();
            let chain = Stack::new().unwrap();
            let ok = ctx
                .init(&store, cert, &chain, |c| {
                    let ok = c.verify_cert()?;
                    Ok(ok.then_some(()).ok_or(c.error()))
                })
                .unwrap();
            assert!(ok.is_ok(), "{ok:?}");
        }
    }
}
