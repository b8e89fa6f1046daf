// SPDX-License-Identifier: GPL-2.0
//! Per-CPU counters: the packet path adds to its own CPU's copy, with no lock, no atomic
//! read-modify-write and no cache line shared between CPUs; a reader sums every CPU's copy.

use crate::bindings;
use core::ptr::NonNull;
use kernel::build_assert;
use kernel::prelude::*;

// A reader loads each CPU's 64-bit copy in one access; 32-bit machines would need
// u64_stats_sync around it.
#[cfg(not(target_pointer_width = "64"))]
compile_error!("per-CPU counters are read without u64_stats_sync: 64-bit kernels only");

/// `N` counters with one copy per possible CPU. A counter is read as the sum of its copies,
/// so gauges can be kept here too: increments and decrements wrap and the sum comes out right
/// whichever CPUs they ran on.
///
/// # Invariants
///
/// `base` is a live per-CPU allocation of `N` `u64`s, owned by this value.
pub(crate) struct PerCpuCounters<const N: usize> {
    base: NonNull<u64>,
}

// SAFETY: The copies are only touched through `this_cpu_add` (safe on any CPU, in any context)
// and `READ_ONCE` of whole 64-bit words, so sharing and sending the handle is sound.
unsafe impl<const N: usize> Send for PerCpuCounters<N> {}
// SAFETY: See `Send`; no method hands out a reference into the per-CPU area.
unsafe impl<const N: usize> Sync for PerCpuCounters<N> {}

impl<const N: usize> PerCpuCounters<N> {
    /// Allocates the counters, all zero. Sleeps.
    pub(crate) fn new() -> Result<Self> {
        let count = u32::try_from(N).map_err(|_| EINVAL)?;
        // SAFETY: Process context; the per-CPU allocator returns zeroed memory or null.
        let base = unsafe { bindings::nd_alloc_percpu_u64s(count) };
        // INVARIANT: A non-null result is a fresh allocation of `N` u64s per CPU.
        Ok(PerCpuCounters {
            base: NonNull::new(base).ok_or(ENOMEM)?,
        })
    }

    /// Adds `n` to counter `INDEX` on this CPU; a wrapping `n` subtracts.
    #[inline(always)]
    pub(crate) fn add<const INDEX: usize>(&self, n: u64) {
        build_assert!(INDEX < N);
        // SAFETY: `base` is a live per-CPU area of `N` u64s and `INDEX < N`; `this_cpu_add`
        // is safe with preemption and interrupts enabled or not.
        unsafe { bindings::nd_this_cpu_add_u64(self.base.as_ptr(), INDEX as u32, n) };
    }

    /// Counter `INDEX` summed over every possible CPU.
    pub(crate) fn sum<const INDEX: usize>(&self) -> u64 {
        build_assert!(INDEX < N);
        let mut total = 0u64;
        let mut cpu = -1;
        loop {
            // SAFETY: Walking the possible-CPU mask has no precondition.
            cpu = unsafe { bindings::nd_next_possible_cpu(cpu) };
            if cpu < 0 {
                return total;
            }
            // SAFETY: `base` is a live per-CPU area of `N` u64s, `INDEX < N`, and `cpu` is a
            // possible CPU, so it has a copy.
            total = total.wrapping_add(unsafe {
                bindings::nd_per_cpu_u64(self.base.as_ptr(), INDEX as u32, cpu)
            });
        }
    }
}

impl<const N: usize> Drop for PerCpuCounters<N> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `base` came from the per-CPU allocator and is freed
        // once, here; `&mut self` means no one is using it.
        unsafe { bindings::free_percpu(self.base.as_ptr().cast()) };
    }
}
