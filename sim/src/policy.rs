//! The load-sharing policies compared: which scheduler the Executor runs and where its
//! weights come from.

use nd_core::sched::SchedulerKind;
use nd_manager::config::Policy as ManagerPolicy;

/// Where a policy's weights come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightSource {
    /// Every server weight 1.
    Equal,
    /// The operator's weights: the capacities, where the operator knows them.
    Static,
    /// The Manager's feedback loop with this weight computation policy.
    Manager(ManagerPolicy),
}

/// A policy: the Executor's scheduler and its weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadSharing {
    /// Its name in tables and charts.
    pub name: &'static str,
    /// A name for file names and command lines.
    pub key: &'static str,
    /// The Executor's connection scheduler.
    pub scheduler: SchedulerKind,
    /// Where the weights come from.
    pub weights: WeightSource,
}

impl LoadSharing {
    /// Whether the Manager sets this policy's weights.
    pub fn is_managed(&self) -> bool {
        matches!(self.weights, WeightSource::Manager(_))
    }
}

/// Round robin: weighted round robin with equal weights.
pub const ROUND_ROBIN: LoadSharing = LoadSharing {
    name: "round robin",
    key: "rr",
    scheduler: SchedulerKind::Wrr,
    weights: WeightSource::Equal,
};

/// Weighted round robin with the operator's weights.
pub const STATIC_WRR: LoadSharing = LoadSharing {
    name: "static WRR",
    key: "static-wrr",
    scheduler: SchedulerKind::Wrr,
    weights: WeightSource::Static,
};

/// IPVS's weighted least-connection with the operator's weights.
pub const IPVS_WLC: LoadSharing = LoadSharing {
    name: "IPVS wlc",
    key: "wlc",
    scheduler: SchedulerKind::Wlc,
    weights: WeightSource::Static,
};

/// IPVS's shortest expected delay with the operator's weights.
pub const IPVS_SED: LoadSharing = LoadSharing {
    name: "IPVS sed",
    key: "sed",
    scheduler: SchedulerKind::Sed,
    weights: WeightSource::Static,
};

/// The Manager's default `weighted` policy over the Executor's round robin.
pub const MANAGER_WRR: LoadSharing = LoadSharing {
    name: "Manager + wrr",
    key: "manager-wrr",
    scheduler: SchedulerKind::Wrr,
    weights: WeightSource::Manager(ManagerPolicy::Weighted),
};

/// The Manager's `best` policy: every new connection to the least-loaded server.
pub const MANAGER_BEST: LoadSharing = LoadSharing {
    name: "Manager best",
    key: "manager-best",
    scheduler: SchedulerKind::Wrr,
    weights: WeightSource::Manager(ManagerPolicy::Best),
};

/// The Manager's `weighted` policy's weights fed to weighted least-connection.
pub const MANAGER_WLC: LoadSharing = LoadSharing {
    name: "Manager + wlc",
    key: "manager-wlc",
    scheduler: SchedulerKind::Wlc,
    weights: WeightSource::Manager(ManagerPolicy::Weighted),
};

/// Every policy, in table order.
pub const ALL: [LoadSharing; 7] = [
    ROUND_ROBIN,
    STATIC_WRR,
    IPVS_WLC,
    IPVS_SED,
    MANAGER_WRR,
    MANAGER_BEST,
    MANAGER_WLC,
];
