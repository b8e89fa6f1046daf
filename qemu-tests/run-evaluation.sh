#!/usr/bin/env bash
# The load-sharing evaluation: builds the test kernel without its debug options and the module
# for it (both cached, as for the benchmark), runs the evaluation in the VM (about 20 minutes:
# two rounds of five policies), and renders what it measured into docs/evaluation-vm.md,
# docs/evaluation-vm-cdf.png and docs/evaluation-vm-weights.png.
#
# Usage: run-evaluation.sh [--quick]
#   --quick: one short round of every policy, a check that it all works (a few minutes),
#   rendered into build/evaluation-quick/ so that docs/ keeps the full run's figures.
set -euo pipefail

here=$(dirname "$(realpath "$0")")
top=$(dirname "$here")
build=$top/build
mkdir -p "$build"

built=$("$here/bench-kernel.sh")
kdir=$(sed -n 1p <<<"$built")
module=$(sed -n 2p <<<"$built")

quick=
out=$top/docs
if [ "${1:-}" = --quick ]; then
    quick=1
    out=$build/evaluation-quick
fi
results=$build/evaluation-results.json
rm -f "$results"
KDIR=$kdir ND_MODULE=$module ND_RESULTS=$results ND_VM_TIMEOUT=2400 \
    ND_BENCH_QUICK=$quick ND_VM_LOG=$build/vm-evaluate.log "$here/run-vm.sh" evaluate
cargo run --release -q -p nd-bench-report --bin nd-evaluation-report -- \
    --results "$results" --out "$out"
