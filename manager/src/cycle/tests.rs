use std::time::Duration;

use super::*;
use crate::executor::MemoryExecutor;
use crate::host::Staleness;
use crate::wcf::WcfInput;

const CONFIG: &str = r#"
smoothing = 0
sensitivity = 0
[metrics]
new_conns = 0.5
active_conns = 0.5
[[advisor]]
name = "alive"
kind = "tcp"
port = 22
[[host_metric]]
name = "load"
[[service]]
vip = "10.0.0.100"
port = 80
server = [{ address = "10.0.0.11" }, { address = "10.0.0.12" }]
"#;

const SERVICE: Service = Service {
    vip: Ipv4Addr::new(10, 0, 0, 100),
    port: 80,
};
const S11: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 11);
const S12: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 12);
const STRANGER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 99);

fn config() -> Config {
    Config::parse("manager.toml", CONFIG).unwrap()
}

/// An Executor holding both configured servers and one it does not name.
fn executor() -> MemoryExecutor {
    let executor = MemoryExecutor::new();
    for (server, weight) in [(S11, 1), (S12, 1), (STRANGER, 7)] {
        executor.insert(SERVICE, server, weight);
    }
    executor
}

fn set_counters(executor: &MemoryExecutor, server: Ipv4Addr, conns: u64, active: u32) {
    executor.with(|state| {
        for reading in state.servers.iter_mut().filter(|r| r.server == server) {
            reading.conns = conns;
            reading.active = active;
        }
    });
}

/// Both servers up for the advisor, with fresh host values.
fn healthy() -> Observations {
    let up = Verdict::Up {
        response: Duration::from_millis(2),
    };
    let mut advisors = HashMap::new();
    let mut host = HostSnapshot::new();
    for server in [S11, S12] {
        advisors.insert(
            crate::advisor::Probe {
                advisor: "alive".into(),
                server,
                port: 22,
            },
            up.clone(),
        );
        host.insert((server, "load".into()), HostMetricState::Fresh(1.0));
    }
    Observations {
        advisors: AdvisorResults::new(advisors),
        host,
        probe_connections: None,
    }
}

#[test]
fn a_pass_commits_one_request_per_port_keeping_unmanaged_weights() {
    let (config, executor) = (config(), executor());
    set_counters(&executor, S11, 100, 10);
    set_counters(&executor, S12, 100, 30);
    let mut feedback = Feedback::new();
    let decisions = feedback.run(&config, &executor, &healthy()).unwrap();
    assert_eq!(decisions.len(), 1);
    // new_conns has no difference yet, so active connections alone decide: 0.25 and 0.75.
    assert_eq!(decisions[0].servers[0].lmi, Some(0.25));
    let commits = executor.with(|state| state.commits.clone());
    assert_eq!(commits.len(), 1);
    let (service, entries) = &commits[0];
    assert_eq!(*service, SERVICE);
    let weights: Vec<(Ipv4Addr, u32)> = entries.iter().map(|e| (e.server, e.weight)).collect();
    assert_eq!(weights, vec![(S11, 100), (S12, 38), (STRANGER, 7)]);
}

#[test]
fn a_standby_decides_but_commits_nothing_until_it_is_active() {
    let (config, executor) = (config(), executor());
    set_counters(&executor, S11, 100, 10);
    set_counters(&executor, S12, 100, 30);
    executor.with(|state| state.standby = true);
    let mut feedback = Feedback::new();
    let decisions = feedback.run(&config, &executor, &healthy()).unwrap();
    assert!(decisions[0].outcome.is_commit());
    assert!(executor.with(|state| state.commits.is_empty()));
    assert_eq!(executor.weight(SERVICE, S11), Some(1));
    // Taking over, it commits from the weights it has.
    executor.with(|state| state.standby = false);
    feedback.run(&config, &executor, &healthy()).unwrap();
    assert_eq!(executor.with(|state| state.commits.len()), 1);
}

#[test]
fn new_connections_enter_from_the_second_reading() {
    let (config, executor) = (config(), executor());
    let mut feedback = Feedback::new();
    set_counters(&executor, S11, 1000, 0);
    set_counters(&executor, S12, 5000, 0);
    let first = feedback.run(&config, &executor, &healthy()).unwrap();
    assert_eq!(first[0].servers[0].input.values[0], None);
    set_counters(&executor, S11, 1030, 0);
    set_counters(&executor, S12, 5010, 0);
    let second = feedback.run(&config, &executor, &healthy()).unwrap();
    assert_eq!(second[0].servers[0].input.values[0], Some(30.0));
    assert_eq!(second[0].servers[1].input.values[0], Some(10.0));
    assert_eq!(second[0].servers[0].shares[0], Some(0.75));
}

#[test]
fn a_failed_health_check_quiesces_even_when_not_weighted() {
    let (config, executor) = (config(), executor());
    let mut observations = healthy();
    let mut advisors = HashMap::new();
    advisors.insert(
        crate::advisor::Probe {
            advisor: "alive".into(),
            server: S12,
            port: 22,
        },
        Verdict::Down {
            reason: "connection refused".into(),
        },
    );
    observations.advisors = AdvisorResults::new(advisors);
    let decisions = Feedback::new()
        .run(&config, &executor, &observations)
        .unwrap();
    assert_eq!(
        decisions[0].servers[1].input.down,
        vec!["advisor alive: connection refused".to_string()]
    );
    assert_eq!(executor.weight(SERVICE, S12), Some(0));
    assert!(executor.weight(SERVICE, S11).unwrap() > 0);
}

#[test]
fn a_stale_host_metric_quiesces_its_server() {
    let (config, executor) = (config(), executor());
    let mut observations = healthy();
    observations.host.insert(
        (S11, "load".into()),
        HostMetricState::Stale(Staleness::NeverReported),
    );
    Feedback::new()
        .run(&config, &executor, &observations)
        .unwrap();
    assert_eq!(executor.weight(SERVICE, S11), Some(0));
    assert!(executor.weight(SERVICE, S12).unwrap() > 0);
}

#[test]
fn a_configured_server_missing_from_the_executor_is_left_out() {
    let config = config();
    let executor = MemoryExecutor::new();
    executor.insert(SERVICE, S11, 3);
    let decisions = Feedback::new().run(&config, &executor, &healthy()).unwrap();
    let servers: Vec<Ipv4Addr> = decisions[0]
        .servers
        .iter()
        .map(|s| s.input.server)
        .collect();
    assert_eq!(servers, vec![S11]);
    assert_eq!(executor.weight(SERVICE, S11), Some(100));
}

#[test]
fn an_unreachable_executor_fails_the_pass() {
    let (config, executor) = (config(), executor());
    executor.with(|state| state.unreachable = true);
    assert!(Feedback::new().run(&config, &executor, &healthy()).is_err());
}

#[test]
fn the_weight_computation_can_be_replaced() {
    struct Fixed;
    impl WeightComputation for Fixed {
        fn compute(&self, input: &WcfInput<'_>) -> Vec<u32> {
            input.servers.iter().map(|_| 42).collect()
        }
    }
    let (config, executor) = (config(), executor());
    Feedback::with_weight_computation(Arc::new(Fixed))
        .run(&config, &executor, &healthy())
        .unwrap();
    assert_eq!(executor.weight(SERVICE, S11), Some(42));
    assert_eq!(executor.weight(SERVICE, S12), Some(42));
    assert_eq!(executor.weight(SERVICE, STRANGER), Some(7));
}

/// A wlc port probed by an HTTP advisor (and a TCP one, which does not time the server's
/// work), whose servers also serve port 443.
const CAPACITY: &str = r#"
smoothing = 0
sensitivity = 0
[metrics]
active_conns = 1
[[advisor]]
name = "web"
kind = "http"
[[advisor]]
name = "alive"
kind = "tcp"
port = 22
[[service]]
vip = "10.0.0.100"
port = 80
scheduler = "wlc"
server = [{ address = "10.0.0.11" }, { address = "10.0.0.12", capacity = 4 }]
"#;

fn verdict(
    advisor: &str,
    server: Ipv4Addr,
    port: u16,
    ms: u64,
) -> (crate::advisor::Probe, Verdict) {
    (
        crate::advisor::Probe {
            advisor: advisor.into(),
            server,
            port,
        },
        Verdict::Up {
            response: Duration::from_millis(ms),
        },
    )
}

#[test]
fn capacity_weights_come_from_the_http_probe_and_every_port_s_connections() {
    let config = Config::parse("manager.toml", CAPACITY).unwrap();
    assert_eq!(config.services[0].policy, crate::config::Policy::Capacity);
    let executor = MemoryExecutor::new();
    executor.insert(SERVICE, S11, 1);
    executor.insert(SERVICE, S12, 1);
    let tls = Service::new(SERVICE.vip, 443);
    executor.insert(tls, S11, 1);
    set_counters(&executor, S11, 0, 0);
    executor.with(|state| {
        for reading in state.servers.iter_mut() {
            reading.active = match (reading.service.port, reading.server) {
                (80, s) if s == S11 => 2,
                (443, _) => 1,
                _ => 7,
            };
        }
    });
    let observations = Observations {
        // S11: 3 connections over both ports and a probe of 8 ms: 500 a second. S12: 7
        // connections and 4 ms: 2000 a second. The TCP advisor's 100 ms do not count.
        advisors: AdvisorResults::new(HashMap::from([
            verdict("web", S11, 80, 8),
            verdict("web", S12, 80, 4),
            verdict("alive", S11, 22, 100),
            verdict("alive", S12, 22, 100),
        ])),
        host: HostSnapshot::new(),
        probe_connections: None,
    };
    let mut feedback = Feedback::new();
    let decisions = feedback.run(&config, &executor, &observations).unwrap();
    let timing = decisions[0].servers[0].input.timing.unwrap();
    assert_eq!(timing.connections, 3);
    assert!((timing.seconds - 0.008).abs() < 1e-12);
    assert_eq!(executor.weight(SERVICE, S11), Some(25));
    assert_eq!(executor.weight(SERVICE, S12), Some(100));

    // Connections counted as the probes went out stand in for the pass's reading: with 7 on
    // S11, a rate of 1000 a second. After two rounds of 500, one such round is outvoted by
    // the median; the second carries it.
    feedback.run(&config, &executor, &observations).unwrap();
    let counted = Observations {
        probe_connections: Some(HashMap::from([(S11, 7), (S12, 7)])),
        ..observations.clone()
    };
    let decisions = feedback.run(&config, &executor, &counted).unwrap();
    assert_eq!(decisions[0].servers[0].input.timing.unwrap().connections, 7);
    assert_eq!(executor.weight(SERVICE, S11), Some(25));
    feedback.run(&config, &executor, &counted).unwrap();
    assert_eq!(executor.weight(SERVICE, S11), Some(50));
    assert_eq!(executor.weight(SERVICE, S12), Some(100));

    // Without the HTTP advisor's timing the declared capacities, 1 and 4, decide.
    let untimed = Observations {
        advisors: AdvisorResults::new(HashMap::from([
            verdict("alive", S11, 22, 100),
            verdict("alive", S12, 22, 1),
        ])),
        host: HostSnapshot::new(),
        probe_connections: None,
    };
    executor.with(|state| state.servers.iter_mut().for_each(|r| r.weight = 1));
    Feedback::new().run(&config, &executor, &untimed).unwrap();
    assert_eq!(executor.weight(SERVICE, S11), Some(25));
    assert_eq!(executor.weight(SERVICE, S12), Some(100));
}
