//! TLS servers from Debian's openssl (`openssl s_server -www`), run in
//! the target namespace: one with a 1024-bit RSA key, one with a
//! 2048-bit key, both made with `openssl genrsa` by the test.
//! `ssl-cert-weak-key` must name the 1024-bit key (high) and say nothing
//! of the 2048-bit one; `ssl-heartbleed` must say nothing of either
//! (Debian's OpenSSL 3 has no heartbeat extension at all, so the
//! ServerHello never offers it: the hardened, real-world negative).

mod common;

use common::{elem, on, Lab};
use portolan_model::{Protocol, Severity};

const T: Protocol = Protocol::Tcp;

#[test]
fn a_1024_bit_rsa_key_is_weak_2048_is_not_and_openssl_3_is_not_heartbleed() {
    let Some(mut lab) = Lab::new("tlskey", &["/usr/bin/openssl"]) else {
        return;
    };
    for (bits, port) in [(1024, 4433u16), (2048, 4434)] {
        let key = lab.path(&format!("k{bits}.pem")).display().to_string();
        let crt = lab.path(&format!("c{bits}.pem")).display().to_string();
        lab.run("openssl", &["genrsa", "-out", &key, &bits.to_string()]);
        lab.run(
            "openssl",
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                &key,
                "-out",
                &crt,
                "-days",
                "30",
                "-subj",
                "/CN=weak.test",
                "-sha256",
            ],
        );
        // Security level 0, or OpenSSL 3 itself refuses the 1024-bit key.
        lab.spawn(
            &format!("s_server{bits}"),
            "openssl",
            &[
                "s_server",
                "-www",
                "-msg",
                "-accept",
                &port.to_string(),
                "-cert",
                &crt,
                "-key",
                &key,
                "-cipher",
                "DEFAULT@SECLEVEL=0",
            ],
        );
        lab.wait_tcp(port);
    }
    let found = lab.scan(
        &[(4433, T), (4434, T)],
        "ssl-cert-weak-key,ssl-heartbleed",
        "",
    );
    let weak = on(&found, "ssl-cert-weak-key", 4433);
    assert_eq!(weak.len(), 1, "{found:#?}");
    assert_eq!(weak[0].severity, Severity::High);
    assert_eq!(elem(weak[0], "Key bits"), Some("1024"));
    assert_eq!(elem(weak[0], "Key type"), Some("RSA"));
    assert!(
        on(&found, "ssl-cert-weak-key", 4434).is_empty(),
        "{found:#?}"
    );
    assert!(on(&found, "ssl-heartbleed", 4433).is_empty(), "{found:#?}");
    assert!(on(&found, "ssl-heartbleed", 4434).is_empty(), "{found:#?}");
    // The heartbleed check's TLS 1.2 hello got the server's whole flight
    // (-sV and the weak-key check speak TLS 1.3, which has no
    // ServerHelloDone), so the negative is the server's, not the check's.
    let log = std::fs::read_to_string(lab.path("s_server2048.log")).unwrap();
    assert!(log.contains("ServerHelloDone"), "{log}");
}
