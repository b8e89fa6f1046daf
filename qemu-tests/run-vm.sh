#!/usr/bin/env bash
# Boots the test kernel under QEMU with an initramfs holding the module, ndadm, ndtest, the
# Manager and its agent, the sync daemon, and the guest scripts; runs MODE (the suite, the
# demo, the benchmark or the load-sharing evaluation) and checks the guest's log.
#
# Usage: run-vm.sh suite|demo|bench|evaluate [SCENARIO...]
#   e.g. run-vm.sh suite evaluation_smoke   (one scenario of the suite)
# ND_STRESS=1 runs the adversarial scenarios at full size instead of the size CI affords.
# KDIR and ND_MODULE choose another kernel tree and the module built for it. What the guest
# writes to its second serial port (/dev/ttyS1) lands in ND_RESULTS, if given.
set -euo pipefail

mode=${1:?usage: run-vm.sh suite|demo|bench|evaluate [SCENARIO...]}
shift
here=$(dirname "$(realpath "$0")")
top=$(dirname "$here")
kdir=${KDIR:-$("$here/build-kernel.sh" "$here/kernel-debug.config")}
tools=$top/target/x86_64-unknown-linux-musl/release
only=$(IFS=,; echo "$*")
work=$(mktemp -d "${TMPDIR:-/tmp}/nd-vm.XXXXXX")
trap 'rm -rf "$work"' EXIT

root=$work/root
mkdir -p "$root"/{bin,sbin,lib,lib64,etc,proc,sys,dev,tmp,run,var/run/netns,nd}
cp /bin/busybox "$root/bin/busybox"
# iproute2's ip (network namespaces) with the shared libraries it needs.
cp -L /usr/sbin/ip "$root/sbin/ip"
cp -L /usr/sbin/ipvsadm "$root/sbin/ipvsadm"
# keepalived moves cluster addresses between the two dispatchers in the HA scenarios.
cp -L /usr/sbin/keepalived "$root/sbin/keepalived"
for lib in $(for bin in /usr/sbin/ip /usr/sbin/ipvsadm /usr/sbin/keepalived; do ldd "$bin"; done |
    grep -o '/[^ ]* (0x' | cut -d' ' -f1 | sort -u); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done
cp "${ND_MODULE:-$top/nd.ko}" "$root/nd/nd.ko"
cp "$tools/ndadm" "$tools/ndtest" "$tools/nd-manager" "$tools/nd-agent" "$tools/nd-syncd" "$root/bin/"
cp "$here"/guest/*.sh "$top/examples/ha/nd-notify.sh" "$root/nd/"
cp "$here/guest/init" "$root/init"
chmod +x "$root/init" "$root"/nd/*.sh
echo "root:x:0:0:root:/:/bin/sh" >"$root/etc/passwd"
echo "nobody:x:65534:65534:nobody:/:/bin/sh" >>"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initramfs.cpio.gz"

log=${ND_VM_LOG:-$top/build/vm-$mode.log}
mkdir -p "$(dirname "$log")"
echo "run-vm: booting the $mode VM (log: $log)"
set +e
results=${ND_RESULTS:-$work/results.txt}
# Two CPUs as two sockets: the kernel has no ACPI, so it counts CPUs from SeaBIOS's MP table,
# which lists only the first logical CPU of each package. QEMU's default -smp 2 is one package
# of two cores and would boot on one CPU.
timeout --foreground "${ND_VM_TIMEOUT:-1800}" qemu-system-x86_64 -accel tcg -cpu max -m 2048 -smp 2,sockets=2 \
    -kernel "$kdir/arch/x86/boot/bzImage" -initrd "$work/initramfs.cpio.gz" \
    -serial mon:stdio -serial "file:$results" \
    -append "console=ttyS0 panic=-1 oops=panic ndvm.mode=$mode ndvm.only=$only ndvm.stress=${ND_STRESS:-0} ndvm.quick=${ND_BENCH_QUICK:-0}" \
    -display none -no-reboot </dev/null 2>&1 | tee "$log"
qemu_status=${PIPESTATUS[0]}
set -e

"$here/check-log.sh" "$log" "$mode"
[ "$qemu_status" -eq 0 ] || { echo "run-vm: QEMU exited with $qemu_status" >&2; exit 1; }
