//! Every match rule of the built-in database against a reply: recorded
//! replies of real daemons (tests/replies/) where the software is
//! installable here, replies written from the protocol specification
//! otherwise. The last test checks that no rule is left untested.

use portolan_service::{Database, Identity, Subject};
use std::collections::BTreeSet;
use std::sync::Mutex;

static HIT: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// The identity the database gives `reply` to `probe` (own rules,
/// fallbacks, then NULL's, as the prober does), recording the rule used.
fn identify(db: &Database, probe: &str, reply: &[u8]) -> Option<Identity> {
    let p = db
        .probe(probe)
        .unwrap_or_else(|| panic!("no probe {probe}"));
    let subject = Subject::new(reply);
    let mut chain = vec![p];
    chain.extend(p.fallback.iter().filter_map(|f| db.probe(f)));
    if probe != "NULL" && p.transport == portolan_service::Transport::Tcp {
        chain.extend(db.probe("NULL"));
    }
    let mut soft = None;
    for q in chain {
        for r in &q.rules {
            if let Some(id) = r.apply(&subject).expect("within limits") {
                if !id.soft {
                    HIT.lock().unwrap().insert(id.origin.clone());
                    return Some(id);
                }
                soft.get_or_insert(id);
            }
        }
    }
    if let Some(id) = &soft {
        HIT.lock().unwrap().insert(id.origin.clone());
    }
    soft
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/replies/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// (probe, reply, service, product, version, soft)
type Case<'a> = (
    &'a str,
    Vec<u8>,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    bool,
);

fn check(cases: Vec<Case<'_>>) {
    let db = Database::builtin().unwrap();
    for (probe, reply, service, product, version, soft) in cases {
        let id = identify(&db, probe, &reply).unwrap_or_else(|| {
            panic!(
                "{probe}: no match for {:?}",
                String::from_utf8_lossy(&reply)
            )
        });
        let what = format!(
            "{probe} {:?} -> {id:?}",
            String::from_utf8_lossy(&reply[..reply.len().min(80)])
        );
        assert_eq!(id.service, service, "{what}");
        assert_eq!(id.product.as_deref(), product, "{what}");
        assert_eq!(id.version.as_deref(), version, "{what}");
        assert_eq!(id.soft, soft, "{what}");
    }
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

#[test]
fn recorded_replies_of_real_daemons() {
    let db = Database::builtin().unwrap();
    check(vec![
        (
            "NULL",
            fixture("ssh-openssh.bin"),
            "ssh",
            Some("OpenSSH"),
            Some("9.2p1"),
            false,
        ),
        (
            "NULL",
            fixture("ftp-vsftpd.bin"),
            "ftp",
            Some("vsftpd"),
            Some("3.0.3"),
            false,
        ),
        (
            "GenericLines",
            fixture("ftp-vsftpd-generic-lines.bin"),
            "ftp",
            Some("vsftpd"),
            Some("3.0.3"),
            false,
        ),
        (
            "NULL",
            b("500 OOPS: vsftpd: both local and anonymous access disabled!\r\n"),
            "ftp",
            Some("vsftpd"),
            None,
            false,
        ),
        (
            "HttpGet",
            fixture("http-nginx.bin"),
            "http",
            Some("nginx"),
            Some("1.22.1"),
            false,
        ),
        (
            "HttpGet",
            fixture("http-nginx-options.bin"),
            "http",
            Some("nginx"),
            Some("1.22.1"),
            false,
        ),
        (
            "RedisInfo",
            fixture("redis-info.bin"),
            "redis",
            Some("Redis key-value store"),
            Some("7.0.15"),
            false,
        ),
        (
            "MemcachedVersion",
            fixture("memcached-version.bin"),
            "memcached",
            Some("Memcached"),
            Some("1.6.18"),
            false,
        ),
        (
            "GenericLines",
            fixture("memcached-generic-lines.bin"),
            "memcached",
            None,
            None,
            true,
        ),
        (
            "NULL",
            fixture("mysql-mariadb.bin"),
            "mysql",
            Some("MariaDB"),
            Some("10.11.19"),
            false,
        ),
        (
            "PgStartup",
            fixture("postgres-startup-trust.bin"),
            "postgresql",
            Some("PostgreSQL DB"),
            Some("15.18"),
            false,
        ),
        (
            "PgStartup",
            fixture("postgres-startup-norole.bin"),
            "postgresql",
            Some("PostgreSQL DB"),
            None,
            false,
        ),
        (
            "PgStartup",
            fixture("postgres-startup.bin"),
            "postgresql",
            Some("PostgreSQL DB"),
            None,
            false,
        ),
        (
            "DnsVersionBindUdp",
            fixture("dns-dnsmasq-udp.bin"),
            "domain",
            Some("dnsmasq"),
            Some("2.90"),
            false,
        ),
        (
            "DnsVersionBindTcp",
            fixture("dns-dnsmasq-tcp.bin"),
            "domain",
            Some("dnsmasq"),
            Some("2.90"),
            false,
        ),
        (
            "MqttConnect",
            fixture("mqtt-mosquitto.bin"),
            "mqtt",
            Some("Mosquitto"),
            Some("2.0.11"),
            false,
        ),
    ]);
    // Recorded from the daemons of tests/daemons.sh's "sva" block (Debian 12).
    check(vec![
        (
            "DnsVersionBindUdp",
            fixture("dns-pdns-udp.bin"),
            "domain",
            Some("PowerDNS Authoritative Server"),
            Some("4.7.3"),
            false,
        ),
        (
            "DnsVersionBindUdp",
            fixture("dns-pdns-recursor-udp.bin"),
            "domain",
            Some("PowerDNS Recursor"),
            Some("4.8.8"),
            false,
        ),
        (
            "DnsVersionBindUdp",
            fixture("dns-knot-udp.bin"),
            "domain",
            Some("Knot DNS"),
            Some("3.2.6"),
            false,
        ),
        (
            "DnsVersionBindUdp",
            fixture("dns-gdnsd-udp.bin"),
            "domain",
            Some("gdnsd"),
            Some("3"),
            false,
        ),
        (
            "DnsVersionBindUdp",
            fixture("dns-yadifa-udp.bin"),
            "domain",
            Some("YADIFA"),
            Some("2.6.4"),
            false,
        ),
        (
            "DnsVersionBindTcp",
            fixture("dns-yadifa-tcp.bin"),
            "domain",
            Some("YADIFA"),
            Some("2.6.4"),
            false,
        ),
        (
            "KerberosAsReqTcp",
            fixture("kerberos-mit-kdc-tcp.bin"),
            "kerberos-sec",
            Some("MIT Kerberos KDC"),
            None,
            false,
        ),
        (
            "RpcKerberosAdm",
            fixture("kadmin-mit.bin"),
            "kerberos-adm",
            Some("MIT Kerberos kadmind"),
            None,
            false,
        ),
        (
            "KpasswdTcp",
            fixture("kpasswd-mit-tcp.bin"),
            "kpasswd5",
            Some("MIT Kerberos kadmind"),
            None,
            false,
        ),
        (
            "FirebirdConnect",
            fixture("firebird-connect.bin"),
            "gds_db",
            Some("Firebird"),
            None,
            false,
        ),
        (
            "AdcSup",
            fixture("adc-uhub.bin"),
            "adc",
            Some("uhub"),
            Some("0.4.1"),
            false,
        ),
        (
            "NULL",
            fixture("unison-null.bin"),
            "unison",
            Some("Unison"),
            None,
            false,
        ),
        (
            "HttpGet",
            fixture("http-apt-cacher-ng.bin"),
            "http-proxy",
            Some("Apt-Cacher NG"),
            Some("3.7.4"),
            false,
        ),
        (
            "HttpGet",
            fixture("http-webfs.bin"),
            "http",
            Some("webfs httpd"),
            Some("1.21"),
            false,
        ),
        (
            "RedisInfo",
            fixture("redis-sentinel-info.bin"),
            "redis-sentinel",
            Some("Redis Sentinel"),
            Some("7.0.15"),
            false,
        ),
        (
            "MemcachedBinaryVersion",
            fixture("memcached-binary-version.bin"),
            "memcached",
            Some("Memcached"),
            Some("1.6.18"),
            false,
        ),
        (
            "SpamdPing",
            fixture("spamd-ping.bin"),
            "spamd",
            Some("SpamAssassin spamd"),
            None,
            false,
        ),
        (
            "LpdQueueState",
            fixture("lpd-bsd-queue-state.bin"),
            "printer",
            Some("BSD lpd"),
            None,
            false,
        ),
        (
            "NULL",
            fixture("lpd-bsd-null-no-hostname.bin"),
            "printer",
            Some("BSD lpd"),
            None,
            false,
        ),
    ]);
    // diod (9P2000.L file server) names only the dialect, not itself.
    check(vec![(
        "NinePVersion",
        fixture("9p-diod-rversion.bin"),
        "9p",
        None,
        None,
        false,
    )]);
    // nginx's TLS port answering plain HTTP: the rule names `ssl`, so the
    // prober retries inside TLS.
    check(vec![(
        "HttpGet",
        fixture("http-nginx-tls-port-plain.bin"),
        "ssl",
        None,
        None,
        false,
    )]);
    // Details beyond product and version.
    let ssh = identify(&db, "NULL", &fixture("ssh-openssh.bin")).unwrap();
    assert_eq!(ssh.info.as_deref(), Some("Debian 2+deb12u10; protocol 2.0"));
    assert_eq!(ssh.cpe[0], "cpe:/a:openbsd:openssh:9.2p1");
    let pg = identify(&db, "PgStartup", &fixture("postgres-startup-trust.bin")).unwrap();
    assert_eq!(pg.info.as_deref(), Some("Debian 15.18-0+deb12u1"));
}

fn mysql_greeting(version: &str) -> Vec<u8> {
    let mut body = vec![0x0a];
    body.extend_from_slice(version.as_bytes());
    body.extend_from_slice(b"\0\x04\0\0\0abcdefgh\0\xff\xf7\x08\x02\0");
    let mut p = vec![body.len() as u8, 0, 0, 0];
    p.extend(body);
    p
}

fn dns_txt(tcp: bool, txt: &str) -> Vec<u8> {
    let mut m = b"\x70\x72\x85\x80\0\x01\0\x01\0\0\0\0\x07version\x04bind\0\0\x10\0\x03\xc0\x0c\0\x10\0\x03\0\0\0\0".to_vec();
    m.extend_from_slice(&[0, txt.len() as u8 + 1, txt.len() as u8]);
    m.extend_from_slice(txt.as_bytes());
    if tcp {
        let mut t = vec![0, m.len() as u8];
        t.extend(m);
        t
    } else {
        m
    }
}

#[test]
fn banner_rules_written_from_specifications() {
    let http = |h: &str| {
        b(&format!(
            "HTTP/1.1 200 OK\r\nDate: x\r\n{h}\r\nContent-Length: 0\r\n\r\n"
        ))
    };
    check(vec![
        ("NULL", b("SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n"), "ssh", Some("OpenSSH"), Some("8.9p1"), false),
        ("NULL", b("SSH-2.0-OpenSSH_9.6\r\n"), "ssh", Some("OpenSSH"), Some("9.6"), false),
        ("NULL", b("SSH-2.0-dropbear_2022.83\r\n"), "ssh", Some("Dropbear sshd"), Some("2022.83"), false),
        ("NULL", b("SSH-2.0-libssh_0.10.5\r\n"), "ssh", Some("libssh"), Some("0.10.5"), false),
        ("NULL", b("SSH-2.0-Cisco-1.25\r\n"), "ssh", Some("Cisco SSH"), Some("1.25"), false),
        ("NULL", b("SSH-2.0-Go\r\n"), "ssh", Some("Golang x/crypto/ssh server"), None, false),
        ("NULL", b("220 ProFTPD 1.3.8 Server (Debian) [::ffff:198.18.0.1]\r\n"), "ftp", Some("ProFTPD"), Some("1.3.8"), false),
        ("NULL", b("220 ProFTPD Server (ProFTPD)\r\n"), "ftp", Some("ProFTPD"), None, false),
        ("NULL", b("220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------\r\n"), "ftp", Some("Pure-FTPd"), None, false),
        ("NULL", b("220-FileZilla Server 1.7.0\r\n"), "ftp", Some("FileZilla ftpd"), Some("1.7.0"), false),
        ("NULL", b("220 example FTP server ready.\r\n"), "ftp", None, None, false),
        ("NULL", b("220 mail.example.test ESMTP Postfix (Debian/GNU)\r\n"), "smtp", Some("Postfix smtpd"), None, false),
        ("NULL", b("220 mx.example.test ESMTP Exim 4.96 Sun, 22 Nov 2026 11:00:00 +0000\r\n"), "smtp", Some("Exim smtpd"), Some("4.96"), false),
        ("NULL", b("220 mx.example.test ESMTP Sendmail 8.17.1/8.17.1; Sun, 22 Nov 2026\r\n"), "smtp", Some("Sendmail"), Some("8.17.1"), false),
        ("NULL", b("220 mx.example.test ESMTP OpenSMTPD\r\n"), "smtp", Some("OpenSMTPD"), None, false),
        ("NULL", b("220 ex.example.test Microsoft ESMTP MAIL Service ready at Sun\r\n"), "smtp", Some("Microsoft ESMTP"), None, false),
        ("NULL", b("220 smtp.example.test ESMTP ready\r\n"), "smtp", None, None, false),
        ("GenericLines", b("500 5.5.2 Error: bad syntax\r\n"), "smtp", Some("Postfix smtpd"), None, false),
        ("NULL", b("+OK Dovecot (Debian) ready.\r\n"), "pop3", Some("Dovecot pop3d"), None, false),
        ("NULL", b("+OK Hello there. Courier-POP3 ready\r\n"), "pop3", Some("Courier pop3d"), None, false),
        ("NULL", b("+OK POP3 server ready\r\n"), "pop3", None, None, false),
        ("GenericLines", b("-ERR Unknown command.\r\n"), "pop3", None, None, false),
        ("NULL", b("* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot (Debian) ready.\r\n"), "imap", Some("Dovecot imapd"), None, false),
        ("NULL", b("* OK [CAPABILITY IMAP4rev1 UIDPLUS] Courier-IMAP ready.\r\n"), "imap", Some("Courier Imapd"), None, false),
        ("NULL", b("* OK mail.example.test Cyrus IMAP v3.6.1-Debian server ready\r\n"), "imap", Some("Cyrus imapd"), Some("3.6.1-Debian"), false),
        ("NULL", b("* OK IMAP4 ready\r\n"), "imap", None, None, false),
        ("GenericLines", b("* BAD Error in IMAP command\r\n"), "imap", None, None, true),
        ("NULL", mysql_greeting("8.0.35-0ubuntu0.22.04.1"), "mysql", Some("MySQL"), Some("8.0.35"), false),
        ("NULL", b"\x45\0\0\0\xff\x6a\x04Host '198.18.0.9' is not allowed to connect to this MySQL server".to_vec(), "mysql", Some("MySQL"), None, false),
        ("NULL", b"\x17\0\0\0\xff\x10\x04Too many connections".to_vec(), "mysql", None, None, false),
        ("NULL", b"\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27".to_vec(), "telnet", Some("Linux telnetd"), None, false),
        ("NULL", b("RFB 003.008\n"), "vnc", None, None, false),
        ("NULL", b("@RSYNCD: 31.0\n"), "rsync", None, None, false),
        ("NULL", b("INFO {\"server_id\":\"NABC\",\"server_name\":\"n1\",\"version\":\"2.10.7\",\"proto\":1,\"go\":\"go1.21\"}\r\n"), "nats", Some("NATS Server"), Some("2.10.7"), false),
        ("NULL", b(":irc.example.test NOTICE * :*** Looking up your hostname...\r\n"), "irc", None, None, true),
        ("NULL", b("200 news.example.test InterNetNews server INN 2.7.1 ready (posting ok)\r\n"), "nntp", Some("INN"), Some("2.7.1"), false),
        ("NULL", b("201 news.example.test NNTP service ready\r\n"), "nntp", None, None, false),
        ("NULL", b("-DENIED Redis is running in protected mode because protected mode is enabled\r\n"), "redis", Some("Redis key-value store"), None, false),
        ("RedisInfo", b("-DENIED Redis is running in protected mode because protected mode is enabled\r\n"), "redis", Some("Redis key-value store"), None, false),
        ("RedisInfo", b("-NOAUTH Authentication required.\r\n"), "redis", Some("Redis key-value store"), None, false),
        ("RedisInfo", b("$40\r\n# Server\r\nredis_version:6.2.14\r\nredis_git_sha1:0\r\n"), "redis", Some("Redis key-value store"), Some("6.2.14"), false),
        ("MemcachedVersion", b("ERROR\r\n"), "memcached", None, None, false),
        ("GenericLines", b("HTTP/1.1 400 Bad Request\r\n\r\n"), "http", None, None, true),
        ("GenericLines", b("530 Please login with USER and PASS.\r\n"), "ftp", None, None, false),
        ("HttpGet", b("<html><body>hi</body></html>"), "http", None, None, true),
        ("HttpGet", http("Server: nginx"), "http", Some("nginx"), None, false),
        ("HttpGet", http("Server: openresty/1.21.4.3"), "http", Some("OpenResty web app server"), Some("1.21.4.3"), false),
        ("HttpGet", http("Server: Apache/2.4.57 (Debian)"), "http", Some("Apache httpd"), Some("2.4.57"), false),
        ("HttpGet", http("Server: Apache"), "http", Some("Apache httpd"), None, false),
        ("HttpGet", http("Server: Apache-Coyote/1.1"), "http", Some("Apache Tomcat/Coyote JSP engine"), Some("1.1"), false),
        ("HttpGet", http("Server: lighttpd/1.4.69"), "http", Some("lighttpd"), Some("1.4.69"), false),
        ("HttpGet", http("Server: Microsoft-IIS/10.0"), "http", Some("Microsoft IIS httpd"), Some("10.0"), false),
        ("HttpGet", http("Server: Caddy"), "http", Some("Caddy httpd"), None, false),
        ("HttpGet", http("Server: Jetty(9.4.51.v20230217)"), "http", Some("Jetty"), Some("9.4.51.v20230217"), false),
        ("HttpGet", http("Server: gunicorn/20.1.0"), "http", Some("Gunicorn"), Some("20.1.0"), false),
        ("HttpGet", http("Server: uvicorn"), "http", Some("Uvicorn"), None, false),
        ("HttpGet", http("Server: Werkzeug/2.2.2 Python/3.11.2"), "http", Some("Werkzeug httpd"), Some("2.2.2"), false),
        ("HttpGet", http("Server: Kestrel"), "http", Some("Microsoft Kestrel httpd"), None, false),
        ("HttpGet", http("Server: Python/3.11 aiohttp/3.8.4"), "http", Some("aiohttp"), Some("3.8.4"), false),
        ("HttpGet", http("Server: SimpleHTTP/0.6 Python/3.11.2"), "http", Some("SimpleHTTPServer"), Some("0.6"), false),
        ("HttpGet", http("X-Powered-By: Express"), "http", Some("Node.js Express framework"), None, false),
        ("HttpGet", http("Server: Foo/1.2"), "http", Some("Foo"), Some("1.2"), false),
        ("HttpGet", http("Server: Some Server"), "http", Some("Some Server"), None, false),
        ("HttpGet", http("X-Other: 1"), "http", None, None, true),
        ("HttpGet", http("Server: squid/5.7"), "http-proxy", Some("Squid http proxy"), Some("5.7"), false),
        ("HttpGet", http("X-Influxdb-Version: 1.8.10"), "http", Some("InfluxDB"), Some("1.8.10"), false),
        ("HttpGet", http("X-Jenkins: 2.414.1"), "http", Some("Jenkins"), Some("2.414.1"), false),
        ("HttpGet", b("HTTP/1.1 404 Not Found\r\nApi-Version: 1.43\r\nContent-Type: application/json\r\nServer: Docker/24.0.7 (linux)\r\n\r\n{\"message\":\"page not found\"}\n"), "docker", Some("Docker"), Some("24.0.7"), false),
        ("HttpGet", b("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{\n  \"name\" : \"n1\",\n  \"version\" : {\n    \"number\" : \"8.11.1\",\n    \"build_flavor\" : \"default\"\n  },\n  \"tagline\" : \"You Know, for Search\"\n}\n"), "http", Some("Elasticsearch REST API"), Some("8.11.1"), false),
        ("HttpGet", b("HTTP/1.1 200 OK\r\nServer: CouchDB/3.3.2 (Erlang OTP/24)\r\n\r\n{\"couchdb\":\"Welcome\",\"version\":\"3.3.2\",\"git_sha\":\"11a234070\"}\n"), "http", Some("CouchDB"), Some("3.3.2"), false),
        ("HttpGet", b("HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n\r\n{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"forbidden: User \\\"system:anonymous\\\" cannot get path \\\"/\\\"\"}"), "http", Some("Kubernetes API server"), None, false),
        ("HttpVersion", b("HTTP/1.1 200 OK\r\n\r\n{\"etcdserver\":\"3.5.9\",\"etcdcluster\":\"3.5.0\"}"), "http", Some("etcd"), Some("3.5.9"), false),
        ("HttpVersion", b("HTTP/1.1 200 OK\r\n\r\n{\n  \"major\": \"1\",\n  \"minor\": \"28\",\n  \"gitVersion\": \"v1.28.2\",\n  \"goVersion\": \"go1.20.8\",\n  \"platform\": \"linux/amd64\"\n}"), "http", Some("Kubernetes API server"), Some("1.28.2"), false),
        ("HttpVersion", b("HTTP/1.1 200 OK\r\nApi-Version: 1.43\r\n\r\n{\"Platform\":{\"Name\":\"Docker Engine - Community\"},\"Version\":\"24.0.7\",\"ApiVersion\":\"1.43\"}"), "docker", Some("Docker"), Some("24.0.7"), false),
    ]);
}

#[test]
fn binary_protocol_rules_written_from_specifications() {
    let v = |x: &[u8]| x.to_vec();
    check(vec![
        ("PgStartup", v(b"R\0\0\0\x0c\0\0\0\x05abcd"), "postgresql", Some("PostgreSQL DB"), None, false),
        ("PgStartup", v(b"R\0\0\0\x08\0\0\0\0"), "postgresql", None, None, true),
        ("DnsVersionBindTcp", dns_txt(true, "9.18.19-1~deb12u1-Debian"), "domain", Some("ISC BIND"), Some("9.18.19"), false),
        ("DnsVersionBindTcp", dns_txt(true, "unbound 1.17.1"), "domain", Some("Unbound"), Some("1.17.1"), false),
        ("DnsVersionBindTcp", dns_txt(true, "hidden"), "domain", None, None, false),
        ("DnsVersionBindUdp", dns_txt(false, "9.18.19-1~deb12u1-Debian"), "domain", Some("ISC BIND"), Some("9.18.19"), false),
        ("DnsVersionBindUdp", dns_txt(false, "unbound 1.17.1"), "domain", Some("Unbound"), Some("1.17.1"), false),
        ("DnsVersionBindUdp", v(b"\x70\x72\x81\x85\0\x01\0\0\0\0\0\0"), "domain", None, None, false),
        ("MqttConnect", v(b"\x20\x02\x00\x05"), "mqtt", None, None, false),
        ("MqttConnect", v(b"\x20\x02\x00\x00"), "mqtt", None, None, true),
        ("AmqpHeader", {
            let mut m = v(b"\x01\0\0\0\0\x01\x50\0\x0a\0\x0a\0\x09\x01\0\0\x01\x30\x0cinformationS\0\0\0\x02hi\x08platformS\0\0\0\x0bErlang/OTP\x07productS\0\0\0\x08RabbitMQ\x07versionS\0\0\0\x063.12.1");
            m.push(0xce);
            m
        }, "amqp", Some("RabbitMQ"), Some("3.12.1"), false),
        ("AmqpHeader", v(b"\x01\0\0\0\0\0\x10\0\x0a\0\x0a\0\x09\x01\0\0\0\0"), "amqp", None, None, false),
        ("AmqpHeader", v(b"AMQP\0\0\x09\x01"), "amqp", None, None, false),
        ("RdpNeg", v(b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x1f\x08\x00\x02\x00\x00\x00"), "ms-wbt-server", Some("RDP server"), None, false),
        ("SmbNegotiate", v(b"\0\0\0\xf8\xfeSMB\x40\0\x01\0\0\0\0\0\0\0\x01\0"), "microsoft-ds", None, None, false),
        ("SmbNegotiate", v(b"\0\0\0\x55\xffSMBr\0\0\0\0\x98\x01\x28"), "microsoft-ds", None, None, false),
        ("LdapRootDse", v(b"\x30\x0c\x02\x01\x01\x65\x07\x0a\x01\x00\x04\x00\x04\x00"), "ldap", None, None, false),
        ("LdapRootDse", v(b"\x30\x84\0\0\0\x10\x02\x01\x01\x64\x84\0\0\0\x07\x04\0\x30\x84\0\0\0\0"), "ldap", None, None, false),
        ("MongoIsMaster", {
            let mut m = v(b"\x50\0\0\0\x09\0\0\0\x02\0\0\0\x01\0\0\0\x08\0\0\0");
            m.extend_from_slice(b"\0\0\0\0\0\0\0\0\0\0\0\0\x01\0\0\0\x30\0\0\0\x02version\0\x06\0\0\x004.4.29\0\x10ok\0\x01\0\0\0\0");
            m
        }, "mongodb", Some("MongoDB"), Some("4.4.29"), false),
        ("MongoIsMaster", v(b"\x50\0\0\0\x09\0\0\0\x01\0\0\0\x01\0\0\0\x08\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\0\0\0\x30\0\0\0\x08ismaster\0\x01"), "mongodb", Some("MongoDB"), None, false),
        ("KafkaApiVersions", v(b"\0\0\0\x40port\0\0\0\0\0\x30\0\0\0\0\0\x09"), "kafka", Some("Apache Kafka"), None, false),
        ("ZkSrvr", b("Zookeeper version: 3.8.3-6ad6d364c7c0bcf0de452d54ebefa3058098ab56, built on 2023-10-05 10:34 UTC\nLatency min/avg/max: 0/0.0/0\n"), "zookeeper", Some("Apache ZooKeeper"), Some("3.8.3"), false),
        ("ZkSrvr", b("srvr is not executed because it is not in the whitelist.\n"), "zookeeper", Some("Apache ZooKeeper"), None, false),
        ("RtspOptions", b("RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: GStreamer RTSP server\r\n\r\n"), "rtsp", Some("GStreamer rtspd"), None, false),
        ("RtspOptions", b("RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: Wowza Streaming Engine 4.8\r\n\r\n"), "rtsp", Some("Wowza Streaming Engine 4.8"), None, false),
        ("RtspOptions", b("RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\n\r\n"), "rtsp", None, None, false),
        ("SipOptions", b("SIP/2.0 200 OK\r\nVia: x\r\nServer: Asterisk PBX 20.5.0\r\n\r\n"), "sip", Some("Asterisk"), Some("20.5.0"), false),
        ("SipOptions", b("SIP/2.0 200 OK\r\nUser-Agent: FreeSWITCH-mod_sofia/1.10.10-release\r\n\r\n"), "sip", Some("FreeSWITCH"), Some("1.10.10-release"), false),
        ("SipOptions", b("SIP/2.0 200 OK\r\nServer: Kamailio (5.6.4 (x86_64/linux))\r\n\r\n"), "sip", Some("Kamailio SIP server"), Some("5.6.4"), false),
        ("SipOptions", b("SIP/2.0 200 OK\r\nServer: Acme SBC 2\r\n\r\n"), "sip", Some("Acme SBC 2"), None, false),
        ("SipOptionsUdp", b("SIP/2.0 404 Not Found\r\nVia: x\r\n\r\n"), "sip", None, None, false),
        ("XmppStream", b("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='1' from='x' version='1.0'>"), "xmpp-client", None, None, false),
        ("XmppStream", b("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'>"), "xmpp-server", None, None, false),
        ("XmppStream", b("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"), "xmpp", None, None, false),
        ("CqlOptions", v(b"\x84\0\0\x01\x06\0\0\0\x40\0\x03\0\x0bCQL_VERSION\0\x01\0\x053.4.6"), "cassandra-native", Some("Apache Cassandra"), None, false),
        ("TdsPrelogin", v(b"\x04\x01\x00\x2b\x00\x00\x01\x00\x00\x00\x1a\x00\x06\x01\x00\x20\x00\x01\xff\x10\x00\x07\xd0\x00\x00\x02"), "ms-sql-s", Some("Microsoft SQL Server"), None, false),
        ("RpcNull", v(b"\x80\0\0\x18port\0\0\0\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"), "rpcbind", None, None, false),
        ("RpcNullUdp", v(b"port\0\0\0\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"), "rpcbind", None, None, false),
        ("Socks5", v(b"\x05\x00"), "socks5", None, None, false),
        ("X11Setup", v(b"\x01\0\x0b\0\0\0\x20\0"), "X11", None, None, false),
        ("X11Setup", v(b"\x00\x16\x0b\0\0\0\x06\0No protocol specified\n"), "X11", None, None, false),
        ("JavaRmi", v(b"\x4e\0\x09127.0.0.1\0\0\xc3\x50"), "java-rmi", Some("Java RMI"), None, false),
        ("SnmpPublic", {
            let mut m = v(b"\x30\x45\x02\x01\x01\x04\x06public\xa2\x38\x02\x04port\x02\x01\x00\x02\x01\x00\x30\x2a\x30\x28\x06\x08\x2b\x06\x01\x02\x01\x01\x01\x00\x04\x1c");
            m.extend_from_slice(b"Linux gw 6.1.0-13-amd64 #1 x");
            m
        }, "snmp", Some("SNMPv2 server"), None, false),
        ("SnmpPublic", v(b"\x30\x20\x02\x01\x00\x04\x06public\xa2\x13\x02\x04port\x02\x01\x02"), "snmp", Some("SNMP server"), None, false),
        ("NtpClient", { let mut m = vec![0x24u8]; m.extend_from_slice(&[0u8; 47]); m }, "ntp", None, None, false),
        ("StunBinding", v(b"\x01\x01\x00\x18\x21\x12\xa4\x42portolanstun\x80\x22\x00\x0eCoturn-4.6.1 'Gorst'"), "stun", Some("coturn"), Some("4.6.1"), false),
        ("StunBinding", v(b"\x01\x11\x00\x00\x21\x12\xa4\x42portolanstun"), "stun", None, None, false),
        ("TftpRead", v(b"\x00\x05\x00\x01File not found\x00"), "tftp", None, None, false),
        ("TftpRead", v(b"\x00\x03\x00\x01hello"), "tftp", None, None, false),
        ("NbnsStat", {
            let mut m = v(b"\x70\x72\x84\x00\0\0\0\x01\0\0\0\0\x20CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\0\0\x21\0\x01\0\0\0\0\0\x41\x01");
            m.extend_from_slice(b"FILESRV        \x00\x04\x00");
            m
        }, "netbios-ns", None, None, false),
        ("NbnsStat", v(b"\x70\x72\x83\x00\0\0\0\0\0\0\0\0"), "netbios-ns", None, None, false),
        ("SsdpSearch", b("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nSERVER: Linux/5.10 UPnP/1.0 MiniUPnPd/2.3.3\r\n\r\n"), "upnp", Some("Linux/5.10 UPnP/1.0 MiniUPnPd/2.3.3"), None, false),
    ]);
}

#[test]
fn more_services_written_from_specifications() {
    let v = |x: &[u8]| x.to_vec();
    check(vec![
        ("NULL", b("( success ( 2 2 ( ) ( edit-pipeline svndiff1 accepts-svndiff2 absent-entries depth ) ) ) "), "svn", Some("Subversion"), None, false),
        ("NULL", b(" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg\r\n"), "chargen", None, None, false),
        ("NULL", { let mut m = vec![0xffu8; 16]; m.extend_from_slice(b"\x00\x1d\x01\x04\xfd\xe8\x00\xb4\xc6\x12\x00\x01\x00"); m }, "bgp", None, None, false),
        ("NULL", b("220 dict.example.test dictd 1.12.1/rf on Linux 6.1.0-13-amd64 <auth.mime> <100.2.1700000000@dict.example.test>\r\n"), "dict", Some("dictd"), Some("1.12.1"), false),
        ("NULL", b("220 dict.example.test DICT server <mime> <1.2@dict.example.test>\r\n"), "dict", None, None, false),
        ("NULL", b("220 VMware Authentication Daemon Version 1.10: SSL Required, ServerDaemonProtocol:SOAP, MKSDisplayProtocol:VNC , \r\n"), "vmware-auth", Some("VMware Authentication Daemon"), Some("1.10"), false),
        ("HttpGet", b("HTTP/1.1 200 OK\r\nServer: CUPS/2.4 IPP/2.1\r\n\r\n"), "ipp", Some("CUPS"), Some("2.4"), false),
        ("GenericLines", b("\r\n\r\n"), "echo", None, None, false),
        ("BeanstalkStats", b("OK 42\r\n---\ncurrent-jobs-urgent: 0\nversion: \"1.12\"\nrusage-utime: 0.0\n\r\n"), "beanstalkd", Some("beanstalkd"), Some("1.12"), false),
        ("AjpCping", v(b"AB\x00\x01\x09"), "ajp13", Some("Apache Jserv"), None, false),
        ("NfsNull", v(b"\x80\0\0\x18nfs0\0\0\0\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"), "nfs", None, None, false),
        ("JdwpHandshake", b("JDWP-Handshake"), "jdwp", Some("Java Debug Wire Protocol"), None, false),
        ("EpmdNames", v(b"\0\0\x11\x11name rabbit at port 25672\n"), "epmd", Some("Erlang Port Mapper Daemon"), None, false),
        ("EpmdNames", v(b"\0\0\x11\x11"), "epmd", None, None, false),
        ("ModbusDeviceId", v(b"\x70\x72\x00\x00\x00\x03\x00\xab\x01"), "modbus", None, None, false),
        ("CoapWellKnown", v(b"\x60\x45\x70\x72\xc1\x28\xff</sensors>"), "coap", None, None, false),
        ("OpenvpnReset", v(b"\x40ABCDEFGH\x01\x00\x00\x00\x00portolan\x00\x00\x00\x00"), "openvpn", Some("OpenVPN"), None, false),
        ("MssqlBrowser", v(b"\x05\x50\x00ServerName;DB1;InstanceName;MSSQLSERVER;IsClustered;No;Version;15.0.2000.5;tcp;1433;;"), "ms-sql-m", Some("Microsoft SQL Server"), Some("15.0.2000.5"), false),
    ]);
}

/// Each rule's `example` replies (written in the database next to the
/// rule, recorded from real software or written from the specification)
/// are identified by that very rule, not by an earlier one, with the
/// version the example states (and none when it states none).
#[test]
fn every_example_is_identified_by_its_own_rule() {
    let db = Database::builtin().unwrap();
    let mut failures = Vec::new();
    for p in db.probes() {
        for r in &p.rules {
            for ex in &r.examples {
                let shown =
                    String::from_utf8_lossy(&ex.reply[..ex.reply.len().min(100)]).into_owned();
                let Some(id) = identify(&db, &p.name, &ex.reply) else {
                    failures.push(format!("{}: {}: no match for {shown:?}", r.origin, p.name));
                    continue;
                };
                if id.origin != r.origin {
                    failures.push(format!(
                        "{}: {}: {shown:?} is taken by the rule at {}",
                        r.origin, p.name, id.origin
                    ));
                } else if id.version != ex.version {
                    failures.push(format!(
                        "{}: version {:?}, the example says {:?}",
                        r.origin, id.version, ex.version
                    ));
                } else if r.templates.product.is_some() && id.product.is_none() {
                    failures.push(format!("{}: no product for {shown:?}", r.origin));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn zz_every_rule_is_tested() {
    // Runs the other tests' cases again (test order is not guaranteed).
    every_example_is_identified_by_its_own_rule();
    recorded_replies_of_real_daemons();
    banner_rules_written_from_specifications();
    binary_protocol_rules_written_from_specifications();
    more_services_written_from_specifications();
    let db = Database::builtin().unwrap();
    let hit = HIT.lock().unwrap();
    let missing: Vec<String> = db
        .probes()
        .iter()
        .flat_map(|p| p.rules.iter())
        .filter(|r| !hit.contains(&r.origin))
        .map(|r| format!("{} {} {}", r.origin, r.service, r.pattern.source()))
        .collect();
    assert!(
        missing.is_empty(),
        "rules without a test:\n{}",
        missing.join("\n")
    );
}

/// A DNS server (dnsmasq) answers the NBNS node-status query with a DNS
/// error that echoes the question; that is not NetBIOS (it once was taken
/// for it when UDP probes went out together).
#[test]
fn dns_error_echoing_the_question_is_not_netbios() {
    let db = Database::builtin().unwrap();
    let mut reply = b"\x70\x72\x81\x05\0\x01\0\0\0\0\0\0\x20".to_vec();
    reply.extend_from_slice(b"CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\0\0\x21\0\x01");
    assert!(identify(&db, "NbnsStat", &reply).is_none());
}

/// NSCA's init packet is 128 random bytes and a time: the rule once sat
/// among the NULL probe's and claimed any 132-byte banner on any port.
/// Now only the port-bound listen-only probe reads it, softly, and only
/// with a plausible time in the last four bytes.
#[test]
fn an_arbitrary_132_byte_banner_is_not_nsca() {
    let db = Database::builtin().unwrap();
    let mut any = vec![0x5au8; 128];
    any.extend_from_slice(b"\x6a\x51\x7a\x80");
    let null = identify(&db, "NULL", &any);
    assert!(
        null.as_ref().is_none_or(|id| id.service != "nsca"),
        "{null:?}"
    );
    let nsca = identify(&db, "NscaInit", &any).expect("the NSCA probe reads it");
    assert_eq!((nsca.service.as_str(), nsca.soft), ("nsca", true));
    // A time of 0 (or 0xffffffff) is no NSCA daemon's clock.
    for t in [b"\0\0\0\0", b"\xff\xff\xff\xff"] {
        let mut r = vec![0x11u8; 128];
        r.extend_from_slice(t);
        assert!(identify(&db, "NscaInit", &r).is_none());
    }
    // Nor one byte more or less.
    assert!(identify(&db, "NscaInit", &any[1..]).is_none());
    let probe = db.probe("NscaInit").unwrap();
    assert!(probe.payload.is_empty() && probe.rarity == 9 && probe.ports.contains(5667));
}
