//! The emulated servers of one run: `ndtest ps-serve` in each server's namespace on the
//! evaluation's port, of the plan's capacities, publishing their load and statistics files
//! under [`WORK_DIR`], each following its schedule. They are started afresh for every run, so that no run inherits
//! another's queue, and end with it.

use crate::bench::ps_schedule::Schedule;
use crate::bench::report::PsServeReport;
use crate::suite::cluster::{run, CLIENT_NS, SERVERS, SERVER_NAMES};
use crate::suite::daemon::Daemon;
use std::time::{Duration, Instant};

/// Where the evaluation's files go: load, statistics, logs, configurations, reports.
pub const WORK_DIR: &str = "/tmp/nd-eval";
/// The port of the cluster address, and of the servers.
pub const SERVICE_PORT: u16 = crate::benchmark::balancer::HTTP_PORT;
/// How long a server has to come up.
const START_LIMIT: Duration = Duration::from_secs(20);

/// The file server `server`'s load is written to, for its agent.
pub fn load_file(server: usize) -> String {
    format!("{WORK_DIR}/load-{}", SERVER_NAMES[server])
}

fn stats_file(server: usize) -> String {
    format!("{WORK_DIR}/stats-{}.json", SERVER_NAMES[server])
}

/// The three emulated servers, ended when dropped.
pub struct EmulatedServers {
    daemons: Vec<Daemon>,
}

impl EmulatedServers {
    /// Starts one server of each capacity (work units a second) with its schedule, and waits
    /// until each accepts connections and has published its statistics.
    pub fn start(
        capacities: &[f64; 3],
        schedules: &[Schedule; 3],
    ) -> Result<EmulatedServers, String> {
        let mut daemons = Vec::new();
        let listen = format!("0.0.0.0:{SERVICE_PORT}");
        for (server, capacity) in capacities.iter().enumerate() {
            let name = SERVER_NAMES[server];
            let (load, stats) = (load_file(server), stats_file(server));
            let _ = std::fs::remove_file(&stats);
            let capacity = capacity.to_string();
            let mut args = vec![
                "ndtest",
                "ps-serve",
                "--listen",
                &listen,
                "--name",
                name,
                "--capacity",
                &capacity,
                "--load-file",
                &load,
                "--stats-file",
                &stats,
            ];
            let schedule = schedules[server].args();
            args.extend(schedule.iter().map(String::as_str));
            let log = format!("{WORK_DIR}/ps-serve-{name}.log");
            daemons.push(Daemon::start(name, &args, &log)?);
        }
        let mut servers = EmulatedServers { daemons };
        let limit = START_LIMIT.as_millis().to_string();
        for address in SERVERS {
            let to = format!("{address}:{SERVICE_PORT}");
            run(
                CLIENT_NS,
                &["ndtest", "wait-port", "--to", &to, "--timeout-ms", &limit],
            )?;
        }
        let deadline = Instant::now() + START_LIMIT;
        while let Err(error) = servers.stats() {
            if Instant::now() > deadline {
                return Err(format!("the emulated servers did not start: {error}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(servers)
    }

    /// Each server's latest statistics, in the order of the servers; fails if one has
    /// exited.
    pub fn stats(&mut self) -> Result<Vec<PsServeReport>, String> {
        let mut all = Vec::new();
        for (server, daemon) in self.daemons.iter_mut().enumerate() {
            daemon.alive()?;
            let path = stats_file(server);
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
            let stats = PsServeReport::from_json(text.trim())
                .map_err(|e| format!("{path}: {e}: {text}"))?;
            all.push(stats);
        }
        Ok(all)
    }
}
