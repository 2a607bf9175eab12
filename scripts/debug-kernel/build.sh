#!/usr/bin/env bash
# Builds, once per machine, the kernel that finds kreg's bugs: Debian's
# linux-source-6.1 with KASAN, lockdep (PROVE_LOCKING, PROVE_RCU),
# DEBUG_ATOMIC_SLEEP, DEBUG_OBJECTS_RCU_HEAD and kmemleak, plus BTF and
# module BTF so that BPF exit cleanup works (debug.config beside this file).
#
# It lives outside the checkout, in $KREG_CACHE (default ~/.cache/kreg), in a
# directory keyed by the source package's version and the configuration: a
# new linux-source-6.1 or a changed debug.config builds a new kernel, and an
# unchanged one is never built twice.
#
#   build.sh            build it unless it is built; print its tree
#   build.sh --tree     print where its tree is (or would be); build nothing
#   build.sh --release  print its kernel release, or fail if it is not built
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${KREG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kreg}
tarball=$(ls /usr/src/linux-source-6.1.tar.xz 2>/dev/null || true)
[ -n "$tarball" ] || { echo "debug-kernel: no /usr/src/linux-source-6.1.tar.xz; run scripts/setup-debian.sh" >&2; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || stat -c %Y "$tarball")
key=$( (echo "$srcver"; cat "$here/debug.config") | sha256sum | cut -c1-12)
tree=$cache/linux-debug-$key

case "${1:-}" in
--tree) echo "$tree"; exit 0 ;;
--release)
	[ -f "$tree/.kreg-built" ] || exit 1
	cat "$tree/include/config/kernel.release"; exit 0 ;;
"") ;;
*) echo "usage: build.sh [--tree|--release]" >&2; exit 2 ;;
esac

if [ -f "$tree/.kreg-built" ]; then
	# Out-of-tree modules resolve the kernel's exports from it.
	[ -f "$tree/Module.symvers" ] || cp "$tree/vmlinux.symvers" "$tree/Module.symvers"
	echo "$tree"
	exit 0
fi
mkdir -p "$cache"
rm -rf "$tree.tmp"
mkdir -p "$tree.tmp"
start=$(date +%s)
echo "debug-kernel: extracting $tarball (linux-source-6.1 $srcver)" >&2
tar -xJf "$tarball" -C "$tree.tmp" --strip-components=1
cd "$tree.tmp"
echo "debug-kernel: configuring (KASAN, lockdep, kmemleak, BTF)" >&2
make -s x86_64_defconfig >/dev/null
make -s kvm_guest.config >/dev/null
scripts/kconfig/merge_config.sh -m .config "$here/debug.config" >/dev/null
make -s olddefconfig LOCALVERSION=-kreg-debug >/dev/null
# Every option asked for must have survived olddefconfig's dependency checks.
missing=0
while IFS= read -r line; do
	case "$line" in CONFIG_*=y) ;; *) continue ;; esac
	grep -qx "$line" .config || { echo "debug-kernel: $line did not stick" >&2; missing=1; }
done <"$here/debug.config"
[ $missing = 0 ] || exit 1
echo "debug-kernel: building with $(nproc) jobs (about 15 min on 2 cores)" >&2
make -s -j"$(nproc)" LOCALVERSION=-kreg-debug bzImage modules_prepare >build.log 2>&1 ||
	{ tail -n 40 build.log >&2; exit 1; }
cp vmlinux.symvers Module.symvers
touch .kreg-built
cd /
mv "$tree.tmp" "$tree"
echo "debug-kernel: built $(cat "$tree/include/config/kernel.release") in $(( $(date +%s) - start )) s: $tree" >&2
echo "$tree"
