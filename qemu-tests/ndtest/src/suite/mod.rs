//! The QEMU suite's scenario driver, run inside the guest once topology.sh has built the
//! cluster: each scenario configures the dispatcher itself and checks what traffic shows.

mod adversarial;
mod affinity;
mod benchmark_smoke;
mod churn;
pub mod cluster;
pub mod daemon;
mod evaluation_smoke;
mod ha;
mod ha_pair;
mod managed;
pub mod manager_config;
mod manager_scenarios;
pub mod memory;
mod scenarios;
mod schedulers;
mod unload;

use cluster::Outcome;

/// A scenario: its name and its body.
type Scenario = (&'static str, fn() -> Outcome);

const SCENARIOS: &[Scenario] = &[
    ("weighted_round_robin", scenarios::weighted_round_robin),
    ("direct_server_return", scenarios::direct_server_return),
    ("two_networks", scenarios::two_networks),
    ("filtering", scenarios::filtering),
    ("quiesce", scenarios::quiesce),
    ("live_changes", scenarios::live_changes),
    ("co_location", scenarios::co_location),
    (
        "namespaces_are_separate",
        scenarios::namespaces_are_separate,
    ),
    ("expiry", scenarios::expiry),
    ("bad_administration", scenarios::bad_administration),
    ("malformed_requests", scenarios::malformed_requests),
    ("batch_weights", scenarios::batch_weights),
    ("static_mac", scenarios::static_mac),
    ("reload_under_traffic", scenarios::reload_under_traffic),
    ("least_connection", schedulers::least_connection),
    ("affinity", affinity::affinity),
    ("ha_failover", ha::ha_failover),
    ("ha_sync_under_load", ha::ha_sync_under_load),
    ("ha_sync_faults", ha::ha_sync_faults),
    ("netlink_fuzzing", adversarial::netlink_fuzzing),
    ("malformed_packets", adversarial::malformed_packets),
    ("syn_flood", adversarial::syn_flood),
    ("churn_under_load", churn::churn_under_load),
    ("unload_cycles", unload::unload_cycles),
    (
        "manager_slow_server",
        manager_scenarios::manager_slow_server,
    ),
    (
        "manager_service_down",
        manager_scenarios::manager_service_down,
    ),
    (
        "manager_agent_silent",
        manager_scenarios::manager_agent_silent,
    ),
    ("manager_reload", manager_scenarios::manager_reload),
    ("manager_faults", manager_scenarios::manager_faults),
    ("benchmark_smoke", benchmark_smoke::benchmark_smoke),
    ("evaluation_smoke", evaluation_smoke::evaluation_smoke),
];

/// Runs the scenarios named in `only` (comma-separated; all when empty) and prints a line
/// per scenario and a closing `N passed, N failed` line. Returns whether all passed.
pub fn run(only: &str) -> bool {
    let wanted: Vec<&str> = only.split(',').filter(|s| !s.is_empty()).collect();
    let (mut passed, mut failed) = (0, 0);
    for (name, scenario) in SCENARIOS {
        if !wanted.is_empty() && !wanted.contains(name) {
            continue;
        }
        println!("RUN  {name}");
        match scenario() {
            Ok(()) => {
                passed += 1;
                println!("PASS {name}");
            }
            Err(reason) => {
                failed += 1;
                println!("FAIL {name}: {reason}");
            }
        }
    }
    println!("nd-suite: {passed} passed, {failed} failed");
    failed == 0
}

/// The names of every scenario, in the order they run.
pub fn names() -> impl Iterator<Item = &'static str> {
    SCENARIOS.iter().map(|(name, _)| *name)
}
