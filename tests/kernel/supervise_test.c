// SPDX-License-Identifier: GPL-2.0
/*
 * Supervision with names: a restarted child takes its name again, so the
 * name follows the live process; `kregctl run` does the same for an
 * ordinary program.
 */
#include "helpers.h"
#include "kill_on_register.skel.h"
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
	ASSERT_EQ(0, kreg_start_child(sup, &spec, &first, NULL));
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

TEST_F(sup, start_child_on_a_held_name_reports_the_holder_and_adds_nothing)
{
	struct kreg_child_spec spec = {
		.name = "sup-held", .start = sleeper, .restart = KREG_PERMANENT,
	};
	enum kreg_started how = KREG_STARTED;
	struct kreg_supervisor *sup;
	pid_t pid = 0;

	ASSERT_EQ(0, kreg_register(self->c, "sup-held", 0, NULL));
	ASSERT_EQ(0, kreg_supervisor_new(&sup, KREG_ONE_FOR_ONE, 2, 10));
	ASSERT_EQ(0, kreg_start_child(sup, &spec, &pid, &how));
	EXPECT_EQ(KREG_ALREADY_STARTED, how);
	EXPECT_EQ(getpid(), pid);
	EXPECT_EQ(0, kreg_supervisor_child_pid(sup, 0));
	/* Nothing lasting was started: nothing to supervise. */
	EXPECT_EQ(0, kreg_supervisor_run(sup, 1000));
	kreg_supervisor_free(sup);
	EXPECT_EQ(0, kreg_unregister(self->c, "sup-held"));
}

static int exit_soon(struct kreg_conn *conn, void *arg)
{
	usleep(100 * 1000);
	return 1;
}

TEST_F(sup, a_child_whose_name_is_taken_while_it_is_down_cannot_restart)
{
	struct kreg_child_spec spec = {
		.name = "sup-taken", .start = exit_soon, .restart = KREG_PERMANENT,
	};
	struct kreg_supervisor *sup;
	pid_t pid = 0;

	ASSERT_EQ(0, kreg_supervisor_new(&sup, KREG_ONE_FOR_ONE, 2, 10));
	ASSERT_EQ(0, kreg_start_child(sup, &spec, &pid, NULL));
	/* It has ended (not yet reaped) when someone else takes its name. */
	usleep(400 * 1000);
	ASSERT_EQ(0, kreg_register(self->c, "sup-taken", 0, NULL));
	/* Each restart exits KREG_EXIT_NAME_HELD: the intensity runs out. */
	EXPECT_EQ(-ELOOP, kreg_supervisor_run(sup, 10000));
	kreg_supervisor_free(sup);
	EXPECT_EQ(0, kreg_unregister(self->c, "sup-taken"));
}

/* A server that counts the calls it answered; it tells a pipe when it stops. */
static int count_calls(struct kreg_server *srv, void *state, const void *req,
		       size_t len, const struct kreg_from *from)
{
	long *n = state;

	++*n;
	return kreg_reply(srv, from, n, sizeof(*n));
}

static int count_init(struct kreg_server *srv, void *args, void **state)
{
	*state = calloc(1, sizeof(long));
	return *state ? 0 : -ENOMEM;
}

static int stopped_fd = -1;

static void count_terminate(struct kreg_server *srv, void *state, int reason)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "terminate %d", reason);

	if (write(stopped_fd, line, (size_t)n) != n)
		abort();
	free(state);
}

static const struct kreg_module call_counter = {
	.init = count_init,
	.handle_call = count_calls,
	.terminate = count_terminate,
};

static long calls_so_far(const struct kreg_via *via)
{
	long n = -1;
	int err = kreg_call(via, "", 0, &n, sizeof(n), NULL, 5000);

	return err ? err : n;
}

TEST_F(sup, a_restarted_server_answers_under_its_name_with_fresh_state)
{
	struct kreg_child_spec spec = {
		.name = "sup-server", .module = &call_counter, .restart = KREG_PERMANENT,
		.shutdown_ms = 5000,
	};
	struct kreg_supervisor *sup;
	struct kreg_via via;
	pid_t first = 0, second;
	char line[32] = "";
	int fds[2];

	ASSERT_EQ(0, pipe(fds));
	stopped_fd = fds[1];
	ASSERT_EQ(0, kreg_via_tuple(self->c, "sup-server", &via));
	ASSERT_EQ(0, kreg_supervisor_new(&sup, KREG_ONE_FOR_ONE, 3, 10));
	ASSERT_EQ(0, kreg_start_child(sup, &spec, &first, NULL));
	EXPECT_EQ(1, calls_so_far(&via));
	EXPECT_EQ(2, calls_so_far(&via));

	kill(first, SIGKILL);
	EXPECT_EQ(-ETIMEDOUT, kreg_supervisor_run(sup, 500));
	second = kreg_supervisor_child_pid(sup, 0);
	ASSERT_GT(second, 0);
	EXPECT_NE(first, second);
	EXPECT_EQ(second, holder_other_than(self->c, "sup-server", first));
	EXPECT_EQ(1, calls_so_far(&via));

	/* Shutdown is SIGTERM, which a server turns into terminate(0). */
	kreg_supervisor_free(sup);
	close(fds[1]);
	ASSERT_LT(0, read(fds[0], line, sizeof(line) - 1));
	EXPECT_STREQ("terminate 0", line);
	close(fds[0]);
}

/*
 * A child killed after it took its name but before it told the supervisor
 * (what `kregctl run` once lost on PREEMPT_RT, as "No child processes"):
 * it has started and ended, and the supervisor restarts it.
 */
TEST_F(sup, a_child_killed_before_it_reports_is_restarted_not_lost)
{
	struct kreg_child_spec spec = {
		.name = "sup-killed-early", .start = sleeper, .restart = KREG_PERMANENT,
	};
	struct kill_on_register *probe = kill_on_register__open_and_load();
	struct kreg_supervisor *sup;
	enum kreg_started how;
	pid_t first, second;

	ASSERT_NE(NULL, probe);
	strcpy(probe->bss->victim, spec.name);
	ASSERT_EQ(0, kill_on_register__attach(probe));
	ASSERT_EQ(0, kreg_supervisor_new(&sup, KREG_ONE_FOR_ONE, 3, 10));
	ASSERT_EQ(0, kreg_start_child(sup, &spec, &first, &how));
	EXPECT_EQ(KREG_STARTED, how);
	EXPECT_EQ(1, probe->bss->kills);
	/* The run loop sees the exit on the pidfd and starts it again. */
	EXPECT_EQ(-ETIMEDOUT, kreg_supervisor_run(sup, 500));
	second = holder_other_than(self->c, spec.name, first);
	EXPECT_GT(second, 0);
	EXPECT_EQ(second, kreg_supervisor_child_pid(sup, 0));
	kreg_supervisor_free(sup);
	kill_on_register__destroy(probe);
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
