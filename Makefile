# kreg: the module, libkreg, kregctl, and the tests that run them.
#
#   make             the module (build/KVER/kmod/kreg.ko), libkreg and kregctl
#   make demo        boot a QEMU guest, load kreg.ko and show it working
#   make check       host tests, then every kernel test in a QEMU guest, on each
#                    Debian kernel installed: generic, then PREEMPT_RT
#   make check-debug every kernel test on the debug kernel (KASAN, lockdep,
#                    kmemleak), built first if this machine has none yet
#   make check-all   both, with one summary (what CI runs)
#   make bench       kreg against D-Bus, pidfiles and Unix sockets in the guest: table + plot;
#                    then the local provider on the host (make bench-local), and the
#                    cluster provider on a real etcd with two guests (make bench-cluster)
#   make checkpatch  the kernel's style checker on kmod/
#   make setup       install the Debian packages all of this needs (root)
#
# KVER picks the kernel: by default Debian's generic one (scripts/kernels.sh
# default), never the PREEMPT_RT one by accident. `make check KVER=...` runs
# the suite on that kernel only.

ifeq ($(origin KVER),undefined)
KVER := $(shell scripts/kernels.sh default)
endif
KDIR ?= $(shell scripts/kernels.sh kdir $(KVER))
BUILD := build
KSRC := $(BUILD)/ksrc
SELFTESTS := $(KSRC)/tools/testing/selftests

CC ?= gcc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror
NL_CFLAGS := $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null)
NL_LIBS := $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null)
INCLUDES := -Ilib/include -Ikmod/include/uapi $(NL_CFLAGS)
USER_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CPPFLAGS) $(CFLAGS) $(INCLUDES)
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# The harness uses GNU C; the tests keep every other warning.
TEST_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Werror $(CFLAGS) \
	$(INCLUDES) -Ilib -I$(SELFTESTS) -Itests

KTOOLS := $(SELFTESTS)/kselftest_harness.h
# Each kernel's module is built in a directory of its own, from links to kmod/.
MODDIR := $(BUILD)/$(KVER)/kmod
KO := $(MODDIR)/kreg.ko
KMOD_FILES := $(wildcard kmod/*.c kmod/*.h) kmod/Kbuild
# The BTF base for the module: the debug tree's own vmlinux, or one extracted
# from the Debian image.
TREE_VMLINUX := $(shell scripts/kernels.sh vmlinux $(KVER))
KDIR := $(KDIR)
VMLINUX := $(or $(TREE_VMLINUX),$(BUILD)/$(KVER)/vmlinux)
# BPF programs are CO-RE: one build, typed from the default kernel, runs on all.
BPF_KVER := $(shell scripts/kernels.sh default)
BPF_VMLINUX := $(BUILD)/$(BPF_KVER)/vmlinux
# Fills in the module's BTF ids (what the kernel's resolve_btfids does); DKMS uses it too.
BTF_IDS := $(BUILD)/kreg-btf-ids
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -I$(BUILD)/bpf -Ibpf
BPF_LIBS := $(shell pkg-config --libs libbpf 2>/dev/null)
BPF_STATIC_LIBS := $(shell pkg-config --libs --static libbpf 2>/dev/null)
KREGCTL_SRCS := $(wildcard tools/kregctl/*.c) bpf/cleanup.c
KREGCTL_DEPS := $(KREGCTL_SRCS) tools/kregctl/kregctl.h bpf/cleanup.h bpf/kreg_exit.h \
	$(BUILD)/libkreg.a \
	$(BUILD)/bpf/kreg_exit.skel.h

# The generic API in lib/, each provider in a folder of its own (lib/kernel,
# lib/local, lib/cluster).
LIB_SRCS := $(wildcard lib/*.c lib/*/*.c)
LIB_HDRS := lib/include/kreg.h $(wildcard lib/*.h lib/*/*.h) kmod/include/uapi/linux/kreg.h
LIB_CFLAGS := $(USER_CFLAGS) -Ilib
LIB_SO_VERSION := 4
KERNEL_TESTS := $(patsubst tests/kernel/%.c,%,$(wildcard tests/kernel/*_test.c))
HOST_TESTS := $(patsubst tests/host/%.c,%,$(wildcard tests/host/*_test.c))
# Tests of the behaviour on both providers: on the host, the local one only.
BOTH_PROVIDER_TESTS := registration_test server_loop_test supervision_test update_test queue_test

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
PKGLIBDIR ?= $(PREFIX)/lib/kreg

.SECONDARY:

.PHONY: all module lib kregctl kregd guest-bins check-cluster host-tests examples check check-host check-guest \
	check-debug check-all demo bench bench-local bench-cluster checkpatch setup install clean man \
	dkms-source dkms-build check-dkms deb check-debian

all: module lib kregctl kregd man

# --- man pages -----------------------------------------------------------------

# libkreg(3) is written from kreg.h, and fails if a public function is missing.
man: $(BUILD)/man/libkreg.3

$(BUILD)/man/libkreg.3: scripts/man-libkreg.py lib/include/kreg.h docs/man/libkreg.3.in \
		lib/libkreg.map
	@mkdir -p $(dir $@)
	rm -rf $(BUILD)/man/links
	python3 scripts/man-libkreg.py lib/include/kreg.h docs/man/libkreg.3.in \
		lib/libkreg.map $(BUILD)/man/links >$@.tmp && mv $@.tmp $@

setup:
	bash scripts/setup-debian.sh

# --- the module --------------------------------------------------------------

module: $(KO)

# Kbuild skips BTF for out-of-tree modules when the headers have no vmlinux;
# the kfunc set needs it, so it is made here against the kernel's vmlinux.
$(KO): $(KMOD_FILES) kmod/include/uapi/linux/kreg.h $(VMLINUX) $(KTOOLS) $(BTF_IDS)
	@mkdir -p $(MODDIR)
	@find $(MODDIR) -maxdepth 1 -xtype l -delete
	@ln -sfn $(CURDIR)/kmod/include $(MODDIR)/include
	@ln -sf $(addprefix $(CURDIR)/,$(KMOD_FILES)) $(MODDIR)/
	@rm -f $@
	$(MAKE) -C $(KDIR) M=$(abspath $(MODDIR)) modules 2>&1 | grep -v '^Skipping BTF generation' || true
	@test -f $@
	@if ! readelf -S $@ | grep -qE '[[:space:]]\.BTF[[:space:]]'; then \
		echo "  BTF     $@"; \
		pahole -J --btf_base $(VMLINUX) $@ && $(BTF_IDS) $(VMLINUX) $@; \
	fi

$(BTF_IDS): scripts/btf-ids/kreg-btf-ids.c
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -o $@ $< -lbpf

# module-KVER: the module for another kernel than KVER.
module-%:
	@$(MAKE) --no-print-directory module KVER=$*

$(KTOOLS):
	bash scripts/kernel-tools.sh $(KSRC)

$(BUILD)/%/vmlinux: $(KTOOLS)
	@mkdir -p $(dir $@)
	$(KSRC)/scripts/extract-vmlinux $$(scripts/kernels.sh image $*) >$@.tmp && mv $@.tmp $@

# --- BPF programs: CO-RE objects and their skeletons -------------------------

$(BUILD)/bpf/vmlinux.h: $(BPF_VMLINUX)
	@mkdir -p $(dir $@)
	bpftool btf dump file $< format c >$@.tmp && mv $@.tmp $@

# DWARF is dropped (llvm-strip -g); the BTF that CO-RE needs stays. The
# shipped program has its kernel types in bpf/kernel_types.h: no build
# machine's kernel goes into it. The tests' programs use vmlinux.h.
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h)
	@mkdir -p $(dir $@)
	clang $(BPF_CFLAGS) -c $< -o $@ && llvm-strip -g $@

$(BUILD)/bpf/%.bpf.o: tests/kernel/%.bpf.c $(BUILD)/bpf/vmlinux.h
	clang $(BPF_CFLAGS) -c $< -o $@ && llvm-strip -g $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	bpftool gen skeleton $< name $* >$@.tmp && mv $@.tmp $@

# --- libkreg -----------------------------------------------------------------

lib: $(BUILD)/libkreg.so $(BUILD)/libkreg.a $(BUILD)/kreg.pc

$(BUILD)/lib/pic/%.o: lib/%.c $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -fPIC -c $< -o $@

$(BUILD)/lib/%.o: lib/%.c $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(BUILD)/lib/asan/%.o: lib/%.c $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) $(SANITIZE) -c $< -o $@

$(BUILD)/libkreg.so: $(LIB_SRCS:lib/%.c=$(BUILD)/lib/pic/%.o) lib/libkreg.map
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libkreg.so.$(LIB_SO_VERSION) \
		-Wl,--version-script=lib/libkreg.map -o $@.$(LIB_SO_VERSION) \
		$(filter %.o,$^) $(NL_LIBS)
	ln -sf libkreg.so.$(LIB_SO_VERSION) $@

$(BUILD)/libkreg.a: $(LIB_SRCS:lib/%.c=$(BUILD)/lib/%.o)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libkreg-asan.a: $(LIB_SRCS:lib/%.c=$(BUILD)/lib/asan/%.o)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/kreg.pc: lib/kreg.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(KREG_VERSION)|' $< > $@

# --- kregctl -----------------------------------------------------------------

kregctl: $(BUILD)/kregctl

$(BUILD)/kregctl: $(KREGCTL_DEPS)
	$(CC) $(USER_CFLAGS) $(LDFLAGS) -DKREGCTL_VERSION=\"$(KREG_VERSION)\" -I$(BUILD)/bpf -Ibpf -o $@ \
		$(KREGCTL_SRCS) $(BUILD)/libkreg.a \
		$(NL_LIBS) $(BPF_LIBS)

# --- kregd: the cluster provider's node daemon (etcd through libcurl, json-c) ---

KREGD_SRCS := $(wildcard tools/kregd/*.c)
KREGD_DEPS := $(KREGD_SRCS) $(wildcard tools/kregd/*.h) lib/cluster/protocol.h $(BUILD)/libkreg.a
KREGD_CFLAGS := $(USER_CFLAGS) -Ilib/cluster $(shell pkg-config --cflags libcurl json-c openssl 2>/dev/null)
KREGD_LIBS := $(shell pkg-config --libs libcurl json-c openssl 2>/dev/null)

kregd: $(BUILD)/kregd

$(BUILD)/kregd: $(KREGD_DEPS)
	$(CC) $(KREGD_CFLAGS) $(LDFLAGS) -o $@ $(KREGD_SRCS) $(BUILD)/libkreg.a $(NL_LIBS) \
		$(KREGD_LIBS) -lpthread

# --- what the guest runs: static, so the initramfs needs no libraries ---------

# The hot standby example runs in the guest too (queue_test starts it).
guest-bins: $(BUILD)/guest/kregctl $(KERNEL_TESTS:%=$(BUILD)/guest/tests/%) \
	$(BUILD)/examples/hot_standby

$(BUILD)/guest/kregctl: $(KREGCTL_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -DKREGCTL_VERSION=\"$(KREG_VERSION)\" -I$(BUILD)/bpf -Ibpf -static -o $@ \
		$(KREGCTL_SRCS) $(BUILD)/libkreg.a \
		$(NL_LIBS) $(BPF_STATIC_LIBS) -lpthread

# The cluster tests' agent in each node (tests/cluster/agent.c).
$(BUILD)/guest/kreg-agent: tests/cluster/agent.c tests/cluster/mail.c tests/cluster/mail.h \
		$(BUILD)/libkreg.a
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -static -o $@ tests/cluster/agent.c tests/cluster/mail.c \
		$(BUILD)/libkreg.a $(NL_LIBS) -lpthread

# The cluster suite, on this machine: etcd here, nodes in QEMU guests.
$(BUILD)/cluster-test: tests/cluster/cluster_test.c $(wildcard tests/cluster/*.h) \
		tools/kregd/peer_wire.h $(BUILD)/libkreg.a $(KTOOLS)
	$(CC) $(TEST_CFLAGS) -Itools/kregd -o $@ $< $(BUILD)/libkreg.a $(NL_LIBS) -lpthread \
		-lssl -lcrypto

TEST_SKELS := $(patsubst tests/kernel/%.bpf.c,$(BUILD)/bpf/%.skel.h,$(wildcard tests/kernel/*.bpf.c))

$(BUILD)/guest/tests/%: tests/kernel/%.c $(wildcard tests/kernel/*.h) $(BUILD)/libkreg.a $(KTOOLS) \
		$(BUILD)/bpf/kreg_exit.skel.h $(TEST_SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -I$(BUILD)/bpf -Ibpf -static -o $@ $< bpf/cleanup.c $(BUILD)/libkreg.a \
		$(NL_LIBS) $(BPF_STATIC_LIBS) -lpthread

# --- examples: servers in a program's own loop (run by tests/host/examples_test.c),
# and a hot standby (run by tests/kernel/queue_test.c in the guest)

SYSTEMD_CFLAGS := $(shell pkg-config --cflags libsystemd 2>/dev/null)
SYSTEMD_LIBS := $(shell pkg-config --libs libsystemd 2>/dev/null)
EXAMPLES := epoll_server sd_event_server hot_standby

examples: $(EXAMPLES:%=$(BUILD)/examples/%)

$(BUILD)/examples/%: examples/%.c examples/counter.c examples/counter.h $(BUILD)/libkreg.a
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(if $(filter sd_event%,$*),$(SYSTEMD_CFLAGS)) -o $@ $< \
		examples/counter.c $(BUILD)/libkreg.a $(NL_LIBS) -lpthread \
		$(if $(filter sd_event%,$*),$(SYSTEMD_LIBS))

# --- tests -------------------------------------------------------------------

host-tests: $(HOST_TESTS:%=$(BUILD)/host-tests/%) $(BOTH_PROVIDER_TESTS:%=$(BUILD)/host-tests/%) \
	examples

$(BOTH_PROVIDER_TESTS:%=$(BUILD)/host-tests/%): $(BUILD)/host-tests/%: tests/kernel/%.c \
		$(BUILD)/libkreg-asan.a $(KTOOLS)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(SANITIZE) -DKREG_LOCAL_ONLY -o $@ $< $(BUILD)/libkreg-asan.a \
		$(NL_LIBS) -lpthread

$(BUILD)/host-tests/%: tests/host/%.c $(BUILD)/libkreg-asan.a $(KTOOLS)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(SANITIZE) -o $@ $< $(BUILD)/libkreg-asan.a $(NL_LIBS) -lpthread

check-host: host-tests kregctl $(BUILD)/libkreg.so
	BUILD=$(BUILD) bash tests/run-host.sh

check-guest: module guest-bins
	KVER=$(KVER) BUILD=$(BUILD) bash scripts/guest/boot.sh test

# The kernels `make check` runs on: only KVER when it is given, else all.
CHECK_KVERS := $(if $(filter file,$(origin KVER)),$(shell scripts/kernels.sh all),$(KVER))
DEBUG_KERNEL := scripts/debug-kernel/build.sh

check: lib kregctl host-tests guest-bins $(CHECK_KVERS:%=module-%)
	KVERS="$(CHECK_KVERS)" BUILD=$(BUILD) bash tests/run-all.sh

# The debug kernel is built once per machine (about 15 min on 2 cores).
check-debug: guest-bins
	bash $(DEBUG_KERNEL) >/dev/null
	$(MAKE) --no-print-directory module KVER=$$(bash $(DEBUG_KERNEL) --release)
	KVERS="$$(bash $(DEBUG_KERNEL) --release)" KREG_HOST_TESTS=0 BUILD=$(BUILD) \
		bash tests/run-all.sh

# The packages are built first: their build must not race the others.
check-all: deb
	$(MAKE) --no-print-directory lib kregctl host-tests guest-bins $(CHECK_KVERS:%=module-%) \
		dkms-build kregd $(BUILD)/guest/kreg-agent $(BUILD)/cluster-test
	bash $(DEBUG_KERNEL) >/dev/null
	$(MAKE) --no-print-directory module KVER=$$(bash $(DEBUG_KERNEL) --release)
	KVERS="$(CHECK_KVERS) $$(bash $(DEBUG_KERNEL) --release)" DKMS_KVERS="$(CHECK_KVERS)" \
		KREG_KO_DIR=$(DKMS_TREE) DEBIAN_DEBS=$(BUILD)/deb DEBIAN_BESIDE=1 KREG_CLUSTER=1 \
		BUILD=$(BUILD) bash tests/run-all.sh

demo: module guest-bins
	KVER=$(KVER) BUILD=$(BUILD) bash scripts/guest/boot.sh demo

# --- benchmarks: linked dynamically (libdbus needs libsystemd, which has no
# static archive); boot.sh copies the libraries into the guest ----------------

BENCH_SRCS := $(wildcard tools/kreg-bench/*.c) bpf/cleanup.c
DBUS_CFLAGS := $(shell pkg-config --cflags dbus-1 2>/dev/null)
DBUS_LIBS := $(shell pkg-config --libs dbus-1 2>/dev/null)

$(BUILD)/kreg-bench: $(BENCH_SRCS) tools/kreg-bench/bench.h $(BUILD)/libkreg.a \
		$(BUILD)/bpf/kreg_exit.skel.h
	$(CC) $(USER_CFLAGS) $(DBUS_CFLAGS) -I$(BUILD)/bpf -Ibpf -o $@ $(BENCH_SRCS) \
		$(BUILD)/libkreg.a $(NL_LIBS) $(BPF_LIBS) $(DBUS_LIBS)

bench: module guest-bins $(BUILD)/kreg-bench bench-local
	KVER=$(KVER) BUILD=$(BUILD) bash scripts/guest/boot.sh bench
	$(MAKE) --no-print-directory bench-cluster

# The local provider needs no module: it is measured on the host itself.
bench-local: $(BUILD)/kreg-bench
	@mkdir -p $(BUILD)/bench
	$(BUILD)/kreg-bench --local >$(BUILD)/bench/local-raw.txt
	grep -v '^BENCH-DATA' $(BUILD)/bench/local-raw.txt >$(BUILD)/bench/local.txt
	@cat $(BUILD)/bench/local.txt

# The cluster provider's figures on the cluster suite's parts: in_node.c
# runs in node1 (through its agent), driver.c here; both speak to etcd
# through kregd's own client.
CLUSTER_BENCH_ETCD := tools/kregd/etcd.c tools/kregd/config.c tools/kregd/log.c
CLUSTER_BENCH_DEPS := $(CLUSTER_BENCH_ETCD) $(wildcard tools/kregd/*.h) $(BUILD)/libkreg.a

$(BUILD)/kreg-cluster-bench: tools/kreg-bench/cluster/in_node.c tools/kreg-bench/cluster/messages.c \
		tools/kreg-bench/cluster/messages.h tools/kreg-bench/cluster/stats.h $(CLUSTER_BENCH_DEPS)
	$(CC) $(KREGD_CFLAGS) -Itools/kregd $(LDFLAGS) -o $@ tools/kreg-bench/cluster/in_node.c \
		tools/kreg-bench/cluster/messages.c $(CLUSTER_BENCH_ETCD) \
		$(BUILD)/libkreg.a $(NL_LIBS) $(KREGD_LIBS)

$(BUILD)/cluster-bench: tools/kreg-bench/cluster/driver.c $(wildcard tests/cluster/*.h) \
		$(CLUSTER_BENCH_DEPS)
	$(CC) $(KREGD_CFLAGS) -Itools/kregd -Itests/cluster $(LDFLAGS) -o $@ $< \
		$(CLUSTER_BENCH_ETCD) $(BUILD)/libkreg.a $(NL_LIBS) $(KREGD_LIBS) -lm

bench-cluster: module guest-bins kregd $(BUILD)/guest/kreg-agent $(BUILD)/kreg-cluster-bench \
		$(BUILD)/cluster-bench
	KVER=$(KVER) BUILD=$(BUILD) bash scripts/cluster/bench.sh

# kreg across hosts: a real etcd cluster here, two nodes as QEMU guests.
check-cluster: module guest-bins kregd $(BUILD)/guest/kreg-agent $(BUILD)/cluster-test
	KVER=$(KVER) BUILD=$(BUILD) bash scripts/cluster/run.sh

checkpatch: $(KTOOLS)
	perl $(KSRC)/scripts/checkpatch.pl --no-tree -f --terse \
		$(filter-out %.mod.c,$(wildcard kmod/*.c)) $(wildcard kmod/*.h) \
		kmod/include/uapi/linux/kreg.h

# --- DKMS --------------------------------------------------------------------

KREG_VERSION := $(shell sed -n 's/.*KREG_VERSION\t*"\(.*\)"/\1/p' kmod/version.h)
DKMS_SRC = $(DESTDIR)/usr/src/kreg-$(KREG_VERSION)

# The source tree DKMS builds from: the module, its BTF tools, dkms.conf
# (DKMS_CONF= leaves dkms.conf out: Debian's dh_dkms installs it).
DKMS_CONF ?= 1
dkms-source:
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)/kmod/include/uapi/linux $(DKMS_SRC)/btf-ids
	install -m 0644 $(filter-out kmod/Kbuild,$(KMOD_FILES)) kmod/Kbuild $(DKMS_SRC)/kmod/
	install -m 0644 kmod/include/uapi/linux/kreg.h $(DKMS_SRC)/kmod/include/uapi/linux/
	install -m 0644 scripts/btf-ids/kreg-btf-ids.c $(DKMS_SRC)/btf-ids/
	install -m 0755 dkms/dkms-build.sh $(DKMS_SRC)/
	$(if $(DKMS_CONF),sed 's/@VERSION@/$(KREG_VERSION)/' dkms/dkms.conf >$(DKMS_SRC)/dkms.conf)

# dkms add and build, in a tree of the build's own, for each Debian kernel.
DKMS_DIR := $(BUILD)/dkms
DKMS_TREE = $(abspath $(DKMS_DIR))/tree/kreg/$(KREG_VERSION)
dkms-build:
	rm -rf $(DKMS_DIR)
	$(MAKE) --no-print-directory dkms-source DESTDIR=$(abspath $(DKMS_DIR))/root
	mkdir -p $(DKMS_DIR)/tree
	dkms add -m kreg -v $(KREG_VERSION) --sourcetree $(abspath $(DKMS_DIR))/root/usr/src \
		--dkmstree $(abspath $(DKMS_DIR))/tree >/dev/null
	set -e; for k in $(CHECK_KVERS); do \
		dkms build -m kreg -v $(KREG_VERSION) -k $$k --sourcetree $(abspath $(DKMS_DIR))/root/usr/src \
			--dkmstree $(abspath $(DKMS_DIR))/tree >$(DKMS_DIR)/build-$$k.log 2>&1 \
			|| { cat $(DKMS_DIR)/build-$$k.log; exit 1; }; \
		readelf -S $(DKMS_TREE)/$$k/*/module/kreg.ko | grep -q ' \.BTF ' \
			|| { echo "dkms-build: $$k: kreg.ko has no BTF"; exit 1; }; \
	done

# The guest's exit cleanup and view tests on the modules DKMS built.
check-dkms: guest-bins dkms-build
	DKMS_KVERS="$(CHECK_KVERS)" KREG_KO_DIR=$(DKMS_TREE) KVERS= KREG_HOST_TESTS=0 \
		BUILD=$(BUILD) bash tests/run-all.sh

# --- Debian packages -----------------------------------------------------------

# kreg-dkms, libkreg4, libkreg-dev, kregctl and kregd (debian/), built by
# dpkg-buildpackage in ../ and moved to build/deb; then lintian on them.
DEB_FILES = kreg_$(KREG_VERSION)_* kreg-dkms_$(KREG_VERSION)_* libkreg4_$(KREG_VERSION)_* \
	libkreg4-dbgsym_$(KREG_VERSION)_* libkreg-dev_$(KREG_VERSION)_* kregctl_$(KREG_VERSION)_* \
	kregctl-dbgsym_$(KREG_VERSION)_* kregd_$(KREG_VERSION)_* kregd-dbgsym_$(KREG_VERSION)_*
deb:
	dpkg-buildpackage -b -us -uc
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb
	cd .. && mv $(DEB_FILES) $(abspath $(BUILD))/deb/
	lintian --fail-on error $(BUILD)/deb/kreg_$(KREG_VERSION)_*.changes

# The packages on a real Debian 12 system under QEMU (scripts/debian-guest).
check-debian: deb
	KVERS= KREG_HOST_TESTS=0 DEBIAN_DEBS=$(BUILD)/deb BUILD=$(BUILD) bash tests/run-all.sh

# --- install -----------------------------------------------------------------

install: lib kregctl kregd man
	install -D -m 0644 lib/include/kreg.h $(DESTDIR)$(INCLUDEDIR)/kreg.h
	@# kreg's own directory: linux/ is linux-libc-dev's (pkg-config kreg adds it).
	install -D -m 0644 kmod/include/uapi/linux/kreg.h $(DESTDIR)$(INCLUDEDIR)/kreg/linux/kreg.h
	install -D -m 0755 $(BUILD)/libkreg.so.$(LIB_SO_VERSION) \
		$(DESTDIR)$(LIBDIR)/libkreg.so.$(LIB_SO_VERSION)
	ln -sf libkreg.so.$(LIB_SO_VERSION) $(DESTDIR)$(LIBDIR)/libkreg.so
	install -D -m 0644 $(BUILD)/libkreg.a $(DESTDIR)$(LIBDIR)/libkreg.a
	@# Written here, not copied: the prefix is the one given to install.
	mkdir -p $(DESTDIR)$(LIBDIR)/pkgconfig
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(KREG_VERSION)|' \
		lib/kreg.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/kreg.pc
	install -D -m 0755 $(BUILD)/kregctl $(DESTDIR)$(BINDIR)/kregctl
	install -D -m 0644 docs/man/kregctl.8 $(DESTDIR)$(MANDIR)/man8/kregctl.8
	install -D -m 0644 docs/man/kreg.7 $(DESTDIR)$(MANDIR)/man7/kreg.7
	install -D -m 0644 $(BUILD)/man/libkreg.3 $(DESTDIR)$(MANDIR)/man3/libkreg.3
	@# man kreg_open: one page per function, each the libkreg(3) page.
	install -m 0644 $(BUILD)/man/links/*.3 $(DESTDIR)$(MANDIR)/man3/
	install -D -m 0644 tools/kregctl/kregctl.bash-completion \
		$(DESTDIR)$(BASHCOMPDIR)/kregctl
	@# The unit names kregctl where it is installed.
	mkdir -p $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/kreg.service.in >$(DESTDIR)$(SYSTEMDUNITDIR)/kreg.service
	@# The cluster's node daemon, its unit and an example of its configuration.
	install -D -m 0755 $(BUILD)/kregd $(DESTDIR)$(SBINDIR)/kregd
	install -D -m 0644 docs/man/kregd.8 $(DESTDIR)$(MANDIR)/man8/kregd.8
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/kregd.service.in >$(DESTDIR)$(SYSTEMDUNITDIR)/kregd.service
	install -D -m 0644 docs/cluster/cluster.conf $(DESTDIR)$(PREFIX)/share/doc/kregd/examples/cluster.conf
	@# For bpftool users; kregctl carries its own copy (a libbpf skeleton).
	install -D -m 0644 $(BUILD)/bpf/kreg_exit.bpf.o $(DESTDIR)$(PKGLIBDIR)/kreg_exit.bpf.o
	@# A library installed on this system is found at once (packages run ldconfig themselves).
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then \
		ldconfig; fi

clean:
	rm -rf $(BUILD)
