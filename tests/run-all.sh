#!/usr/bin/env bash
# The whole test suite: host tests, then the kernel tests in a QEMU guest.
# Ends with one line "N passed, N failed, N skipped" and exits non-zero on
# any failure, including a guest that crashed, hung or never reported.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-build}
export BUILD KVER

# Output streams as it comes and is kept in files: the counts are read back
# from those (teeing to /dev/stderr would truncate a log that stderr is).
mkdir -p "$BUILD"
echo "=== host tests (ASan, UBSan) ==="
bash "$here/run-host.sh" | tee "$BUILD/host-run.out"
echo "=== kernel tests in the QEMU guest ==="
bash "$here/../scripts/guest/boot.sh" test | tee "$BUILD/guest-run.out"
host=$(grep '^KREG-COUNTS' "$BUILD/host-run.out")
guest=$(grep '^KREG-COUNTS' "$BUILD/guest-run.out")

read -r _ hp hf hs <<<"${host:-KREG-COUNTS 0 1 0}"
read -r _ gp gf gs <<<"${guest:-KREG-COUNTS 0 1 0}"
echo "host: $hp passed, $hf failed, $hs skipped; guest: $gp passed, $gf failed, $gs skipped"
echo "$((hp + gp)) passed, $((hf + gf)) failed, $((hs + gs)) skipped"
[ $((hf + gf)) -eq 0 ]
