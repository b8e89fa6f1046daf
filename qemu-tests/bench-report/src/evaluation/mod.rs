//! The load-sharing evaluation's document and charts.

pub mod charts;
pub mod markdown;
pub mod targets;
