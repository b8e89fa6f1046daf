// SPDX-License-Identifier: GPL-2.0
//! Direct-routing transmission, the way IPVS's `ip_vs_dr_xmit` does it: route to the server's
//! address as a known next hop, attach that route and send the packet down the output path.
//! The neighbour layer then writes the server's MAC (resolving it by ARP while the packet
//! waits) and the egress device's MAC; the IP header is left exactly as it came.

use crate::bindings;
use crate::netns::NetRef;
use crate::skb::{Skb, Verdict};

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

/// Sends `skb` to `server` (an IPv4 address in network order) in namespace `net`, to
/// `static_mac` when given instead of the neighbour table's entry.
pub(crate) fn send(
    net: NetRef,
    skb: Skb<'_>,
    server: u32,
    static_mac: Option<[u8; 6]>,
) -> (Verdict, Outcome) {
    // SAFETY: `flowi4` is plain data for which all-zero is the empty flow.
    let mut flow: bindings::flowi4 = unsafe { core::mem::zeroed() };
    flow.daddr = server;
    // The route must lead to the server itself, not to the VIP in the IP header.
    flow.__fl_common.flowic_flags = bindings::FLOWI_FLAG_KNOWN_NH as u8;
    // SAFETY: `net` is alive (type invariant) and `flow` is a valid flow on our stack.
    let rt = unsafe { bindings::nd_ip_route_output_key(net.as_ptr(), &mut flow) };
    // SAFETY: `nd_is_err` only inspects the pointer value.
    if rt.is_null() || unsafe { bindings::nd_is_err(rt.cast()) } {
        return (skb.free(), Outcome::NoRoute);
    }
    // SAFETY: `rt` is a valid route we hold a reference to.
    if unsafe { (*rt).rt_flags } & bindings::RTCF_LOCAL != 0 {
        // SAFETY: We drop the one reference the lookup gave us.
        unsafe { bindings::nd_ip_rt_put(rt) };
        return (skb.accept(), Outcome::Local);
    }
    let packet = skb.as_ptr();
    match static_mac {
        None => {
            // SAFETY: The packet is ours (consumed below); its old route is dropped and the
            // new one's reference passes to it, and `dst_output` consumes the packet.
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
                let dev = bindings::nd_rt_dev(rt);
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
                    bindings::nd_ip_rt_put(rt);
                    return (skb.free(), Outcome::NoRoute);
                }
                bindings::nd_dev_queue_xmit(packet);
                bindings::nd_ip_rt_put(rt);
            }
            core::mem::forget(skb);
            (Verdict::Stolen, Outcome::Sent)
        }
    }
}
