//! `ndtest raw-packets`: crafted Ethernet frames to the dispatcher's MAC through an
//! `AF_PACKET` socket, past the sender's own IP stack: malformed and unexpected frames, or a
//! flood of valid SYNs from random clients.

pub mod frame;

use std::io;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use ndadm::model::MacAddr;
use socket2::{Domain, Socket, Type};

use crate::prng::Prng;
use crate::report::{count, errno_name, RawPacketsReport};
use frame::{malformed_frame, syn_frame, Malformed, SourceRange, Target};

/// Frames handed to the kernel in one `sendmmsg` call.
const BATCH: usize = 64;
/// With a rate, batches are sized to send this many times a second.
const PACED_BATCHES_PER_SECOND: u64 = 100;

/// What frames to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Traffic {
    /// Each frame one of the [`Malformed`] kinds, drawn at random.
    Malformed,
    /// Valid TCP SYNs to the cluster address and port.
    Synflood,
}

impl Traffic {
    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            Traffic::Malformed => "malformed",
            Traffic::Synflood => "synflood",
        }
    }
}

/// What `ndtest raw-packets` does.
#[derive(Clone, Debug)]
pub struct RawOptions {
    /// Interface to send on.
    pub ifname: String,
    /// The dispatcher's MAC.
    pub dst_mac: MacAddr,
    /// The cluster address.
    pub vip: std::net::Ipv4Addr,
    /// The configured port.
    pub port: u16,
    /// Frames to send.
    pub count: u64,
    /// Seed of the frame generator.
    pub seed: u64,
    /// Malformed frames or a SYN flood.
    pub traffic: Traffic,
    /// Client addresses.
    pub sources: SourceRange,
    /// Frames per second, or as fast as the kernel takes them.
    pub rate: Option<u64>,
}

/// Sends the frames and reports how many the kernel took, by kind.
pub fn run(options: &RawOptions) -> Result<RawPacketsReport, String> {
    let ifname = &options.ifname;
    let target = Target {
        dst_mac: options.dst_mac.0,
        src_mac: interface_mac(ifname)?,
        vip: options.vip,
        port: options.port,
        sources: options.sources,
    };
    let socket = open_packet_socket(interface_index(ifname)?)
        .map_err(|e| format!("AF_PACKET socket on {ifname}: {e}"))?;
    let mut rng = Prng::new(options.seed);
    let mut report = RawPacketsReport {
        kind: options.traffic.name().to_owned(),
        ..RawPacketsReport::default()
    };
    let batch = match options.rate {
        Some(rate) => (rate / PACED_BATCHES_PER_SECOND).clamp(1, BATCH as u64) as usize,
        None => BATCH,
    };
    let mut frames = Vec::with_capacity(batch);
    let mut kinds = Vec::with_capacity(batch);
    let started = Instant::now();
    let mut built = 0;
    while built < options.count {
        frames.clear();
        kinds.clear();
        let this_batch = (options.count - built).min(batch as u64);
        for _ in 0..this_batch {
            let (frame, kind) = match options.traffic {
                Traffic::Synflood => (syn_frame(&target, &mut rng), "syn"),
                Traffic::Malformed => {
                    let kind = *rng.pick(&Malformed::ALL);
                    (malformed_frame(kind, &target, &mut rng), kind.name())
                }
            };
            frames.push(frame);
            kinds.push(kind);
        }
        if let Some(rate) = options.rate {
            let due = started + Duration::from_secs_f64(built as f64 / rate as f64);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        built += this_batch;
        let mut next = 0;
        while next < frames.len() {
            match send_batch(&socket, &frames[next..]) {
                Ok(sent) if sent > 0 => {
                    for kind in &kinds[next..next + sent] {
                        count(&mut report.by_kind, kind);
                    }
                    report.sent += sent as u64;
                    next += sent;
                }
                // The first frame left was refused: count it and go on with the rest.
                result => {
                    let errno = result.err().and_then(|e| e.raw_os_error()).unwrap_or(0);
                    report.send_errors += 1;
                    count(&mut report.send_errors_by_errno, &errno_name(errno));
                    next += 1;
                }
            }
        }
    }
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// The MAC of interface `ifname` in this namespace.
fn interface_mac(ifname: &str) -> Result<[u8; 6], String> {
    let text = interface_attribute(ifname, "address")?;
    text.parse::<MacAddr>()
        .map(|mac| mac.0)
        .map_err(|e| format!("{ifname}: {e}"))
}

/// The index of interface `ifname` in this namespace.
fn interface_index(ifname: &str) -> Result<i32, String> {
    let text = interface_attribute(ifname, "ifindex")?;
    text.parse()
        .map_err(|_| format!("{ifname}: ifindex '{text}' is not a number"))
}

fn interface_attribute(ifname: &str, attribute: &str) -> Result<String, String> {
    if ifname.is_empty() || ifname.contains('/') {
        return Err(format!("'{ifname}' is not an interface name"));
    }
    let path = format!("/sys/class/net/{ifname}/{attribute}");
    std::fs::read_to_string(&path)
        .map(|text| text.trim().to_owned())
        .map_err(|e| format!("{path}: {e}"))
}

/// A raw packet socket bound to interface `ifindex`. Its protocol is 0, so it receives
/// nothing and costs nothing for the traffic coming back.
fn open_packet_socket(ifindex: i32) -> io::Result<Socket> {
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

/// Hands `frames` to the kernel in one `sendmmsg` call on the bound socket; the number it
/// took, which stops before the first frame it refused.
fn send_batch(socket: &Socket, frames: &[Vec<u8>]) -> io::Result<usize> {
    let frames = &frames[..frames.len().min(BATCH)];
    let mut iovecs: Vec<libc::iovec> = frames
        .iter()
        .map(|frame| libc::iovec {
            iov_base: frame.as_ptr() as *mut libc::c_void,
            iov_len: frame.len(),
        })
        .collect();
    let mut messages: Vec<libc::mmsghdr> = iovecs
        .iter_mut()
        .map(|iovec| {
            // SAFETY: mmsghdr is plain data for which all zeroes is valid (no address, no
            // control data); musl adds private padding fields, so it cannot be spelled out.
            let mut message: libc::mmsghdr = unsafe { std::mem::zeroed() };
            message.msg_hdr.msg_iov = iovec;
            message.msg_hdr.msg_iovlen = 1;
            message
        })
        .collect();
    // SAFETY: each header points at one iovec, each iovec at one frame; all of them live
    // until the call returns, and the kernel only reads the frames.
    let sent = unsafe {
        libc::sendmmsg(
            socket.as_raw_fd(),
            messages.as_mut_ptr(),
            messages.len() as libc::c_uint,
            0,
        )
    };
    if sent < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(sent as usize)
    }
}
