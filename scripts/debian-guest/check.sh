#!/bin/sh
# kreg's packages on a real Debian 12 system, at each boot of the guest
# (kreg-check.service, from the payload disk that run.sh made):
#   boot 1: install the packages (DKMS builds kreg.ko against the installed
#           headers), then reboot;
#   boot 2: what systemd did at boot, a service built against the installed
#           libkreg, stopping things; then a kernel upgrade: a second Debian
#           kernel and its headers installed (DKMS autoinstall builds kreg.ko
#           for it), and kexec into it;
#   boot 3: on the new kernel, kreg is back as systemd brings it up, with
#           exit cleanup; removing and purging.
# Each check prints KREG-CHECK-PASS or KREG-CHECK-FAIL; run.sh counts them.
export P=/mnt/payload
state=/var/lib/kreg-check
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

check() {
	what=$1
	shift
	if "$@" >/tmp/kreg-check.out 2>&1; then
		echo "KREG-CHECK-PASS $what"
	else
		echo "KREG-CHECK-FAIL $what"
		sed 's/^/    /' /tmp/kreg-check.out | tail -n 30
		return 1
	fi
}

# Waits up to 20 s for a command to succeed.
eventually() {
	i=0
	while ! "$@"; do
		i=$((i + 1))
		[ $i -lt 40 ] || return 1
		sleep 0.5
	done
}

name_held_by_demo() {
	pid=$(systemctl show -p MainPID --value kreg-demo)
	[ "$pid" -gt 0 ] && [ "$(kregctl whereis demo.svc)" = "$pid" ]
}

name_gone() {
	kregctl -j list | jq -e '[.names[] | select(.name == "demo.svc")] | length == 0'
}

if [ ! -f "$state/installed" ]; then
	echo "KREG-DEBIAN-BOOT 1: $(uname -r), systemd $(systemctl --version | head -n 1)"
	# kreg-dkms brings kreg.service, which runs kregctl: they go in together.
	check "dpkg installs kreg-dkms, libkreg4, libkreg-dev and kregctl; DKMS builds kreg.ko against the installed headers" \
		dpkg -i $P/kreg-dkms_*.deb $P/libkreg4_*.deb $P/libkreg-dev_*.deb $P/kregctl_*.deb
	# A failed build: what DKMS logged of it.
	if ! modinfo -n kreg >/dev/null 2>&1; then
		for f in /var/lib/dkms/kreg/*/build/make.log; do
			[ -f "$f" ] && tail -n 40 "$f" | sed 's/^/    make.log: /'
		done
	fi
	check "the module DKMS installed has BTF (for exit cleanup)" \
		sh -c 'readelf -S "$(modinfo -n kreg)" | grep -q " \.BTF "'
	check "kreg.service is enabled" systemctl is-enabled kreg.service
	touch "$state/installed"
	sync
	systemctl reboot
	exit 0
fi

# What systemd brings up at boot: the module, the unit, exit cleanup.
came_up_at_boot() {
	check "systemd loaded kreg.ko at boot" test -d /sys/module/kreg
	check "kreg.service is active" systemctl is-active kreg.service
	check "exit cleanup is attached and pinned" \
		sh -c 'kregctl -j bpf status | jq -e .attached && test -e /sys/fs/bpf/kreg'
}

# Removed while a service holds a name: kreg.ko stays, with exit cleanup, and
# says why; then purged, nothing is left.
removal_and_purge() {
	systemctl start kreg-demo
	eventually name_held_by_demo
	dpkg -r kreg-dkms >/tmp/kreg-remove.out 2>&1 || true
	sed 's/^/    dpkg -r: /' /tmp/kreg-remove.out | tail -n 5
	check "removing kreg-dkms while a name is held leaves kreg.ko loaded, and says so" sh -c \
		'grep -q "are held" /tmp/kreg-remove.out && test -d /sys/module/kreg &&
		 kregctl whereis demo.svc && kregctl -j bpf status | jq -e .attached'
	systemctl stop kreg-demo
	kregctl bpf detach >/dev/null 2>&1
	check "once the names are released, the module can go" eventually rmmod kreg
	dpkg -L kreg-dkms kregctl libkreg4 libkreg-dev 2>/dev/null | sort -u >/tmp/kreg-files
	check "dpkg purges the packages" dpkg --purge kregctl libkreg-dev libkreg4 kreg-dkms
	check "no module left in the kernel" sh -c '! test -d /sys/module/kreg'
	check "no module file left" sh -c '! find /lib/modules -name "kreg.ko*" | grep .'
	check "no DKMS state left" sh -c '! test -e /var/lib/dkms/kreg && ! ls -d /usr/src/kreg-* 2>/dev/null'
	check "no BPF pin left" sh -c '! test -e /sys/fs/bpf/kreg'
	check "no unit left" sh -c '! systemctl cat kreg.service'
	check "no file of the packages left" \
		sh -c 'while read -r f; do [ -d "$f" ] || ! [ -e "$f" ] || { echo "$f"; exit 1; }; done </tmp/kreg-files'
}

if [ -f "$state/upgraded" ]; then
	echo "KREG-DEBIAN-BOOT 3: $(uname -r)"
	check "the guest runs the kernel it was upgraded to" test "$(uname -r)" = "$(cat $state/upgraded)"
	came_up_at_boot
	check "the module loaded is the one DKMS built for this kernel" \
		sh -c 'test "$(cat /sys/module/kreg/srcversion)" = "$(modinfo -F srcversion \
			"$(find /lib/modules/$(uname -r) -name "kreg.ko*" | head -n 1)")"'
	systemctl start kreg-demo
	check "the service holds its name on the new kernel" eventually name_held_by_demo
	systemctl kill -s KILL kreg-demo
	check "its name goes when it is killed" eventually name_gone
	removal_and_purge
	echo "KREG-DEBIAN-DONE"
	systemctl poweroff
	exit 0
fi

echo "KREG-DEBIAN-BOOT 2"
came_up_at_boot
# How exposed the hardened unit is, as systemd rates it (README.md quotes it).
exposure=$(systemd-analyze security --no-pager kreg.service | tail -n 1 |
	   grep -o '[0-9][0-9]*\.[0-9]' | head -n 1)
echo "KREG-DEBIAN-INFO systemd-analyze security kreg.service: ${exposure:-?}"
check "systemd-analyze security rates kreg.service at most 5.0" \
	awk -v s="$exposure" 'BEGIN { exit !(s != "" && s + 0 <= 5.0) }'
check "systemctl status kreg shows kregctl status" \
	sh -c 'systemctl status kreg | grep -q "exit cleanup: attached"'
check "kregctl -j status says the module's version and the cleanup" \
	sh -c 'kregctl -j status | jq -e "(.version | length > 0) and .exit_cleanup"'
check "kregctl -j list output parses" sh -c 'kregctl -j list | jq -e ".names | type == \"array\""'
# debian/tests as autopkgtest's runner would run them (the guest is offline,
# so the runner, which resolves Depends with apt, is not there): each test
# of the control file as root, in a fresh AUTOPKGTEST_TMP; it fails on a
# non-zero exit, or on output to stderr (no test has allow-stderr).
autopkgtests() {
	for t in $(sed -n 's/^Tests: *//p' $P/autopkgtest/control | tr ',' ' '); do
		tmpd=$(mktemp -d)
		echo "autopkgtest $t:"
		# 77 is a skip to autopkgtest (skippable): here, where the module is built, a failure.
		if ! AUTOPKGTEST_TMP=$tmpd sh "$P/autopkgtest/$t" 2>"$tmpd.err"; then
			cat "$tmpd.err"
			return 1
		fi
		if [ -s "$tmpd.err" ]; then
			echo "autopkgtest $t wrote to stderr:"
			cat "$tmpd.err"
			return 1
		fi
	done
}
check "the autopkgtest (debian/tests: the installed packages together) passes" autopkgtests
check "a service builds against the installed libkreg through pkg-config" \
	sh -c 'cc -o /usr/local/bin/kreg-demo $P/kreg-demo.c $(pkg-config --cflags --libs kreg)'
cat >/etc/systemd/system/kreg-demo.service <<'UNIT'
[Unit]
Description=kreg demo service
[Service]
Type=exec
ExecStart=/usr/local/bin/kreg-demo demo.svc
UNIT
systemctl daemon-reload
check "the service starts under systemd" systemctl start kreg-demo
check "the service holds its name" eventually name_held_by_demo
check "the service answers a message" sh -c 'kregctl send demo.svc hello &&
	sleep 1 && journalctl -u kreg-demo | grep -q "kreg-demo: hello"'
check "systemctl stop of the service removes the name" \
	sh -c 'systemctl stop kreg-demo && ! kregctl whereis demo.svc'
check "the name leaves the table as the service stops" eventually name_gone
check "systemctl stop kreg detaches exit cleanup" \
	sh -c 'systemctl stop kreg && kregctl -j bpf status | jq -e ".attached == false" &&
	! test -e /sys/fs/bpf/kreg'

# A kernel upgrade on the installed host: the second kernel and its headers
# (make-root.sh put their debs in the root), DKMS autoinstall, then kexec
# into it (the guest has no bootloader: QEMU boots its first kernel).
new=$(cd $state/kernel && ls linux-image-*.deb | sed -E 's/^linux-image-([^_]+)_.*/\1/')
check "dpkg installs a second kernel, $new, with its headers" \
	sh -c "dpkg -i $state/kernel/*.deb"
if ! find /lib/modules/$new -name 'kreg.ko*' | grep -q .; then
	for f in /var/lib/dkms/kreg/*/build/make.log; do
		[ -f "$f" ] && tail -n 40 "$f" | sed 's/^/    make.log: /'
	done
fi
check "DKMS built and installed kreg.ko for $new" \
	sh -c "dkms status -k $new kreg | grep -q installed && find /lib/modules/$new -name 'kreg.ko*' | grep -q ."
echo "$new" >"$state/upgraded"
sync
# (systemctl kexec does not come back when it works: no check line for it.)
if ! check "kexec loads $new" \
	kexec -l /boot/vmlinuz-$new --initrd=/boot/initrd.img-$new --reuse-cmdline ||
	! { systemctl kexec || { echo "KREG-CHECK-FAIL systemctl kexec"; false; }; }; then
	# No boot 3 to come: the run ends here, its failure counted.
	echo "KREG-DEBIAN-DONE"
	systemctl poweroff
fi
exit 0
