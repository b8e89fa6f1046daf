//! Weight computation functions: from what is known of each server to its new weight.
//!
//! What a weight means depends on the Executor's scheduler. Round robin (`wrr`) deals new
//! connections out in proportion to the weights and sees nothing else, so its weights must
//! follow the servers' load: [`InverseLoad`] (policy `weighted`) and [`BestServer`] (`best`).
//! Weighted least-connection (`wlc`) and shortest expected delay (`sed`) already follow every
//! server's connections, at every new connection; their weights say how much each server can
//! take, so [`MeasuredCapacity`] (`capacity`) aims them at the servers' capacities.
//!
//! # Inverse load
//!
//! The default under `wrr`, [`InverseLoad`], aims each healthy server's weight at
//!
//! ```text
//! target(S) = max_weight * (1 / (L(S) + e)) / max_T (1 / (L(T) + e))
//! ```
//!
//! so the least-loaded server gets `max_weight` and the others less in inverse proportion to
//! their load. `e` is a tenth of the mean index (`0.1 / n`): it keeps a server that shows no
//! load at all from taking every weight away from the rest. The new weight then moves from
//! the old one toward the target by the smoothing factor `s`:
//!
//! ```text
//! new(S) = s * old(S) + (1 - s) * target(S)
//! ```
//!
//! A weighted round robin sends new connections in proportion to weights, so the connections
//! a weight attracts raise the very load it is computed from; blending damps that feedback
//! (with a load proportional to weight, `s = 0.5` settles in one step). The loop stops where
//! `weight × (L + e)` is the same on every server. Rounding never leaves a weight stuck short
//! of its target: if the blend rounds back to the old weight, the weight moves by 1. Healthy
//! servers keep at least weight 1, and servers that are down get 0.
//!
//! That stopping point is not equal load per capacity: were the index made of new
//! connections alone, the weights would settle in proportion to the square roots of the
//! capacities. A correction in proportion, `old × mean(L) / L`, stops only where every
//! index is the same; in the simulator (`docs/evaluation-simulation.md`) it lowers the tail
//! in most settings, but its weights wander, since it sums the noise of the loads round
//! after round, and with unequal declared capacities it overshoots the other way and leaves
//! the small servers idle, because the index divides response times and load averages by the
//! capacity as well as connection counts. So the inverse form stays.
//!
//! [`BestServer`] sends every new connection to the least-loaded healthy server.
//!
//! # Measured capacity
//!
//! [`MeasuredCapacity`], the default under `wlc` and `sed`, estimates each healthy server's
//! rate of service from the HTTP advisors' probe and the connections the server holds, and
//! aims the weights at those rates:
//!
//! ```text
//! rate_k(S) = (n_k(S) + 1) / t_k(S)
//! target(S) = max_weight * r(S) / max_T r(T),   r(S) = median(rate_k, rate_k-1, rate_k-2)(S)
//! new(S)    = target(S), rounded, in 1..=max_weight
//! ```
//!
//! where, in round `k`, `t_k(S)` is the probe's response time (the mean over the HTTP
//! advisors) and `n_k(S)` the established connections the Executor has to the server, over
//! all its ports, read as the probes go out. The median runs over the rounds since the server
//! last came up (one or two of them at first).
//!
//! *Why.* A server that shares its speed among the requests it holds (processor sharing,
//! which is what a busy CPU does) gives a probe of work `w` the share `1 / (n + 1)` of its
//! capacity `C` while it holds `n` other requests, so the probe takes `t = w (n + 1) / C`
//! and `(n + 1) / t = C / w`. The probe is the same request on every server, so the rates
//! are in proportion to the capacities. This is Little's law for the probe: concurrency over
//! response time is throughput, here the throughput the server would give probe-sized
//! requests. It is what tells a fast server from a slow one when wlc has equalized their
//! connections per weight: the slow one answers the probe later for the same `n`. Work the
//! balancer does not see (a batch job, another service on the host) slows the probe as it
//! slows the requests, so it lowers the rate too; no declared capacity is needed.
//!
//! *Fixed point.* `rate(S)` does not depend on the weights: whatever the scheduler does with
//! them moves `n(S)` and `t(S)` together, in proportion. With the weights at the servers'
//! relative capacities the targets are those capacities, so the weights stay: the true
//! capacities are the fixed point, and the only one. From anywhere else the weights go to
//! them at the next round, and after a change of capacity at the second round (the median
//! needs two rounds of the new rate), without overshooting. The loop has no gain through
//! the Executor, so it cannot oscillate however strongly the scheduler reacts to a weight
//! change. That is the difference with [`InverseLoad`] under wlc: there a weight raised by
//! 10% draws new connections at once until the server's connections per weight are the
//! others' again (with the 120 s of closed connections wlc counts, that is far more than
//! 10% of an interval's connections), the next round sees the burst as load and cuts the
//! weight, and the weights flip between high and low.
//!
//! *Smoothing.* The blend with the old weight damps the loop of the load-following
//! policies; this one has no loop to damp, only noise. A probe is one instant, and a request
//! that arrives or ends while it runs makes its rate wrong by a fraction: most rates are
//! exact and a few are far off. A median of three rounds discards such a rate whole, where a
//! blend would keep part of every one for several rounds, and it delays a real change by
//! one round only. Blending as well would leave each weight approaching its target by
//! steps that the sensitivity, once they are small, no longer commits, so the configured
//! smoothing is not applied; the sensitivity is.
//!
//! *Why a probe, not the counters.* The Executor's counters give the same rate another way:
//! connections completed over the time a server held at least one (the utilization law).
//! But that counts requests, not work, and with the A/B/C/D mix, where 1% of the requests
//! carry 44% of the work, whether one long request fell in a round decides its rate: in the
//! simulator the rate over eight 2-second rounds still has an interquartile range of ±25%.
//! A probe is the same request every time, so its time varies only with the share it gets.
//!
//! *Limits.* Time the probe spends on the network is in `t` too: it pulls the rates of
//! servers that hold few connections toward each other (under load `w (n + 1) / C`
//! dominates), so the advisor's path should be a page whose own work is large next to a
//! round trip, like a typical request; a probe answered in less than that time measures
//! the network, and the weights then creep toward equal by steps the sensitivity may not
//! commit. It should not be much longer either: requests that arrive or end while a probe
//! runs change its share unseen, so the longer the probe the noisier its rate (the
//! simulator's report compares a one-unit probe with a 20-unit one). A server of `k` cores
//! holding fewer than `k` requests answers as fast as an idle one, so under light load a
//! many-core server shows less than its capacity; and established connections that sit
//! idle (keep-alive) count in `n` without taking a share.
//! Where some healthy server has no HTTP timing this round (no HTTP advisor is configured,
//! or it has not answered one yet), the port's targets are the declared capacities instead:
//! `target(S) = max_weight * c(S) / max_T c(T)`.

use crate::config::Policy;

/// A tenth of the mean Load Metric Index: the floor under each load in [`InverseLoad`].
pub const LOAD_FLOOR: f64 = 0.1;

/// The shortest probe time [`MeasuredCapacity`] believes, in seconds: a microsecond.
const SHORTEST_PROBE: f64 = 1e-6;

/// How an HTTP advisor's probe of a server went, for [`MeasuredCapacity`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProbeTiming {
    /// The probe's response time in seconds (the mean over the HTTP advisors).
    pub seconds: f64,
    /// The established connections the Executor had to the server, over all its ports.
    pub connections: u32,
}

impl ProbeTiming {
    /// `(n + 1) / t`: the server's rate of service, in probes a second.
    pub fn rate(&self) -> f64 {
        (f64::from(self.connections) + 1.0) / self.seconds.max(SHORTEST_PROBE)
    }
}

/// How many of a server's latest rates [`MeasuredCapacity`] takes the median of.
pub const RATES_KEPT: usize = 3;

/// A server's rates of service from its latest rounds, newest first: those since it was
/// last down or untimed, at most [`RATES_KEPT`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RecentRates {
    rates: [f64; RATES_KEPT],
    len: usize,
}

impl RecentRates {
    /// No rate yet.
    pub fn new() -> RecentRates {
        RecentRates::default()
    }

    /// Rates in the order given, the newest last.
    pub fn of(rates: &[f64]) -> RecentRates {
        let mut recent = RecentRates::new();
        for &rate in rates {
            recent.push(rate);
        }
        recent
    }

    /// Adds this round's rate, forgetting the oldest beyond [`RATES_KEPT`].
    pub fn push(&mut self, rate: f64) {
        self.rates.copy_within(0..RATES_KEPT - 1, 1);
        self.rates[0] = rate;
        self.len = (self.len + 1).min(RATES_KEPT);
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The rates, newest first.
    pub fn as_slice(&self) -> &[f64] {
        &self.rates[..self.len]
    }

    /// Their median (of two, the mean); `None` if there is none.
    pub fn median(&self) -> Option<f64> {
        let mut sorted = self.rates;
        let sorted = &mut sorted[..self.len];
        sorted.sort_by(f64::total_cmp);
        match sorted.len() {
            0 => None,
            n if n % 2 == 1 => Some(sorted[n / 2]),
            n => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
        }
    }
}

/// What a weight computation knows of one server.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WcfServer {
    /// Its Load Metric Index, or `None` if it is down.
    pub load: Option<f64>,
    /// Its weight in the Executor now.
    pub old_weight: u32,
    /// Its configured capacity.
    pub capacity: f64,
    /// Its rates of service from the HTTP advisors' latest probes, this round's first;
    /// empty if they did not time it this round.
    pub rates: RecentRates,
}

/// The inputs of one port's weight computation.
#[derive(Clone, Copy, Debug)]
pub struct WcfInput<'a> {
    /// The port's managed servers.
    pub servers: &'a [WcfServer],
    /// The largest weight to give.
    pub max_weight: u32,
    /// The share of the old weight kept in the new one, from 0 to below 1.
    pub smoothing: f64,
    /// How much lower another server's load must be before [`BestServer`] moves the
    /// connections to it (the configured sensitivity, read as a difference of indexes).
    pub switch_margin: f64,
}

/// A weight computation function: one new weight per server of the input, in its order.
pub trait WeightComputation: Send + Sync {
    /// The new weights; 0 for servers that are down.
    fn compute(&self, input: &WcfInput<'_>) -> Vec<u32>;
}

/// Weights in inverse proportion to load, blended with the old ones (`weighted`).
#[derive(Clone, Copy, Debug, Default)]
pub struct InverseLoad;

/// Every new connection to the least-loaded healthy server (`best`).
#[derive(Clone, Copy, Debug, Default)]
pub struct BestServer;

/// Weights in proportion to each server's measured rate of service (`capacity`).
#[derive(Clone, Copy, Debug, Default)]
pub struct MeasuredCapacity;

/// The weight computation of `policy`.
pub fn for_policy(policy: Policy) -> &'static dyn WeightComputation {
    match policy {
        Policy::Weighted => &InverseLoad,
        Policy::Best => &BestServer,
        Policy::Capacity => &MeasuredCapacity,
    }
}

/// Each target blended with its server's old weight by [`smooth`]; 0 where there is no
/// target.
pub fn blend(input: &WcfInput<'_>, targets: &[Option<f64>]) -> Vec<u32> {
    targets
        .iter()
        .zip(input.servers)
        .map(|(target, server)| match target {
            Some(target) => smooth(
                server.old_weight,
                *target,
                input.smoothing,
                input.max_weight,
            ),
            None => 0,
        })
        .collect()
}

/// `values` scaled so that the largest is `max_weight`; `None` stays `None`.
pub fn scaled_to_max(values: &[Option<f64>], max_weight: u32) -> Vec<Option<f64>> {
    let largest = values.iter().flatten().copied().fold(0.0, f64::max);
    values
        .iter()
        .map(|value| {
            value.map(|value| {
                if largest > 0.0 && largest.is_finite() {
                    f64::from(max_weight) * value / largest
                } else {
                    f64::from(max_weight)
                }
            })
        })
        .collect()
}

impl WeightComputation for InverseLoad {
    fn compute(&self, input: &WcfInput<'_>) -> Vec<u32> {
        let loads: Vec<Option<f64>> = input.servers.iter().map(|s| s.load).collect();
        blend(input, &inverse_load_targets(&loads, input.max_weight))
    }
}

/// Each healthy server's unrounded target weight, the largest being `max_weight`; `None` for
/// servers that are down.
pub fn inverse_load_targets(loads: &[Option<f64>], max_weight: u32) -> Vec<Option<f64>> {
    let healthy = loads.iter().flatten().count();
    if healthy == 0 {
        return vec![None; loads.len()];
    }
    let floor = LOAD_FLOOR / healthy as f64;
    let inverse: Vec<Option<f64>> = loads
        .iter()
        .map(|load| load.map(|load| 1.0 / (load.max(0.0) + floor)))
        .collect();
    scaled_to_max(&inverse, max_weight)
}

impl WeightComputation for MeasuredCapacity {
    fn compute(&self, input: &WcfInput<'_>) -> Vec<u32> {
        // The median over rounds is this policy's smoothing; the weights go to the targets.
        let input = WcfInput {
            smoothing: 0.0,
            ..*input
        };
        blend(&input, &capacity_targets(input.servers, input.max_weight))
    }
}

/// Each healthy server's unrounded target weight under [`MeasuredCapacity`], the largest
/// being `max_weight`: the median of its recent rates, or its declared capacity where some
/// healthy server of the port has no timing this round; `None` for servers that are down.
pub fn capacity_targets(servers: &[WcfServer], max_weight: u32) -> Vec<Option<f64>> {
    let healthy = || servers.iter().filter(|s| s.load.is_some());
    let measured = healthy().all(|s| !s.rates.is_empty());
    let estimates: Vec<Option<f64>> = servers
        .iter()
        .map(|server| {
            server.load?;
            Some(match server.rates.median() {
                Some(rate) if measured => rate,
                _ => server.capacity,
            })
        })
        .collect();
    scaled_to_max(&estimates, max_weight)
}

/// The weight after one step from `old` toward `target`, keeping the share `smoothing` of the
/// old weight; always in `1..=max_weight`, between `old` and the rounded target, and closer to
/// the target than `old` unless already on it.
pub fn smooth(old: u32, target: f64, smoothing: f64, max_weight: u32) -> u32 {
    let max = f64::from(max_weight.max(1));
    let target = target.clamp(1.0, max);
    let goal = target.round() as u32;
    let blended = smoothing * f64::from(old) + (1.0 - smoothing) * target;
    let new = blended.round().clamp(1.0, max) as u32;
    if new == old && old != goal {
        // The blend rounded back to where it was; move by one so the target is reached.
        return if goal > old { old + 1 } else { old - 1 };
    }
    new
}

impl WeightComputation for BestServer {
    fn compute(&self, input: &WcfInput<'_>) -> Vec<u32> {
        let healthy = || {
            input
                .servers
                .iter()
                .enumerate()
                .filter_map(|(index, server)| server.load.map(|load| (index, load)))
        };
        let Some((lightest, lightest_load)) = healthy().min_by(|(_, a), (_, b)| a.total_cmp(b))
        else {
            return vec![0; input.servers.len()];
        };
        // The server that has the connections now keeps them until another is clearly
        // lighter, so two servers of nearly equal load do not trade places every interval.
        let mut holders = healthy().filter(|&(index, _)| input.servers[index].old_weight > 0);
        let chosen = match (holders.next(), holders.next()) {
            (Some((holder, load)), None) if load - lightest_load <= input.switch_margin => holder,
            _ => lightest,
        };
        (0..input.servers.len())
            .map(|index| if index == chosen { input.max_weight } else { 0 })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn servers(loads: &[Option<f64>], old: &[u32]) -> Vec<WcfServer> {
        loads
            .iter()
            .zip(old)
            .map(|(&load, &old_weight)| WcfServer {
                load,
                old_weight,
                capacity: 1.0,
                rates: RecentRates::new(),
            })
            .collect()
    }

    fn input(servers: &[WcfServer], smoothing: f64) -> WcfInput<'_> {
        WcfInput {
            servers,
            max_weight: 100,
            smoothing,
            switch_margin: 0.05,
        }
    }

    #[test]
    fn targets_are_inverse_to_load_with_the_lightest_at_max_weight() {
        // Floor 0.1 / 2 = 0.05: 1 / 0.3 against 1 / 0.8.
        let targets = inverse_load_targets(&[Some(0.25), Some(0.75)], 100);
        assert_eq!(targets[0], Some(100.0));
        let heavy = targets[1].unwrap();
        assert!((heavy - 100.0 * 0.3 / 0.8).abs() < 1e-9, "{heavy}");
    }

    #[test]
    fn servers_that_are_down_get_no_target_and_weight_zero() {
        assert_eq!(
            inverse_load_targets(&[None, Some(1.0)], 100),
            vec![None, Some(100.0)]
        );
        let servers = servers(&[None, Some(1.0)], &[40, 40]);
        assert_eq!(InverseLoad.compute(&input(&servers, 0.5)), vec![0, 70]);
    }

    #[test]
    fn without_smoothing_the_weights_are_the_targets() {
        let servers = servers(&[Some(0.25), Some(0.75)], &[1, 1]);
        assert_eq!(InverseLoad.compute(&input(&servers, 0.0)), vec![100, 38]);
    }

    #[test]
    fn a_healthy_server_never_rounds_to_zero() {
        let servers = servers(&[Some(0.0), Some(1.0e9)], &[100, 100]);
        assert_eq!(InverseLoad.compute(&input(&servers, 0.0)), vec![100, 1]);
    }

    #[test]
    fn a_quiesced_server_coming_back_gets_a_positive_weight_at_once() {
        let servers = servers(&[Some(0.5), Some(0.5)], &[0, 100]);
        let weights = InverseLoad.compute(&input(&servers, 0.9));
        assert_eq!(weights, vec![10, 100]);
        let weights = InverseLoad.compute(&input(&servers, 0.999));
        assert_eq!(weights, vec![1, 100]);
    }

    #[test]
    fn smoothing_steps_by_one_when_rounding_would_stall() {
        // 0.5 * 100 + 0.5 * 99 = 99.5 rounds back to 100.
        assert_eq!(smooth(100, 99.0, 0.5, 100), 99);
        assert_eq!(smooth(99, 99.2, 0.5, 100), 99);
    }

    #[test]
    fn old_weights_above_max_weight_come_down_into_range() {
        assert_eq!(smooth(1000, 50.0, 0.5, 100), 100);
    }

    #[test]
    fn best_sends_everything_to_the_least_loaded_healthy_server() {
        let servers = servers(&[Some(0.5), Some(0.2), None, Some(0.3)], &[1, 1, 1, 1]);
        assert_eq!(
            BestServer.compute(&input(&servers, 0.5)),
            vec![0, 100, 0, 0]
        );
    }

    #[test]
    fn best_keeps_the_holder_within_the_margin_and_moves_past_it() {
        let near = servers(&[Some(0.52), Some(0.48)], &[100, 0]);
        assert_eq!(BestServer.compute(&input(&near, 0.5)), vec![100, 0]);
        let far = servers(&[Some(0.6), Some(0.4)], &[100, 0]);
        assert_eq!(BestServer.compute(&input(&far, 0.5)), vec![0, 100]);
    }

    #[test]
    fn best_moves_off_a_holder_that_went_down() {
        let servers = servers(&[None, Some(0.9), Some(0.1)], &[100, 0, 0]);
        assert_eq!(BestServer.compute(&input(&servers, 0.5)), vec![0, 0, 100]);
    }

    #[test]
    fn nothing_healthy_means_every_weight_zero() {
        let servers = servers(&[None, None], &[5, 5]);
        assert_eq!(InverseLoad.compute(&input(&servers, 0.5)), vec![0, 0]);
        assert_eq!(BestServer.compute(&input(&servers, 0.5)), vec![0, 0]);
    }

    /// The timing of a probe of one unit of work on a processor-sharing server of
    /// `capacity` (work per second) holding `connections`.
    fn ps_timing(capacity: f64, connections: u32) -> ProbeTiming {
        ProbeTiming {
            seconds: (f64::from(connections) + 1.0) / capacity,
            connections,
        }
    }

    /// A healthy server whose rates so far are `rates`, the newest last.
    fn timed(rates: &[f64], old_weight: u32) -> WcfServer {
        WcfServer {
            load: Some(0.25),
            old_weight,
            capacity: 1.0,
            rates: RecentRates::of(rates),
        }
    }

    /// A healthy server probed once, as [`ps_timing`].
    fn probed(capacity: f64, connections: u32, old_weight: u32) -> WcfServer {
        timed(&[ps_timing(capacity, connections).rate()], old_weight)
    }

    fn down_server(old_weight: u32) -> WcfServer {
        WcfServer {
            load: None,
            old_weight,
            capacity: 1.0,
            rates: RecentRates::new(),
        }
    }

    #[test]
    fn the_rate_is_concurrency_over_probe_time() {
        let timing = ProbeTiming {
            seconds: 0.004,
            connections: 3,
        };
        assert!((timing.rate() - 1000.0).abs() < 1e-9);
        // An idle server answering in no measurable time does not divide by zero.
        let instant = ProbeTiming {
            seconds: 0.0,
            connections: 0,
        };
        assert_eq!(instant.rate(), 1e6);
    }

    #[test]
    fn recent_rates_keep_three_and_give_their_median() {
        let mut rates = RecentRates::new();
        assert_eq!(rates.median(), None);
        rates.push(10.0);
        assert_eq!(rates.median(), Some(10.0));
        rates.push(20.0);
        assert_eq!(rates.median(), Some(15.0));
        rates.push(90.0);
        assert_eq!(rates.median(), Some(20.0));
        rates.push(30.0);
        assert_eq!(rates.as_slice(), &[30.0, 90.0, 20.0]);
        assert_eq!(rates.median(), Some(30.0));
    }

    #[test]
    fn capacity_targets_follow_the_measured_rates_whatever_the_connections() {
        // Capacities 1000 and 500; the slow server holds fewer connections (wlc gave it
        // less), but its probe takes longer per connection.
        let servers = [probed(1000.0, 9, 1), probed(500.0, 4, 1)];
        let targets = capacity_targets(&servers, 100);
        assert!((targets[0].unwrap() - 100.0).abs() < 1e-9);
        assert!((targets[1].unwrap() - 50.0).abs() < 1e-9, "{targets:?}");
        // The smoothing is not applied: the weights go to the targets.
        assert_eq!(
            MeasuredCapacity.compute(&input(&servers, 0.9)),
            vec![100, 50]
        );
    }

    #[test]
    fn one_wrong_rate_is_ignored_and_a_change_is_taken_at_its_second_round() {
        let steady = [timed(&[1000.0, 1000.0], 100), timed(&[500.0, 500.0], 50)];
        // A request that arrived during the probe made the slow server look faster.
        let outlier = [
            timed(&[1000.0, 1000.0, 1000.0], 100),
            timed(&[500.0, 500.0, 900.0], 50),
        ];
        assert_eq!(
            MeasuredCapacity.compute(&input(&steady, 0.5)),
            vec![100, 50]
        );
        assert_eq!(
            MeasuredCapacity.compute(&input(&outlier, 0.5)),
            vec![100, 50]
        );
        // The first server's speed halves: one round of it is not enough, two are.
        let first = [timed(&[1000.0, 1000.0, 500.0], 100), timed(&[500.0; 3], 50)];
        assert_eq!(MeasuredCapacity.compute(&input(&first, 0.5)), vec![100, 50]);
        let second = [timed(&[1000.0, 500.0, 500.0], 100), timed(&[500.0; 3], 50)];
        assert_eq!(
            MeasuredCapacity.compute(&input(&second, 0.5)),
            vec![100, 100]
        );
    }

    #[test]
    fn without_a_timing_on_every_healthy_server_the_declared_capacities_are_used() {
        let mut servers = [
            probed(1000.0, 9, 1),
            probed(500.0, 4, 1),
            probed(10.0, 0, 1),
        ];
        servers[1].capacity = 3.0;
        servers[2].rates = RecentRates::new();
        servers[2].capacity = 1.5;
        let targets = capacity_targets(&servers, 100);
        assert_eq!(targets, vec![Some(100.0 / 3.0), Some(100.0), Some(50.0)]);
        // A server that is down has no say in that.
        servers[2] = down_server(7);
        assert_eq!(
            MeasuredCapacity.compute(&input(&servers, 0.0)),
            vec![100, 50, 0]
        );
    }

    #[test]
    fn capacity_gives_down_servers_zero_at_once_and_takes_them_back_at_their_rate() {
        let servers = [probed(1000.0, 2, 80), down_server(80)];
        assert_eq!(
            MeasuredCapacity.compute(&input(&servers, 0.5)),
            vec![100, 0]
        );
        let back = [probed(1000.0, 2, 100), probed(500.0, 0, 0)];
        assert_eq!(MeasuredCapacity.compute(&input(&back, 0.5)), vec![100, 50]);
        let nothing = [down_server(3), down_server(4)];
        assert_eq!(MeasuredCapacity.compute(&input(&nothing, 0.5)), vec![0, 0]);
    }

    /// A closed loop in which the Executor reacts to every weight at once: like wlc, it
    /// spreads `connections` in proportion to the weights, and each server answers the probe
    /// as a processor-sharing server of its capacity would, its time multiplied by what
    /// `noise` gives.
    struct ClosedLoop {
        capacities: Vec<f64>,
        connections: f64,
        weights: Vec<u32>,
        rates: Vec<RecentRates>,
    }

    impl ClosedLoop {
        fn new(capacities: &[f64], start: &[u32], connections: f64) -> ClosedLoop {
            ClosedLoop {
                capacities: capacities.to_vec(),
                connections,
                weights: start.to_vec(),
                rates: vec![RecentRates::new(); capacities.len()],
            }
        }

        /// The servers as the next round sees them.
        fn servers(&mut self, mut noise: impl FnMut() -> f64) -> Vec<WcfServer> {
            let total: f64 = self.weights.iter().map(|&w| f64::from(w)).sum();
            (0..self.capacities.len())
                .map(|i| {
                    let share = f64::from(self.weights[i]) / total.max(1.0);
                    let held = (self.connections * share).round() as u32;
                    let mut timing = ps_timing(self.capacities[i], held);
                    timing.seconds *= noise();
                    self.rates[i].push(timing.rate());
                    WcfServer {
                        load: Some(0.25),
                        old_weight: self.weights[i],
                        capacity: 1.0,
                        rates: self.rates[i],
                    }
                })
                .collect()
        }

        /// Runs `rounds`, returning the weights after each.
        fn run(
            &mut self,
            rounds: usize,
            smoothing: f64,
            mut noise: impl FnMut() -> f64,
        ) -> Vec<Vec<u32>> {
            (0..rounds)
                .map(|_| {
                    let servers = self.servers(&mut noise);
                    self.weights = MeasuredCapacity.compute(&input(&servers, smoothing));
                    self.weights.clone()
                })
                .collect()
        }
    }

    #[test]
    fn a_half_speed_server_converges_to_half_the_weight_of_the_others() {
        // Provisioned servers start at weight 1, equal.
        let mut lp = ClosedLoop::new(&[1000.0, 1000.0, 1000.0, 500.0], &[1; 4], 40.0);
        let history = lp.run(5, 0.5, || 1.0);
        assert!(
            history.iter().all(|w| w == &[100, 100, 100, 50]),
            "{history:?}"
        );
    }

    #[test]
    fn weights_follow_a_change_of_capacity_in_two_rounds_without_overshooting() {
        let mut lp = ClosedLoop::new(&[3000.0, 1000.0, 500.0], &[100, 33, 17], 60.0);
        assert_eq!(lp.run(3, 0.5, || 1.0).last().unwrap(), &vec![100, 33, 17]);
        lp.capacities[0] = 1000.0;
        let history = lp.run(4, 0.5, || 1.0);
        assert_eq!(history[0], vec![100, 33, 17]);
        assert!(
            history[1..].iter().all(|w| w == &[100, 100, 50]),
            "{history:?}"
        );
    }

    #[test]
    fn noisy_probes_leave_the_weights_wandering_not_flipping() {
        // Each probe time off by up to 30% either way: the weights follow medians of
        // overlapping rounds, so a deviation from the mean is followed by one of the same
        // sign more often than not (a positive lag-one autocorrelation), where a loop that
        // over-corrects flips the sign every round (near -1).
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let noise = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            0.7 + 0.6 * (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut lp = ClosedLoop::new(&[1000.0, 1000.0, 1000.0, 500.0], &[100, 100, 100, 50], 40.0);
        let history = lp.run(400, 0.5, noise);
        let shares: Vec<f64> = history
            .iter()
            .map(|w| f64::from(w[3]) / f64::from(w.iter().sum::<u32>()))
            .collect();
        let mean = shares.iter().sum::<f64>() / shares.len() as f64;
        assert!((mean - 1.0 / 7.0).abs() < 0.01, "{mean}");
        let deviations: Vec<f64> = shares.iter().map(|s| s - mean).collect();
        let lag_one = deviations.windows(2).map(|p| p[0] * p[1]).sum::<f64>()
            / deviations.iter().map(|d| d * d).sum::<f64>();
        assert!(lag_one > 0.2, "{lag_one}");
    }

    fn capacities() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(10.0..10_000.0f64, 1..12)
    }

    fn at_capacity(capacities: &[f64]) -> Vec<u32> {
        let largest = capacities.iter().copied().fold(0.0, f64::max);
        capacities
            .iter()
            .map(|c| ((100.0 * c / largest).round() as u32).max(1))
            .collect()
    }

    proptest! {
        #[test]
        fn capacity_weights_lie_in_1_to_max_and_down_servers_get_zero(
            servers in prop::collection::vec(
                (
                    prop::option::weighted(
                        0.8,
                        prop::collection::vec((1.0e-5..10.0f64, 0u32..10_000), 0..5),
                    ),
                    0u32..70_000,
                ),
                1..16,
            ),
            smoothing in 0.0..1.0f64,
            max_weight in 1u32..=65_535,
        ) {
            let servers: Vec<WcfServer> = servers
                .iter()
                .enumerate()
                .map(|(index, (probes, old_weight))| match probes {
                    Some(probes) => {
                        let rates: Vec<f64> = probes
                            .iter()
                            .map(|&(seconds, connections)| {
                                ProbeTiming { seconds, connections }.rate()
                            })
                            .collect();
                        WcfServer {
                            capacity: 1.0 + index as f64,
                            ..timed(&rates, *old_weight)
                        }
                    }
                    None => down_server(*old_weight),
                })
                .collect();
            let weights = MeasuredCapacity.compute(&WcfInput {
                servers: &servers,
                max_weight,
                smoothing,
                switch_margin: 0.0,
            });
            for (server, weight) in servers.iter().zip(weights) {
                match server.load {
                    Some(_) => prop_assert!((1..=max_weight).contains(&weight)),
                    None => prop_assert_eq!(weight, 0),
                }
            }
        }

        #[test]
        fn true_capacities_are_a_fixed_point(
            capacities in capacities(),
            connections in 0.0..500.0f64,
            smoothing in 0.0..0.95f64,
        ) {
            let start = at_capacity(&capacities);
            let mut lp = ClosedLoop::new(&capacities, &start, connections);
            for weights in lp.run(5, smoothing, || 1.0) {
                prop_assert_eq!(&weights, &start);
            }
        }

        #[test]
        fn the_closed_loop_reaches_the_capacities_at_once_and_stays(
            capacities in capacities(),
            start in prop::collection::vec(1u32..=100, 12),
            connections in 0.0..500.0f64,
            smoothing in 0.0..0.9f64,
        ) {
            let mut lp = ClosedLoop::new(&capacities, &start[..capacities.len()], connections);
            let goal = at_capacity(&capacities);
            for weights in lp.run(20, smoothing, || 1.0) {
                prop_assert_eq!(&weights, &goal);
            }
        }
    }

    fn loads() -> impl Strategy<Value = Vec<Option<f64>>> {
        prop::collection::vec(prop::option::weighted(0.8, 0.0..1.0f64), 1..16)
    }

    proptest! {
        #[test]
        fn the_lightest_gets_max_weight_and_heavier_servers_no_more(
            loads in loads(),
            max_weight in 1u32..=65_535,
        ) {
            let targets = inverse_load_targets(&loads, max_weight);
            let healthy: Vec<(f64, f64)> = loads
                .iter()
                .zip(&targets)
                .filter_map(|(load, target)| Some(((*load)?, target.unwrap())))
                .collect();
            if let Some(&(_, top)) = healthy
                .iter()
                .min_by(|a, b| a.0.total_cmp(&b.0))
            {
                prop_assert!((top - f64::from(max_weight)).abs() < 1e-6);
            }
            for &(load_a, target_a) in &healthy {
                for &(load_b, target_b) in &healthy {
                    if load_a < load_b {
                        prop_assert!(target_a >= target_b);
                    }
                }
            }
            for (load, target) in loads.iter().zip(&targets) {
                prop_assert_eq!(load.is_none(), target.is_none());
            }
        }

        #[test]
        fn healthy_weights_lie_in_1_to_max_and_down_servers_get_zero(
            loads in loads(),
            old in prop::collection::vec(0u32..70_000, 16),
            smoothing in 0.0..1.0f64,
            max_weight in 1u32..=65_535,
        ) {
            let servers = servers(&loads, &old);
            let weights = InverseLoad.compute(&WcfInput {
                servers: &servers,
                max_weight,
                smoothing,
                switch_margin: 0.0,
            });
            for (server, weight) in servers.iter().zip(weights) {
                match server.load {
                    Some(_) => prop_assert!((1..=max_weight).contains(&weight)),
                    None => prop_assert_eq!(weight, 0),
                }
            }
        }

        #[test]
        fn smoothing_moves_monotonically_to_a_fixed_point(
            old in 0u32..200,
            target in 0.0..150.0f64,
            smoothing in 0.0..0.99f64,
        ) {
            let goal = target.clamp(1.0, 100.0).round() as u32;
            let mut weight = old;
            for _ in 0..1000 {
                let next = smooth(weight, target, smoothing, 100);
                // Never past the goal, never back.
                prop_assert!(next.abs_diff(goal) <= weight.abs_diff(goal));
                prop_assert!(
                    (weight <= next && next <= goal.max(weight)) || (goal <= next && next <= weight),
                    "{} -> {} toward {}", weight, next, goal
                );
                if next == weight {
                    break;
                }
                weight = next;
            }
            prop_assert_eq!(weight, goal);
            prop_assert_eq!(smooth(weight, target, smoothing, 100), goal);
        }
    }
}
