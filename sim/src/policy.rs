//! The load-sharing policies compared: which scheduler the Executor runs and where its
//! weights come from.

use std::time::Duration;

use nd_core::sched::SchedulerKind;
use nd_manager::config::Policy as ManagerPolicy;

/// How the Manager is configured for a policy, beyond the service's scheduler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ManagerSetup {
    /// The service's `policy`; `None` leaves it out, so the scheduler's default applies.
    pub policy: Option<ManagerPolicy>,
    /// The `interval`; `None` leaves it out, so the Manager's default applies.
    pub interval: Option<Duration>,
    /// A weight computation in place of the configured policy's, for comparisons the
    /// configuration does not offer.
    pub replaced_by: Option<Replacement>,
    /// The work units of the HTTP advisor's probe; `None`: [`crate::run::PROBE_WORK`].
    pub probe_units: Option<u32>,
}

/// A weight computation put in place of the configured policy's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replacement {
    /// The `weighted` policy's inverse-load weights, which the configuration refuses
    /// under wlc.
    InverseLoad,
    /// The load policy in proportional-correction form
    /// ([`crate::alternatives::ProportionalCorrection`]).
    ProportionalCorrection,
}

/// Where a policy's weights come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightSource {
    /// Every server weight 1.
    Equal,
    /// The operator's weights: the capacities, where the operator knows them.
    Static,
    /// The Manager's feedback loop, configured so.
    Manager(ManagerSetup),
}

/// The Manager's defaults: nothing but the scheduler configured.
pub const DEFAULTS: ManagerSetup = ManagerSetup {
    policy: None,
    interval: None,
    replaced_by: None,
    probe_units: None,
};

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

    /// The Manager's setup, if the Manager sets this policy's weights.
    pub fn manager(&self) -> Option<ManagerSetup> {
        match self.weights {
            WeightSource::Manager(setup) => Some(setup),
            _ => None,
        }
    }

    /// The Manager's interval for this policy, in seconds, if the Manager sets its weights.
    pub fn interval(&self) -> Option<f64> {
        let setup = self.manager()?;
        Some(
            setup
                .interval
                .unwrap_or(nd_manager::config::DEFAULT_INTERVAL)
                .as_secs_f64(),
        )
    }

    /// The Manager's setup of a Manager policy, for the variants below.
    const fn setup(self) -> ManagerSetup {
        let WeightSource::Manager(setup) = self.weights else {
            panic!("only the Manager's policies have variants");
        };
        setup
    }

    /// This policy with the Manager set up as `setup`, named `name` and `key`.
    const fn set_up(
        self,
        setup: ManagerSetup,
        name: &'static str,
        key: &'static str,
    ) -> LoadSharing {
        LoadSharing {
            name,
            key,
            weights: WeightSource::Manager(setup),
            ..self
        }
    }

    /// This Manager policy with another interval, named `name` and `key`.
    pub const fn every(
        self,
        interval: Duration,
        name: &'static str,
        key: &'static str,
    ) -> LoadSharing {
        let setup = ManagerSetup {
            interval: Some(interval),
            ..self.setup()
        };
        self.set_up(setup, name, key)
    }

    /// This Manager policy with an HTTP probe of `units` of work, named `name` and `key`.
    pub const fn probing(self, units: u32, name: &'static str, key: &'static str) -> LoadSharing {
        let setup = ManagerSetup {
            probe_units: Some(units),
            ..self.setup()
        };
        self.set_up(setup, name, key)
    }

    /// This Manager policy with its weights computed by `replacement`, named `name` and
    /// `key`.
    pub const fn replaced(
        self,
        replacement: Replacement,
        name: &'static str,
        key: &'static str,
    ) -> LoadSharing {
        let setup = ManagerSetup {
            replaced_by: Some(replacement),
            ..self.setup()
        };
        self.set_up(setup, name, key)
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

/// The Manager with its defaults over the Executor's round robin (`scheduler = "wrr"`, and
/// so the `weighted` policy).
pub const MANAGER_WRR: LoadSharing = LoadSharing {
    name: "Manager + wrr",
    key: "manager-wrr",
    scheduler: SchedulerKind::Wrr,
    weights: WeightSource::Manager(DEFAULTS),
};

/// The Manager's `best` policy: every new connection to the least-loaded server.
pub const MANAGER_BEST: LoadSharing = LoadSharing {
    name: "Manager best",
    key: "manager-best",
    scheduler: SchedulerKind::Wrr,
    weights: WeightSource::Manager(ManagerSetup {
        policy: Some(ManagerPolicy::Best),
        ..DEFAULTS
    }),
};

/// The Manager with its defaults over weighted least-connection (`scheduler = "wlc"`, and
/// so the `capacity` policy).
pub const MANAGER_WLC: LoadSharing = LoadSharing {
    name: "Manager + wlc",
    key: "manager-wlc",
    scheduler: SchedulerKind::Wlc,
    weights: WeightSource::Manager(DEFAULTS),
};

/// Manager + wrr deciding every second.
pub const MANAGER_WRR_1S: LoadSharing = MANAGER_WRR.every(
    Duration::from_secs(1),
    "Manager + wrr, 1 s",
    "manager-wrr-1s",
);

/// Manager + wrr deciding every 5 seconds.
pub const MANAGER_WRR_5S: LoadSharing = MANAGER_WRR.every(
    Duration::from_secs(5),
    "Manager + wrr, 5 s",
    "manager-wrr-5s",
);

/// Manager + wlc deciding every second.
pub const MANAGER_WLC_1S: LoadSharing = MANAGER_WLC.every(
    Duration::from_secs(1),
    "Manager + wlc, 1 s",
    "manager-wlc-1s",
);

/// Manager + wlc deciding every 5 seconds.
pub const MANAGER_WLC_5S: LoadSharing = MANAGER_WLC.every(
    Duration::from_secs(5),
    "Manager + wlc, 5 s",
    "manager-wlc-5s",
);

/// Manager + wrr with the load policy in proportional-correction form.
pub const MANAGER_WRR_PROPORTIONAL: LoadSharing = MANAGER_WRR.replaced(
    Replacement::ProportionalCorrection,
    "Manager + wrr, proportional",
    "manager-wrr-proportional",
);

/// Manager + wlc with the `weighted` policy's inverse-load weights instead of capacities.
pub const MANAGER_WLC_INVERSE: LoadSharing = MANAGER_WLC.replaced(
    Replacement::InverseLoad,
    "Manager + wlc, inverse load",
    "manager-wlc-inverse",
);

/// Manager + wlc with the probe of the VM's evaluation (`GET /work/20`): a request near the
/// mean size, which the VM needs because a request there costs the emulated machine a few
/// milliseconds besides the server's work.
pub const MANAGER_WLC_PROBE_20: LoadSharing =
    MANAGER_WLC.probing(20, "Manager + wlc, 20-unit probe", "manager-wlc-probe-20");

/// The Manager's variants: its two schedulers at the other intervals, the weight
/// computations it does not use, and a larger probe.
pub const VARIANTS: [LoadSharing; 7] = [
    MANAGER_WRR_1S,
    MANAGER_WRR_5S,
    MANAGER_WLC_1S,
    MANAGER_WLC_5S,
    MANAGER_WRR_PROPORTIONAL,
    MANAGER_WLC_INVERSE,
    MANAGER_WLC_PROBE_20,
];

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
