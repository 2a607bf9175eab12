#!/usr/bin/env bash
# Installs what kreg needs to build, run in a QEMU guest and test, on Debian 12.
# Run as root (or through sudo). Safe to run again.
set -euo pipefail
packages=(
	make gcc libc6-dev binutils pkg-config perl python3 xz-utils
	linux-image-amd64 linux-headers-amd64 linux-image-rt-amd64 linux-headers-rt-amd64 linux-source-6.1
	libnl-3-dev libnl-genl-3-dev
	dwarves libelf-dev zlib1g-dev libbpf-dev bpftool clang llvm
	qemu-system-x86 busybox-static cpio
	libdbus-1-dev dbus-daemon gnuplot-nox jq
	# the sd-event example (examples/sd_event_server.c)
	libsystemd-dev
	# DKMS builds of kreg.ko (make dkms-build, check-dkms; dkms signs with openssl)
	dkms openssl
	# the Debian packages (make deb) and the Debian 12 guest that installs them
	build-essential debhelper dh-dkms lintian fakeroot debootstrap e2fsprogs
	# the debug kernel (scripts/debug-kernel/build.sh)
	flex bison bc libssl-dev
	# the cluster provider: kregd (libcurl, json-c) and the real etcd its tests run
	libcurl4-openssl-dev libjson-c-dev etcd-server etcd-client
)
# bpftrace is only for `make demo` (about 200 MB with its libraries): KREG_NO_BPFTRACE=1 skips it.
[ -n "${KREG_NO_BPFTRACE:-}" ] || packages+=(bpftrace)
if [ "$(id -u)" != 0 ]; then
	exec sudo "$0" "$@"
fi
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: everything kreg needs is installed"
