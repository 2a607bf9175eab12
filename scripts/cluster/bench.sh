#!/usr/bin/env bash
# The cluster provider's benchmark (tools/kreg-bench/cluster/): a real etcd
# cluster on this machine and two nodes in QEMU guests, as the cluster
# suite has them. The table goes to $BUILD/bench/cluster.txt.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
BUILD=${BUILD:-build}
mkdir -p "$BUILD/bench"
# etcd's data on a tmpfs when there is one: the figures are kreg's, not this disk's fsyncs.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	export KREG_ETCD_DATA=/dev/shm/kreg-bench-etcd
	rm -rf "$KREG_ETCD_DATA"
fi
timeout --kill-after=10 "${KREG_BENCH_TIMEOUT:-2400}" "$BUILD/cluster-bench" \
	>"$BUILD/bench/cluster-raw.txt"
status=$?
# Whatever happened, nothing of the cluster is left running.
bash scripts/cluster/etcd.sh stop "$BUILD/cluster" >/dev/null 2>&1
for pidfile in "$BUILD"/cluster/node*.pid; do
	[ -f "$pidfile" ] && kill -9 "$(cat "$pidfile")" 2>/dev/null
done
[ -n "${KREG_ETCD_DATA:-}" ] && rm -rf "$KREG_ETCD_DATA"
grep -v '^BENCH-DATA' "$BUILD/bench/cluster-raw.txt" >"$BUILD/bench/cluster.txt"
cat "$BUILD/bench/cluster.txt"
exit $status
