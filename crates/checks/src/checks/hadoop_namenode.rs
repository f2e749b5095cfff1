//! `hadoop-namenode-info`: the HDFS NameNode's web port answers its JMX
//! servlet without authentication (`GET /jmx?qry=Hadoop:service=NameNode,
//! name=NameNodeInfo`, Hadoop's JMX JSON servlet and NameNodeInfo MXBean
//! docs). It names the version, the cluster ID and the live DataNodes;
//! without Kerberos (Hadoop "Secure Mode") the same port serves WebHDFS,
//! so anyone reads the file system.

use crate::io::{clean, http_get};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;
use serde_json::Value;

pub(crate) struct HadoopNameNode;

static INFO: CheckInfo = CheckInfo {
    id: "hadoop-namenode-info",
    description: "the Hadoop NameNode answers its JMX info without authentication",
    category: Category::Safe,
    severity: Severity::High,
    references: &[
        "https://hadoop.apache.org/docs/stable/hadoop-project-dist/hadoop-common/SecureMode.html",
    ],
    services: &["hadoop-namenode", "http"],
    ports: &[50070, 9870],
    protocol: Protocol::Tcp,
    plain_only: true,
};

const PATH: &str = "/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo";

impl Check for HadoopNameNode {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn applies(&self, ctx: &Ctx, by_port: bool) -> bool {
        // `http` only on the NameNode's ports.
        let named = ctx.service.as_deref() == Some("hadoop-namenode");
        ctx.protocol == Protocol::Tcp
            && ctx.tunnel.is_none()
            && (named
                || (INFO.ports.contains(&ctx.port)
                    && (by_port
                        || ctx
                            .service
                            .as_deref()
                            .is_some_and(|s| INFO.services.contains(&s)))))
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let r = http_get(ctx, PATH, 64 * 1024).await?;
            if r.status != 200 {
                return None;
            }
            parse(&r.body)
        })
    }
}

fn parse(body: &[u8]) -> Option<Finding> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let bean = v.get("beans")?.as_array()?.iter().find(|b| {
        b.get("name").and_then(Value::as_str) == Some("Hadoop:service=NameNode,name=NameNodeInfo")
    })?;
    let s = |k: &str| bean.get(k).and_then(Value::as_str).map(|t| clean(t, 100));
    let version = s("Version")?;
    let mut items = vec![ScriptItem::elem("Version", version.clone())];
    for (key, label) in [("ClusterId", "Cluster ID"), ("BlockPoolId", "Block pool")] {
        if let Some(t) = s(key) {
            items.push(ScriptItem::elem(label, t));
        }
    }
    // LiveNodes is a JSON object serialised into a string.
    if let Some(live) = s("LiveNodes")
        .and_then(|_| bean.get("LiveNodes")?.as_str())
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
    {
        if let Some(o) = live.as_object() {
            let nodes = o.keys().take(20).map(|k| ScriptItem::value(clean(k, 100)));
            items.push(ScriptItem::table("Live DataNodes", nodes.collect()));
        }
    }
    let short = version.split(',').next().unwrap_or(&version).to_string();
    Some(Finding::new(
        format!("Hadoop NameNode {short} answers without authentication"),
        items,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namenode_info_is_a_finding_and_garbage_is_not() {
        let body = r#"{"beans":[{"name":"Hadoop:service=NameNode,name=NameNodeInfo","Version":"3.3.6, r1be7823","ClusterId":"CID-1","LiveNodes":"{\"dn1:9866\":{\"infoAddr\":\"x\"}}"}]}"#;
        let f = parse(body.as_bytes()).unwrap();
        assert_eq!(
            f.summary,
            "Hadoop NameNode 3.3.6 answers without authentication"
        );
        assert!(f.items.contains(&ScriptItem::table(
            "Live DataNodes",
            vec![ScriptItem::value("dn1:9866")]
        )));
        assert!(parse(br#"{"beans":[]}"#).is_none());
        assert!(parse(
            br#"{"beans":[{"name":"Hadoop:service=NameNode,name=NameNodeInfo","LiveNodes":"{"}]}"#
        )
        .is_none());
        assert!(parse(br#"{"beans":[{"name":"Hadoop:service=NameNode,name=NameNodeInfo","Version":"1","LiveNodes":"{["}]}"#).is_some());
        assert!(parse(b"<html>").is_none());
        assert!(parse(br#"{"beans":5}"#).is_none());
    }
}
