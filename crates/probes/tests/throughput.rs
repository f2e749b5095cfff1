//! Build and classify rates, for the record: `cargo test --release -p
//! portolan-probes --test throughput -- --ignored --nocapture`.

mod common;

use common::*;
use portolan_engine::ProbeSpec;
use portolan_probes::{tcp_module, TcpScanKind};
use std::hint::black_box;
use std::time::Instant;

#[test]
#[ignore = "a measurement, not a check; run in release"]
fn build_and_classify_rates() {
    let ctx = ctx();
    let m = tcp_module(TcpScanKind::Syn, None);
    for target in TARGETS {
        let n = 1_000_000u32;
        let mut buf = [0u8; 1500];
        let t = Instant::now();
        for i in 0..n {
            let spec = ProbeSpec {
                dst: target,
                dport: i as u16,
                attempt: 0,
            };
            black_box(m.build(&ctx, black_box(&spec), &mut buf));
        }
        let build = f64::from(n) / t.elapsed().as_secs_f64();
        let p = send(m.as_ref(), &ctx, target, 80, 0);
        let replies = [
            syn_ack(&p, 64),
            rfc_rst(&p, 0, 64),
            icmp_unreach(&p, 1, 8, 64),
        ];
        let t = Instant::now();
        for i in 0..n {
            black_box(m.classify(&ctx, black_box(&replies[i as usize % 3])));
        }
        let classify = f64::from(n) / t.elapsed().as_secs_f64();
        eprintln!("{target}: build {build:.0}/s, classify {classify:.0}/s (one core)");
    }
}

#[test]
#[ignore = "a measurement, not a check; run in release"]
fn traits_extraction_rate() {
    use portolan_packet::{IpFields, TcpFlags};
    use portolan_probes::tcp::traits::{stack_traits, TcpHeader};
    // A Linux SYN/ACK's options: MSS, SACK permitted, timestamps, NOP, WS.
    let options = [
        2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 7, 1, 3, 3, 7,
    ];
    let h = TcpHeader {
        ttl: 64,
        ip: IpFields::default(),
        seq: 1,
        ack: 2,
        flags: TcpFlags::SYN | TcpFlags::ACK,
        reserved: 0,
        window: 65160,
        urgent: 0,
        options: &options,
        data_len: 0,
    };
    let n = 10_000_000u32;
    let t = Instant::now();
    for i in 0..n {
        black_box(stack_traits(black_box(&h), i, 0));
    }
    let ns = t.elapsed().as_secs_f64() * 1e9 / f64::from(n);
    eprintln!("stack traits of a Linux SYN/ACK: {ns:.1} ns each (one core)");
}
