#!/usr/bin/env bash
# Fails if the guest log shows a kernel report or the guest did not finish its run cleanly.
# Usage: check-log.sh LOG MODE
set -euo pipefail
log=$1
mode=$2

reports='BUG:|WARNING:|KASAN|UBSAN|possible recursive locking|possible circular locking|inconsistent lock state|suspicious RCU usage|unreferenced object|Kernel panic|Oops|general protection fault|scheduling while atomic|sleeping function called from invalid context'
if grep -E "$reports" "$log" >/dev/null; then
    echo "check-log: kernel reports in the guest log:" >&2
    grep -E -A5 "$reports" "$log" | head -80 >&2
    exit 1
fi
if ! grep -q "^nd-guest: $mode finished" "$log"; then
    echo "check-log: the guest did not finish its $mode run" >&2
    exit 1
fi
if [ "$mode" = bench ] && ! grep -q '^nd-bench: done' "$log"; then
    echo "check-log: the benchmark did not complete" >&2
    grep -E '^ndtest benchmark:' "$log" >&2 || true
    exit 1
fi
if [ "$mode" = evaluate ] && ! grep -q '^nd-evaluate: done' "$log"; then
    echo "check-log: the evaluation did not complete" >&2
    grep -E '^ndtest evaluate:' "$log" >&2 || true
    exit 1
fi
# The suite's kernel is the debug one: a run without the leak scan checked less than it says.
if [ "$mode" = suite ] && ! grep -q '^nd-guest: kmemleak scanned' "$log"; then
    echo "check-log: no kmemleak scan in the guest" >&2
    exit 1
fi
if [ "$mode" = suite ] && ! grep -qE '^nd-suite: [0-9]+ passed, 0 failed' "$log"; then
    echo "check-log: scenarios failed" >&2
    grep -E '^(FAIL|nd-suite:)' "$log" >&2 || true
    exit 1
fi
echo "check-log: $mode run clean"
