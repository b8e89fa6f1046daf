//! The forwarding benchmark in miniature: one short round of every measurement on every path,
//! which shows that `make bench` works. Its figures come from the debug kernel and mean
//! nothing; they are printed all the same.

use super::cluster::Outcome;
use crate::benchmark::{self, Plan};

pub fn benchmark_smoke() -> Outcome {
    let plan = Plan::smoke();
    let results = benchmark::run_plan(&plan)?;
    benchmark::print(&results);
    benchmark::check_complete(&plan, &results)
}
