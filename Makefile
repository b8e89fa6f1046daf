# Network Dispatcher. `make demo` boots a demo cluster in a VM; `make check` runs every test.
# The module builds against the test kernel by default, or any Rust-enabled tree: KDIR=...

SHELL := /bin/bash
MUSL := x86_64-unknown-linux-musl
KERNEL_CONFIG := qemu-tests/kernel-debug.config
TOOLS := target/$(MUSL)/release

.PHONY: all deps kernel module tools unit qemu-test check demo stress bench bench-quick evaluate \
	evaluate-quick clean

all: module tools

deps:
	@qemu-tests/install-deps.sh

# Builds the test kernel once and caches it outside the checkout.
kernel: deps
	@qemu-tests/build-kernel.sh $(KERNEL_CONFIG) >/dev/null

module: deps
	@kdir="$(KDIR)"; [ -n "$$kdir" ] || kdir=$$(qemu-tests/build-kernel.sh $(KERNEL_CONFIG)); \
	$(MAKE) -C "$$kdir" M=$(CURDIR) LLVM=1 W=1 modules

tools: deps
	cargo build --release --target $(MUSL) -p ndadm -p ndtest -p nd-manager -p nd-syncd

unit: deps
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --workspace

qemu-test: module tools
	qemu-tests/run-vm.sh suite

check: unit qemu-test

demo: module tools
	qemu-tests/run-vm.sh demo

# The forwarding benchmark against IPVS on a kernel without debug options; writes docs/.
bench: tools
	qemu-tests/run-bench.sh

# One short round of it, to see that it works.
bench-quick: tools
	qemu-tests/run-bench.sh --quick

# The load-sharing evaluation in the VM (about 45 minutes); writes docs/evaluation-vm.md.
evaluate: tools
	qemu-tests/run-evaluation.sh

# Every scenario of it briefly, rendered into build/evaluation-quick/.
evaluate-quick: tools
	qemu-tests/run-evaluation.sh --quick

# The adversarial scenarios at full size (CI runs them scaled down).
stress: module tools
	ND_STRESS=1 ND_VM_TIMEOUT=7200 ND_VM_LOG=build/vm-stress.log qemu-tests/run-vm.sh suite netlink_fuzzing malformed_packets syn_flood churn_under_load unload_cycles manager_faults

clean:
	@kdir="$(KDIR)"; [ -n "$$kdir" ] || kdir=$$(ls -d $${XDG_CACHE_HOME:-$$HOME/.cache}/nd/kernels/*/ 2>/dev/null | head -1); \
	[ -z "$$kdir" ] || $(MAKE) -C "$$kdir" M=$(CURDIR) LLVM=1 clean
	cargo clean
