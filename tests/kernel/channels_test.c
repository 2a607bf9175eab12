// SPDX-License-Identifier: GPL-2.0
/*
 * What a local user learns or does through kreg's side channels, attacked
 * raw (raw_nl.h, view_raw.h): counts in STATUS, a name spoken for by a
 * process that did not register it, a view that a wider policy should
 * fill. Found by a review of issue 17's fix; each test failed before it.
 */
#include "cleanup.h"
#include "container.h"
#include "helpers.h"
#include "kselftest_harness.h"
#include "raw_nl.h"
#include "view_raw.h"

#define NOBODY	65534

FIXTURE(channels) {
	struct kreg_conn *c;
	pid_t sleeper;
};

FIXTURE_SETUP(channels)
{
	ASSERT_EQ(0, kreg_open(&self->c));
	ASSERT_EQ(0, kreg_policy_unload(self->c));
	self->sleeper = spawn_sleeper();
	ASSERT_LT(0, self->sleeper);
}

FIXTURE_TEARDOWN(channels)
{
	kill_and_reap(self->sleeper);
	kreg_policy_unload(self->c);
	kreg_close(self->c);
}

/* --- STATUS: how many names, and how many rules, only to administrators --- */

/* As nobody: no count of the table, and no count of the rules hiding it. */
static int status_as_nobody(void *arg)
{
	static struct raw_msg reply;
	struct raw_nl n;

	(void)arg;
	if (raw_nl_open(&n) || raw_nl_status(&n, &reply))
		return 1;
	if (raw_attr(&reply.nlh, KREG_A_ENTRIES))
		return 2;
	/* A policy is loaded, and that is all it learns. */
	if (!raw_attr(&reply.nlh, KREG_A_POLICY_RULES) ||
	    raw_attr_u32(&reply.nlh, KREG_A_POLICY_RULES) != 0)
		return 3;
	/* Its own uid, as the host sees it. */
	if (raw_attr_u32(&reply.nlh, KREG_A_HOST_UID) != NOBODY)
		return 4;
	raw_nl_close(&n);
	return 0;
}

TEST_F(channels, status_counts_names_and_rules_for_administrators_only)
{
	static struct raw_msg reply;
	struct raw_nl n;

	ASSERT_EQ(0, load_policy(self->c, "allow see * everyone\n"
					  "deny see secret.* everyone\n"));
	ASSERT_EQ(0, kreg_register(self->c, "secret.counted", self->sleeper, NULL));
	EXPECT_EQ(0, run_as(NOBODY, status_as_nobody, NULL));
	ASSERT_EQ(0, raw_nl_open(&n));
	ASSERT_EQ(0, raw_nl_status(&n, &reply));
	EXPECT_LE(1, raw_attr_u32(&reply.nlh, KREG_A_ENTRIES));
	EXPECT_EQ(2, raw_attr_u32(&reply.nlh, KREG_A_POLICY_RULES));
	raw_nl_close(&n);
	kreg_unregister(self->c, "secret.counted");
}

/* --- FROM_NAME: only who registered a name speaks for it ------------------ */

struct deputy {
	int ready[2], go[2], done[2];
};

/*
 * As nobody, holding a name that root registered for it: it may neither
 * send as that name, nor release it by sending. Then it waits to be told
 * to go, so that the test sees the name still held by it.
 */
static int speak_for_anothers_name(void *arg)
{
	struct deputy *d = arg;
	struct raw_nl n;
	char b;

	if (raw_nl_open(&n) || write(d->ready[1], "r", 1) != 1 || read(d->go[0], &b, 1) != 1)
		return 1;
	if (raw_send_to(&n, "proof.inbox", "proof.held", 0, "x", 1) != -EPERM)
		return 2;
	if (raw_send_to(&n, "proof.inbox", "proof.held", KREG_SEND_F_RELEASE_FROM, "x", 1) !=
	    -EPERM)
		return 3;
	if (write(d->done[1], "d", 1) != 1 || read(d->go[0], &b, 1) != 1)
		return 4;
	raw_nl_close(&n);
	return 0;
}

TEST_F(channels, a_holder_that_did_not_register_a_name_cannot_speak_for_it)
{
	struct kreg_message *msg = malloc(sizeof(*msg));
	struct kreg_conn *inbox;
	struct deputy d;
	pid_t held, found = 0;
	int status;
	char b;

	ASSERT_NE(NULL, msg);
	ASSERT_EQ(0, pipe(d.ready));
	ASSERT_EQ(0, pipe(d.go));
	ASSERT_EQ(0, pipe(d.done));
	ASSERT_EQ(0, kreg_open(&inbox));
	ASSERT_EQ(0, kreg_register(inbox, "proof.inbox", 0, NULL));
	held = fork();
	ASSERT_LE(0, held);
	if (held == 0) {
		if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY))
			_exit(100);
		_exit(speak_for_anothers_name(&d));
	}
	ASSERT_EQ(1, read(d.ready[0], &b, 1));
	/* Root names its child, which runs as nobody, as the holder. */
	ASSERT_EQ(0, kreg_register(self->c, "proof.held", held, NULL));
	ASSERT_EQ(1, write(d.go[1], "g", 1));
	ASSERT_EQ(1, read(d.done[0], &b, 1));
	/* Nothing reached the inbox, and the name is still held by the child. */
	EXPECT_EQ(-ETIMEDOUT, kreg_recv(inbox, msg, 0));
	EXPECT_EQ(0, kreg_whereis_name(self->c, "proof.held", &found));
	EXPECT_EQ(held, found);
	ASSERT_EQ(1, write(d.go[1], "q", 1));
	ASSERT_EQ(held, waitpid(held, &status, 0));
	EXPECT_EQ(0, status_of(status));
	kreg_unregister(self->c, "proof.held");
	kreg_close(inbox);
	free(msg);
}

/* --- the view: a wider policy brings back what a narrower one hid --------- */

TEST_F(channels, a_wider_policy_brings_names_back_into_the_view)
{
	struct raw_view v;

	ASSERT_EQ(0, kreg_register(self->c, "wide.one", self->sleeper, NULL));
	ASSERT_EQ(0, load_policy(self->c, "allow see * everyone\n"
					  "deny see wide.* everyone\n"));
	ASSERT_EQ(0, raw_view_map(&v, 0));
	EXPECT_EQ(0, raw_view_pid(&v, "wide.one"));
	raw_view_unmap(&v);
	/* Everyone may see it again: the view holds it again, without waiting for growth. */
	ASSERT_EQ(0, load_policy(self->c, "allow see * everyone\n"));
	EXPECT_EQ(0, raw_view_wait_pid(&v, "wide.one", (uint32_t)self->sleeper));
	raw_view_unmap(&v);
	kreg_unregister(self->c, "wide.one");
}

TEST_HARNESS_MAIN
