// SPDX-License-Identifier: GPL-2.0
//! Direct-routing transmission, the way IPVS's `ip_vs_dr_xmit` does it: route to the server's
//! address as a known next hop, attach that route and send the packet down the output path.
//! The neighbour layer then writes the server's MAC (resolving it by ARP while the packet
//! waits) and the egress device's MAC; the IP header is left exactly as it came.
//!
//! Each server keeps its route between packets (as IPVS keeps `dest_dst`) and looks it up
//! again only when the routing tables have changed since, which `dst_check` tells.

use crate::bindings;
use crate::netns::NetRef;
use crate::rcu::ReadGuard;
use crate::skb::{Skb, Verdict};
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

/// How a packet left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Sent towards the server.
    Sent,
    /// The server is this host: the local stack receives the packet.
    Local,
    /// No route to the server, or the link layer header could not be built; the packet was
    /// freed.
    NoRoute,
}

/// A server's route, reused while it stays valid.
///
/// # Invariants
///
/// `dst` is null or a route this cache holds one reference to.
pub(crate) struct RouteCache {
    dst: AtomicPtr<bindings::dst_entry>,
}

/// A route with one reference that belongs to its holder.
///
/// # Invariants
///
/// The pointer is a valid route and the holder owns one reference to it.
struct HeldRoute(*mut bindings::rtable);

impl Drop for HeldRoute {
    fn drop(&mut self) {
        // SAFETY: The reference is ours (type invariant of `HeldRoute`).
        unsafe { bindings::nd_ip_rt_put(self.0) };
    }
}

impl HeldRoute {
    /// Gives the reference away, to a packet.
    fn into_raw(self) -> *mut bindings::rtable {
        let rt = self.0;
        core::mem::forget(self);
        rt
    }

    fn is_local(&self) -> bool {
        // SAFETY: The route is valid while we hold a reference.
        unsafe { (*self.0).rt_flags & bindings::RTCF_LOCAL != 0 }
    }
}

impl RouteCache {
    pub(crate) const fn new() -> Self {
        // INVARIANT: Empty.
        RouteCache {
            dst: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// The cached route if it is still valid, with a reference for the caller.
    fn cached(&self, _guard: &ReadGuard) -> Option<HeldRoute> {
        let dst = self.dst.load(Ordering::Acquire);
        if dst.is_null() {
            return None;
        }
        // SAFETY: A route released by a concurrent `replace` is freed only after an RCU grace
        // period, and `_guard` holds off the end of ours, so `dst` is still memory of a route;
        // `dst_hold_safe` takes a reference only if the route is not already dying.
        unsafe {
            if !bindings::nd_dst_valid(dst) || !bindings::nd_dst_hold_safe(dst) {
                return None;
            }
            Some(HeldRoute(bindings::nd_dst_rtable(dst)))
        }
    }

    /// Looks up the route to `server` in `net` and caches it; a reference for the caller.
    fn refresh(&self, net: NetRef, server: u32) -> Option<HeldRoute> {
        // SAFETY: `flowi4` is plain data for which all-zero is the empty flow.
        let mut flow: bindings::flowi4 = unsafe { core::mem::zeroed() };
        flow.daddr = server;
        // The route must lead to the server itself, not to the VIP in the IP header.
        flow.__fl_common.flowic_flags = bindings::FLOWI_FLAG_KNOWN_NH as u8;
        // SAFETY: `net` is alive (type invariant) and `flow` is a valid flow on our stack.
        let rt = unsafe { bindings::nd_ip_route_output_key(net.as_ptr(), &mut flow) };
        // SAFETY: `nd_is_err` only inspects the pointer value.
        if rt.is_null() || unsafe { bindings::nd_is_err(rt.cast()) } {
            return None;
        }
        // SAFETY: `rt` is a valid route we hold a reference to; the cache takes a second one.
        let dst = unsafe {
            let dst = bindings::nd_rtable_dst(rt);
            bindings::nd_dst_hold(dst);
            dst
        };
        // INVARIANT: The cache now holds the second reference; the old route's goes.
        let old = self.dst.swap(dst, Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: The cache held a reference to `old`, which it gives up; readers that
            // still see it are covered by RCU (see `cached`).
            unsafe { bindings::dst_release(old) };
        }
        Some(HeldRoute(rt))
    }

    /// A route to `server` with a reference for the caller.
    fn route(&self, net: NetRef, server: u32, guard: &ReadGuard) -> Option<HeldRoute> {
        self.cached(guard).or_else(|| self.refresh(net, server))
    }
}

impl Drop for RouteCache {
    fn drop(&mut self) {
        let dst = *self.dst.get_mut();
        if !dst.is_null() {
            // SAFETY: By the type invariant the cache holds a reference to `dst`.
            unsafe { bindings::dst_release(dst) };
        }
    }
}

// SAFETY: The cache is an atomic pointer to a reference-counted kernel object whose
// operations may be called from any CPU.
unsafe impl Send for RouteCache {}
// SAFETY: As above: every access goes through atomics and the route's own reference count.
unsafe impl Sync for RouteCache {}

/// Sends `skb` to `server` (an IPv4 address in network order) in namespace `net` by the route
/// `routes` keeps, to `static_mac` when given instead of the neighbour table's entry.
pub(crate) fn send(
    net: NetRef,
    skb: Skb<'_>,
    server: u32,
    static_mac: Option<[u8; 6]>,
    routes: &RouteCache,
    guard: &ReadGuard,
) -> (Verdict, Outcome) {
    let Some(route) = routes.route(net, server, guard) else {
        return (skb.free(), Outcome::NoRoute);
    };
    if route.is_local() {
        return (skb.accept(), Outcome::Local);
    }
    let packet = skb.as_ptr();
    match static_mac {
        None => {
            let rt = route.into_raw();
            // SAFETY: The packet is ours (consumed below); its old route is dropped and the
            // route's reference passes to it, and `dst_output` consumes the packet.
            unsafe {
                bindings::nd_skb_dst_drop(packet);
                bindings::nd_skb_dst_set(packet, rt.cast());
                bindings::nd_skb_prepare_forward(packet);
                bindings::nd_dst_output(net.as_ptr(), packet);
            }
            core::mem::forget(skb);
            (Verdict::Stolen, Outcome::Sent)
        }
        Some(mac) => {
            // SAFETY: The route's device is valid while we hold the route. The packet is ours;
            // at PRE_ROUTING its headroom still holds the received Ethernet header, which
            // `dev_hard_header` writes over. `dev_queue_xmit` consumes the packet.
            unsafe {
                let dev = bindings::nd_rt_dev(route.0);
                bindings::nd_skb_dst_drop(packet);
                bindings::nd_skb_prepare_forward(packet);
                bindings::nd_skb_set_dev(packet, dev);
                let source = bindings::nd_dev_addr(dev);
                let len = bindings::nd_skb_len(packet);
                let header = bindings::nd_dev_hard_header(
                    packet,
                    dev,
                    bindings::ETH_P_IP as u16,
                    mac.as_ptr().cast(),
                    source.cast(),
                    len,
                );
                if header < 0 {
                    return (skb.free(), Outcome::NoRoute);
                }
                bindings::nd_dev_queue_xmit(packet);
            }
            core::mem::forget(skb);
            (Verdict::Stolen, Outcome::Sent)
        }
    }
}
