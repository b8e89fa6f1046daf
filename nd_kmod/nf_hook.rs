// SPDX-License-Identifier: GPL-2.0
//! Netfilter hook registration: a handler sees each IPv4 packet at one hook point of one
//! namespace and returns a verdict.

use crate::bindings;
use crate::netns::NetRef;
use crate::skb::{Skb, Verdict};
use kernel::prelude::*;
use kernel::sync::Arc;

/// A packet handler.
pub(crate) trait Hook: Send + Sync + 'static {
    /// Handles one packet; `net` is the namespace the hook is registered in.
    fn hook(&self, net: NetRef, skb: Skb<'_>) -> Verdict;
}

/// An IPv4 PRE_ROUTING hook, unregistered on drop.
pub(crate) struct Registration<T: Hook> {
    ops: KBox<bindings::nf_hook_ops>,
    net: NetRef,
    _handler: Arc<T>,
}

// SAFETY: After registration the operations are only read, by the kernel.
unsafe impl<T: Hook> Send for Registration<T> {}
// SAFETY: See `Send`.
unsafe impl<T: Hook> Sync for Registration<T> {}

impl<T: Hook> Registration<T> {
    /// Registers `handler` in IPv4 PRE_ROUTING of `net` at `priority`.
    pub(crate) fn pre_routing(net: NetRef, priority: i32, handler: Arc<T>) -> Result<Self> {
        // SAFETY: `nf_hook_ops` is plain data for which all-zero is a valid, empty value.
        let mut ops: KBox<bindings::nf_hook_ops> =
            KBox::new(unsafe { core::mem::zeroed() }, GFP_KERNEL)?;
        ops.hook = Some(Self::hook_callback);
        ops.pf = bindings::NFPROTO_IPV4 as u8;
        ops.hooknum = bindings::NF_INET_PRE_ROUTING;
        ops.priority = priority;
        ops.priv_ = (&*handler as *const T).cast_mut().cast();
        // SAFETY: `ops` is boxed, so its address is stable until `drop` unregisters it, and
        // the handler it points to is kept alive by `_handler` until then.
        kernel::error::to_result(unsafe { bindings::nf_register_net_hook(net.as_ptr(), &*ops) })?;
        Ok(Registration {
            ops,
            net,
            _handler: handler,
        })
    }

    unsafe extern "C" fn hook_callback(
        priv_: *mut core::ffi::c_void,
        skb: *mut bindings::sk_buff,
        state: *const bindings::nf_hook_state,
    ) -> core::ffi::c_uint {
        // SAFETY: `priv_` is the handler `Registration` keeps alive while registered.
        let handler = unsafe { &*priv_.cast::<T>() };
        // SAFETY: The hook state names the namespace the hook runs in, alive during the call.
        let net = unsafe { NetRef::from_raw((*state).net) };
        // SAFETY: Netfilter hands the hook a valid packet it owns until the verdict.
        let skb = unsafe { Skb::from_raw(skb) };
        match (net, skb) {
            (Some(net), Some(skb)) => handler.hook(net, skb).as_raw(),
            _ => bindings::NF_ACCEPT,
        }
    }
}

impl<T: Hook> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: Registered in `pre_routing` with these operations; unregistering waits until
        // no CPU runs the hook, after which the handler may go.
        unsafe { bindings::nf_unregister_net_hook(self.net.as_ptr(), &*self.ops) };
    }
}
