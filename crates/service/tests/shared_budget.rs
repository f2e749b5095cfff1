//! The prober draws its connections from a `--max-rate` budget it shares
//! with another consumer (the scan, here a thread taking tokens as fast as
//! it may for half a second): together they stay within the budget.
//! Connections go to an in-process server on 127.0.0.1 only.

use portolan_engine::{RateLimiter, SharedRateLimiter};
use portolan_model::Protocol;
use portolan_service::{Database, ProbeOptions, Prober, Target};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

#[tokio::test]
async fn prober_and_scan_share_one_budget() {
    // An SSH banner server counting the connections it accepts.
    let l = TcpListener::bind((LO, 0)).await.unwrap();
    let port = l.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicU32::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let _ = s.write_all(b"SSH-2.0-OpenSSH_9.2p1\r\n").await;
                tokio::time::sleep(Duration::from_secs(1)).await;
            });
        }
    });

    let rate = 40.0;
    let t0 = Instant::now();
    let budget = SharedRateLimiter::new(RateLimiter::new(rate, 1.0, t0));

    // The "scan": takes every token it can for half a second (or until
    // the prober is done).
    let stop = Arc::new(AtomicBool::new(false));
    let scan = {
        let (budget, stop) = (budget.clone(), Arc::clone(&stop));
        thread::spawn(move || {
            let mut taken = 0u32;
            while !stop.load(Ordering::SeqCst) && t0.elapsed() < Duration::from_millis(500) {
                if budget.try_take(Instant::now()) {
                    taken += 1;
                }
                thread::sleep(Duration::from_micros(300));
            }
            taken
        })
    };

    let db = Arc::new(Database::builtin().unwrap());
    let opts = ProbeOptions {
        rate_limiter: Some(budget),
        ..ProbeOptions::default()
    };
    let targets: Vec<Target> = (0..8)
        .map(|_| Target {
            addr: LO,
            port,
            protocol: Protocol::Tcp,
        })
        .collect();
    let found = Prober::new(db, opts).detect(&targets).await;
    stop.store(true, Ordering::SeqCst);
    let taken = scan.join().unwrap();
    let secs = t0.elapsed().as_secs_f64();

    assert!(found.iter().all(|d| d.service.is_some()), "{found:?}");
    let connections = accepted.load(Ordering::SeqCst);
    assert!(connections >= 8);
    assert!(taken > 0);
    // One budget: the burst plus the rate over the whole test, not twice
    // that (each consumer alone could have used all of it).
    let total = f64::from(connections + taken);
    assert!(
        total <= 1.0 + rate * secs + 1.0,
        "{connections} connections + {taken} scan tokens in {secs:.3} s"
    );
}
