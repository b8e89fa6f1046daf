// SPDX-License-Identifier: GPL-2.0
//! Per-network-namespace state: pernet operations create a `T` for every namespace, existing or
//! new, and drop it when the namespace goes away.

use crate::bindings;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ptr::NonNull;
use kernel::prelude::*;
use kernel::sync::Arc;

/// A network namespace.
///
/// # Invariants
///
/// The namespace is alive for as long as the value exists: values are only made for a
/// namespace whose state is registered, and the state (which holds the only long-lived copy)
/// is dropped in the namespace's exit, before the namespace is freed.
#[derive(Clone, Copy)]
pub(crate) struct NetRef(NonNull<bindings::net>);

// SAFETY: A `struct net` is shared by every CPU; the kernel APIs this pointer is handed to
// synchronise themselves.
unsafe impl Send for NetRef {}
// SAFETY: See `Send`.
unsafe impl Sync for NetRef {}

impl NetRef {
    /// Wraps `net`.
    ///
    /// # Safety
    ///
    /// `net` must be a live namespace that stays alive while the value is used (see the type
    /// invariant).
    pub(crate) unsafe fn from_raw(net: *mut bindings::net) -> Option<Self> {
        NonNull::new(net).map(NetRef)
    }

    /// The raw pointer, for the other abstraction modules.
    pub(crate) fn as_ptr(self) -> *mut bindings::net {
        self.0.as_ptr()
    }
}

/// What pernet state a module keeps.
pub(crate) trait PernetState: Send + Sync + Sized + 'static {
    /// Creates the state of a namespace that appears.
    fn new(net: NetRef) -> Result<Self>;
}

// The registration's operations and id, handed to the kernel by address. The module has one
// kind of pernet state, so one set suffices.
static mut OPS: MaybeUninit<bindings::pernet_operations> = MaybeUninit::zeroed();
static mut NET_ID: core::ffi::c_uint = 0;

/// The registered pernet operations; unregistering drops the state of every namespace.
pub(crate) struct Registration<T: PernetState> {
    _state: PhantomData<T>,
}

impl<T: PernetState> Registration<T> {
    /// Registers the operations, creating a `T` for every existing namespace.
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: Module init runs once, before anything else touches `OPS`; the kernel reads
        // it only after registration.
        let ops = unsafe { &mut *(&raw mut OPS) }.as_mut_ptr();
        // SAFETY: `ops` points to zeroed static storage; filling the fields before
        // registration races with nothing.
        unsafe {
            (*ops).init = Some(Self::init_callback);
            (*ops).exit = Some(Self::exit_callback);
            (*ops).id = &raw mut NET_ID;
            (*ops).size = core::mem::size_of::<*const T>();
        }
        // SAFETY: `ops` is fully initialised and lives in a static.
        kernel::error::to_result(unsafe { bindings::register_pernet_subsys(ops) })?;
        Ok(Registration {
            _state: PhantomData,
        })
    }

    /// The slot the kernel keeps for this module in `net`.
    ///
    /// # Safety
    ///
    /// The operations must be registered and `net` alive.
    unsafe fn slot(net: NetRef) -> *mut *const T {
        // SAFETY: `NET_ID` was set by registration and is read-only afterwards; the caller
        // guarantees `net` is alive and registered.
        unsafe { bindings::nd_net_generic(net.as_ptr(), NET_ID).cast() }
    }

    /// The state of `net`.
    ///
    /// # Safety
    ///
    /// The registration must be alive, and `net` must be alive and not exiting: true in a
    /// generic netlink handler, which runs on a socket that holds the namespace.
    pub(crate) unsafe fn get(net: NetRef) -> Option<Arc<T>> {
        // SAFETY: The caller's guarantees are those of `slot`, and of the slot's pointer
        // owning a reference until the namespace exits.
        unsafe {
            let ptr = *Self::slot(net);
            if ptr.is_null() {
                return None;
            }
            let borrowed = core::mem::ManuallyDrop::new(Arc::from_raw(ptr));
            Some(Arc::clone(&borrowed))
        }
    }

    unsafe extern "C" fn init_callback(net: *mut bindings::net) -> core::ffi::c_int {
        // SAFETY: The kernel calls `init` with a live namespace that stays alive at least until
        // `exit` drops the state.
        let Some(net) = (unsafe { NetRef::from_raw(net) }) else {
            return EINVAL.to_errno();
        };
        let state = match T::new(net).and_then(|s| Ok(Arc::new(s, GFP_KERNEL)?)) {
            Ok(state) => state,
            Err(e) => return e.to_errno(),
        };
        // SAFETY: The registration is in progress or complete and `net` is alive; the slot is
        // the kernel's zeroed storage of the size we asked for, ours alone.
        unsafe { *Self::slot(net) = Arc::into_raw(state) };
        0
    }

    unsafe extern "C" fn exit_callback(net: *mut bindings::net) {
        // SAFETY: The kernel calls `exit` with the live namespace `init` was called with.
        let Some(net) = (unsafe { NetRef::from_raw(net) }) else {
            return;
        };
        // SAFETY: As in `init_callback`; the namespace has no users left that could call `get`.
        unsafe {
            let slot = Self::slot(net);
            let ptr = core::mem::replace(&mut *slot, core::ptr::null());
            if !ptr.is_null() {
                drop(Arc::from_raw(ptr));
            }
        }
    }
}

impl<T: PernetState> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: Registered in `register`; unregistering calls `exit` for every namespace.
        unsafe { bindings::unregister_pernet_subsys((&raw mut OPS).cast()) };
    }
}
