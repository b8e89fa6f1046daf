//! `ndtest raw-packets`: crafted Ethernet frames to the dispatcher's MAC through an
//! `AF_PACKET` socket, past the sender's own IP stack: malformed and unexpected frames, or a
//! flood of valid SYNs from random clients.

pub mod flow_frame;
pub mod frame;
pub mod packet_socket;

use std::time::{Duration, Instant};

use ndadm::model::MacAddr;

use crate::prng::Prng;
use crate::report::{count, errno_name, RawPacketsReport};
use frame::{malformed_frame, syn_frame, Malformed, SourceRange, Target};
use packet_socket::{interface_index, interface_mac, open_packet_socket, send_batch};

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
