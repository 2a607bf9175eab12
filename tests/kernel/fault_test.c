// SPDX-License-Identifier: GPL-2.0
/*
 * kreg under failing allocations, on the debug kernel (FAULT_INJECTION,
 * FAILSLAB, FAIL_PAGE_ALLOC, their debugfs knobs; KASAN watching): names
 * come and go from processes whose slab and page allocations fail at random
 * (task-filter), while kreg's own fault attribute fails the view's
 * allocations, which a worker makes. Meanwhile a reader checks the view raw:
 * whatever it shows must be well formed, and a process's lookups of its own
 * names must never be wrong. Afterwards the view must mend, nothing must
 * leak, and subscribers must have been told of the events they lost.
 * Skipped on kernels without fault injection.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "helpers.h"
#include "kselftest_harness.h"
#include "view_raw.h"

#define DEBUGFS		"/sys/kernel/debug"
#define CHURNERS	3

static int knob(const char *attr, const char *file, const char *value)
{
	char path[128];
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), DEBUGFS "/%s/%s", attr, file);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fputs(value, f) < 0)
		err = -EIO;
	if (fclose(f))
		err = -errno;
	return err;
}

/* @attr fails with @percent probability, for every call (or, @tasks, for marked tasks). */
static int inject(const char *attr, const char *percent, bool tasks)
{
	int err = knob(attr, "probability", percent) ?: knob(attr, "interval", "1") ?:
		  knob(attr, "times", "-1") ?: knob(attr, "verbose", "0") ?:
		  knob(attr, "space", "0");

	if (!err && tasks)
		err = knob(attr, "task-filter", "Y") ?: knob(attr, "ignore-gfp-wait", "N");
	/* Pages of any order, not only the larger ones (the default). */
	if (!err && !strcmp(attr, "fail_page_alloc"))
		err = knob(attr, "min-order", "0") ?: knob(attr, "ignore-gfp-highmem", "N");
	return err;
}

/* The guest's log check expects the allocator's dumps between these marks. */
static void mark_log(const char *mark)
{
	write_text("/dev/kmsg", mark);
}

static void stop_injecting(void)
{
	knob("failslab", "probability", "0");
	knob("fail_page_alloc", "probability", "0");
	knob("kreg/fail_view", "probability", "0");
	mark_log("KREG-FAULTS-END fault injection is off\n");
}

/*
 * A snapshot of the view, taken under its sequence counter, that does not
 * hold together: 0 when it does (or changed under the reader), else which
 * rule it broke.
 */
static int view_malformed(const struct raw_view *v)
{
	const struct kreg_view_header *h = v->h;
	uint32_t seq = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
	uint32_t mask = h->index_slots - 1, i, records = 0, indexed = 0;
	const uint32_t *index = (const uint32_t *)((const char *)h + h->index_offset);
	int bad = 0;

	if (seq & 1 || h->state == KREG_VIEW_RETIRED || h->state == KREG_VIEW_CLOSED)
		return 0;
	for (i = 0; i < h->capacity && !bad; i++) {
		const struct kreg_view_record *r = raw_view_record(v, i);

		if (!r->name_len)
			continue;
		records++;
		if (r->name_len > KREG_NAME_MAX || r->holder >= h->capacity)
			bad = 1;
	}
	for (i = 0; i <= mask && !bad; i++) {
		uint32_t slot = index[i], home;

		if (!slot || slot == KREG_VIEW_TOMBSTONE)
			continue;
		indexed++;
		if (slot > h->capacity) {
			bad = 2;
			break;
		}
		home = raw_view_record(v, slot - 1)->hash & mask;
		if (((i - home) & mask) >= KREG_VIEW_PROBE_MAX)
			bad = 3;
	}
	if (!bad && (records != h->entries || indexed != h->entries))
		bad = 4;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&h->seq, __ATOMIC_RELAXED) == seq ? bad : 0;
}

/* Reads the view raw until @stop is readable; the first malformed snapshot's rule. */
static int check_view_until(int stop)
{
	struct raw_view v = { 0 };
	char byte;
	int bad = 0, checked = 0;

	fcntl(stop, F_SETFL, O_NONBLOCK);
	/* EAGAIN: go on; a byte or the end of the pipe: stop. */
	while (read(stop, &byte, 1) < 0) {
		if (!v.h || v.h->state == KREG_VIEW_RETIRED) {
			raw_view_unmap(&v);
			if (raw_view_map(&v, 0))
				continue;
		}
		bad = view_malformed(&v);
		if (bad)
			break;
		checked++;
	}
	raw_view_unmap(&v);
	return bad ? 10 + bad : checked ? 0 : 9;
}

/*
 * A refusal for want of memory, the kernel's or a socket's (a file the
 * kernel cannot allocate reads as ENFILE).
 */
static bool out_of_memory(int err)
{
	return err == -ENOMEM || err == -ENOBUFS || err == -EAGAIN || err == -ENFILE ||
	       err == -EMFILE;
}

/*
 * A churner, its allocations failing: registers its names, looks each up,
 * drops half, again. Any answer about its own name other than its pid (or a
 * refusal for want of memory) is a lie. Exit 0, or what went wrong.
 */
static int churn(int id, int rounds, int names)
{
	struct kreg_conn *c;
	char name[48];
	int r, i, err, lies = 0;
	pid_t found;

	if (kreg_open(&c))
		return 1;
	if (write_text("/proc/self/make-it-fail", "1"))
		return 2;
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < names; i++) {
			snprintf(name, sizeof(name), "fault.%d.%d", id, i);
			err = kreg_register(c, name, 0, NULL);
			if (err && !out_of_memory(err) && err != -EEXIST) {
				fprintf(stderr, "# churner %d: register %s: %s (%s)\n", id, name,
					strerror(-err), kreg_last_error(c));
				return 3;
			}
		}
		for (i = 0; i < names; i++) {
			snprintf(name, sizeof(name), "fault.%d.%d", id, i);
			err = kreg_whereis_name(c, name, &found);
			/* Registered or not (for want of memory): never someone else. */
			if (err == 0 && found != getpid())
				lies++;
		}
		for (i = r % 2; i < names; i += 2) {
			snprintf(name, sizeof(name), "fault.%d.%d", id, i);
			err = kreg_unregister(c, name);
			if (err && !out_of_memory(err) && err != -ENOENT) {
				fprintf(stderr, "# churner %d: unregister %s: %s (%s)\n", id, name,
					strerror(-err), kreg_last_error(c));
				return 4;
			}
		}
	}
	write_text("/proc/self/make-it-fail", "0");
	kreg_close(c);
	return lies ? 5 : 0;
}

FIXTURE(fault) {
	bool detach;
};

FIXTURE_SETUP(fault)
{
	char why[256];
	int err;

	/* The test says it skips: this harness does not stop a test from its setup. */
	if (access(DEBUGFS "/failslab/probability", W_OK))
		return;
	err = cleanup_attach(why, sizeof(why));
	ASSERT_LE(0, err) TH_LOG("exit cleanup: %s", why);
	self->detach = err == 0;
}

FIXTURE_TEARDOWN(fault)
{
	stop_injecting();
	if (self->detach)
		cleanup_detach();
}

/*
 * What must hold when allocations fail anywhere in kreg: no crash and no
 * KASAN report (the guest checks the log), a view that is always well
 * formed and never lies, a view that mends once memory is back, nothing
 * leaked, and every lost event told to its subscriber.
 */
TEST_F_TIMEOUT(fault, allocations_fail_at_random_while_names_come_and_go, 900)
{
	int rounds = scaled(40, 12), names = scaled(96, 48), i, status, tries;
	long before = count_slab_objects();
	struct kreg_conn *c, *mon;
	struct kreg_event ev;
	int stop[2], lost = 0, seen = 0, failed = 0, running, err;
	pid_t churners[CHURNERS], reader;
	struct raw_view v;
	char name[48];

	if (access(DEBUGFS "/failslab/probability", W_OK))
		SKIP(return, "this kernel has no fault injection (the debug kernel has)");
	/* kreg's own attribute comes with kreg built against fault injection. */
	ASSERT_EQ(0, access(DEBUGFS "/kreg/fail_view/probability", W_OK));
	ASSERT_EQ(0, kreg_open(&c));
	ASSERT_EQ(0, kreg_open(&mon));
	ASSERT_EQ(0, kreg_subscribe(mon));
	ASSERT_EQ(0, pipe(stop));
	reader = fork();
	ASSERT_LE(0, reader);
	if (reader == 0) {
		close(stop[1]);
		_exit(check_view_until(stop[0]));
	}
	mark_log("KREG-FAULTS-BEGIN allocations fail at random from here\n");
	ASSERT_EQ(0, inject("failslab", "10", true));
	ASSERT_EQ(0, inject("fail_page_alloc", "10", true));
	ASSERT_EQ(0, inject("kreg/fail_view", "30", false));
	for (i = 0; i < CHURNERS; i++) {
		churners[i] = fork();
		ASSERT_LE(0, churners[i]);
		if (churners[i] == 0)
			_exit(churn(i, rounds, names));
	}
	/* The monitor reads as changes come; those it lost, it is told of. */
	for (running = CHURNERS; running;) {
		err = kreg_next_event(mon, &ev, 200);
		if (err == -ENOBUFS)
			lost++;
		else if (!err)
			seen++;
		for (i = 0; i < CHURNERS; i++) {
			if (churners[i] <= 0 ||
			    waitpid(churners[i], &status, WNOHANG) != churners[i])
				continue;
			failed += !WIFEXITED(status) || WEXITSTATUS(status);
			TH_LOG("churner %d: status %d", i, WIFEXITED(status) ?
			       WEXITSTATUS(status) : 128 + WTERMSIG(status));
			churners[i] = 0;
			running--;
		}
	}
	EXPECT_EQ(0, failed);
	stop_injecting();
	while (kreg_next_event(mon, &ev, 200) != -ETIMEDOUT)
		;
	close(stop[1]);
	ASSERT_EQ(reader, waitpid(reader, &status, 0));
	EXPECT_EQ(0, WIFEXITED(status) ? WEXITSTATUS(status) : 99);
	TH_LOG("events seen %d, losses told %d", seen, lost);
	EXPECT_LT(0, seen);
	EXPECT_LT(0, lost);

	/* Memory is back: the view mends, complete and true. */
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "fault.after.%d", i);
		ASSERT_EQ(0, kreg_register(c, name, 0, NULL));
	}
	ASSERT_EQ(0, raw_view_wait(&v, "fault.after.63"));
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "fault.after.%d", i);
		EXPECT_EQ((uint32_t)getpid(), raw_view_pid(&v, name));
	}
	EXPECT_EQ(0, view_malformed(&v));
	raw_view_unmap(&v);
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "fault.after.%d", i);
		EXPECT_EQ(0, kreg_unregister(c, name));
	}
	kreg_close(mon);
	kreg_close(c);
	/* The churners are gone, and with them everything they held. */
	for (tries = 0; tries < 500 && count_slab_objects() > before; tries++)
		usleep(10000);
	EXPECT_EQ(before, count_slab_objects());
}

TEST_HARNESS_MAIN
