//! HTTP proxies from Debian's packages (squid, tinyproxy), each started
//! twice in a namespace: open (the finding must be reported) and closed
//! (nothing may be). The proxies are only ever asked to relay to an nginx
//! the test runs beside them on the same target: a test-controlled
//! address.

mod common;

use common::{findings, on, Lab};
use portolan_model::Protocol;

const T: Protocol = Protocol::Tcp;
const MARKER: &str = "portolan-relay-marker-5b1f";

/// Starts nginx on both targets, port 8000, serving the marker page.
fn marker_servers(lab: &mut Lab) {
    let d = lab.dir.display().to_string();
    lab.write("www/marker.txt", &format!("{MARKER}\n"));
    for i in 0..2 {
        std::fs::create_dir_all(lab.path(&format!("nginx{i}"))).unwrap();
        let conf = format!(
            "daemon off; master_process off; pid {d}/nginx{i}.pid; error_log {d}/nginx{i}.err;\n\
             events {{ worker_connections 64; }}\n\
             http {{ access_log off; client_body_temp_path {d}/nginx{i};\n\
               server {{ listen {}:8000; root {d}/www; }} }}\n",
            lab.addr_at(i)
        );
        let conf = lab.write(&format!("nginx{i}.conf"), &conf);
        let prefix = format!("{d}/nginx{i}");
        lab.spawn_at(
            i,
            &format!("nginx{i}"),
            "/usr/sbin/nginx",
            &["-c", conf.to_str().unwrap(), "-p", &prefix],
        );
        lab.wait_tcp_at(i, 8000);
    }
}

/// The `--script-args` that let the check relay to target `i`'s marker.
fn relay_args(lab: &Lab, i: usize) -> String {
    format!(
        "http-open-proxy.url=http://{}:8000/marker.txt,http-open-proxy.expect={MARKER}",
        lab.addr_at(i)
    )
}

#[test]
fn squid_open_proxy_is_a_finding_and_a_closed_one_is_not() {
    let Some(mut lab) = Lab::new("squid", &["/usr/sbin/squid", "/usr/sbin/nginx"]) else {
        return;
    };
    marker_servers(&mut lab);
    let d = lab.dir.display().to_string();
    for (i, access) in [(0, "allow"), (1, "deny")] {
        let conf = format!(
            "http_port {}:3128\nhttp_access {access} all\nvisible_hostname portolan-test\n\
             cache deny all\naccess_log none\ncache_log /dev/null\ncache_store_log none\n\
             pid_filename {d}/squid{i}.pid\ncoredump_dir {d}\nshutdown_lifetime 0 seconds\n",
            lab.addr_at(i)
        );
        let conf = lab.write(&format!("squid{i}.conf"), &conf);
        let name = format!("portolan{i}");
        lab.spawn_at(
            i,
            &format!("squid{i}"),
            "/usr/sbin/squid",
            &["-N", "-n", &name, "-f", conf.to_str().unwrap()],
        );
    }
    lab.wait_tcp_at(0, 3128);
    lab.wait_tcp_at(1, 3128);
    let found = lab.scan_at(0, &[(3128, T)], "intrusive", &relay_args(&lab, 0));
    assert_eq!(on(&found, "http-open-proxy", 3128).len(), 1, "{found:#?}");
    let hardened = lab.scan_at(1, &[(3128, T)], "intrusive", &relay_args(&lab, 1));
    assert!(findings(&hardened, 3128).is_empty(), "{hardened:#?}");
    // Without a URL to relay to, the check sends nothing and finds nothing.
    let silent = lab.scan_at(0, &[(3128, T)], "intrusive", "");
    assert!(findings(&silent, 3128).is_empty(), "{silent:#?}");
}

#[test]
fn tinyproxy_open_to_all_is_a_finding_and_one_for_loopback_only_is_not() {
    let Some(mut lab) = Lab::new("tinyproxy", &["/usr/bin/tinyproxy", "/usr/sbin/nginx"]) else {
        return;
    };
    marker_servers(&mut lab);
    let d = lab.dir.display().to_string();
    for (i, allow) in [(0, "198.18.0.0/15"), (1, "127.0.0.1")] {
        let conf = format!(
            "User nobody\nGroup nogroup\nPort 8888\nListen {}\nTimeout 10\nAllow {allow}\n\
             LogLevel Critical\nPidFile \"{d}/tinyproxy{i}.pid\"\nMaxClients 10\n",
            lab.addr_at(i)
        );
        let conf = lab.write(&format!("tinyproxy{i}.conf"), &conf);
        lab.spawn_at(
            i,
            &format!("tinyproxy{i}"),
            "/usr/bin/tinyproxy",
            &["-d", "-c", conf.to_str().unwrap()],
        );
    }
    lab.wait_tcp_at(0, 8888);
    lab.wait_tcp_at(1, 8888);
    let found = lab.scan_at(0, &[(8888, T)], "http-open-proxy", &relay_args(&lab, 0));
    assert_eq!(on(&found, "http-open-proxy", 8888).len(), 1, "{found:#?}");
    let hardened = lab.scan_at(1, &[(8888, T)], "http-open-proxy", &relay_args(&lab, 1));
    assert!(findings(&hardened, 8888).is_empty(), "{hardened:#?}");
}
