//! A discrete-event simulator of a Network Dispatcher cluster, to compare load-sharing
//! policies: the Executor's connection schedulers (`nd-core`) with static weights, and with
//! the weights of the Manager's real feedback loop (`nd-manager`).
//!
//! Servers are processor-sharing queues ([`ps_queue`], [`server`]); requests arrive as a
//! Poisson or a self-similar stream ([`arrivals`]) with heavy-tailed sizes ([`workload`]);
//! [`run`] plays one [`scenario`] under one [`policy`] on an [`events`] calendar, with
//! [`manager_link`] in the loop for the Manager's policies (and [`alternatives`] for a weight
//! computation it does not offer), and measures an [`outcome`].
//! [`study`] repeats runs over policies and seeds, [`settle`] judges how weights settle after
//! a change, [`evaluation`] runs everything the report shows, and [`report`] and [`chart`]
//! write it.

pub mod alternatives;
pub mod arrivals;
pub mod evaluation;
pub mod events;
pub mod manager_link;
pub mod outcome;
pub mod policy;
pub mod report;
pub mod run;
pub mod scenario;
pub mod server;
pub mod settle;
pub mod study;

// Shared with the test VM's emulated servers and clients, and with the other reports.
pub use nd_charts as chart;
pub use nd_load_model::{ps_queue, rng, workload};
