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

# The bench kernel is the test kernel up to its debug options, with the full slab allocator.
config=$build/kernel-bench.config
{
    echo "# The test kernel without its debug options, for benchmarks."
    sed '/^# Debug options/,$d' "$here/kernel-debug.config" | grep -v '^#'
    echo "CONFIG_SLUB_TINY=n"
} >"$config.new"
if cmp -s "$config.new" "$config"; then rm "$config.new"; else mv "$config.new" "$config"; fi
kdir=$("$here/build-kernel.sh" "$config")

# The module for that kernel, built from a copy so that the checkout's own nd.ko (for the
# debug kernel) is left alone.
module_tree=$build/bench-module
rm -rf "$module_tree"
mkdir -p "$module_tree/nd-core" "$module_tree/nd-netlink-proto"
cp -r "$top/Kbuild" "$top/nd_kmod" "$module_tree/"
cp -r "$top/nd-core/src" "$module_tree/nd-core/"
cp -r "$top/nd-netlink-proto/src" "$module_tree/nd-netlink-proto/"
rm -f "$module_tree"/nd_kmod/*.o "$module_tree"/nd_kmod/.*.cmd "$module_tree"/nd_kmod/bindings_generated.rs
make -C "$kdir" M="$module_tree" LLVM=1 W=1 modules >"$build/bench-module.log" 2>&1 ||
    { tail -30 "$build/bench-module.log" >&2; exit 1; }

results=$build/bench-results.json
rm -f "$results"
quick=
[ "${1:-}" = --quick ] && quick=1
KDIR=$kdir ND_MODULE=$module_tree/nd.ko ND_RESULTS=$results ND_VM_TIMEOUT=7200 \
    ND_BENCH_QUICK=$quick ND_VM_LOG=$build/vm-bench.log "$here/run-vm.sh" bench
cargo run --release -q -p nd-bench-report -- --results "$results" --out "$top/docs"
