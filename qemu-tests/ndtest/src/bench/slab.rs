//! Connection storage for an event loop: entries live in reusable slots, and each is known to
//! epoll by a token of its slot and the slot's generation. A slot's generation changes when
//! its entry is removed, so an event still queued for a closed connection never reaches the
//! next connection stored in the same slot.

/// Tokens whose slot half is all ones are never handed out; loops use them for their
/// listeners, timers and stop flags.
pub const fn reserved_token(n: u32) -> u64 {
    (n as u64) << 32 | u32::MAX as u64
}

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

/// Entries of type `T` under generation-checked tokens.
pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
}

fn split(token: u64) -> (usize, u32) {
    ((token & u64::from(u32::MAX)) as usize, (token >> 32) as u32)
}

impl<T> Slab<T> {
    /// An empty slab with room for `capacity` entries before it grows.
    pub fn with_capacity(capacity: usize) -> Slab<T> {
        Slab {
            slots: Vec::with_capacity(capacity),
            free: Vec::new(),
            len: 0,
        }
    }

    /// Entries stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Stores `value`; its token.
    pub fn insert(&mut self, value: T) -> u64 {
        self.len += 1;
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                let index = u32::try_from(self.slots.len())
                    .ok()
                    .filter(|&index| index < u32::MAX)
                    .expect("fewer than 2^32 - 1 entries");
                self.slots.push(Slot {
                    generation: 0,
                    value: None,
                });
                index
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.value = Some(value);
        u64::from(slot.generation) << 32 | u64::from(index)
    }

    /// The entry of `token`, unless it was removed since.
    pub fn get_mut(&mut self, token: u64) -> Option<&mut T> {
        let (index, generation) = split(token);
        let slot = self.slots.get_mut(index)?;
        if slot.generation != generation {
            return None;
        }
        slot.value.as_mut()
    }

    /// Takes out the entry of `token`, unless it was removed already.
    pub fn remove(&mut self, token: u64) -> Option<T> {
        let (index, generation) = split(token);
        let slot = self.slots.get_mut(index)?;
        if slot.generation != generation {
            return None;
        }
        let value = slot.value.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index as u32);
        self.len -= 1;
        Some(value)
    }

    /// The tokens of the entries for which `pick` holds.
    pub fn tokens_where(&self, mut pick: impl FnMut(&T) -> bool) -> Vec<u64> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(index, slot)| {
                let value = slot.value.as_ref()?;
                pick(value).then_some(u64::from(slot.generation) << 32 | index as u64)
            })
            .collect()
    }

    /// Takes out every entry.
    pub fn drain(&mut self) -> Vec<T> {
        let tokens = self.tokens_where(|_| true);
        tokens
            .into_iter()
            .filter_map(|token| self.remove(token))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_token_misses_the_slots_next_entry() {
        let mut slab = Slab::with_capacity(2);
        let first = slab.insert("first");
        assert_eq!(slab.remove(first), Some("first"));
        let second = slab.insert("second");
        assert_ne!(first, second, "same slot, new generation");
        assert_eq!(slab.get_mut(first), None);
        assert_eq!(slab.remove(first), None);
        assert_eq!(slab.get_mut(second).copied(), Some("second"));
        assert_eq!(slab.len(), 1);
    }

    #[test]
    fn slots_are_reused_and_counted() {
        let mut slab = Slab::with_capacity(0);
        let tokens: Vec<u64> = (0..10).map(|n| slab.insert(n)).collect();
        for &token in &tokens[..5] {
            slab.remove(token);
        }
        assert_eq!(slab.len(), 5);
        for n in 10..15 {
            slab.insert(n);
        }
        assert_eq!(slab.slots.len(), 10, "freed slots were reused");
        let mut even = slab.tokens_where(|n| n % 2 == 0);
        even.sort_unstable();
        assert_eq!(even.len(), 5);
        let mut values = slab.drain();
        values.sort_unstable();
        assert_eq!(values, (5..15).collect::<Vec<_>>());
        assert!(slab.is_empty());
    }

    #[test]
    fn reserved_tokens_name_no_slot() {
        let mut slab: Slab<u8> = Slab::with_capacity(1);
        slab.insert(1);
        assert_eq!(slab.get_mut(reserved_token(0)), None);
        assert_ne!(reserved_token(0), reserved_token(1));
    }
}
