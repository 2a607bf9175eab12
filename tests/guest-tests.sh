#!/bin/sh
# Runs inside the test guest (see scripts/guest/boot.sh): loads kreg.ko, runs
# every kernel test program, unload_test last, and checks the kernel log.
# Each program prints TAP and its "# Totals:" line; the host sums them.
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
# A warning, oops or leaked slab object fails the run even if every test passed.
if dmesg | grep -E 'BUG:|WARNING:|Oops|general protection|Call Trace|still has objects|kreg.*leak'; then
	echo "KREG-CHECK-FAIL the kernel log has a BUG, WARNING, Oops or leak (above)"
else
	echo "KREG-CHECK-PASS the kernel log is clean"
fi
