#!/usr/bin/env bash
# A real etcd cluster for kreg's cluster tests, on this machine's loopback:
# three members (Debian's etcd-server 3.4), TLS everywhere with a CA made
# here by openssl, client certificates required, and auth on: each node has
# an etcd user of its own whose role may read and write /kreg/CLUSTER/ and
# nothing else. Guests reach it at 192.0.2.2 (QEMU's user network maps that
# to this machine's 127.0.0.1).
#
#   etcd.sh start DIR CLUSTER NODE...   make the PKI and users, start 3 members
#   etcd.sh stop DIR                    stop them all
#   etcd.sh kill DIR I | revive DIR I   stop / start member I (0-2)
#   etcd.sh leader DIR                  the member that leads (0-2)
#   etcd.sh compact DIR                 compact to the current revision
#   etcd.sh ctl DIR ARGS...             etcdctl as root
#
# Ports: client 2379 + 10*I + KREG_ETCD_PORT_OFFSET, peer one above.
# KREG_ETCD_DATA: where the members keep their data (default DIR); the
# benchmark puts it on a tmpfs, so that this machine's disk does not set
# how many writes a second the cluster takes.
set -euo pipefail
cmd=${1:?usage: etcd.sh start|stop|kill|revive|leader|compact|ctl DIR ...}
dir=${2:?DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data=${KREG_ETCD_DATA:-$dir}
mkdir -p "$data"
base=$((23790 + ${KREG_ETCD_PORT_OFFSET:-0}))
members=3

client_port() { echo $((base + 10 * $1)); }
peer_port() { echo $((base + 10 * $1 + 1)); }
endpoints() {
	local i list=
	for ((i = 0; i < members; i++)); do list+="${list:+,}https://127.0.0.1:$(client_port $i)"; done
	echo "$list"
}
ctl() {
	ETCDCTL_API=3 etcdctl --endpoints="$(endpoints)" --cacert="$dir/ca.crt" \
		--cert="$dir/admin.crt" --key="$dir/admin.key" --user="root:$(cat "$dir/root.password")" \
		--dial-timeout=2s --command-timeout=5s "$@"
}

# A key and a certificate signed by the CA: NAME, subject, extensions.
issue() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/$1.key" \
		-out "$dir/$1.csr" -subj "$2" 2>/dev/null
	openssl x509 -req -in "$dir/$1.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
		-CAcreateserial -out "$dir/$1.crt" -days 2 \
		-extfile <(printf '[e]\n%s\n' "$3") -extensions e 2>/dev/null
	rm -f "$dir/$1.csr"
	chmod 600 "$dir/$1.key"
}

pki() {
	[ -f "$dir/ca.crt" ] && return
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/ca.key" \
		-out "$dir/ca.crt" -days 2 -subj "/CN=kreg test cluster CA" 2>/dev/null
	issue server "/O=kreg test etcd" \
		"subjectAltName=IP:127.0.0.1,IP:192.0.2.2,DNS:localhost
extendedKeyUsage=serverAuth,clientAuth"
	# The gateway refuses a client certificate with a CommonName once auth
	# is on (it would not be used): nodes are named in subjectAltName.
	issue admin "/O=kreg test admin" "extendedKeyUsage=clientAuth"
}

member() {
	local i=$1 peers= j
	for ((j = 0; j < members; j++)); do peers+="${peers:+,}m$j=https://127.0.0.1:$(peer_port $j)"; done
	local state=new
	[ -d "$data/m$i" ] && state=existing
	setsid etcd --name "m$i" --data-dir "$data/m$i" \
		--listen-client-urls "https://127.0.0.1:$(client_port $i)" \
		--advertise-client-urls "https://127.0.0.1:$(client_port $i)" \
		--listen-peer-urls "https://127.0.0.1:$(peer_port $i)" \
		--initial-advertise-peer-urls "https://127.0.0.1:$(peer_port $i)" \
		--initial-cluster "$peers" --initial-cluster-state "$state" \
		--initial-cluster-token kreg-test \
		--cert-file "$dir/server.crt" --key-file "$dir/server.key" \
		--trusted-ca-file "$dir/ca.crt" --client-cert-auth \
		--peer-cert-file "$dir/server.crt" --peer-key-file "$dir/server.key" \
		--peer-trusted-ca-file "$dir/ca.crt" --peer-client-cert-auth \
		--experimental-watch-progress-notify-interval=1s \
		--logger=zap --log-level=error >>"$dir/m$i.log" 2>&1 </dev/null &
	echo $! >"$dir/m$i.pid"
}

healthy() {
	local i m
	for ((i = 0; i < 100; i++)); do
		for ((m = 0; m < members; m++)); do
			if ! kill -0 "$(cat "$dir/m$m.pid")" 2>/dev/null; then
				echo "etcd.sh: member $m exited: $(tail -n 1 "$dir/m$m.log")" >&2
				return 1
			fi
		done
		if ETCDCTL_API=3 etcdctl --endpoints="$(endpoints)" --cacert="$dir/ca.crt" \
			--cert="$dir/admin.crt" --key="$dir/admin.key" --dial-timeout=1s \
			endpoint health >/dev/null 2>&1 ||
		   ctl endpoint health >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	echo "etcd.sh: the cluster did not become healthy (see $dir/m*.log)" >&2
	return 1
}

# Users and roles: root, and one per node limited to /kreg/CLUSTER/.
auth() {
	local cluster=$1 node
	shift
	[ -f "$dir/root.password" ] && return
	local plain="ETCDCTL_API=3 etcdctl --endpoints=$(endpoints) --cacert=$dir/ca.crt --cert=$dir/admin.crt --key=$dir/admin.key"
	head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$dir/root.password"
	eval "$plain user add root:$(cat "$dir/root.password")" >/dev/null
	eval "$plain user grant-role root root" >/dev/null 2>&1 || true
	for node in "$@"; do
		head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$dir/$node.password"
		chmod 600 "$dir/$node.password"
		eval "$plain role add kreg-$node" >/dev/null
		eval "$plain role grant-permission kreg-$node --prefix=true readwrite /kreg/$cluster/" >/dev/null
		eval "$plain user add kreg-$node:$(cat "$dir/$node.password")" >/dev/null
		eval "$plain user grant-role kreg-$node kreg-$node" >/dev/null
		issue "$node" "/O=kreg test node" "subjectAltName=DNS:$node
extendedKeyUsage=clientAuth,serverAuth"
	done
	eval "$plain auth enable" >/dev/null
}

case "$cmd" in
start)
	cluster=${3:?CLUSTER}
	shift 3
	for ((i = 0; i < members; i++)); do
		for port in $(client_port $i) $(peer_port $i); do
			if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				echo "etcd.sh: port $port is taken (another etcd?); set KREG_ETCD_PORT_OFFSET" >&2
				exit 1
			fi
		done
	done
	pki
	for ((i = 0; i < members; i++)); do member $i; done
	healthy
	auth "$cluster" "$@"
	echo "$(endpoints)" >"$dir/endpoints"
	;;
stop)
	# Gone before this returns, so that the next start finds its ports free.
	pids=()
	for ((i = 0; i < members; i++)); do
		[ -f "$dir/m$i.pid" ] && pids+=("$(cat "$dir/m$i.pid")")
	done
	[ ${#pids[@]} -gt 0 ] || exit 0
	kill "${pids[@]}" 2>/dev/null || true
	for _ in $(seq 50); do
		alive=0
		for pid in "${pids[@]}"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		[ $alive = 1 ] || exit 0
		sleep 0.1
	done
	kill -9 "${pids[@]}" 2>/dev/null || true
	;;
kill)
	kill -9 "$(cat "$dir/m$3.pid")" 2>/dev/null || true
	;;
revive)
	member "$3"
	;;
leader)
	ctl endpoint status -w json 2>/dev/null | python3 -c '
import json, sys
for i, s in enumerate(json.load(sys.stdin)):
    if s["Status"]["leader"] == s["Status"]["header"]["member_id"]:
        print(s["Endpoint"].rsplit(":", 1)[1])' | while read -r port; do
		echo $(((port - base) / 10))
	done
	;;
compact)
	rev=$(ctl endpoint status -w json | python3 -c 'import json,sys; print(max(s["Status"]["header"]["revision"] for s in json.load(sys.stdin)))')
	ctl compact "$rev" >/dev/null
	echo "$rev"
	;;
ctl)
	shift 2
	ctl "$@"
	;;
*)
	echo "etcd.sh: unknown command $cmd" >&2
	exit 2
	;;
esac
