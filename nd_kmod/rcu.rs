// SPDX-License-Identifier: GPL-2.0
//! RCU-published snapshots: readers on the packet path take no lock; a writer publishes a new
//! snapshot and gets the old one back only after every reader that could see it is done.

use crate::bindings;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::sync::Arc;

/// An RCU read-side critical section; it ends when the guard is dropped.
pub(crate) struct ReadGuard {
    // The section belongs to this CPU and task: the guard must not move to another thread.
    _not_send: PhantomData<*mut ()>,
}

/// Enters an RCU read-side critical section.
pub(crate) fn read_lock() -> ReadGuard {
    // SAFETY: `rcu_read_lock` may be called in any context; the guard's drop ends the section.
    unsafe { bindings::nd_rcu_read_lock() };
    ReadGuard {
        _not_send: PhantomData,
    }
}

impl Drop for ReadGuard {
    fn drop(&mut self) {
        // SAFETY: The guard was created by `read_lock`, so a section is open on this CPU.
        unsafe { bindings::nd_rcu_read_unlock() };
    }
}

/// Waits until every RCU read-side critical section that had begun has ended. Sleeps.
pub(crate) fn synchronize() {
    // SAFETY: Called from process context only (administration and teardown paths).
    unsafe { bindings::synchronize_rcu() };
}

/// A pointer to an `Arc<T>` snapshot that readers follow under RCU.
///
/// # Invariants
///
/// `ptr` always holds a pointer from `Arc::into_raw`, owning one reference.
pub(crate) struct RcuArc<T> {
    ptr: AtomicPtr<T>,
}

impl<T: Send + Sync> RcuArc<T> {
    /// Publishes `initial`.
    pub(crate) fn new(initial: Arc<T>) -> Self {
        // INVARIANT: The pointer comes from `Arc::into_raw`.
        RcuArc {
            ptr: AtomicPtr::new(Arc::into_raw(initial).cast_mut()),
        }
    }

    /// The current snapshot, valid for the read-side section `guard` stands for.
    pub(crate) fn read<'a>(&'a self, _guard: &'a ReadGuard) -> &'a T {
        // SAFETY: By the type invariant the pointer owns a reference, and a replaced snapshot
        // is released only after `synchronize`, which waits for the section `_guard` holds.
        unsafe { &*self.ptr.load(Ordering::Acquire) }
    }

    /// A counted reference to the current snapshot, for process-context users.
    pub(crate) fn get(&self) -> Arc<T> {
        let guard = read_lock();
        let current: *const T = self.read(&guard);
        // SAFETY: `current` came from `Arc::into_raw` and is alive for the section, so taking
        // one more reference and handing it out as an `Arc` is sound.
        unsafe {
            let borrowed = core::mem::ManuallyDrop::new(Arc::from_raw(current));
            Arc::clone(&borrowed)
        }
    }

    /// Publishes `next` and returns the previous snapshot once no reader can see it. Sleeps.
    pub(crate) fn replace(&self, next: Arc<T>) -> Arc<T> {
        // INVARIANT: The new pointer comes from `Arc::into_raw`.
        let old = self.ptr.swap(Arc::into_raw(next).cast_mut(), Ordering::AcqRel);
        synchronize();
        // SAFETY: `old` came from `Arc::into_raw` and its reference is ours now; no reader
        // holds a borrow of it after `synchronize`.
        unsafe { Arc::from_raw(old) }
    }
}

impl<T> Drop for RcuArc<T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the pointer owns a reference. The owner drops this only
        // after the packet hook is unregistered, which waits for readers.
        drop(unsafe { Arc::from_raw(*self.ptr.get_mut()) });
    }
}
