//! Checks for services with no Debian package (Elasticsearch, CouchDB,
//! Docker), run against servers on 127.0.0.1 that answer with replies
//! written for these tests from each product's public API documentation
//! (not captured from real servers): once as an open server, once as a
//! secured one. Also hostile servers: a trickle, a flood and garbage must
//! end in nothing, within the check timeout.

mod loopback;
use loopback::{check, http, serve_http};
use std::time::{Duration, Instant};

type Reply = fn(&str) -> Vec<u8>;

const SECOND: Duration = Duration::from_secs(1);

// Elasticsearch REST API: `GET /` and `GET /_cat/indices?format=json`.
fn es_open(path: &str) -> Vec<u8> {
    match path {
        "/" => http(
            "200 OK",
            r#"{"name":"node-1","cluster_name":"prod-logs","cluster_uuid":"x1","version":{"number":"8.11.1","build_flavor":"default","lucene_version":"9.8.0"},"tagline":"You Know, for Search"}"#,
        ),
        "/_cat/indices?format=json" => http(
            "200 OK",
            r#"[{"health":"green","status":"open","index":"customers","uuid":"u1","pri":"1","rep":"1","docs.count":"1200"}]"#,
        ),
        _ => http("404 Not Found", "{}"),
    }
}

fn es_secured(_: &str) -> Vec<u8> {
    http(
        "401 Unauthorized",
        r#"{"error":{"root_cause":[{"type":"security_exception","reason":"missing authentication credentials for REST request [/]"}],"type":"security_exception"},"status":401}"#,
    )
}

#[test]
fn elasticsearch_open_is_a_finding_and_secured_is_not() {
    let found = check("elasticsearch-info", "http", serve_http(es_open), SECOND);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].output.contains("cluster_name: prod-logs"),
        "{}",
        found[0].output
    );
    assert!(
        found[0].output.contains("customers (1200 documents)"),
        "{}",
        found[0].output
    );
    assert!(check("elasticsearch-info", "http", serve_http(es_secured), SECOND).is_empty());
}

// CouchDB: `GET /` welcomes everyone; `GET /_all_dbs` is for admins
// unless the install is an "admin party".
fn couch_open(path: &str) -> Vec<u8> {
    match path {
        "/" => http(
            "200 OK",
            r#"{"couchdb":"Welcome","version":"3.3.2","vendor":{"name":"The Apache Software Foundation"}}"#,
        ),
        "/_all_dbs" => http("200 OK", r#"["_users","orders"]"#),
        _ => http(
            "404 Object Not Found",
            r#"{"error":"not_found","reason":"missing"}"#,
        ),
    }
}

fn couch_secured(path: &str) -> Vec<u8> {
    match path {
        "/" => couch_open(path),
        _ => http(
            "401 Unauthorized",
            r#"{"error":"unauthorized","reason":"You are not a server admin."}"#,
        ),
    }
}

#[test]
fn couchdb_open_is_a_finding_and_secured_is_not() {
    let found = check("couchdb-databases", "http", serve_http(couch_open), SECOND);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].summary, "CouchDB lists 2 database(s) to anyone");
    assert!(check(
        "couchdb-databases",
        "http",
        serve_http(couch_secured),
        SECOND
    )
    .is_empty());
}

// Docker Engine API `GET /version`; a TLS-only daemon answers a plain
// request with Go's "HTTP request to an HTTPS server" 400.
fn docker_open(_: &str) -> Vec<u8> {
    http(
        "200 OK",
        r#"{"Platform":{"Name":"Docker Engine - Community"},"Version":"24.0.7","ApiVersion":"1.43","MinAPIVersion":"1.12","Os":"linux","Arch":"amd64","KernelVersion":"6.1.0"}"#,
    )
}

fn docker_tls(_: &str) -> Vec<u8> {
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n".to_vec()
}

#[test]
fn docker_api_open_is_critical_and_tls_only_is_nothing() {
    let found = check("docker-version", "http", serve_http(docker_open), SECOND);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].severity, portolan_model::Severity::Critical);
    assert!(found[0].output.contains("ApiVersion: 1.43"));
    assert!(check("docker-version", "http", serve_http(docker_tls), SECOND).is_empty());
}

/// A server that never answers, one that floods, and one that answers
/// garbage: every default check ends by its timeout with nothing.
#[test]
fn hostile_servers_cost_at_most_the_timeout() {
    fn stall(_: &str) -> Vec<u8> {
        std::thread::sleep(Duration::from_secs(30));
        Vec::new()
    }
    fn flood(_: &str) -> Vec<u8> {
        let mut v = b"HTTP/1.1 200 OK\r\n\r\n{\"cluster_name\":\"".to_vec();
        v.resize(4 << 20, b'a');
        v
    }
    fn garbage(_: &str) -> Vec<u8> {
        (0..=255u8).cycle().take(70_000).collect()
    }
    let all = "default";
    for reply in [stall as Reply, flood, garbage] {
        let port = serve_http(reply);
        let t = Instant::now();
        let found = check(all, "http", port, Duration::from_millis(800));
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "took {:?}",
            t.elapsed()
        );
        assert!(found.is_empty(), "{found:#?}");
    }
}
