//! Values keyed by a number that only grows and taken in about the order they were put:
//! an event's writes waiting for their commit. A ring of slots instead of a hash table: no
//! hashing, and the slots of a commit's writes sit next to each other in memory.

use std::collections::VecDeque;

#[derive(Debug)]
pub(super) struct BySeq<T> {
    /// The number of `slots[0]`.
    first: u64,
    slots: VecDeque<Option<T>>,
    len: usize,
}

impl<T> Default for BySeq<T> {
    fn default() -> BySeq<T> {
        BySeq {
            first: 0,
            slots: VecDeque::new(),
            len: 0,
        }
    }
}

impl<T> BySeq<T> {
    /// Puts `value` at `seq`, replacing what was there. Numbers skipped (a write that was
    /// never submitted) cost an empty slot until the ones before them are taken.
    pub fn insert(&mut self, seq: u64, value: T) {
        if self.slots.is_empty() {
            self.first = seq;
        }
        while seq < self.first {
            self.slots.push_front(None);
            self.first -= 1;
        }
        let at = usize::try_from(seq - self.first).unwrap_or(usize::MAX);
        while self.slots.len() <= at {
            self.slots.push_back(None);
        }
        if self.slots[at].replace(value).is_none() {
            self.len += 1;
        }
    }

    fn index(&self, seq: u64) -> Option<usize> {
        let at = usize::try_from(seq.checked_sub(self.first)?).ok()?;
        (at < self.slots.len()).then_some(at)
    }

    pub fn get_mut(&mut self, seq: u64) -> Option<&mut T> {
        let at = self.index(seq)?;
        self.slots[at].as_mut()
    }

    pub fn remove(&mut self, seq: u64) -> Option<T> {
        let at = self.index(seq)?;
        let value = self.slots[at].take()?;
        self.len -= 1;
        while let Some(None) = self.slots.front() {
            self.slots.pop_front();
            self.first += 1;
        }
        Some(value)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_in_any_order_and_keeps_no_empty_slots_in_front() {
        let mut slots = BySeq::default();
        for seq in 10..20 {
            slots.insert(seq, seq * 2);
        }
        assert_eq!(slots.len(), 10);
        assert_eq!(slots.remove(13), Some(26));
        assert_eq!(slots.remove(13), None);
        assert_eq!(slots.get_mut(14).copied(), Some(28));
        for seq in [10, 11, 12, 19, 18] {
            assert_eq!(slots.remove(seq), Some(seq * 2));
        }
        // 10 to 13 are gone, so the ring now starts at 14.
        assert_eq!(slots.first, 14);
        assert_eq!(slots.len(), 4);
        assert_eq!(slots.remove(9), None);
        assert_eq!(slots.remove(25), None);
        for seq in 14..18 {
            assert_eq!(slots.remove(seq), Some(seq * 2));
        }
        assert!(slots.is_empty());
        assert!(slots.slots.is_empty());
    }

    #[test]
    fn skipped_and_earlier_numbers_fit() {
        let mut slots = BySeq::default();
        slots.insert(5, "five");
        slots.insert(8, "eight");
        slots.insert(3, "three");
        assert_eq!(slots.len(), 3);
        assert_eq!(slots.get_mut(4), None);
        slots.insert(5, "five again");
        assert_eq!(slots.len(), 3);
        assert_eq!(slots.remove(3), Some("three"));
        assert_eq!(slots.remove(5), Some("five again"));
        assert_eq!(slots.first, 8);
        assert_eq!(slots.remove(8), Some("eight"));
        assert!(slots.is_empty());
    }
}
