//! `kubelet-pods`: the kubelet API lists the node's pods without
//! authentication (`GET /pods`; Kubernetes "Kubelet authentication/
//! authorization" docs). With anonymous access on, the same API runs
//! commands in every container (`/run`, `/exec`): critical.
//!
//! Port 10250 is HTTPS (the kubelet's own certificate, usually
//! self-signed), 10255 the legacy read-only plain-HTTP port; the check
//! tries HTTPS first and plain HTTP second. A kubelet with anonymous
//! access off answers 401, with webhook authorization 403: nothing.

use crate::io::{clean, http_get, HttpResponse};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;
use serde_json::Value;

pub(crate) struct KubeletPods;

static INFO: CheckInfo = CheckInfo {
    id: "kubelet-pods",
    description: "the kubelet API lists pods without authentication",
    category: Category::Safe,
    severity: Severity::Critical,
    references: &[
        "https://kubernetes.io/docs/reference/access-authn-authz/kubelet-authn-authz/",
        "CVE-2018-1002105",
    ],
    services: &["kubelet", "https", "http", "ssl", "ssl/http"],
    ports: &[10250, 10255],
    protocol: Protocol::Tcp,
    plain_only: false,
};

/// The most of a pod list read.
const CAP: usize = 64 * 1024;

impl Check for KubeletPods {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn applies(&self, ctx: &Ctx, by_port: bool) -> bool {
        // Generic web names only on the kubelet's ports: a web server on
        // 443 is not asked for /pods.
        let named = ctx.service.as_deref() == Some("kubelet");
        ctx.protocol == Protocol::Tcp
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
            let r = match crate::tls::https_get(ctx, "/pods", CAP).await {
                Some(r) => r,
                None => http_get(ctx, "/pods", CAP).await?,
            };
            parse(&r)
        })
    }
}

fn parse(r: &HttpResponse) -> Option<Finding> {
    if r.status != 200 {
        return None;
    }
    let v: Value = serde_json::from_slice(&r.body).ok()?;
    if v.get("kind")?.as_str()? != "PodList" {
        return None;
    }
    let pods = v.get("items")?.as_array()?;
    let names = pods.iter().take(20).filter_map(|p| {
        let m = p.get("metadata")?;
        let ns = m.get("namespace").and_then(Value::as_str).unwrap_or("-");
        let name = m.get("name")?.as_str()?;
        Some(ScriptItem::value(clean(&format!("{ns}/{name}"), 120)))
    });
    let items = vec![
        ScriptItem::elem("Pods", pods.len().to_string()),
        ScriptItem::table("pods", names.collect()),
    ];
    Some(Finding::new(
        format!("kubelet lists {} pod(s) without authentication", pods.len()),
        items,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn pod_list_is_a_finding_and_refusals_and_garbage_are_not() {
        let body = r#"{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"etcd-node1","namespace":"kube-system"}}]}"#;
        let f = parse(&resp(200, body)).unwrap();
        assert_eq!(f.summary, "kubelet lists 1 pod(s) without authentication");
        assert!(parse(&resp(401, "Unauthorized")).is_none());
        assert!(parse(&resp(200, r#"{"kind":"Status"}"#)).is_none());
        assert!(parse(&resp(200, r#"{"kind":"PodList","items":7}"#)).is_none());
        assert!(parse(&resp(200, "{\"kind\":\"PodList\",\"items\":[")).is_none());
        assert!(parse(&resp(
            200,
            r#"{"kind":"PodList","items":[1,{"metadata":3}]}"#
        ))
        .is_some());
    }
}
