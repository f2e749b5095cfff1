//! `couchdb-databases`: CouchDB lists its databases to anyone (`GET /`
//! names the server, `GET /_all_dbs` lists the databases; CouchDB's HTTP
//! API documentation). CouchDB 3 keeps `_all_dbs` for admins unless told
//! otherwise; an "admin party" install answers everyone.

use crate::io::clean;
use crate::json_api::{get_json, text};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;
use serde_json::Value;

pub(crate) struct CouchDbDatabases;

static INFO: CheckInfo = CheckInfo {
    id: "couchdb-databases",
    description: "CouchDB lists its databases without authentication",
    category: Category::Safe,
    severity: Severity::High,
    references: &[
        "CVE-2017-12635",
        "https://docs.couchdb.org/en/stable/api/server/common.html",
    ],
    services: &["couchdb", "http"],
    ports: &[5984],
    protocol: Protocol::Tcp,
    plain_only: true,
};

impl Check for CouchDbDatabases {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let root = get_json(ctx, "/").await?;
            if text(&root, "/couchdb")?.as_str() != "Welcome" {
                return None;
            }
            let Value::Array(dbs) = get_json(ctx, "/_all_dbs").await? else {
                return None;
            };
            let names = dbs
                .iter()
                .filter_map(Value::as_str)
                .take(30)
                .map(|n| ScriptItem::value(clean(n, 100)));
            let mut items = vec![ScriptItem::elem(
                "version",
                text(&root, "/version").unwrap_or_default(),
            )];
            items.push(ScriptItem::table("databases", names.collect()));
            Some(Finding::new(
                format!("CouchDB lists {} database(s) to anyone", dbs.len()),
                items,
            ))
        })
    }
}
