# kreg: the module, libkreg, kregctl, and the tests that run them.
#
#   make            the module (kmod/kreg.ko), libkreg and kregctl
#   make demo       boot a QEMU guest, load kreg.ko and show it working
#   make check      host tests, then every kernel test in a QEMU guest
#   make bench      (later issues) benchmarks
#   make checkpatch the kernel's style checker on kmod/
#   make setup      install the Debian packages all of this needs (root)

KVER ?= $(shell scripts/kver.sh)
KDIR ?= /lib/modules/$(KVER)/build
BUILD := build
KSRC := $(BUILD)/ksrc
SELFTESTS := $(KSRC)/tools/testing/selftests

CC ?= gcc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror
NL_CFLAGS := $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null)
NL_LIBS := $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null)
INCLUDES := -Ilib/include -Ikmod/include/uapi $(NL_CFLAGS)
USER_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(INCLUDES)
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# The harness uses GNU C; the tests keep every other warning.
TEST_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Werror $(CFLAGS) \
	$(INCLUDES) -Ilib -I$(SELFTESTS) -Itests

LIB_SRCS := $(wildcard lib/*.c)
LIB_HDRS := lib/include/kreg.h lib/internal.h kmod/include/uapi/linux/kreg.h
LIB_SO_VERSION := 1
KERNEL_TESTS := $(patsubst tests/kernel/%.c,%,$(wildcard tests/kernel/*_test.c))
HOST_TESTS := $(patsubst tests/host/%.c,%,$(wildcard tests/host/*_test.c))

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin

.PHONY: all module lib kregctl guest-bins host-tests check check-host check-guest \
	demo checkpatch setup install clean

all: module lib kregctl

setup:
	bash scripts/setup-debian.sh

# --- the module --------------------------------------------------------------

module: kmod/kreg.ko

kmod/kreg.ko: $(wildcard kmod/*.c kmod/*.h) kmod/include/uapi/linux/kreg.h kmod/Kbuild Kbuild
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# --- libkreg -----------------------------------------------------------------

lib: $(BUILD)/libkreg.so $(BUILD)/libkreg.a $(BUILD)/kreg.pc

$(BUILD)/lib/pic/%.o: lib/%.c $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -fPIC -c $< -o $@

$(BUILD)/lib/%.o: lib/%.c $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -c $< -o $@

$(BUILD)/lib/asan/%.o: lib/%.c $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(SANITIZE) -c $< -o $@

$(BUILD)/libkreg.so: $(LIB_SRCS:lib/%.c=$(BUILD)/lib/pic/%.o) lib/libkreg.map
	$(CC) -shared -Wl,-soname,libkreg.so.$(LIB_SO_VERSION) \
		-Wl,--version-script=lib/libkreg.map -o $@.$(LIB_SO_VERSION) \
		$(filter %.o,$^) $(NL_LIBS)
	ln -sf libkreg.so.$(LIB_SO_VERSION) $@

$(BUILD)/libkreg.a: $(LIB_SRCS:lib/%.c=$(BUILD)/lib/%.o)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libkreg-asan.a: $(LIB_SRCS:lib/%.c=$(BUILD)/lib/asan/%.o)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/kreg.pc: lib/kreg.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|' $< > $@

# --- kregctl -----------------------------------------------------------------

kregctl: $(BUILD)/kregctl

$(BUILD)/kregctl: tools/kregctl.c $(BUILD)/libkreg.a
	$(CC) $(USER_CFLAGS) -o $@ $< $(BUILD)/libkreg.a $(NL_LIBS)

# --- what the guest runs: static, so the initramfs needs no libraries ---------

$(SELFTESTS)/kselftest_harness.h:
	bash scripts/kernel-tools.sh $(KSRC)

guest-bins: $(BUILD)/guest/kregctl $(KERNEL_TESTS:%=$(BUILD)/guest/tests/%)

$(BUILD)/guest/kregctl: tools/kregctl.c $(BUILD)/libkreg.a
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -static -o $@ $< $(BUILD)/libkreg.a $(NL_LIBS) -lpthread

$(BUILD)/guest/tests/%: tests/kernel/%.c tests/kernel/helpers.h $(BUILD)/libkreg.a \
		$(SELFTESTS)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -static -o $@ $< $(BUILD)/libkreg.a $(NL_LIBS) -lpthread

# --- tests -------------------------------------------------------------------

host-tests: $(HOST_TESTS:%=$(BUILD)/host-tests/%)

$(BUILD)/host-tests/%: tests/host/%.c $(BUILD)/libkreg-asan.a $(SELFTESTS)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(SANITIZE) -o $@ $< $(BUILD)/libkreg-asan.a $(NL_LIBS)

check-host: host-tests $(BUILD)/libkreg.so
	BUILD=$(BUILD) bash tests/run-host.sh

check-guest: module guest-bins
	KVER=$(KVER) BUILD=$(BUILD) bash scripts/guest/boot.sh test

check: module lib kregctl host-tests guest-bins
	KVER=$(KVER) BUILD=$(BUILD) bash tests/run-all.sh

demo: module guest-bins
	KVER=$(KVER) BUILD=$(BUILD) bash scripts/guest/boot.sh demo

checkpatch: $(SELFTESTS)/kselftest_harness.h
	perl $(KSRC)/scripts/checkpatch.pl --no-tree --strict -f --terse \
		$(filter-out %.mod.c,$(wildcard kmod/*.c)) $(wildcard kmod/*.h) \
		kmod/include/uapi/linux/kreg.h

# --- install -----------------------------------------------------------------

install: lib kregctl
	install -D -m 0644 lib/include/kreg.h $(DESTDIR)$(INCLUDEDIR)/kreg.h
	install -D -m 0644 kmod/include/uapi/linux/kreg.h $(DESTDIR)$(INCLUDEDIR)/linux/kreg.h
	install -D -m 0755 $(BUILD)/libkreg.so.$(LIB_SO_VERSION) \
		$(DESTDIR)$(LIBDIR)/libkreg.so.$(LIB_SO_VERSION)
	ln -sf libkreg.so.$(LIB_SO_VERSION) $(DESTDIR)$(LIBDIR)/libkreg.so
	install -D -m 0644 $(BUILD)/libkreg.a $(DESTDIR)$(LIBDIR)/libkreg.a
	install -D -m 0644 $(BUILD)/kreg.pc $(DESTDIR)$(LIBDIR)/pkgconfig/kreg.pc
	install -D -m 0755 $(BUILD)/kregctl $(DESTDIR)$(BINDIR)/kregctl

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	rm -rf $(BUILD)
