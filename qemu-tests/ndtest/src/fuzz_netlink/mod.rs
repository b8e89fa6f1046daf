//! `ndtest fuzz-netlink`: random, valid and mutated requests to the `nd` generic netlink
//! family of the current namespace, counted by how the kernel answered.
//!
//! Half the requests are valid or lightly mutated, so the configuration really changes while
//! the rest probe validation. Accepted mutating requests can be recorded and replayed
//! elsewhere (see [`record`]) to show that rejected ones changed nothing.

pub mod generate;
pub mod message;
pub mod mutate;
pub mod record;
pub mod socket;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ndadm::client::Client;

use crate::prng::Prng;
use crate::report::{count, errno_name, FuzzReport, ReplayReport};
use generate::{command_name, generate, is_dump_command, is_mutating_command};
use message::flags;
use record::{to_hex, Recorder};
use socket::{GenlSocket, Outcome};

/// How long a receive waits for the kernel before the request counts as timed out.
pub const RECEIVE_TIMEOUT: Duration = Duration::from_secs(2);
/// Requests sent on one socket before it is replaced by a fresh one.
pub const FRESH_SOCKET_EVERY: u64 = 1000;
/// Most accepted unprivileged requests a report lists; `accepted_mutating` counts them all.
const MAX_LISTED_FINDINGS: usize = 100;
/// Percentage of dumps left after their first entry.
const ABANDON_PERCENT: u64 = 30;
/// Mixed into the seed for the socket decisions, which then never shift the requests drawn.
const SOCKET_STREAM: u64 = 0x736f_636b_6574_7321;

/// What `ndtest fuzz-netlink` does.
#[derive(Clone, Debug)]
pub struct FuzzOptions {
    /// Requests to send.
    pub count: u64,
    /// Seed of the request generator.
    pub seed: u64,
    /// File to append accepted mutating requests to.
    pub record: Option<PathBuf>,
    /// User to become before opening any socket.
    pub uid: Option<u32>,
}

/// The id of the `nd` family, from the generic netlink controller.
pub fn resolve_family() -> Result<u16, String> {
    Client::connect_with_timeout(RECEIVE_TIMEOUT)
        .map(|client| client.family_id())
        .map_err(|e| e.to_string())
}

/// Sends the requests and reports how the kernel answered them.
pub fn run(options: &FuzzOptions) -> Result<FuzzReport, String> {
    // Opened while still privileged: the file may live where the test user cannot write.
    let mut recorder = match &options.record {
        Some(path) => {
            Some(Recorder::append_to(path).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => None,
    };
    if let Some(uid) = options.uid {
        crate::privileges::become_user(uid).map_err(|e| format!("cannot become uid {uid}: {e}"))?;
    }
    let family = resolve_family()?;
    let report = fuzz(options, family, recorder.as_mut())?;
    if let Some(recorder) = recorder {
        recorder.finish().map_err(|e| format!("record file: {e}"))?;
    }
    Ok(report)
}

/// Sends the requests to family `family`, recording accepted mutating ones with `recorder`.
fn fuzz(
    options: &FuzzOptions,
    family: u16,
    mut recorder: Option<&mut Recorder>,
) -> Result<FuzzReport, String> {
    let started = Instant::now();
    let mut requests = Prng::new(options.seed);
    let mut decisions = Prng::new(options.seed ^ SOCKET_STREAM);
    let mut report = FuzzReport {
        seed: options.seed,
        uid: options.uid,
        ..FuzzReport::default()
    };
    let mut socket: Option<GenlSocket> = None;
    let mut payload = Vec::with_capacity(1024);
    for sent in 0..options.count {
        if sent % FRESH_SOCKET_EVERY == 0 {
            socket = None;
        }
        let open = match socket.as_mut() {
            Some(open) => open,
            None => {
                report.sockets_opened += 1;
                socket.insert(
                    GenlSocket::open(family, RECEIVE_TIMEOUT)
                        .map_err(|e| format!("netlink socket: {e}"))?,
                )
            }
        };
        let generated = generate(&mut requests);
        count(&mut report.by_origin, generated.origin.name());
        for mutation in &generated.mutations {
            count(&mut report.mutations, mutation.name());
        }
        let request = &generated.request;
        request.encode_payload(&mut payload);
        let dump =
            request.netlink_flags & flags::DUMP == flags::DUMP && is_dump_command(request.cmd);
        let abandon = dump && decisions.chance(ABANDON_PERCENT);
        report.sent += 1;
        report.dumps += u64::from(dump);
        let exchange = match open.exchange(request.netlink_flags, &payload, abandon) {
            Ok(exchange) => exchange,
            Err(error) => {
                count(&mut report.socket_errors, &io_error_name(&error));
                socket = None;
                continue;
            }
        };
        report.dumps_flagged_intr += u64::from(exchange.dump_interrupted);
        match exchange.outcome {
            Outcome::Accepted => {
                report.accepted += 1;
                count(&mut report.accepted_by_cmd, &command_name(request.cmd));
                report.dumps_completed += u64::from(dump);
                if is_mutating_command(request.cmd) {
                    report.accepted_mutating += 1;
                    if options.uid.is_some()
                        && report.accepted_unprivileged.len() < MAX_LISTED_FINDINGS
                    {
                        report.accepted_unprivileged.push(format!(
                            "{} {}",
                            command_name(request.cmd),
                            to_hex(&payload)
                        ));
                    }
                    if let Some(recorder) = recorder.as_deref_mut() {
                        recorder
                            .record(&payload)
                            .map_err(|e| format!("record file: {e}"))?;
                        report.recorded += 1;
                    }
                }
            }
            Outcome::Rejected(errno) => count(&mut report.rejected_by_errno, &errno_name(errno)),
            Outcome::Abandoned => {
                report.dumps_interrupted += 1;
                // Half the time the next request shares the socket with the rest of the dump.
                if decisions.chance(50) {
                    socket = None;
                }
            }
            Outcome::TimedOut => {
                report.timeouts += 1;
                socket = None;
            }
        }
    }
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// Resends a record file's requests to the `nd` family of the current namespace.
pub fn replay(path: &Path) -> Result<ReplayReport, String> {
    let records = record::read_records(path).map_err(|e| format!("{}: {e}", path.display()))?;
    record::replay(records, resolve_family()?, RECEIVE_TIMEOUT)
}

fn io_error_name(error: &std::io::Error) -> String {
    match error.raw_os_error() {
        Some(errno) => errno_name(errno),
        None => error.kind().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generic netlink controller, which every kernel has and which lets anyone ask.
    const CONTROLLER: u16 = 0x10;

    #[test]
    fn a_run_against_the_controller_never_hangs_and_counts_every_request() {
        let options = FuzzOptions {
            count: 3000,
            seed: 1,
            record: None,
            uid: None,
        };
        let report = fuzz(&options, CONTROLLER, None).unwrap();
        assert_eq!(report.sent, 3000);
        let rejected: u64 = report.rejected_by_errno.values().sum();
        assert_eq!(
            report.accepted + rejected + report.dumps_interrupted + report.timeouts,
            report.sent,
            "{report:?}"
        );
        assert_eq!(report.timeouts, 0, "{report:?}");
        assert!(report.socket_errors.is_empty(), "{report:?}");
        assert!(report.sockets_opened >= 3, "a fresh socket every thousand");
        assert!(report.rejected_by_errno.contains_key("EOPNOTSUPP"));
        assert_eq!(report.by_origin.values().sum::<u64>(), 3000);
        assert!(report.dumps > 0 && report.dumps_completed + report.dumps_interrupted > 0);
    }
}
