#!/bin/sh
# Runs inside the test guest (see scripts/guest/boot.sh): loads kreg.ko, runs
# every kernel test program, unload_test last, and checks the kernel log.
# Each program prints TAP and its "# Totals:" line; the host sums them.
kmemleak=/sys/kernel/debug/kmemleak
# The debug kernel: forget what boot left, so a report is about what ran here.
[ -w $kmemleak ] && echo clear >$kmemleak
# What the kernel logs before this line is its own: kreg was not loaded yet.
echo "KREG-INSMOD kreg.ko is loaded after this line" >/dev/kmsg
if insmod /kreg.ko; then
	echo "KREG-CHECK-PASS insmod kreg.ko"
else
	echo "KREG-CHECK-FAIL insmod kreg.ko"
fi
# Each program's wall time, in seconds of guest uptime, says where a slow
# run went (the debug kernel's run is the longest part of CI).
uptime_s() { read -r up _ </proc/uptime; echo "${up%.*}"; }
for t in /tests/*_test; do
	name=${t##*/}
	[ "$name" = unload_test ] && continue
	echo "KREG-BIN-START $name"
	start=$(uptime_s)
	"$t"
	echo "KREG-BIN-EXIT $name $?"
	echo "KREG-BIN-TIME $name $(($(uptime_s) - start)) s"
done
if [ -x /tests/unload_test ]; then
	echo "KREG-BIN-START unload_test"
	/tests/unload_test
	echo "KREG-BIN-EXIT unload_test $?"
fi
# A warning, oops or leaked slab object fails the run even if every test
# passed; so does any report of the debug kernel's checkers: KASAN, lockdep
# (and its wait-context check, which is how PREEMPT_RT's sleeping locks show
# on a non-RT kernel), RCU, sleeping in atomic context, debug objects, stalls.
# The kernel's own reports are told apart, as warnings: those before kreg.ko
# was loaded, and, after it, those with no kreg code anywhere in them (no
# kreg function, no [kreg] frame, no kreg allocation or free), except memory
# corruption: a corrupted object is often found far from whoever corrupted
# it, so after insmod every such report fails the run, kreg on its stack or
# not. Two kinds of expected noise are not reports: the OOM killer's (a test
# cgroup ran out, as meant), whose stack ends with its "Killed process" or
# "no killable processes" line, and the allocator's dumps while fault_test
# injects failures; a real report in their midst still counts.
# If the log wrapped past the marker, everything in it came after insmod.
dmesg | grep -q KREG-INSMOD && loaded=0 || loaded=1
dmesg | awk -v loaded=$loaded '
function flush() {
	if (!report) return
	if (ours || (loaded && corrupt)) { print "KREG-CHECK-FAIL the kernel log has a report " (ours ? "with kreg in it" : "of memory corruption after kreg.ko was loaded") ": " first; failed = 1 }
	else if (loaded) print "KREG-CHECK-WARN the kernel reported, with no kreg code in it: " first
	else print "KREG-CHECK-WARN the kernel reported before kreg.ko was loaded: " first
	report = 0
}
function start(line) {
	if (!report) { report = 1; ours = 0; corrupt = 0; first = line; lines = 0 }
}
/KREG-INSMOD/ { flush(); loaded = 1; next }
/invoked oom-killer/ { oom = 1; next }
oom && (/Killed process/ || /oom-kill:/ || /no killable processes/) { oom = 0; next }
/KREG-FAULTS-BEGIN/ { faults = 1; next }
/KREG-FAULTS-END/ { faults = 0; next }
/BUG:|BUG [a-z]|WARNING:|Oops|general protection|still has objects|kreg.*leak|KASAN|UBSAN|ODEBUG|INFO: |suspicious RCU|sleeping function called|corruption|Redzone|Poison overwritten|Object padding|double free|refcount_t:/ { start($0) }
!faults && !oom && /Call Trace/ { start($0) }
report {
	if ($0 ~ /KASAN|corruption|Redzone|Poison overwritten|Object padding|double free|use-after-free|out-of-bounds|Bad page|general protection|unable to handle/) corrupt = 1
	if ($0 !~ /Modules linked in/ && ($0 ~ /\[kreg\]/ || $0 ~ /kreg_[a-z_0-9]+/)) ours = 1
	if (++lines > 400 || $0 ~ /---\[ end trace/ || $0 ~ /====================/) flush()
}
END { flush(); exit failed }
'
if [ $? = 0 ]; then
	echo "KREG-CHECK-PASS the kernel log has no report of kreg's"
else
	dmesg
fi
if [ -w $kmemleak ]; then
	# An object must stay unreferenced across scans to be reported.
	echo scan >$kmemleak
	sleep 6
	echo scan >$kmemleak
	if grep -q unreferenced $kmemleak; then
		cat $kmemleak
		echo "KREG-CHECK-FAIL kmemleak found unreferenced objects (above)"
	else
		echo "KREG-CHECK-PASS kmemleak found nothing"
	fi
fi
