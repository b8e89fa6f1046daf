use proptest::prelude::*;

use super::*;
use crate::metric::Metric;
use crate::wcf::{BestServer, InverseLoad};

const SERVICE: Service = Service {
    vip: Ipv4Addr::new(10, 0, 0, 100),
    port: 80,
};

fn address(index: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, 11 + index as u8)
}

fn metrics() -> Vec<MetricWeight> {
    vec![
        MetricWeight {
            metric: Metric::ActiveConns,
            weight: 0.5,
        },
        MetricWeight {
            metric: Metric::Advisor("http".into()),
            weight: 0.5,
        },
    ]
}

/// A healthy server with `old_weight` and values (active connections, response ms).
fn server(index: usize, old_weight: u32, active: f64, ms: f64) -> ServerInput {
    ServerInput {
        server: address(index),
        capacity: 1.0,
        old_weight,
        down: Vec::new(),
        values: vec![Some(active), Some(ms)],
        timing: Some(ProbeTiming {
            seconds: ms / 1000.0,
            connections: active as u32,
        }),
        rates: RecentRates::new(),
    }
}

fn down(mut server: ServerInput) -> ServerInput {
    server.down.push("advisor http: connection refused".into());
    server.values[1] = None;
    server.timing = None;
    server
}

fn input(
    metrics: &[MetricWeight],
    servers: Vec<ServerInput>,
    sensitivity: f64,
) -> DecisionInput<'_> {
    DecisionInput {
        service: SERVICE,
        policy: Policy::Weighted,
        metrics,
        servers,
        max_weight: 100,
        smoothing: 0.0,
        sensitivity,
    }
}

fn new_weights(decision: &Decision) -> Vec<u32> {
    decision.servers.iter().map(|s| s.new_weight).collect()
}

#[test]
fn normalizes_over_healthy_servers_and_combines_into_the_index() {
    let metrics = metrics();
    let decision = decide(
        input(
            &metrics,
            vec![
                server(0, 1, 10.0, 5.0),
                server(1, 1, 30.0, 15.0),
                down(server(2, 1, 99.0, 0.0)),
            ],
            0.0,
        ),
        &InverseLoad,
    );
    let shares: Vec<Vec<Option<f64>>> = decision.servers.iter().map(|s| s.shares.clone()).collect();
    assert_eq!(
        shares,
        vec![
            vec![Some(0.25), Some(0.25)],
            vec![Some(0.75), Some(0.75)],
            vec![None, None]
        ]
    );
    let lmi: Vec<Option<f64>> = decision.servers.iter().map(|s| s.lmi).collect();
    assert_eq!(lmi, vec![Some(0.25), Some(0.75), None]);
    // 1 / (0.25 + 0.05) against 1 / (0.75 + 0.05): 100 and 37.5.
    assert_eq!(new_weights(&decision), vec![100, 38, 0]);
    assert_eq!(
        decision.outcome,
        Outcome::Commit(CommitReason::Availability {
            quiesced: vec![address(2)],
            reintroduced: vec![]
        })
    );
}

#[test]
fn capacity_lets_a_larger_server_carry_more() {
    let metrics = [MetricWeight {
        metric: Metric::ActiveConns,
        weight: 1.0,
    }];
    let mut big = server(1, 1, 20.0, 0.0);
    big.capacity = 2.0;
    big.values.truncate(1);
    let mut small = server(0, 1, 10.0, 0.0);
    small.values.truncate(1);
    let decision = decide(input(&metrics, vec![small, big], 0.0), &InverseLoad);
    assert_eq!(decision.servers[0].lmi, decision.servers[1].lmi);
    assert_eq!(new_weights(&decision), vec![100, 100]);
}

#[test]
fn a_metric_missing_on_a_healthy_server_is_left_out_of_the_index() {
    let metrics = metrics();
    let mut fresh = server(1, 1, 30.0, 0.0);
    fresh.values[1] = None;
    let decision = decide(
        input(&metrics, vec![server(0, 1, 10.0, 5.0), fresh], 0.0),
        &InverseLoad,
    );
    assert_eq!(decision.servers[0].shares, vec![Some(0.25), None]);
    assert_eq!(decision.servers[0].lmi, Some(0.25));
    assert_eq!(decision.servers[1].lmi, Some(0.75));
}

#[test]
fn a_small_change_is_held_and_a_large_one_committed() {
    let (a, b) = (address(0), address(1));
    assert_eq!(
        judge(&[a, b], &[100, 100], &[100, 95], 0.05),
        Outcome::Hold(HoldReason::BelowSensitivity {
            change: 0.025,
            sensitivity: 0.05
        })
    );
    assert_eq!(
        judge(&[a, b], &[100, 100], &[100, 80], 0.05),
        Outcome::Commit(CommitReason::Change {
            change: 0.1,
            sensitivity: 0.05
        })
    );
    assert_eq!(
        judge(&[a, b], &[100, 100], &[100, 100], 0.0),
        Outcome::Hold(HoldReason::Unchanged)
    );
    assert!(judge(&[a, b], &[100, 100], &[100, 99], 0.0).is_commit());
}

#[test]
fn going_down_or_coming_back_is_committed_whatever_the_sensitivity() {
    let (a, b) = (address(0), address(1));
    assert_eq!(
        judge(&[a, b], &[1000, 1], &[1000, 0], 10.0),
        Outcome::Commit(CommitReason::Availability {
            quiesced: vec![b],
            reintroduced: vec![]
        })
    );
    assert_eq!(
        judge(&[a, b], &[1000, 0], &[1000, 1], 10.0),
        Outcome::Commit(CommitReason::Availability {
            quiesced: vec![],
            reintroduced: vec![b]
        })
    );
}

#[test]
fn a_server_that_comes_back_is_reintroduced_at_once_with_a_positive_weight() {
    let metrics = metrics();
    let decide_with = |servers| {
        let mut input = input(&metrics, servers, 100.0);
        input.smoothing = 0.9;
        decide(input, &InverseLoad)
    };
    let quiesce = decide_with(vec![
        server(0, 100, 1.0, 1.0),
        down(server(1, 100, 1.0, 1.0)),
    ]);
    assert_eq!(new_weights(&quiesce), vec![100, 0]);
    assert!(quiesce.outcome.is_commit());
    let back = decide_with(vec![server(0, 100, 1.0, 1.0), server(1, 0, 1.0, 1.0)]);
    assert_eq!(new_weights(&back), vec![100, 10]);
    assert_eq!(
        back.outcome,
        Outcome::Commit(CommitReason::Availability {
            quiesced: vec![],
            reintroduced: vec![address(1)]
        })
    );
}

#[test]
fn best_gives_everything_to_the_least_loaded_healthy_server() {
    let metrics = metrics();
    let mut input = input(
        &metrics,
        vec![
            server(0, 100, 5.0, 5.0),
            server(1, 0, 1.0, 1.0),
            down(server(2, 0, 0.0, 0.0)),
        ],
        0.05,
    );
    input.policy = Policy::Best;
    let decision = decide(input, &BestServer);
    assert_eq!(new_weights(&decision), vec![0, 100, 0]);
    assert!(decision.outcome.is_commit());
}

#[test]
fn constant_load_settles_on_a_fixed_point_without_oscillating() {
    let metrics = metrics();
    let loads = [(10.0, 5.0), (20.0, 10.0), (40.0, 30.0)];
    let mut weights = vec![1u32, 100, 50];
    let mut history = vec![weights.clone()];
    for _ in 0..50 {
        let servers = loads
            .iter()
            .enumerate()
            .map(|(i, &(active, ms))| server(i, weights[i], active, ms))
            .collect();
        let mut input = input(&metrics, servers, 0.0);
        input.smoothing = 0.5;
        weights = new_weights(&decide(input, &InverseLoad));
        history.push(weights.clone());
    }
    let settled = history.last().unwrap().clone();
    assert_eq!(history[history.len() - 2], settled, "{history:?}");
    for server in 0..loads.len() {
        let path: Vec<u32> = history.iter().map(|w| w[server]).collect();
        let rising = path.windows(2).all(|w| w[0] <= w[1]);
        let falling = path.windows(2).all(|w| w[0] >= w[1]);
        assert!(
            rising || falling,
            "server {server} went back and forth: {path:?}"
        );
    }
    assert_eq!(settled[0], 100);
    assert!(
        settled[0] > settled[1] && settled[1] > settled[2],
        "{settled:?}"
    );
}

#[test]
fn outcomes_read_as_sentences() {
    let (a, b) = (address(0), address(1));
    let cases = [
        (
            judge(&[a, b], &[10, 10], &[10, 10], 0.05),
            "not committed: weights unchanged",
        ),
        (
            judge(&[a, b], &[100, 100], &[100, 95], 0.05),
            "not committed: weights moved 2.5%, not above the sensitivity of 5%",
        ),
        (
            judge(&[a, b], &[100, 100], &[100, 60], 0.05),
            "committed: weights moved 20%, above the sensitivity of 5%",
        ),
        (
            judge(&[a, b], &[0, 100], &[50, 0], 0.05),
            "committed: quiesced 10.0.0.12; reintroduced 10.0.0.11",
        ),
    ];
    for (outcome, text) in cases {
        assert_eq!(outcome.to_string(), text);
    }
}

fn weights_pair() -> impl Strategy<Value = (Vec<u32>, Vec<u32>)> {
    (1usize..10).prop_flat_map(|n| {
        (
            prop::collection::vec(0u32..1000, n),
            prop::collection::vec(0u32..1000, n),
        )
    })
}

proptest! {
    #[test]
    fn commits_exactly_when_availability_changes_or_the_change_exceeds_sensitivity(
        (old, new) in weights_pair(),
        sensitivity in 0.0..2.0f64,
    ) {
        let servers: Vec<Ipv4Addr> = (0..old.len()).map(address).collect();
        let availability = old.iter().zip(&new).any(|(&o, &n)| (o == 0) != (n == 0));
        let moved: u32 = old.iter().zip(&new).map(|(o, n)| o.abs_diff(*n)).sum();
        let before: u32 = old.iter().sum();
        let change = f64::from(moved) / f64::from(before.max(1));
        let outcome = judge(&servers, &old, &new, sensitivity);
        prop_assert_eq!(outcome.is_commit(), availability || change > sensitivity);
        if old == new {
            prop_assert_eq!(outcome, Outcome::Hold(HoldReason::Unchanged));
        }
    }

    #[test]
    fn servers_that_are_down_always_get_zero_and_the_others_at_least_one(
        servers in prop::collection::vec(
            (any::<bool>(), 0u32..200, 0.0..100.0f64, 0.0..100.0f64),
            1..12,
        ),
        smoothing in 0.0..1.0f64,
    ) {
        let metrics = metrics();
        let inputs: Vec<ServerInput> = servers
            .iter()
            .enumerate()
            .map(|(i, &(healthy, old, active, ms))| {
                let server = server(i, old, active, ms);
                if healthy { server } else { down(server) }
            })
            .collect();
        let mut input = input(&metrics, inputs, 0.05);
        input.smoothing = smoothing;
        let decision = decide(input, &InverseLoad);
        for (server, &(healthy, ..)) in decision.servers.iter().zip(&servers) {
            if healthy {
                prop_assert!((1..=100).contains(&server.new_weight));
            } else {
                prop_assert_eq!(server.new_weight, 0);
            }
        }
    }
}
