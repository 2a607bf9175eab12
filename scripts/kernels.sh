#!/usr/bin/env bash
# Which kernels kreg builds for and boots, and where their files are. Never
# `uname -r`: the machine's own kernel is another one, and cannot load modules.
#
#   kernels.sh default      the kernel that `make`, `make demo` and `make bench`
#                           use unless KVER names another: Debian's generic
#                           flavour (the newest installed). Installing the
#                           PREEMPT_RT kernel beside it never changes this.
#   kernels.sh all          the kernels `make check` runs the suite on: every
#                           Debian 6.1 flavour installed, generic first, then rt
#   kernels.sh kdir KVER    the tree to build modules for KVER against
#   kernels.sh image KVER   the kernel image the guest boots for KVER
#   kernels.sh vmlinux KVER the uncompressed vmlinux with BTF, if the tree has
#                           one (the debug kernel); else nothing
#
# A Debian kernel counts once both its headers (/lib/modules/V/build) and its
# image (/boot/vmlinuz-V) are installed (scripts/setup-debian.sh). The debug
# kernel (`make check-debug`) is built by scripts/debug-kernel/build.sh and
# kept outside the checkout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

debian_kernels() {
	local dir v
	for dir in /lib/modules/*/build; do
		[ -d "$dir" ] || continue
		v=$(basename "$(dirname "$dir")")
		[ -f "/boot/vmlinuz-$v" ] && echo "$v"
	done | sort -V -r
}

# The debug kernel's tree when KVER is its release, else nothing.
debug_tree() {
	local tree
	tree=$("$here/debug-kernel/build.sh" --tree)
	[ -f "$tree/.kreg-built" ] && [ "$(cat "$tree/include/config/kernel.release")" = "$1" ] &&
		echo "$tree"
	return 0
}

none() {
	echo "kernels: no kernel with both /lib/modules/V/build and /boot/vmlinuz-V; run scripts/setup-debian.sh" >&2
	exit 1
}

case "${1:-}" in
default)
	v=$(debian_kernels | grep -v -- '-rt-' | head -n 1 || true)
	[ -n "$v" ] || v=$(debian_kernels | head -n 1 || true)
	[ -n "$v" ] || none
	echo "$v"
	;;
all)
	all=$(debian_kernels)
	[ -n "$all" ] || none
	{ grep -v -- '-rt-' <<<"$all" || true; grep -- '-rt-' <<<"$all" || true; }
	;;
kdir | image | vmlinux)
	kver=${2:?usage: kernels.sh $1 KVER}
	tree=$(debug_tree "$kver")
	if [ -n "$tree" ]; then
		case $1 in
		kdir) echo "$tree" ;;
		image) echo "$tree/arch/x86/boot/bzImage" ;;
		vmlinux) echo "$tree/vmlinux" ;;
		esac
	else
		case $1 in
		kdir) echo "/lib/modules/$kver/build" ;;
		image) echo "/boot/vmlinuz-$kver" ;;
		vmlinux) ;;
		esac
	fi
	;;
*)
	echo "usage: kernels.sh default | all | kdir KVER | image KVER | vmlinux KVER" >&2
	exit 2
	;;
esac
