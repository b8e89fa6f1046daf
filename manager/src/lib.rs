//! The Network Dispatcher Manager: the feedback loop that sets the Executor's server weights
//! from what the servers' load looks like.
//!
//! Every interval the Manager reads the Executor's counters ([`input`]), probes the servers
//! with [`advisor`]s and takes the host metrics [`agent`]s report ([`host`]); it normalizes
//! each metric across a port's healthy servers ([`normalize`]), combines them with
//! operator-set relative weights into a Load Metric Index ([`lmi`]), turns the index into
//! weights ([`wcf`]) and commits them when they changed enough ([`decision`]). Servers that
//! fail a health check are quiesced at once and brought back when healthy. [`cycle`] is one
//! such pass over an [`executor`]; [`daemon`] runs it on tokio.
//!
//! The design follows Goldszmidt and Hunt's IBM Network Dispatcher (1998).

pub mod advisor;
pub mod agent;
pub mod agent_report;
pub mod config;
pub mod cycle;
pub mod daemon;
pub mod decision;
pub mod executor;
pub mod host;
pub mod input;
pub mod lmi;
pub mod logging;
pub mod metric;
pub mod normalize;
pub mod process;
pub mod provision;
pub mod shutdown;
pub mod signals;
pub mod wcf;
