// SPDX-License-Identifier: GPL-2.0
//! The slots of an open-addressing table in chunks of at most a page: allocations that
//! succeed in the atomic context where a table grows, whatever its size.

use crate::flow_table::{Keyed, Slots};
use core::mem::size_of;
use kernel::alloc::{AllocError, Flags};
use kernel::prelude::*;

/// A power-of-two number of slots.
pub(crate) struct ChunkedSlots<E> {
    chunks: KVec<KVec<Option<E>>>,
    count: usize,
}

/// Slots in one chunk: the most that fit in 4 KiB, rounded down to a power of two so that
/// every table size is a whole number of chunks.
const fn chunk_slots<E>() -> usize {
    let fit = 4096 / size_of::<Option<E>>();
    1 << (usize::BITS - 1 - fit.leading_zeros())
}

impl<E> ChunkedSlots<E> {
    /// `count` empty slots; `count` is a power of two.
    pub(crate) fn new(count: usize, flags: Flags) -> Result<Self, AllocError> {
        let per_chunk = count.min(chunk_slots::<E>());
        let chunk_count = count.checked_div(per_chunk).ok_or(AllocError)?;
        let mut chunks = KVec::with_capacity(chunk_count, flags)?;
        for _ in 0..chunk_count {
            let mut chunk = KVec::with_capacity(per_chunk, flags)?;
            for _ in 0..per_chunk {
                // Within the capacity just reserved: this does not allocate.
                chunk.push(None, flags)?;
            }
            chunks.push(chunk, flags)?;
        }
        Ok(ChunkedSlots { chunks, count })
    }

    /// No slots, for a table that is never used.
    pub(crate) fn empty() -> Self {
        ChunkedSlots {
            chunks: KVec::new(),
            count: 0,
        }
    }

    /// The memory the slots take.
    pub(crate) fn bytes(&self) -> usize {
        self.count * size_of::<Option<E>>() + self.chunks.len() * size_of::<KVec<Option<E>>>()
    }
}

impl<E: Keyed> Slots for ChunkedSlots<E> {
    type Entry = E;

    fn count(&self) -> usize {
        self.count
    }

    fn slot(&self, index: usize) -> &Option<E> {
        &self.chunks[index / chunk_slots::<E>()][index % chunk_slots::<E>()]
    }

    fn slot_mut(&mut self, index: usize) -> &mut Option<E> {
        &mut self.chunks[index / chunk_slots::<E>()][index % chunk_slots::<E>()]
    }
}
