#!/usr/bin/env bash
# Runs the host tests (no kernel module needed; built with ASan and UBSan)
# and sums their totals into a KREG-COUNTS line and "N passed, N failed".
set -uo pipefail
BUILD=${BUILD:-build}
export BUILD
log=$BUILD/host-tests.log
: >"$log"
for t in "$BUILD"/host-tests/*_test; do
	name=${t##*/}
	echo "KREG-BIN-START $name" | tee -a "$log"
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$t" 2>&1 | tee -a "$log"
	echo "KREG-BIN-EXIT $name ${PIPESTATUS[0]}" | tee -a "$log"
done
# The module's layering: a static check, counted with the host tests.
bash "$(dirname "$0")/../scripts/check-layers.sh" | tee -a "$log"
echo "KREG-GUEST-DONE (host)" >>"$log"
exec bash "$(dirname "$0")/../scripts/guest/summarise.sh" "$log"
