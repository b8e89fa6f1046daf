//! `ndtest count-rx`: frames an interface received per second, from its sysfs counters read
//! at fixed intervals. On a server, that is what the balancer forwarded to it, counted by
//! the driver at no cost to the receiving stack.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::clock::{nanos, now_ns, NANOS_PER_SECOND};
use super::report::CountRxReport;
use crate::raw_packets::packet_socket::interface_attribute;

/// What `ndtest count-rx` does.
#[derive(Debug, Clone)]
pub struct CountRxOptions {
    pub ifname: String,
    /// How long to count.
    pub duration: Duration,
    /// How often to read the counters; not zero.
    pub interval: Duration,
    /// Created once the first reading is taken, so that a driver can start the traffic.
    pub ready_file: Option<PathBuf>,
}

/// One reading of an interface's receive counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reading {
    packets: u64,
    bytes: u64,
    dropped: u64,
}

fn counter(ifname: &str, name: &str) -> Result<u64, String> {
    let text = interface_attribute(ifname, &format!("statistics/{name}"))?;
    text.parse()
        .map_err(|_| format!("{ifname}: {name} '{text}' is not a number"))
}

fn read(ifname: &str) -> Result<Reading, String> {
    Ok(Reading {
        packets: counter(ifname, "rx_packets")?,
        bytes: counter(ifname, "rx_bytes")?,
        dropped: counter(ifname, "rx_dropped")?,
    })
}

/// The median of the non-zero counts, as a rate per second of `interval_ns`; 0 if none.
pub fn median_active_rate(counts: &[u64], interval_ns: u64) -> f64 {
    let mut active: Vec<u64> = counts.iter().copied().filter(|&n| n > 0).collect();
    if active.is_empty() || interval_ns == 0 {
        return 0.0;
    }
    active.sort_unstable();
    let middle = active.len() / 2;
    let median = if active.len() % 2 == 1 {
        active[middle] as f64
    } else {
        (active[middle - 1] + active[middle]) as f64 / 2.0
    };
    median * NANOS_PER_SECOND as f64 / interval_ns as f64
}

/// Writes via a rename, so that a script polling for the file never sees it half-written.
fn write_ready_file(path: &Path, ifname: &str) -> std::io::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, format!("counting {ifname}\n"))?;
    std::fs::rename(&partial, path)
}

/// Counts and reports.
pub fn run(options: &CountRxOptions) -> Result<CountRxReport, String> {
    let ifname = &options.ifname;
    let interval_ns = nanos(options.interval).max(1);
    let first = read(ifname)?;
    let start_ns = now_ns();
    if let Some(path) = &options.ready_file {
        write_ready_file(path, ifname).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let end_ns = start_ns + nanos(options.duration);
    let mut per_interval = Vec::new();
    let mut previous = first;
    let mut full_intervals = 0;
    let mut tick_ns = start_ns;
    while tick_ns < end_ns {
        // On a fixed grid from the start, so that a late wakeup does not shift the rest.
        tick_ns = (tick_ns + interval_ns).min(end_ns);
        let now = now_ns();
        if tick_ns > now {
            std::thread::sleep(Duration::from_nanos(tick_ns - now));
        }
        let reading = read(ifname)?;
        per_interval.push(reading.packets.wrapping_sub(previous.packets));
        if tick_ns - start_ns == (full_intervals + 1) * interval_ns {
            full_intervals += 1;
        }
        previous = reading;
    }
    let elapsed_ns = now_ns() - start_ns;
    let rx_packets = previous.packets.wrapping_sub(first.packets);
    Ok(CountRxReport {
        ifname: ifname.clone(),
        elapsed_ms: elapsed_ns / 1_000_000,
        rx_packets,
        rx_bytes: previous.bytes.wrapping_sub(first.bytes),
        rx_dropped: previous.dropped.wrapping_sub(first.dropped),
        pps: rx_packets as f64 * NANOS_PER_SECOND as f64 / elapsed_ns.max(1) as f64,
        interval_ms: interval_ns / 1_000_000,
        // A last, shorter interval would bias the median down: only full ones count.
        median_active_pps: median_active_rate(
            &per_interval[..full_intervals as usize],
            interval_ns,
        ),
        per_interval,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_skips_idle_intervals() {
        let ms100 = 100_000_000;
        assert_eq!(median_active_rate(&[0, 10, 30, 20, 0], ms100), 200.0);
        assert_eq!(median_active_rate(&[10, 20], ms100), 150.0);
        assert_eq!(median_active_rate(&[0, 0], ms100), 0.0);
        assert_eq!(median_active_rate(&[], ms100), 0.0);
    }

    #[test]
    fn loopback_counts_its_own_traffic() {
        let options = CountRxOptions {
            ifname: "lo".to_owned(),
            duration: Duration::from_millis(250),
            interval: Duration::from_millis(100),
            ready_file: None,
        };
        let report = run(&options).unwrap();
        assert_eq!(
            report.per_interval.len(),
            3,
            "two full intervals and a short one"
        );
        assert_eq!(report.per_interval.iter().sum::<u64>(), report.rx_packets);
        assert!(report.elapsed_ms >= 250);
    }

    #[test]
    fn a_missing_interface_is_named() {
        let options = CountRxOptions {
            ifname: "nd-nosuch0".to_owned(),
            duration: Duration::from_millis(10),
            interval: Duration::from_millis(10),
            ready_file: None,
        };
        assert!(run(&options).unwrap_err().contains("nd-nosuch0"));
    }
}
