//! The metrics the Manager combines, by where they come from.
//!
//! Input metrics come from the Executor's own counters, forward metrics from advisors that
//! time a request to each server, host metrics from agents running on the servers. Each has a
//! relative weight R(i) in the Load Metric Index.

use std::fmt;

/// One metric of the Load Metric Index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Input: new connections the Executor gave the server since the previous reading.
    NewConns,
    /// Input: the server's established connections now.
    ActiveConns,
    /// Forward: response time in milliseconds of the named advisor's probe.
    Advisor(String),
    /// Host: the value agents report under this name.
    Host(String),
}

impl Metric {
    /// The name of [`Metric::NewConns`] in configuration and logs.
    pub const NEW_CONNS: &'static str = "new_conns";
    /// The name of [`Metric::ActiveConns`] in configuration and logs.
    pub const ACTIVE_CONNS: &'static str = "active_conns";

    /// The metric's name as the configuration writes it.
    pub fn name(&self) -> &str {
        match self {
            Metric::NewConns => Metric::NEW_CONNS,
            Metric::ActiveConns => Metric::ACTIVE_CONNS,
            Metric::Advisor(name) | Metric::Host(name) => name,
        }
    }

    /// Whether `name` is one of the input metrics, which advisors and host metrics may not
    /// be called.
    pub fn is_input_name(name: &str) -> bool {
        name == Metric::NEW_CONNS || name == Metric::ACTIVE_CONNS
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A metric with its relative weight R(i); the weights of a configuration sum to 1.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricWeight {
    /// The metric.
    pub metric: Metric,
    /// Its share of the Load Metric Index, from 0 to 1.
    pub weight: f64,
}
