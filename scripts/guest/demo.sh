#!/bin/sh
# What `make demo` shows: kreg.ko loaded, names registered, looked up, listed,
# a message sent by name, and a name gone with its process.
say() { printf '\n$ %s\n' "$*"; }
run() { say "$*"; "$@"; echo "(exit status $?)"; }

run insmod /kreg.ko
say "kregctl monitor > /tmp/events &"
kregctl monitor >/tmp/events &
monitor=$!
sleep 1

say "kregctl register orders-db -n 2 &    # kregctl holds the name and prints its mail"
kregctl register orders-db -n 2 &
server=$!
say "sleep 600 &  kregctl register cache \$!   # root may name any process"
sleep 600 &
cache=$!
sleep 1
run kregctl register cache $cache
run kregctl whereis orders-db
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
run kregctl register "bad name with a tab	here"
sleep 1
kill $monitor
say "cat /tmp/events     # what kregctl monitor saw"
cat /tmp/events
run rmmod kreg
