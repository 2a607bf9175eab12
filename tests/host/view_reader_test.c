// SPDX-License-Identifier: GPL-2.0
/*
 * The view's reader (lib/kernel/view.c) against a writer that follows kmod/view.c's
 * protocol (seq odd, the change, seq even), in memory, at full speed on real
 * hardware: readers never return a torn entry, a dead holder, an answer
 * from a view that is being changed for too long, or "not registered" from
 * a view that cannot know it (PARTIAL, a "user." name, a full probe
 * window). The guest's view_test proves the same against the module, end to
 * end.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kernel.h"
#include "kselftest_harness.h"

#define CAPACITY 64
#define SLOTS 128
#define NAME "churn"

/* The view's own answer, as a pid: what these tests check of it. */
static int view_whereis(struct kreg_conn *c, const char *name, pid_t *pid, void *meta,
			size_t size, size_t *meta_len)
{
	struct kreg_holder h;
	int err = kreg_view_whereis(c, name, false, meta, size, meta_len, &h);

	if (err == 0)
		*pid = h.pid;
	return err;
}

struct fake {
	unsigned char *base;
	struct kreg_view_header *hdr;
	uint32_t *index;
	struct kreg_view_record *records;
	uint32_t *holders;
	volatile int stop;
};

static uint32_t fnv(const char *s)
{
	uint32_t h = 0;		/* hash_seed 0 */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= KREG_VIEW_FNV_PRIME;
	}
	return h;
}

static void fake_init(struct fake *f)
{
	size_t index_off = 4096, records_off = index_off + SLOTS * 4;
	size_t holders_off = records_off + CAPACITY * sizeof(struct kreg_view_record);
	size_t size = holders_off + CAPACITY * 4;
	struct kreg_view_record *r;

	f->base = calloc(1, size);
	f->hdr = (struct kreg_view_header *)f->base;
	f->index = (uint32_t *)(f->base + index_off);
	f->records = (struct kreg_view_record *)(f->base + records_off);
	f->holders = (uint32_t *)(f->base + holders_off);
	*f->hdr = (struct kreg_view_header){
		.magic = KREG_VIEW_MAGIC, .version = KREG_VIEW_VERSION, .state = KREG_VIEW_LIVE,
		.index_slots = SLOTS, .capacity = CAPACITY, .entries = 1,
		.index_offset = index_off, .records_offset = records_off,
		.holders_offset = holders_off, .size = size,
	};
	r = &f->records[0];
	r->hash = fnv(NAME);
	r->pid = 1000;
	r->holder = 3;
	r->holder_word = 7;
	r->name_len = strlen(NAME);
	r->meta_len = 1;
	r->flags = KREG_VIEW_R_NAME | KREG_VIEW_R_META;
	memcpy(r->data, NAME "A", strlen(NAME) + 1);
	f->holders[3] = 7;
	f->index[r->hash & (SLOTS - 1)] = 1;
}

/* A handle whose view is @f, as if mapped. */
static struct kreg_conn *fake_conn(struct fake *f)
{
	struct kreg_conn *c = calloc(1, sizeof(*c));

	c->view = (struct kreg_view_map){
		.hdr = f->hdr, .size = f->hdr->size, .index = f->index,
		.records = f->records, .holders = f->holders, .mask = SLOTS - 1,
		.capacity = CAPACITY, .seed = 0,
	};
	return c;
}

static void seq_bump(struct fake *f)
{
	__atomic_store_n(&f->hdr->seq, f->hdr->seq + 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Moves the name between holder 1000 ("A") and 2000 ("B"), field by field. */
static void *writer(void *arg)
{
	struct fake *f = arg;
	struct kreg_view_record *r = &f->records[0];
	unsigned int n;

	for (n = 0; !f->stop; n++) {
		seq_bump(f);
		__atomic_store_n(&r->pid, n % 2 ? 2000 : 1000, __ATOMIC_RELAXED);
		/* A writer that takes its time between two fields. */
		for (volatile int spin = 0; spin < 50; spin++)
			;
		__atomic_store_n(&r->data[strlen(NAME)], n % 2 ? 'B' : 'A', __ATOMIC_RELAXED);
		seq_bump(f);
	}
	return NULL;
}

struct tally {
	struct fake *f;
	long found, asked, torn;
};

static void *reader(void *arg)
{
	struct tally *t = arg;
	struct kreg_conn *c = fake_conn(t->f);
	long i;

	for (i = 0; i < 2000000; i++) {
		char meta[4];
		size_t len;
		pid_t pid;
		int err = view_whereis(c, NAME, &pid, meta, sizeof(meta), &len);

		if (err == -EAGAIN) {
			t->asked++;	/* would ask the kernel */
			continue;
		}
		if (err || len != 1 || !((pid == 1000 && meta[0] == 'A') ||
					 (pid == 2000 && meta[0] == 'B')))
			t->torn++;
		else
			t->found++;
	}
	free(c);
	return NULL;
}

TEST(readers_never_see_a_torn_entry)
{
	struct tally t[2] = { 0 };
	pthread_t w, r[2];
	struct fake f = { 0 };
	int i;

	fake_init(&f);
	ASSERT_EQ(0, pthread_create(&w, NULL, writer, &f));
	for (i = 0; i < 2; i++) {
		t[i].f = &f;
		ASSERT_EQ(0, pthread_create(&r[i], NULL, reader, &t[i]));
	}
	for (i = 0; i < 2; i++)
		pthread_join(r[i], NULL);
	f.stop = 1;
	pthread_join(w, NULL);
	for (i = 0; i < 2; i++) {
		TH_LOG("reader %d: %ld found, %ld asked the kernel, %ld torn", i,
		       t[i].found, t[i].asked, t[i].torn);
		EXPECT_EQ(0, t[i].torn);
		EXPECT_LT(0, t[i].found);
	}
	free(f.base);
}

TEST(a_dead_holder_a_partial_view_and_a_stuck_writer)
{
	struct fake f = { 0 };
	struct kreg_conn *c;
	pid_t pid = 0;

	fake_init(&f);
	c = fake_conn(&f);
	EXPECT_EQ(0, view_whereis(c, NAME, &pid, NULL, 0, NULL));
	EXPECT_EQ(1000, pid);
	EXPECT_EQ(KREG_UNDEFINED, view_whereis(c, "other", &pid, NULL, 0, NULL));
	/* The holder's word changed: it died. */
	f.holders[3] = 6;
	EXPECT_EQ(-ESRCH, view_whereis(c, NAME, &pid, NULL, 0, NULL));
	f.holders[3] = 7;
	/* A writer stuck with seq odd: ask the kernel rather than spin. */
	f.hdr->seq = 1;
	EXPECT_EQ(-EAGAIN, view_whereis(c, NAME, &pid, NULL, 0, NULL));
	f.hdr->seq = 2;
	/* Partial: what it holds it answers; what it lacks may exist. */
	f.hdr->state = KREG_VIEW_PARTIAL;
	EXPECT_EQ(0, view_whereis(c, NAME, &pid, NULL, 0, NULL));
	EXPECT_EQ(-EAGAIN, view_whereis(c, "other", &pid, NULL, 0, NULL));
	f.hdr->state = KREG_VIEW_LIVE;
	/* A "user." name may be a reply address, which no view holds. */
	EXPECT_EQ(-EAGAIN, view_whereis(c, "user.1000.reply.x", &pid, NULL, 0, NULL));
	EXPECT_EQ(KREG_UNDEFINED, view_whereis(c, "users.x", &pid, NULL, 0, NULL));
	/* A record whose index is out of bounds is skipped, never followed. */
	f.index[fnv(NAME) & (SLOTS - 1)] = CAPACITY + 5;
	EXPECT_EQ(KREG_UNDEFINED, view_whereis(c, NAME, &pid, NULL, 0, NULL));
	f.index[fnv(NAME) & (SLOTS - 1)] = 1;
	/* A window full of others' records: the name may have been left out. */
	{
		uint32_t home = fnv("other") & (SLOTS - 1), i;

		for (i = 0; i < KREG_VIEW_PROBE_MAX; i++)
			if (!f.index[(home + i) & (SLOTS - 1)])
				f.index[(home + i) & (SLOTS - 1)] = 1;
		EXPECT_EQ(-EAGAIN, view_whereis(c, "other", &pid, NULL, 0, NULL));
		/* The name itself is still found within it. */
		EXPECT_EQ(0, view_whereis(c, NAME, &pid, NULL, 0, NULL));
	}
	/* An invalid name: the kernel says what is wrong with it. */
	EXPECT_EQ(-EAGAIN, view_whereis(c, "", &pid, NULL, 0, NULL));
	free(c);
	free(f.base);
}

TEST_HARNESS_MAIN
