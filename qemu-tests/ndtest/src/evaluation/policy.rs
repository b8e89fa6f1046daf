//! The load-sharing policies the evaluation compares, and how each is set up: which balancer,
//! which weights, and whether the Manager runs.

use serde::{Deserialize, Serialize};

use crate::benchmark::results::PathKind;

/// The largest weight, of the static weights and of the Manager's.
pub const MAX_WEIGHT: u32 = 100;

/// One way of sharing the load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// The Executor's weighted round robin with equal weights.
    RoundRobin,
    /// The Executor's weighted round robin with weights proportional to the capacities.
    StaticWrr,
    /// IPVS's weighted least-connection with the operator's weights.
    IpvsWlc,
    /// The Manager's dynamic feedback (`weighted`) over the Executor's round robin.
    ManagerWeighted,
    /// The Manager's `best`: every new connection to the least-loaded server.
    ManagerBest,
    /// The Manager's `capacity` weights over the Executor's weighted least-connection: the
    /// Executor follows every server's connections, the Manager its capacity.
    ManagerWlc,
}

impl Policy {
    /// In the order reports list them.
    pub const ALL: [Policy; 6] = [
        Policy::RoundRobin,
        Policy::StaticWrr,
        Policy::IpvsWlc,
        Policy::ManagerWeighted,
        Policy::ManagerBest,
        Policy::ManagerWlc,
    ];

    /// Those of the paper's setting.
    pub const PAPER: [Policy; 5] = [
        Policy::RoundRobin,
        Policy::StaticWrr,
        Policy::IpvsWlc,
        Policy::ManagerWeighted,
        Policy::ManagerBest,
    ];

    /// Those every other scenario compares: the Manager over each of the Executor's
    /// schedulers against the static ones.
    pub const COMPARED: [Policy; 5] = [
        Policy::RoundRobin,
        Policy::StaticWrr,
        Policy::IpvsWlc,
        Policy::ManagerWeighted,
        Policy::ManagerWlc,
    ];

    /// Its name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Policy::RoundRobin => "round robin",
            Policy::StaticWrr => "static WRR",
            Policy::IpvsWlc => "IPVS wlc",
            Policy::ManagerWeighted => "Manager + wrr",
            Policy::ManagerBest => "Manager best",
            Policy::ManagerWlc => "Manager + wlc",
        }
    }

    /// How it is configured, for the report.
    pub fn description(self) -> &'static str {
        match self {
            Policy::RoundRobin => "the Executor's `wrr`, every weight 1",
            Policy::StaticWrr => {
                "the Executor's `wrr`, weights proportional to the capacities (largest 100) \
                 where the operator knows them, equal otherwise"
            }
            Policy::IpvsWlc => {
                "IPVS in direct-routing mode, `ipvsadm -s wlc`, the operator's weights: \
                 proportional to the capacities where the scenario lets IPVS know them, \
                 every weight 1 otherwise"
            }
            Policy::ManagerWeighted => {
                "nd-manager, policy `weighted`, over the Executor's `wrr`; capacities declared \
                 where the scenario knows them"
            }
            Policy::ManagerBest => {
                "nd-manager, policy `best`, over the Executor's `wrr`; starting from equal \
                 weights, no capacities declared"
            }
            Policy::ManagerWlc => {
                "nd-manager, `scheduler = \"wlc\"` and policy `capacity` (weights proportional \
                 to each server's measured capacity), over the Executor's `wlc`; capacities \
                 declared where the scenario knows them"
            }
        }
    }

    /// The balancer it runs on.
    pub fn path(self) -> PathKind {
        match self {
            Policy::IpvsWlc => PathKind::Ipvs,
            _ => PathKind::Ours,
        }
    }

    /// IPVS's scheduler, for a policy on IPVS.
    pub fn ipvs_scheduler(self) -> &'static str {
        "wlc"
    }

    /// The Executor's scheduler for the port, for a policy on the Executor.
    pub fn executor_scheduler(self) -> &'static str {
        match self {
            Policy::ManagerWlc => "wlc",
            _ => "wrr",
        }
    }

    /// The Manager's policy, for the Manager's policies.
    pub fn manager_policy(self) -> Option<&'static str> {
        match self {
            Policy::ManagerWeighted => Some("weighted"),
            Policy::ManagerBest => Some("best"),
            Policy::ManagerWlc => Some("capacity"),
            _ => None,
        }
    }
}

/// Weights in proportion to `capacities`, the largest [`MAX_WEIGHT`], none below 1.
pub fn proportional_weights(capacities: &[f64; 3]) -> [u32; 3] {
    let largest = capacities.iter().copied().fold(0.0, f64::max);
    capacities.map(|c| ((c / largest * f64::from(MAX_WEIGHT)).round() as u32).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_weights_follow_the_capacities() {
        assert_eq!(
            proportional_weights(&[1000.0, 1000.0, 500.0]),
            [100, 100, 50]
        );
        assert_eq!(proportional_weights(&[1.0, 3.0, 0.001]), [33, 100, 1]);
    }

    #[test]
    fn only_ipvs_runs_on_ipvs_and_only_the_manager_s_policies_run_it() {
        for policy in Policy::ALL {
            assert_eq!(policy.path() == PathKind::Ipvs, policy == Policy::IpvsWlc);
            assert_eq!(
                policy.manager_policy().is_some(),
                matches!(
                    policy,
                    Policy::ManagerWeighted | Policy::ManagerBest | Policy::ManagerWlc
                )
            );
            assert_eq!(
                policy.executor_scheduler() == "wlc",
                policy == Policy::ManagerWlc
            );
        }
        let json = serde_json::to_string(&Policy::ManagerBest).unwrap();
        assert_eq!(json, "\"manager_best\"");
    }
}
