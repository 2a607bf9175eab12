// SPDX-License-Identifier: GPL-2.0
/*
 * Supervision without names (no module needed): strategies, restart types,
 * restart intensity and shutdown, with real child processes. Built with
 * AddressSanitizer and UndefinedBehaviorSanitizer.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kreg.h"
#include "kselftest_harness.h"

static int sleeper(struct kreg_conn *conn, void *arg)
{
	for (;;)
		pause();
	return 0;
}

static int exit_with(struct kreg_conn *conn, void *arg)
{
	return (int)(intptr_t)arg;
}

/* Shared with the children: how often a child ran, whether it is ready. */
struct shared {
	int runs;
	int ready;
	int code;
};

static struct shared *shared_new(void)
{
	struct shared *s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return s == MAP_FAILED ? NULL : s;
}

/* Exits with s->code the first time it runs, then sleeps. */
static int exit_once(struct kreg_conn *conn, void *arg)
{
	struct shared *s = arg;

	if (__atomic_fetch_add(&s->runs, 1, __ATOMIC_SEQ_CST) == 0)
		return s->code;
	return sleeper(conn, NULL);
}

static int ignore_sigterm(struct kreg_conn *conn, void *arg)
{
	struct shared *s = arg;

	signal(SIGTERM, SIG_IGN);
	__atomic_store_n(&s->ready, 1, __ATOMIC_SEQ_CST);
	return sleeper(conn, NULL);
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Three sleepers under @strategy; kills the middle one; the pids before and after. */
static void kill_middle(struct __test_metadata *_metadata, enum kreg_strategy strategy,
			pid_t before[3], pid_t after[3])
{
	struct kreg_child_spec spec = { .start = sleeper, .restart = KREG_PERMANENT };
	struct kreg_supervisor *sup;
	int i;

	ASSERT_EQ(0, kreg_supervisor_new(&sup, strategy, 5, 10));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, kreg_start_child(sup, &spec, &before[i], NULL));
	kill(before[1], SIGKILL);
	EXPECT_EQ(-ETIMEDOUT, kreg_supervisor_run(sup, 300));
	for (i = 0; i < 3; i++) {
		after[i] = kreg_supervisor_child_pid(sup, i);
		EXPECT_GT(after[i], 0);
	}
	kreg_supervisor_free(sup);
	/* Every child is gone with its supervisor. */
	for (i = 0; i < 3; i++)
		EXPECT_NE(0, kill(after[i], 0));
}

TEST(one_for_one_restarts_only_the_child_that_ended)
{
	pid_t before[3], after[3];

	kill_middle(_metadata, KREG_ONE_FOR_ONE, before, after);
	EXPECT_EQ(before[0], after[0]);
	EXPECT_NE(before[1], after[1]);
	EXPECT_EQ(before[2], after[2]);
}

TEST(one_for_all_restarts_every_child)
{
	pid_t before[3], after[3];

	kill_middle(_metadata, KREG_ONE_FOR_ALL, before, after);
	EXPECT_NE(before[0], after[0]);
	EXPECT_NE(before[1], after[1]);
	EXPECT_NE(before[2], after[2]);
}

TEST(rest_for_one_restarts_it_and_those_started_after)
{
	pid_t before[3], after[3];

	kill_middle(_metadata, KREG_REST_FOR_ONE, before, after);
	EXPECT_EQ(before[0], after[0]);
	EXPECT_NE(before[1], after[1]);
	EXPECT_NE(before[2], after[2]);
}

/* A child of @type that exits once with @code: is it running afterwards? */
static pid_t restarted(struct __test_metadata *_metadata, enum kreg_restart type, int code)
{
	struct shared *s = shared_new();
	struct kreg_child_spec spec = { .start = exit_once, .restart = type };
	struct kreg_supervisor *sup;
	pid_t pid;

	if (!s)
		return -1;
	s->code = code;
	spec.arg = s;
	if (kreg_supervisor_new(&sup, KREG_ONE_FOR_ONE, 5, 10) ||
	    kreg_start_child(sup, &spec, NULL, NULL))
		return -1;
	kreg_supervisor_run(sup, 300);
	pid = kreg_supervisor_child_pid(sup, 0);
	kreg_supervisor_free(sup);
	munmap(s, sizeof(*s));
	return pid;
}

TEST(restart_types_follow_otp)
{
	EXPECT_GT(restarted(_metadata, KREG_PERMANENT, 0), 0);
	EXPECT_GT(restarted(_metadata, KREG_PERMANENT, 3), 0);
	EXPECT_EQ(0, restarted(_metadata, KREG_TRANSIENT, 0));
	EXPECT_GT(restarted(_metadata, KREG_TRANSIENT, 3), 0);
	EXPECT_EQ(0, restarted(_metadata, KREG_TEMPORARY, 3));
}

TEST(too_many_restarts_stop_every_child_and_report_eloop)
{
	struct kreg_child_spec crasher = {
		.start = exit_with, .arg = (void *)(intptr_t)1, .restart = KREG_PERMANENT,
	};
	struct kreg_child_spec calm = { .start = sleeper, .restart = KREG_PERMANENT };
	struct kreg_supervisor *sup;
	pid_t calm_pid;

	ASSERT_EQ(0, kreg_supervisor_new(&sup, KREG_ONE_FOR_ONE, 3, 10));
	ASSERT_EQ(0, kreg_start_child(sup, &calm, &calm_pid, NULL));
	ASSERT_EQ(0, kreg_start_child(sup, &crasher, NULL, NULL));
	EXPECT_EQ(-ELOOP, kreg_supervisor_run(sup, 10000));
	EXPECT_EQ(0, kreg_supervisor_child_pid(sup, 0));
	EXPECT_EQ(0, kreg_supervisor_child_pid(sup, 1));
	EXPECT_NE(0, kill(calm_pid, 0));
	kreg_supervisor_free(sup);
}

TEST(nothing_left_to_supervise_ends_the_run)
{
	struct kreg_child_spec once = {
		.start = exit_with, .arg = (void *)(intptr_t)0, .restart = KREG_TRANSIENT,
	};
	struct kreg_supervisor *sup;

	ASSERT_EQ(0, kreg_supervisor_new(&sup, KREG_ONE_FOR_ALL, 3, 10));
	ASSERT_EQ(0, kreg_start_child(sup, &once, NULL, NULL));
	ASSERT_EQ(0, kreg_start_child(sup, &once, NULL, NULL));
	EXPECT_EQ(0, kreg_supervisor_run(sup, 5000));
	kreg_supervisor_free(sup);
}

TEST(shutdown_waits_the_grace_period_then_kills)
{
	struct shared *s = shared_new();
	struct kreg_child_spec stubborn = {
		.start = ignore_sigterm, .restart = KREG_PERMANENT, .shutdown_ms = 300,
	};
	struct kreg_child_spec polite = {
		.start = sleeper, .restart = KREG_PERMANENT, .shutdown_ms = 5000,
	};
	struct kreg_supervisor *sup;
	pid_t pid;
	uint64_t t0;

	ASSERT_NE(NULL, s);
	stubborn.arg = s;
	ASSERT_EQ(0, kreg_supervisor_new(&sup, KREG_ONE_FOR_ONE, 3, 10));
	ASSERT_EQ(0, kreg_start_child(sup, &stubborn, &pid, NULL));
	while (!__atomic_load_n(&s->ready, __ATOMIC_SEQ_CST))
		usleep(1000);
	t0 = ms_now();
	kreg_supervisor_stop(sup);
	EXPECT_GE(ms_now() - t0, 300);
	EXPECT_NE(0, kill(pid, 0));
	kreg_supervisor_free(sup);

	/* A child that obeys SIGTERM does not make anyone wait. */
	ASSERT_EQ(0, kreg_supervisor_new(&sup, KREG_ONE_FOR_ONE, 3, 10));
	ASSERT_EQ(0, kreg_start_child(sup, &polite, &pid, NULL));
	t0 = ms_now();
	kreg_supervisor_free(sup);
	EXPECT_LT(ms_now() - t0, 2000);
	EXPECT_NE(0, kill(pid, 0));
	munmap(s, sizeof(*s));
}

TEST(bad_arguments_are_einval)
{
	struct kreg_child_spec none = { .start = NULL };
	struct kreg_supervisor *sup;

	EXPECT_EQ(-EINVAL, kreg_supervisor_new(&sup, (enum kreg_strategy)7, 3, 10));
	EXPECT_EQ(-EINVAL, kreg_supervisor_new(&sup, KREG_ONE_FOR_ONE, -1, 10));
	EXPECT_EQ(-EINVAL, kreg_supervisor_new(&sup, KREG_ONE_FOR_ONE, 3, 0));
	ASSERT_EQ(0, kreg_supervisor_new(&sup, KREG_ONE_FOR_ONE, 3, 10));
	EXPECT_EQ(-EINVAL, kreg_start_child(sup, &none, NULL, NULL));
	kreg_supervisor_free(sup);
}

TEST_HARNESS_MAIN
