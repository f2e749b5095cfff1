//! The store's schema and its numbered migrations.
//!
//! Why numbered migrations: a store outlives the binary that created it,
//! so every change to the schema is a new entry at the end of
//! [`MIGRATIONS`], applied in order in one transaction, and the version
//! reached is kept in `portolan_meta`. A store whose version is newer
//! than this build knows is refused rather than misread, and a database
//! that holds another program's tables is never written to.
//!
//! Tables are prefixed `portolan_` so that a team's PostgreSQL database
//! can hold them beside others. Per host, the ports in the host's most
//! common state (nmap's "Not shown" ports) are not stored one by one:
//! the host row keeps that state and reason, and the scan's coverage
//! (`portolan_scan_ports`) says which ports it stands for. A host's OS
//! answer is its JSON form in `portolan_hosts.os`, its check results
//! (`-sC`, risk hints) theirs in `portolan_hosts.scripts`. The shards of one
//! sharded scan share a `scan_group` (`--scan-id`).

use crate::conn::{Backend, Conn};
use crate::StoreError;

/// The migrations, in order; `{ID}` is the backend's auto-numbered key.
const MIGRATIONS: &[&str] = &[
    // 1: scans, their coverage, tags, hosts, names and ports.
    "CREATE TABLE portolan_scans (
        id {ID},
        args TEXT NOT NULL,
        version TEXT NOT NULL,
        start_time BIGINT NOT NULL,
        end_time BIGINT,
        elapsed DOUBLE PRECISION,
        seed TEXT,
        shard TEXT,
        status TEXT NOT NULL,
        error TEXT,
        targets TEXT NOT NULL,
        source TEXT NOT NULL,
        hosts_up BIGINT,
        hosts_down BIGINT
    );
    CREATE INDEX portolan_scans_start ON portolan_scans (start_time);
    CREATE TABLE portolan_scan_ports (
        scan_id BIGINT NOT NULL REFERENCES portolan_scans (id),
        scan_type TEXT NOT NULL,
        protocol TEXT NOT NULL,
        num_services BIGINT NOT NULL,
        services TEXT NOT NULL
    );
    CREATE INDEX portolan_scan_ports_scan ON portolan_scan_ports (scan_id);
    CREATE TABLE portolan_tags (
        name TEXT PRIMARY KEY,
        scan_id BIGINT NOT NULL REFERENCES portolan_scans (id)
    );
    CREATE TABLE portolan_hosts (
        id {ID},
        scan_id BIGINT NOT NULL REFERENCES portolan_scans (id),
        addr TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT NOT NULL,
        reason_ttl BIGINT NOT NULL,
        mac TEXT,
        mac_vendor TEXT,
        latency_us BIGINT,
        start_time BIGINT NOT NULL,
        end_time BIGINT NOT NULL,
        timed_out BIGINT NOT NULL,
        extra_state TEXT,
        extra_reason TEXT,
        os TEXT
    );
    CREATE INDEX portolan_hosts_scan ON portolan_hosts (scan_id);
    CREATE INDEX portolan_hosts_addr ON portolan_hosts (addr);
    CREATE TABLE portolan_hostnames (
        host_id BIGINT NOT NULL REFERENCES portolan_hosts (id),
        name TEXT NOT NULL,
        kind TEXT NOT NULL
    );
    CREATE INDEX portolan_hostnames_host ON portolan_hostnames (host_id);
    CREATE TABLE portolan_ports (
        host_id BIGINT NOT NULL REFERENCES portolan_hosts (id),
        protocol TEXT NOT NULL,
        port BIGINT NOT NULL,
        state TEXT NOT NULL,
        reason TEXT NOT NULL,
        reason_ttl BIGINT NOT NULL,
        service TEXT,
        product TEXT,
        version TEXT,
        extrainfo TEXT,
        hostname TEXT,
        ostype TEXT,
        devicetype TEXT,
        tunnel TEXT,
        method TEXT,
        conf BIGINT,
        cpe TEXT,
        certificate TEXT,
        findings TEXT
    );
    CREATE INDEX portolan_ports_host ON portolan_ports (host_id);",
    // 2: the shards of one scan (`--scan-id`) share a group.
    "ALTER TABLE portolan_scans ADD COLUMN scan_group TEXT;
    CREATE INDEX portolan_scans_group ON portolan_scans (scan_group);",
    // 3: a host's check results and risk hints (host and port ones), as
    // JSON.
    "ALTER TABLE portolan_hosts ADD COLUMN scripts TEXT;",
    // 4: hosts with nothing to say (every port in one unanswered state,
    // no name, MAC, latency, OS or check result: the silent addresses of
    // a -Pn sweep) as address lists, one row per batch and kind.
    "CREATE TABLE portolan_silent (
        scan_id BIGINT NOT NULL REFERENCES portolan_scans (id),
        status TEXT NOT NULL,
        reason TEXT NOT NULL,
        extra_state TEXT,
        extra_reason TEXT,
        start_time BIGINT NOT NULL,
        end_time BIGINT NOT NULL,
        addrs TEXT NOT NULL
    );
    CREATE INDEX portolan_silent_scan ON portolan_silent (scan_id);",
    // 5: no index on host addresses. No query reads hosts by address
    // (timelines load whole scans by id), and keeping it cost a /16
    // sweep's recording most of its time in a store of some hundred
    // scans: each up host's row landed on another page of the index.
    "DROP INDEX IF EXISTS portolan_hosts_addr;",
];

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the store to [`SCHEMA_VERSION`], or refuses it (see the module
/// docs). `name` names the store in errors.
pub(crate) fn migrate(conn: &mut dyn Conn, name: &str) -> Result<(), StoreError> {
    let found = current_version(conn, name)?;
    if found == Some(SCHEMA_VERSION) {
        return Ok(());
    }
    if let Some(v) = found.filter(|&v| v > SCHEMA_VERSION) {
        return Err(newer(name, v));
    }
    conn.begin_exclusive()?;
    let result = apply(conn, name);
    match result {
        Ok(()) => conn.batch("COMMIT"),
        Err(e) => {
            let _ = conn.batch("ROLLBACK");
            Err(e)
        }
    }
}

fn apply(conn: &mut dyn Conn, name: &str) -> Result<(), StoreError> {
    // Again under the lock: another process may have migrated meanwhile.
    let from = current_version(conn, name)?.unwrap_or(0);
    if from > SCHEMA_VERSION {
        return Err(newer(name, from));
    }
    if from == 0 {
        conn.batch(
            "CREATE TABLE portolan_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
             INSERT INTO portolan_meta (name, value) VALUES ('schema_version', '0');",
        )?;
    }
    let id = conn.backend().id_column();
    for sql in &MIGRATIONS[from as usize..] {
        conn.batch(&sql.replace("{ID}", id))?;
    }
    conn.exec(
        "UPDATE portolan_meta SET value = $1 WHERE name = 'schema_version'",
        &[crate::value::Value::text(SCHEMA_VERSION.to_string())],
    )?;
    Ok(())
}

fn newer(name: &str, found: i64) -> StoreError {
    StoreError::NewerSchema {
        store: name.to_owned(),
        found,
        supported: SCHEMA_VERSION,
    }
}

/// The store's schema version; `None` for an empty database. A database
/// with tables but no `portolan_meta` (SQLite: any table; PostgreSQL: a
/// `portolan_` table, since a shared database holds others' tables) is
/// foreign.
fn current_version(conn: &mut dyn Conn, name: &str) -> Result<Option<i64>, StoreError> {
    let tables = conn.tables()?;
    if !tables.iter().any(|t| t == "portolan_meta") {
        let foreign = match conn.backend() {
            Backend::Sqlite => !tables.is_empty(),
            Backend::Postgres => tables.iter().any(|t| t.starts_with("portolan_")),
        };
        if foreign {
            return Err(StoreError::Foreign {
                store: name.to_owned(),
            });
        }
        return Ok(None);
    }
    let rows = conn.query(
        "SELECT value FROM portolan_meta WHERE name = 'schema_version'",
        &[],
    )?;
    let v = rows
        .first()
        .and_then(|r| r.str(0).parse::<i64>().ok())
        .ok_or_else(|| StoreError::Foreign {
            store: name.to_owned(),
        })?;
    Ok(Some(v))
}
