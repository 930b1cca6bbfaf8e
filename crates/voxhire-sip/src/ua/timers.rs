//! The user agent's deadlines in one min-heap, so finding the next one and the due
//! ones costs O(log n) instead of a scan of every transaction and call. A load of a
//! few hundred call attempts per second keeps thousands of finished transactions
//! (Timers J and K hold them 32 s) and terminated calls alive; scanning them on
//! every datagram made the work grow with the square of the rate.
//!
//! Each owner (a transaction, a call) has at most one live deadline: [`Timers::set`]
//! replaces it, and the heap entry of the replaced one is skipped when it comes up.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Instant;

use super::CallHandle;
use crate::transaction::TransactionKey;

/// What a deadline belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Owner {
    Client(TransactionKey),
    Server(TransactionKey),
    Call(CallHandle),
}

#[derive(Debug, Default)]
pub(super) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
    /// Live entries: heap id → owner.
    live: HashMap<u64, Owner>,
    /// Owner → its live heap id and deadline.
    ids: HashMap<Owner, (u64, Instant)>,
    next_id: u64,
}

impl Timers {
    /// Sets (or with `None` clears) the owner's deadline.
    /// Called after every message a transaction handles: most leave its
    /// deadline where it was, and then nothing is pushed.
    pub(super) fn set(&mut self, owner: Owner, at: Option<Instant>) {
        if self.ids.get(&owner).map(|&(_, old)| old) == at {
            return;
        }
        if let Some((old, _)) = self.ids.remove(&owner) {
            self.live.remove(&old);
        }
        if let Some(at) = at {
            let id = self.next_id;
            self.next_id += 1;
            self.heap.push(Reverse((at, id)));
            self.live.insert(id, owner.clone());
            self.ids.insert(owner, (id, at));
        }
        self.prune();
    }

    /// The earliest live deadline.
    pub(super) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Takes the owners whose deadlines are at or before `now`, earliest first.
    pub(super) fn take_due(&mut self, now: Instant) -> Vec<Owner> {
        let mut due = Vec::new();
        while let Some(Reverse((at, id))) = self.heap.peek().copied() {
            if at > now {
                break;
            }
            self.heap.pop();
            if let Some(owner) = self.live.remove(&id) {
                self.ids.remove(&owner);
                due.push(owner);
            }
        }
        self.prune();
        due
    }

    /// Drops replaced entries from the top, so [`Timers::next`] is a live one.
    fn prune(&mut self) {
        while let Some(Reverse((_, id))) = self.heap.peek() {
            if self.live.contains_key(id) {
                break;
            }
            self.heap.pop();
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.live.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_latest_setting_wins_and_due_owners_come_out_once_in_order() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut t = Timers::default();
        t.set(Owner::Call(CallHandle(1)), Some(ms(50)));
        t.set(Owner::Call(CallHandle(2)), Some(ms(10)));
        t.set(Owner::Call(CallHandle(1)), Some(ms(5)));
        t.set(Owner::Call(CallHandle(3)), Some(ms(20)));
        t.set(Owner::Call(CallHandle(3)), None);
        assert_eq!(t.next(), Some(ms(5)));
        assert_eq!(t.take_due(ms(4)), vec![]);
        assert_eq!(
            t.take_due(ms(60)),
            vec![Owner::Call(CallHandle(1)), Owner::Call(CallHandle(2))]
        );
        assert_eq!(t.next(), None);
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn an_unchanged_deadline_adds_no_heap_entry() {
        let at = Instant::now();
        let mut t = Timers::default();
        for _ in 0..5 {
            t.set(Owner::Call(CallHandle(1)), Some(at));
        }
        assert_eq!(t.heap.len(), 1);
        t.set(Owner::Call(CallHandle(1)), None);
        t.set(Owner::Call(CallHandle(1)), None);
        assert_eq!((t.heap.len(), t.len()), (0, 0));
    }
}
