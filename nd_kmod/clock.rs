// SPDX-License-Identifier: GPL-2.0
//! The jiffies clock and the kernel's random numbers.

use crate::bindings;

/// Jiffies now, as a 64-bit count that does not wrap.
pub(crate) fn now() -> u64 {
    // SAFETY: Reading the jiffies counter has no precondition.
    unsafe { bindings::nd_jiffies64() }
}

/// Jiffies in `secs` seconds.
pub(crate) fn secs_to_jiffies(secs: u32) -> u64 {
    // SAFETY: A pure conversion.
    let per_second = unsafe { bindings::nd_msecs_to_jiffies(1000) } as u64;
    u64::from(secs) * per_second
}

/// Jiffies in `ms` milliseconds.
pub(crate) fn msecs_to_jiffies(ms: u32) -> u64 {
    // SAFETY: A pure conversion.
    unsafe { bindings::nd_msecs_to_jiffies(ms) as u64 }
}

/// Milliseconds in `jiffies` jiffies, saturating at `u32::MAX`.
pub(crate) fn jiffies_to_msecs(jiffies: u64) -> u32 {
    let jiffies = core::ffi::c_ulong::try_from(jiffies).unwrap_or(core::ffi::c_ulong::MAX);
    // SAFETY: A pure conversion.
    unsafe { bindings::jiffies_to_msecs(jiffies) }
}

/// A random number from the kernel's generator.
pub(crate) fn random_u32() -> u32 {
    // SAFETY: `get_random_u32` may be called in any context.
    unsafe { bindings::get_random_u32() }
}
