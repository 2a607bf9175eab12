// SPDX-License-Identifier: GPL-2.0
/*
 * Supervisors on every provider, through a registry handle
 * (kreg_supervisor_new_on()): a crashed server comes back under its name
 * with fresh state, a held name is reported and nothing is added, a stop
 * takes the names with the children, and a child that will not stop is
 * killed after its grace period. On the kernel provider children are
 * processes; on the local one, threads of this process (whose table it is).
 * In the guest on both; on the host (KREG_LOCAL_ONLY, ASan, UBSan) on the
 * local one.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kreg.h"
#include "kselftest_harness.h"

struct count {
	long n;
};

static int count_init(struct kreg_server *srv, void *args, void **state)
{
	static __thread struct count fresh;

	(void)srv;
	(void)args;
	fresh.n = 0;		/* every start begins again, as a new process would */
	*state = &fresh;
	return 0;
}

static int count_call(struct kreg_server *srv, void *state, const void *req, size_t len,
		      const struct kreg_from *from)
{
	struct count *c = state;

	(void)req;
	(void)len;
	c->n++;
	return kreg_reply(srv, from, &c->n, sizeof(c->n));
}

/*
 * "crash": the server fails, as a process that dies would. "hang": it is
 * stuck in a callback, deaf to stop requests (pause() is a cancellation
 * point, where a thread's kill takes it).
 */
static int count_cast(struct kreg_server *srv, void *state, const void *msg, size_t len)
{
	(void)srv;
	(void)state;
	if (len == 4 && !memcmp(msg, "hang", 4))
		for (;;)
			pause();
	return len == 5 && !memcmp(msg, "crash", 5) ? -EIO : KREG_CONTINUE;
}

static const struct kreg_module counter = {
	.init = count_init, .handle_call = count_call, .handle_cast = count_cast,
};

static int returns_zero(struct kreg_conn *conn, void *arg)
{
	(void)conn;
	(void)arg;
	return 0;
}

FIXTURE(sv) {
	struct kreg_conn *c;
	struct kreg_supervisor *sup;
	char name[64];
};

FIXTURE_VARIANT(sv) {
	enum kreg_provider provider;
};

FIXTURE_VARIANT_ADD(sv, local) {
	.provider = KREG_PROVIDER_LOCAL,
};

#ifndef KREG_LOCAL_ONLY
FIXTURE_VARIANT_ADD(sv, kernel) {
	.provider = KREG_PROVIDER_KERNEL,
};
#endif

FIXTURE_SETUP(sv)
{
	ASSERT_EQ(0, kreg_open_provider(&self->c, variant->provider));
	ASSERT_EQ(0, kreg_supervisor_new_on(&self->sup, self->c, KREG_ONE_FOR_ONE, 5, 10));
	snprintf(self->name, sizeof(self->name), "sv-%d-%s", (int)getpid(), _metadata->name);
}

FIXTURE_TEARDOWN(sv)
{
	kreg_supervisor_free(self->sup);
	kreg_close(self->c);
}

static long call_count(struct kreg_conn *c, const char *name)
{
	struct kreg_via via;
	size_t len = 0;
	long n = -1;

	if (kreg_via_tuple(c, name, &via) ||
	    kreg_call(&via, "inc", 3, &n, sizeof(n), &len, 5000) || len != sizeof(n))
		return -1;
	return n;
}

/* The pid holding @name once it is held by other than @not, within 5 s; 0 if never. */
static pid_t held_by_other_than(struct kreg_conn *c, const char *name, pid_t not)
{
	pid_t pid = 0;
	int i;

	for (i = 0; i < 500; i++) {
		if (kreg_whereis_name(c, name, &pid) == 0 && pid != not)
			return pid;
		usleep(10000);
	}
	return 0;
}

TEST_F(sv, a_crashed_server_comes_back_under_its_name_with_fresh_state)
{
	struct kreg_child_spec spec = {
		.name = self->name, .module = &counter, .restart = KREG_PERMANENT,
		.shutdown_ms = 1000,
	};
	enum kreg_started how;
	struct kreg_via via;
	pid_t first, second;

	ASSERT_EQ(0, kreg_start_child(self->sup, &spec, &first, &how));
	ASSERT_EQ(KREG_STARTED, how);
	EXPECT_EQ(first, kreg_supervisor_child_pid(self->sup, 0));
	EXPECT_EQ(1, call_count(self->c, self->name));
	EXPECT_EQ(2, call_count(self->c, self->name));
	ASSERT_EQ(0, kreg_via_tuple(self->c, self->name, &via));
	ASSERT_EQ(0, kreg_cast(&via, "crash", 5));
	EXPECT_EQ(-ETIMEDOUT, kreg_supervisor_run(self->sup, 500));
	second = held_by_other_than(self->c, self->name, first);
	EXPECT_NE(0, second);
	EXPECT_EQ(second, kreg_supervisor_child_pid(self->sup, 0));
	EXPECT_EQ(1, call_count(self->c, self->name));
}

TEST_F(sv, start_child_on_a_held_name_reports_the_holder_and_adds_nothing)
{
	struct kreg_child_spec spec = { .name = self->name, .module = &counter };
	enum kreg_started how = KREG_STARTED;
	pid_t me = 0, pid = 0;

	ASSERT_EQ(0, kreg_register(self->c, self->name, 0, NULL));
	ASSERT_EQ(0, kreg_whereis_name(self->c, self->name, &me));
	ASSERT_EQ(0, kreg_start_child(self->sup, &spec, &pid, &how));
	EXPECT_EQ(KREG_ALREADY_STARTED, how);
	EXPECT_EQ(me, pid);
	EXPECT_EQ(0, kreg_supervisor_child_pid(self->sup, 0));
	/* Nothing to supervise: the run ends at once. */
	EXPECT_EQ(0, kreg_supervisor_run(self->sup, 1000));
}

TEST_F(sv, a_transient_child_that_ends_well_stays_down)
{
	struct kreg_child_spec spec = { .start = returns_zero, .restart = KREG_TRANSIENT };

	ASSERT_EQ(0, kreg_start_child(self->sup, &spec, NULL, NULL));
	EXPECT_EQ(0, kreg_supervisor_run(self->sup, 5000));
	EXPECT_EQ(0, kreg_supervisor_child_pid(self->sup, 0));
}

TEST_F(sv, a_stop_takes_the_names_with_the_children)
{
	struct kreg_child_spec spec = { .name = self->name, .module = &counter, .shutdown_ms = 1000 };
	pid_t pid;

	ASSERT_EQ(0, kreg_start_child(self->sup, &spec, NULL, NULL));
	ASSERT_EQ(1, call_count(self->c, self->name));
	kreg_supervisor_stop(self->sup);
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, self->name, &pid));
	EXPECT_EQ(0, kreg_supervisor_child_pid(self->sup, 0));
}

TEST_F(sv, a_server_stuck_in_a_callback_is_killed_after_its_grace_period)
{
	struct kreg_child_spec spec = { .name = self->name, .module = &counter, .shutdown_ms = 200 };
	struct timespec t0, t1;
	struct kreg_via via;
	pid_t pid;

#ifdef __SANITIZE_ADDRESS__
	/* Unwinding a cancelled thread through a cleanup handler (google/sanitizers#1399). */
	if (variant->provider == KREG_PROVIDER_LOCAL)
		SKIP(return, "AddressSanitizer takes a cancelled thread's unwinding for a stack "
			     "overflow; the guest runs this without it");
#endif
	ASSERT_EQ(0, kreg_start_child(self->sup, &spec, NULL, NULL));
	ASSERT_EQ(1, call_count(self->c, self->name));
	ASSERT_EQ(0, kreg_via_tuple(self->c, self->name, &via));
	ASSERT_EQ(0, kreg_cast(&via, "hang", 4));
	usleep(100000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	kreg_supervisor_stop(self->sup);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* It waited its grace period, and its name went with it. */
	EXPECT_LE(200, (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, self->name, &pid));
	/* A killed server leaves the provider whole: a new one takes the name. */
	ASSERT_EQ(0, kreg_start_child(self->sup, &spec, NULL, NULL));
	EXPECT_EQ(1, call_count(self->c, self->name));
}

/* A start function has no stop request to heed: it ends at once, as on SIGTERM. */
static int waits(struct kreg_conn *conn, void *arg)
{
	(void)conn;
	(void)arg;
	for (;;)
		pause();
	return 0;
}

TEST_F(sv, a_start_child_stops_at_once_and_its_name_goes)
{
	struct kreg_child_spec spec = { .name = self->name, .start = waits, .shutdown_ms = 5000 };
	struct timespec t0, t1;
	pid_t pid;

	ASSERT_EQ(0, kreg_start_child(self->sup, &spec, NULL, NULL));
	ASSERT_EQ(0, kreg_whereis_name(self->c, self->name, &pid));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	kreg_supervisor_stop(self->sup);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	EXPECT_GT(5000, (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, self->name, &pid));
}

TEST_F(sv, a_bad_name_starts_nothing)
{
	char longname[KREG_NAME_MAX + 50];
	struct kreg_child_spec spec = { .name = longname, .module = &counter };

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	EXPECT_EQ(-EINVAL, kreg_start_child(self->sup, &spec, NULL, NULL));
	spec.name = "a..b";
	EXPECT_EQ(-EINVAL, kreg_start_child(self->sup, &spec, NULL, NULL));
	EXPECT_EQ(0, kreg_supervisor_child_pid(self->sup, 0));
}

TEST_HARNESS_MAIN
