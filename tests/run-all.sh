#!/usr/bin/env bash
# The whole test suite: host tests, then the kernel tests in a QEMU guest on
# each kernel of KVERS (default: scripts/kernels.sh all), whose modules are
# built in $BUILD/KVER/kmod. Gives each part's counts, then ends with one line
# "N passed, N failed, N skipped" and exits non-zero on any failure, including
# a guest that crashed, hung or never reported. KREG_HOST_TESTS=0 skips the
# host tests. DKMS_KVERS: kernels on which the exit cleanup and view tests run
# once more, on the module DKMS built (in KREG_KO_DIR, see boot.sh).
# DEBIAN_DEBS: a directory of kreg's .deb files, installed and checked on a
# real Debian 12 system (scripts/debian-guest/run.sh).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-build}
KVERS=${KVERS-$("$here/../scripts/kernels.sh" all)}
export BUILD

# Output streams as it comes and is kept in files: the counts are read back
# from those (teeing to /dev/stderr would truncate a log that stderr is).
mkdir -p "$BUILD"
parts=()
if [ "${KREG_HOST_TESTS:-1}" != 0 ]; then
	echo "=== host tests (ASan, UBSan) ==="
	bash "$here/run-host.sh" | tee "$BUILD/host-run.out"
	parts+=("host:$BUILD/host-run.out")
fi
ko_dir=${KREG_KO_DIR:-}
unset KREG_KO_DIR
for kver in $KVERS; do
	echo "=== kernel tests in the QEMU guest: $kver ==="
	mkdir -p "$BUILD/$kver"
	KVER=$kver bash "$here/../scripts/guest/boot.sh" test | tee "$BUILD/$kver/guest-run.out"
	parts+=("$kver:$BUILD/$kver/guest-run.out")
done
for kver in ${DKMS_KVERS:-}; do
	echo "=== exit cleanup and view tests on the module DKMS built: $kver ==="
	mkdir -p "$BUILD/$kver"
	KVER=$kver KREG_KO_DIR=$ko_dir KREG_TESTS="exit_test view_test" \
		bash "$here/../scripts/guest/boot.sh" test | tee "$BUILD/$kver/guest-dkms-run.out"
	parts+=("dkms $kver:$BUILD/$kver/guest-dkms-run.out")
done

if [ -n "${KREG_CLUSTER:-}" ]; then
	echo "=== kreg across hosts: etcd here, two nodes in QEMU guests ==="
	bash "$here/../scripts/cluster/run.sh" | tee "$BUILD/cluster-part.out"
	parts+=("cluster:$BUILD/cluster-part.out")
fi

if [ -n "${DEBIAN_DEBS:-}" ]; then
	echo "=== the Debian packages on a Debian 12 guest (systemd, DKMS) ==="
	mkdir -p "$BUILD/debian-guest"
	bash "$here/../scripts/debian-guest/run.sh" "$DEBIAN_DEBS" | tee "$BUILD/debian-guest/run.out"
	parts+=("debian 12:$BUILD/debian-guest/run.out")
fi

tp=0 tf=0 ts=0
echo "=== summary ==="
for part in "${parts[@]}"; do
	name=${part%%:*}
	counts=$(grep '^KREG-COUNTS' "${part#*:}")
	# A part that printed no counts ended abnormally: one failure.
	read -r _ p f s <<<"${counts:-KREG-COUNTS 0 1 0}"
	echo "$name: $p passed, $f failed, $s skipped"
	tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + s))
done
echo "$tp passed, $tf failed, $ts skipped"
[ "$tf" -eq 0 ]
