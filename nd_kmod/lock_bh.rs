// SPDX-License-Identifier: GPL-2.0
//! A spinlock that also disables bottom halves, for data shared between the packet path or
//! timers (softirq) and process context. The 6.12 `kernel` crate only has plain `spin_lock`.

use crate::bindings;
use kernel::sync::lock::{Backend, Lock};

/// A `spinlock_t` taken with `spin_lock_bh`.
pub(crate) type SpinLockBh<T> = Lock<T, SpinLockBhBackend>;

/// Creates a [`SpinLockBh`] initialiser with a lock class named after the call site.
macro_rules! new_spinlock_bh {
    ($inner:expr $(,)?) => {
        $crate::lock_bh::SpinLockBh::new(
            $inner,
            kernel::optional_name!(),
            kernel::static_lock_class!(),
        )
    };
}
pub(crate) use new_spinlock_bh;

/// The `spin_lock_bh` backend.
pub(crate) struct SpinLockBhBackend;

// SAFETY: `spin_lock_bh` gives mutual exclusion, as `spin_lock` does, and also keeps softirqs
// of this CPU from running while the lock is held, so a softirq never spins on a lock its own
// CPU holds. `relock` keeps its default, which calls `lock`.
unsafe impl Backend for SpinLockBhBackend {
    type State = kernel::bindings::spinlock_t;
    type GuardState = ();

    unsafe fn init(
        ptr: *mut Self::State,
        name: *const kernel::ffi::c_char,
        key: *mut kernel::bindings::lock_class_key,
    ) {
        // SAFETY: The caller guarantees `ptr` is valid for writes and `name` and `key` live
        // forever.
        unsafe { kernel::bindings::__spin_lock_init(ptr, name, key) }
    }

    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: The caller guarantees `ptr` was initialised by `init`. The two bindings name
        // the same C type.
        unsafe { bindings::nd_spin_lock_bh(ptr.cast()) }
    }

    unsafe fn unlock(ptr: *mut Self::State, _guard_state: &Self::GuardState) {
        // SAFETY: The caller guarantees it holds the lock.
        unsafe { bindings::nd_spin_unlock_bh(ptr.cast()) }
    }
}
