#!/usr/bin/env bash
# A cluster node for kreg's cluster tests: a QEMU guest (software
# emulation, one vCPU) with kreg.ko, kregd and kreg-agent, which reaches
# the test etcd (scripts/cluster/etcd.sh) through QEMU's user network at
# 192.0.2.2, and takes the tests' requests on a serial line of its own.
#
#   node.sh base DIR            the initramfs every node shares (once per run)
#   node.sh start DIR NAME      boot node NAME, in the background: DIR/NAME.agent
#                               (the agent's line), DIR/NAME.monitor (QEMU's
#                               monitor: set_link u0 off|on), DIR/NAME.pid,
#                               DIR/NAME.console (kernel and kregd)
#   node.sh stop DIR NAME       power it off (kill QEMU)
#
# Each node's relay (peer links) listens on 7946 in the guest, forwarded
# from this machine's 127.0.0.1:RELAY_PORT (23890 + KREG_ETCD_PORT_OFFSET +
# the node's number), which is the address it publishes: the other nodes
# dial 192.0.2.2:RELAY_PORT, QEMU's way to this machine. Guest ports 7947
# and 7948 (the benchmark's raw echo servers) come from 23900 and 23910 +
# the same.
#
# KVER names the guest kernel (default: scripts/kernels.sh default); its
# kreg.ko is $BUILD/KVER/kmod/kreg.ko.
set -euo pipefail
cmd=${1:?usage: node.sh base|start|stop DIR [NAME]}
dir=${2:?DIR}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"
KVER=${KVER:-$(scripts/kernels.sh default)}
BUILD=${BUILD:-build}
# shellcheck source=../guest/root.sh
. scripts/guest/root.sh

base() {
	local root=$dir/root-base
	guest_root_base "$root"
	cp "$BUILD/$KVER/kmod/kreg.ko" "$root/kreg.ko"
	cp "$(find "/lib/modules/$KVER" -name e1000.ko | head -n 1)" "$root/e1000.ko"
	cp "$BUILD/guest/kregctl" "$root/bin/kregctl"
	cp "$BUILD/guest/kreg-agent" "$root/bin/kreg-agent"
	# KREGD: another kregd to run (scripts/cluster/prove-checker.sh's).
	copy_program "$root" "${KREGD:-$BUILD/kregd}" /bin/kregd
	# The cluster benchmark's part in a node, when it is built (make bench-cluster).
	if [ -x "$BUILD/kreg-cluster-bench" ]; then
		copy_program "$root" "$BUILD/kreg-cluster-bench" /bin/kreg-cluster-bench
	fi
	cp "$here/node-init" "$root/init"
	chmod +x "$root/init"
	echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
	echo "root:x:0:" >"$root/etc/group"
	guest_pack "$root" "$dir/base.cpio.gz"
	rm -rf "$root"
}

start() {
	local name=$1
	local root=$dir/root-$name endpoints= port
	local relay_port=$((23890 + ${KREG_ETCD_PORT_OFFSET:-0} + ${name#node}))
	# The benchmark's raw TCP and TLS echo servers (kreg-cluster-bench serve 7947 7948).
	local tcp_port=$((23900 + ${KREG_ETCD_PORT_OFFSET:-0} + ${name#node}))
	local tls_port=$((23910 + ${KREG_ETCD_PORT_OFFSET:-0} + ${name#node}))
	for port in $(sed 's/,/ /g; s|https://127.0.0.1:||g' "$dir/endpoints"); do
		endpoints+="${endpoints:+, }https://192.0.2.2:$port"
	done
	rm -rf "$root"
	mkdir -p "$root/etc/kreg/cluster"
	cat >"$root/etc/kreg/cluster.conf" <<-EOF
	# Node $name of the test cluster (scripts/cluster/node.sh).
	cluster = ${KREG_CLUSTER_NAME:-test}
	node = $name
	endpoints = $endpoints
	ca = /etc/kreg/cluster/ca.crt
	cert = /etc/kreg/cluster/node.crt
	key = /etc/kreg/cluster/node.key
	user = kreg-$name
	password_file = /etc/kreg/cluster/password
	lease_ttl = ${KREG_LEASE_TTL:-3}
	fence_margin_ms = ${KREG_FENCE_MARGIN_MS:-700}
	relay_listen = 0.0.0.0:7946
	relay_address = 192.0.2.2:$relay_port
	EOF
	cp "$dir/ca.crt" "$root/etc/kreg/cluster/ca.crt"
	cp "$dir/$name.crt" "$root/etc/kreg/cluster/node.crt"
	cp "$dir/$name.key" "$root/etc/kreg/cluster/node.key"
	cp "$dir/$name.password" "$root/etc/kreg/cluster/password"
	chmod 600 "$root/etc/kreg/cluster.conf" "$root/etc/kreg/cluster/"*
	echo "$name" >"$root/etc/hostname"
	guest_pack "$root" "$dir/$name.cpio.gz"
	cat "$dir/base.cpio.gz" "$dir/$name.cpio.gz" >"$dir/$name.initrd"
	rm -rf "$root" "$dir/$name.agent" "$dir/$name.monitor"
	# Addresses from the documentation ranges only; the host (and etcd) is 192.0.2.2.
	# ttyS0 is the console (to DIR/NAME.console), ttyS1 the agent's line.
	setsid qemu-system-x86_64 -accel tcg -cpu max -m 768 -smp 1 -display none -no-reboot \
		-kernel "$(scripts/kernels.sh image "$KVER")" -initrd "$dir/$name.initrd" \
		-append "console=ttyS0 panic=-1 quiet slab_nomerge" \
		-netdev "user,id=u0,net=192.0.2.0/24,host=192.0.2.2,restrict=off,hostfwd=tcp:127.0.0.1:$relay_port-:7946,hostfwd=tcp:127.0.0.1:$tcp_port-:7947,hostfwd=tcp:127.0.0.1:$tls_port-:7948" \
		-device e1000,netdev=u0 \
		-chardev "socket,id=agent,path=$dir/$name.agent,server=on,wait=off" \
		-serial stdio -serial chardev:agent \
		-monitor "unix:$dir/$name.monitor,server,nowait" \
		</dev/null >"$dir/$name.console" 2>&1 &
	echo $! >"$dir/$name.pid"
}

case "$cmd" in
base) base ;;
start) start "${3:?NAME}" ;;
stop)
	kill -9 "$(cat "$dir/${3:?NAME}.pid")" 2>/dev/null || true
	;;
*)
	echo "node.sh: unknown command $cmd" >&2
	exit 2
	;;
esac
