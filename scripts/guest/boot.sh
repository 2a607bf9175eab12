#!/usr/bin/env bash
# Boots Debian's kernel under QEMU (software emulation) with an initramfs that
# holds busybox, kreg.ko, kregctl and the kernel tests, and runs one job there:
#   boot.sh demo   load kreg.ko and show it working
#   boot.sh test   run every kernel test (or those KREG_TESTS names); prints the guest's results and sums
#                  them into "N passed, N failed, N skipped" (see summarise.sh)
#   boot.sh bench  run kreg-bench; the table and plot land in $BUILD/bench/
# KVER names the kernel (default: scripts/kernels.sh default); its module is
# $BUILD/KVER/kmod/kreg.ko, and the guest's console is saved in
# $BUILD/KVER/guest/<job>.log.
set -euo pipefail
job=${1:?usage: boot.sh demo|test|bench}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"
KVER=${KVER:-$(scripts/kernels.sh default)}
BUILD=${BUILD:-build}
image=$(scripts/kernels.sh image "$KVER")
out=$BUILD/$KVER/guest
root=$out/root-$job
log=$out/$job.log
# The debug kernel (KASAN, lockdep) runs about ten times slower: the tests
# size their work by kregslow, and the guest gets more time and memory.
slow=0
[ -z "$(scripts/kernels.sh vmlinux "$KVER")" ] || slow=1

# shellcheck source=root.sh
. "$here/root.sh"
guest_root_base "$root"
# KREG_KO_DIR: a DKMS tree's kreg/VERSION, whose KVER/ARCH/module/kreg.ko is used instead.
ko=$BUILD/$KVER/kmod/kreg.ko
[ -z "${KREG_KO_DIR:-}" ] || ko=$KREG_KO_DIR/$KVER/$(uname -m)/module/kreg.ko
cp "$ko" "$root/kreg.ko"
cp "$BUILD/guest/kregctl" "$root/bin/kregctl"
cp "$here/init" "$root/init"
cp "$here/demo.sh" "$root/demo.sh"
cp tests/guest-tests.sh "$root/guest-tests.sh"
if [ "$job" = test ]; then
	# KREG_TESTS="access_test exit_test" runs only those (while developing).
	for t in "$BUILD"/guest/tests/*; do
		case " ${KREG_TESTS:-${t##*/}} " in *" ${t##*/} "*) cp "$t" "$root/tests/" ;; esac
	done
fi

if [ "$job" = test ]; then
	# The tests of kregctl -j read its output as scripts do.
	copy_program "$root" jq
	# queue_test runs the hot standby example as a user would.
	copy_program "$root" "$BUILD/examples/hot_standby" /bin/hot_standby
fi
if [ "$job" = demo ]; then
	# What an operator uses to look at kreg: bpftool always, bpftrace if installed.
	PATH=$PATH:/usr/sbin copy_program "$root" bpftool
	copy_program "$root" bpftrace || echo "boot.sh: bpftrace is not installed; the demo skips it" >&2
fi
if [ "$job" = bench ]; then
	copy_program "$root" "$BUILD/kreg-bench" /bin/kreg-bench
	copy_program "$root" dbus-daemon
	mkdir -p "$root/etc"
	# Debian's session bus configuration, listening in the guest's /tmp.
	sed 's|<listen>.*</listen>|<listen>unix:tmpdir=/tmp</listen>|' \
		/usr/share/dbus-1/session.conf >"$root/etc/dbus-bench.conf"
	echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
	echo "root:x:0:" >"$root/etc/group"
	# Where the name starts in struct kreg_entry: "struct + name" for memory per entry.
	pahole -C kreg_entry "$BUILD/$KVER/kmod/kreg.ko" | awk '/name\[\];/ {print $(NF - 2)}' >"$root/entry-header"
	cp "$here/bench.sh" "$root/bench.sh"
fi
chmod +x "$root/init"
guest_pack "$root" "$out/initramfs-$job.gz"

# slab_nomerge keeps kreg's slab caches apart in /proc/slabinfo, so tests can
# count its objects; kregjob and kregslow reach /init as environment variables.
status=0
timeout --kill-after=10 "${KREG_GUEST_TIMEOUT:-$((slow ? 2400 : 1200))}" \
	qemu-system-x86_64 -accel tcg -cpu max -m 3072 -smp 2 \
	-nographic -no-reboot \
	-kernel "$image" -initrd "$out/initramfs-$job.gz" \
	-append "console=ttyS0 panic=-1 quiet slab_nomerge kregjob=$job kregslow=$slow" \
	</dev/null 2>&1 | sed -u 's/\r$//' | tee "$log" || status=$?
if [ "$job" = test ]; then
	exec bash "$here/summarise.sh" "$log"
fi
if [ "$job" = bench ]; then
	grep -q '^KREG-BENCH-END' "$log" || { echo "the benchmark did not finish: see $log" >&2; exit 1; }
	bench=$BUILD/$KVER/bench
	mkdir -p "$bench"
	sed -n '/^KREG-BENCH-BEGIN/,/^KREG-BENCH-END/p' "$log" | sed '1d;$d' >"$bench/raw.txt"
	grep -v '^BENCH-DATA' "$bench/raw.txt" >"$bench/results.txt"
	bash "$top/scripts/bench-plot.sh" "$bench/raw.txt" "$bench/kreg-bench.png"
	echo "table: $bench/results.txt  plot: $bench/kreg-bench.png"
	exit 0
fi
grep -q '^KREG-GUEST-DONE' "$log" || { echo "guest did not finish (status $status): see $log" >&2; exit 1; }
