// SPDX-License-Identifier: GPL-2.0
//! A periodic kernel timer whose handler runs in softirq context.

use crate::bindings;
use core::pin::Pin;
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::types::Opaque;

/// What a timer runs.
pub(crate) trait TimerHandler: Send + Sync + 'static {
    /// Runs in softirq context; returns the delay in jiffies until the next run, if any.
    fn fire(&self) -> Option<u64>;
}

/// A timer, stopped for good on drop.
///
/// # Invariants
///
/// `timer` was set up with `callback::<T>` and is embedded first in this `repr(C)` value, at
/// an address that does not change (the value is pinned).
#[repr(C)]
#[pin_data(PinnedDrop)]
pub(crate) struct Timer<T: TimerHandler> {
    #[pin]
    timer: Opaque<bindings::timer_list>,
    handler: Arc<T>,
}

// SAFETY: The kernel synchronises access to the timer itself; the handler is `Send + Sync`.
unsafe impl<T: TimerHandler> Send for Timer<T> {}
// SAFETY: See `Send`; shared references only arm the timer, which `mod_timer` synchronises.
unsafe impl<T: TimerHandler> Sync for Timer<T> {}

impl<T: TimerHandler> Timer<T> {
    /// A timer that will run `handler` once started.
    pub(crate) fn new(handler: Arc<T>) -> Result<Pin<KBox<Self>>> {
        let timer = KBox::pin_init(
            pin_init!(Timer {
                // SAFETY: `timer_setup` initialises the timer in place; it is not armed yet.
                timer <- unsafe {
                    Opaque::ffi_init(|slot: *mut bindings::timer_list| {
                        bindings::nd_timer_setup(slot, Some(Self::callback))
                    })
                },
                handler,
            }),
            GFP_KERNEL,
        )?;
        Ok(timer)
    }

    /// Runs the handler in `delay` jiffies.
    pub(crate) fn start(&self, delay: u64) {
        let expires = crate::clock::now().wrapping_add(delay) as core::ffi::c_ulong;
        // SAFETY: The timer was set up in `new` and lives until `drop` shuts it down.
        unsafe { bindings::mod_timer(self.timer.get(), expires) };
    }

    unsafe extern "C" fn callback(timer: *mut bindings::timer_list) {
        // SAFETY: By the type invariant the timer is the first field of a live `Timer<T>`
        // (drop shuts the timer down before the value goes).
        let this = unsafe { &*timer.cast::<Self>() };
        if let Some(delay) = this.handler.fire() {
            this.start(delay);
        }
    }
}

#[pinned_drop]
impl<T: TimerHandler> PinnedDrop for Timer<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: The timer was set up in `new`; shutting it down waits for a running callback
        // and makes any later re-arm a no-op, so no callback outlives the value.
        unsafe { bindings::timer_shutdown_sync(self.timer.get()) };
    }
}
