// SPDX-License-Identifier: GPL-2.0
/*
 * A registration's value changed in place (kreg_update_meta(), Elixir's
 * Registry.update_value/3), on both providers: the holder, the mailbox and
 * the name stay, lookups never miss the name meanwhile, subscribers see the
 * new value, and a bad update changes nothing. In the guest every test runs
 * against the kernel and the local provider; on the host (built with
 * KREG_LOCAL_ONLY, ASan and UBSan) against the local one. The kernel alone
 * is then attacked: another uid, raw netlink, and the view's memory.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kreg.h"
#include "kselftest_harness.h"

#ifndef KREG_LOCAL_ONLY
#include "helpers.h"
#include "kreg_trace_probe.skel.h"
#include "raw_nl.h"
#include "view_raw.h"
#endif

/* Two values of different lengths: a torn read would show as neither. */
#define SHORT_VALUE "a-value"
#define LONG_VALUE "the-other-value-which-is-longer"

FIXTURE(upd) {
	struct kreg_conn *c;
	char name[64];
	pid_t holder;
};

FIXTURE_VARIANT(upd) {
	enum kreg_provider provider;
};

FIXTURE_VARIANT_ADD(upd, local) {
	.provider = KREG_PROVIDER_LOCAL,
};

#ifndef KREG_LOCAL_ONLY
FIXTURE_VARIANT_ADD(upd, kernel) {
	.provider = KREG_PROVIDER_KERNEL,
};
#endif

/* Each test holds its own name, with the value SHORT_VALUE. */
#define HOLD_A_NAME(provider) do {							\
	ASSERT_EQ(0, kreg_open_provider(&self->c, (provider)));			\
	snprintf(self->name, sizeof(self->name), "upd-%d-%s", (int)getpid(),	\
		 _metadata->name);							\
	ASSERT_EQ(0, kreg_register_meta(self->c, self->name, 0, SHORT_VALUE,	\
					strlen(SHORT_VALUE), &self->holder));	\
	ASSERT_LT(0, self->holder);						\
} while (0)

FIXTURE_SETUP(upd)
{
	HOLD_A_NAME(variant->provider);
}

FIXTURE_TEARDOWN(upd)
{
	kreg_close(self->c);
}

/* The name's holder and value as a lookup tells them: 0, or the error. */
static int lookup(struct kreg_conn *c, const char *name, pid_t *pid, char *value,
		  size_t size)
{
	size_t len = 0;
	int err;

	err = kreg_whereis_meta(c, name, pid, value, size - 1, &len);
	value[err || len >= size ? 0 : len] = '\0';
	return err;
}

TEST_F(upd, the_value_changes_in_place_with_the_same_holder)
{
	struct kreg_match m = { .pattern = self->name };
	char value[KREG_META_MAX + 1];
	size_t n = 0;
	pid_t pid;

	ASSERT_EQ(0, kreg_update_meta(self->c, self->name, LONG_VALUE, strlen(LONG_VALUE)));
	ASSERT_EQ(0, lookup(self->c, self->name, &pid, value, sizeof(value)));
	EXPECT_EQ(self->holder, pid);
	EXPECT_STREQ(LONG_VALUE, value);
	/* Still one name, found by its new value and no longer by its old one. */
	ASSERT_EQ(0, kreg_count(self->c, &m, &n));
	EXPECT_EQ(1u, n);
	m.value = LONG_VALUE;
	m.value_len = strlen(LONG_VALUE);
	ASSERT_EQ(0, kreg_count(self->c, &m, &n));
	EXPECT_EQ(1u, n);
	m.value = SHORT_VALUE;
	m.value_len = strlen(SHORT_VALUE);
	ASSERT_EQ(0, kreg_count(self->c, &m, &n));
	EXPECT_EQ(0u, n);

	/* No value at all is a value too. */
	ASSERT_EQ(0, kreg_update_meta(self->c, self->name, NULL, 0));
	ASSERT_EQ(0, lookup(self->c, self->name, &pid, value, sizeof(value)));
	EXPECT_EQ(self->holder, pid);
	EXPECT_STREQ("", value);
}

TEST_F(upd, subscribers_get_the_new_value)
{
	struct kreg_conn *sub;
	struct kreg_event ev;

	ASSERT_EQ(0, kreg_open_provider(&sub, variant->provider));
	ASSERT_EQ(0, kreg_subscribe_matching(sub, self->name));
	ASSERT_EQ(0, kreg_update_meta(self->c, self->name, LONG_VALUE, strlen(LONG_VALUE)));
	ASSERT_EQ(0, kreg_next_event(sub, &ev, 10000));
	EXPECT_EQ(KREG_EVENT_UPDATED, ev.kind);
	EXPECT_STREQ(self->name, ev.name);
	EXPECT_EQ(self->holder, ev.pid);
	ASSERT_EQ(strlen(LONG_VALUE), ev.meta_len);
	EXPECT_EQ(0, memcmp(LONG_VALUE, ev.meta, ev.meta_len));
	/* Nothing else: no removal and registration in its place. */
	EXPECT_EQ(-ETIMEDOUT, kreg_next_event(sub, &ev, 200));
	kreg_close(sub);
}

struct updater {
	const char *name;
	struct kreg_conn *c;
	int rounds, err;
	atomic_long lookups;	/* the reader's, so far */
	atomic_bool done;
};

/*
 * @rounds updates at least, and on until the reader has looked 200 times:
 * a reader that was not scheduled for the first ones proves nothing.
 */
static void *update_back_and_forth(void *arg)
{
	struct updater *u = arg;
	int i;

	for (i = 0; !u->err && i < 100 * u->rounds &&
	     (i < u->rounds || atomic_load(&u->lookups) < 200); i++) {
		const char *v = i % 2 ? SHORT_VALUE : LONG_VALUE;

		u->err = kreg_update_meta(u->c, u->name, v, strlen(v));
	}
	atomic_store(&u->done, true);
	return NULL;
}

/*
 * The gap an unregister and a register again would leave: never there,
 * neither for lookups in the view (the kernel's shared memory) nor for
 * those that ask the kernel itself (KREG_WHEREIS_LINEARIZABLE), in turn.
 */
TEST_F(upd, lookups_never_miss_the_name_while_it_changes)
{
	struct updater u = { .name = self->name, .c = self->c, .rounds = 1000 };
	char value[KREG_META_MAX + 1];
	struct kreg_conn *reader;
	long lookups[2] = { 0, 0 }, missed = 0, torn = 0;
	struct kreg_holder h;
	pthread_t t;
	pid_t pid;

	ASSERT_EQ(0, kreg_open_provider(&reader, variant->provider));
	ASSERT_EQ(0, pthread_create(&t, NULL, update_back_and_forth, &u));
	while (!atomic_load(&u.done)) {
		bool asked = (lookups[0] + lookups[1]) % 2;

		lookups[asked]++;
		atomic_fetch_add(&u.lookups, 1);
		if (asked) {
			if (kreg_whereis_holder(reader, self->name, KREG_WHEREIS_LINEARIZABLE, &h) ||
			    h.pid != self->holder)
				missed++;
		} else if (lookup(reader, self->name, &pid, value, sizeof(value)) ||
			   pid != self->holder) {
			missed++;
		} else if (strcmp(value, SHORT_VALUE) && strcmp(value, LONG_VALUE)) {
			torn++;
		}
	}
	pthread_join(t, NULL);
	ASSERT_EQ(0, u.err);
	TH_LOG("%ld lookups and %ld linearizable ones during %d updates or more", lookups[0],
	       lookups[1], u.rounds);
	EXPECT_LT(0, lookups[0]);
	EXPECT_LT(0, lookups[1]);
	EXPECT_EQ(0, missed);
	EXPECT_EQ(0, torn);
	kreg_close(reader);
}

TEST_F(upd, a_bad_update_changes_nothing)
{
	char big[KREG_META_MAX + 1], value[KREG_META_MAX + 1], absent[96];
	pid_t pid;

	memset(big, 'x', sizeof(big));
	EXPECT_EQ(-EMSGSIZE, kreg_update_meta(self->c, self->name, big, sizeof(big)));
	EXPECT_EQ(-EINVAL, kreg_update_meta(self->c, "upd..bad", "v", 1));
	snprintf(absent, sizeof(absent), "%s-absent", self->name);
	EXPECT_EQ(-ENOENT, kreg_update_meta(self->c, absent, "v", 1));
	EXPECT_STRNE("", kreg_last_error(self->c));
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, absent, &pid));

	ASSERT_EQ(0, lookup(self->c, self->name, &pid, value, sizeof(value)));
	EXPECT_EQ(self->holder, pid);
	EXPECT_STREQ(SHORT_VALUE, value);
}

TEST_F(upd, the_name_keeps_its_mailbox)
{
	struct kreg_message msg;
	struct kreg_conn *sender;

	ASSERT_EQ(0, kreg_update_meta(self->c, self->name, LONG_VALUE, strlen(LONG_VALUE)));
	ASSERT_EQ(0, kreg_open_provider(&sender, variant->provider));
	ASSERT_EQ(0, kreg_send(sender, self->name, "after", 5));
	ASSERT_EQ(0, kreg_recv(self->c, &msg, 10000));
	EXPECT_STREQ(self->name, msg.name);
	ASSERT_EQ(5u, msg.len);
	EXPECT_EQ(0, memcmp("after", msg.data, 5));
	kreg_close(sender);
}

/* A holder registers, changes its value, then ends: its name goes with it. */
struct holder {
	enum kreg_provider provider;
	const char *name;
	int ready[2], go[2];
};

static int hold_update_and_end(struct holder *h)
{
	struct kreg_conn *c = NULL;
	char byte = 0;
	int err;

	err = kreg_open_provider(&c, h->provider);
	if (!err)
		err = kreg_register_meta(c, h->name, 0, SHORT_VALUE, strlen(SHORT_VALUE), NULL);
	if (!err)
		err = kreg_update_meta(c, h->name, LONG_VALUE, strlen(LONG_VALUE));
	byte = err ? 1 : 0;
	if (write(h->ready[1], &byte, 1) != 1 || read(h->go[0], &byte, 1) != 1)
		err = -EIO;
	/* A handle closed leaves its names registered: the holder's end takes them. */
	if (c)
		kreg_close(c);
	return err;
}

static void *holder_thread(void *arg)
{
	hold_update_and_end(arg);
	return NULL;
}

/*
 * Released as its holder's name, not only read as absent: the kernel's
 * release of a dead process walks that process's names, which the update
 * must have left it holding.
 */
TEST_F(upd, the_name_goes_with_its_holder)
{
	struct holder h = { .provider = variant->provider };
	char name[96], value[KREG_META_MAX + 1], byte = 1;
	struct kreg_conn *sub;
	struct kreg_event ev;
	pthread_t t;
	pid_t child = 0, pid;
	int err;

	snprintf(name, sizeof(name), "%s-ends", self->name);
	h.name = name;
	ASSERT_EQ(0, kreg_open_provider(&sub, variant->provider));
	ASSERT_EQ(0, kreg_subscribe_matching(sub, name));
	ASSERT_EQ(0, pipe(h.ready));
	ASSERT_EQ(0, pipe(h.go));
	/* A holder is a thread on the local provider, a process on the kernel's. */
	if (variant->provider == KREG_PROVIDER_LOCAL) {
		ASSERT_EQ(0, pthread_create(&t, NULL, holder_thread, &h));
	} else {
		child = fork();
		ASSERT_LE(0, child);
		if (child == 0)
			_exit(hold_update_and_end(&h) ? 1 : 0);
	}
	ASSERT_EQ(1, read(h.ready[0], &byte, 1));
	ASSERT_EQ(0, byte);
	ASSERT_EQ(0, lookup(self->c, name, &pid, value, sizeof(value)));
	EXPECT_STREQ(LONG_VALUE, value);
	if (child) {
		EXPECT_EQ(child, pid);
	}
	ASSERT_EQ(1, write(h.go[1], &byte, 1));
	if (child) {
		ASSERT_EQ(child, waitpid(child, NULL, 0));
	} else {
		pthread_join(t, NULL);
	}
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, name, &pid));
	/* Registered, updated, then released because its holder ended. */
	while (!(err = kreg_next_event(sub, &ev, 10000)) && ev.kind != KREG_EVENT_UNREGISTERED)
		;
	ASSERT_EQ(0, err);
	EXPECT_STREQ(name, ev.name);
	EXPECT_EQ(KREG_REASON_EXITED, ev.reason);
	kreg_close(sub);
}

#ifndef KREG_LOCAL_ONLY
/* The kernel alone, as an attacker sees it. */
FIXTURE(kernel) {
	struct kreg_conn *c;
	char name[64];
	pid_t holder;
};

FIXTURE_SETUP(kernel)
{
	HOLD_A_NAME(KREG_PROVIDER_KERNEL);
}

FIXTURE_TEARDOWN(kernel)
{
	kreg_close(self->c);
}

/* The name, when this runs as another uid. */
static const char *victim;

static int update_as_another_uid(void *arg)
{
	struct kreg_conn *c;
	int err;

	(void)arg;
	if (kreg_open(&c))
		return 2;
	err = kreg_update_meta(c, victim, "theirs", 6);
	kreg_close(c);
	return err == -EPERM ? 0 : 1;
}

TEST_F(kernel, another_uid_may_not_change_the_value)
{
	char value[KREG_META_MAX + 1];
	pid_t pid;

	victim = self->name;
	EXPECT_EQ(0, run_as(65534, update_as_another_uid, NULL));
	ASSERT_EQ(0, lookup(self->c, self->name, &pid, value, sizeof(value)));
	EXPECT_STREQ(SHORT_VALUE, value);
}

/* An UPDATE as an attacker writes it: @extra attributes after the name. */
static int raw_update(struct raw_nl *n, const char *name, uint16_t type,
		      const void *data, size_t len)
{
	static struct raw_msg m;

	raw_kreg_msg(&m, n, KREG_CMD_UPDATE);
	if (name)
		raw_put_str(&m, KREG_A_NAME, name);
	if (type)
		raw_put(&m, type, data, len);
	return raw_request(n, &m, NULL);
}

TEST_F(kernel, raw_updates_that_ask_more_than_a_value_are_refused)
{
	char big[KREG_META_MAX + 1], value[KREG_META_MAX + 1];
	uint32_t one = 1;
	struct raw_nl n;
	pid_t pid;

	memset(big, 'x', sizeof(big));
	ASSERT_EQ(0, raw_nl_open(&n));
	/* Another holder, another kind of name: an update changes neither. */
	EXPECT_EQ(-EINVAL, raw_update(&n, self->name, KREG_A_PID, &one, sizeof(one)));
	EXPECT_EQ(-EINVAL, raw_update(&n, self->name, KREG_A_FLAGS, &one, sizeof(one)));
	EXPECT_EQ(-EINVAL, raw_update(&n, NULL, KREG_A_META, "v", 1));
	EXPECT_EQ(-EMSGSIZE, raw_update(&n, self->name, KREG_A_META, big, sizeof(big)));
	EXPECT_EQ(-EINVAL, raw_update(&n, "upd.*", KREG_A_META, "v", 1));
	ASSERT_EQ(0, lookup(self->c, self->name, &pid, value, sizeof(value)));
	EXPECT_EQ(self->holder, pid);
	EXPECT_STREQ(SHORT_VALUE, value);
	/* The same socket's plain update works: the refusals were the attributes. */
	EXPECT_EQ(0, raw_update(&n, self->name, KREG_A_META, "raw", 3));
	ASSERT_EQ(0, lookup(self->c, self->name, &pid, value, sizeof(value)));
	EXPECT_STREQ("raw", value);
	raw_nl_close(&n);
}

/* An operator's BPF program sees each update: its name, holder and result. */
TEST_F(kernel, every_update_is_traced)
{
	struct kreg_trace_probe *probe = kreg_trace_probe__open_and_load();

	ASSERT_NE(NULL, probe);
	probe->bss->target = getpid();
	ASSERT_EQ(0, kreg_trace_probe__attach(probe));
	ASSERT_EQ(0, kreg_update_meta(self->c, self->name, "traced", 6));
	EXPECT_EQ(1u, probe->bss->updates);
	EXPECT_EQ(0, probe->bss->last_result);
	EXPECT_EQ(6u, probe->bss->last_meta_len);
	EXPECT_EQ(0, strncmp(self->name, probe->bss->last_name, sizeof(probe->bss->last_name) - 1));
	kreg_trace_probe__destroy(probe);
}

/* One name, one count toward the quota, whatever its value became. */
TEST_F(kernel, the_quota_counts_the_name_once)
{
	struct kreg_status before, after;
	int i;

	ASSERT_EQ(0, kreg_status(self->c, &before));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, kreg_update_meta(self->c, self->name, "v", (size_t)i));
	ASSERT_EQ(0, kreg_status(self->c, &after));
	EXPECT_EQ(before.uid_entries, after.uid_entries);
	ASSERT_EQ(0, kreg_unregister(self->c, self->name));
	ASSERT_EQ(0, kreg_status(self->c, &after));
	EXPECT_EQ(before.uid_entries - 1, after.uid_entries);
}

/*
 * A name bound to its socket (a reply address's kind), updated, still goes
 * when that socket closes: the closing socket's names are found through
 * its mailbox, which the update must have left bound to the name.
 */
TEST_F(kernel, a_bound_name_updated_still_goes_with_its_socket)
{
	struct kreg_holder h;
	struct raw_nl n;
	char name[96];
	int i, err;

	snprintf(name, sizeof(name), "%s-bound", self->name);
	ASSERT_EQ(0, raw_nl_open(&n));
	ASSERT_EQ(0, raw_nl_register_flags(&n, name, KREG_F_MAILBOX_BOUND));
	ASSERT_EQ(0, raw_update(&n, name, KREG_A_META, "updated", 7));
	ASSERT_EQ(0, kreg_whereis_holder(self->c, name, KREG_WHEREIS_LINEARIZABLE, &h));
	EXPECT_EQ(getpid(), h.pid);
	raw_nl_close(&n);
	for (i = 0; i < 200; i++) {
		err = kreg_whereis_holder(self->c, name, KREG_WHEREIS_LINEARIZABLE, &h);
		if (err)
			break;
		usleep(10000);
	}
	EXPECT_EQ(KREG_UNDEFINED, err);
}

/*
 * The view is mapped by every process: a value must leave no byte in it
 * once it is gone, even where the new one, shorter, does not reach.
 */
TEST_F(kernel, the_view_keeps_no_byte_of_an_old_value)
{
	char old[64], now[64], value[KREG_META_MAX + 1];
	struct raw_view v;
	pid_t pid;

	snprintf(old, sizeof(old), "old-secret-%d", (int)getpid());
	snprintf(now, sizeof(now), "now-%d", (int)getpid());
	ASSERT_EQ(0, kreg_update_meta(self->c, self->name, old, strlen(old)));
	ASSERT_EQ(0, raw_view_wait(&v, self->name));
	EXPECT_TRUE(raw_view_contains(&v, old));
	raw_view_unmap(&v);

	ASSERT_EQ(0, kreg_update_meta(self->c, self->name, NULL, 0));
	ASSERT_EQ(0, raw_view_wait(&v, self->name));
	EXPECT_FALSE(raw_view_contains(&v, old));
	EXPECT_EQ((uint32_t)getpid(), raw_view_pid(&v, self->name));
	raw_view_unmap(&v);
	ASSERT_EQ(0, lookup(self->c, self->name, &pid, value, sizeof(value)));
	EXPECT_STREQ("", value);

	ASSERT_EQ(0, kreg_update_meta(self->c, self->name, now, strlen(now)));
	ASSERT_EQ(0, raw_view_wait(&v, self->name));
	EXPECT_TRUE(raw_view_contains(&v, now));
	raw_view_unmap(&v);
}
#endif

TEST_HARNESS_MAIN
