//! `elasticsearch-info`: Elasticsearch or OpenSearch answers its REST API
//! without authentication: `GET /` (cluster name and version, from the
//! product's REST API documentation) and `GET /_cat/indices?format=json`
//! (every index, with its document count). A cluster with security on
//! answers 401 and the check reports nothing.

use crate::json_api::{get_json, text};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;

pub(crate) struct ElasticsearchInfo;

static INFO: CheckInfo = CheckInfo {
    id: "elasticsearch-info",
    description: "Elasticsearch/OpenSearch answers its REST API without authentication",
    category: Category::Safe,
    severity: Severity::High,
    references: &[
        "https://www.elastic.co/guide/en/elasticsearch/reference/current/secure-cluster.html",
    ],
    services: &["elasticsearch", "opensearch", "http", "wap-wsp"],
    ports: &[9200],
    protocol: Protocol::Tcp,
    plain_only: true,
};

/// The most indices listed.
const SHOWN: usize = 20;

impl Check for ElasticsearchInfo {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let root = get_json(ctx, "/").await?;
            let cluster = text(&root, "/cluster_name")?;
            let version = text(&root, "/version/number")?;
            let mut items = vec![
                ScriptItem::elem("cluster_name", cluster),
                ScriptItem::elem("version", version),
            ];
            if let Some(d) = text(&root, "/version/distribution") {
                items.push(ScriptItem::elem("distribution", d));
            }
            if let Some(serde_json::Value::Array(list)) =
                get_json(ctx, "/_cat/indices?format=json").await
            {
                let shown = list.iter().take(SHOWN).filter_map(|i| {
                    let name = text(i, "/index")?;
                    let docs = text(i, "/docs.count").unwrap_or_else(|| "?".into());
                    Some(ScriptItem::value(format!("{name} ({docs} documents)")))
                });
                items.push(ScriptItem::table("indices", shown.collect()));
                items.push(ScriptItem::elem("index count", list.len().to_string()));
            }
            Some(Finding::new(
                "Elasticsearch answers without authentication",
                items,
            ))
        })
    }
}
