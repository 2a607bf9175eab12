// SPDX-License-Identifier: GPL-2.0
/*
 * Churn, with and without BPF exit cleanup: many short-lived holders, as two
 * unprivileged uids, race for a small pool of names, send to them and look
 * them up, then die: normally, by SIGKILL, or from a thread other than the
 * leader. Meanwhile dumps run and every event is read. Once every holder is
 * gone (without cleanup: once each name has been looked up) the table, both
 * uids' quotas and kreg's slab caches are back where they were; no dump
 * listed an entry twice; and each name's events alternated, registered then
 * unregistered, and balanced.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#include "cleanup.h"
#include "helpers.h"
#include "kselftest_harness.h"

#define POOL		48	/* names the holders race for */
#define AT_ONCE		16	/* holders alive at a time */
#define PREFIX		"churn-"

enum death { DIE_EXIT, DIE_KILLED, DIE_FROM_THREAD, DEATHS };

static const uid_t churn_uids[] = { UNPRIVILEGED_UID, UNPRIVILEGED_UID + 1 };

/* What the event reader saw of each pool name. */
struct name_events {
	bool held;
	long registered, unregistered;
};

struct observed {
	struct kreg_conn *mon, *dumper;
	atomic_bool stop;
	pthread_mutex_t lock;
	struct name_events names[POOL];
	long out_of_order;	/* a registered while held, or unregistered while not */
	long lost;		/* -ENOBUFS: the reader fell behind */
	long dumps, interrupted, duplicates, dump_errors;
};

FIXTURE(churn) {
	struct kreg_conn *c;
	struct observed obs;
	pthread_t reader, dumper;
	bool watching;
	long listed, entries, slab;
};

FIXTURE_VARIANT(churn) {
	bool cleanup;
};

FIXTURE_VARIANT_ADD(churn, with_cleanup) {
	.cleanup = true,
};

FIXTURE_VARIANT_ADD(churn, without_cleanup) {
	.cleanup = false,
};

static int pool_index(const char *name)
{
	if (strncmp(name, PREFIX, strlen(PREFIX)))
		return -1;
	return atoi(name + strlen(PREFIX)) % POOL;
}

static void *read_events(void *arg)
{
	struct observed *obs = arg;
	struct kreg_event e;

	while (!atomic_load(&obs->stop)) {
		int err = kreg_next_event(obs->mon, &e, 50), i;
		struct name_events *n;

		if (err == -ETIMEDOUT)
			continue;
		pthread_mutex_lock(&obs->lock);
		if (err == -ENOBUFS)
			obs->lost++;
		i = err ? -1 : pool_index(e.name);
		if (i >= 0) {
			n = &obs->names[i];
			if (e.kind == KREG_EVENT_REGISTERED) {
				obs->out_of_order += n->held;
				n->held = true;
				n->registered++;
			} else {
				obs->out_of_order += !n->held;
				n->held = false;
				n->unregistered++;
			}
		}
		pthread_mutex_unlock(&obs->lock);
	}
	return NULL;
}

struct listed {
	char name[KREG_NAME_MAX + 1];
	pid_t pid;
	uint64_t registered_ns;
};

struct dump {
	struct listed *entries;
	size_t n, cap;
};

static int keep_entry(const struct kreg_entry_info *e, void *arg)
{
	struct dump *d = arg;

	if (pool_index(e->name) < 0)
		return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 64;
		void *more = realloc(d->entries, cap * sizeof(*d->entries));

		if (!more)
			return -ENOMEM;
		d->entries = more;
		d->cap = cap;
	}
	snprintf(d->entries[d->n].name, sizeof(d->entries[d->n].name), "%s", e->name);
	d->entries[d->n].pid = e->pid;
	d->entries[d->n].registered_ns = e->registered_ns;
	d->n++;
	return 0;
}

/* An entry is one registration: its name, holder and time. */
static bool same_entry(const struct listed *a, const struct listed *b)
{
	return a->pid == b->pid && a->registered_ns == b->registered_ns &&
	       !strcmp(a->name, b->name);
}

static void *run_dumps(void *arg)
{
	struct observed *obs = arg;
	struct dump d = { 0 };
	size_t i, j;

	while (!atomic_load(&obs->stop)) {
		long dup = 0;
		int err;

		d.n = 0;
		err = kreg_list(obs->dumper, keep_entry, &d);
		/*
		 * -EINTR: the table changed during the dump, which is flagged,
		 * and still no entry may be listed twice. A pool holds few
		 * entries: the pairwise check is cheap.
		 */
		for (i = 0; (!err || err == -EINTR) && i < d.n; i++)
			for (j = i + 1; j < d.n; j++)
				dup += same_entry(&d.entries[i], &d.entries[j]);
		pthread_mutex_lock(&obs->lock);
		obs->dumps++;
		obs->interrupted += err == -EINTR;
		obs->dump_errors += err && err != -EINTR;
		obs->duplicates += dup;
		pthread_mutex_unlock(&obs->lock);
	}
	free(d.entries);
	return NULL;
}

static void *die_from_this_thread(void *arg)
{
	(void)arg;
	usleep(1000);		/* the leader is gone by now */
	/* Only this thread ends; it is the last, so the process dies here. */
	syscall(SYS_exit, 0);
	return NULL;
}

/*
 * One holder: registers up to three pool names, sends to one and looks one
 * up, then dies as @death says. Exit status 0 unless a request failed in a
 * way the races cannot explain.
 */
static void __attribute__((noreturn)) holder(int seq, enum death death, int kill_fd)
{
	unsigned int seed = (unsigned int)(getpid() * 2654435761u) ^ (unsigned int)seq;
	uid_t uid = churn_uids[seq % 2];
	struct kreg_conn *c;
	char name[32];
	pthread_t t;
	pid_t pid;
	int i, err;

	if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		_exit(10);
	if (kreg_open(&c))
		_exit(11);
	for (i = 0; i < 1 + rand_r(&seed) % 3; i++) {
		snprintf(name, sizeof(name), PREFIX "%d", rand_r(&seed) % POOL);
		err = kreg_register(c, name, 0, NULL);
		if (err && err != -EEXIST)
			_exit(12);
	}
	snprintf(name, sizeof(name), PREFIX "%d", rand_r(&seed) % POOL);
	err = kreg_send(c, name, "x", 1);
	if (err && err != -ENOENT && err != -ECONNREFUSED && err != -EAGAIN)
		_exit(13);
	snprintf(name, sizeof(name), PREFIX "%d", rand_r(&seed) % POOL);
	err = kreg_whereis_name(c, name, &pid);
	if (err && err != KREG_UNDEFINED)
		_exit(14);

	switch (death) {
	case DIE_KILLED:
		pid = getpid();
		if (write(kill_fd, &pid, sizeof(pid)) != sizeof(pid))
			_exit(15);
		for (;;)
			pause();
	case DIE_FROM_THREAD:
		if (pthread_create(&t, NULL, die_from_this_thread, NULL))
			_exit(16);
		pthread_exit(NULL);
	default:
		_exit(0);
	}
}

FIXTURE_SETUP(churn)
{
	struct kreg_status st;
	char why[256];

	if (variant->cleanup) {
		ASSERT_LE(0, cleanup_attach(why, sizeof(why))) TH_LOG("attach: %s", why);
	} else {
		ASSERT_LE(0, cleanup_detach());
	}
	ASSERT_EQ(0, kreg_open(&self->c));
	ASSERT_EQ(0, kreg_open(&self->obs.mon));
	ASSERT_EQ(0, kreg_open(&self->obs.dumper));
	/* Root may raise it past rmem_max: the reader must lose nothing. */
	ASSERT_EQ(0, kreg_set_rcvbuf(self->obs.mon, 64 << 20));
	ASSERT_EQ(0, kreg_subscribe(self->obs.mon));
	pthread_mutex_init(&self->obs.lock, NULL);
	self->listed = count_entries(self->c);
	ASSERT_GE(self->listed, 0);
	/* Dead holders' names left by earlier tests count until released. */
	ASSERT_EQ(0, kreg_status(self->c, &st));
	self->entries = (long)st.entries;
	self->slab = count_slab_objects();
	ASSERT_EQ(0, pthread_create(&self->reader, NULL, read_events, &self->obs));
	ASSERT_EQ(0, pthread_create(&self->dumper, NULL, run_dumps, &self->obs));
	self->watching = true;
}

/* Ends the event reader and the dumps; what they saw stays in self->obs. */
static void stop_watching(FIXTURE_DATA(churn) *self)
{
	if (!self->watching)
		return;
	atomic_store(&self->obs.stop, true);
	pthread_join(self->reader, NULL);
	pthread_join(self->dumper, NULL);
	self->watching = false;
}

FIXTURE_TEARDOWN(churn)
{
	stop_watching(self);
	kreg_close(self->obs.dumper);
	kreg_close(self->obs.mon);
	kreg_close(self->c);
	cleanup_detach();
}

/* Runs @total holders, AT_ONCE at a time; how many failed. */
static int churn(int total)
{
	int kill_pipe[2], spawned = 0, alive = 0, failed = 0, status;
	pid_t pid;

	if (pipe2(kill_pipe, O_NONBLOCK))
		return -1;
	while (spawned < total || alive > 0) {
		struct pollfd p = { .fd = kill_pipe[0], .events = POLLIN };

		while (alive < AT_ONCE && spawned < total) {
			pid = fork();
			if (pid == 0)
				holder(spawned, (enum death)(spawned % DEATHS), kill_pipe[1]);
			if (pid < 0)
				return -1;
			spawned++;
			alive++;
		}
		poll(&p, 1, 5);
		while (read(kill_pipe[0], &pid, sizeof(pid)) == sizeof(pid))
			kill(pid, SIGKILL);
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			alive--;
			if (WIFSIGNALED(status) ? WTERMSIG(status) != SIGKILL :
			    WEXITSTATUS(status) != 0)
				failed++;
		}
	}
	close(kill_pipe[0]);
	close(kill_pipe[1]);
	return failed;
}

static int quota_used(void *arg)
{
	struct kreg_status st;
	struct kreg_conn *c;
	int ret;

	(void)arg;
	if (kreg_open(&c))
		return 1;
	ret = kreg_status(c, &st) ? 2 : st.uid_entries ? 3 : 0;
	kreg_close(c);
	return ret;
}

/* True once the reader has seen every pool name released. */
static bool all_released(struct observed *obs)
{
	bool all = true;
	int i;

	pthread_mutex_lock(&obs->lock);
	for (i = 0; i < POOL; i++)
		all &= !obs->names[i].held;
	pthread_mutex_unlock(&obs->lock);
	return all;
}

TEST_F_TIMEOUT(churn, holders_come_and_go_and_leave_nothing_behind, 600)
{
	struct kreg_status st;
	char name[32];
	long slab = -1;
	int i, registered = 0;
	pid_t pid;

	EXPECT_EQ(0, churn(scaled(900, 150)));

	/* Without cleanup, the dead are released by the lookups that find them. */
	if (!variant->cleanup) {
		for (i = 0; i < POOL; i++) {
			snprintf(name, sizeof(name), PREFIX "%d", i);
			EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, name, &pid));
		}
	}
	for (i = 0; i < 500 && !all_released(&self->obs); i++)
		usleep(10000);
	EXPECT_TRUE(all_released(&self->obs));
	ASSERT_EQ(0, kreg_status(self->c, &st));
	EXPECT_EQ(self->entries, (long)st.entries);
	EXPECT_EQ(self->listed, count_entries(self->c));
	EXPECT_EQ(0, run_as(churn_uids[0], quota_used, NULL));
	EXPECT_EQ(0, run_as(churn_uids[1], quota_used, NULL));
	/* Entries go back to the slab after an RCU grace period. */
	for (i = 0; i < 100 && (slab = count_slab_objects()) > self->slab; i++)
		usleep(50000);
	EXPECT_LE(slab, self->slab);

	stop_watching(self);
	for (i = 0; i < POOL; i++) {
		EXPECT_EQ(self->obs.names[i].registered, self->obs.names[i].unregistered);
		registered += self->obs.names[i].registered;
	}
	/* The pool was fought over: names were taken, released, taken again. */
	EXPECT_LT(POOL, registered);
	EXPECT_EQ(0, self->obs.out_of_order);
	EXPECT_EQ(0, self->obs.lost);
	EXPECT_LT(0, self->obs.dumps);
	EXPECT_EQ(0, self->obs.duplicates);
	EXPECT_EQ(0, self->obs.dump_errors);
	TH_LOG("%d registrations, %ld dumps (%ld flagged as interrupted)", registered,
	       self->obs.dumps, self->obs.interrupted);
}

TEST_HARNESS_MAIN
