#!/usr/bin/env bash
# The kernel the benchmark and the load-sharing evaluation run on: the test kernel without its
# debug options, with the full slab allocator (cached as the debug one is), and the module
# built for it from a copy of the sources, so that the checkout's own nd.ko (for the debug
# kernel) is left alone.
#
# Usage: bench-kernel.sh   (prints the kernel build tree, then the module's path)
set -euo pipefail

here=$(dirname "$(realpath "$0")")
top=$(dirname "$here")
build=$top/build
mkdir -p "$build"

config=$build/kernel-bench.config
{
    echo "# The test kernel without its debug options, for benchmarks."
    sed '/^# Debug options/,$d' "$here/kernel-debug.config" | grep -v '^#'
    echo "CONFIG_SLUB_TINY=n"
} >"$config.new"
if cmp -s "$config.new" "$config"; then rm "$config.new"; else mv "$config.new" "$config"; fi
kdir=$("$here/build-kernel.sh" "$config")

module_tree=$build/bench-module
rm -rf "$module_tree"
mkdir -p "$module_tree/nd-core" "$module_tree/nd-netlink-proto"
cp -r "$top/Kbuild" "$top/nd_kmod" "$module_tree/"
cp -r "$top/nd-core/src" "$module_tree/nd-core/"
cp -r "$top/nd-netlink-proto/src" "$module_tree/nd-netlink-proto/"
rm -f "$module_tree"/nd_kmod/*.o "$module_tree"/nd_kmod/.*.cmd "$module_tree"/nd_kmod/bindings_generated.rs
make -C "$kdir" M="$module_tree" LLVM=1 W=1 modules >"$build/bench-module.log" 2>&1 ||
    { tail -30 "$build/bench-module.log" >&2; exit 1; }

echo "$kdir"
echo "$module_tree/nd.ko"
