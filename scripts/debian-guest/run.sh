#!/usr/bin/env bash
# kreg's Debian packages on a real Debian 12 system: boots the cached root
# (make-root.sh) under QEMU with systemd as PID 1, a copy-on-write overlay
# (-snapshot: the cached root never changes) and a second disk holding the
# packages of build/deb and check.sh, which installs them, reboots the guest,
# upgrades its kernel, and checks what systemd, DKMS, kregctl and dpkg did. Prints each check, then
# "N passed, N failed" and KREG-COUNTS; exits non-zero on any failure,
# including a guest that never finished.
#   run.sh DEB_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
debs=${1:?usage: run.sh DEB_DIR}
BUILD=${BUILD:-build}
out=$BUILD/debian-guest
mkdir -p "$out"
img=$(bash "$here/make-root.sh") || { echo "KREG-COUNTS 0 1 0"; exit 1; }

payload=$(mktemp -d)
trap 'rm -rf "$payload"' EXIT
cp "$debs"/kreg-dkms_*.deb "$debs"/libkreg4_*.deb "$debs"/libkreg-dev_*.deb \
	"$debs"/kregctl_*.deb "$here/check.sh" "$here/kreg-demo.c" "$payload/"
mkdir "$payload/autopkgtest"
cp "$here/../../debian/tests/"* "$payload/autopkgtest/"
rm -f "$out/payload.img"
truncate -s 64M "$out/payload.img"
mkfs.ext4 -q -F -L kreg-payload -d "$payload" "$out/payload.img"

log=$out/console.log
# Three boots in one QEMU process: a guest reboot, and a kexec, keep the
# -snapshot overlay. (Two DKMS builds and an initramfs in TCG: ~25 minutes
# alone, more beside other guests.)
timeout 3600 qemu-system-x86_64 -accel tcg -cpu max -m 2048 -smp 2 -nographic -snapshot \
	-kernel "$img.vmlinuz" -initrd "$img.initrd" \
	-append "root=/dev/vda rw console=ttyS0 panic=-1 quiet systemd.show_status=false" \
	-drive file="$img",if=virtio,format=raw \
	-drive file="$out/payload.img",if=virtio,format=raw,readonly=on \
	</dev/null 2>&1 | sed -u 's/\r$//' | tee "$log.raw" |
	sed -u -E 's/^.*\[ *[0-9.]+\] [^ ]+\[[0-9]+\]: //' | tee "$log" |
	grep -a --line-buffered -E '^(KREG-|    )'
# (The sed drops the prefix the console gives what journald echoes to it.)
pass=$(grep -ac '^KREG-CHECK-PASS' "$log")
fail=$(grep -ac '^KREG-CHECK-FAIL' "$log")
if ! grep -aq '^KREG-DEBIAN-DONE' "$log"; then
	echo "KREG-CHECK-FAIL the Debian guest never finished (see $log)"
	fail=$((fail + 1))
fi
echo "KREG-COUNTS $pass $fail 0"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
