#!/bin/sh
# Builds kreg.ko for kernel KVER from the DKMS source tree, with its BTF:
#   dkms-build.sh KVER [KERNEL_BUILD_DIR]     (dkms-build.sh --clean)
# The BTF is made against the kernel's own: /sys/kernel/btf/vmlinux when KVER
# is running, else the vmlinux inside /boot/vmlinuz-KVER. Without it (no
# pahole, or no BTF to be found) the module still builds and works, but BPF
# exit cleanup cannot call it: the build says so.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
if [ "${1:-}" = --clean ]; then
	rm -rf kmod/*.o kmod/*.ko kmod/.*.cmd kmod/*.mod kmod/*.mod.c kmod/Module.symvers \
		kmod/modules.order kreg-btf-ids vmlinux.btf-base
	exit 0
fi
kver=${1:?usage: dkms-build.sh KVER [KERNEL_BUILD_DIR]}
kdir=${2:-/lib/modules/$kver/build}

make -C "$kdir" M="$here/kmod" modules 2>&1 | grep -v '^Skipping BTF generation' || true
[ -f kmod/kreg.ko ] || { echo "dkms-build: kreg.ko was not built" >&2; exit 1; }

# The uncompressed kernel inside a bzImage: the first payload, of the
# compressions Debian's kernels use, that decompresses to an ELF file.
extract_vmlinux() {
	for magic in '\xfd7zXZ\x00:xz -dc' '\x28\xb5\x2f\xfd:zstd -dcq' '\x1f\x8b\x08:gzip -dc'; do
		pattern=${magic%%:*}
		unpack=${magic#*:}
		command -v "${unpack%% *}" >/dev/null || continue
		for off in $(LC_ALL=C grep -aboP "$pattern" "$1" | cut -d: -f1); do
			tail -c +$((off + 1)) "$1" | $unpack >"$2" 2>/dev/null || true
			[ "$(od -An -tx1 -N4 "$2" | tr -d ' ')" = 7f454c46 ] && return 0
		done
	done
	return 1
}

base=
if [ "$kver" = "$(uname -r)" ] && [ -r /sys/kernel/btf/vmlinux ]; then
	base=/sys/kernel/btf/vmlinux
elif [ -r "/boot/vmlinuz-$kver" ] && extract_vmlinux "/boot/vmlinuz-$kver" vmlinux.btf-base; then
	base=$here/vmlinux.btf-base
fi
if [ -z "$base" ] || ! command -v pahole >/dev/null; then
	echo "dkms-build: no BTF for $kver (pahole, or the kernel's BTF, is missing):" \
		"kreg.ko works, but BPF exit cleanup will not attach" >&2
	exit 0
fi
# pahole adds the section with $LLVM_OBJCOPY, llvm-objcopy by default; the
# kernel's own build gives it binutils' objcopy, as here (no LLVM needed).
LLVM_OBJCOPY=objcopy pahole -J --btf_base "$base" kmod/kreg.ko
# Not $CC: DKMS may set it to what it read of the kernel build.
gcc -O2 -o kreg-btf-ids btf-ids/kreg-btf-ids.c -lbpf
./kreg-btf-ids "$base" kmod/kreg.ko
rm -f vmlinux.btf-base
