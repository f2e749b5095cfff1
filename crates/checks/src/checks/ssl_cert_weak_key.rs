//! `ssl-cert-weak-key`: the TLS certificate's public key is too weak:
//! RSA under 2048 bits, any DSA key, or an elliptic-curve key under 224
//! bits (NIST SP 800-57 Part 1 Rev. 5 table 2 and SP 800-131A Rev. 2:
//! 112-bit security, RSA 2048 / ECC 224, is the floor; DSA signatures are
//! no longer approved for generation under FIPS 186-5).
//!
//! One TLS handshake (rustls, accepting any certificate) reads the
//! server's own certificate; x509-parser reads its SubjectPublicKeyInfo.

use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;
use x509_parser::public_key::PublicKey;

pub(crate) struct SslCertWeakKey;

static INFO: CheckInfo = CheckInfo {
    id: "ssl-cert-weak-key",
    description: "the TLS certificate's key is weak (RSA < 2048, DSA, EC < 224 bits)",
    category: Category::Safe,
    severity: Severity::Medium,
    references: &[
        "NIST SP 800-57 Part 1 Rev. 5",
        "NIST SP 800-131A Rev. 2",
        "CWE-326",
    ],
    services: &[],
    ports: &[],
    protocol: Protocol::Tcp,
    plain_only: false,
};

impl Check for SslCertWeakKey {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn applies(&self, ctx: &Ctx, _by_port: bool) -> bool {
        ctx.speaks_tls()
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let der = crate::tls::peer_certificate(ctx).await?;
            weak(&der)
        })
    }
}

/// The key's algorithm and size, when it is weak.
fn weak(der: &[u8]) -> Option<Finding> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let (kind, bits, is_weak) = match cert.public_key().parsed().ok()? {
        PublicKey::RSA(k) => {
            let bits = k.key_size();
            ("RSA", bits, bits < 2048)
        }
        PublicKey::DSA(y) => ("DSA", dsa_bits(y), true),
        PublicKey::EC(p) => {
            let bits = p.key_size();
            ("EC", bits, bits < 224)
        }
        _ => return None,
    };
    if !is_weak {
        return None;
    }
    let mut f = Finding::new(
        format!("TLS certificate key is weak: {kind} {bits} bits"),
        vec![
            ScriptItem::elem("Key type", kind),
            ScriptItem::elem("Key bits", bits.to_string()),
        ],
    );
    // Factoring RSA-1024 is within reach of large budgets; 512 of anyone.
    if kind == "RSA" && bits <= 1024 {
        f.severity = Some(Severity::High);
    }
    Some(f)
}

/// DSA's size: that of its public value y (an integer mod p, so as long
/// as the prime p save a 1-in-256 chance of a byte less).
fn dsa_bits(y: &[u8]) -> usize {
    let y = match y.iter().position(|&b| b != 0) {
        Some(i) => &y[i..],
        None => return 0,
    };
    y.len() * 8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_nothing() {
        assert!(weak(b"").is_none());
        assert!(weak(&[0x30, 0x82, 0xff, 0xff]).is_none());
        assert!(weak(&[0x30; 300]).is_none());
    }
}
