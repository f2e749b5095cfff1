//! smoltcp answering SYNs on a tap device, for
//! scripts/os-db/capture-smoltcp.sh: one TCP socket listening on PORT at
//! IP/30 (re-armed after each connection), for SECONDS.
//!
//! Usage: smoltcp-server TAP IP PORT SECONDS

use std::net::Ipv4Addr;
use std::os::unix::io::AsRawFd;
use std::time::{Duration, Instant as StdInstant};

use smoltcp::iface::{Config, Interface, SocketSet};
use smoltcp::phy::{wait as phy_wait, Medium, TunTapInterface};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: smoltcp-server TAP IP PORT SECONDS");
        std::process::exit(2);
    }
    let ip: Ipv4Addr = args[2].parse().expect("IP");
    let port: u16 = args[3].parse().expect("PORT");
    let until = StdInstant::now() + Duration::from_secs(args[4].parse().expect("SECONDS"));

    let mut device = TunTapInterface::new(&args[1], Medium::Ethernet).expect("tap device");
    let fd = device.as_raw_fd();
    let mut config = Config::new(EthernetAddress([0x02, 0, 0, 0, 0, 0x0a]).into());
    config.random_seed = u64::from(std::process::id());
    let mut iface = Interface::new(config, &mut device, Instant::now());
    iface.update_ip_addrs(|a| {
        let o = ip.octets();
        a.push(IpCidr::new(IpAddress::v4(o[0], o[1], o[2], o[3]), 30))
            .expect("one address");
    });
    let socket = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; 65535]),
        tcp::SocketBuffer::new(vec![0; 65535]),
    );
    let mut sockets = SocketSet::new(vec![]);
    let handle = sockets.add(socket);
    println!("smoltcp 0.12 listening on {ip}:{port}");
    while StdInstant::now() < until {
        let now = Instant::now();
        iface.poll(now, &mut device, &mut sockets);
        let s = sockets.get_mut::<tcp::Socket>(handle);
        if !s.is_open() {
            s.listen(port).expect("listen");
        } else if s.may_send() {
            s.close();
        }
        let delay = iface
            .poll_delay(now, &sockets)
            .unwrap_or(smoltcp::time::Duration::from_millis(100));
        phy_wait(
            fd,
            Some(delay.min(smoltcp::time::Duration::from_millis(100))),
        )
        .ok();
    }
}
