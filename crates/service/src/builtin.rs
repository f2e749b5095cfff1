//! The built-in database: several files, one per protocol family, read
//! in order as one database.
//!
//! One file of a thousand rules is hard to review and to keep in order, so
//! each family (mail, web, databases, …) has its own file under
//! `data/services/`, and its probes sit next to the rules that read their
//! replies. The first two files define the probes every family shares
//! (NULL and GenericLines in `portolan-services.db`, HttpGet in
//! `web.db`); a later file adds rules to them with
//! `probe NAME` alone, and its rules come after those of earlier files.
//! That is why the catch-all rules (a bare `220 … FTP`, any `Server:`
//! header) are in the last file: a product rule of any family is tried
//! before them.

use crate::db::{Database, DbError};

/// The built-in files (name, text), in the order they are read.
pub const FILES: &[(&str, &str)] = &[
    (
        "portolan-services.db",
        include_str!("../data/portolan-services.db"),
    ),
    ("services/web.db", include_str!("../data/services/web.db")),
    (
        "services/remote.db",
        include_str!("../data/services/remote.db"),
    ),
    (
        "services/files.db",
        include_str!("../data/services/files.db"),
    ),
    ("services/mail.db", include_str!("../data/services/mail.db")),
    (
        "services/databases.db",
        include_str!("../data/services/databases.db"),
    ),
    (
        "services/messaging.db",
        include_str!("../data/services/messaging.db"),
    ),
    (
        "services/network.db",
        include_str!("../data/services/network.db"),
    ),
    (
        "services/directory.db",
        include_str!("../data/services/directory.db"),
    ),
    (
        "services/monitoring.db",
        include_str!("../data/services/monitoring.db"),
    ),
    (
        "services/industrial.db",
        include_str!("../data/services/industrial.db"),
    ),
    (
        "services/generic.db",
        include_str!("../data/services/generic.db"),
    ),
];

/// Reads [`FILES`] in order into one database.
pub fn load() -> Result<Database, DbError> {
    let mut db = Database::default();
    for (name, text) in FILES {
        let file = Database::parse_part(text, &format!("<builtin>/{name}"))?;
        append(&mut db, file)?;
    }
    db.check_fallbacks()?;
    Ok(db)
}

/// Adds a later built-in file: new probes are appended; `probe NAME`
/// alone adds its hints, and its rules after the existing rules.
fn append(db: &mut Database, file: Database) -> Result<(), DbError> {
    for p in file.probes {
        match db.probes.iter_mut().find(|o| o.name == p.name) {
            Some(old) if p.reopened => {
                old.ports.extend(&p.ports);
                old.tls_ports.extend(&p.tls_ports);
                old.rules.extend(p.rules);
            }
            Some(_) => {
                return Err(DbError::Syntax {
                    file: p.src_file.clone(),
                    line: p.src_line,
                    reason: format!(
                        "probe `{}` is defined in an earlier file (write `probe {}` alone to add to it)",
                        p.name, p.name
                    ),
                })
            }
            None if p.reopened => return Err(p.unknown_reopened()),
            None => db.probes.push(p),
        }
    }
    Ok(())
}
