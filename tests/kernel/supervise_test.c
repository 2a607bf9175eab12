// SPDX-License-Identifier: GPL-2.0
/*
 * Supervision with names: a restarted child takes its name again, so the
 * name follows the live process; `kregctl run` does the same for an
 * ordinary program.
 */
#include "helpers.h"
#include "kselftest_harness.h"

static int sleeper(struct kreg_conn *conn, void *arg)
{
	for (;;)
		pause();
	return 0;
}

FIXTURE(sup) {
	struct kreg_conn *c;
};

FIXTURE_SETUP(sup)
{
	ASSERT_EQ(0, kreg_open(&self->c));
}

FIXTURE_TEARDOWN(sup)
{
	kreg_close(self->c);
}

/* Waits until @name is held by a process other than @not; its pid. */
static pid_t holder_other_than(struct kreg_conn *c, const char *name, pid_t not)
{
	pid_t pid = 0;
	int i;

	for (i = 0; i < 50; i++) {
		if (kreg_await_name(c, name, 5000, &pid))
			return -1;
		if (pid != not)
			return pid;
		usleep(100000);	/* the old holder, not yet seen dead */
	}
	return -1;
}

TEST_F(sup, a_restarted_child_takes_its_name_again)
{
	struct kreg_child_spec spec = {
		.name = "sup-worker", .start = sleeper, .restart = KREG_PERMANENT,
	};
	struct kreg_supervisor *sup;
	pid_t first, second, pid;

	ASSERT_EQ(0, kreg_supervisor_new(&sup, KREG_ONE_FOR_ONE, 3, 10));
	ASSERT_EQ(0, kreg_supervisor_start_child(sup, &spec, &first));
	ASSERT_EQ(0, kreg_await_name(self->c, "sup-worker", 5000, &pid));
	EXPECT_EQ(first, pid);

	kill(first, SIGKILL);
	EXPECT_EQ(-ETIMEDOUT, kreg_supervisor_run(sup, 500));
	second = kreg_supervisor_child_pid(sup, 0);
	ASSERT_GT(second, 0);
	EXPECT_NE(first, second);
	EXPECT_EQ(second, holder_other_than(self->c, "sup-worker", first));

	kreg_supervisor_free(sup);
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "sup-worker", &pid));
}

TEST_F(sup, a_child_whose_name_is_held_cannot_start)
{
	struct kreg_child_spec spec = {
		.name = "sup-held", .start = sleeper, .restart = KREG_PERMANENT,
	};
	struct kreg_supervisor *sup;

	ASSERT_EQ(0, kreg_register(self->c, "sup-held", 0, NULL));
	ASSERT_EQ(0, kreg_supervisor_new(&sup, KREG_ONE_FOR_ONE, 2, 10));
	ASSERT_EQ(0, kreg_supervisor_start_child(sup, &spec, NULL));
	/* Each attempt exits KREG_EXIT_NAME_HELD: the intensity runs out. */
	EXPECT_EQ(-ELOOP, kreg_supervisor_run(sup, 10000));
	kreg_supervisor_free(sup);
	EXPECT_EQ(0, kreg_unregister(self->c, "sup-held"));
}

TEST_F_TIMEOUT(sup, kregctl_run_keeps_a_program_under_its_name, 60)
{
	pid_t ctl, first, second, pid;
	int status;

	ctl = fork();
	ASSERT_GE(ctl, 0);
	if (ctl == 0) {
		execl("/bin/kregctl", "kregctl", "run", "sup-cmd", "--shutdown", "1000", "--",
		      "sleep", "1000", (char *)NULL);
		_exit(127);
	}
	ASSERT_EQ(0, kreg_await_name(self->c, "sup-cmd", 10000, &first));
	kill(first, SIGKILL);
	second = holder_other_than(self->c, "sup-cmd", first);
	ASSERT_GT(second, 0);
	EXPECT_NE(first, second);

	/* SIGTERM: kregctl stops its program and exits cleanly. */
	kill(ctl, SIGTERM);
	ASSERT_EQ(ctl, waitpid(ctl, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_NE(0, kill(second, 0));
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "sup-cmd", &pid));
}

TEST_HARNESS_MAIN
