// SPDX-License-Identifier: GPL-2.0
/*
 * Choosing a provider, and what only the local provider has to get right:
 * threads as holders, the kernel's errors and messages for bad input, and a
 * fork that must not share the parent's table. Runs on the host, where
 * kreg.ko is not loaded, under ASan and UBSan.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kreg.h"
#include "kselftest_harness.h"

TEST(kreg_registry_chooses_the_provider_and_never_falls_back)
{
	enum kreg_provider p = KREG_PROVIDER_LOCAL;
	struct kreg_conn *c = NULL;
	size_t n = 1;
	int err;

	ASSERT_EQ(0, setenv("KREG_REGISTRY", "local", 1));
	ASSERT_EQ(0, kreg_configured_provider(&p));
	EXPECT_EQ(KREG_PROVIDER_LOCAL, p);
	ASSERT_EQ(0, kreg_open(&c));
	EXPECT_EQ(KREG_PROVIDER_LOCAL, kreg_registry_provider(c));
	kreg_close(c);

	ASSERT_EQ(0, setenv("KREG_REGISTRY", "etcd", 1));
	EXPECT_EQ(-ENOPROTOOPT, kreg_open(&c));
	EXPECT_NE(NULL, strstr(kreg_strerror(-ENOPROTOOPT), "\"kernel\", \"local\" or \"cluster\""));

	/* The default is the kernel, even where only the local one would work. */
	ASSERT_EQ(0, unsetenv("KREG_REGISTRY"));
	ASSERT_EQ(0, kreg_configured_provider(&p));
	EXPECT_EQ(KREG_PROVIDER_KERNEL, p);
	err = kreg_open(&c);
	if (err == 0) {
		kreg_close(c);
		SKIP(return, "kreg.ko is loaded on this machine");
	}
	EXPECT_EQ(-EPROTONOSUPPORT, err);
	EXPECT_NE(NULL, strstr(kreg_strerror(err), "insmod"));
	/* child_spec checks the module is there before saying "nothing to start". */
	EXPECT_EQ(-EPROTONOSUPPORT, kreg_child_spec(KREG_PROVIDER_KERNEL, NULL, 0, &n));
	EXPECT_EQ(0, kreg_child_spec(KREG_PROVIDER_LOCAL, NULL, 0, &n));
	EXPECT_EQ(0, n);
}

FIXTURE(local) {
	struct kreg_conn *c;
};

FIXTURE_SETUP(local)
{
	ASSERT_EQ(0, kreg_open_provider(&self->c, KREG_PROVIDER_LOCAL));
}

FIXTURE_TEARDOWN(local)
{
	kreg_close(self->c);
}

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

TEST_F(local, bad_input_gets_the_kernel_errors_and_changes_nothing)
{
	static const struct { const char *name, *why; } bad[] = {
		{ "", "name is empty" },
		{ "tab\there", "name has a byte other than a letter, a digit, '_', '-' or '.'" },
		{ "\xc3\xa9t\xc3\xa9", "name has a byte other than a letter, a digit, '_', '-' or '.'" },
		{ "a..b", "name has an empty element (two dots in a row)" },
	};
	char longname[KREG_NAME_MAX + 2];
	unsigned char meta[KREG_META_MAX + 1] = { 0 };
	pid_t pid = 0;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, kreg_register(self->c, bad[i].name, 0, NULL));
		EXPECT_STREQ(bad[i].why, kreg_last_error(self->c));
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	EXPECT_EQ(-EINVAL, kreg_register(self->c, longname, 0, NULL));
	EXPECT_STREQ("name is longer than 255 bytes", kreg_last_error(self->c));
	EXPECT_EQ(-EMSGSIZE, kreg_register_meta(self->c, "m", 0, meta, sizeof(meta), NULL));
	EXPECT_EQ(-EINVAL, kreg_register(self->c, "m", -1, NULL));
	EXPECT_EQ(-ENOENT, kreg_unregister(self->c, "m"));
	EXPECT_STREQ("the name is not registered", kreg_last_error(self->c));
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "m", &pid));
}

struct other {
	pid_t tid;
	int release[2];
};

static void *park(void *arg)
{
	struct other *o = arg;
	char b;

	o->tid = gettid_();
	if (read(o->release[0], &b, 1) < 0)
		abort();
	return NULL;
}

TEST_F(local, a_thread_registers_only_itself)
{
	struct other o = { 0 };
	pthread_t t;
	pid_t holder = 0;

	ASSERT_EQ(0, pipe(o.release));
	ASSERT_EQ(0, pthread_create(&t, NULL, park, &o));
	while (!__atomic_load_n(&o.tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	EXPECT_EQ(-EPERM, kreg_register(self->c, "other", o.tid, NULL));
	EXPECT_STREQ("a thread can register only itself", kreg_last_error(self->c));
	close(o.release[1]);
	pthread_join(t, NULL);
	EXPECT_EQ(-ESRCH, kreg_register(self->c, "other", o.tid, NULL));
	EXPECT_STREQ("no thread of this process has this id", kreg_last_error(self->c));
	EXPECT_EQ(0, kreg_register(self->c, "me", gettid_(), &holder));
	EXPECT_EQ(gettid_(), holder);
	EXPECT_EQ(-EEXIST, kreg_register(self->c, "me", 0, &holder));
	EXPECT_EQ(gettid_(), holder);
	EXPECT_STREQ("the name is already registered", kreg_last_error(self->c));
}

static int collect(const struct kreg_entry_info *e, void *arg)
{
	const struct kreg_entry_info *want = arg;

	if (strcmp(e->name, want->name))
		return 0;
	if (e->pid != want->pid || e->uid != getuid() || !e->has_mailbox ||
	    e->meta_len != want->meta_len || memcmp(e->meta, want->meta, e->meta_len) ||
	    !e->registered_ns)
		return -EBADMSG;
	return 1;	/* found, and stop */
}

static void *say_tid(void *arg)
{
	*(pid_t *)arg = gettid_();
	return NULL;
}

/*
 * A joined thread is signalable for a moment after pthread_join() returns
 * (about 1 in 100 here): it is gone for the registry all the same, every time.
 */
TEST_F(local, a_joined_thread_is_gone_at_once)
{
	int i, alive = 0;

	for (i = 0; i < 2000; i++) {
		pid_t tid = 0;
		pthread_t t;

		ASSERT_EQ(0, pthread_create(&t, NULL, say_tid, &tid));
		ASSERT_EQ(0, pthread_join(t, NULL));
		alive += kreg_register(self->c, "joined", tid, NULL) != -ESRCH;
	}
	EXPECT_EQ(0, alive);
}

TEST_F(local, values_are_kept_and_listed)
{
	struct kreg_entry_info want = {
		.name = "with-value", .pid = gettid_(), .meta = "v=1", .meta_len = 3,
	};
	char meta[8] = "";
	size_t len = 0;
	pid_t pid = 0;
	int i;

	ASSERT_EQ(0, kreg_register_meta(self->c, "with-value", 0, "v=1", 3, NULL));
	ASSERT_EQ(0, kreg_whereis_meta(self->c, "with-value", &pid, meta, sizeof(meta), &len));
	EXPECT_EQ(gettid_(), pid);
	EXPECT_EQ(3, len);
	EXPECT_STREQ("v=1", meta);
	/* Enough names to make the table grow under the listing. */
	for (i = 0; i < 500; i++) {
		char name[32];

		snprintf(name, sizeof(name), "filler-%d", i);
		ASSERT_EQ(0, kreg_register(self->c, name, 0, NULL));
	}
	EXPECT_EQ(1, kreg_list(self->c, collect, &want));
}

TEST_F(local, a_forked_child_starts_with_an_empty_table)
{
	pid_t child, pid = 0;
	int status;

	ASSERT_EQ(0, kreg_register(self->c, "parents", 0, NULL));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		/* The parent's thread is not here: its name must not be either. */
		int ok = kreg_whereis_name(self->c, "parents", &pid) == KREG_UNDEFINED &&
			 kreg_register(self->c, "parents", 0, NULL) == 0;

		_exit(ok ? 0 : 1);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, kreg_whereis_name(self->c, "parents", &pid));
	EXPECT_EQ(gettid_(), pid);
}

TEST_HARNESS_MAIN
