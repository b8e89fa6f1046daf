//! The forwarding benchmark's document, chart and goals.

pub mod chart;
pub mod markdown;
pub mod targets;
