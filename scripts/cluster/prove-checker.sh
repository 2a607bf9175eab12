#!/usr/bin/env bash
# Proves that the cluster suite's history checker can fail: kregd built
# with its claim's compare taken out (the create_revision == 0 test that
# makes one winner) and without the watch's correction (another node's
# key, seen over a claim in flight here, mirrored over it so that the
# claim fails), run under the suite's race scenario, must make the
# checker report a double holder. Exits 0 when it does.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
BUILD=${BUILD:-build}
src=$BUILD/sabotage/kregd
rm -rf "$src" && mkdir -p "$src"
cp tools/kregd/*.c tools/kregd/*.h "$src/"
# The compare goes: every claim puts its key, whoever holds it.
python3 - "$src/claims.c" <<'PY' || exit 2
import sys
p = sys.argv[1]
s = open(p).read()
start = s.index("static void claim_txn(")
was = "etcd_all(1, etcd_cmp_created(key, 0))"
i = s.index(was, start)
s = s[:i] + "NULL" + s[i + len(was):]
open(p, "w").write(s)
PY
python3 - "$src/watch.c" <<'PY' || exit 2
import sys
p = sys.argv[1]
s = open(p).read()
start = s.index("static void apply_put(")
i = s.index("\tmirror(d, r);\n}", start)
s = s[:i] + "\t(void)0;\n}" + s[i + len("\tmirror(d, r);\n}"):]
open(p, "w").write(s)
PY
make --no-print-directory lib >/dev/null || exit 2
# shellcheck disable=SC2046
cc -std=c11 -D_GNU_SOURCE -O2 -Ilib/include -Ikmod/include/uapi -Ilib/cluster \
	$(pkg-config --cflags libnl-genl-3.0 libcurl json-c) -o "$BUILD/sabotage/kregd-bin" \
	"$src"/*.c "$BUILD/libkreg.a" $(pkg-config --libs libnl-genl-3.0 libcurl json-c) \
	-lpthread || exit 2
KREGD=$BUILD/sabotage/kregd-bin KREG_CLUSTER_ONLY=every_round bash scripts/cluster/run.sh \
	>"$BUILD/sabotage/run.out" 2>&1
violations='double holder|was not fenced before|did not increase'
if grep -Eq "$violations" "$BUILD/cluster-run.log"; then
	echo "the checker caught the sabotaged kregd:"
	grep -Em 5 "$violations" "$BUILD/cluster-run.log"
	exit 0
fi
echo "the checker did NOT catch a kregd without its claim's compare (see $BUILD/cluster-run.log)"
exit 1
