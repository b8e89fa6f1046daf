#!/bin/sh
# keepalived's notify script for a Network Dispatcher node: the Executor is active while
# this node holds the cluster addresses (MASTER), standby otherwise (BACKUP, FAULT, STOP).
#
#   notify_master "/etc/keepalived/nd-notify.sh master"
#   notify_backup "/etc/keepalived/nd-notify.sh backup"
#   notify_fault  "/etc/keepalived/nd-notify.sh fault"
#   notify_stop   "/etc/keepalived/nd-notify.sh stop"
#
# keepalived may start several of these close together (BACKUP, then MASTER a second later)
# and they may finish in any order. So each one first writes the role it wants, then, under a
# lock, applies the last role written: whichever runs last applies the latest wish. Running
# it again with the same role changes nothing. nd-syncd reads the role within 200 ms.
set -u

NDADM=${NDADM:-/usr/local/sbin/ndadm}
STATE_DIR=${ND_NOTIFY_STATE:-/run/nd-notify}
# At boot keepalived may notify before the nd module is loaded: retry once a second.
ATTEMPTS=${ND_NOTIFY_ATTEMPTS:-30}

log() {
    logger -t nd-notify -- "$*" 2>/dev/null
    echo "nd-notify: $*" >&2
}

case "${1:-}" in
master) role=active ;;
backup | fault | stop) role=standby ;;
*)
    log "usage: $0 master|backup|fault|stop (got '${1:-}')"
    exit 2
    ;;
esac

mkdir -p "$STATE_DIR" || exit 1
# Whole or not at all, so that a reader never sees half a line.
echo "$role $1" >"$STATE_DIR/wanted.$$" && mv -f "$STATE_DIR/wanted.$$" "$STATE_DIR/wanted" || exit 1

exec 9>"$STATE_DIR/lock"
# util-linux's flock; a system without it (a busybox image) runs the notifications unlocked.
if command -v flock >/dev/null 2>&1; then
    flock 9
fi

attempt=1
while :; do
    read -r wanted why <"$STATE_DIR/wanted"
    if out=$("$NDADM" ha role "$wanted" 2>&1); then
        log "keepalived says $why: the Executor is $wanted"
        exit 0
    fi
    if [ "$attempt" -ge "$ATTEMPTS" ]; then
        log "keepalived says $why: cannot make the Executor $wanted: $out"
        exit 1
    fi
    attempt=$((attempt + 1))
    sleep 1
done
