#!/usr/bin/env bash
# The load-sharing evaluation: builds the test kernel without its debug options and the module
# for it (both cached, as for the benchmark), runs the evaluation in the VM (about 45 minutes: one
# round of five policies in each of six scenarios), and renders what it measured into
# docs/evaluation-vm.md and its charts (docs/evaluation-vm-*.png: each scenario's response
# times, and the Manager's weights).
#
# Usage: run-evaluation.sh [--quick]
#   --quick: every scenario briefly, a check that it all works (10 to 15 minutes),
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
KDIR=$kdir ND_MODULE=$module ND_RESULTS=$results ND_VM_TIMEOUT=4800 \
    ND_BENCH_QUICK=$quick ND_VM_LOG=$build/vm-evaluate.log "$here/run-vm.sh" evaluate
cargo run --release -q -p nd-bench-report --bin nd-evaluation-report -- \
    --results "$results" --out "$out"
