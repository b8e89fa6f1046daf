//! Properties of the simulator at the quick scale: what any correct model of these clusters
//! must show, and what the Manager is expected to do.

use nd_sim::outcome::RunOutcome;
use nd_sim::policy::{self, LoadSharing};
use nd_sim::run::run;
use nd_sim::scenario::{self, Scale, Scenario};
use nd_sim::settle::shares;

fn run_quick(scenario: &Scenario, policy: LoadSharing) -> RunOutcome {
    run(scenario, policy, 1)
}

#[test]
fn static_weights_and_least_connection_beat_round_robin_with_a_half_speed_server() {
    let paper = scenario::paper(Scale::Quick);
    let rr = run_quick(&paper, policy::ROUND_ROBIN);
    let wrr = run_quick(&paper, policy::STATIC_WRR);
    let wlc = run_quick(&paper, policy::IPVS_WLC);
    // Round robin gives the half-speed server a quarter of 90% of 3.5: 158% of what it can
    // do, so its queue grows for the whole run.
    assert!(rr.utilization[3] > 0.99, "{:?}", rr.utilization);
    assert!(
        wrr.p99() < rr.p99() / 5.0,
        "static WRR {} against round robin {}",
        wrr.p99(),
        rr.p99()
    );
    assert!(wlc.p99() < rr.p99() / 5.0);
    // At 90% load with heavy-tailed sizes, looking at the queues beats fixed proportions.
    assert!(
        wlc.p99() < wrr.p99(),
        "wlc {} static WRR {}",
        wlc.p99(),
        wrr.p99()
    );
    // Static WRR gives exactly the configured shares: 100:100:100:50.
    for (share, expected) in wrr
        .shares
        .iter()
        .zip([2.0 / 7.0, 2.0 / 7.0, 2.0 / 7.0, 1.0 / 7.0])
    {
        assert!((share - expected).abs() < 1e-3, "{:?}", wrr.shares);
    }
}

#[test]
fn the_manager_brings_the_tail_far_below_round_robin_on_the_paper_setting() {
    let paper = scenario::paper(Scale::Quick);
    let rr = run_quick(&paper, policy::ROUND_ROBIN);
    let managed = run_quick(&paper, policy::MANAGER_WRR);
    assert!(
        managed.p99() <= 0.7 * rr.p99(),
        "{} {}",
        managed.p99(),
        rr.p99()
    );
    assert!(!managed.weights.is_empty());
    // One round every interval of the run.
    let interval = policy::MANAGER_WRR.interval().unwrap();
    let rounds = managed.weights.len() as f64;
    assert!((rounds - paper.end() / interval).abs() <= 1.0, "{rounds}");
}

#[test]
fn manager_wlc_measures_the_capacities_that_equal_weights_hide() {
    // S1: every server configured alike, one at half speed. The Manager, told the port is
    // scheduled by wlc, gives it that scheduler and capacity weights: about half of the
    // others' for the slow server, where IPVS wlc keeps the equal weights.
    let unknown = scenario::unknown_capacities(Scale::Quick);
    let managed = run_quick(&unknown, policy::MANAGER_WLC);
    let wlc = run_quick(&unknown, policy::IPVS_WLC);
    let late: Vec<&Vec<u32>> = managed
        .weights
        .iter()
        .filter(|w| w.time > unknown.warm_up)
        .map(|w| &w.weights)
        .collect();
    let mean =
        |server: usize| late.iter().map(|w| f64::from(w[server])).sum::<f64>() / late.len() as f64;
    let slow_over_fast = mean(3) / ((mean(0) + mean(1) + mean(2)) / 3.0);
    assert!((slow_over_fast - 0.5).abs() < 0.05, "{slow_over_fast}");
    assert!(
        managed.utilization[3] < wlc.utilization[3] - 0.1,
        "{:?} {:?}",
        managed.utilization,
        wlc.utilization
    );
    assert!(managed.p99() < wlc.p99(), "{} {}", managed.p99(), wlc.p99());
}

#[test]
fn a_run_is_a_function_of_its_seed() {
    let failing = scenario::fast_failure(Scale::Quick);
    let first = run(&failing, policy::MANAGER_WRR, 3);
    assert_eq!(first, run(&failing, policy::MANAGER_WRR, 3));
    let other = run(&failing, policy::MANAGER_WRR, 4);
    assert_ne!(first.response_times, other.response_times);
}

fn check_conservation(scenario: &Scenario, outcome: &RunOutcome) {
    let name = format!("{} under {}", scenario.key, outcome.policy.name);
    let c = outcome.conservation;
    assert_eq!(c.arrivals, c.finished, "{name}: every request finishes");
    assert_eq!(c.left_in_progress, 0, "{name}");
    assert!(
        (c.work_done - c.work_submitted).abs() <= 1e-9 * c.work_submitted,
        "{name}: work done {} of {} given",
        c.work_done,
        c.work_submitted
    );
    assert_eq!(
        outcome.measured_requests,
        outcome.response_times.len() as u64 + outcome.errors,
        "{name}: every measured request is timed or counted as an error"
    );
    let expected = scenario.arrival_rate() * scenario.measured;
    let measured = outcome.measured_requests as f64;
    assert!(
        (measured / expected - 1.0).abs() < 0.25,
        "{name}: {measured} requests, {expected} expected"
    );
    assert!(
        outcome
            .utilization
            .iter()
            .all(|u| (0.0..=1.0 + 1e-9).contains(u)),
        "{name}: {:?}",
        outcome.utilization
    );
    assert!(
        (outcome.shares.iter().sum::<f64>() - 1.0).abs() < 1e-9,
        "{name}"
    );
    assert!(outcome.response_times.windows(2).all(|w| w[0] <= w[1]));
    assert!(outcome.response_times.first().is_some_and(|&t| t > 0.0));
}

#[test]
fn every_request_finishes_and_no_work_is_lost_or_made_up() {
    for scenario in scenario::all(Scale::Quick) {
        if scenario.key == "scaled" {
            continue;
        }
        for policy in [
            policy::ROUND_ROBIN,
            policy::IPVS_WLC,
            policy::MANAGER_WRR,
            policy::MANAGER_WLC,
        ] {
            check_conservation(&scenario, &run_quick(&scenario, policy));
        }
    }
}

#[test]
fn the_scaled_up_cluster_conserves_work_and_least_connection_beats_round_robin() {
    let scaled = scenario::scaled(Scale::Quick);
    let rr = run_quick(&scaled, policy::ROUND_ROBIN);
    let wlc = run_quick(&scaled, policy::IPVS_WLC);
    check_conservation(&scaled, &rr);
    check_conservation(&scaled, &wlc);
    assert!(wlc.p99() < rr.p99() / 5.0, "{} {}", wlc.p99(), rr.p99());
}

#[test]
fn the_manager_quiesces_a_fast_failing_server_and_least_connection_feeds_it() {
    let failing = scenario::fast_failure(Scale::Quick);
    let rr = run_quick(&failing, policy::ROUND_ROBIN);
    let wlc = run_quick(&failing, policy::IPVS_WLC);
    let managed = run_quick(&failing, policy::MANAGER_WRR);
    // Round robin sends it a quarter of the requests of a third of the window.
    let expected = rr.measured_requests as f64 / 12.0;
    assert!(
        (rr.errors as f64 / expected - 1.0).abs() < 0.1,
        "{} errors, {expected} expected",
        rr.errors
    );
    // It finishes everything at once, so least-connection sees it as the least loaded.
    assert!(
        wlc.errors > rr.errors,
        "wlc {} round robin {}",
        wlc.errors,
        rr.errors
    );
    // The advisor sees the errors and the Manager takes it out within a round.
    assert!(
        managed.errors * 10 < rr.errors,
        "{} {}",
        managed.errors,
        rr.errors
    );
    let quiesced = managed.weights.iter().filter(|w| w.weights[3] == 0).count() as f64;
    let rounds_failing = failing.measured / 3.0 / policy::MANAGER_WRR.interval().unwrap();
    assert!(
        (quiesced - rounds_failing).abs() <= 2.0,
        "{quiesced} rounds at weight 0, {rounds_failing} failing"
    );
    // And brings it back once it answers again.
    assert!(managed.weights.last().unwrap().weights[3] > 0);
}

#[test]
fn the_manager_moves_weight_off_a_server_that_slows_down() {
    let step = scenario::step_change(Scale::Quick);
    let change = step.at(step.disturbances[0].from);
    let managed = run_quick(&step, policy::MANAGER_WRR);
    let series = shares(&managed.weights);
    let mean_share = |from: f64, to: f64| {
        let picked: Vec<f64> = managed
            .weights
            .iter()
            .zip(&series)
            .filter(|(w, _)| w.time > from && w.time < to)
            .map(|(_, s)| s[0])
            .collect();
        picked.iter().sum::<f64>() / picked.len() as f64
    };
    let before = mean_share(step.warm_up, change);
    let after = mean_share(change + 100.0, step.end());
    assert!(after < 0.8 * before, "share before {before}, after {after}");
}

#[test]
fn a_round_whose_probes_time_out_at_the_next_round_still_decides() {
    // Manager best piles a whole interval's connections on one server, whose probe then
    // takes longer than the advisor's timeout, which at the default interval is the
    // interval itself. The round must still decide when it runs out, as the daemon does.
    let scaled = scenario::scaled(Scale::Quick);
    let best = run_quick(&scaled, policy::MANAGER_BEST);
    let interval = policy::MANAGER_BEST.interval().unwrap();
    let rounds = best.weights.len() as f64;
    assert!((rounds - scaled.end() / interval).abs() <= 1.0, "{rounds}");
}

#[test]
fn a_larger_probe_gives_every_server_that_much_more_work_each_round() {
    let scenario = scenario::unknown_capacities(Scale::Quick);
    let small = run_quick(&scenario, policy::MANAGER_WLC);
    let large = run_quick(&scenario, policy::MANAGER_WLC_PROBE_20);
    check_conservation(&scenario, &large);
    // The same requests and the same rounds, each probing every server: 19 more units a
    // probe.
    let extra = (large.conservation.work_submitted - small.conservation.work_submitted) / 19.0;
    let servers = scenario.capacities.len() as f64;
    assert!(extra >= servers, "{extra} more probes' work");
    assert!(
        (extra / servers - (extra / servers).round()).abs() < 1e-6,
        "{extra}"
    );
}
