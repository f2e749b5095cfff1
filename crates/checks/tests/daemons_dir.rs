//! Directory and management services from Debian's packages (snmpd,
//! slapd), each started twice in a namespace: exposed (the finding must
//! be reported) and hardened (nothing may be).

mod common;

use common::{elem, findings, on, Lab};
use portolan_model::Protocol;

#[test]
fn snmp_public_community_is_a_finding_and_another_community_is_not() {
    let Some(mut lab) = Lab::new("snmpd", &["/usr/sbin/snmpd", "/usr/bin/snmpget"]) else {
        return;
    };
    let open = lab.write("public.conf", "rocommunity public\n");
    let closed = lab.write("closed.conf", "rocommunity n0t-the-default\n");
    // Both on port 161, so that the check applies to both by port.
    for (i, name, conf) in [(0, "public", &open), (1, "closed", &closed)] {
        let listen = format!("udp:{}:161", lab.addr_at(i));
        let pid = lab.path(&format!("{name}.pid")).display().to_string();
        let conf = conf.display().to_string();
        lab.spawn_at(
            i,
            name,
            "/usr/sbin/snmpd",
            &["-f", "-Lo", "-C", "-c", &conf, "-p", &pid, &listen],
        );
    }
    // snmpd has no TCP port to wait for: ask it (net-snmp's snmpget)
    // until it answers.
    for (i, community) in [(0, "public"), (1, "n0t-the-default")] {
        let to = format!("{}:161", lab.addr_at(i));
        let up = (0..20).any(|_| {
            let out = lab.run_in_scanner(
                "snmpget",
                &[
                    "-v2c",
                    "-c",
                    community,
                    "-t",
                    "0.5",
                    "-r",
                    "0",
                    &to,
                    "1.3.6.1.2.1.1.1.0",
                ],
            );
            out.contains("STRING")
        });
        assert!(up, "snmpd on {to} does not answer");
    }
    let udp = [(161, Protocol::Udp)];
    let found = lab.scan_at(0, &udp, "snmp-sysdescr", "");
    let r = on(&found, "snmp-sysdescr", 161);
    assert_eq!(r.len(), 1, "{found:#?}");
    assert!(
        elem(r[0], "sysDescr").is_some_and(|d| d.contains("Linux")),
        "{r:?}"
    );
    let hardened = lab.scan_at(1, &udp, "snmp-sysdescr", "");
    assert!(findings(&hardened, 161).is_empty(), "{hardened:#?}");
    // With the right community in --script-args the hardened one answers.
    let found = lab.scan_at(1, &udp, "snmp-sysdescr", "snmp.community=n0t-the-default");
    assert_eq!(on(&found, "snmp-sysdescr", 161).len(), 1, "{found:#?}");
}

fn slapd_conf(dir: &str, name: &str, acl: &str) -> String {
    format!(
        "include /etc/ldap/schema/core.schema\n\
         modulepath /usr/lib/ldap\nmoduleload back_mdb\n\
         pidfile {dir}/{name}.pid\n{acl}\
         database mdb\nmaxsize 10485760\nsuffix \"dc=portolan,dc=test\"\n\
         rootdn \"cn=admin,dc=portolan,dc=test\"\ndirectory {dir}/{name}-db\n"
    )
}

#[test]
fn ldap_anonymous_root_dse_is_a_finding_and_a_closed_root_dse_is_not() {
    let Some(mut lab) = Lab::new("slapd", &["/usr/sbin/slapd"]) else {
        return;
    };
    let d = lab.dir.display().to_string();
    let open = lab.write("open.conf", &slapd_conf(&d, "open", ""));
    let closed = lab.write(
        "closed.conf",
        &slapd_conf(
            &d,
            "closed",
            "access to dn.exact=\"\" by users read by * none\n",
        ),
    );
    // Readable root DSE on target 0, hidden on target 1, both on 389.
    for (i, name, conf) in [(0, "open", &open), (1, "closed", &closed)] {
        std::fs::create_dir_all(lab.path(&format!("{name}-db"))).unwrap();
        let url = format!("ldap://{}:389/", lab.addr_at(i));
        let conf = conf.display().to_string();
        lab.spawn_at(
            i,
            name,
            "/usr/sbin/slapd",
            &["-d", "0", "-f", &conf, "-h", &url],
        );
        lab.wait_tcp_at(i, 389);
    }
    let found = lab.scan_at(0, &[(389, Protocol::Tcp)], "default", "");
    let r = on(&found, "ldap-rootdse", 389);
    assert_eq!(r.len(), 1, "{found:#?}");
    assert!(
        r[0].output.contains("dc=portolan,dc=test"),
        "{}",
        r[0].output
    );
    let hardened = lab.scan_at(1, &[(389, Protocol::Tcp)], "default", "");
    assert!(findings(&hardened, 389).is_empty(), "{hardened:#?}");
}
