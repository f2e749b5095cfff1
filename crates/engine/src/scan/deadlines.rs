//! The queue of probe deadlines: a FIFO where it can be, a heap where it
//! must.
//!
//! Every transmission pushes its deadline (send time plus the RTO) and
//! every expiry pops the earliest, so this queue sees two operations per
//! probe. A binary heap costs O(log n) cache-missing steps per pop, which
//! at the outstanding-probe cap (65536) was a quarter of the engine's time
//! per probe. But deadlines are pushed almost always in order: the RTO
//! changes slowly, so a probe sent later nearly always expires later. So
//! entries pushed in order go to the back of a `VecDeque` (O(1) both
//! ways), and only the few that would break its order (the RTO shrank)
//! go to a heap; the earliest entry is the smaller of the two fronts.
//! Order is by due time only: the run keeps entries due at the same
//! instant (a whole batch, sent at one reading of the clock) in the order
//! they were pushed, where a heap would sort them by the rest of the
//! entry.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// An entry with a due time, its first field.
pub(super) trait Due: Ord {
    /// The due time's type.
    type At: Ord;
    /// When the entry is due.
    fn due(&self) -> &Self::At;
}

impl<A: Ord, B: Ord, C: Ord> Due for (A, B, C) {
    type At = A;
    fn due(&self) -> &A {
        &self.0
    }
}

impl<A: Ord, B: Ord> Due for (A, B) {
    type At = A;
    fn due(&self) -> &A {
        &self.0
    }
}

/// A min-queue of `T` by due time with [`BinaryHeap<Reverse<T>>`]'s
/// interface (the parts the scan uses): see the module documentation.
#[derive(Debug)]
pub(super) struct DeadlineQueue<T: Due> {
    /// Entries pushed in non-decreasing order of due time.
    run: VecDeque<Reverse<T>>,
    /// The rest.
    heap: BinaryHeap<Reverse<T>>,
}

impl<T: Due> Default for DeadlineQueue<T> {
    fn default() -> Self {
        DeadlineQueue {
            run: VecDeque::new(),
            heap: BinaryHeap::new(),
        }
    }
}

impl<T: Due> DeadlineQueue<T> {
    /// An empty queue.
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// Adds an entry.
    pub(super) fn push(&mut self, item: Reverse<T>) {
        match self.run.back() {
            Some(last) if last.0.due() > item.0.due() => self.heap.push(item),
            _ => self.run.push_back(item),
        }
    }

    /// Whether the run's front comes first (false when the run is empty).
    fn run_first(&self) -> bool {
        match (self.run.front(), self.heap.peek()) {
            (Some(r), Some(h)) => r.0.due() <= h.0.due(),
            (Some(_), None) => true,
            _ => false,
        }
    }

    /// The earliest entry.
    pub(super) fn peek(&self) -> Option<&Reverse<T>> {
        if self.run_first() {
            self.run.front()
        } else {
            self.heap.peek()
        }
    }

    /// Removes and returns the earliest entry.
    pub(super) fn pop(&mut self) -> Option<Reverse<T>> {
        if self.run_first() {
            self.run.pop_front()
        } else {
            self.heap.pop()
        }
    }

    /// Entries queued.
    pub(super) fn len(&self) -> usize {
        self.run.len() + self.heap.len()
    }

    /// Removes every entry.
    pub(super) fn clear(&mut self) {
        self.run.clear();
        self.heap.clear();
    }

    /// Removes every entry, in no particular order.
    pub(super) fn drain(&mut self) -> impl Iterator<Item = Reverse<T>> + '_ {
        self.run.drain(..).chain(self.heap.drain())
    }
}

impl<T: Due> From<Vec<Reverse<T>>> for DeadlineQueue<T> {
    /// All in the run, sorted.
    fn from(mut v: Vec<Reverse<T>>) -> Self {
        v.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        DeadlineQueue {
            run: v.into(),
            heap: BinaryHeap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pops in a heap's order of due times whatever the push order, with
    /// pops interleaved, and pops what was pushed.
    #[test]
    fn pops_in_heap_order() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut q = DeadlineQueue::new();
        let mut h = BinaryHeap::new();
        let mut base = 0u64;
        let mut popped = (Vec::new(), Vec::new());
        for i in 0..20_000u64 {
            // Mostly increasing, sometimes earlier (a shrinking RTO).
            base += next() % 4;
            let v = if next() % 10 == 0 {
                base.saturating_sub(next() % 50)
            } else {
                base
            };
            q.push(Reverse((v, i % 7, i)));
            h.push(Reverse((v, i % 7, i)));
            if next() % 3 == 0 {
                let due = |e: Option<&Reverse<(u64, u64, u64)>>| e.map(|r| r.0 .0);
                assert_eq!(due(q.peek()), due(h.peek()));
                let (a, b) = (q.pop().unwrap(), h.pop().unwrap());
                assert_eq!(a.0 .0, b.0 .0);
                popped.0.push(a.0);
                popped.1.push(b.0);
            }
            assert_eq!(q.len(), h.len());
        }
        while let Some(e) = h.pop() {
            let got = q.pop().unwrap();
            assert_eq!(got.0 .0, e.0 .0);
            popped.0.push(got.0);
            popped.1.push(e.0);
        }
        assert_eq!(q.pop(), None);
        assert_eq!(q.peek(), None);
        popped.0.sort_unstable();
        popped.1.sort_unstable();
        assert_eq!(popped.0, popped.1);
    }

    #[test]
    fn rebuilt_from_a_vector_in_order() {
        let mut q = DeadlineQueue::from(vec![Reverse((3, 0)), Reverse((1, 0)), Reverse((2, 0))]);
        q.push(Reverse((0, 0)));
        let got: Vec<i32> = std::iter::from_fn(|| q.pop().map(|r| r.0 .0)).collect();
        assert_eq!(got, [0, 1, 2, 3]);
        q.push(Reverse((5, 0)));
        q.clear();
        assert_eq!(q.len(), 0);
        assert_eq!(q.drain().count(), 0);
    }
}
