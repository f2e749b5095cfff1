//! File and web servers from Debian's packages (vsftpd, rsync, nginx),
//! each started twice in a namespace: exposed (the finding must be
//! reported) and hardened (nothing may be).

mod common;

use common::{elem, findings, on, Lab};
use portolan_model::{Protocol, ScriptItem};

const T: Protocol = Protocol::Tcp;

fn vsftpd_conf(addr: &str, port: u16, anonymous: bool, root: &str) -> String {
    format!(
        "listen=YES\nlisten_address={addr}\nlisten_port={port}\nanonymous_enable={}\n\
         ftp_username=nobody\nanon_root={root}\nlocal_enable=NO\nbackground=NO\n\
         run_as_launching_user=YES\nsecure_chroot_dir={root}\n",
        if anonymous { "YES" } else { "NO" }
    )
}

#[test]
fn anonymous_ftp_is_an_auth_finding_and_not_part_of_the_default_set() {
    let Some(mut lab) = Lab::new("vsftpd", &["/usr/sbin/vsftpd"]) else {
        return;
    };
    let root = lab.path("empty");
    std::fs::create_dir_all(&root).unwrap();
    let root = root.display().to_string();
    // Anonymous on target 0, not on target 1, both on port 21.
    for (i, name, anonymous) in [(0, "anon", true), (1, "closed", false)] {
        let conf = vsftpd_conf(&lab.addr_at(i).to_string(), 21, anonymous, &root);
        let conf = lab.write(&format!("{name}.conf"), &conf);
        lab.spawn_at(i, name, "/usr/sbin/vsftpd", &[conf.to_str().unwrap()]);
        lab.wait_tcp_at(i, 21);
    }
    let ports = [(21, T)];
    let found = lab.scan_at(0, &ports, "auth", "");
    assert_eq!(on(&found, "ftp-anon", 21).len(), 1, "{found:#?}");
    let hardened = lab.scan_at(1, &ports, "auth", "");
    assert!(findings(&hardened, 21).is_empty(), "{hardened:#?}");
    // -sC never logs in.
    let safe = lab.scan_at(0, &ports, "default", "");
    assert!(on(&safe, "ftp-anon", 21).is_empty(), "{safe:#?}");
}

#[test]
fn rsync_module_list_is_a_finding_and_a_daemon_with_no_listed_module_is_not() {
    let Some(mut lab) = Lab::new("rsync", &["/usr/bin/rsync"]) else {
        return;
    };
    let share = lab.path("share");
    std::fs::create_dir_all(&share).unwrap();
    let share = share.display().to_string();
    let common = "use chroot = no\nuid = root\ngid = root\npid file = \nlog file = /dev/null\n";
    let open = lab.write(
        "open.conf",
        &format!("{common}[pub]\n  path = {share}\n  comment = public files\n"),
    );
    let hidden = lab.write(
        "hidden.conf",
        &format!("{common}[private]\n  path = {share}\n  list = false\n"),
    );
    // Listed modules on target 0, none listed on target 1, both on 873.
    for (i, name, conf) in [(0, "open", &open), (1, "hidden", &hidden)] {
        let conf = format!("--config={}", conf.display());
        let address = format!("--address={}", lab.addr_at(i));
        lab.spawn_at(
            i,
            name,
            "/usr/bin/rsync",
            &["--daemon", "--no-detach", &conf, "--port=873", &address],
        );
        lab.wait_tcp_at(i, 873);
    }
    let found = lab.scan_at(0, &[(873, T)], "default", "");
    let r = on(&found, "rsync-list-modules", 873);
    assert_eq!(r.len(), 1, "{found:#?}");
    let listed = r[0].items.iter().any(|i| {
        matches!(i, ScriptItem::Table { items, .. }
            if items.contains(&ScriptItem::value("pub\tpublic files")))
    });
    assert!(listed, "{:?}", r[0]);
    let hardened = lab.scan_at(1, &[(873, T)], "default", "");
    assert!(findings(&hardened, 873).is_empty(), "{hardened:#?}");
}

/// A CA, a certificate it signed (valid, `good.crt`) and an expired
/// self-signed one (`expired.crt`), made with openssl.
fn make_certs(lab: &mut Lab) {
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
        "-keyout",
        "good.key",
        "-out",
        "good.csr",
        "-subj",
        "/CN=good.portolan.test",
    ]);
    lab.run("openssl", &csr);
    lab.run(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            "good.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "30",
            "-out",
            "good.crt",
        ],
    );
    // `openssl req -x509` cannot back-date; `openssl ca` can.
    std::fs::create_dir_all(lab.path("ca")).unwrap();
    lab.write("ca/index.txt", "");
    lab.write("ca/serial", "01\n");
    lab.write(
        "ca.cnf",
        "[ca]\ndefault_ca = d\n[d]\ndir = ./ca\ndatabase = $dir/index.txt\nnew_certs_dir = $dir\n\
         serial = $dir/serial\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n",
    );
    let mut old = vec!["req", "-new"];
    old.extend_from_slice(&ec);
    old.extend_from_slice(&[
        "-keyout",
        "expired.key",
        "-out",
        "expired.csr",
        "-subj",
        "/CN=expired.portolan.test",
    ]);
    lab.run("openssl", &old);
    lab.run(
        "openssl",
        &[
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-selfsign",
            "-keyfile",
            "expired.key",
            "-in",
            "expired.csr",
            "-out",
            "expired.crt",
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20200201000000Z",
        ],
    );
}

#[test]
fn nginx_listing_title_and_bad_certificate_are_findings_and_a_hardened_site_has_none() {
    let Some(mut lab) = Lab::new("nginx", &["/usr/sbin/nginx", "/usr/bin/openssl"]) else {
        return;
    };
    make_certs(&mut lab);
    let addr = lab.addr().to_string();
    let d = lab.dir.display().to_string();
    lab.write("files/secret-backup.tar", "x");
    lab.write("files/notes.txt", "x");
    lab.write(
        "site/index.html",
        "<html><head><title>Router Admin Console</title></head></html>\n",
    );
    std::fs::create_dir_all(lab.path("empty")).unwrap();
    std::fs::create_dir_all(lab.path("nginx")).unwrap();
    let conf = format!(
        "daemon off; master_process off; pid {d}/nginx.pid; error_log {d}/nginx.err;\n\
         events {{ worker_connections 64; }}\n\
         http {{ access_log off; client_body_temp_path {d}/nginx; server_tokens off;\n\
           server {{ listen {addr}:8080; root {d}/files; autoindex on; }}\n\
           server {{ listen {addr}:8081; root {d}/site; index index.html; }}\n\
           server {{ listen {addr}:8082; root {d}/empty; autoindex off; }}\n\
           server {{ listen {addr}:8443 ssl; ssl_certificate {d}/expired.crt;\n\
                    ssl_certificate_key {d}/expired.key; root {d}/empty; }}\n\
           server {{ listen {addr}:8444 ssl; ssl_certificate {d}/good.crt;\n\
                    ssl_certificate_key {d}/good.key; root {d}/empty; }}\n\
           server {{ listen {addr}:8445 ssl; ssl_certificate {d}/good.crt;\n\
                    ssl_certificate_key {d}/good.key; root {d}/empty;\n\
                    ssl_protocols TLSv1 TLSv1.1 TLSv1.2; ssl_ciphers ALL:@SECLEVEL=0; }} }}\n"
    );
    let conf = lab.write("nginx.conf", &conf);
    let prefix = format!("{d}/nginx");
    lab.spawn(
        "nginx",
        "/usr/sbin/nginx",
        &["-c", conf.to_str().unwrap(), "-p", &prefix],
    );
    for p in [8080, 8081, 8082, 8443, 8444, 8445] {
        lab.wait_tcp(p);
    }
    let ports = [
        (8080, T),
        (8081, T),
        (8082, T),
        (8443, T),
        (8444, T),
        (8445, T),
    ];
    let found = lab.scan(&ports, "default", "");
    let ls = on(&found, "http-ls", 8080);
    assert_eq!(ls.len(), 1, "{found:#?}");
    assert!(
        ls[0].output.contains("secret-backup.tar"),
        "{}",
        ls[0].output
    );
    let title = on(&found, "http-title", 8081);
    assert_eq!(title.len(), 1, "{found:#?}");
    assert_eq!(elem(title[0], "title"), Some("Router Admin Console"));
    let cert = on(&found, "tls-cert", 8443);
    assert_eq!(cert.len(), 1, "{found:#?}");
    assert_eq!(cert[0].summary, "TLS certificate expired, self-signed");
    // The hardened ones: no listing, no title, a valid certificate.
    assert!(findings(&found, 8082).is_empty(), "{found:#?}");
    assert!(findings(&found, 8444).is_empty(), "{found:#?}");
    // TLS 1.0 and 1.1 switched back on (OpenSSL's SECLEVEL 0): found; the
    // certificate is the good one, so that is the only finding there.
    let old = findings(&found, 8445);
    assert_eq!(old.len(), 1, "{found:#?}");
    assert_eq!(old[0].id, "tls-versions");
    assert_eq!(old[0].summary, "TLS service accepts TLSv1.0, TLSv1.1");
    assert!(on(&found, "http-ls", 8081).is_empty(), "{found:#?}");
}
