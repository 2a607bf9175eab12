# Sourced by the scripts that boot kreg's QEMU guests: how their initramfs
# roots are made.

# A root at $1 with busybox and a link for each of its commands.
guest_root_base() {
	local root=$1 app
	rm -rf "$root"
	mkdir -p "$root"/{bin,proc,sys,dev,tmp,run,tests,etc}
	cp /bin/busybox "$root/bin/busybox"
	for app in $("$root/bin/busybox" --list); do
		[ -e "$root/bin/$app" ] || ln -s busybox "$root/bin/$app"
	done
}

# A dynamically linked program $2 from this machine into root $1, with the
# libraries it needs (to the same path in the guest, or to $3).
copy_program() {
	local root=$1 prog lib dest
	prog=$(command -v "$2") || return 1
	dest=${3:-$prog}
	mkdir -p "$root$(dirname "$dest")"
	cp -L "$prog" "$root$dest"
	for lib in $(ldd "$prog" | awk '/=> \//{print $3} /^\t\/lib/{print $1}'); do
		mkdir -p "$root$(dirname "$lib")"
		[ -e "$root$lib" ] || cp -L "$lib" "$root$lib"
	done
}

# Packs root $1 into the initramfs $2.
guest_pack() {
	(cd "$1" && find . | cpio -o -H newc --quiet | gzip -1) >"$2"
}
