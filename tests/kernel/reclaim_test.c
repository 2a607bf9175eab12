// SPDX-License-Identifier: GPL-2.0
/*
 * Dead holders cost nothing, even without BPF exit cleanup: a register that
 * hits the per-uid quota or the table's limit first takes back what dead
 * processes still hold, and a name bound to its mailbox (a call's reply
 * name) goes when its socket closes, however its process ended.
 */
#include "cleanup.h"
#include "helpers.h"
#include "kselftest_harness.h"

FIXTURE(reclaim) {
	struct kreg_conn *c;
	long saved_quota, saved_max;
};

FIXTURE_SETUP(reclaim)
{
	struct cleanup_status st;

	/* What is proved here holds without the exit program. */
	ASSERT_LE(0, cleanup_detach());
	ASSERT_EQ(0, cleanup_status(&st));
	ASSERT_FALSE(st.attached);
	self->saved_quota = read_param("max_per_uid");
	self->saved_max = read_param("max_entries");
	ASSERT_GT(self->saved_quota, 0);
	ASSERT_GT(self->saved_max, 0);
	ASSERT_EQ(0, kreg_open(&self->c));
}

FIXTURE_TEARDOWN(reclaim)
{
	write_param("max_per_uid", self->saved_quota);
	write_param("max_entries", self->saved_max);
	kreg_close(self->c);
}

static int register_and_die(const char *name);

static int register_then_die(void *arg)
{
	return register_and_die(arg);
}

/* A process that registers @name and dies holding it: no unregister, no close. */
static int register_and_die(const char *name)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct kreg_conn *c;

		if (kreg_open(&c))
			_exit(1);
		_exit(kreg_register(c, name, 0, NULL) ? 2 : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* @name registered by a process of @uid that then dies: 0 when it did. */
static int register_and_die_as(uid_t uid, const char *name)
{
	return run_as(uid, register_then_die, (void *)name);
}

struct churn {
	const char *prefix;
	int processes;
	int live;	/* then this many live names in one process */
};

/*
 * As the uid this runs as: @processes processes register a name each and
 * die; then one process registers @live names. 0 when every registration
 * succeeded and the quota counts exactly the live names.
 */
static int churn_then_fill(void *arg)
{
	const struct churn *ch = arg;
	struct kreg_status st;
	struct kreg_conn *c;
	char name[64];
	int i, ret = 0;

	for (i = 0; i < ch->processes; i++) {
		snprintf(name, sizeof(name), "%s-dead-%d", ch->prefix, i);
		if (register_and_die(name))
			return 10;
	}
	if (kreg_open(&c))
		return 11;
	for (i = 0; i < ch->live && !ret; i++) {
		snprintf(name, sizeof(name), "%s-live-%d", ch->prefix, i);
		if (kreg_register(c, name, 0, NULL))
			ret = 12;
	}
	if (!ret && (kreg_status(c, &st) || st.uid_entries != (size_t)ch->live))
		ret = 13;
	for (i = 0; i < ch->live; i++) {
		snprintf(name, sizeof(name), "%s-live-%d", ch->prefix, i);
		kreg_unregister(c, name);
	}
	kreg_close(c);
	return ret;
}

TEST_F_TIMEOUT(reclaim, dead_holders_give_back_their_quota_before_edquot, 300)
{
	struct churn ch = {
		.prefix = "rq", .processes = scaled(400, 150), .live = scaled(300, 100),
	};

	ASSERT_EQ(0, write_param("max_per_uid", ch.live));
	EXPECT_EQ(0, run_as(UNPRIVILEGED_UID, churn_then_fill, &ch));
}

TEST_F_TIMEOUT(reclaim, dead_holders_give_back_table_space_before_enospc, 300)
{
	long used = count_entries(self->c);
	struct churn ch = { .prefix = "rt", .processes = 60, .live = 20 };

	ASSERT_GE(used, 0);
	ASSERT_EQ(0, write_param("max_entries", used + ch.live));
	/* Root has no quota: here the table's limit is what is hit. */
	EXPECT_EQ(0, churn_then_fill(&ch));
	EXPECT_EQ(used, count_entries(self->c));
}

/* Registers @arg's name when the go pipe says, and holds it until killed. */
struct racer {
	char name[32];
	int go, ready;
};

static int register_at_once(void *arg)
{
	struct racer *r = arg;
	struct kreg_conn *c;
	char byte;
	int err;

	if (kreg_open(&c) || read(r->go, &byte, 1) != 1)
		return 10;
	err = kreg_register(c, r->name, 0, NULL);
	if (err) {
		fprintf(stderr, "racer %s: %s\n", r->name, kreg_strerror(err));
		return 11;
	}
	if (write(r->ready, "r", 1) != 1)
		return 12;
	for (;;)
		pause();
}

/*
 * Many registers of one uid hit its quota together, with dead entries of
 * its own still counted: each reclaims, or finds another reclaimed already,
 * and every one that fits the quota gets in.
 */
TEST_F_TIMEOUT(reclaim, registers_that_hit_the_quota_together_all_fit, 300)
{
	int racers = scaled(300, 60), dead = 20, go[2], ready[2], i, status;
	pid_t *pids = calloc(racers, sizeof(*pids));
	char name[32], byte;
	struct racer r;

	ASSERT_NE(NULL, pids);
	ASSERT_EQ(0, write_param("max_per_uid", racers));
	for (i = 0; i < dead; i++) {
		snprintf(name, sizeof(name), "rr-dead-%d", i);
		ASSERT_EQ(0, register_and_die_as(UNPRIVILEGED_UID, name));
	}
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	r.go = go[0];
	r.ready = ready[1];
	for (i = 0; i < racers; i++) {
		snprintf(r.name, sizeof(r.name), "rr-live-%d", i);
		pids[i] = fork();
		ASSERT_GE(pids[i], 0);
		if (pids[i] == 0) {
			/* This process itself: the test kills it at the end. */
			if (setgroups(0, NULL) || setresgid(UNPRIVILEGED_UID, UNPRIVILEGED_UID,
							    UNPRIVILEGED_UID) ||
			    setresuid(UNPRIVILEGED_UID, UNPRIVILEGED_UID, UNPRIVILEGED_UID))
				_exit(100);
			_exit(register_at_once(&r));
		}
	}
	close(ready[1]);
	/* All at once: one byte each. */
	for (i = 0; i < racers; i++)
		ASSERT_EQ(1, write(go[1], "g", 1));
	for (i = 0; i < racers; i++) {
		if (read(ready[0], &byte, 1) != 1)
			break;
	}
	EXPECT_EQ(racers, i);
	for (i = 0; i < racers; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], &status, 0);
	}
	free(pids);
}

static int echo_call(struct kreg_server *srv, void *state, const void *req, size_t len,
		     const struct kreg_from *from)
{
	(void)state;
	return kreg_reply(srv, from, req, len);
}

static const struct kreg_module echo = { .handle_call = echo_call };

/* One call to "reclaim-echo", then death without closing anything. */
static int call_and_die(void *arg)
{
	int i, status, n = *(int *)arg;

	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			struct kreg_conn *c;
			struct kreg_via via;
			char reply[8];
			size_t len;

			if (kreg_open(&c) || kreg_via_tuple(c, "reclaim-echo", &via))
				_exit(1);
			_exit(kreg_call(&via, "ping", 4, reply, sizeof(reply), &len, 10000) ||
			      len != 4 ? 2 : 0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
			return 20;
		if (WEXITSTATUS(status))
			return 20 + WEXITSTATUS(status);
	}
	return 0;
}

static int quota_is_whole(void *arg)
{
	struct churn ch = { .prefix = "rc", .processes = 0, .live = *(int *)arg };

	return churn_then_fill(&ch);
}

/*
 * The measured failure this fixes: with max_per_uid=300 and no cleanup, 400
 * processes of one uid that each made one call and died left their reply
 * names behind, and from the 300th on every call failed with EDQUOT.
 */
TEST_F_TIMEOUT(reclaim, calls_leave_no_reply_names_behind, 300)
{
	int calls = scaled(400, 150), quota = scaled(300, 100);
	enum kreg_started how;
	pid_t server;

	ASSERT_EQ(0, write_param("max_per_uid", quota));
	ASSERT_EQ(0, kreg_start_link(self->c, "reclaim-echo", &echo, NULL, &server, &how));
	ASSERT_EQ(KREG_STARTED, how);
	EXPECT_EQ(0, run_as(UNPRIVILEGED_UID, call_and_die, &calls));
	/* Nothing of theirs is left: the uid still has its whole quota. */
	EXPECT_EQ(0, run_as(UNPRIVILEGED_UID, quota_is_whole, &quota));
	kill_and_reap(server);
}

static int register_bound(struct kreg_conn *c, const char *name)
{
	return c->ops->register_meta(c, name, 0, NULL, 0, KREG_F_MAILBOX_BOUND,
				    &(struct kreg_holder){ 0 });
}

static int next_unregistered(struct kreg_conn *mon, const char *name, struct kreg_event *e)
{
	int err;

	while (!(err = kreg_next_event(mon, e, 5000)))
		if (e->kind == KREG_EVENT_UNREGISTERED && !strcmp(e->name, name))
			return 0;
	return err;
}

TEST_F(reclaim, a_bound_name_goes_when_its_socket_closes)
{
	struct kreg_conn *holder, *mon;
	struct kreg_event e;
	pid_t pid, child;

	ASSERT_EQ(0, kreg_open(&mon));
	ASSERT_EQ(0, kreg_subscribe(mon));
	ASSERT_EQ(0, kreg_open(&holder));
	ASSERT_EQ(0, register_bound(holder, "bound-name"));
	ASSERT_EQ(0, kreg_whereis_name(self->c, "bound-name", &pid));
	EXPECT_EQ(getpid(), pid);

	/* A forked child's copy of the socket closing is not the socket closing. */
	child = fork();
	ASSERT_GE(child, 0);
	if (child == 0)
		_exit(0);
	ASSERT_EQ(child, waitpid(child, NULL, 0));
	EXPECT_EQ(0, kreg_whereis_name(self->c, "bound-name", &pid));

	kreg_close(holder);
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "bound-name", &pid));
	ASSERT_EQ(0, next_unregistered(mon, "bound-name", &e));
	EXPECT_EQ(KREG_REASON_CLOSED, e.reason);
	EXPECT_STREQ("closed", kreg_reason_name(e.reason));
	kreg_close(mon);
}

TEST_F(reclaim, a_killed_process_takes_its_bound_names_along)
{
	int ready[2], status;
	struct kreg_conn *mon;
	struct kreg_event e;
	pid_t child, pid;
	char byte;

	ASSERT_EQ(0, kreg_open(&mon));
	ASSERT_EQ(0, kreg_subscribe(mon));
	ASSERT_EQ(0, pipe(ready));
	child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		struct kreg_conn *c;

		if (kreg_open(&c) || register_bound(c, "bound-killed"))
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	ASSERT_EQ(1, read(ready[0], &byte, 1));
	kill(child, SIGKILL);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	/*
	 * Gone with its socket, in its exit: no cleanup program and no lookup
	 * (a lookup would have dropped it with reason "exited").
	 */
	ASSERT_EQ(0, next_unregistered(mon, "bound-killed", &e));
	EXPECT_EQ(KREG_REASON_CLOSED, e.reason);
	EXPECT_EQ(child, e.pid);
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "bound-killed", &pid));
	close(ready[0]);
	close(ready[1]);
	kreg_close(mon);
}

TEST_F(reclaim, unknown_registration_flags_are_einval)
{
	pid_t pid;

	EXPECT_EQ(-EINVAL, raw_register(self->c, "flags-bad", sizeof("flags-bad"),
					KREG_A_FLAGS, 1U << 7));
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "flags-bad", &pid));
}

TEST_HARNESS_MAIN
