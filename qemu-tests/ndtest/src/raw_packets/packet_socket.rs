//! Sending whole Ethernet frames on one interface through an `AF_PACKET` socket, past the
//! sender's own IP stack, and reading the interface's attributes from sysfs.

use std::io;
use std::os::fd::AsRawFd;

use ndadm::model::MacAddr;
use socket2::{Domain, Socket, Type};

/// Most frames [`send_batch`] hands to the kernel in one call.
pub const MAX_BATCH: usize = 256;

/// The MAC of interface `ifname` in this namespace.
pub fn interface_mac(ifname: &str) -> Result<[u8; 6], String> {
    let text = interface_attribute(ifname, "address")?;
    text.parse::<MacAddr>()
        .map(|mac| mac.0)
        .map_err(|e| format!("{ifname}: {e}"))
}

/// The index of interface `ifname` in this namespace.
pub fn interface_index(ifname: &str) -> Result<i32, String> {
    let text = interface_attribute(ifname, "ifindex")?;
    text.parse()
        .map_err(|_| format!("{ifname}: ifindex '{text}' is not a number"))
}

/// The text of `/sys/class/net/IFNAME/ATTRIBUTE`, trimmed; `attribute` may be a path below
/// it, like `statistics/rx_packets`.
pub fn interface_attribute(ifname: &str, attribute: &str) -> Result<String, String> {
    if ifname.is_empty() || ifname.contains('/') || ifname.starts_with('.') {
        return Err(format!("'{ifname}' is not an interface name"));
    }
    let path = format!("/sys/class/net/{ifname}/{attribute}");
    std::fs::read_to_string(&path)
        .map(|text| text.trim().to_owned())
        .map_err(|e| format!("{path}: {e}"))
}

/// A raw packet socket bound to interface `ifindex`. Its protocol is 0, so it receives
/// nothing and costs nothing for the traffic coming back.
pub fn open_packet_socket(ifindex: i32) -> io::Result<Socket> {
    let socket = Socket::new(
        Domain::from(libc::AF_PACKET),
        Type::from(libc::SOCK_RAW),
        None,
    )?;
    let address = libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as u16,
        sll_protocol: 0,
        sll_ifindex: ifindex,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 0,
        sll_addr: [0; 8],
    };
    // SAFETY: `address` is a valid sockaddr_ll that outlives the call, and its size is
    // passed along; the descriptor is open.
    let rc = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            (&address as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(socket)
}

/// Sends the socket's frames straight to the driver, skipping the queueing discipline: less
/// work per frame, and a full device queue drops the frame instead of queueing it.
pub fn set_qdisc_bypass(socket: &Socket) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: passes a pointer to an int that lives across the call, and its size.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_QDISC_BYPASS,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Hands up to [`MAX_BATCH`] of `frames` to the kernel in one `sendmmsg` call on the bound
/// socket; the number it took, which stops before the first frame it refused.
pub fn send_batch<F: AsRef<[u8]>>(socket: &Socket, frames: &[F]) -> io::Result<usize> {
    let frames = &frames[..frames.len().min(MAX_BATCH)];
    let mut iovecs = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; MAX_BATCH];
    // SAFETY: mmsghdr is plain data for which all zeroes is valid (no address, no control
    // data); musl adds private padding fields, so it cannot be spelled out.
    let mut messages: [libc::mmsghdr; MAX_BATCH] = unsafe { std::mem::zeroed() };
    for ((frame, iovec), message) in frames.iter().zip(&mut iovecs).zip(&mut messages) {
        let frame = frame.as_ref();
        iovec.iov_base = frame.as_ptr() as *mut libc::c_void;
        iovec.iov_len = frame.len();
        message.msg_hdr.msg_iov = iovec;
        message.msg_hdr.msg_iovlen = 1;
    }
    // SAFETY: each of the first `frames.len()` headers points at one iovec, each iovec at one
    // frame; all of them live until the call returns, and the kernel only reads the frames.
    let sent = unsafe {
        libc::sendmmsg(
            socket.as_raw_fd(),
            messages.as_mut_ptr(),
            frames.len() as libc::c_uint,
            0,
        )
    };
    if sent < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(sent as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_an_index_and_a_mac() {
        assert!(interface_index("lo").unwrap() > 0);
        assert_eq!(interface_mac("lo").unwrap(), [0; 6]);
        let packets: u64 = interface_attribute("lo", "statistics/rx_packets")
            .unwrap()
            .parse()
            .unwrap();
        assert!(packets < u64::MAX);
    }

    #[test]
    fn odd_interface_names_are_refused() {
        for name in ["", "../lo", "lo/..", ".."] {
            assert!(interface_attribute(name, "address").is_err(), "{name:?}");
        }
    }
}
