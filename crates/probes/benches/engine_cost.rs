//! The engine's own cost per probe: the real SYN module and the real
//! `Scan` and driver loop against a null I/O, so that nothing but
//! portolan's code is timed (issue 12's target: at most 150 ns per probe
//! per core, so that the engine is never the bottleneck below 10 GbE).
//!
//! `cargo bench -p portolan-probes --bench engine_cost`. The null I/O takes
//! every packet and answers none, and its clock jumps over every wait the
//! driver asks for, so each port gets its retries and the run is pure CPU:
//! order (keyed permutation), pacing, in-flight bookkeeping, deadlines,
//! retransmission, packet building, checksums and results. Classifying
//! replies is measured apart (`crates/probes/tests/throughput.rs`).
//! Figures are printed, never asserted: speed depends on the machine. The
//! figure is the thread's CPU time (not wall time, which on a shared
//! machine counts other processes too) over the probes sent; the harness
//! itself does nothing per probe but count bytes.

use portolan_engine::{
    run_raw, Clock, HostSource, PacketIo, ProbeContext, ProbeModule, Scan, ScanPlan, TechniquePlan,
    Timing, ValidationKey,
};
use portolan_model::Protocol;
use portolan_probes::{tcp_module, TcpScanKind};
use std::cell::Cell;
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// A clock that only moves when the null I/O waits.
#[derive(Clone)]
struct JumpClock(Rc<Cell<Instant>>);

impl Clock for JumpClock {
    fn now(&self) -> Instant {
        self.0.get()
    }
}

/// Takes every packet, answers none; a wait moves the clock on.
struct NullIo {
    clock: JumpClock,
    sent: u64,
    bytes: u64,
}

impl PacketIo for NullIo {
    fn send(&mut self, packets: &[&[u8]]) -> io::Result<usize> {
        self.sent += packets.len() as u64;
        self.bytes += packets.iter().map(|p| p.len() as u64).sum::<u64>();
        Ok(packets.len())
    }

    fn recv(&mut self, timeout: Duration, _: &mut dyn FnMut(&[u8])) -> io::Result<usize> {
        let c = &self.clock.0;
        c.set(c.get() + timeout.max(Duration::from_micros(1)));
        Ok(0)
    }
}

fn run(name: &str, ports: Vec<u16>, targets: Box<dyn HostSource>) {
    let m = tcp_module(TcpScanKind::Syn, None);
    let mut plan = ScanPlan::new(
        vec![TechniquePlan {
            protocol: Protocol::Tcp,
            ports,
            no_reply: m.no_reply(),
        }],
        Timing::default(),
    );
    plan.seed = 12;
    let ctx = ProbeContext {
        src_v4: Some(Ipv4Addr::new(198, 18, 0, 1)),
        src_v6: None,
        source_port: None,
        key: ValidationKey::from_seed(12),
        ttl: 64,
    };
    let t0 = Instant::now();
    let clock = JumpClock(Rc::new(Cell::new(t0)));
    let mut io = NullIo {
        clock: clock.clone(),
        sent: 0,
        bytes: 0,
    };
    let mut scan = Scan::new(plan, targets, t0);
    let stop = AtomicBool::new(false);
    let modules: [&dyn ProbeModule; 1] = [m.as_ref()];
    let mut hosts = 0u64;
    let wall = Instant::now();
    let cpu = thread_cpu();
    run_raw(
        &mut scan,
        &modules,
        &ctx,
        &mut io,
        &clock,
        &stop,
        &mut |_h| hosts += 1,
    )
    .expect("null I/O never fails");
    let cpu = thread_cpu() - cpu;
    let wall = wall.elapsed();
    let ns = cpu.as_nanos() as f64 / io.sent.max(1) as f64;
    println!(
        "{name}: {} probes ({} bytes) to {hosts} hosts in {:.3} s of CPU ({:.3} s wall): \
         {ns:.0} ns per probe",
        io.sent,
        io.bytes,
        cpu.as_secs_f64(),
        wall.as_secs_f64()
    );
}

/// CPU time (user and system) of the calling thread so far: what the
/// engine costs, whatever else the machine runs meanwhile (wall time on a
/// shared machine counts other processes' time slices too).
fn thread_cpu() -> Duration {
    use nix::sys::resource::{getrusage, UsageWho};
    let u = getrusage(UsageWho::RUSAGE_THREAD).expect("getrusage");
    let tv =
        |t: nix::sys::time::TimeVal| Duration::new(t.tv_sec() as u64, t.tv_usec() as u32 * 1000);
    tv(u.user_time()) + tv(u.system_time())
}

/// `cargo bench -p portolan-probes --bench engine_cost [-- ports|sweep]`:
/// both cases by default, or the one named (for profiling one alone).
fn main() {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let target = IpAddr::V4(Ipv4Addr::new(198, 18, 1, 2));
    for _ in 0..3 {
        if wanted("ports") {
            run(
                "65535 ports of one host",
                (1..=65535).collect(),
                Box::new(vec![target]),
            );
        }
        if wanted("sweep") {
            run(
                "port 80 of a /16",
                vec![80],
                Box::new(portolan_engine::Ipv4Range {
                    first: u32::from(Ipv4Addr::new(198, 19, 0, 0)),
                    len: 65536,
                }),
            );
        }
    }
}
