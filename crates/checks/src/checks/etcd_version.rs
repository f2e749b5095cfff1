//! `etcd-version`: etcd answers its client API without client
//! certificates (`GET /version`; `GET /v2/keys/` when the v2 API is on;
//! etcd's API and security documentation). Without client authentication
//! every key, secrets included, is readable and writable.

use crate::io::clean;
use crate::json_api::{get_json, text};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;
use serde_json::Value;

pub(crate) struct EtcdVersion;

static INFO: CheckInfo = CheckInfo {
    id: "etcd-version",
    description: "etcd answers its client API without client authentication",
    category: Category::Safe,
    severity: Severity::High,
    references: &["https://etcd.io/docs/v3.5/op-guide/security/"],
    services: &["etcd", "etcd-client", "http"],
    ports: &[2379],
    protocol: Protocol::Tcp,
    plain_only: true,
};

impl Check for EtcdVersion {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let v = get_json(ctx, "/version").await?;
            let server = text(&v, "/etcdserver")?;
            let mut items = vec![ScriptItem::elem("etcdserver", server)];
            if let Some(c) = text(&v, "/etcdcluster") {
                items.push(ScriptItem::elem("etcdcluster", c));
            }
            if let Some(keys) = get_json(ctx, "/v2/keys/").await {
                if let Some(Value::Array(nodes)) = keys.pointer("/node/nodes") {
                    let names = nodes.iter().filter_map(|n| n.get("key")?.as_str()).take(20);
                    let names = names.map(|k| ScriptItem::value(clean(k, 100)));
                    items.push(ScriptItem::table("v2 keys", names.collect()));
                }
            }
            Some(Finding::new(
                "etcd answers without client authentication",
                items,
            ))
        })
    }
}
