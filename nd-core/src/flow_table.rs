//! Open addressing for one stripe of the connection table.
//!
//! Entries live in a power-of-two number of slots and are found by linear probing from their
//! home slot, `hash & (slots - 1)`. Removal shifts the following entries of the run back
//! (backward-shift deletion), so there are no tombstones and a lookup stops at the first
//! empty slot. A table grows to twice its slots when an insert would take it past 3/4 full,
//! and may shrink to half once it is under 1/8 full, so probe runs stay short at any size:
//! the cost of a lookup does not depend on how many connections there are.
//!
//! The slots are kept by a [`Slots`] store, which the module backs with page-sized chunks
//! (allocations that succeed in atomic context) and tests with a plain vector.

/// Where a table keeps its slots.
pub trait Slots {
    /// What the slots hold.
    type Entry: Keyed;
    /// The number of slots; a power of two.
    fn count(&self) -> usize;
    /// Slot `index`, below `count()`.
    fn slot(&self, index: usize) -> &Option<Self::Entry>;
    /// Slot `index`, below `count()`, to change.
    fn slot_mut(&mut self, index: usize) -> &mut Option<Self::Entry>;
}

/// What the table needs of an entry.
pub trait Keyed {
    /// What identifies an entry.
    type Key: PartialEq;
    /// The entry's key.
    fn key(&self) -> &Self::Key;
}

/// The fewest slots a table has.
pub const MIN_SLOTS: usize = 16;

/// Whether a table of `slots` slots holding `live` entries must grow before one more insert.
pub fn must_grow(live: usize, slots: usize) -> bool {
    (live + 1) * 4 > slots * 3
}

/// Whether a table of `slots` slots holding `live` entries may give back half its slots.
pub fn may_shrink(live: usize, slots: usize) -> bool {
    slots > MIN_SLOTS && live * 8 < slots
}

/// A stripe's entries: slots and the number of them in use.
pub struct FlowTable<S> {
    slots: S,
    live: usize,
}

/// The insert found no free slot: the table must grow first.
#[derive(Debug, PartialEq, Eq)]
pub struct NoRoom<E>(pub E);

impl<S> FlowTable<S> {
    /// A table over `slots`, which must all be empty.
    pub fn new(slots: S) -> Self {
        FlowTable { slots, live: 0 }
    }

    /// Entries in the table.
    pub fn live(&self) -> usize {
        self.live
    }

    /// The store, e.g. to learn its size.
    pub fn slots(&self) -> &S {
        &self.slots
    }
}

impl<S: Slots> FlowTable<S> {
    fn mask(&self) -> usize {
        self.slots.count() - 1
    }

    /// The slot holding `key`, whose hash is `hash`.
    pub fn find(&self, key: &<S::Entry as Keyed>::Key, hash: u32) -> Option<usize> {
        let mask = self.mask();
        let mut index = hash as usize & mask;
        // A run never fills the table (the load stays under 3/4), so this ends.
        loop {
            match self.slots.slot(index) {
                None => return None,
                Some(entry) if entry.key() == key => return Some(index),
                Some(_) => index = (index + 1) & mask,
            }
        }
    }

    /// The entry in slot `index`, if any.
    pub fn get(&self, index: usize) -> Option<&S::Entry> {
        self.slots.slot(index).as_ref()
    }

    /// The entry in slot `index`, if any, to change (but not its key).
    pub fn get_mut(&mut self, index: usize) -> Option<&mut S::Entry> {
        self.slots.slot_mut(index).as_mut()
    }

    /// Stores `entry`, whose key is not in the table, in the first free slot from its home;
    /// gives it back if the table is too full for it.
    pub fn insert(&mut self, entry: S::Entry, hash: u32) -> Result<usize, NoRoom<S::Entry>> {
        if must_grow(self.live, self.slots.count()) {
            return Err(NoRoom(entry));
        }
        let mask = self.mask();
        let mut index = hash as usize & mask;
        while self.slots.slot(index).is_some() {
            index = (index + 1) & mask;
        }
        *self.slots.slot_mut(index) = Some(entry);
        self.live += 1;
        Ok(index)
    }

    /// Takes the entry out of slot `index` and closes the gap: each later entry of the run
    /// that may sit earlier (its home is not between the gap and itself) moves into it.
    pub fn remove(&mut self, index: usize, hash_of: impl Fn(&S::Entry) -> u32) -> Option<S::Entry> {
        let removed = self.slots.slot_mut(index).take()?;
        self.live -= 1;
        let mask = self.mask();
        let mut gap = index;
        let mut next = (index + 1) & mask;
        while let Some(entry) = self.slots.slot(next) {
            let home = hash_of(entry) as usize & mask;
            // Distances along the ring from the entry's home to the gap and to the entry.
            if (gap.wrapping_sub(home) & mask) < (next.wrapping_sub(home) & mask) {
                let moved = self.slots.slot_mut(next).take();
                *self.slots.slot_mut(gap) = moved;
                gap = next;
            }
            next = (next + 1) & mask;
        }
        Some(removed)
    }

    /// Removes every entry `doomed` picks and returns how many went. `doomed` may see an
    /// entry more than once.
    pub fn remove_where(
        &mut self,
        mut doomed: impl FnMut(&mut S::Entry) -> bool,
        hash_of: impl Fn(&S::Entry) -> u32,
    ) -> usize {
        let before = self.live;
        let count = self.slots.count();
        // An entry that a removal shifts back into a slot already looked at is looked at
        // again, which does no harm; one shifted from the start of the slots to their end
        // (a run that wraps) is looked at a second time, too.
        let mut index = 0;
        while index < count && self.live > 0 {
            let remove = self.slots.slot_mut(index).as_mut().is_some_and(&mut doomed);
            if remove {
                self.remove(index, &hash_of);
            } else {
                index += 1;
            }
        }
        before - self.live
    }

    /// Moves every entry into `bigger` (empty, with room for them all) and returns it; the
    /// old store comes back empty with it.
    pub fn rehash_into<T: Slots<Entry = S::Entry>>(
        &mut self,
        bigger: FlowTable<T>,
        hash_of: impl Fn(&S::Entry) -> u32,
    ) -> FlowTable<T> {
        let mut bigger = bigger;
        for index in 0..self.slots.count() {
            if let Some(entry) = self.slots.slot_mut(index).take() {
                let hash = hash_of(&entry);
                // `bigger` has room: the caller sized it for every entry at under 3/4 load.
                if let Err(NoRoom(entry)) = bigger.insert(entry, hash) {
                    *self.slots.slot_mut(index) = Some(entry);
                    return bigger;
                }
                self.live -= 1;
            }
        }
        bigger
    }

    /// The entries of the run from `hash`'s home slot, at most `limit` of them, with their
    /// slots: those a lookup for a key of that hash looks at.
    pub fn run(&self, hash: u32, limit: usize) -> impl Iterator<Item = (usize, &S::Entry)> + '_ {
        let mask = self.mask();
        let home = hash as usize & mask;
        (0..limit.min(self.slots.count()))
            .map(move |step| (home + step) & mask)
            .map_while(move |index| self.get(index).map(|entry| (index, entry)))
    }

    /// The entries in the `slots` slots from `hash`'s home slot on, with their slots: past
    /// empty slots too, unlike [`FlowTable::run`], so that a search for a victim to evict
    /// does not end at the first gap of a table that is full by count but sparse here.
    pub fn neighbourhood(
        &self,
        hash: u32,
        slots: usize,
    ) -> impl Iterator<Item = (usize, &S::Entry)> + '_ {
        let mask = self.mask();
        let home = hash as usize & mask;
        (0..slots.min(self.slots.count()))
            .map(move |step| (home + step) & mask)
            .filter_map(move |index| self.get(index).map(|entry| (index, entry)))
    }

    /// Entries from slot `from` on, with their slots, for dumps that resume.
    pub fn entries_from(&self, from: usize) -> impl Iterator<Item = (usize, &S::Entry)> + '_ {
        (from..self.slots.count()).filter_map(|index| self.get(index).map(|entry| (index, entry)))
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::collections::HashMap;
    use std::vec::Vec;

    #[derive(Debug, Clone, PartialEq)]
    struct Item {
        key: u32,
        value: u32,
    }

    impl Keyed for Item {
        type Key = u32;
        fn key(&self) -> &u32 {
            &self.key
        }
    }

    struct VecSlots(Vec<Option<Item>>);

    impl VecSlots {
        fn new(count: usize) -> Self {
            VecSlots((0..count).map(|_| None).collect())
        }
    }

    impl Slots for VecSlots {
        type Entry = Item;
        fn count(&self) -> usize {
            self.0.len()
        }
        fn slot(&self, index: usize) -> &Option<Item> {
            &self.0[index]
        }
        fn slot_mut(&mut self, index: usize) -> &mut Option<Item> {
            &mut self.0[index]
        }
    }

    /// A deliberately poor hash, so that runs form and wrap around the end.
    fn hash(key: &u32) -> u32 {
        key / 4
    }

    fn hash_of(item: &Item) -> u32 {
        hash(&item.key)
    }

    fn table(count: usize) -> FlowTable<VecSlots> {
        FlowTable::new(VecSlots::new(count))
    }

    fn put(t: &mut FlowTable<VecSlots>, key: u32) {
        t.insert(Item { key, value: key }, hash(&key)).unwrap();
    }

    /// Every entry is reachable from its home without crossing an empty slot.
    fn check_runs(t: &FlowTable<VecSlots>) {
        let mask = t.slots.count() - 1;
        let mut live = 0;
        for index in 0..t.slots.count() {
            let Some(item) = t.get(index) else { continue };
            live += 1;
            let mut at = hash_of(item) as usize & mask;
            while at != index {
                assert!(
                    t.get(at).is_some(),
                    "gap at {at} before {item:?} at {index}"
                );
                at = (at + 1) & mask;
            }
            assert_eq!(t.find(&item.key, hash_of(item)), Some(index));
        }
        assert_eq!(live, t.live());
    }

    #[test]
    fn finds_what_was_inserted_and_nothing_else() {
        let mut t = table(16);
        for key in [1, 2, 3, 40, 41] {
            put(&mut t, key);
        }
        check_runs(&t);
        for key in [1, 2, 3, 40, 41] {
            let index = t.find(&key, hash(&key)).unwrap();
            assert_eq!(t.get(index).unwrap().value, key);
        }
        assert_eq!(t.find(&5, hash(&5)), None);
    }

    #[test]
    fn refuses_an_insert_past_three_quarters() {
        let mut t = table(16);
        for key in 0..12 {
            put(&mut t, key);
        }
        let refused = t.insert(Item { key: 99, value: 0 }, hash(&99));
        assert_eq!(refused, Err(NoRoom(Item { key: 99, value: 0 })));
        assert_eq!(t.live(), 12);
    }

    #[test]
    fn removal_closes_the_gap_across_the_wrap() {
        // Keys 60..64 share home 15 in 16 slots: the run wraps to slots 0, 1 and 2.
        let mut t = table(16);
        for key in [60, 61, 62, 63, 0] {
            put(&mut t, key);
        }
        check_runs(&t);
        let index = t.find(&60, hash(&60)).unwrap();
        assert_eq!(t.remove(index, hash_of).unwrap().key, 60);
        check_runs(&t);
        for key in [61, 62, 63, 0] {
            assert!(t.find(&key, hash(&key)).is_some(), "lost {key}");
        }
    }

    #[test]
    fn remove_where_takes_exactly_what_it_picks() {
        let mut t = table(64);
        for key in 0..40 {
            put(&mut t, key);
        }
        let removed = t.remove_where(|item| item.key % 3 == 0, hash_of);
        assert_eq!(removed, 14);
        check_runs(&t);
        for key in 0..40 {
            assert_eq!(t.find(&key, hash(&key)).is_some(), key % 3 != 0, "{key}");
        }
    }

    #[test]
    fn rehashing_keeps_every_entry() {
        let mut small = table(16);
        for key in 0..12 {
            put(&mut small, key * 7);
        }
        let big = small.rehash_into(table(32), hash_of);
        assert_eq!(small.live(), 0);
        assert_eq!(big.live(), 12);
        check_runs(&big);
        for key in 0..12 {
            assert!(big.find(&(key * 7), hash(&(key * 7))).is_some());
        }
    }

    #[test]
    fn growth_and_shrink_thresholds() {
        assert!(!must_grow(191, 256) && must_grow(192, 256));
        assert!(may_shrink(127, 1024) && !may_shrink(128, 1024));
        assert!(!may_shrink(0, MIN_SLOTS));
    }

    #[test]
    fn a_run_is_what_a_lookup_walks() {
        let mut t = table(16);
        // Keys 8..12 share home 2; key 20 has home 5, which the run reaches.
        for key in [8, 9, 10, 11, 20] {
            put(&mut t, key);
        }
        let run: Vec<u32> = t.run(hash(&8), 16).map(|(_, e)| e.key).collect();
        assert_eq!(run, [8, 9, 10, 11, 20]);
        let limited: Vec<u32> = t.run(hash(&8), 2).map(|(_, e)| e.key).collect();
        assert_eq!(limited, [8, 9]);
        assert_eq!(t.run(hash(&0), 16).count(), 0);
    }

    #[test]
    fn a_neighbourhood_reaches_past_gaps() {
        let mut t = table(16);
        for key in [8, 9, 10, 11, 20] {
            put(&mut t, key);
        }
        // Key 0's home slot is empty: its run ends at once, its neighbourhood goes on.
        assert_eq!(t.run(hash(&0), 16).count(), 0);
        let mut all: Vec<u32> = t.neighbourhood(hash(&0), 16).map(|(_, e)| e.key).collect();
        all.sort_unstable();
        assert_eq!(all, [8, 9, 10, 11, 20]);
        let near: Vec<u32> = t.neighbourhood(hash(&8), 2).map(|(_, e)| e.key).collect();
        assert_eq!(near, [8, 9]);
        assert_eq!(
            t.neighbourhood(hash(&8), 1000).count(),
            5,
            "bounded by the table"
        );
    }

    #[test]
    fn entries_from_resumes_where_a_dump_stopped() {
        let mut t = table(16);
        for key in [0, 20, 40] {
            put(&mut t, key);
        }
        let all: Vec<u32> = t.entries_from(0).map(|(_, e)| e.key).collect();
        assert_eq!(all, [0, 20, 40]);
        let (second, _) = t.entries_from(0).nth(1).unwrap();
        let rest: Vec<u32> = t.entries_from(second).map(|(_, e)| e.key).collect();
        assert_eq!(rest, [20, 40]);
    }

    /// A seeded sequence of inserts and removals, checked against a map after every step.
    #[test]
    fn agrees_with_a_map_under_random_operations() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut t = table(64);
        let mut model: HashMap<u32, u32> = HashMap::new();
        for step in 0..20_000 {
            let key = (next() % 200) as u32;
            let found = t.find(&key, hash(&key));
            assert_eq!(found.is_some(), model.contains_key(&key), "step {step}");
            match found {
                Some(index) => {
                    t.remove(index, hash_of);
                    model.remove(&key);
                }
                None if !must_grow(t.live(), t.slots.count()) => {
                    put(&mut t, key);
                    model.insert(key, key);
                }
                None => {
                    let grown = table(t.slots.count() * 2);
                    t = t.rehash_into(grown, hash_of);
                }
            }
            if step % 97 == 0 {
                let doomed = (next() % 7) as u32;
                t.remove_where(|item| item.key % 7 == doomed, hash_of);
                model.retain(|key, _| key % 7 != doomed);
            }
        }
        check_runs(&t);
        assert_eq!(t.live(), model.len());
    }
}
