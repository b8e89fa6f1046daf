//! `ndtest bench-inject`: the balancer's per-packet cost, measured without the client's TCP
//! stack in the way. Frames of F flows go out of an `AF_PACKET` socket to the balancer's
//! MAC: first (with `--open`) one SYN per flow and then an ACK, so that the balancer enters
//! and establishes every flow in its connection table, then ACK segments with a small
//! payload, cycling through the flows,
//! as fast as the kernel takes them or at a set rate. What reaches the servers per second
//! (`ndtest count-rx` there) is the forwarding rate.

use std::net::Ipv4Addr;
use std::time::Duration;

use socket2::Socket;

use super::clock::{nanos, now_ns, seconds_between, NANOS_PER_SECOND};
use super::flows::FlowSet;
use super::report::InjectReport;
use crate::raw_packets::flow_frame::FlowFrames;
use crate::raw_packets::frame::{SourceRange, Target};
use crate::raw_packets::packet_socket::{
    interface_index, interface_mac, open_packet_socket, send_batch, set_qdisc_bypass, MAX_BATCH,
};
use crate::report::{count, errno_name, Counts};

/// With a rate, batches are sized to go out this many times a second.
const PACED_BATCHES_PER_SECOND: u64 = 1000;
/// Largest ACK payload: the frame stays within a 1500-byte MTU.
pub const MAX_PAYLOAD: u16 = 1460;

/// What `ndtest bench-inject` does.
#[derive(Debug, Clone)]
pub struct InjectOptions {
    pub ifname: String,
    /// The balancer's MAC.
    pub dst_mac: [u8; 6],
    /// The frames' source MAC; the interface's own when `None`.
    pub src_mac: Option<[u8; 6]>,
    pub vip: Ipv4Addr,
    pub port: u16,
    /// Client addresses of the flows.
    pub sources: SourceRange,
    pub flows: u64,
    /// How long ACK segments are sent.
    pub duration: Duration,
    /// ACK frames per second; as fast as the kernel takes them when `None`.
    pub rate: Option<u64>,
    /// Send one SYN per flow first.
    pub open: bool,
    /// SYNs per second; as fast as the kernel takes them when `None`.
    pub open_rate: Option<u64>,
    /// Bytes of payload in each ACK segment.
    pub payload: u16,
}

/// Frames the kernel took and refused.
#[derive(Default)]
struct Sent {
    frames: u64,
    errors: u64,
    errors_by_errno: Counts,
}

/// Sends frames `first..` as `write` builds them (frame `n` into the given buffer), in
/// batches, until `until` says stop (given the next frame's number and the time), at `rate`
/// frames a second if given.
fn send_frames(
    socket: &Socket,
    frame_len: usize,
    rate: Option<u64>,
    mut until: impl FnMut(u64, u64) -> bool,
    mut write: impl FnMut(u64, &mut [u8]),
    sent: &mut Sent,
) -> u64 {
    let batch = match rate {
        Some(rate) => (rate / PACED_BATCHES_PER_SECOND).clamp(1, MAX_BATCH as u64) as usize,
        None => MAX_BATCH,
    };
    let mut buffer = vec![0u8; batch * frame_len];
    let start_ns = now_ns();
    let mut next = 0u64;
    loop {
        let mut now = now_ns();
        if let Some(rate) = rate {
            let due_ns = start_ns
                + (u128::from(next) * u128::from(NANOS_PER_SECOND) / u128::from(rate)) as u64;
            if due_ns > now {
                std::thread::sleep(Duration::from_nanos(due_ns - now));
                now = now_ns();
            }
        }
        if until(next, now) {
            return next;
        }
        let mut built = 0;
        for frame in buffer.chunks_exact_mut(frame_len) {
            if until(next + built as u64, now) {
                break;
            }
            write(next + built as u64, frame);
            built += 1;
        }
        let frames: Vec<&[u8]> = buffer.chunks_exact(frame_len).take(built).collect();
        let mut offset = 0;
        while offset < built {
            match send_batch(socket, &frames[offset..]) {
                Ok(taken) if taken > 0 => {
                    sent.frames += taken as u64;
                    offset += taken;
                }
                // The first frame left was refused: count it and go on with the rest.
                result => {
                    let errno = result.err().and_then(|e| e.raw_os_error()).unwrap_or(0);
                    sent.errors += 1;
                    count(&mut sent.errors_by_errno, &errno_name(errno));
                    offset += 1;
                }
            }
        }
        next += built as u64;
    }
}

/// Flows opened at a time: their SYNs, then an ACK for each.
const OPEN_BLOCK: u64 = 4096;

/// Runs the injector and reports it.
pub fn run(options: &InjectOptions) -> Result<InjectReport, String> {
    let ifname = &options.ifname;
    let flows = FlowSet::new(options.sources, options.flows)?;
    let src_mac = match options.src_mac {
        Some(mac) => mac,
        None => interface_mac(ifname)?,
    };
    let target = Target {
        dst_mac: options.dst_mac,
        src_mac,
        vip: options.vip,
        port: options.port,
        sources: options.sources,
    };
    let socket = open_packet_socket(interface_index(ifname)?)
        .map_err(|e| format!("AF_PACKET socket on {ifname}: {e}"))?;
    let qdisc_bypass = set_qdisc_bypass(&socket).is_ok();
    let frames = FlowFrames::new(&target, options.payload.min(MAX_PAYLOAD));
    let mut ident: u16 = 0;
    let mut next_ident = || {
        ident = ident.wrapping_add(1);
        ident
    };

    let mut opened = Sent::default();
    let mut acked = Sent::default();
    let open_start_ns = now_ns();
    if options.open {
        // A block of SYNs, then an ACK for each: every flow is established a moment after
        // it was opened, long before a half-open entry's timeout, however many flows.
        for first in (0..flows.len()).step_by(OPEN_BLOCK as usize) {
            let block = OPEN_BLOCK.min(flows.len() - first);
            send_frames(
                &socket,
                frames.syn_len(),
                options.open_rate,
                |n, _| n >= block,
                |n, out| frames.write_syn(out, &flows.flow(first + n), next_ident()),
                &mut opened,
            );
            send_frames(
                &socket,
                frames.ack_len(),
                options.open_rate,
                |n, _| n >= block,
                |n, out| frames.write_ack(out, &flows.flow(first + n), 0, next_ident()),
                &mut acked,
            );
        }
    }
    let open_ms = (now_ns() - open_start_ns) / 1_000_000;

    let mut streamed = Sent::default();
    let start_ns = now_ns();
    let stop_ns = start_ns + nanos(options.duration);
    send_frames(
        &socket,
        frames.ack_len(),
        options.rate,
        |_, now| now >= stop_ns,
        |n, out| {
            let flow = flows.flow(n % flows.len());
            frames.write_ack(out, &flow, n / flows.len(), next_ident());
        },
        &mut streamed,
    );
    let window_s = seconds_between(start_ns, now_ns());

    let mut errors_by_errno = opened.errors_by_errno;
    super::report::add_counts(&mut errors_by_errno, &acked.errors_by_errno);
    super::report::add_counts(&mut errors_by_errno, &streamed.errors_by_errno);
    Ok(InjectReport {
        ifname: ifname.clone(),
        flows: flows.len(),
        frame_len: frames.ack_len() as u64,
        qdisc_bypass,
        syns_sent: opened.frames,
        open_acks_sent: acked.frames,
        open_ms,
        frames_sent: streamed.frames,
        bytes_sent: streamed.frames * frames.ack_len() as u64,
        elapsed_ms: (window_s * 1000.0) as u64,
        rate_pps: if window_s > 0.0 {
            streamed.frames as f64 / window_s
        } else {
            0.0
        },
        target_rate: options.rate,
        send_errors: opened.errors + acked.errors + streamed.errors,
        send_errors_by_errno: errors_by_errno,
    })
}
