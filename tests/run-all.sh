#!/usr/bin/env bash
# The whole test suite: host tests, then the kernel tests in a QEMU guest.
# Ends with one line "N passed, N failed, N skipped" and exits non-zero on
# any failure, including a guest that crashed, hung or never reported.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-build}
export BUILD KVER

echo "=== host tests (ASan, UBSan) ==="
host=$(bash "$here/run-host.sh" | tee /dev/stderr | grep '^KREG-COUNTS')
echo "=== kernel tests in the QEMU guest ==="
guest=$(bash "$here/../scripts/guest/boot.sh" test | tee /dev/stderr | grep '^KREG-COUNTS')

read -r _ hp hf hs <<<"${host:-KREG-COUNTS 0 1 0}"
read -r _ gp gf gs <<<"${guest:-KREG-COUNTS 0 1 0}"
echo "host: $hp passed, $hf failed, $hs skipped; guest: $gp passed, $gf failed, $gs skipped"
echo "$((hp + gp)) passed, $((hf + gf)) failed, $((hs + gs)) skipped"
[ $((hf + gf)) -eq 0 ]
