//! `smb2-security-mode`: the SMB server does not require message
//! signing, so an attacker in the path can relay or tamper with its
//! sessions (NTLM relay). One SMB2 NEGOTIATE ([MS-SMB2] 2.2.3) offering
//! 2.0.2 to 3.1.1; the reply's SecurityMode (2.2.4) says whether signing
//! is enabled (bit 0) and required (bit 1). Nothing logs in.

use super::smb_protocols::{
    dialect_name, exchange, smb2_negotiate, smb2_negotiated, DIALECTS, SMB_PORTS, SMB_SERVICES,
};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;

pub(crate) struct Smb2SecurityMode;

static INFO: CheckInfo = CheckInfo {
    id: "smb2-security-mode",
    description: "the SMB2 server does not require message signing",
    category: Category::Safe,
    severity: Severity::Medium,
    references: &[
        "https://learn.microsoft.com/en-us/troubleshoot/windows-server/networking/overview-server-message-block-signing",
        "MS-SMB2 section 3.3.5.4",
    ],
    services: SMB_SERVICES,
    ports: SMB_PORTS,
    protocol: Protocol::Tcp,
    plain_only: true,
};

impl Check for Smb2SecurityMode {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let all: Vec<u16> = DIALECTS.iter().map(|(d, _)| *d).collect();
            let reply = exchange(ctx, &smb2_negotiate(&all)).await?;
            let n = smb2_negotiated(&reply)?;
            let (summary, text) = verdict(n.security_mode)?;
            let items = vec![
                ScriptItem::elem("dialect", dialect_name(n.dialect)),
                ScriptItem::elem("security mode", text),
            ];
            Some(Finding::new(summary, items))
        })
    }
}

/// The finding for a SecurityMode; `None` when signing is required.
fn verdict(mode: u16) -> Option<(&'static str, &'static str)> {
    match (mode & 1 != 0, mode & 2 != 0) {
        (_, true) => None,
        (true, false) => Some((
            "SMB message signing enabled but not required",
            "Message signing enabled but not required",
        )),
        (false, false) => Some(("SMB message signing disabled", "Message signing disabled")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_required_signing_is_silent() {
        assert!(verdict(3).is_none() && verdict(2).is_none());
        assert_eq!(
            verdict(1).unwrap().1,
            "Message signing enabled but not required"
        );
        assert_eq!(verdict(0).unwrap().0, "SMB message signing disabled");
    }
}
