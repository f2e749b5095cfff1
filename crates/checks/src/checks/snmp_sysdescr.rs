//! `snmp-sysdescr`: the SNMP agent answers with the community `public`
//! (or `--script-args snmp.community=...`): SNMPv2c (RFC 1901, RFC 3416)
//! GetRequest for `sysDescr.0` (1.3.6.1.2.1.1.1.0, RFC 3418).
//!
//! A known community is a default credential, so the check is `auth`.
//! One datagram is sent; an agent that does not know the community stays
//! silent, and the check ends at its timeout with nothing.

use crate::ber::{cons, int, items, read, tlv, uint};
use crate::io::{clean, udp_exchange};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;

pub(crate) struct SnmpSysDescr;

static INFO: CheckInfo = CheckInfo {
    id: "snmp-sysdescr",
    description: "the SNMP agent answers to a default community",
    category: Category::Auth,
    severity: Severity::High,
    references: &["CVE-1999-0517", "CVE-2002-0013"],
    services: &["snmp"],
    ports: &[161],
    protocol: Protocol::Udp,
    plain_only: true,
};

/// sysDescr.0, BER-encoded.
const SYS_DESCR: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 1, 0];
/// Our request ID.
const REQUEST_ID: u32 = 0x504f_524c;

impl Check for SnmpSysDescr {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let community = ctx.args.get("snmp.community").unwrap_or("public");
            let reply = udp_exchange(ctx, &request(community), 4096).await?;
            let descr = sys_descr(&reply)?;
            let items = vec![
                ScriptItem::elem("community", clean(community, 64)),
                ScriptItem::elem("sysDescr", clean(&descr, 200)),
            ];
            Some(Finding::new(
                format!("SNMP answers to community \"{}\"", clean(community, 64)),
                items,
            ))
        })
    }
}

fn request(community: &str) -> Vec<u8> {
    let varbind = cons(0x30, &[tlv(0x06, SYS_DESCR), tlv(0x05, &[])]);
    let pdu = cons(
        0xa0,
        &[int(REQUEST_ID), int(0), int(0), cons(0x30, &[varbind])],
    );
    cons(0x30, &[int(1), tlv(0x04, community.as_bytes()), pdu])
}

/// The sysDescr of a GetResponse to our request, if it carries one.
fn sys_descr(reply: &[u8]) -> Option<String> {
    let (0x30, msg, _) = read(reply)? else {
        return None;
    };
    let parts = items(msg);
    let &(0xa2, pdu) = parts.get(2)? else {
        return None;
    };
    let f = items(pdu);
    let (id, status) = (uint(f.first()?.1)?, uint(f.get(1)?.1)?);
    if id != u64::from(REQUEST_ID) || status != 0 {
        return None;
    }
    let vb = items(f.get(3)?.1);
    let vb = items(vb.first()?.1);
    let (&(0x06, oid), &(0x04, value)) = (vb.first()?, vb.get(1)?) else {
        return None;
    };
    (oid == SYS_DESCR).then(|| String::from_utf8_lossy(value).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(id: u32, status: u32, value: Vec<u8>) -> Vec<u8> {
        let varbind = cons(0x30, &[tlv(0x06, SYS_DESCR), value]);
        let pdu = cons(
            0xa2,
            &[int(id), int(status), int(0), cons(0x30, &[varbind])],
        );
        cons(0x30, &[int(1), tlv(0x04, b"public"), pdu])
    }

    #[test]
    fn responses_are_read_and_errors_and_strangers_are_not() {
        let ok = response(REQUEST_ID, 0, tlv(0x04, b"Linux box"));
        assert_eq!(sys_descr(&ok).unwrap(), "Linux box");
        assert!(sys_descr(&response(REQUEST_ID, 2, tlv(0x04, b"x"))).is_none());
        assert!(sys_descr(&response(7, 0, tlv(0x04, b"x"))).is_none());
        assert!(sys_descr(&response(REQUEST_ID, 0, tlv(0x80, b""))).is_none());
        assert!(sys_descr(&ok[..ok.len() - 3]).is_none());
        assert_eq!(read(&request("public")).unwrap().0, 0x30);
    }
}
