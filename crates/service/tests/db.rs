//! The database parser: the built-in file, merging, and malformed input
//! (every error names the file, the line and the reason).

use portolan_service::{Database, DbError, Transport};

#[test]
fn builtin_parses_and_covers_the_required_services() {
    let db = Database::builtin().expect("built-in database");
    assert!(db.rule_count() >= 1000, "{} rules", db.rule_count());
    let services = db.services();
    assert!(services.len() >= 250, "{} services", services.len());
    for s in [
        "ssh",
        "ftp",
        "smtp",
        "pop3",
        "imap",
        "telnet",
        "http",
        "domain",
        "mysql",
        "postgresql",
        "redis",
        "mongodb",
        "memcached",
        "ms-wbt-server",
        "vnc",
        "microsoft-ds",
        "ldap",
        "snmp",
        "ntp",
        "mqtt",
        "amqp",
        "sip",
        "rtsp",
        "docker",
        "kafka",
        "zookeeper",
        "isakmp",
        "nrpe",
        "mumble",
        "modbus",
        "bacnet",
    ] {
        assert!(services.contains(&s), "no rule for {s}");
    }
    let null = db.probe("NULL").expect("NULL probe");
    assert!(null.payload.is_empty());
    assert!(null.tls_ports.contains(443));
    let dns = db.probe("DnsVersionBindUdp").expect("DNS probe");
    assert_eq!(dns.transport, Transport::Udp);
    assert!(dns.ports.contains(53));
}

#[test]
fn payload_escapes() {
    let db = Database::parse(
        "probe P tcp \"a\\r\\n\\t\\0\\\\\\\"\\x00\\xfF\"\nmatch x /^a/\n",
        "t.db",
    )
    .unwrap();
    assert_eq!(db.probe("P").unwrap().payload, b"a\r\n\t\0\\\"\x00\xff");
}

#[test]
fn probe_settings_and_templates() {
    let text = r#"
# comment
probe NULL tcp ""
probe Q tcp "hi"
  wait 250ms
  rarity 7
  ports 1,5-7
  tls-ports 443
  fallback NULL
match svc |^x(\d+)y(\w*)|is
  product "P $1"
  version "$2"
  info "a \"quoted\" $$"
  cpe "cpe:/a:x:y:$1"
  cpe "cpe:/o:z"
soft other /^z/
"#;
    let db = Database::parse(text, "t.db").unwrap();
    let q = db.probe("Q").unwrap();
    assert_eq!(q.wait.as_millis(), 250);
    assert_eq!(q.rarity, 7);
    assert!(q.ports.contains(6) && !q.ports.contains(8));
    assert_eq!(q.fallback, vec!["NULL".to_string()]);
    assert_eq!(q.rules.len(), 2);
    assert!(q.rules[1].soft);
    let r = &q.rules[0];
    assert_eq!(r.templates.product.as_deref(), Some("P $1"));
    assert_eq!(r.templates.info.as_deref(), Some("a \"quoted\" $$"));
    assert_eq!(r.templates.cpe.len(), 2);
    assert_eq!(r.origin, "t.db:10");
    let id = r
        .apply(&portolan_service::Subject::new(b"X12Y\xffab"))
        .unwrap()
        .expect("caseless match");
    assert_eq!(id.product.as_deref(), Some("P 12"));
    assert_eq!(
        id.version.as_deref(),
        None,
        "\\w* matched nothing: empty field dropped"
    );
    assert_eq!(id.info.as_deref(), Some("a \"quoted\" $"));
}

fn err(text: &str) -> (usize, String) {
    match Database::parse(text, "user.db") {
        Err(DbError::Syntax { file, line, reason }) => {
            assert_eq!(file, "user.db");
            let shown = DbError::Syntax {
                file,
                line,
                reason: reason.clone(),
            }
            .to_string();
            assert!(shown.starts_with(&format!("user.db:{line}: ")), "{shown}");
            (line, reason)
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("accepted malformed text:\n{text}"),
    }
}

#[test]
fn malformed_files_name_line_and_reason() {
    let p = "probe P tcp \"x\"\n";
    let cases: &[(&str, usize, &str)] = &[
        ("bogus line\n", 1, "unknown keyword `bogus`"),
        ("match x /a/\n", 1, "before any `probe`"),
        ("wait 5s\n", 1, "before any `probe`"),
        ("probe P\n", 1, "needs a transport"),
        ("probe P sctp \"x\"\n", 1, "not `sctp`"),
        ("probe P tcp\n", 1, "quoted payload"),
        ("probe P tcp \"x\n", 1, "no closing quote"),
        ("probe P tcp \"\\q\"\n", 1, "unknown escape `\\q`"),
        ("probe P tcp \"\\x4\"\n", 1, "bad escape"),
        ("probe P udp \"\"\n", 1, "needs a payload"),
        ("probe P! tcp \"\"\n", 1, "bad probe name `P!`"),
        ("probe P tcp \"x\"\nprobe P tcp \"y\"\n", 2, "defined twice"),
        (&format!("{p}wait 5\n"), 2, "not `5`"),
        (&format!("{p}wait 99s\n"), 2, "at most 60 s"),
        (&format!("{p}rarity 0\n"), 2, "rarity must be 1-9, not `0`"),
        (&format!("{p}ports 80,9x\n"), 2, "bad port `9x`"),
        (
            &format!("{p}ports 90-80\n"),
            2,
            "reversed port range `90-80`",
        ),
        (&format!("{p}ports 70000\n"), 2, "bad port `70000`"),
        (&format!("{p}fallback\n"), 2, "needs probe names"),
        (
            &format!("{p}\n\nmatch x\n"),
            4,
            "needs a service name and a pattern",
        ),
        (
            &format!("{p}match x abc\n"),
            2,
            "must start with a delimiter",
        ),
        (&format!("{p}match x /abc\n"), 2, "no closing `/`"),
        (
            &format!("{p}match x /abc/q\n"),
            2,
            "unknown pattern flag `q`",
        ),
        (
            &format!("{p}match x /abc/ product \"a\"\n"),
            2,
            "templates go on their own lines",
        ),
        (&format!("{p}match x /a(b/\n"), 2, "bad pattern `a(b`"),
        (&format!("{p}match x //\n"), 2, "empty pattern"),
        (&format!("{p}match x? /a/\n"), 2, "bad service name `x?`"),
        (&format!("{p}product \"a\"\n"), 2, "before any `match`"),
        (
            &format!("{p}match x /(a)/\nproduct \"$2\"\n"),
            3,
            "uses $2 but the pattern has 1 group",
        ),
        (
            &format!("{p}match x /(a)/\nproduct \"$x\"\n"),
            3,
            "must be followed by 1-9",
        ),
        (
            &format!("{p}match x /(a)/\nproduct a\n"),
            3,
            "expected a quoted string",
        ),
        (
            &format!("{p}match x /(a)/\nproduct \"a\" b\n"),
            3,
            "unexpected `b`",
        ),
        (
            &format!("{p}match x /(a)/\nproduct \"a\"\nproduct \"b\"\n"),
            4,
            "given twice",
        ),
        (&format!("{p}unique \"a\"\n"), 2, "2 or more letters"),
        (&format!("{p}unique \"ab-cd\"\n"), 2, "not `ab-cd`"),
        (
            &format!("{p}unique \"nope\"\n"),
            2,
            "`nope` is not in the payload",
        ),
    ];
    for (text, line, reason) in cases {
        let (l, r) = err(text);
        assert_eq!(l, *line, "line for {text:?}: {r}");
        assert!(
            r.contains(reason),
            "reason for {text:?}: `{r}` lacks `{reason}`"
        );
    }
    let mut db = Database::builtin().unwrap();
    let user = Database::parse(
        "probe P tcp \"x\"\nfallback NULL\nprobe Q tcp \"y\"\nfallback Nope\n",
        "user.db",
    )
    .unwrap();
    let n = db.probes().len();
    match db.merge(user) {
        Err(DbError::Syntax { file, line, reason }) => {
            assert_eq!((file.as_str(), line), ("user.db", 3));
            assert!(reason.contains("unknown probe `Nope`"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(db.probes().len(), n, "a failed merge changes nothing");
}

#[test]
fn from_file_reports_io_and_encoding_errors() {
    let missing = std::path::Path::new("/nonexistent/portolan.db");
    assert!(matches!(
        Database::from_file(missing),
        Err(DbError::Io { .. })
    ));
    let dir = std::env::temp_dir().join(format!("portolan-service-db-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.db");
    std::fs::write(&f, b"probe P tcp \"x\"\n# \xff\n").unwrap();
    match Database::from_file(&f) {
        Err(DbError::Syntax { line, reason, .. }) => {
            assert_eq!(line, 2);
            assert!(reason.contains("UTF-8"));
        }
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn merge_puts_user_rules_first_and_adds_probes() {
    let mut db = Database::builtin().unwrap();
    let before = db.probe("NULL").unwrap().rules.len();
    let user = Database::parse(
        "probe NULL tcp \"\"\n  wait 2s\n  ports 2222\nmatch ssh /^SSH-2\\.0-Custom/\n  product \"Custom\"\nprobe Mine tcp \"hello\\n\"\nmatch mine /^olleh/\n",
        "user.db",
    )
    .unwrap();
    db.merge(user).unwrap();
    let null = db.probe("NULL").unwrap();
    assert_eq!(null.rules.len(), before + 1);
    assert_eq!(null.rules[0].templates.product.as_deref(), Some("Custom"));
    assert!(null.ports.contains(2222) && null.tls_ports.contains(443));
    assert_eq!(null.wait.as_secs(), 2);
    assert!(db.probe("Mine").is_some());
}

/// `unique "WORD"`: every connection sends the payload with the word
/// replaced by a fresh one of the same length (the IRC nick: a server
/// answers a nick still held by an earlier connection with 433, which
/// names no daemon).
#[test]
fn unique_word_is_fresh_on_every_connection() {
    let db = Database::parse(
        "probe P tcp \"NICK portolan\\r\\nUSER portolan 0 * :portolan\\r\\n\"\nunique \"portolan\"\nmatch x /a/\n",
        "t.db",
    )
    .unwrap();
    let p = db.probe("P").unwrap();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..1000 {
        let sent = p.payload_for_connection().into_owned();
        assert_eq!(sent.len(), p.payload.len());
        let text = String::from_utf8(sent).unwrap();
        let nick = text
            .strip_prefix("NICK ")
            .and_then(|t| t.split("\r\n").next())
            .unwrap()
            .to_string();
        assert_eq!(nick.len(), 8);
        assert!(nick.as_bytes()[0].is_ascii_lowercase(), "{nick}");
        assert!(nick.bytes().all(|b| b.is_ascii_alphanumeric()), "{nick}");
        assert_eq!(text, format!("NICK {nick}\r\nUSER {nick} 0 * :{nick}\r\n"));
        assert!(seen.insert(nick), "a word came twice");
    }
    // The built-in IRC probe registers with a fresh nick.
    let builtin = Database::builtin().unwrap();
    let irc = builtin.probe("IrcRegister").unwrap();
    assert_eq!(irc.unique.as_deref(), Some(&b"portolan"[..]));
    assert_ne!(irc.payload_for_connection(), irc.payload_for_connection());
    // Without `unique`, the payload goes as written.
    let plain = builtin.probe("HttpGet").unwrap();
    assert_eq!(&*plain.payload_for_connection(), &plain.payload[..]);
}
