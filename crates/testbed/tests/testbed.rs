//! The testbed checked with plain std sockets from the scanner namespace.
//! Every test skips (with a notice) when not run as root.

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use portolan_testbed::{in_netns, require_root, IcmpKind, Testbed};

fn connect(tb: &Testbed, ip: IpAddr, port: u16, timeout_ms: u64) -> std::io::Result<Duration> {
    in_netns(tb.scanner_ns(), move || {
        let start = Instant::now();
        TcpStream::connect_timeout(
            &SocketAddr::new(ip, port),
            Duration::from_millis(timeout_ms),
        )
        .map(|_| start.elapsed())
    })
    .expect("enter scanner namespace")
}

#[test]
fn port_states_come_from_listeners_and_rules() {
    if !require_root() {
        return;
    }
    let mut tb = Testbed::new("states").unwrap();
    tb.target(0)
        .unwrap()
        .tcp_listen(&[22, 80, 8080])
        .unwrap()
        .nft_drop_tcp(&[81])
        .unwrap()
        .nft_reject_icmp(&[82], IcmpKind::PortUnreach)
        .unwrap()
        .nft_reject_icmp(&[83], IcmpKind::AdminProhibited)
        .unwrap()
        .nft_reject_icmp(&[84], IcmpKind::HostUnreach)
        .unwrap()
        .nft_reject_tcp_reset(&[8080])
        .unwrap();
    let t = IpAddr::V4(tb.target_addr(0));
    assert!(connect(&tb, t, 22, 1000).is_ok(), "open");
    assert!(connect(&tb, t, 80, 1000).is_ok(), "open");
    let kind = |p| connect(&tb, t, p, 500).unwrap_err();
    assert_eq!(kind(23).kind(), ErrorKind::ConnectionRefused, "closed");
    assert_eq!(kind(8080).kind(), ErrorKind::ConnectionRefused, "reset");
    assert_eq!(kind(81).kind(), ErrorKind::TimedOut, "dropped");
    assert_eq!(
        kind(82).kind(),
        ErrorKind::ConnectionRefused,
        "port-unreach"
    );
    assert_eq!(kind(83).raw_os_error(), Some(libc_ehostunreach()), "admin");
    assert_eq!(
        kind(84).raw_os_error(),
        Some(libc_ehostunreach()),
        "host-unreach"
    );
    // IPv6 too.
    let t6 = IpAddr::V6(tb.target_addr6(0));
    let r6 = connect(&tb, t6, 22, 1000);
    assert!(r6.is_ok(), "open over IPv6: {r6:?}");
    assert_eq!(
        connect(&tb, t6, 23, 500).unwrap_err().kind(),
        ErrorKind::ConnectionRefused
    );
    assert_eq!(
        connect(&tb, t6, 81, 500).unwrap_err().kind(),
        ErrorKind::TimedOut
    );
}

fn libc_ehostunreach() -> i32 {
    113
}

#[test]
fn silent_host_answers_nothing() {
    if !require_root() {
        return;
    }
    let mut tb = Testbed::builder("silent").targets(2).build().unwrap();
    tb.target(1)
        .unwrap()
        .tcp_listen(&[22])
        .unwrap()
        .nft_silent()
        .unwrap();
    tb.target(0).unwrap().tcp_listen(&[22]).unwrap();
    let t1 = IpAddr::V4(tb.target_addr(1));
    assert_eq!(
        connect(&tb, t1, 22, 500).unwrap_err().kind(),
        ErrorKind::TimedOut
    );
    assert!(connect(&tb, IpAddr::V4(tb.target_addr(0)), 22, 1000).is_ok());
    assert!(tb.target(2).is_err());
}

#[test]
fn relay_delays_each_way() {
    if !require_root() {
        return;
    }
    let d = Duration::from_millis(10);
    let mut tb = Testbed::builder("delay").delay(d).build().unwrap();
    tb.target(0).unwrap().tcp_listen(&[80]).unwrap();
    let t = IpAddr::V4(tb.target_addr(0));
    // The first connect also resolves ARP (another round trip).
    connect(&tb, t, 80, 2000).unwrap();
    for _ in 0..3 {
        let rtt = connect(&tb, t, 80, 2000).unwrap();
        assert!(rtt >= 2 * d, "rtt {rtt:?} below 2D");
        assert!(
            // Generous: a busy machine can starve the relay for a while.
            rtt < 2 * d + Duration::from_millis(200),
            "rtt {rtt:?} far above 2D"
        );
    }
    assert!(connect(&tb, IpAddr::V6(tb.target_addr6(0)), 80, 2000).is_ok());
    let (fwd, _) = tb.relay_stats();
    assert!(fwd >= 8, "relay forwarded {fwd} frames");
}

#[test]
fn loss_rule_drops_about_n_percent() {
    if !require_root() {
        return;
    }
    let mut tb = Testbed::new("loss").unwrap();
    tb.target(0)
        .unwrap()
        .udp_echo(&[7])
        .unwrap()
        .nft_loss(20, 0)
        .unwrap();
    let target = SocketAddr::new(IpAddr::V4(tb.target_addr(0)), 7);
    let got = in_netns(tb.scanner_ns(), move || {
        let s = UdpSocket::bind("0.0.0.0:0").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut buf = [0u8; 16];
        // Resolve ARP first (one exchange may be lost: retry).
        for _ in 0..10 {
            s.send_to(b"warm", target).unwrap();
            if s.recv_from(&mut buf).is_ok() {
                break;
            }
        }
        // Batches small enough for the socket buffers on both sides.
        let mut got = 0;
        for batch in 0..20u32 {
            for i in 0..50u32 {
                s.send_to(&(batch * 50 + i).to_be_bytes(), target).unwrap();
            }
            let mut n = 0;
            while n < 50 && s.recv_from(&mut buf).is_ok() {
                n += 1;
            }
            got += n;
        }
        got
    })
    .unwrap();
    // 800 expected; 5 sigma is about 63.
    assert!(
        (730..=870).contains(&got),
        "{got} of 1000 echoed at 20% loss"
    );
}

#[test]
fn sweep16_answers_only_on_up_hosts() {
    if !require_root() {
        return;
    }
    let mut tb = Testbed::new("sweep").unwrap();
    let up = tb.sweep16(0).unwrap();
    assert_eq!(up.len(), 5042);
    assert_eq!(tb.up_hosts().len(), 5042);
    for a in [up[0], up[100], up[5041]] {
        assert!(connect(&tb, IpAddr::V4(a), 80, 1000).is_ok(), "{a} up");
    }
    let down = std::net::Ipv4Addr::from(u32::from(up[7]) + 1);
    assert_eq!(
        connect(&tb, IpAddr::V4(down), 80, 300).unwrap_err().kind(),
        ErrorKind::TimedOut
    );
}

#[test]
fn drop_deletes_all_namespaces() {
    if !require_root() {
        return;
    }
    let names = {
        let tb = Testbed::builder("gone")
            .delay(Duration::from_millis(1))
            .build()
            .unwrap();
        let n = vec![tb.scanner_ns().to_string()];
        assert!(netns_list().contains(&n[0]));
        n
    };
    assert!(!netns_list().contains(&names[0]));
    // A panic inside a test still cleans up.
    let r = std::panic::catch_unwind(|| {
        let tb = Testbed::new("panic").unwrap();
        let name = tb.scanner_ns().to_string();
        std::panic::panic_any(name);
    });
    let name = r.unwrap_err().downcast::<String>().unwrap();
    assert!(!netns_list().contains(&*name));
    // Live namespaces are not "stale".
    let tb = Testbed::new("live").unwrap();
    portolan_testbed::cleanup_stale().unwrap();
    assert!(netns_list().contains(tb.scanner_ns()));
}

fn netns_list() -> String {
    let out = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Throughput of the delay relay (run with `--ignored --nocapture`, in
/// release mode for a meaningful figure).
#[test]
#[ignore]
fn relay_throughput() {
    if !require_root() {
        return;
    }
    let mut tb = Testbed::builder("thru")
        .delay(Duration::from_millis(10))
        .build()
        .unwrap();
    tb.target(0).unwrap().nft_drop_udp(&[9]).unwrap();
    let target = SocketAddr::new(IpAddr::V4(tb.target_addr(0)), 9);
    let (fwd0, _) = tb.relay_stats();
    let n = 300_000u32;
    let sent = in_netns(tb.scanner_ns(), move || {
        let s = UdpSocket::bind("0.0.0.0:0").unwrap();
        let start = Instant::now();
        let mut sent = 0u32;
        for i in 0..n {
            if s.send_to(&i.to_be_bytes(), target).is_ok() {
                sent += 1;
            }
        }
        (sent, start.elapsed())
    })
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let (fwd, dropped) = tb.relay_stats();
    let fwd = fwd - fwd0;
    let (worst, late) = tb.relay_lateness();
    eprintln!(
        "sent {} in {:?} ({:.0}/s); relay forwarded {fwd}, dropped {dropped}, \
         {late} over 1 ms late (worst {worst:?})",
        sent.0,
        sent.1,
        f64::from(sent.0) / sent.1.as_secs_f64()
    );
}

#[test]
fn udp_echo_and_icmp_rejects() {
    if !require_root() {
        return;
    }
    let mut tb = Testbed::new("udp").unwrap();
    tb.target(0)
        .unwrap()
        .udp_echo(&[53])
        .unwrap()
        .nft_reject_icmp_udp(&[54], IcmpKind::PortUnreach)
        .unwrap()
        .nft_drop_udp(&[55])
        .unwrap();
    for ip in [
        IpAddr::V4(tb.target_addr(0)),
        IpAddr::V6(tb.target_addr6(0)),
    ] {
        let res = in_netns(tb.scanner_ns(), move || {
            let bind = if ip.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
            let ask = |port| {
                let s = UdpSocket::bind(bind).unwrap();
                s.set_read_timeout(Some(Duration::from_millis(300)))
                    .unwrap();
                s.connect(SocketAddr::new(ip, port)).unwrap();
                s.send(b"hello").unwrap();
                let mut buf = [0u8; 16];
                s.recv(&mut buf).map(|n| buf[..n].to_vec())
            };
            (ask(53), ask(54), ask(55), ask(56))
        })
        .unwrap();
        assert_eq!(res.0.unwrap(), b"hello", "echo over {ip}");
        assert_eq!(res.1.unwrap_err().kind(), ErrorKind::ConnectionRefused);
        assert!(matches!(
            res.2.unwrap_err().kind(),
            ErrorKind::WouldBlock | ErrorKind::TimedOut
        ));
        assert_eq!(
            res.3.unwrap_err().kind(),
            ErrorKind::ConnectionRefused,
            "closed"
        );
    }
}

#[test]
fn rst_rate_limit_silences_most_closed_ports() {
    if !require_root() {
        return;
    }
    let mut tb = Testbed::new("rstlim").unwrap();
    tb.target(0).unwrap().nft_rst_rate_limit(2).unwrap();
    let t = IpAddr::V4(tb.target_addr(0));
    let refused = (1000..1020)
        .filter(|&p| {
            connect(&tb, t, p, 100).is_err_and(|e| e.kind() == ErrorKind::ConnectionRefused)
        })
        .count();
    // nft's default burst is 5 packets, then 2 per second over ~2 s.
    assert!((3..=12).contains(&refused), "{refused} of 20 refused");
}

#[test]
fn bulk_tcp_crosses_the_relay_and_capacity_limit_applies() {
    if !require_root() {
        return;
    }
    use std::io::{Read, Write};
    let mut tb = Testbed::builder("bulk")
        .delay(Duration::from_millis(2))
        .rate_bps(20_000_000)
        .build()
        .unwrap();
    let tns = tb.target(0).unwrap().ns().to_string();
    let l = in_netns(&tns, || {
        std::net::TcpListener::bind("0.0.0.0:5000").unwrap()
    })
    .unwrap();
    let server = std::thread::spawn(move || {
        let (mut c, _) = l.accept().unwrap();
        c.write_all(&vec![7u8; 1 << 20]).unwrap();
    });
    let addr = SocketAddr::new(IpAddr::V4(tb.target_addr(0)), 5000);
    let start = Instant::now();
    let n = in_netns(tb.scanner_ns(), move || {
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut v = Vec::new();
        let _ = c.read_to_end(&mut v);
        v.len()
    })
    .unwrap();
    let took = start.elapsed();
    server.join().unwrap();
    assert_eq!(n, 1 << 20);
    // 8.4 Mbit at 20 Mbit/s: at least 0.4 s; without the limit it is far less.
    assert!(took >= Duration::from_millis(400), "1 MiB took {took:?}");
    assert!(took < Duration::from_secs(5), "1 MiB took {took:?}");
}

#[test]
fn tc_shaping_on_the_scanner_side() {
    if !require_root() {
        return;
    }
    let tb = Testbed::new("shape").unwrap();
    tb.shape_scanner_egress(0, "10mbit").unwrap();
    assert!(tb.shape_scanner_egress(3, "10mbit").is_err());
    let out = tb
        .run_in_scanner(std::process::Command::new("tc").args(["qdisc", "show", "dev", "t0"]))
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("tbf"));
}

/// Setup and teardown cost (run with `--ignored --nocapture`).
#[test]
#[ignore]
fn setup_time() {
    if !require_root() {
        return;
    }
    for (name, b) in [
        ("plain", Testbed::builder("t1")),
        (
            "relay",
            Testbed::builder("t2").delay(Duration::from_millis(10)),
        ),
        ("4 targets", Testbed::builder("t3").targets(4)),
    ] {
        let start = Instant::now();
        let tb = b.build().unwrap();
        let built = start.elapsed();
        drop(tb);
        eprintln!(
            "{name}: build {built:?}, total with drop {:?}",
            start.elapsed()
        );
    }
}
