// SPDX-License-Identifier: GPL-2.0
//! A view of a packet inside a netfilter hook, and the verdicts that end the hook's ownership.

use crate::bindings;
use core::marker::PhantomData;
use core::ptr::NonNull;

/// What becomes of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The stack goes on with it.
    Accept,
    /// The stack frees it.
    Drop,
    /// The hook took it over (sent or freed it).
    Stolen,
}

impl Verdict {
    pub(crate) fn as_raw(self) -> core::ffi::c_uint {
        match self {
            Verdict::Accept => bindings::NF_ACCEPT,
            Verdict::Drop => bindings::NF_DROP,
            Verdict::Stolen => bindings::NF_STOLEN,
        }
    }
}

/// A packet a hook owns until it returns a verdict; at PRE_ROUTING its data starts at the IP
/// header.
///
/// # Invariants
///
/// `ptr` is a valid `sk_buff` that nothing else touches until the value is consumed.
pub(crate) struct Skb<'a> {
    ptr: NonNull<bindings::sk_buff>,
    _hook: PhantomData<&'a mut bindings::sk_buff>,
}

impl Skb<'_> {
    /// Wraps the packet a hook was handed.
    ///
    /// # Safety
    ///
    /// `skb` must be a valid packet the caller owns for the lifetime of the value.
    pub(crate) unsafe fn from_raw(skb: *mut bindings::sk_buff) -> Option<Self> {
        NonNull::new(skb).map(|ptr| Skb {
            ptr,
            _hook: PhantomData,
        })
    }

    /// The raw packet, for the other abstraction modules.
    pub(crate) fn as_ptr(&self) -> *mut bindings::sk_buff {
        self.ptr.as_ptr()
    }

    /// Bytes from the network header on, IP header included.
    pub(crate) fn len(&self) -> u32 {
        // SAFETY: By the type invariant the packet is valid.
        unsafe { bindings::nd_skb_len(self.as_ptr()) }
    }

    /// Whether the packet was addressed to this host at the link layer.
    pub(crate) fn is_for_host(&self) -> bool {
        // SAFETY: By the type invariant the packet is valid.
        u32::from(unsafe { bindings::nd_skb_pkt_type(self.as_ptr()) }) == bindings::PACKET_HOST
    }

    /// The first `len` bytes from the network header, made linear; `None` if the packet is
    /// shorter or memory runs out.
    pub(crate) fn network_bytes(&mut self, len: usize) -> Option<&[u8]> {
        let wanted = core::ffi::c_uint::try_from(len).ok()?;
        // SAFETY: By the type invariant the packet is valid and ours; pulling may move its
        // data, which is why the returned slice borrows `self` mutably.
        unsafe {
            if !bindings::nd_pskb_may_pull(self.as_ptr(), wanted) {
                return None;
            }
            let start = bindings::nd_skb_network_header(self.as_ptr());
            Some(core::slice::from_raw_parts(start, len))
        }
    }

    /// Lets the stack go on with the packet.
    pub(crate) fn accept(self) -> Verdict {
        Verdict::Accept
    }

    /// Has the stack free the packet.
    pub(crate) fn drop_packet(self) -> Verdict {
        Verdict::Drop
    }

    /// Frees the packet now; the hook then returns `Stolen`.
    pub(crate) fn free(self) -> Verdict {
        // SAFETY: By the type invariant the packet is ours; consuming `self` ends our use.
        unsafe { bindings::nd_kfree_skb(self.as_ptr()) };
        Verdict::Stolen
    }
}
