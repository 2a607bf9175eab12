#!/usr/bin/env bash
# The cluster suite (tests/cluster/cluster_test.c): a real etcd cluster on
# this machine and three nodes in QEMU guests, booted once for every
# scenario. Its output is kept in $BUILD/cluster-run.log, and summed like a
# guest's into "N passed, N failed, N skipped" (scripts/guest/summarise.sh).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
BUILD=${BUILD:-build}
log=$BUILD/cluster-run.log
{
	echo "KREG-BIN-START cluster_test"
	timeout --kill-after=10 "${KREG_CLUSTER_TIMEOUT:-1200}" "$BUILD/cluster-test"
	echo "KREG-BIN-EXIT cluster_test $?"
	echo "KREG-GUEST-DONE"
} 2>&1 | tee "$log"
# Whatever happened, nothing of the cluster is left running.
bash scripts/cluster/etcd.sh stop "$BUILD/cluster" >/dev/null 2>&1
for pidfile in "$BUILD"/cluster/node*.pid; do
	[ -f "$pidfile" ] && kill -9 "$(cat "$pidfile")" 2>/dev/null
done
exec bash scripts/guest/summarise.sh "$log"
