//! Cluster services from Debian's packages (etcd-server), started twice
//! in a namespace: open (the finding must be reported) and with client
//! certificate authentication (nothing may be).

mod common;

use common::{elem, findings, on, Lab};
use portolan_model::Protocol;

#[test]
fn etcd_without_client_auth_is_a_finding_and_with_client_certificates_is_not() {
    let Some(mut lab) = Lab::new("etcd", &["/usr/bin/etcd", "/usr/bin/openssl"]) else {
        return;
    };
    let d = lab.dir.display().to_string();
    let hardened_addr = lab.addr_at(1).to_string();
    // A CA and a server certificate it signed: no tls-cert finding either.
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend_from_slice(&ec);
    ca.extend_from_slice(&[
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "30",
        "-subj",
        "/CN=Portolan Test CA",
    ]);
    lab.run("openssl", &ca);
    let mut csr = vec!["req", "-new"];
    csr.extend_from_slice(&ec);
    csr.extend_from_slice(&[
        "-keyout", "etcd.key", "-out", "etcd.csr", "-subj", "/CN=etcd",
    ]);
    lab.run("openssl", &csr);
    lab.write("san.ext", &format!("subjectAltName=IP:{hardened_addr}\n"));
    lab.run(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            "etcd.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "30",
            "-extfile",
            "san.ext",
            "-out",
            "etcd.crt",
        ],
    );
    for i in 0..2 {
        let a = lab.addr_at(i);
        let scheme = if i == 0 { "http" } else { "https" };
        let client = format!("{scheme}://{a}:2379");
        let peer = format!("http://{a}:2380");
        let cluster = format!("t{i}={peer}");
        let data = format!("{d}/etcd{i}");
        let name = format!("t{i}");
        let mut args = vec![
            "--name",
            &name,
            "--data-dir",
            &data,
            "--listen-client-urls",
            &client,
            "--advertise-client-urls",
            &client,
            "--listen-peer-urls",
            &peer,
            "--initial-advertise-peer-urls",
            &peer,
            "--initial-cluster",
            &cluster,
            "--enable-v2",
            "--log-level",
            "error",
        ];
        let (crt, key, ca) = (
            format!("{d}/etcd.crt"),
            format!("{d}/etcd.key"),
            format!("{d}/ca.crt"),
        );
        if i == 1 {
            args.extend_from_slice(&[
                "--cert-file",
                &crt,
                "--key-file",
                &key,
                "--client-cert-auth",
                "--trusted-ca-file",
                &ca,
            ]);
        }
        lab.spawn_at(i, &format!("etcd{i}"), "/usr/bin/etcd", &args);
        lab.wait_tcp_at(i, 2379);
    }
    let found = lab.scan_at(0, &[(2379, Protocol::Tcp)], "default", "");
    let r = on(&found, "etcd-version", 2379);
    assert_eq!(r.len(), 1, "{found:#?}");
    assert!(
        elem(r[0], "etcdserver").is_some_and(|v| v.starts_with('3')),
        "{r:?}"
    );
    let hardened = lab.scan_at(1, &[(2379, Protocol::Tcp)], "default", "");
    assert!(findings(&hardened, 2379).is_empty(), "{hardened:#?}");
}
