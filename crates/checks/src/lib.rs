//! Portolan's checks (`-sC`, `--script`): small read-only probes that
//! prove what an exposed service gives away, and the risk table that says
//! why an exposed port matters even where no check exists.
//!
//! Each check is one module under `checks/` implementing [`Check`]: it
//! declares the services it applies to (by `-sV` name, with ports as a
//! fallback), its [`Category`], its [`Severity`] and its references, and
//! its run function sends a few bytes and returns a [`Finding`] only when
//! the reply proves it. Categories are stricter than nmap's: a login with
//! a default or anonymous credential is `auth`, never `safe`, so `-sC`
//! (the `default` set: every safe check) never logs in anywhere.
//!
//! Every reply is read with a byte cap and every check runs under a
//! timeout ([`runner`]), so a hostile or stalled service costs at most
//! the timeout and a bounded buffer.

pub mod args;
mod ber;
mod checks;
pub mod io;
mod json_api;
pub mod pace;
pub mod registry;
pub mod risk;
pub mod runner;
mod tls;

pub use args::ScriptArgs;
pub use portolan_model::{ScriptItem, ScriptResult, Severity};
pub use registry::{all_checks, Selection, SelectionError};
pub use risk::{RiskEntry, RiskTable};
pub use runner::{CheckOptions, Runner};

use portolan_model::{Certificate, Protocol};
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// How far a check goes (stricter than nmap's categories).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// Read-only: no login, no memory disclosure, nothing relayed.
    Safe,
    /// Tries an anonymous or default login (anonymous FTP, SNMP `public`).
    Auth,
    /// Anything more: relaying through a proxy, reading memory.
    Intrusive,
}

impl Category {
    /// `safe`, `auth` or `intrusive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Safe => "safe",
            Category::Auth => "auth",
            Category::Intrusive => "intrusive",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a check declares about itself.
#[derive(Debug)]
pub struct CheckInfo {
    /// Its name (`redis-info`), as `--script` takes it.
    pub id: &'static str,
    /// One line: what it looks for.
    pub description: &'static str,
    /// How far it goes.
    pub category: Category,
    /// How much its finding matters.
    pub severity: Severity,
    /// CVE IDs and advisories behind the finding.
    pub references: &'static [&'static str],
    /// `-sV` service names it applies to.
    pub services: &'static [&'static str],
    /// Ports it applies to when the service name does not say.
    pub ports: &'static [u16],
    /// The transport it speaks.
    pub protocol: Protocol,
    /// Whether it speaks the plain protocol and so must skip TLS-wrapped
    /// ports (`false` for checks that only read the TLS layer).
    pub plain_only: bool,
}

/// One port (or host) a check runs against, with what `-sV` learned.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The host's address.
    pub addr: IpAddr,
    /// The port.
    pub port: u16,
    /// Its protocol.
    pub protocol: Protocol,
    /// The service name (`-sV`, or the port table's guess).
    pub service: Option<String>,
    /// `ssl` when `-sV` found the service inside TLS.
    pub tunnel: Option<String>,
    /// The TLS certificate `-sV` saw, if any.
    pub certificate: Option<Certificate>,
    /// `--script-args`.
    pub args: Arc<ScriptArgs>,
    /// How long the whole check may take.
    pub timeout: Duration,
    /// `--max-rate`: every connection or datagram waits for a token.
    pub pacer: Option<Arc<pace::Pacer>>,
    /// Set when the runner took the token for the check's first
    /// connection before its timeout started (so waiting for the budget
    /// does not eat the check's time); that connection does not wait.
    pub prepaid: Arc<std::sync::atomic::AtomicBool>,
}

impl Ctx {
    /// Whether the port speaks TLS: `-sV` saw a certificate or found the
    /// service inside TLS (the TLS checks apply to these).
    pub fn speaks_tls(&self) -> bool {
        self.protocol == Protocol::Tcp
            && (self.certificate.is_some() || self.tunnel.as_deref() == Some("ssl"))
    }

    /// Waits for `--max-rate` to allow one more connection or datagram.
    pub async fn paced(&self) {
        if self
            .prepaid
            .swap(false, std::sync::atomic::Ordering::Relaxed)
        {
            return;
        }
        if let Some(p) = &self.pacer {
            p.wait().await;
        }
    }
}

/// What a check proved: the summary line and its structured output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// One line for the findings summary.
    pub summary: String,
    /// The structured output (elements and tables).
    pub items: Vec<ScriptItem>,
    /// A severity other than the check's declared one, when the reply
    /// shows the finding is worse or milder.
    pub severity: Option<Severity>,
}

impl Finding {
    /// A finding with the check's declared severity.
    pub fn new(summary: impl Into<String>, items: Vec<ScriptItem>) -> Self {
        Finding {
            summary: summary.into(),
            items,
            severity: None,
        }
    }
}

/// A check's run: a future that ends with its finding, if any.
pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Option<Finding>> + Send + 'a>>;

/// One check (see the crate docs).
pub trait Check: Send + Sync {
    /// What it declares.
    fn info(&self) -> &'static CheckInfo;

    /// Runs it against `ctx`; `None` when nothing was proved.
    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a>;

    /// Whether it applies to the port in `ctx`: by service name, or by
    /// port number when the name is unknown or a table guess.
    fn applies(&self, ctx: &Ctx, by_port: bool) -> bool {
        let info = self.info();
        if info.protocol != ctx.protocol {
            return false;
        }
        if info.plain_only && ctx.tunnel.is_some() {
            return false;
        }
        let named = ctx
            .service
            .as_deref()
            .is_some_and(|s| info.services.contains(&s));
        named || (by_port && info.ports.contains(&ctx.port))
    }
}
