// SPDX-License-Identifier: GPL-2.0
/*
 * Access control on a shared host: who may OWN, SEE and SEND to a name, as
 * root, as two unprivileged uids and inside a user namespace. With no policy
 * the host behaves as before; "user.UID." names are UID's alone; a name one
 * may not see reads exactly as an absent one; CAP_SYS_ADMIN bypasses all;
 * only it loads, lists and checks the policy; every denial is traced.
 */
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "helpers.h"
#include "kreg_trace_probe.skel.h"
#include "kselftest_harness.h"

#define ALICE	UNPRIVILEGED_UID	/* 1000 */
#define BOB	(UNPRIVILEGED_UID + 1)	/* 1001 */
#define BILLING	1002			/* a group Bob may be in */
#define UNDEFINED 200			/* attempt(): whereis found nothing */

FIXTURE(acc) {
	struct kreg_conn *c;
	pid_t holders[8];
	int nholders;
};

FIXTURE_SETUP(acc)
{
	ASSERT_EQ(0, kreg_open(&self->c));
	ASSERT_EQ(0, kreg_policy_unload(self->c));
}

FIXTURE_TEARDOWN(acc)
{
	int i;

	for (i = 0; i < self->nholders; i++)
		kill_and_reap(self->holders[i]);
	kreg_policy_unload(self->c);
	kreg_close(self->c);
}

enum act { REGISTER, WHEREIS, SEND };

struct attempt {
	enum act act;
	const char *name;
};

static int attempt_child(void *arg)
{
	const struct attempt *a = arg;
	struct kreg_conn *c;
	pid_t pid;
	int err = 0;

	if (kreg_open(&c))
		return 254;
	switch (a->act) {
	case REGISTER:
		err = kreg_register(c, a->name, 0, &pid);
		if (!err)
			kreg_unregister(c, a->name);
		break;
	case WHEREIS:
		err = kreg_whereis_name(c, a->name, &pid);
		if (err == KREG_UNDEFINED)
			return UNDEFINED;
		break;
	case SEND:
		err = kreg_send(c, a->name, "x", 1);
		break;
	}
	kreg_close(c);
	return -err;
}

/* What @act on @name gives @uid in @groups: 0, an errno, or UNDEFINED. */
static int attempt(uid_t uid, const gid_t *groups, size_t n, enum act act, const char *name)
{
	struct attempt a = { .act = act, .name = name };

	return run_as_in(uid, groups, n, attempt_child, &a);
}

/* A process of @uid that holds @name until the test ends; its pid. */
static pid_t hold_as(FIXTURE_DATA(acc) *self, uid_t uid, const char *name)
{
	int ready[2];
	pid_t pid;
	char byte;

	if (pipe(ready))
		return -1;
	pid = fork();
	if (pid == 0) {
		struct kreg_conn *c;

		if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid) ||
		    kreg_open(&c) || kreg_register(c, name, 0, NULL) ||
		    write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(ready[1]);
	if (pid < 0 || read(ready[0], &byte, 1) != 1) {
		close(ready[0]);
		return -1;
	}
	close(ready[0]);
	self->holders[self->nholders++] = pid;
	return pid;
}

TEST_F(acc, without_a_policy_the_host_behaves_as_before)
{
	ASSERT_GT(hold_as(self, ALICE, "acc-alice"), 0);
	EXPECT_EQ(0, attempt(BOB, NULL, 0, REGISTER, "acc-free"));
	EXPECT_EQ(0, attempt(BOB, NULL, 0, WHEREIS, "acc-alice"));
	EXPECT_EQ(0, attempt(BOB, NULL, 0, SEND, "acc-alice"));
	EXPECT_EQ(EEXIST, attempt(BOB, NULL, 0, REGISTER, "acc-alice"));
}

static int register_others_user_name(void *arg)
{
	struct kreg_conn *c;
	int err;

	(void)arg;
	if (kreg_open(&c))
		return 1;
	err = kreg_register(c, "user.1000.db", 0, NULL);
	if (err != -EACCES)
		return 2;
	/* The extack names the missing right. */
	return strstr(kreg_last_error(c), "OWN") ? 0 : 3;
}

TEST_F(acc, user_uid_names_are_that_uids_alone_to_own)
{
	/* With or without a policy, even one that grants everything. */
	EXPECT_EQ(0, attempt(ALICE, NULL, 0, REGISTER, "user.1000.db"));
	EXPECT_EQ(0, run_as(BOB, register_others_user_name, NULL));
	EXPECT_EQ(0, attempt(BOB, NULL, 0, REGISTER, "user.1001.db"));
	ASSERT_EQ(0, load_policy(self->c, "allow all * everyone\n"));
	EXPECT_EQ(EACCES, attempt(BOB, NULL, 0, REGISTER, "user.1000.db"));
	/* One spelling per uid: a leading zero is no name at all. */
	EXPECT_EQ(EINVAL, attempt(BOB, NULL, 0, REGISTER, "user.01000.db"));
	EXPECT_EQ(0, attempt(ALICE, NULL, 0, REGISTER, "user.1000.db"));
	/* Only the owning: others may see and message them as the policy says. */
	ASSERT_GT(hold_as(self, ALICE, "user.1000.svc"), 0);
	EXPECT_EQ(0, attempt(BOB, NULL, 0, WHEREIS, "user.1000.svc"));
	EXPECT_EQ(0, attempt(BOB, NULL, 0, SEND, "user.1000.svc"));
	/* Not a user name: "user.x." and "user.1000" are anyone's. */
	EXPECT_EQ(0, attempt(BOB, NULL, 0, REGISTER, "user.x.db"));
	EXPECT_EQ(0, attempt(BOB, NULL, 0, REGISTER, "user.1000"));
}

TEST_F(acc, rules_grant_by_uid_gid_and_everyone)
{
	static const gid_t billing[] = { BILLING };

	ASSERT_EQ(0, load_policy(self->c,
				 "# orders: Alice runs it, billing may use it\n"
				 "allow own       orders.*  uid 1000\n"
				 "allow see,send  orders.*  gid 1002\n"
				 "allow see       *         everyone\n"));
	EXPECT_EQ(0, attempt(ALICE, NULL, 0, REGISTER, "orders.db"));
	EXPECT_EQ(EACCES, attempt(BOB, NULL, 0, REGISTER, "orders.db"));
	EXPECT_EQ(EACCES, attempt(BOB, NULL, 0, REGISTER, "anything"));
	ASSERT_GT(hold_as(self, ALICE, "orders.db"), 0);
	/* Bob in billing may send; without it, he may only see. */
	EXPECT_EQ(0, attempt(BOB, billing, 1, SEND, "orders.db"));
	EXPECT_EQ(0, attempt(BOB, NULL, 0, WHEREIS, "orders.db"));
	EXPECT_EQ(EACCES, attempt(BOB, NULL, 0, SEND, "orders.db"));
}

TEST_F(acc, the_most_specific_rule_decides_and_deny_wins_a_tie)
{
	ASSERT_EQ(0, load_policy(self->c,
				 "allow all   *             everyone\n"
				 "deny  send  orders.*      everyone\n"
				 "allow send  orders.*      uid 1000\n"
				 "allow send  orders.admin  everyone\n"
				 "deny  send  orders.admin  everyone\n"));
	ASSERT_GT(hold_as(self, 0, "orders.db"), 0);
	ASSERT_GT(hold_as(self, 0, "orders.admin"), 0);
	/* The prefix beats "*"; at one pattern a uid beats everyone. */
	EXPECT_EQ(EACCES, attempt(BOB, NULL, 0, SEND, "orders.db"));
	EXPECT_EQ(0, attempt(ALICE, NULL, 0, SEND, "orders.db"));
	/* The exact name beats the prefix, and deny beats allow at a tie. */
	EXPECT_EQ(EACCES, attempt(ALICE, NULL, 0, SEND, "orders.admin"));
	EXPECT_EQ(0, attempt(BOB, NULL, 0, WHEREIS, "orders.admin"));
}

static int register_held_unseen(void *arg)
{
	struct kreg_conn *c;
	pid_t holder = 4242;

	(void)arg;
	if (kreg_open(&c))
		return 1;
	if (kreg_register(c, "shared.x", 0, &holder) != -EEXIST)
		return 2;
	return holder == 0 ? 0 : 3;
}

static int listed_as_bob(const struct kreg_entry_info *e, void *arg)
{
	(*(long *)arg) += !strncmp(e->name, "secret.", 7);
	return 0;
}

static int list_secrets(void *arg)
{
	struct kreg_conn *c;
	long seen = 0;

	(void)arg;
	if (kreg_open(&c) || kreg_list(c, listed_as_bob, &seen))
		return 1;
	return seen ? 2 : 0;
}

TEST_F(acc, a_name_one_may_not_see_reads_as_absent)
{
	ASSERT_EQ(0, load_policy(self->c,
				 "allow all       secret.*  uid 1000\n"
				 "allow own,send  shared.*  everyone\n"
				 "allow see       shared.*  uid 1000\n"
				 "allow all       public.*  everyone\n"));
	ASSERT_GT(hold_as(self, ALICE, "secret.key"), 0);
	ASSERT_GT(hold_as(self, ALICE, "shared.x"), 0);
	/* In whereis, as for a name nobody holds. */
	EXPECT_EQ(UNDEFINED, attempt(BOB, NULL, 0, WHEREIS, "secret.key"));
	EXPECT_EQ(UNDEFINED, attempt(BOB, NULL, 0, WHEREIS, "secret.none"));
	EXPECT_EQ(0, attempt(ALICE, NULL, 0, WHEREIS, "secret.key"));
	/* In a send: not there, rather than forbidden. */
	EXPECT_EQ(ENOENT, attempt(BOB, NULL, 0, SEND, "secret.key"));
	/* In a list. */
	EXPECT_EQ(0, run_as(BOB, list_secrets, NULL));
	/* In a failed register: no holder pid, and no probing without OWN. */
	EXPECT_EQ(0, run_as(BOB, register_held_unseen, NULL));
	EXPECT_EQ(EACCES, attempt(BOB, NULL, 0, REGISTER, "secret.key"));
	EXPECT_EQ(EACCES, attempt(BOB, NULL, 0, REGISTER, "secret.none"));
}

/* Subscribes as the caller; how many events about names with @prefix come. */
static int events_seen(const char *prefix, int ready)
{
	struct kreg_conn *mon;
	struct kreg_event e;
	int seen = 0;

	if (kreg_open(&mon) || kreg_subscribe(mon) || write(ready, "r", 1) != 1)
		return 100;
	while (kreg_next_event(mon, &e, 1500) == 0)
		seen += !strncmp(e.name, prefix, strlen(prefix));
	return seen;
}

TEST_F(acc, events_of_names_one_may_not_see_never_arrive)
{
	int status[2], ready[2], i;
	pid_t listeners[2];
	uid_t uids[2] = { ALICE, BOB };
	char byte;

	ASSERT_EQ(0, load_policy(self->c, "allow all secret.* uid 1000\n"));
	ASSERT_EQ(0, pipe(ready));
	for (i = 0; i < 2; i++) {
		listeners[i] = fork();
		ASSERT_GE(listeners[i], 0);
		if (listeners[i] == 0) {
			if (setgroups(0, NULL) || setresgid(uids[i], uids[i], uids[i]) ||
			    setresuid(uids[i], uids[i], uids[i]))
				_exit(100);
			_exit(events_seen("secret.", ready[1]));
		}
	}
	/* Both have subscribed. */
	for (i = 0; i < 2; i++)
		ASSERT_EQ(1, read(ready[0], &byte, 1));
	ASSERT_EQ(0, kreg_register(self->c, "secret.a", 0, NULL));
	ASSERT_EQ(0, kreg_unregister(self->c, "secret.a"));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(listeners[i], waitpid(listeners[i], &status[i], 0));
		ASSERT_TRUE(WIFEXITED(status[i]));
	}
	EXPECT_EQ(2, WEXITSTATUS(status[0]));	/* Alice: registered, unregistered */
	EXPECT_EQ(0, WEXITSTATUS(status[1]));	/* Bob: nothing */
}

static int own_then_use(void *arg)
{
	struct kreg_conn *c;
	pid_t pid;

	(void)arg;
	if (kreg_open(&c) || kreg_register(c, "mine.svc", 0, NULL))
		return 1;
	if (kreg_whereis_name(c, "mine.svc", &pid) || pid != getpid())
		return 2;
	return kreg_send(c, "mine.svc", "x", 1) ? 3 : 0;
}

TEST_F(acc, a_uid_may_always_see_and_send_to_its_own_names)
{
	/* Only OWN is granted: seeing and sending to its own comes with it. */
	ASSERT_EQ(0, load_policy(self->c, "allow own mine.* uid 1000\n"));
	EXPECT_EQ(0, run_as(ALICE, own_then_use, NULL));
}

TEST_F(acc, cap_sys_admin_bypasses_the_policy)
{
	pid_t pid;

	ASSERT_GT(hold_as(self, ALICE, "acc-alice"), 0);
	/* Alice may keep her name; nobody else may do anything. */
	ASSERT_EQ(0, load_policy(self->c, "allow own acc-alice uid 1000\n"
					  "deny all * everyone\n"));
	EXPECT_EQ(0, kreg_register(self->c, "acc-root", 0, NULL));
	EXPECT_EQ(0, kreg_whereis_name(self->c, "acc-alice", &pid));
	EXPECT_EQ(0, kreg_send(self->c, "acc-alice", "x", 1));
	EXPECT_EQ(0, kreg_unregister(self->c, "acc-root"));
	/* And the others are denied everything but their own user names. */
	EXPECT_EQ(UNDEFINED, attempt(BOB, NULL, 0, WHEREIS, "acc-alice"));
	EXPECT_EQ(EACCES, attempt(BOB, NULL, 0, REGISTER, "acc-bob"));
	EXPECT_EQ(0, attempt(BOB, NULL, 0, REGISTER, "user.1001.ok"));
}

static int count_rules(const struct kreg_rule *r, void *arg)
{
	(void)r;
	(*(long *)arg)++;
	return 0;
}

static int policy_as_user(void *arg)
{
	struct kreg_rule rule = { .effect = KREG_EFFECT_ALLOW, .rights = KREG_RIGHTS_ALL,
				  .pattern = "*", .who = KREG_WHO_EVERYONE };
	struct kreg_verdict v;
	struct kreg_conn *c;
	long n = 0;

	(void)arg;
	if (kreg_open(&c))
		return 1;
	if (kreg_policy_set(c, &rule, 1) != -EPERM || !strstr(kreg_last_error(c), "CAP_SYS_ADMIN"))
		return 2;
	if (kreg_policy_unload(c) != -EPERM)
		return 3;
	if (kreg_policy_get(c, count_rules, &n) != -EPERM)
		return 4;
	if (kreg_policy_check(c, 0, 0, NULL, 0, "x", KREG_RIGHT_SEE, &v) != -EPERM)
		return 5;
	return 0;
}

static int enter_userns(uid_t outside, int flags);

/* "root" in a user namespace of its own: no CAP_SYS_ADMIN in the initial one. */
static int policy_in_userns(void *arg)
{
	(void)arg;
	if (enter_userns(ALICE, 0))
		return 10;
	return policy_as_user(NULL);
}

TEST_F(acc, only_cap_sys_admin_loads_lists_and_checks_the_policy)
{
	long n = 0;

	ASSERT_EQ(0, load_policy(self->c, "allow see * everyone\n"));
	EXPECT_EQ(0, run_as(ALICE, policy_as_user, NULL));
	EXPECT_EQ(0, run_as(ALICE, policy_in_userns, NULL));
	ASSERT_EQ(0, kreg_policy_get(self->c, count_rules, &n));
	EXPECT_EQ(1, n);
}

static int keep_rule(const struct kreg_rule *r, void *arg)
{
	struct kreg_rule *out = arg;

	*out = *r;
	return 0;
}

TEST_F(acc, a_bad_rule_names_its_source_and_loads_nothing)
{
	struct kreg_rule bad[2] = {
		{ .effect = KREG_EFFECT_ALLOW, .rights = KREG_RIGHT_SEE, .pattern = "ok.*",
		  .who = KREG_WHO_EVERYONE, .source = "10-ok.conf:1" },
		{ .effect = KREG_EFFECT_ALLOW, .rights = KREG_RIGHT_SEE, .pattern = "orders*",
		  .who = KREG_WHO_EVERYONE, .source = "20-bad.conf:7" },
	}, kept;
	struct kreg_status st;

	ASSERT_EQ(0, load_policy(self->c, "allow see kept.* everyone\n"));
	EXPECT_EQ(-EINVAL, kreg_policy_set(self->c, bad, 2));
	EXPECT_NE(NULL, strstr(kreg_last_error(self->c), "20-bad.conf:7"))
		TH_LOG("%s", kreg_last_error(self->c));
	EXPECT_NE(NULL, strstr(kreg_last_error(self->c), "'*'"));
	/* The policy before it is still the one loaded. */
	ASSERT_EQ(0, kreg_status(self->c, &st));
	EXPECT_TRUE(st.policy_loaded);
	EXPECT_EQ(1, st.policy_rules);
	ASSERT_EQ(0, kreg_policy_get(self->c, keep_rule, &kept));
	EXPECT_STREQ("kept.*", kept.pattern);
	/* Unloading goes back to the defaults. */
	ASSERT_EQ(0, kreg_policy_unload(self->c));
	ASSERT_EQ(0, kreg_status(self->c, &st));
	EXPECT_FALSE(st.policy_loaded);
}

TEST_F(acc, policy_check_says_what_decides)
{
	static const gid_t billing[] = { BILLING };
	struct kreg_verdict v;

	ASSERT_GT(hold_as(self, ALICE, "alices.own"), 0);
	ASSERT_EQ(0, kreg_policy_check(self->c, BOB, BOB, NULL, 0, "orders.db",
				       KREG_RIGHT_OWN, &v));
	EXPECT_TRUE(v.allowed);
	EXPECT_EQ(KREG_BY_DEFAULT, v.by);

	ASSERT_EQ(0, load_policy(self->c, "allow see,send orders.* gid 1002\n"
					  "allow own alices.* uid 1000\n"));
	ASSERT_EQ(0, kreg_policy_check(self->c, BOB, BOB, billing, 1, "orders.db",
				       KREG_RIGHT_SEND, &v));
	EXPECT_TRUE(v.allowed);
	EXPECT_EQ(KREG_BY_RULE, v.by);
	ASSERT_TRUE(v.has_rule);
	EXPECT_STREQ("orders.*", v.rule.pattern);
	EXPECT_EQ(KREG_WHO_GID, v.rule.who);
	EXPECT_EQ(BILLING, v.rule.id);
	EXPECT_NE(NULL, strstr(v.rule.source, ":1"));
	ASSERT_EQ(0, kreg_policy_check(self->c, BOB, BOB, NULL, 0, "orders.db",
				       KREG_RIGHT_SEND, &v));
	EXPECT_FALSE(v.allowed);
	EXPECT_EQ(KREG_BY_DEFAULT, v.by);
	ASSERT_EQ(0, kreg_policy_check(self->c, ALICE, ALICE, NULL, 0, "user.1000.x",
				       KREG_RIGHT_OWN, &v));
	EXPECT_TRUE(v.allowed);
	EXPECT_EQ(KREG_BY_USER_NAMESPACE, v.by);
	ASSERT_EQ(0, kreg_policy_check(self->c, ALICE, ALICE, NULL, 0, "alices.own",
				       KREG_RIGHT_SEE, &v));
	EXPECT_TRUE(v.allowed);
	EXPECT_EQ(KREG_BY_OWNER, v.by);
}

TEST_F(acc, every_denial_is_traced)
{
	struct kreg_trace_probe *probe = kreg_trace_probe__open_and_load();
	int go[2], status;
	pid_t child;
	char byte;

	ASSERT_NE(NULL, probe);
	ASSERT_EQ(0, load_policy(self->c, "allow see * everyone\n"));
	ASSERT_EQ(0, pipe(go));
	child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		struct kreg_conn *c;

		/* Waits to be traced, then is denied once. */
		if (read(go[0], &byte, 1) != 1 || setgroups(0, NULL) ||
		    setresgid(BOB, BOB, BOB) || setresuid(BOB, BOB, BOB) || kreg_open(&c))
			_exit(1);
		_exit(kreg_register(c, "traced.x", 0, NULL) == -EACCES ? 0 : 2);
	}
	probe->bss->target = child;
	ASSERT_EQ(0, kreg_trace_probe__attach(probe));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_EQ(0, status);
	EXPECT_EQ(1, probe->bss->denials);
	EXPECT_EQ(KREG_RIGHT_OWN, probe->bss->last_denied_right);
	EXPECT_STREQ("traced.x", probe->bss->last_name);
	kreg_trace_probe__destroy(probe);
}

/* Maps "root" in a new user namespace to @outside, as unshare -r does. */
static int enter_userns(uid_t outside, int flags)
{
	char map[64];
	int fd;

	/* Dropping root made this process undumpable: its /proc files root's. */
	prctl(PR_SET_DUMPABLE, 1);
	if (unshare(CLONE_NEWUSER | flags))
		return -errno;
	fd = open("/proc/self/setgroups", O_WRONLY);
	if (fd < 0 || write(fd, "deny", 4) != 4)
		return -EIO;
	close(fd);
	snprintf(map, sizeof(map), "0 %u 1", outside);
	fd = open("/proc/self/uid_map", O_WRONLY);
	if (fd < 0 || write(fd, map, strlen(map)) < 0)
		return -EIO;
	close(fd);
	fd = open("/proc/self/gid_map", O_WRONLY);
	if (fd < 0 || write(fd, map, strlen(map)) < 0)
		return -EIO;
	close(fd);
	return 0;
}

/*
 * As `unshare -U -r -p -f -n`: a container that tries to squat and to probe
 * the host's names. Exit status 0 when it can do neither, yet can use its
 * own user.1000. names.
 */
static int container(void *arg)
{
	int status, err;
	pid_t pid;

	(void)arg;
	err = enter_userns(ALICE, CLONE_NEWPID | CLONE_NEWNET);
	if (err)
		return 10;
	pid = fork();	/* the new pid namespace's first process */
	if (pid == 0) {
		struct kreg_conn *c;
		pid_t holder = 4242, found;

		if (getpid() != 1 || kreg_open(&c))
			_exit(11);
		if (kreg_register(c, "orders-db", 0, NULL) != -EACCES)
			_exit(12);
		if (kreg_whereis_name(c, "host.svc", &found) != KREG_UNDEFINED)
			_exit(13);
		if (kreg_register(c, "host.svc", 0, &holder) != -EACCES || holder != 4242)
			_exit(14);
		if (kreg_send(c, "host.svc", "x", 1) != -ENOENT)
			_exit(15);
		if (kreg_register(c, "user.1000.inside", 0, NULL) ||
		    kreg_whereis_name(c, "user.1000.inside", &found) || found != 1)
			_exit(16);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 17;
	return WEXITSTATUS(status);
}

TEST_F(acc, a_container_may_neither_squat_nor_probe_host_names)
{
	pid_t pid;

	ASSERT_EQ(0, kreg_register(self->c, "host.svc", 0, NULL));
	EXPECT_EQ(0, run_as(ALICE, container, NULL));
	/* The host's own names stay the host's to take. */
	EXPECT_EQ(0, kreg_register(self->c, "orders-db", 0, NULL));
	EXPECT_EQ(0, kreg_whereis_name(self->c, "orders-db", &pid));
	EXPECT_EQ(getpid(), pid);
	EXPECT_EQ(0, kreg_unregister(self->c, "orders-db"));
	EXPECT_EQ(0, kreg_unregister(self->c, "host.svc"));
}

static int container_granted(void *arg)
{
	struct kreg_conn *c;

	(void)arg;
	if (enter_userns(ALICE, CLONE_NEWNET) || kreg_open(&c))
		return 10;
	if (kreg_register(c, "app.one", 0, NULL))
		return 11;
	/* "everyone" is the host's: a container is named by its ids. */
	return kreg_register(c, "public.x", 0, NULL) == -EACCES ? 0 : 12;
}

TEST_F(acc, a_policy_can_grant_a_container_by_its_uid)
{
	ASSERT_EQ(0, load_policy(self->c,
				 "allow all app.*     uid 1000\n"
				 "allow all public.*  everyone\n"));
	EXPECT_EQ(0, run_as(ALICE, container_granted, NULL));
}

/* A service in a user namespace, mapping its root to Alice, hears from whom. */
static int receive_in_userns(void *arg)
{
	int *ready = arg;
	static struct kreg_message m;
	struct kreg_conn *c;
	char byte;

	if (enter_userns(ALICE, 0) || kreg_open(&c) ||
	    kreg_register(c, "user.1000.inbox", 0, NULL) || write(ready[1], "r", 1) != 1)
		return 10;
	if (kreg_recv(c, &m, 5000))
		return 11;
	/* Alice, the sender, is root in here; Bob is nobody. */
	if (m.sender_uid != 0 || m.sender_gid != 0)
		return 12;
	if (kreg_recv(c, &m, 5000))
		return 13;
	if (m.sender_uid != 65534 || m.sender_gid != 65534)
		return 14;
	(void)byte;
	return 0;
}

static int send_inbox(void *arg)
{
	struct kreg_conn *c;

	(void)arg;
	return kreg_open(&c) || kreg_send(c, "user.1000.inbox", "hi", 2);
}

TEST_F(acc, sender_ids_are_told_as_the_receivers_namespace_sees_them)
{
	int ready[2], status;
	pid_t receiver;
	char byte;

	ASSERT_EQ(0, pipe(ready));
	receiver = fork();
	ASSERT_GE(receiver, 0);
	if (receiver == 0) {
		if (setgroups(0, NULL) || setresgid(ALICE, ALICE, ALICE) ||
		    setresuid(ALICE, ALICE, ALICE))
			_exit(100);
		_exit(receive_in_userns(ready));
	}
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &byte, 1));
	EXPECT_EQ(0, run_as(ALICE, send_inbox, NULL));
	EXPECT_EQ(0, run_as(BOB, send_inbox, NULL));
	ASSERT_EQ(receiver, waitpid(receiver, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

static int echo_call(struct kreg_server *srv, void *state, const void *req, size_t len,
		     const struct kreg_from *from)
{
	(void)state;
	/* The server may decide by who calls: the kernel says who. */
	if (from->uid != BOB)
		return kreg_reply_error(srv, from, -EACCES);
	return kreg_reply(srv, from, req, len);
}

static const struct kreg_module echo = { .handle_call = echo_call };

static int call_as_user(void *arg)
{
	struct kreg_conn *c;
	struct kreg_via via;
	char reply[8];
	size_t len = 0;
	int err;

	if (kreg_open(&c) || kreg_via_tuple(c, arg, &via))
		return 1;
	err = kreg_call(&via, "ping", 4, reply, sizeof(reply), &len, 5000);
	kreg_close(c);
	return err == -EACCES ? 2 : err ? 3 : len == 4 ? 0 : 4;
}

/*
 * A call's answer goes to the caller's reply address (user.UID.reply...,
 * bound to its mailbox): no rule is needed for it, even under a policy that
 * allows nothing else. The server runs as Alice, and decides by the caller.
 */
TEST_F(acc, a_call_is_answered_under_any_policy)
{
	enum kreg_started how;
	pid_t server;
	int status;

	server = fork();
	ASSERT_GE(server, 0);
	if (server == 0) {
		struct kreg_conn *c;
		pid_t pid;

		if (setgroups(0, NULL) || setresgid(ALICE, ALICE, ALICE) ||
		    setresuid(ALICE, ALICE, ALICE) || kreg_open(&c))
			_exit(1);
		if (kreg_start_link(c, "svc.echo", &echo, NULL, &pid, &how))
			_exit(2);
		waitpid(pid, &status, 0);
		_exit(0);
	}
	ASSERT_EQ(0, kreg_await_name(self->c, "svc.echo", 5000, &(pid_t){ 0 }));
	/* The server keeps its name: a policy releases what it does not let own. */
	ASSERT_EQ(0, load_policy(self->c, "allow own svc.* uid 1000\n"
					  "allow see,send svc.* everyone\n"));
	EXPECT_EQ(0, run_as(BOB, call_as_user, "svc.echo"));
	/* Not Bob: the server refuses, by the credentials the kernel gave it. */
	EXPECT_EQ(2, run_as(BOB + 1, call_as_user, "svc.echo"));
	kill(server, SIGTERM);
	kill_and_reap(server);
}

/* Runs kregctl with @args; its exit status, and what it printed in @out. */
static int kregctl(const char *args, char *out, size_t size)
{
	char cmd[512];
	size_t n = 0;
	FILE *p;
	int status;

	snprintf(cmd, sizeof(cmd), "/bin/kregctl %s 2>&1", args);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (n + 1 < size && fgets(out + n, (int)(size - n), p))
		n += strlen(out + n);
	out[n] = '\0';
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

TEST_F(acc, kregctl_loads_shows_and_checks_a_policy_directory)
{
	char out[4096];

	ASSERT_EQ(0, mkdir("/tmp/policy.d", 0755));
	write_file("/tmp/policy.d/10-orders.conf",
		   "# The orders service\n"
		   "allow own      orders.*  uid 1000\n"
		   "allow see,send orders.*  gid 1002\n");
	write_file("/tmp/policy.d/20-typo.conf", "allow see *\nallow talk x.* everyone\n");
	/* A bad line anywhere: its file and line, and nothing loaded. */
	EXPECT_EQ(2, kregctl("policy load /tmp/policy.d", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "/tmp/policy.d/20-typo.conf:1:")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "nothing was loaded"));
	EXPECT_EQ(0, kregctl("status", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "policy: none")) TH_LOG("%s", out);

	unlink("/tmp/policy.d/20-typo.conf");
	EXPECT_EQ(0, kregctl("policy load /tmp/policy.d", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "loaded 2 rules"));
	EXPECT_EQ(0, kregctl("policy show", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "allow see,send orders.* gid 1002")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "/tmp/policy.d/10-orders.conf:3"));
	EXPECT_EQ(0, kregctl("policy check 1000 orders.db own", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "10-orders.conf:2")) TH_LOG("%s", out);
	/* Exit status 1: denied, and by what. */
	EXPECT_EQ(1, kregctl("policy check 1001 orders.db send", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "deny")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "no rule allows"));
	EXPECT_EQ(0, kregctl("policy unload", out, sizeof(out)));
	unlink("/tmp/policy.d/10-orders.conf");
	rmdir("/tmp/policy.d");
}

TEST_HARNESS_MAIN
