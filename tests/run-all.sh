#!/usr/bin/env bash
# The whole test suite: host tests, then the kernel tests in a QEMU guest on
# each kernel of KVERS (default: scripts/kernels.sh all), whose modules are
# built in $BUILD/KVER/kmod. Gives each part's counts, then ends with one line
# "N passed, N failed, N skipped" and exits non-zero on any failure, including
# a guest that crashed, hung or never reported. KREG_HOST_TESTS=0 skips the
# host tests. DKMS_KVERS: kernels on which the exit cleanup and view tests run
# once more, on the module DKMS built (in KREG_KO_DIR, see boot.sh).
# DEBIAN_DEBS: a directory of kreg's .deb files, installed and checked on a
# real Debian 12 system (scripts/debian-guest/run.sh). DEBIAN_BESIDE=1: that
# guest (the longest part: two DKMS builds, a kernel upgrade, three boots)
# runs from the start, beside the kernels' guests one after the other, on
# the second CPU, and its output follows theirs. The cluster part runs
# alone, after all of them: its tests time leases.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-build}
KVERS=${KVERS-$("$here/../scripts/kernels.sh" all)}
export BUILD

# Output streams as it comes and is kept in files: the counts are read back
# from those (teeing to /dev/stderr would truncate a log that stderr is).
mkdir -p "$BUILD"
parts=() secs=()
# Each part's wall time goes beside its counts in the summary: CI's budget
# is 30 minutes, and this says where it goes.
begin() { echo "=== $1 ==="; t0=$SECONDS; }
done_part() { parts+=("$1"); secs+=($((SECONDS - t0))); }
if [ "${KREG_HOST_TESTS:-1}" != 0 ]; then
	begin "host tests (ASan, UBSan)"
	bash "$here/run-host.sh" | tee "$BUILD/host-run.out"
	done_part "host:$BUILD/host-run.out"
fi
ko_dir=${KREG_KO_DIR:-}
unset KREG_KO_DIR
# guest_part TITLE NAME KVER OUT [VAR=VALUE...]: boot.sh's test job on KVER,
# with the variables given, its output in $BUILD/KVER/OUT, counted as NAME.
guest_part() {
	local title=$1 name=$2 kver=$3 out=$BUILD/$3/$4
	shift 4
	begin "$title"
	mkdir -p "$BUILD/$kver"
	env KVER="$kver" "$@" bash "$here/../scripts/guest/boot.sh" test | tee "$out"
	done_part "$name:$out"
}
debian_title="the Debian packages on a Debian 12 guest (systemd, DKMS)"
# Into run.out; also on stdout as it comes, unless it runs beside another part.
debian_run() {
	mkdir -p "$BUILD/debian-guest"
	if [ "$1" = beside ]; then
		bash "$here/../scripts/debian-guest/run.sh" "$DEBIAN_DEBS" \
			>"$BUILD/debian-guest/run.out" 2>&1
	else
		bash "$here/../scripts/debian-guest/run.sh" "$DEBIAN_DEBS" |
			tee "$BUILD/debian-guest/run.out"
	fi
}

beside=
if [ -n "${DEBIAN_DEBS:-}" ] && [ "${DEBIAN_BESIDE:-0}" = 1 ]; then
	echo "=== $debian_title: started beside the kernels' guests, its output after them ==="
	debian_t0=$SECONDS
	# Its own end, for its time: the wait below may end later.
	rm -f "$BUILD/debian-guest/ended"
	# A process group of its own (set -m), so that all of it can be stopped:
	# interrupted or not, the guest beside does not outlive the run.
	set -m
	(debian_run beside; echo $SECONDS >"$BUILD/debian-guest/ended") &
	beside=$!
	set +m
	trap 'kill -- -$beside 2>/dev/null' EXIT
	trap 'kill -- -$beside 2>/dev/null; exit 130' INT TERM
fi

# KVERS may be one a line (scripts/kernels.sh) or one a word (make).
read -r -d '' -a kvers <<<"$KVERS"
for kver in "${kvers[@]}"; do
	guest_part "kernel tests in the QEMU guest: $kver" "$kver" "$kver" guest-run.out
done
for kver in ${DKMS_KVERS:-}; do
	guest_part "exit cleanup and view tests on the module DKMS built: $kver" \
		"dkms $kver" "$kver" guest-dkms-run.out \
		KREG_KO_DIR="$ko_dir" KREG_TESTS="exit_test view_test"
done

if [ -n "$beside" ]; then
	wait "$beside"
	trap - EXIT INT TERM
	echo "=== $debian_title ==="
	cat "$BUILD/debian-guest/run.out"
	t0=$((debian_t0 + SECONDS - $(cat "$BUILD/debian-guest/ended" 2>/dev/null || echo $SECONDS)))
	done_part "debian 12 (beside the kernels):$BUILD/debian-guest/run.out"
fi

if [ -n "${KREG_CLUSTER:-}" ]; then
	begin "kreg across hosts: etcd here, two nodes in QEMU guests"
	bash "$here/../scripts/cluster/run.sh" | tee "$BUILD/cluster-part.out"
	done_part "cluster:$BUILD/cluster-part.out"
fi

if [ -n "${DEBIAN_DEBS:-}" ] && [ -z "$beside" ]; then
	begin "$debian_title"
	debian_run alone
	done_part "debian 12:$BUILD/debian-guest/run.out"
fi

tp=0 tf=0 ts=0
echo "=== summary ==="
for i in "${!parts[@]}"; do
	part=${parts[$i]}
	name=${part%%:*}
	counts=$(grep '^KREG-COUNTS' "${part#*:}")
	# A part that printed no counts ended abnormally: one failure.
	read -r _ p f s <<<"${counts:-KREG-COUNTS 0 1 0}"
	echo "$name: $p passed, $f failed, $s skipped ($((secs[i] / 60))m$((secs[i] % 60))s)"
	tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + s))
done
echo "$tp passed, $tf failed, $ts skipped"
[ "$tf" -eq 0 ]
