#!/usr/bin/env bash
# Builds the test kernel from Debian's linux-source-6.12 and a config fragment, once: the tree
# is cached outside the checkout under a key made of the source package's version, the
# fragment and this script, so a second run only prints the tree's path.
#
# Usage: build-kernel.sh FRAGMENT   (prints the kernel build tree, usable as KDIR)
set -euo pipefail

fragment=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
cache_root=${ND_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/nd}/kernels
source_tarball=/usr/src/linux-source-6.12.tar.xz

source_version=$(dpkg-query -W -f='${Version}' linux-source-6.12)
key=$( { echo "$source_version"; cat "$fragment" "$here/build-kernel.sh"; } | sha256sum | cut -c1-16)
name=$(basename "$fragment" .config)
tree=$cache_root/$name-$key

if [ -f "$tree/.nd-built" ]; then
    echo "$tree"
    exit 0
fi

log=$cache_root/$name-$key.log
mkdir -p "$cache_root"
rm -rf "$tree"
mkdir -p "$tree"
echo "build-kernel: building $name ($source_version) in $tree (log: $log)" >&2
{
    tar -xJf "$source_tarball" -C "$tree" --strip-components=1
    cd "$tree"
    make LLVM=1 tinyconfig
    scripts/kconfig/merge_config.sh -m .config "$fragment"
    make LLVM=1 olddefconfig
    # Fail early and clearly if the fragment did not survive olddefconfig.
    grep -v '^#' "$fragment" | grep -v '=n$' | grep . | while read -r line; do
        grep -qx "$line" .config || { echo "build-kernel: $line lost in .config" >&2; exit 1; }
    done
    make LLVM=1 -j"$(nproc)" bzImage modules
} >"$log" 2>&1 || { tail -30 "$log" >&2; echo "build-kernel: failed, see $log" >&2; exit 1; }
# Only a tree with this mark is reused; an interrupted build is started again from scratch.
touch "$tree/.nd-built"
echo "$tree"
