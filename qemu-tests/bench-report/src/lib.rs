//! Renders what the VM's measurements bring out: the forwarding benchmark into
//! `docs/benchmarks.md` (`nd-bench-report`) and the load-sharing evaluation into
//! `docs/evaluation-vm.md` (`nd-evaluation-report`), each with its charts.

pub mod analysis;
pub mod benchmark;
pub mod evaluation;
