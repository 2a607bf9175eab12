// SPDX-License-Identifier: GPL-2.0
/*
 * REGISTER, UNREGISTER and WHEREIS: results, errors, races, permissions,
 * quotas, and holders that die or whose pid number comes back.
 */
#include <sched.h>

#include "helpers.h"
#include "name_oracle.h"
#include "kselftest_harness.h"

FIXTURE(reg) {
	struct kreg_conn *c;
};

FIXTURE_SETUP(reg)
{
	ASSERT_EQ(0, kreg_open(&self->c));
}

FIXTURE_TEARDOWN(reg)
{
	kreg_close(self->c);
}

TEST_F(reg, register_whereis_unregister)
{
	pid_t holder = 0, pid = 0;

	ASSERT_EQ(0, kreg_register(self->c, "orders-db", 0, &holder));
	EXPECT_EQ(getpid(), holder);
	ASSERT_EQ(0, kreg_whereis_name(self->c, "orders-db", &pid));
	EXPECT_EQ(getpid(), pid);
	ASSERT_EQ(0, kreg_unregister(self->c, "orders-db"));
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "orders-db", &pid));
	EXPECT_EQ(-ENOENT, kreg_unregister(self->c, "orders-db"));
	EXPECT_STREQ("the name is not registered", kreg_last_error(self->c));
}

TEST_F(reg, unknown_name_is_undefined_not_an_error)
{
	pid_t pid = 12345;

	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "nobody-here", &pid));
	EXPECT_EQ(12345, pid);
}

TEST_F(reg, held_name_fails_with_eexist_and_the_holders_pid)
{
	pid_t child = spawn_sleeper(), holder = 0;
	struct kreg_conn *other;

	ASSERT_GT(child, 0);
	ASSERT_EQ(0, kreg_register(self->c, "taken", child, &holder));
	EXPECT_EQ(child, holder);

	ASSERT_EQ(0, kreg_open(&other));
	holder = 0;
	EXPECT_EQ(-EEXIST, kreg_register(other, "taken", 0, &holder));
	EXPECT_EQ(child, holder);
	EXPECT_STREQ("the name is already registered", kreg_last_error(other));
	/* The same process asking again is no different. */
	holder = 0;
	EXPECT_EQ(-EEXIST, kreg_register(self->c, "taken", child, &holder));
	EXPECT_EQ(child, holder);
	kreg_close(other);

	EXPECT_EQ(0, kreg_unregister(self->c, "taken"));
	kill_and_reap(child);
}

TEST_F(reg, many_names_one_process)
{
	char name[32];
	pid_t pid;
	int i;

	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "multi-%d", i);
		ASSERT_EQ(0, kreg_register(self->c, name, 0, NULL));
	}
	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "multi-%d", i);
		ASSERT_EQ(0, kreg_whereis_name(self->c, name, &pid));
		EXPECT_EQ(getpid(), pid);
		ASSERT_EQ(0, kreg_unregister(self->c, name));
	}
}

#define BAD_BYTE "name has a byte other than a letter, a digit, '_', '-' or '.'"

TEST_F(reg, bad_names_get_einval_with_a_reason_and_change_nothing)
{
	static const struct {
		const char *name;
		int len;		/* bytes on the wire, NUL included */
		const char *why;
	} cases[] = {
		{ "", 1, "name is empty" },
		{ "no-terminator", 13, "name is not NUL-terminated" },
		{ "tab\there", 9, BAD_BYTE },
		{ "new\nline", 9, BAD_BYTE },
		{ "caf\xc3\xa9", 6, BAD_BYTE },
		{ "embedded\0nul", 13, BAD_BYTE },
		{ "a b", 4, BAD_BYTE },
		{ "orders.*", 9, "'*' is never part of a name (it is a pattern's wildcard)" },
		{ "secret.", 8, "name ends with a dot" },
		{ ".hidden", 8, "name starts with a dot" },
		{ "a..b", 5, "name has an empty element (two dots in a row)" },
		{ "user.01000.x", 13, "the uid of a user.UID. name has a leading zero" },
	};
	char longname[KREG_NAME_MAX + 2];
	long before = count_entries(self->c);
	pid_t pid;
	size_t i;

	ASSERT_GE(before, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EXPECT_EQ(-EINVAL, raw_register(self->c, cases[i].name, cases[i].len, 0, 0));
		EXPECT_STREQ(cases[i].why, kreg_last_error(self->c));
	}

	/* 256 bytes: one too many, refused by the kernel, not just the library. */
	memset(longname, 'n', sizeof(longname));
	longname[KREG_NAME_MAX + 1] = '\0';
	EXPECT_EQ(-EINVAL, raw_register(self->c, longname, KREG_NAME_MAX + 2, 0, 0));
	EXPECT_STREQ("name is longer than 255 bytes", kreg_last_error(self->c));
	EXPECT_EQ(-EINVAL, kreg_register(self->c, longname, 0, NULL));

	/* 255 bytes is the limit, and fits. */
	longname[KREG_NAME_MAX] = '\0';
	ASSERT_EQ(0, kreg_register(self->c, longname, 0, NULL));
	ASSERT_EQ(0, kreg_whereis_name(self->c, longname, &pid));
	ASSERT_EQ(0, kreg_unregister(self->c, longname));

	EXPECT_EQ(before, count_entries(self->c));
}

/*
 * Random names on the wire, past libkreg: the kernel takes exactly those the
 * grammar written another way (tests/name_oracle.h) calls good.
 */
TEST_F(reg, the_kernel_takes_exactly_the_names_of_the_grammar)
{
	unsigned int seed = 7;
	int i, taken = 0;
	char name[512];

	for (i = 0; i < 1500; i++) {
		size_t len = oracle_random_name(name, &seed);
		bool ok = oracle_name_ok(name, len);
		int err = raw_register(self->c, name, (int)len + 1, 0, 0);

		if (err != (ok ? 0 : -EINVAL)) {
			TH_LOG("\"%s\": %d (%s)", name, err, kreg_last_error(self->c));
			ASSERT_EQ(ok ? 0 : -EINVAL, err);
		}
		if (!err) {
			taken++;
			ASSERT_EQ(0, kreg_unregister(self->c, name));
		}
	}
	EXPECT_LT(20, taken);
}

static int raw_with_pattern(struct kreg_conn *c, int cmd, const char *pattern, int flags)
{
	struct nl_msg *msg = kreg_msg_new(c, cmd, 512);

	if (!msg)
		return -ENOMEM;
	if (cmd == KREG_CMD_REGISTER)
		nla_put_string(msg, KREG_A_NAME, "pattern-carrier");
	nla_put_string(msg, KREG_A_PATTERN, pattern);
	return kreg_request(c, msg, flags, NULL, NULL);
}

/* Only LIST and SUBSCRIBE take a pattern, and only one the grammar takes. */
TEST_F(reg, patterns_are_checked_where_they_are_taken)
{
	const struct kreg_match nothing = { .pattern = "no-such-prefix-anywhere.*" };
	long before = count_entries(self->c), n = 0;

	EXPECT_EQ(-EINVAL, raw_with_pattern(self->c, KREG_CMD_REGISTER, "x.*", KREG_REQ_ACK));
	EXPECT_STREQ("only KREG_CMD_LIST and KREG_CMD_SUBSCRIBE take a pattern",
		     kreg_last_error(self->c));
	EXPECT_EQ(-EINVAL, raw_with_pattern(self->c, KREG_CMD_SUBSCRIBE, "x*", KREG_REQ_ACK));
	EXPECT_EQ(-EINVAL, raw_with_pattern(self->c, KREG_CMD_LIST, "a..b.*", KREG_REQ_DUMP));
	EXPECT_STREQ("name has an empty element (two dots in a row)", kreg_last_error(self->c));
	EXPECT_EQ(before, count_entries(self->c));
	/* A good one filters in the kernel: a listing of nothing that exists is empty. */
	EXPECT_EQ(0, kreg_select(self->c, &nothing, count_one, &n));
	EXPECT_EQ(0, n);
}

TEST_F(reg, bad_attributes_get_einval_and_change_nothing)
{
	long before = count_entries(self->c);

	EXPECT_EQ(-EINVAL, raw_register(self->c, NULL, 0, 0, 0));
	EXPECT_STREQ("a name (KREG_A_NAME) is required", kreg_last_error(self->c));
	EXPECT_EQ(-EINVAL, raw_register(self->c, "x", 2, KREG_A_MAX + 1, 1));
	EXPECT_EQ(-EINVAL, raw_register(self->c, "x", 2, KREG_A_UID, 0));
	EXPECT_STREQ("the uid is set by the kernel", kreg_last_error(self->c));
	EXPECT_EQ(-EINVAL, raw_register(self->c, "x", 2, KREG_A_PID, 0));
	EXPECT_STREQ("the pid must be a positive process id", kreg_last_error(self->c));
	EXPECT_EQ(-ESRCH, kreg_register(self->c, "x", 0x3fffffff, NULL));
	EXPECT_EQ(before, count_entries(self->c));
}

struct listed_value {
	const char *name;
	unsigned char meta[KREG_META_MAX];
	size_t len;
	int found;
};

static int find_value(const struct kreg_entry_info *e, void *arg)
{
	struct listed_value *v = arg;

	if (strcmp(e->name, v->name))
		return 0;
	v->found++;
	v->len = e->meta_len;
	memcpy(v->meta, e->meta, e->meta_len);
	return 0;
}

TEST_F(reg, a_registration_carries_its_value_to_lookup_list_and_events)
{
	unsigned char meta[KREG_META_MAX], got[KREG_META_MAX], big[KREG_META_MAX + 1] = { 0 };
	struct listed_value listed = { .name = "meta-full" };
	struct kreg_conn *mon;
	struct kreg_event e;
	struct nl_msg *raw;
	size_t len = 0;
	pid_t pid;
	int i;

	for (i = 0; i < KREG_META_MAX; i++)
		meta[i] = (unsigned char)(i * 13);	/* binary, NULs included */
	ASSERT_EQ(0, kreg_open(&mon));
	ASSERT_EQ(0, kreg_subscribe(mon));

	ASSERT_EQ(0, kreg_register_meta(self->c, "meta-full", 0, meta, sizeof(meta), NULL));
	ASSERT_EQ(0, kreg_whereis_meta(self->c, "meta-full", &pid, got, sizeof(got), &len));
	EXPECT_EQ(getpid(), pid);
	ASSERT_EQ(KREG_META_MAX, len);
	EXPECT_EQ(0, memcmp(meta, got, len));

	ASSERT_EQ(0, kreg_list(self->c, find_value, &listed));
	ASSERT_EQ(1, listed.found);
	ASSERT_EQ(KREG_META_MAX, listed.len);
	EXPECT_EQ(0, memcmp(meta, listed.meta, listed.len));

	ASSERT_EQ(0, kreg_next_event(mon, &e, 2000));
	EXPECT_STREQ("meta-full", e.name);
	ASSERT_EQ(KREG_META_MAX, e.meta_len);
	EXPECT_EQ(0, memcmp(meta, e.meta, e.meta_len));

	/* A small buffer gets the start, and the full length. */
	memset(got, 0, sizeof(got));
	ASSERT_EQ(0, kreg_whereis_meta(self->c, "meta-full", &pid, got, 4, &len));
	EXPECT_EQ(KREG_META_MAX, len);
	EXPECT_EQ(0, memcmp(meta, got, 4));
	EXPECT_EQ(0, got[4]);

	/* No value is a length of 0. */
	ASSERT_EQ(0, kreg_register(self->c, "meta-none", 0, NULL));
	ASSERT_EQ(0, kreg_whereis_meta(self->c, "meta-none", &pid, got, sizeof(got), &len));
	EXPECT_EQ(0, len);

	/* One byte more is refused, by the library and by the kernel alike. */
	EXPECT_EQ(-EMSGSIZE, kreg_register_meta(self->c, "meta-big", 0, meta, KREG_META_MAX + 1,
						NULL));
	raw = kreg_msg_new(self->c, KREG_CMD_REGISTER, 2 * KREG_META_MAX);
	ASSERT_NE(NULL, raw);
	ASSERT_EQ(0, kreg_put_name(raw, "meta-big"));
	ASSERT_EQ(0, nla_put(raw, KREG_A_META, sizeof(big), big));
	EXPECT_EQ(-EMSGSIZE, kreg_request(self->c, raw, KREG_REQ_ACK, NULL, NULL));
	EXPECT_NE(NULL, strstr(kreg_last_error(self->c), "KREG_META_MAX"));
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "meta-big", &pid));

	EXPECT_EQ(0, kreg_unregister(self->c, "meta-full"));
	EXPECT_EQ(0, kreg_unregister(self->c, "meta-none"));
	kreg_close(mon);
}

/* Each racer reports one of these through a pipe. */
struct race_result {
	pid_t self;
	pid_t holder;
	int err;
};

TEST_F_TIMEOUT(reg, racing_processes_yield_exactly_one_winner, 120)
{
	enum { RACERS = 48 };
	int start[2], results[2], done[2];
	struct race_result r[RACERS];
	pid_t pids[RACERS], winner = 0, pid;
	int i, winners = 0;

	ASSERT_EQ(0, pipe(start));
	ASSERT_EQ(0, pipe(results));
	ASSERT_EQ(0, pipe(done));
	for (i = 0; i < RACERS; i++) {
		pids[i] = fork();
		ASSERT_GE(pids[i], 0);
		if (pids[i] == 0) {
			struct race_result mine = { .self = getpid() };
			struct kreg_conn *c;
			char byte;

			close(start[1]);
			close(done[1]);
			mine.err = kreg_open(&c);
			/* Everyone waits here until the parent lets all go at once. */
			if (read(start[0], &byte, 1) < 0)
				_exit(1);
			if (!mine.err)
				mine.err = kreg_register(c, "race", 0, &mine.holder);
			if (write(results[1], &mine, sizeof(mine)) != sizeof(mine))
				_exit(1);
			/* The winner stays alive until every loser has reported. */
			if (!mine.err && read(done[0], &byte, 1) < 0)
				_exit(1);
			_exit(0);
		}
	}
	close(start[0]);
	close(done[0]);
	close(results[1]);
	close(start[1]);
	for (i = 0; i < RACERS; i++)
		ASSERT_EQ(sizeof(r[i]), read(results[0], &r[i], sizeof(r[i])));
	for (i = 0; i < RACERS; i++) {
		if (r[i].err == 0) {
			winners++;
			winner = r[i].self;
		}
	}
	ASSERT_EQ(1, winners);
	for (i = 0; i < RACERS; i++) {
		if (r[i].self == winner)
			continue;
		EXPECT_EQ(-EEXIST, r[i].err);
		EXPECT_EQ(winner, r[i].holder);
	}
	ASSERT_EQ(0, kreg_whereis_name(self->c, "race", &pid));
	EXPECT_EQ(winner, pid);

	close(done[1]);
	for (i = 0; i < RACERS; i++)
		waitpid(pids[i], NULL, 0);
	/* The winner is gone, so is its name. */
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "race", &pid));
}

TEST_F(reg, zombie_holder_reads_as_absent)
{
	pid_t child = fork(), pid;
	siginfo_t info;

	ASSERT_GE(child, 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	ASSERT_EQ(0, kreg_register(self->c, "zombie", child, NULL));
	ASSERT_EQ(0, kreg_whereis_name(self->c, "zombie", &pid));
	kill(child, SIGTERM);
	/* Wait for the exit but leave the zombie unreaped. */
	ASSERT_EQ(0, waitid(P_PID, child, &info, WEXITED | WNOWAIT));
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "zombie", &pid));
	waitpid(child, NULL, 0);
}

TEST_F(reg, recycled_pid_number_is_never_reported)
{
	pid_t first = spawn_sleeper(), second, pid;
	FILE *f;

	ASSERT_GT(first, 1);
	ASSERT_EQ(0, kreg_register(self->c, "recycled", first, NULL));
	kill_and_reap(first);

	/* Make the next fork get the dead holder's pid number back. */
	f = fopen("/proc/sys/kernel/ns_last_pid", "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "%d", first - 1);
	fclose(f);
	second = spawn_sleeper();
	ASSERT_EQ(first, second);

	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "recycled", &pid));
	EXPECT_EQ(-ENOENT, kreg_send(self->c, "recycled", "x", 1));
	kill_and_reap(second);
}

/* Runs in a new pid namespace, where it is pid 1. */
static int inside_pid_namespace(pid_t outside)
{
	struct kreg_conn *c;
	pid_t pid = 0;

	if (kreg_open(&c))
		return 1;
	/* Its own name, as it sees itself. */
	if (kreg_register(c, "pidns-inner", 0, NULL) ||
	    kreg_whereis_name(c, "pidns-inner", &pid) || pid != 1)
		return 2;
	/* The parent lives outside: invisible here, so absent. */
	if (kreg_whereis_name(c, "pidns-outer", &pid) != KREG_UNDEFINED)
		return 3;
	if (kreg_send(c, "pidns-outer", "x", 1) != -ENOENT)
		return 4;
	(void)outside;
	kreg_unregister(c, "pidns-inner");
	return 0;
}

TEST_F(reg, pids_are_reported_in_the_callers_pid_namespace)
{
	pid_t child, pid;
	int status;

	ASSERT_EQ(0, kreg_register(self->c, "pidns-outer", 0, NULL));
	ASSERT_EQ(0, unshare(CLONE_NEWPID));
	child = fork();	/* the first child of this process is pid 1 inside */
	ASSERT_GE(child, 0);
	if (child == 0)
		_exit(inside_pid_namespace(getppid()));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, kreg_whereis_name(self->c, "pidns-outer", &pid));
	EXPECT_EQ(getpid(), pid);
	EXPECT_EQ(0, kreg_unregister(self->c, "pidns-outer"));
}

static int register_child_and_others(void *arg)
{
	struct kreg_conn *c;
	pid_t child, holder;
	int ret = 0;

	(void)arg;
	if (kreg_open(&c))
		return 1;
	child = spawn_sleeper();
	if (kreg_register(c, "user-child", child, &holder) || holder != child)
		ret = 2;
	else if (kreg_register(c, "user-self", 0, NULL))
		ret = 3;
	else if (kreg_register(c, "user-init", 1, NULL) != -EPERM)
		ret = 4;
	else if (!strstr(kreg_last_error(c), "CAP_SYS_ADMIN"))
		ret = 5;
	kreg_unregister(c, "user-child");
	kreg_unregister(c, "user-self");
	kill_and_reap(child);
	kreg_close(c);
	return ret;
}

TEST_F(reg, unprivileged_caller_registers_itself_and_its_children_only)
{
	pid_t pid;

	EXPECT_EQ(0, run_as(UNPRIVILEGED_UID, register_child_and_others, NULL));
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "user-init", &pid));
	/* Root may name any process. */
	ASSERT_EQ(0, kreg_register(self->c, "root-init", 1, NULL));
	ASSERT_EQ(0, kreg_whereis_name(self->c, "root-init", &pid));
	EXPECT_EQ(1, pid);
	EXPECT_EQ(0, kreg_unregister(self->c, "root-init"));
}

static int unregister_roots_name(void *arg)
{
	struct kreg_conn *c;
	int ret;

	(void)arg;
	if (kreg_open(&c))
		return 1;
	ret = kreg_unregister(c, "root-owned") == -EPERM ? 0 : 2;
	kreg_close(c);
	return ret;
}

TEST_F(reg, only_the_registering_uid_or_admin_unregisters)
{
	pid_t pid;

	ASSERT_EQ(0, kreg_register(self->c, "root-owned", 0, NULL));
	EXPECT_EQ(0, run_as(UNPRIVILEGED_UID, unregister_roots_name, NULL));
	ASSERT_EQ(0, kreg_whereis_name(self->c, "root-owned", &pid));
	EXPECT_EQ(getpid(), pid);
	EXPECT_EQ(0, kreg_unregister(self->c, "root-owned"));
}

static int fill_quota(void *arg)
{
	struct kreg_conn *c;
	pid_t pid;
	int ret = 0;

	(void)arg;
	if (kreg_open(&c))
		return 1;
	if (kreg_register(c, "quota-0", 0, NULL) || kreg_register(c, "quota-1", 0, NULL) ||
	    kreg_register(c, "quota-2", 0, NULL))
		ret = 2;
	else if (kreg_register(c, "quota-3", 0, NULL) != -EDQUOT)
		ret = 3;
	else if (!strstr(kreg_last_error(c), "quota"))
		ret = 4;
	else if (kreg_whereis_name(c, "quota-3", &pid) != KREG_UNDEFINED)
		ret = 5;
	else if (kreg_unregister(c, "quota-0") || kreg_register(c, "quota-3", 0, NULL))
		ret = 6;	/* a released name frees its slot */
	kreg_unregister(c, "quota-0");
	kreg_unregister(c, "quota-1");
	kreg_unregister(c, "quota-2");
	kreg_unregister(c, "quota-3");
	kreg_close(c);
	return ret;
}

TEST_F(reg, per_uid_quota_is_edquot)
{
	long saved = read_param("max_per_uid");
	char name[32];
	int i;

	ASSERT_GT(saved, 0);
	ASSERT_EQ(0, write_param("max_per_uid", 3));
	EXPECT_EQ(0, run_as(UNPRIVILEGED_UID, fill_quota, NULL));
	/* Root has CAP_SYS_RESOURCE: the quota yields, as disk quotas do. */
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "root-quota-%d", i);
		EXPECT_EQ(0, kreg_register(self->c, name, 0, NULL));
	}
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "root-quota-%d", i);
		EXPECT_EQ(0, kreg_unregister(self->c, name));
	}
	ASSERT_EQ(0, write_param("max_per_uid", saved));
}

static int status_as_user(void *arg)
{
	struct kreg_status st;
	struct kreg_conn *c;
	int ret = 0;

	(void)arg;
	if (kreg_open(&c))
		return 1;
	if (kreg_status(c, &st) || st.uid != UNPRIVILEGED_UID || st.uid_entries != 0)
		ret = 2;
	else if (kreg_register(c, "status-user", 0, NULL) || kreg_status(c, &st) ||
		 st.uid_entries != 1)
		ret = 3;
	kreg_unregister(c, "status-user");
	kreg_close(c);
	return ret;
}

TEST_F(reg, status_counts_names_limits_and_the_callers_quota)
{
	struct kreg_status st;
	long used;

	/* Dead holders' names left by earlier tests count until released. */
	ASSERT_EQ(0, kreg_status(self->c, &st));
	used = (long)st.entries;
	ASSERT_LE(count_entries(self->c), used);
	ASSERT_EQ(0, kreg_register(self->c, "status-0", 0, NULL));
	ASSERT_EQ(0, kreg_register(self->c, "status-1", 0, NULL));
	ASSERT_EQ(0, kreg_status(self->c, &st));
	EXPECT_EQ(used + 2, (long)st.entries);
	EXPECT_EQ(read_param("max_entries"), (long)st.max_entries);
	EXPECT_EQ(read_param("max_per_uid"), (long)st.max_per_uid);
	EXPECT_EQ(0, st.uid);
	EXPECT_LE(2, (long)st.uid_entries);
	EXPECT_LE(st.uid_entries, st.entries);
	EXPECT_EQ(0, run_as(UNPRIVILEGED_UID, status_as_user, NULL));
	EXPECT_EQ(0, kreg_unregister(self->c, "status-0"));
	EXPECT_EQ(0, kreg_unregister(self->c, "status-1"));
	ASSERT_EQ(0, kreg_status(self->c, &st));
	EXPECT_EQ(used, (long)st.entries);
}

TEST_F(reg, global_limit_is_enospc)
{
	long saved = read_param("max_entries"), used = count_entries(self->c);
	pid_t pid;

	ASSERT_GT(saved, 0);
	ASSERT_GE(used, 0);
	ASSERT_EQ(0, write_param("max_entries", used + 2));
	EXPECT_EQ(0, kreg_register(self->c, "limit-0", 0, NULL));
	EXPECT_EQ(0, kreg_register(self->c, "limit-1", 0, NULL));
	EXPECT_EQ(-ENOSPC, kreg_register(self->c, "limit-2", 0, NULL));
	EXPECT_STREQ("the registry is full (max_entries)", kreg_last_error(self->c));
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "limit-2", &pid));
	ASSERT_EQ(0, write_param("max_entries", saved));
	EXPECT_EQ(0, kreg_unregister(self->c, "limit-0"));
	EXPECT_EQ(0, kreg_unregister(self->c, "limit-1"));
}

TEST_HARNESS_MAIN
