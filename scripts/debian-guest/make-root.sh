#!/usr/bin/env bash
# A Debian 12 root disk for the packaging test (run.sh): debootstrap with
# systemd as PID 1, Debian's kernel with its initramfs and headers, and what
# kreg's packages depend on (the guest has no network: dpkg -i must find every
# dependency installed), and, for the kernel upgrade that check.sh makes,
# the debs of a second Debian kernel with its headers (the same release's
# PREEMPT_RT flavour, from this machine's apt) and kexec to boot into it.
# Built once and kept in the cache, keyed by this script and the check unit;
# prints the image's path. About 6 minutes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${KREG_CACHE:-$HOME/.cache/kreg}
key=$(cat "$here/make-root.sh" "$here/kreg-check.service" | sha256sum | cut -c1-12)
img=$cache/debian-root-$key.img
if [ -f "$img" ] && [ -f "$img.vmlinuz" ] && [ -f "$img.initrd" ]; then
	echo "$img"
	exit 0
fi
mkdir -p "$cache"
mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}
packages=(
	systemd systemd-sysv udev kmod procps
	linux-image-amd64 linux-headers-amd64 initramfs-tools
	# kreg-dkms: DKMS and the module's BTF tools
	dkms openssl gcc make dwarves libbpf-dev
	# libkreg4, libkreg-dev, kregctl, and the checks
	libnl-3-dev libnl-genl-3-dev pkg-config jq
	# the kernel upgrade: booting the new kernel without a bootloader
	kexec-tools
)
dir=$(mktemp -d /var/tmp/kreg-debian-root.XXXXXX)
trap 'rm -rf "$dir"' EXIT
echo "make-root: debootstrap bookworm from $mirror (once; cached in $cache)" >&2
debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" bookworm "$dir" "$mirror" \
	>"$cache/debian-root-debootstrap.log" 2>&1 ||
	{ echo "make-root: debootstrap failed: $cache/debian-root-debootstrap.log" >&2; exit 1; }

echo kreg-debian >"$dir/etc/hostname"
echo "/dev/vda / ext4 defaults 0 1" >"$dir/etc/fstab"
install -m 0644 "$here/kreg-check.service" "$dir/etc/systemd/system/kreg-check.service"
mkdir -p "$dir/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/kreg-check.service \
	"$dir/etc/systemd/system/multi-user.target.wants/kreg-check.service"
mkdir -p "$dir/var/lib/kreg-check"
rm -rf "$dir/var/cache/apt/archives/"*.deb

kver=$(ls "$dir/lib/modules" | sort -V | tail -n 1)
# The second kernel, installed only by check.sh: its image and its headers.
abi=${kver%-amd64}
mkdir -p "$dir/var/lib/kreg-check/kernel"
(cd "$dir/var/lib/kreg-check/kernel" &&
	apt-get download "linux-image-$abi-rt-amd64" "linux-headers-$abi-rt-amd64" \
		"linux-headers-$abi-common-rt" >&2) ||
	{ echo "make-root: apt-get download of the $abi-rt-amd64 kernel failed" >&2; exit 1; }
# kexec is run by hand, once: reboots stay the ordinary ones.
echo 'LOAD_KEXEC=false' >"$dir/etc/default/kexec"
# The second kernel's initramfs, made in the guest: only the modules this
# machine boots with, not most of them (minutes of TCG less).
echo 'MODULES=dep' >"$dir/etc/initramfs-tools/conf.d/kreg-check"
cp "$dir/boot/vmlinuz-$kver" "$img.vmlinuz.tmp"
cp "$dir/boot/initrd.img-$kver" "$img.initrd.tmp"
truncate -s 4G "$img.tmp"
mkfs.ext4 -q -F -L kreg-root -d "$dir" "$img.tmp"
mv "$img.vmlinuz.tmp" "$img.vmlinuz"
mv "$img.initrd.tmp" "$img.initrd"
mv "$img.tmp" "$img"
echo "$img"
