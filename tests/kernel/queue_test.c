// SPDX-License-Identifier: GPL-2.0
/*
 * Waiting in line for a held name (kreg_register_queued(), D-Bus's queueing
 * without DO_NOT_QUEUE), on both providers: the first in line holds the
 * name the moment its holder goes, by release or by exit, in the order they
 * queued; nobody ever finds the name free in between; a place in line goes
 * with its process or an unregister, as a name does. In the guest every
 * test runs against the kernel and the local provider; on the host (built
 * with KREG_LOCAL_ONLY, ASan and UBSan) against the local one. The kernel
 * alone is then checked as an attacker would: raw netlink, another uid, the
 * quota, cluster names, and the tracepoint.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kreg.h"
#include "kselftest_harness.h"

#ifndef KREG_LOCAL_ONLY
#include "cleanup.h"
#include "helpers.h"
#include "kreg_trace_probe.skel.h"
#include "raw_nl.h"
#endif

/*
 * Another holder than the test's own: a thread on the local provider (its
 * holders are threads), a child process on the kernel's. It does what it
 * is told over a pipe, one command at a time, and answers with a result.
 */
struct actor {
	enum kreg_provider provider;
	const char *name;
	int cmd[2], res[2];
	pid_t id;		/* its thread or process id, as holders are told */
	pid_t child;
	pthread_t thread;
};

static pid_t holder_id(enum kreg_provider provider)
{
	return provider == KREG_PROVIDER_LOCAL ? (pid_t)syscall(SYS_gettid) : getpid();
}

static void actor_body(struct actor *a)
{
	struct kreg_conn *c = NULL;
	int result[2];
	char op;

	result[0] = kreg_open_provider(&c, a->provider);
	result[1] = holder_id(a->provider);
	if (write(a->res[1], result, sizeof(result)) != sizeof(result))
		abort();
	while (!result[0] && read(a->cmd[0], &op, 1) == 1 && op != 'x') {
		pid_t holder = 0;

		switch (op) {
		case 'q':	/* queue */
			result[0] = kreg_register_queued(c, a->name, "standby", 7, &holder);
			break;
		case 'r':	/* register */
			result[0] = kreg_register(c, a->name, 0, &holder);
			break;
		case 'a':	/* await its turn */
			result[0] = kreg_await_own(c, a->name, 10000);
			break;
		case 't':	/* await its turn, briefly */
			result[0] = kreg_await_own(c, a->name, 300);
			break;
		case 'u':	/* unregister */
			result[0] = kreg_unregister(c, a->name);
			break;
		}
		result[1] = holder;
		if (write(a->res[1], result, sizeof(result)) != sizeof(result))
			abort();
		result[0] = 0;
	}
	kreg_close(c);
}

static void *actor_thread(void *arg)
{
	actor_body(arg);
	return NULL;
}

static int actor_start(struct actor *a, enum kreg_provider provider, const char *name)
{
	int hello[2];

	a->provider = provider;
	a->name = name;
	/* A command to an actor that was killed is EPIPE, not the test's death. */
	signal(SIGPIPE, SIG_IGN);
	if (pipe(a->cmd) || pipe(a->res))
		return -errno;
	if (provider == KREG_PROVIDER_LOCAL) {
		if (pthread_create(&a->thread, NULL, actor_thread, a))
			return -EAGAIN;
	} else {
		a->child = fork();
		if (a->child < 0)
			return -errno;
		if (a->child == 0) {
			/* Each end in one process only: either side's end is EOF to the other. */
			close(a->cmd[1]);
			close(a->res[0]);
			actor_body(a);
			_exit(0);
		}
		close(a->cmd[0]);
		close(a->res[1]);
		a->cmd[0] = a->res[1] = -1;
	}
	if (read(a->res[0], hello, sizeof(hello)) != sizeof(hello))
		return -EIO;
	a->id = hello[1];
	return hello[0];
}

/* Tells @a to do @op: its result, and the holder it reported in *@holder. */
static int actor_do(struct actor *a, char op, pid_t *holder)
{
	int result[2];

	if (write(a->cmd[1], &op, 1) != 1 ||
	    read(a->res[0], result, sizeof(result)) != sizeof(result))
		return -EIO;
	if (holder)
		*holder = result[1];
	return result[0];
}

/* Tells @a to do @op without waiting for its answer (actor_result()). */
static int actor_post(struct actor *a, char op)
{
	return write(a->cmd[1], &op, 1) == 1 ? 0 : -EIO;
}

static int actor_result(struct actor *a)
{
	int result[2];

	return read(a->res[0], result, sizeof(result)) == sizeof(result) ? result[0] : -EIO;
}

/* Ends @a (its thread returns, its process exits) and waits until it has. */
static void actor_end(struct actor *a)
{
	char op = 'x';

	/* An actor killed already has no reader: EPIPE then (SIGPIPE is ignored). */
	if (write(a->cmd[1], &op, 1) != 1 && errno != EPIPE)
		abort();
	if (a->provider == KREG_PROVIDER_LOCAL)
		pthread_join(a->thread, NULL);
	else
		waitpid(a->child, NULL, 0);
	close(a->cmd[1]);
	close(a->res[0]);
	if (a->cmd[0] >= 0)
		close(a->cmd[0]);
	if (a->res[1] >= 0)
		close(a->res[1]);
}

/*
 * Until process @pid holds a pidfd open (kreg_await_own() watching its
 * holder: it waits now), for up to 10 s. On the local provider the waiter
 * is a thread with nothing to show: a moment is given instead.
 */
static void until_waiting(enum kreg_provider provider, pid_t pid)
{
	char dir[64], path[320], target[64];
	int tries;

	if (provider == KREG_PROVIDER_LOCAL) {
		usleep(100 * 1000);
		return;
	}
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	for (tries = 0; tries < 1000; tries++) {
		DIR *d = opendir(dir);
		struct dirent *de;
		bool found = false;

		while (d && (de = readdir(d)) && !found) {
			ssize_t n;

			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			n = readlink(path, target, sizeof(target) - 1);
			if (n > 0) {
				target[n] = '\0';
				found = strstr(target, "pidfd") != NULL;
			}
		}
		if (d)
			closedir(d);
		if (found)
			return;
		usleep(10 * 1000);
	}
}

FIXTURE(line) {
	struct kreg_conn *c;
	char name[64];
	pid_t me;
};

FIXTURE_VARIANT(line) {
	enum kreg_provider provider;
};

FIXTURE_VARIANT_ADD(line, local) {
	.provider = KREG_PROVIDER_LOCAL,
};

#ifndef KREG_LOCAL_ONLY
FIXTURE_VARIANT_ADD(line, kernel) {
	.provider = KREG_PROVIDER_KERNEL,
};
#endif

/* Each test holds its own name. */
FIXTURE_SETUP(line)
{
	pid_t holder = 0;

	ASSERT_EQ(0, kreg_open_provider(&self->c, variant->provider));
	snprintf(self->name, sizeof(self->name), "line-%d-%.40s", (int)getpid(),
		 _metadata->name);
	self->me = holder_id(variant->provider);
	ASSERT_EQ(0, kreg_register_queued(self->c, self->name, NULL, 0, &holder));
	ASSERT_EQ(self->me, holder);
}

FIXTURE_TEARDOWN(line)
{
	kreg_close(self->c);
}

static pid_t holder_of(struct kreg_conn *c, const char *name)
{
	pid_t pid = 0;
	int err = kreg_whereis_name(c, name, &pid);

	return err ? err : pid;
}

TEST_F(line, the_first_in_line_holds_the_name_when_its_holder_releases_it)
{
	struct kreg_conn *sub;
	struct kreg_event ev;
	struct actor a;
	pid_t holder = 0;

	ASSERT_EQ(0, kreg_open_provider(&sub, variant->provider));
	ASSERT_EQ(0, kreg_subscribe_matching(sub, self->name));
	ASSERT_EQ(0, actor_start(&a, variant->provider, self->name));
	ASSERT_EQ(-EINPROGRESS, actor_do(&a, 'q', &holder));
	/* In line, told who holds it; the name is still the holder's. */
	EXPECT_EQ(self->me, holder);
	EXPECT_EQ(self->me, holder_of(self->c, self->name));

	ASSERT_EQ(0, kreg_unregister(self->c, self->name));
	/* At once: no moment in which the name is free. */
	EXPECT_EQ(a.id, holder_of(self->c, self->name));
	/* The holder's removal, then the next one's registration, with its value. */
	ASSERT_EQ(0, kreg_next_event(sub, &ev, 5000));
	EXPECT_EQ(KREG_EVENT_UNREGISTERED, ev.kind);
	EXPECT_EQ(self->me, ev.pid);
	EXPECT_EQ(KREG_REASON_EXPLICIT, ev.reason);
	ASSERT_EQ(0, kreg_next_event(sub, &ev, 5000));
	EXPECT_EQ(KREG_EVENT_REGISTERED, ev.kind);
	EXPECT_EQ(a.id, ev.pid);
	ASSERT_EQ(7u, ev.meta_len);
	EXPECT_EQ(0, memcmp("standby", ev.meta, 7));
	actor_end(&a);
	kreg_close(sub);
}

TEST_F(line, the_line_is_first_come_first_served)
{
	struct actor a[3];
	int i;

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, actor_start(&a[i], variant->provider, self->name));
		ASSERT_EQ(-EINPROGRESS, actor_do(&a[i], 'q', NULL));
	}
	ASSERT_EQ(0, kreg_unregister(self->c, self->name));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(a[i].id, holder_of(self->c, self->name));
		/* Each releases it in turn; the last leaves it free. */
		EXPECT_EQ(0, actor_do(&a[i], 'u', NULL));
	}
	EXPECT_EQ(KREG_UNDEFINED, holder_of(self->c, self->name));
	for (i = 0; i < 3; i++)
		actor_end(&a[i]);
}

TEST_F(line, a_holder_that_ends_hands_the_name_to_the_next)
{
	struct actor h, a;

	/* The name moves to an actor, then the test's own process queues behind it. */
	ASSERT_EQ(0, kreg_unregister(self->c, self->name));
	ASSERT_EQ(0, actor_start(&h, variant->provider, self->name));
	ASSERT_EQ(0, actor_do(&h, 'r', NULL));
	ASSERT_EQ(0, actor_start(&a, variant->provider, self->name));
	ASSERT_EQ(-EINPROGRESS, actor_do(&a, 'q', NULL));
	ASSERT_EQ(h.id, holder_of(self->c, self->name));
	actor_end(&h);
	EXPECT_EQ(a.id, holder_of(self->c, self->name));
	actor_end(&a);
	EXPECT_EQ(KREG_UNDEFINED, holder_of(self->c, self->name));
}

TEST_F(line, await_own_wakes_the_one_in_line_when_it_holds_the_name)
{
	struct actor a;

	ASSERT_EQ(0, actor_start(&a, variant->provider, self->name));
	ASSERT_EQ(-EINPROGRESS, actor_do(&a, 'q', NULL));
	ASSERT_EQ(0, actor_post(&a, 'a'));
	until_waiting(variant->provider, a.id);
	ASSERT_EQ(0, kreg_unregister(self->c, self->name));
	EXPECT_EQ(0, actor_result(&a));
	EXPECT_EQ(a.id, holder_of(self->c, self->name));
	actor_end(&a);
}

TEST_F(line, a_place_in_line_goes_with_its_process)
{
	struct actor a, b;

	ASSERT_EQ(0, actor_start(&a, variant->provider, self->name));
	ASSERT_EQ(0, actor_start(&b, variant->provider, self->name));
	ASSERT_EQ(-EINPROGRESS, actor_do(&a, 'q', NULL));
	ASSERT_EQ(-EINPROGRESS, actor_do(&b, 'q', NULL));
	actor_end(&a);
	ASSERT_EQ(0, kreg_unregister(self->c, self->name));
	/* The first in line has ended: the second holds it. */
	EXPECT_EQ(b.id, holder_of(self->c, self->name));
	actor_end(&b);
}

TEST_F(line, unregister_from_the_line_leaves_it_and_the_holder_keeps_the_name)
{
	struct actor a;

	ASSERT_EQ(0, actor_start(&a, variant->provider, self->name));
	ASSERT_EQ(-EINPROGRESS, actor_do(&a, 'q', NULL));
	EXPECT_EQ(0, actor_do(&a, 'u', NULL));
	EXPECT_EQ(self->me, holder_of(self->c, self->name));
	/* Out of line: the name is free once its holder lets go. */
	ASSERT_EQ(0, kreg_unregister(self->c, self->name));
	EXPECT_EQ(KREG_UNDEFINED, holder_of(self->c, self->name));
	actor_end(&a);
}

TEST_F(line, the_holder_and_one_already_in_line_cannot_queue_again)
{
	struct actor a;
	pid_t holder = 0;

	EXPECT_EQ(-EEXIST, kreg_register_queued(self->c, self->name, NULL, 0, &holder));
	EXPECT_EQ(self->me, holder);
	ASSERT_EQ(0, actor_start(&a, variant->provider, self->name));
	ASSERT_EQ(-EINPROGRESS, actor_do(&a, 'q', NULL));
	EXPECT_EQ(-EALREADY, actor_do(&a, 'q', NULL));
	/* Still one place: the holder's release hands the name over, once. */
	ASSERT_EQ(0, kreg_unregister(self->c, self->name));
	EXPECT_EQ(a.id, holder_of(self->c, self->name));
	EXPECT_EQ(0, actor_do(&a, 'u', NULL));
	EXPECT_EQ(KREG_UNDEFINED, holder_of(self->c, self->name));
	actor_end(&a);
}

/* At most KREG_LINE_MAX wait for one name; the next is told, and nothing changes. */
TEST_F_TIMEOUT(line, the_line_is_bounded, 120)
{
	struct actor a[KREG_LINE_MAX + 1];
	int i;

	for (i = 0; i < KREG_LINE_MAX; i++) {
		ASSERT_EQ(0, actor_start(&a[i], variant->provider, self->name));
		ASSERT_EQ(-EINPROGRESS, actor_do(&a[i], 'q', NULL));
	}
	ASSERT_EQ(0, actor_start(&a[i], variant->provider, self->name));
	EXPECT_EQ(-EUSERS, actor_do(&a[i], 'q', NULL));
	/* One leaves: there is room again, at the end of the line. */
	EXPECT_EQ(0, actor_do(&a[0], 'u', NULL));
	EXPECT_EQ(-EINPROGRESS, actor_do(&a[i], 'q', NULL));
	ASSERT_EQ(0, kreg_unregister(self->c, self->name));
	EXPECT_EQ(a[1].id, holder_of(self->c, self->name));
	for (i = 0; i <= KREG_LINE_MAX; i++)
		actor_end(&a[i]);
}

/* await_own by a process in no line: the holder's release gives it nothing. */
TEST_F(line, await_own_out_of_line_times_out)
{
	struct actor a;

	ASSERT_EQ(0, actor_start(&a, variant->provider, self->name));
	EXPECT_EQ(-ETIMEDOUT, actor_do(&a, 't', NULL));
	ASSERT_EQ(0, actor_post(&a, 't'));
	ASSERT_EQ(0, kreg_unregister(self->c, self->name));
	EXPECT_EQ(-ETIMEDOUT, actor_result(&a));
	EXPECT_EQ(KREG_UNDEFINED, holder_of(self->c, self->name));
	actor_end(&a);
}

/* A reader that asks who holds the name until told to stop, counting misses. */
struct reader {
	struct kreg_conn *c;
	const char *name;
	atomic_bool stop;
	atomic_long looks, misses;
};

static void *read_holder(void *arg)
{
	struct reader *r = arg;

	while (!atomic_load(&r->stop)) {
		pid_t pid;

		if (kreg_whereis_name(r->c, r->name, &pid) != 0)
			atomic_fetch_add(&r->misses, 1);
		atomic_fetch_add(&r->looks, 1);
	}
	return NULL;
}

/*
 * A chain of standbys, each holder ending in turn, while another thread
 * looks the name up without pause: it never finds the name free.
 */
TEST_F(line, a_reader_never_finds_the_name_free_while_it_passes_down_the_line)
{
	enum { CHAIN = 6 };
	struct reader r = { .name = self->name };
	struct actor a[CHAIN];
	pthread_t t;
	long looked;
	int i;

	ASSERT_EQ(0, kreg_unregister(self->c, self->name));
	for (i = 0; i < CHAIN; i++) {
		ASSERT_EQ(0, actor_start(&a[i], variant->provider, self->name));
		ASSERT_EQ(i ? -EINPROGRESS : 0, actor_do(&a[i], 'q', NULL));
	}
	ASSERT_EQ(0, kreg_open_provider(&r.c, variant->provider));
	ASSERT_EQ(0, pthread_create(&t, NULL, read_holder, &r));
	for (i = 0; i < CHAIN - 1; i++) {
		/* Let the reader look a while at each holder. */
		looked = atomic_load(&r.looks);
		while (atomic_load(&r.looks) < looked + 20)
			usleep(1000);
		/* Alternately by exit and by release. */
		if (i % 2)
			EXPECT_EQ(0, actor_do(&a[i], 'u', NULL));
		actor_end(&a[i]);
		EXPECT_EQ(a[i + 1].id, holder_of(self->c, self->name));
	}
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	EXPECT_EQ(0, atomic_load(&r.misses)) TH_LOG("%ld of %ld lookups found no holder",
						     atomic_load(&r.misses), atomic_load(&r.looks));
	actor_end(&a[CHAIN - 1]);
	kreg_close(r.c);
}

#ifndef KREG_LOCAL_ONLY
FIXTURE(kernel) {
	struct kreg_conn *c;
	char name[64];
	long saved_quota;	/* max_per_uid to restore, or 0 */
	int cleanup_was;	/* cleanup_detach()'s answer, to restore; -1 untouched */
};

FIXTURE_SETUP(kernel)
{
	self->cleanup_was = -1;
	ASSERT_EQ(0, kreg_open(&self->c));
	snprintf(self->name, sizeof(self->name), "lk-%d-%.40s", (int)getpid(),
		 _metadata->name);
	ASSERT_EQ(0, kreg_register(self->c, self->name, 0, NULL));
}

/* What a test changed of the host goes back, however the test ended. */
FIXTURE_TEARDOWN(kernel)
{
	char why[256];

	if (self->saved_quota > 0)
		write_param("max_per_uid", self->saved_quota);
	if (self->cleanup_was == 0)
		cleanup_attach(why, sizeof(why));
	else if (self->cleanup_was == 1)
		cleanup_detach();
	kreg_close(self->c);
}

/*
 * Raw REGISTER with KREG_F_QUEUE from another process: the reply names the
 * holder and says KREG_F_QUEUE; the holder's own process gets EEXIST.
 */
TEST_F(kernel, raw_netlink_queueing_gets_the_holder_and_the_queue_flag)
{
	static struct raw_msg m, reply;
	pid_t parent = getpid(), child;
	struct raw_nl n;
	int status;

	ASSERT_EQ(0, raw_nl_open(&n));
	raw_kreg_msg(&m, &n, KREG_CMD_REGISTER);
	raw_put_str(&m, KREG_A_NAME, self->name);
	raw_put_u32(&m, KREG_A_FLAGS, KREG_F_QUEUE);
	EXPECT_EQ(-EEXIST, raw_request(&n, &m, &reply));
	raw_nl_close(&n);

	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)reply.buf;

		if (raw_nl_open(&n))
			_exit(10);
		raw_kreg_msg(&m, &n, KREG_CMD_REGISTER);
		raw_put_str(&m, KREG_A_NAME, self->name);
		raw_put_u32(&m, KREG_A_FLAGS, KREG_F_QUEUE);
		if (raw_request(&n, &m, &reply))
			_exit(11);
		if (raw_attr_u32(nlh, KREG_A_FLAGS) != KREG_F_QUEUE)
			_exit(12);
		if (raw_attr_u32(nlh, KREG_A_PID) != (uint32_t)parent)
			_exit(13);
		/* Still the parent's name: a place in line is found by no lookup. */
		if (raw_nl_whereis(&n, self->name) != parent)
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The child, first in line, has exited: its place went with it. */
	ASSERT_EQ(0, kreg_unregister(self->c, self->name));
	EXPECT_EQ(KREG_UNDEFINED, holder_of(self->c, self->name));
}

static int queue_as_other_uid(void *arg)
{
	const char *name = arg;
	struct kreg_conn *c;
	pid_t holder = -1;
	int err;

	if (kreg_open(&c))
		return 10;
	err = kreg_register_queued(c, name, NULL, 0, &holder);
	kreg_close(c);
	if (err != -EINPROGRESS)
		return 11;
	/* Told the holder: this host's default policy lets every uid see names. */
	return holder == getppid() ? 0 : 12;
}

/*
 * Another uid may queue (it has OWN). Once it has exited, the name never
 * goes to it: the holder's release skips it.
 */
TEST_F(kernel, another_uids_place_in_line_goes_with_it)
{
	EXPECT_EQ(0, run_as(1000, queue_as_other_uid, self->name));
	ASSERT_EQ(0, kreg_unregister(self->c, self->name));
	EXPECT_EQ(KREG_UNDEFINED, holder_of(self->c, self->name));
}

/* Cluster names have one holder in the cluster: no line (raw netlink, as an attacker). */
TEST_F(kernel, a_cluster_name_has_no_line)
{
	static struct raw_msg m;
	struct raw_nl n;

	ASSERT_EQ(0, raw_nl_open(&n));
	raw_kreg_msg(&m, &n, KREG_CMD_REGISTER);
	raw_put_str(&m, KREG_A_NAME, KREG_CLUSTER_PREFIX "lk");
	raw_put_u32(&m, KREG_A_FLAGS, KREG_F_QUEUE | KREG_F_CLUSTER);
	EXPECT_EQ(-EOPNOTSUPP, raw_request(&n, &m, NULL));
	raw_kreg_msg(&m, &n, KREG_CMD_REGISTER);
	raw_put_str(&m, KREG_A_NAME, KREG_CLUSTER_PREFIX "lk");
	raw_put_u32(&m, KREG_A_FLAGS, KREG_F_QUEUE);
	EXPECT_EQ(-EOPNOTSUPP, raw_request(&n, &m, NULL));
	/* An unknown flag beside it is refused, as any is. */
	raw_kreg_msg(&m, &n, KREG_CMD_REGISTER);
	raw_put_str(&m, KREG_A_NAME, self->name);
	raw_put_u32(&m, KREG_A_FLAGS, KREG_F_QUEUE | (1U << 7));
	EXPECT_EQ(-EINVAL, raw_request(&n, &m, NULL));
	raw_nl_close(&n);
}

static int queue_many(void *arg)
{
	const char *name = arg;
	struct kreg_status st;
	struct kreg_conn *c;
	char other[96];
	unsigned int names = 0;
	int err = 0;

	if (kreg_open(&c) || kreg_status(c, &st))
		return 10;
	/* One place in line, then names up to the quota: the place took one share. */
	if (kreg_register_queued(c, name, NULL, 0, NULL) != -EINPROGRESS)
		return 11;
	while (!err) {
		snprintf(other, sizeof(other), "%s.q%u", name, names);
		err = kreg_register(c, other, 0, NULL);
		names += !err;
	}
	kreg_close(c);
	return err == -EDQUOT && names == st.max_per_uid - 1 ? 0 : 12;
}

/* A place in line counts toward the quota like a name (max_per_uid, 8 here). */
TEST_F(kernel, a_place_in_line_counts_toward_the_quota)
{
	self->saved_quota = read_param("max_per_uid");
	ASSERT_LT(0, self->saved_quota);
	ASSERT_EQ(0, write_param("max_per_uid", 8));
	EXPECT_EQ(0, run_as(1001, queue_many, self->name));
}

/*
 * A hot standby: a holder process is killed while the next in line waits
 * in kreg_await_own(). With BPF exit cleanup attached, the kernel hands the
 * name over at the exit; without, the standby's wait watches the holder's
 * pidfd, and its lookup after the exit hands it over. Either way the
 * standby holds the name, and nothing else was needed.
 */
static void standby_takes_over(struct __test_metadata *_metadata, const char *name)
{
	struct kreg_conn *c;
	struct actor h, s;
	pid_t pid = 0;

	ASSERT_EQ(0, kreg_open(&c));
	ASSERT_EQ(0, actor_start(&h, KREG_PROVIDER_KERNEL, name));
	ASSERT_EQ(0, actor_do(&h, 'r', NULL));
	ASSERT_EQ(0, actor_start(&s, KREG_PROVIDER_KERNEL, name));
	ASSERT_EQ(-EINPROGRESS, actor_do(&s, 'q', &pid));
	EXPECT_EQ(h.id, pid);
	ASSERT_EQ(0, actor_post(&s, 'a'));
	until_waiting(KREG_PROVIDER_KERNEL, s.id);
	kill(h.child, SIGKILL);
	EXPECT_EQ(0, actor_result(&s));
	EXPECT_EQ(s.id, holder_of(c, name));
	actor_end(&h);
	actor_end(&s);
	kreg_close(c);
}

TEST_F_TIMEOUT(kernel, a_killed_holders_standby_takes_over_with_and_without_exit_cleanup, 90)
{
	char why[256], name[80];

	ASSERT_EQ(0, kreg_unregister(self->c, self->name));
	/* The teardown puts it back as it was found. */
	self->cleanup_was = cleanup_detach();
	ASSERT_LE(0, self->cleanup_was);
	snprintf(name, sizeof(name), "%s.lazy", self->name);
	standby_takes_over(_metadata, name);
	ASSERT_LE(0, cleanup_attach(why, sizeof(why))) TH_LOG("attach: %s", why);
	snprintf(name, sizeof(name), "%s.bpf", self->name);
	standby_takes_over(_metadata, name);
}

/* Starts the hot standby example on @name; its stdout is *@out. */
static pid_t start_standby_example(const char *name, FILE **out)
{
	int fds[2];
	pid_t pid;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execl("/bin/hot_standby", "hot_standby", name, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	*out = fdopen(fds[0], "r");
	return pid;
}

/* The example's next line, without its newline ("" at its end). */
static const char *next_line(FILE *out, char *line, size_t size)
{
	if (!fgets(line, (int)size, out))
		return "";
	line[strcspn(line, "\n")] = '\0';
	return line;
}

/*
 * examples/hot_standby.c, as a user runs it: two copies, one active, one in
 * line behind it; the active one is killed, the other says it is active and
 * answers calls through a via tuple, at once.
 */
TEST_F(kernel, the_hot_standby_example_takes_over_from_a_killed_copy)
{
	char name[80], line[256], want[160];
	FILE *out1, *out2;
	struct kreg_via via;
	pid_t one, two;
	size_t len;
	int status;

	if (access("/bin/hot_standby", X_OK))
		SKIP(return, "the example is not installed in this guest");
	snprintf(name, sizeof(name), "%s.svc", self->name);
	one = start_standby_example(name, &out1);
	ASSERT_LT(0, one);
	snprintf(want, sizeof(want), "active %s", name);
	ASSERT_STREQ(want, next_line(out1, line, sizeof(line)));
	two = start_standby_example(name, &out2);
	ASSERT_LT(0, two);
	snprintf(want, sizeof(want), "standby %s behind %d", name, (int)one);
	ASSERT_STREQ(want, next_line(out2, line, sizeof(line)));
	ASSERT_EQ(0, kreg_via_tuple(self->c, name, &via));
	ASSERT_EQ(0, kreg_call(&via, "inc", 3, line, sizeof(line), &len, 5000));

	kill(one, SIGKILL);
	ASSERT_EQ(one, waitpid(one, NULL, 0));
	snprintf(want, sizeof(want), "active %s", name);
	ASSERT_STREQ(want, next_line(out2, line, sizeof(line)));
	EXPECT_EQ(two, holder_of(self->c, name));
	/* The survivor's own count: its first call. */
	ASSERT_EQ(0, kreg_call(&via, "inc", 3, line, sizeof(line) - 1, &len, 5000));
	line[len] = '\0';
	EXPECT_STREQ("1", line);
	ASSERT_EQ(0, kreg_cast(&via, "quit", 4));
	ASSERT_EQ(two, waitpid(two, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	fclose(out1);
	fclose(out2);
}

/* The tracepoint tells an attached BPF program of a place taken, left and made holder. */
TEST_F(kernel, a_bpf_probe_sees_the_line)
{
	struct kreg_trace_probe *probe = kreg_trace_probe__open_and_load();
	struct actor a;

	ASSERT_NE(NULL, probe);
	ASSERT_EQ(0, actor_start(&a, KREG_PROVIDER_KERNEL, self->name));
	probe->bss->target = a.id;
	ASSERT_EQ(0, kreg_trace_probe__attach(probe));
	ASSERT_EQ(-EINPROGRESS, actor_do(&a, 'q', NULL));
	ASSERT_EQ(0, actor_do(&a, 'u', NULL));
	ASSERT_EQ(-EINPROGRESS, actor_do(&a, 'q', NULL));
	ASSERT_EQ(0, kreg_unregister(self->c, self->name));
	EXPECT_EQ(2u, probe->bss->line_events[0]);	/* joined */
	EXPECT_EQ(1u, probe->bss->line_events[1]);	/* left */
	EXPECT_EQ(1u, probe->bss->line_events[2]);	/* holds */
	EXPECT_EQ(0, strncmp(self->name, probe->bss->last_name,
			     sizeof(probe->bss->last_name) - 1));
	kreg_trace_probe__destroy(probe);
	actor_end(&a);
}
#endif

TEST_HARNESS_MAIN
