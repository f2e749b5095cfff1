//! Sending on several threads.
//!
//! On veth and loopback, a `sendmmsg` call does far more than queue
//! packets: the receiving side's whole stack (the target's TCP answering
//! with RST or SYN/ACK, and our own reception of that answer into the
//! packet ring) runs in the sender's softirq context, on the sender's CPU.
//! Measured over veth, 93 % of a full-port SYN scan's CPU time is this
//! kernel work, so one sending thread caps the scan at one core's worth of
//! kernel (about 150 k probes/s here). [`SendPool`] hands batches to worker
//! threads, each with its own raw sockets, so that kernel work spreads over
//! the cores while the engine thread builds probes and reads the ring.
//!
//! `send` copies the packets into a pooled buffer and queues it. When every
//! buffer is in use the workers are behind, and the caller sends the batch
//! itself on a sender of its own (with `MSG_DONTWAIT`), so a third thread
//! does kernel work instead of waiting for a worker to be scheduled (on a
//! busy machine, a handoff between threads can take milliseconds); only
//! what that sender cannot take now comes back as a short count, which
//! the engine treats as backpressure and offers again later. A worker that meets a
//! full socket buffer waits briefly and retries, so queued probes are not
//! lost; an error that is not about one packet is kept and returned by the
//! next `send`.

use std::io;
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::send::{check_packet, RawSender, SendStats};

/// Batches queued or being sent at most; with the engine's 64-probe
/// batches this bounds the queue at a few thousand probes.
const MAX_BATCHES: usize = 64;
/// How long a worker waits before retrying after a full socket buffer.
const BACKOFF: Duration = Duration::from_micros(50);
/// Retries of one batch before its remaining packets are dropped.
const MAX_RETRIES: u32 = 2000;

/// Packets copied out of the caller's buffers.
#[derive(Default)]
struct Batch {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Batch {
    fn fill(&mut self, packets: &[&[u8]]) {
        self.data.clear();
        self.ends.clear();
        for p in packets {
            self.data.extend_from_slice(p);
            self.ends.push(self.data.len());
        }
    }

    fn views(&self) -> Vec<&[u8]> {
        let mut start = 0;
        self.ends
            .iter()
            .map(|&end| {
                let v = &self.data[start..end];
                start = end;
                v
            })
            .collect()
    }
}

struct Shared {
    stats: Mutex<Vec<SendStats>>,
    error: Mutex<Option<io::Error>>,
}

/// Raw senders on worker threads: see the module documentation.
pub(crate) struct SendPool {
    work: Option<SyncSender<Batch>>,
    free: Receiver<Batch>,
    allocated: usize,
    families: (bool, bool),
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
    /// The caller's own sender, for when every worker is busy.
    direct: RawSender,
}

impl SendPool {
    /// Starts one worker per sender; `direct` is the caller's own.
    pub(crate) fn new(senders: Vec<RawSender>, direct: RawSender) -> io::Result<Self> {
        let (work_tx, work_rx) = mpsc::sync_channel::<Batch>(MAX_BATCHES);
        let work_rx = Arc::new(Mutex::new(work_rx));
        let (free_tx, free_rx) = mpsc::channel::<Batch>();
        let shared = Arc::new(Shared {
            stats: Mutex::new(vec![SendStats::default(); senders.len()]),
            error: Mutex::new(None),
        });
        let families = senders.first().map_or((false, false), RawSender::families);
        let mut workers = Vec::with_capacity(senders.len());
        for (i, sender) in senders.into_iter().enumerate() {
            let work_rx = Arc::clone(&work_rx);
            let free_tx = free_tx.clone();
            let shared = Arc::clone(&shared);
            workers.push(
                std::thread::Builder::new()
                    .name(format!("portolan-send-{i}"))
                    .spawn(move || worker(i, sender, &work_rx, &free_tx, &shared))?,
            );
        }
        Ok(SendPool {
            work: Some(work_tx),
            free: free_rx,
            allocated: 0,
            families,
            shared,
            workers,
            direct,
        })
    }

    /// Queues `packets` for sending; see the module documentation.
    pub(crate) fn send(&mut self, packets: &[&[u8]]) -> io::Result<usize> {
        if let Some(e) = lock(&self.shared.error).take() {
            return Err(e);
        }
        // Malformed packets are refused here, synchronously, as on the
        // direct path: the good ones before the first bad one still go.
        let (v4, v6) = self.families;
        let good = match packets
            .iter()
            .position(|p| check_packet(p, v4, v6).is_err())
        {
            Some(0) => {
                let why = check_packet(packets[0], v4, v6)
                    .err()
                    .unwrap_or("malformed");
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("cannot send packet: {why}"),
                ));
            }
            Some(i) => i,
            None => packets.len(),
        };
        let packets = &packets[..good];
        if packets.is_empty() {
            return Ok(0);
        }
        let mut batch = match self.free.try_recv() {
            Ok(b) => b,
            Err(TryRecvError::Empty) if self.allocated < MAX_BATCHES => {
                self.allocated += 1;
                Batch::default()
            }
            Err(_) => return self.direct.send(packets),
        };
        batch.fill(packets);
        let Some(work) = &self.work else {
            return Err(io::Error::other("send workers stopped"));
        };
        match work.try_send(batch) {
            Ok(()) => Ok(packets.len()),
            Err(mpsc::TrySendError::Full(_)) => self.direct.send(packets),
            Err(mpsc::TrySendError::Disconnected(_)) => {
                Err(io::Error::other("send workers stopped"))
            }
        }
    }

    /// The counters of every worker, summed.
    pub(crate) fn stats(&self) -> SendStats {
        let all = lock(&self.shared.stats);
        let mut sum = SendStats::default();
        for s in all.iter().chain([self.direct.stats()].iter()) {
            sum.sent += s.sent;
            sum.dropped += s.dropped;
            sum.short_batches += s.short_batches;
            sum.last_drop_errno = s.last_drop_errno.or(sum.last_drop_errno);
        }
        sum
    }
}

impl Drop for SendPool {
    fn drop(&mut self) {
        // Closing the queue lets the workers finish what is queued and exit.
        self.work = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn worker(
    index: usize,
    mut sender: RawSender,
    work: &Mutex<Receiver<Batch>>,
    free: &mpsc::Sender<Batch>,
    shared: &Shared,
) {
    loop {
        let next = lock(work).recv();
        let Ok(batch) = next else { return };
        let views = batch.views();
        let mut done = 0;
        let mut retries = 0;
        while done < views.len() {
            match sender.send(&views[done..]) {
                Ok(0) => {
                    retries += 1;
                    if retries > MAX_RETRIES {
                        break;
                    }
                    std::thread::sleep(BACKOFF);
                }
                Ok(n) => {
                    done += n;
                    retries = 0;
                }
                Err(e) => {
                    // Not about one packet (those are dropped and counted
                    // inside `send`): report it and skip the packet.
                    lock(&shared.error).get_or_insert(e);
                    done += 1;
                }
            }
        }
        if let Some(s) = lock(&shared.stats).get_mut(index) {
            *s = sender.stats();
        }
        drop(views);
        if free.send(batch).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Batch;

    #[test]
    fn batches_keep_packet_boundaries() {
        let mut b = Batch::default();
        b.fill(&[b"abc", b"", b"defg"]);
        assert_eq!(b.views(), vec![&b"abc"[..], &b""[..], &b"defg"[..]]);
        b.fill(&[b"x"]);
        assert_eq!(b.views(), vec![&b"x"[..]]);
    }
}
