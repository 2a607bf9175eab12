// SPDX-License-Identifier: GPL-2.0
/*
 * LIST: a dump that spans many netlink messages reports every entry exactly
 * once, with its fields, even while other entries come and go.
 */
#include "helpers.h"
#include "kselftest_harness.h"

/* Entries in the bulk: enough for a dump of hundreds of messages. */
#define BULK bulk
static int bulk;
/* The churners' names: they cycle through this many. */
static long churn_names;

struct seen {
	unsigned char *hits;	/* per bulk index */
	long bulk, dups, others, bad_fields;
	pid_t pid;
	uint64_t after_ns;
};

static int mark(const struct kreg_entry_info *e, void *arg)
{
	struct seen *s = arg;
	char *end;
	long i;

	if (strncmp(e->name, "bulk-", 5) != 0) {
		s->others++;
		return 0;
	}
	i = strtol(e->name + 5, &end, 10);
	if (*end || i < 0 || i >= BULK) {
		s->others++;
		return 0;
	}
	if (s->hits[i]++)
		s->dups++;
	s->bulk++;
	if (e->pid != s->pid || e->uid != 0 || !e->has_mailbox ||
	    e->registered_ns < s->after_ns || e->registered_ns > now_ns())
		s->bad_fields++;
	return 0;
}

FIXTURE(list) {
	struct kreg_conn *c;
	uint64_t start_ns;
};

FIXTURE_SETUP(list)
{
	bulk = 0;
	churn_names = scaled(5000, 1000);
	ASSERT_EQ(0, kreg_open(&self->c));
	self->start_ns = now_ns();
}

/*
 * Registers bulk-000000... Each name is two requests (the test and its
 * teardown), so each test fills only what it proves something with: a few
 * thousand under KASAN.
 */
static void fill(struct __test_metadata *_metadata, struct kreg_conn *c, int n)
{
	char name[32];

	for (bulk = 0; bulk < n; bulk++) {
		snprintf(name, sizeof(name), "bulk-%06d", bulk);
		ASSERT_EQ(0, kreg_register(c, name, 0, NULL));
	}
}

FIXTURE_TEARDOWN(list)
{
	char name[32];
	int i;

	for (i = 0; i < BULK; i++) {
		snprintf(name, sizeof(name), "bulk-%06d", i);
		kreg_unregister(self->c, name);
	}
	kreg_close(self->c);
}

/* @result: what kreg_list() must return: 0, or -EINTR when the table changed. */
static void list_and_check(struct __test_metadata *_metadata,
			   struct kreg_conn *c, uint64_t start_ns, int result)
{
	struct seen s = { .pid = getpid(), .after_ns = start_ns };
	long i, missing = 0;

	s.hits = calloc(BULK, 1);
	ASSERT_NE(NULL, s.hits);
	ASSERT_EQ(result, kreg_list(c, mark, &s));
	for (i = 0; i < BULK; i++)
		missing += !s.hits[i];
	EXPECT_EQ(0, missing);
	EXPECT_EQ(0, s.dups);
	EXPECT_EQ(BULK, s.bulk);
	EXPECT_EQ(0, s.bad_fields);
	free(s.hits);
}

TEST_F_TIMEOUT(list, a_hundred_thousand_entries_list_completely, 600)
{
	fill(_metadata, self->c, scaled(100000, 3000));
	/* Nothing changed meanwhile: a snapshot, not flagged. */
	list_and_check(_metadata, self->c, self->start_ns, 0);
}

/* Registers and unregisters other names as fast as it can until killed. */
static void churn(void)
{
	struct kreg_conn *c;
	char name[32];
	long i;

	if (kreg_open(&c))
		_exit(1);
	for (i = 0;; i++) {
		snprintf(name, sizeof(name), "churn-%ld", i % churn_names);
		if (kreg_register(c, name, 0, NULL) == -EEXIST)
			kreg_unregister(c, name);
	}
}

TEST_F_TIMEOUT(list, entries_that_live_through_a_dump_appear_once_despite_churn, 600)
{
	pid_t churners[2];
	int i;

	/* Hundreds of dump messages, each a chance for the churn to land between. */
	fill(_metadata, self->c, scaled(20000, 3000));
	for (i = 0; i < 2; i++) {
		churners[i] = fork();
		ASSERT_GE(churners[i], 0);
		if (churners[i] == 0)
			churn();
	}
	usleep(200000);
	/* Flagged as no snapshot (NLM_F_DUMP_INTR), yet nothing that lived is lost. */
	list_and_check(_metadata, self->c, self->start_ns, -EINTR);
	for (i = 0; i < 2; i++)
		kill_and_reap(churners[i]);
	/* The churners' names died with them: looking them up drops them. */
	for (i = 0; i < churn_names; i++) {
		char name[32];
		pid_t pid;

		snprintf(name, sizeof(name), "churn-%d", i);
		EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, name, &pid));
	}
}

static int stop_after_ten(const struct kreg_entry_info *e, void *arg)
{
	long *n = arg;

	(void)e;
	return ++*n == 10 ? 7 : 0;
}

TEST_F_TIMEOUT(list, a_callback_can_stop_the_listing, 600)
{
	long n = 0;

	/* More than one dump message, so that there is a rest to drain. */
	fill(_metadata, self->c, 2000);
	EXPECT_EQ(7, kreg_list(self->c, stop_after_ten, &n));
	EXPECT_EQ(10, n);
	/* The connection is usable afterwards: the rest of the dump was drained. */
	EXPECT_GE(count_entries(self->c), BULK);
}

TEST_HARNESS_MAIN
