// SPDX-License-Identifier: GPL-2.0
/*
 * The "events" group: every registration and unregistration is announced,
 * with its reason, in the order the table changed; failures announce nothing.
 */
#include <sys/socket.h>

#include "helpers.h"
#include "kselftest_harness.h"

FIXTURE(ev) {
	struct kreg_conn *mon, *c;
	struct kreg_event e;
};

FIXTURE_SETUP(ev)
{
	ASSERT_EQ(0, kreg_open(&self->mon));
	ASSERT_EQ(0, kreg_subscribe(self->mon));
	ASSERT_EQ(0, kreg_open(&self->c));
}

FIXTURE_TEARDOWN(ev)
{
	kreg_close(self->c);
	kreg_close(self->mon);
}

TEST_F(ev, registration_and_release_are_announced)
{
	ASSERT_EQ(0, kreg_register(self->c, "ev-a", 0, NULL));
	ASSERT_EQ(0, kreg_next_event(self->mon, &self->e, 2000));
	EXPECT_EQ(KREG_EVENT_REGISTERED, self->e.kind);
	EXPECT_STREQ("ev-a", self->e.name);
	EXPECT_EQ(getpid(), self->e.pid);
	EXPECT_EQ(0, self->e.uid);

	ASSERT_EQ(0, kreg_unregister(self->c, "ev-a"));
	ASSERT_EQ(0, kreg_next_event(self->mon, &self->e, 2000));
	EXPECT_EQ(KREG_EVENT_UNREGISTERED, self->e.kind);
	EXPECT_STREQ("ev-a", self->e.name);
	EXPECT_EQ(KREG_REASON_EXPLICIT, self->e.reason);
	EXPECT_EQ(-ETIMEDOUT, kreg_next_event(self->mon, &self->e, 100));
}

TEST_F(ev, holder_exit_is_announced_as_exited)
{
	pid_t child = spawn_sleeper(), pid;

	ASSERT_EQ(0, kreg_register(self->c, "ev-exit", child, NULL));
	ASSERT_EQ(0, kreg_next_event(self->mon, &self->e, 2000));
	kill_and_reap(child);
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "ev-exit", &pid));
	ASSERT_EQ(0, kreg_next_event(self->mon, &self->e, 2000));
	EXPECT_EQ(KREG_EVENT_UNREGISTERED, self->e.kind);
	EXPECT_STREQ("ev-exit", self->e.name);
	EXPECT_EQ(child, self->e.pid);
	EXPECT_EQ(KREG_REASON_EXITED, self->e.reason);
	EXPECT_STREQ("exited", kreg_reason_name(self->e.reason));
}

TEST_F(ev, events_arrive_in_the_order_of_the_changes)
{
	char name[32];
	int i;

	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "ev-order-%d", i);
		ASSERT_EQ(0, kreg_register(self->c, name, 0, NULL));
		ASSERT_EQ(0, kreg_unregister(self->c, name));
	}
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "ev-order-%d", i / 2);
		ASSERT_EQ(0, kreg_next_event(self->mon, &self->e, 2000));
		EXPECT_STREQ(name, self->e.name);
		EXPECT_EQ(i % 2 ? KREG_EVENT_UNREGISTERED : KREG_EVENT_REGISTERED,
			  self->e.kind);
	}
}

TEST_F_TIMEOUT(ev, a_reader_that_falls_behind_is_told_and_goes_on, 120)
{
	int i, lost = 0, after = 0, err, small = 32768;

	/*
	 * A reader with a small buffer that does not read falls behind (kreg
	 * leaves 16 KiB of it for replies, so events get the rest).
	 */
	ASSERT_EQ(0, setsockopt(nl_socket_get_fd(self->mon->sock), SOL_SOCKET, SO_RCVBUF,
				&small, sizeof(small)));
	for (i = 0; i < 1000; i++) {
		ASSERT_EQ(0, kreg_register(self->c, "ev-flood", 0, NULL));
		ASSERT_EQ(0, kreg_unregister(self->c, "ev-flood"));
	}
	while ((err = kreg_next_event(self->mon, &self->e, 200)) != -ETIMEDOUT) {
		if (err == -ENOBUFS)
			lost++;
		else
			ASSERT_EQ(0, err);
	}
	EXPECT_GT(lost, 0);
	/* Once drained, the next change arrives as usual. */
	ASSERT_EQ(0, kreg_register(self->c, "ev-after", 0, NULL));
	while (kreg_next_event(self->mon, &self->e, 2000) == 0)
		if (!strcmp(self->e.name, "ev-after")) {
			after++;
			break;
		}
	EXPECT_EQ(1, after);
	EXPECT_EQ(0, kreg_unregister(self->c, "ev-after"));
}

TEST_F(ev, await_is_woken_by_a_later_registration)
{
	uint64_t t0;
	pid_t child, pid = 0;
	int status;

	child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		struct kreg_conn *c;

		usleep(300000);
		if (kreg_open(&c) || kreg_register(c, "ev-awaited", 0, NULL))
			_exit(1);
		pause();
	}
	t0 = now_ns();
	ASSERT_EQ(0, kreg_await_name(self->c, "ev-awaited", 10000, &pid));
	EXPECT_EQ(child, pid);
	EXPECT_GE(now_ns() - t0, 250000000ULL);
	/* Already there: no wait. */
	ASSERT_EQ(0, kreg_await_name(self->c, "ev-awaited", 0, &pid));
	EXPECT_EQ(child, pid);
	kill(child, SIGKILL);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	/* Gone, and nobody takes it: the wait ends at its timeout. */
	t0 = now_ns();
	EXPECT_EQ(-ETIMEDOUT, kreg_await_name(self->c, "ev-awaited", 200, &pid));
	EXPECT_GE(now_ns() - t0, 200000000ULL);
	/* The caller's own connection saw nothing taken from it. */
	EXPECT_EQ(0, kreg_next_event(self->mon, &self->e, 2000));
}

TEST_F(ev, failed_requests_announce_nothing)
{
	ASSERT_EQ(0, kreg_register(self->c, "ev-held", 0, NULL));
	ASSERT_EQ(0, kreg_next_event(self->mon, &self->e, 2000));
	EXPECT_EQ(-EEXIST, kreg_register(self->c, "ev-held", 0, NULL));
	EXPECT_EQ(-ENOENT, kreg_unregister(self->c, "ev-never"));
	EXPECT_EQ(-EINVAL, kreg_register(self->c, "bad\tname", 0, NULL));
	ASSERT_EQ(0, kreg_unregister(self->c, "ev-held"));
	ASSERT_EQ(0, kreg_next_event(self->mon, &self->e, 2000));
	EXPECT_EQ(KREG_EVENT_UNREGISTERED, self->e.kind);
	EXPECT_STREQ("ev-held", self->e.name);
}

TEST_HARNESS_MAIN
