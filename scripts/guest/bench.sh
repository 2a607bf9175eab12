#!/bin/sh
# Runs inside the guest for `make bench`: kreg.ko, a D-Bus session bus, then
# kreg-bench, whose output the host cuts out between the markers.
insmod /kreg.ko || exit 1
mkdir -p /var/lib/dbus
# The address goes to a file: a pipe would stay open in the forked daemon.
dbus-daemon --config-file=/etc/dbus-bench.conf --fork --print-address=3 3>/tmp/dbus-address
DBUS_SESSION_BUS_ADDRESS=$(head -n 1 /tmp/dbus-address)
export DBUS_SESSION_BUS_ADDRESS
echo "D-Bus session bus: $DBUS_SESSION_BUS_ADDRESS"
echo "KREG-BENCH-BEGIN"
kreg-bench --entry-header "$(cat /entry-header)"
echo "KREG-BENCH-END"
