//! The load-sharing evaluation in miniature: a few seconds of three policies (the Executor's
//! round robin, IPVS, and the Manager with its agents), which shows that `make evaluate`
//! works. Its figures come from the debug kernel and mean nothing; they are printed all the
//! same.

use super::cluster::Outcome;
use crate::evaluation::{self, Plan};

pub fn evaluation_smoke() -> Outcome {
    let plan = Plan::smoke();
    let results = evaluation::run_plan(&plan)?;
    evaluation::print(&results);
    evaluation::check_complete(&plan, &results)
}
