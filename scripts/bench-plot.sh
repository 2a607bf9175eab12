#!/usr/bin/env bash
# Turns kreg-bench's BENCH-DATA lines into a PNG: median time per operation
# (log scale) for each peer, and kreg's scale and exit-to-gone rows.
#   bench-plot.sh RAW_OUTPUT OUT.png
set -euo pipefail
raw=${1:?usage: bench-plot.sh RAW OUT.png}
png=${2:?usage: bench-plot.sh RAW OUT.png}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# One row per operation, one column per peer ("-" where a peer has no such row).
grep '^BENCH-DATA' "$raw" | awk -F'|' -v peers="kreg kreg-nl genetlink local dbus pidfile unix-dgram" '
BEGIN { n = split(peers, p, " ") }
$2 !~ /names|exit|policy/ { if (!($2 in seen)) { seen[$2] = 1; order[++rows] = $2 } t[$2, $3] = $6 }
END {
	printf "op"; for (i = 1; i <= n; i++) printf "\t%s", p[i]; printf "\n"
	for (r = 1; r <= rows; r++) {
		printf "\"%s\"", order[r]
		for (i = 1; i <= n; i++) printf "\t%s", ((order[r], p[i]) in t) ? t[order[r], p[i]] : "-"
		printf "\n"
	}
}' >"$dir/peers.dat"
grep '^BENCH-DATA' "$raw" | awk -F'|' '$2 ~ /names|exit/ {
	who = $3 ~ /^\(/ ? $3 : "(" $3 ")"
	printf "\"%s %s\"\t%s\n", $2, who, $6
}' \
	>"$dir/kreg.dat"

gnuplot <<GP
set terminal pngcairo size 1400,900 font "sans,10"
set output "$png"
set datafile missing "-"
set datafile separator "\t"
set multiplot layout 2,1 title "kreg-bench: median time per operation (lower is better), $(date -u +%Y-%m-%d)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel "microseconds per operation"
set grid ytics
set key top left
set xtics rotate by -15
plot for [i=2:8] "$dir/peers.dat" using i:xtic(1) title columnheader(i)
unset key
set yrange [0.1:*]
set offsets 0, 0, graph 0.15, 0
set title "kreg at scale, and how long a dead process's name stays visible"
plot "$dir/kreg.dat" using 2:xtic(1) lc rgb "#1f77b4"
unset multiplot
GP
