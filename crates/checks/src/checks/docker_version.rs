//! `docker-version`: the Docker Engine API answers without TLS client
//! authentication (`GET /version`, Docker Engine API reference). Anyone
//! who can call it can start a privileged container: root on the host.

use crate::json_api::{get_json, text};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;

pub(crate) struct DockerVersion;

static INFO: CheckInfo = CheckInfo {
    id: "docker-version",
    description: "the Docker Engine API answers without authentication",
    category: Category::Safe,
    severity: Severity::Critical,
    references: &["https://docs.docker.com/engine/security/protect-access/"],
    services: &["docker", "http"],
    ports: &[2375],
    protocol: Protocol::Tcp,
    plain_only: true,
};

impl Check for DockerVersion {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let v = get_json(ctx, "/version").await?;
            let api = text(&v, "/ApiVersion")?;
            let mut items = vec![ScriptItem::elem("ApiVersion", api)];
            for key in ["Version", "Os", "Arch", "KernelVersion"] {
                if let Some(t) = text(&v, &format!("/{key}")) {
                    items.push(ScriptItem::elem(key, t));
                }
            }
            Some(Finding::new(
                "Docker API answers without authentication",
                items,
            ))
        })
    }
}
