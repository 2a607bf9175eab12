#!/bin/sh
# What `make demo` shows: kreg.ko loaded, names registered, looked up, listed,
# a message sent by name, a name gone with its process, and a standby in line
# that holds a name the moment its holder dies.
say() { printf '\n$ %s\n' "$*"; }
# A command as it would be typed, so that it can be pasted: an argument with
# a space or a character the shell reads goes in single quotes.
quoted() {
	out=
	for a in "$@"; do
		case $a in
		'' | *[!A-Za-z0-9_./=:,@%+-]*)
			a="'$(printf '%s' "$a" | sed "s/'/'\\\\''/g")'" ;;
		esac
		out="$out${out:+ }$a"
	done
	printf '%s' "$out"
}
run() { say "$(quoted "$@")"; "$@"; echo "(exit status $?)"; }

run insmod /kreg.ko
say "kregctl monitor > /tmp/events &"
kregctl monitor >/tmp/events &
monitor=$!
sleep 1

say "kregctl register orders-db -n 2 &    # kregctl holds the name and prints its mail"
kregctl register orders-db -n 2 &
server=$!
say "sleep 600 &"
sleep 600 &
cache=$!
sleep 1
say "kregctl register cache \$! --meta 'role=lru size=512MiB'    # root may name any process, with a value"
kregctl register cache $cache --meta "role=lru size=512MiB"
echo "(exit status $?)"
run kregctl whereis orders-db
run kregctl await orders-db 1000
run kregctl register orders-db
run kregctl list
run kregctl send orders-db "hello, orders-db"
run kregctl send orders-db "second message: order 42 paid"
wait $server
run kregctl send cache "anyone there?"
say "kill $cache; wait"
kill $cache
wait $cache 2>/dev/null
run kregctl whereis cache
run kregctl whereis nobody
run kregctl register "orders.*"

say "# access control: a policy, loaded whole from a directory, and what it decides"
mkdir -p /tmp/policy.d
cat >/tmp/policy.d/10-orders.conf <<'POLICY'
# Only uid 1000 may run the orders service; group 1002 (billing) may use it.
allow own       orders-db  uid 1000
allow see,send  orders-db  gid 1002
# Everyone may see every name, and own names under app.
allow see       *          everyone
allow all       app.*      everyone
POLICY
say "cat /tmp/policy.d/10-orders.conf"
cat /tmp/policy.d/10-orders.conf
run kregctl policy load /tmp/policy.d
run kregctl policy show
run kregctl policy check 1000 orders-db own
run kregctl policy check 1001 orders-db send
run kregctl policy check 1001 user.1001.inbox own
run kregctl status
run kregctl policy unload

say "# BPF exit cleanup: names vanish the instant their process dies"
run kregctl bpf attach
if command -v bpftrace >/dev/null; then
	say "bpftrace -e 'tracepoint:kreg:* { ... }' &"
	bpftrace -e '
tracepoint:kreg:kreg_register, tracepoint:kreg:kreg_lookup { printf("%-24s name=%s pid=%d result=%d\n", probe, str(args->name), args->pid, args->result); }
tracepoint:kreg:kreg_unregister { printf("%-24s name=%s pid=%d reason=%d\n", probe, str(args->name), args->pid, args->reason); }
tracepoint:kreg:kreg_send { printf("%-24s name=%s sender=%d len=%d result=%d\n", probe, str(args->name), args->sender, args->len, args->result); }
tracepoint:kreg:kreg_exit_cleanup { printf("%-24s pid=%d released=%d\n", probe, args->pid, args->released); }' \
		>/tmp/bpftrace.out 2>&1 &
	tracer=$!
	i=0
	while ! grep -q Attaching /tmp/bpftrace.out 2>/dev/null && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
fi
say "sleep 600 &  kregctl register worker \$!"
sleep 600 &
worker=$!
kregctl register worker $worker
run kregctl whereis worker
run kregctl send orders-db "nobody holds this any more"
say "kill -9 $worker    # no lookup follows: the exit path itself releases the name"
kill -9 $worker
wait $worker 2>/dev/null
run kregctl list

say "# a hot standby: it waits in line, and holds the name the moment its holder dies"
say "sleep 600 &  kregctl register payments \$!"
sleep 600 &
primary=$!
kregctl register payments $primary
say "kregctl register payments --queue -n 1 &"
kregctl register payments --queue -n 1 &
standby=$!
sleep 1
run kregctl whereis payments
say "kill -9 $primary    # the standby (pid $standby) holds payments in the same step"
kill -9 $primary
wait $primary 2>/dev/null
run kregctl whereis payments
run kregctl send payments "handled by the standby"
wait $standby
run kregctl bpf status
run bpftool map dump pinned /sys/fs/bpf/kreg/stats
run bpftool prog show name kreg_exit
if [ -n "${tracer:-}" ]; then
	sleep 1
	kill -INT $tracer
	wait $tracer
	say "cat /tmp/bpftrace.out     # what bpftrace saw"
	cat /tmp/bpftrace.out
fi

sleep 1
kill $monitor
say "cat /tmp/events     # what kregctl monitor saw"
cat /tmp/events
run kregctl bpf detach
say "rmmod kreg    # retried while the detached program is being freed"
i=0
until rmmod kreg 2>/dev/null || [ $i -ge 20 ]; do sleep 0.5; i=$((i + 1)); done
echo "(kreg loaded: $(test -d /sys/module/kreg && echo yes || echo no))"
