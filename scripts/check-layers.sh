#!/usr/bin/env bash
# kmod/ flows one way: each file may include the headers of the layers below
# its own, and its own header; never one of its layer's peers or above. A
# file missing from the table below fails too, so that a new file is placed
# on purpose. Prints KREG-CHECK-PASS or KREG-CHECK-FAIL lines (tests/run-host.sh).
set -uo pipefail
cd "$(dirname "$0")/../kmod"
# From the bottom up. A unit is a .c file and the .h of the same name.
layers=(
	"lock fault trace version principal grammar"
	"policy"
	"access"
	"holders mailbox"
	"table"
	"node"
	"view events exit"
	"netlink policy_netlink cluster_netlink"
	"main"
)
declare -A layer_of
for i in "${!layers[@]}"; do
	for unit in ${layers[$i]}; do layer_of[$unit]=$i; done
done
# The protocol is one unit in two files: policy_netlink.c is netlink's.
peer_ok() { { [ "$1" = policy_netlink ] || [ "$1" = cluster_netlink ]; } && [ "$2" = netlink ]; }
bad=0
for f in *.c *.h; do
	unit=${f%.*}
	mine=${layer_of[$unit]:-}
	if [ -z "$mine" ]; then
		echo "KREG-CHECK-FAIL layers: kmod/$f is in no layer (scripts/check-layers.sh)"
		bad=1
		continue
	fi
	for inc in $(sed -n 's/^#include "\(.*\)\.h"$/\1/p' "$f"); do
		theirs=${layer_of[$inc]:-}
		if [ -z "$theirs" ]; then
			echo "KREG-CHECK-FAIL layers: kmod/$f includes $inc.h, which is in no layer"
			bad=1
		elif [ "$inc" != "$unit" ] && [ "$theirs" -ge "$mine" ] && ! peer_ok "$unit" "$inc"; then
			echo "KREG-CHECK-FAIL layers: kmod/$f (layer $mine) includes $inc.h (layer $theirs): calls go down only"
			bad=1
		fi
	done
done
[ $bad = 0 ] && echo "KREG-CHECK-PASS layers: every kmod/ file knows only the files below it"
exit $bad
