#!/usr/bin/env bash
# The forwarding benchmark: builds the test kernel without its debug options (cached as the
# debug one is) and the module for it, runs the benchmark in the VM, and renders what it
# measured into docs/benchmarks.md and docs/benchmarks.png.
#
# Usage: run-bench.sh [--quick]   (--quick: one short round, a check that it all works)
set -euo pipefail

here=$(dirname "$(realpath "$0")")
top=$(dirname "$here")
build=$top/build
mkdir -p "$build"

built=$("$here/bench-kernel.sh")
kdir=$(sed -n 1p <<<"$built")
module=$(sed -n 2p <<<"$built")

results=$build/bench-results.json
rm -f "$results"
quick=
[ "${1:-}" = --quick ] && quick=1
KDIR=$kdir ND_MODULE=$module ND_RESULTS=$results ND_VM_TIMEOUT=7200 \
    ND_BENCH_QUICK=$quick ND_VM_LOG=$build/vm-bench.log "$here/run-vm.sh" bench
cargo run --release -q -p nd-bench-report --bin nd-bench-report -- --results "$results" --out "$top/docs"
