#!/usr/bin/env bash
# Sums a guest test log into "N passed, N failed, N skipped" on stdout
# (KREG-COUNTS line first, for run-all.sh) and exits non-zero on any failure,
# on a test program that died without its totals, or on a guest that crashed,
# hung or never reported.
set -uo pipefail
log=${1:?usage: summarise.sh LOG}
awk '
/^# Totals: / {
	for (i = 3; i <= NF; i++) { split($i, kv, ":"); t[kv[1]] = kv[2] }
	pass += t["pass"] + t["xfail"]; fail += t["fail"] + t["error"] + t["xpass"]; skip += t["skip"]
	have_totals = 1
}
/^KREG-BIN-START / { have_totals = 0; name = $2 }
/^KREG-BIN-EXIT / {
	if (!have_totals) { fail++; print "FAILED: " $2 " ended (status " $3 ") without reporting its totals" > "/dev/stderr" }
	else if ($3 != 0 && lastfail == fail) { fail++; print "FAILED: " $2 " exited with status " $3 > "/dev/stderr" }
	lastfail = fail
}
/^KREG-CHECK-PASS / { pass++ }
/^KREG-CHECK-FAIL / { fail++; print "FAILED: " substr($0, 17) > "/dev/stderr" }
/^KREG-CHECK-WARN / { print "warning: " substr($0, 17) > "/dev/stderr" }
/^KREG-GUEST-DONE/ { done = 1 }
END {
	if (!done) { fail++; print "FAILED: the guest crashed, hung or never reported (no KREG-GUEST-DONE)" > "/dev/stderr" }
	printf "KREG-COUNTS %d %d %d\n", pass, fail, skip
	printf "%d passed, %d failed, %d skipped\n", pass, fail, skip
	exit fail != 0
}' lastfail=0 "$log"
