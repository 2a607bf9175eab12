#!/usr/bin/env bash
# Prints the kernel version kreg builds for and boots: the newest one with both
# headers (/lib/modules/V/build) and an image (/boot/vmlinuz-V). Never uname -r:
# the machine's own kernel is another one, and cannot load modules.
set -euo pipefail
for dir in $(ls -d /lib/modules/*/build 2>/dev/null | sort -V -r); do
	v=$(basename "$(dirname "$dir")")
	if [ -f "/boot/vmlinuz-$v" ]; then
		echo "$v"
		exit 0
	fi
done
echo "kver: no kernel with both /lib/modules/V/build and /boot/vmlinuz-V; run scripts/setup-debian.sh" >&2
exit 1
