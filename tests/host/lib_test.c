// SPDX-License-Identifier: GPL-2.0
/*
 * What libkreg and kregctl do where kreg.ko is not loaded (the build
 * machine): the error, its message, and kregctl's exit status. Built with
 * AddressSanitizer and UndefinedBehaviorSanitizer.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "kreg.h"
#include "kselftest_harness.h"

static const char *build_dir(void)
{
	const char *b = getenv("BUILD");

	return b && *b ? b : "build";
}

/* Runs a shell command; its exit status, its output in @out. */
static int run(const char *cmd, char *out, size_t size)
{
	size_t n = 0;
	int status;
	FILE *p = popen(cmd, "r");

	if (!p)
		return -1;
	while (n + 1 < size && fgets(out + n, (int)(size - n), p))
		n = strlen(out);
	out[n] = '\0';
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(open_without_module_says_how_to_load_it)
{
	struct kreg_conn *c = NULL;
	int err = kreg_open(&c);

	if (err == 0) {
		kreg_close(c);
		SKIP(return, "kreg.ko is loaded on this machine");
	}
	EXPECT_EQ(-EPROTONOSUPPORT, err);
	EXPECT_EQ(NULL, c);
	EXPECT_NE(NULL, strstr(kreg_strerror(err), "not loaded"));
	EXPECT_NE(NULL, strstr(kreg_strerror(err), "insmod"));
}

TEST(every_kreg_error_has_its_own_message)
{
	static const int errs[] = {
		ENOENT, EEXIST, EINVAL, EPERM, EDQUOT, ENOSPC, ECONNREFUSED,
		EAGAIN, EMSGSIZE, ESRCH, EPROTONOSUPPORT, ENOBUFS, ESHUTDOWN,
	};
	size_t i, j;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		ASSERT_NE(NULL, kreg_strerror(-errs[i]));
		for (j = 0; j < i; j++)
			EXPECT_STRNE(kreg_strerror(-errs[i]), kreg_strerror(-errs[j]));
	}
	EXPECT_STREQ(strerror(EIO), kreg_strerror(-EIO));
}

TEST(reasons_have_names)
{
	EXPECT_STREQ("explicit", kreg_reason_name(KREG_REASON_EXPLICIT));
	EXPECT_STREQ("exited", kreg_reason_name(KREG_REASON_EXITED));
	EXPECT_STREQ("unloading", kreg_reason_name(KREG_REASON_UNLOADING));
	EXPECT_STREQ("unknown", kreg_reason_name((enum kreg_reason)99));
}

TEST(shared_library_exports_only_kreg_symbols)
{
	char cmd[512], out[4096], *line;
	int exported = 0;

	snprintf(cmd, sizeof(cmd),
		 "nm -D --defined-only %s/libkreg.so | awk '$2 ~ /^[TDBR]$/ {print $3}'",
		 build_dir());
	ASSERT_EQ(0, run(cmd, out, sizeof(out)));
	for (line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		EXPECT_EQ(0, strncmp(line, "kreg_", 5)) TH_LOG("exported: %s", line);
		exported++;
	}
	EXPECT_GE(exported, 10);
	/* Internal helpers stay inside. */
	snprintf(cmd, sizeof(cmd), "nm -D --defined-only %s/libkreg.so | grep -c kreg_request",
		 build_dir());
	EXPECT_EQ(1, run(cmd, out, sizeof(out)));
}

/*
 * A program linked before KREG_EVENT_UPDATED existed (kreg_next_event@KREG_4)
 * is told the two kinds it knows; one linked now (@KREG_4.3) the third too.
 * Through the shared library, as such a program would load it.
 */
TEST(programs_linked_before_updates_are_not_told_of_them)
{
	int (*open_provider)(struct kreg_conn **, enum kreg_provider);
	int (*reg)(struct kreg_conn *, const char *, pid_t, pid_t *);
	int (*subscribe)(struct kreg_conn *);
	int (*update)(struct kreg_conn *, const char *, const void *, size_t);
	int (*unreg)(struct kreg_conn *, const char *);
	void (*close_conn)(struct kreg_conn *);
	int (*next_v4)(struct kreg_conn *, struct kreg_event *, int);
	int (*next_v43)(struct kreg_conn *, struct kreg_event *, int);
	struct kreg_conn *c, *old_sub, *new_sub;
	struct kreg_event ev;
	char path[256];
	void *so;

	snprintf(path, sizeof(path), "%s/libkreg.so.4", build_dir());
	so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	ASSERT_NE(NULL, so) TH_LOG("%s", dlerror());
	open_provider = (int (*)(struct kreg_conn **, enum kreg_provider))
		dlvsym(so, "kreg_open_provider", "KREG_4");
	reg = (int (*)(struct kreg_conn *, const char *, pid_t, pid_t *))
		dlvsym(so, "kreg_register", "KREG_4");
	subscribe = (int (*)(struct kreg_conn *))dlvsym(so, "kreg_subscribe", "KREG_4");
	update = (int (*)(struct kreg_conn *, const char *, const void *, size_t))
		dlvsym(so, "kreg_update_meta", "KREG_4.3");
	unreg = (int (*)(struct kreg_conn *, const char *))dlvsym(so, "kreg_unregister", "KREG_4");
	close_conn = (void (*)(struct kreg_conn *))dlvsym(so, "kreg_close", "KREG_4");
	next_v4 = (int (*)(struct kreg_conn *, struct kreg_event *, int))
		dlvsym(so, "kreg_next_event", "KREG_4");
	next_v43 = (int (*)(struct kreg_conn *, struct kreg_event *, int))
		dlvsym(so, "kreg_next_event", "KREG_4.3");
	ASSERT_TRUE(open_provider && reg && subscribe && update && unreg && close_conn &&
		    next_v4 && next_v43);
	ASSERT_NE(next_v4, next_v43);

	ASSERT_EQ(0, open_provider(&c, KREG_PROVIDER_LOCAL));
	ASSERT_EQ(0, open_provider(&old_sub, KREG_PROVIDER_LOCAL));
	ASSERT_EQ(0, open_provider(&new_sub, KREG_PROVIDER_LOCAL));
	ASSERT_EQ(0, subscribe(old_sub));
	ASSERT_EQ(0, subscribe(new_sub));
	ASSERT_EQ(0, reg(c, "compat.name", 0, NULL));
	ASSERT_EQ(0, update(c, "compat.name", "v2", 2));
	ASSERT_EQ(0, unreg(c, "compat.name"));

	ASSERT_EQ(0, next_v43(new_sub, &ev, 1000));
	EXPECT_EQ(KREG_EVENT_REGISTERED, ev.kind);
	ASSERT_EQ(0, next_v43(new_sub, &ev, 1000));
	EXPECT_EQ(KREG_EVENT_UPDATED, ev.kind);
	ASSERT_EQ(0, next_v43(new_sub, &ev, 1000));
	EXPECT_EQ(KREG_EVENT_UNREGISTERED, ev.kind);

	ASSERT_EQ(0, next_v4(old_sub, &ev, 1000));
	EXPECT_EQ(KREG_EVENT_REGISTERED, ev.kind);
	ASSERT_EQ(0, next_v4(old_sub, &ev, 1000));
	EXPECT_EQ(KREG_EVENT_UNREGISTERED, ev.kind);
	EXPECT_EQ(-ETIMEDOUT, next_v4(old_sub, &ev, 0));

	close_conn(new_sub);
	close_conn(old_sub);
	close_conn(c);
	dlclose(so);
}

TEST(kregctl_exit_status_and_messages)
{
	char cmd[512], out[4096];
	struct kreg_conn *c;

	if (kreg_open(&c) == 0) {
		kreg_close(c);
		SKIP(return, "kreg.ko is loaded on this machine");
	}
	snprintf(cmd, sizeof(cmd), "%s/kregctl whereis orders-db 2>&1", build_dir());
	EXPECT_EQ(2, run(cmd, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "kernel module is not loaded"));

	snprintf(cmd, sizeof(cmd), "%s/kregctl 2>&1", build_dir());
	EXPECT_EQ(2, run(cmd, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "usage: kregctl"));

	snprintf(cmd, sizeof(cmd), "%s/kregctl frobnicate 2>&1", build_dir());
	EXPECT_EQ(2, run(cmd, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "unknown command 'frobnicate'"));

	snprintf(cmd, sizeof(cmd), "%s/kregctl --help", build_dir());
	EXPECT_EQ(0, run(cmd, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "monitor"));
}

/*
 * Without the module (this machine), a usage mistake is told as one, in a
 * line, with that command's usage: never as "module not loaded". Policy
 * files are checked offline.
 */
TEST(kregctl_checks_its_arguments_before_the_module)
{
	static const struct {
		const char *args;
		int status;
		const char *first_line;
	} cases[] = {
		{ "whereis", 2, "kregctl: whereis: which NAME?" },
		{ "list extra more", 2, "kregctl: list: unexpected argument 'more'" },
		{ "list 'a*'", 2, "kregctl: list: 'a*' is no pattern" },
		{ "register 'two words'", 2, "kregctl: two words: name has a byte other than" },
		{ "policy load /nonexistent", 2, "kregctl: /nonexistent: No such file or directory" },
		{ "policy frob", 2, "kregctl: policy: load, check-file, unload, show or check" },
		{ "-x", 2, "kregctl: unknown option '-x'" },
		{ "--version", 0, "kregctl 0.13.0 (libkreg on generic netlink family kreg, version" },
		{ "-j whereis", 2, "{\"error\":\"which NAME?\",\"about\":\"whereis\",\"errno\":22}" },
	};
	char cmd[512], out[4096];
	struct kreg_conn *c;
	size_t i;

	if (kreg_open(&c) == 0) {
		kreg_close(c);
		SKIP(return, "kreg.ko is loaded on this machine");
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s/kregctl %s 2>&1", build_dir(), cases[i].args);
		EXPECT_EQ(cases[i].status, run(cmd, out, sizeof(out))) TH_LOG("%s", cases[i].args);
		EXPECT_EQ(0, strncmp(out, cases[i].first_line, strlen(cases[i].first_line)))
			TH_LOG("kregctl %s: %s", cases[i].args, out);
		EXPECT_EQ(NULL, strstr(out, "not loaded")) TH_LOG("kregctl %s", cases[i].args);
	}
	/* A usage mistake shows that command's usage alone, not all 40 lines. */
	snprintf(cmd, sizeof(cmd), "%s/kregctl whereis 2>&1 | wc -l", build_dir());
	run(cmd, out, sizeof(out));
	EXPECT_GT(8, atoi(out));
	/* A policy file is checked with no module. */
	snprintf(cmd, sizeof(cmd), "printf 'allow see orders.* everyone\\n' >/tmp/kreg-check.conf && "
		 "%s/kregctl policy check-file /tmp/kreg-check.conf", build_dir());
	EXPECT_EQ(0, run(cmd, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "1 rule"));
	snprintf(cmd, sizeof(cmd), "printf 'allow see orders* everyone\\n' >/tmp/kreg-check.conf && "
		 "%s/kregctl policy check-file /tmp/kreg-check.conf 2>&1", build_dir());
	EXPECT_EQ(2, run(cmd, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "kreg-check.conf:1"));
}

TEST_HARNESS_MAIN
