#!/bin/sh
# Runs inside the test guest (see scripts/guest/boot.sh): loads kreg.ko, runs
# every kernel test program, unload_test last, and checks the kernel log.
# Each program prints TAP and its "# Totals:" line; the host sums them.
kmemleak=/sys/kernel/debug/kmemleak
# The debug kernel: forget what boot left, so a report is about what ran here.
[ -w $kmemleak ] && echo clear >$kmemleak
if insmod /kreg.ko; then
	echo "KREG-CHECK-PASS insmod kreg.ko"
else
	echo "KREG-CHECK-FAIL insmod kreg.ko"
fi
for t in /tests/*_test; do
	name=${t##*/}
	[ "$name" = unload_test ] && continue
	echo "KREG-BIN-START $name"
	"$t"
	echo "KREG-BIN-EXIT $name $?"
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
if dmesg | grep -E 'BUG:|WARNING:|Oops|general protection|Call Trace|still has objects|kreg.*leak|KASAN|UBSAN|ODEBUG|INFO: |suspicious RCU|sleeping function called'; then
	echo "KREG-CHECK-FAIL the kernel log has a BUG, WARNING, Oops or checker report (above)"
else
	echo "KREG-CHECK-PASS the kernel log is clean"
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
