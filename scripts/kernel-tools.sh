#!/usr/bin/env bash
# Extracts, at build time, the few files kreg takes from Debian's linux-source-6.1:
# the kselftest harness headers, checkpatch.pl and its data, and extract-vmlinux.
# (kreg.ko's BTF ids are filled in by kreg's own scripts/btf-ids, which a DKMS
# build on a host without the kernel's sources can use too.)
# Nothing extracted here is ever committed: it lands in $1 (default build/ksrc).
set -euo pipefail
out=${1:-build/ksrc}
tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1)
[ -n "$tarball" ] || { echo "kernel-tools: no /usr/src/linux-source-*.tar.xz; run scripts/setup-debian.sh" >&2; exit 1; }
stamp="$out/.extracted-$(basename "$tarball")"
[ -f "$stamp" ] && exit 0
top=$(basename "$tarball" .tar.xz)
members=(
	tools/testing/selftests/kselftest_harness.h
	tools/testing/selftests/kselftest.h
	scripts/checkpatch.pl
	scripts/spelling.txt
	scripts/const_structs.checkpatch
	scripts/extract-vmlinux
)
rm -rf "$out" && mkdir -p "$out"
tar -xJf "$tarball" -C "$out" --strip-components=1 "${members[@]/#/$top/}"
touch "$stamp"
