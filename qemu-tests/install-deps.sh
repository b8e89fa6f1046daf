#!/usr/bin/env bash
# Installs what building the module, running the QEMU suite and drawing the simulator's
# charts (fonts-dejavu-core) need; does nothing for what is already there, so every make
# target can call it.
set -euo pipefail

debian_packages=(
    linux-source-6.12 clang llvm lld libclang-dev flex bison bc libelf-dev libssl-dev
    cpio kmod busybox-static qemu-system-x86 iproute2 ipvsadm keepalived xz-utils fonts-dejavu-core
)

missing=()
for pkg in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
        missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

rustup component list --installed | grep -q '^rust-src' || rustup component add rust-src
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustup target list --installed | grep -q '^x86_64-unknown-linux-musl$' ||
    rustup target add x86_64-unknown-linux-musl

command -v bindgen >/dev/null || cargo install --locked bindgen-cli
