// SPDX-License-Identifier: GPL-2.0
/*
 * rmmod with live entries and requests in flight: everything is freed (the
 * module's slab caches are gone from /proc/slabinfo), every entry is
 * announced as "unloading", nothing oopses, and the module loads again.
 * Runs last in the guest: it unloads and reloads /kreg.ko.
 */
#include <sys/stat.h>

#include "helpers.h"
#include "kselftest_harness.h"
#include "view_raw.h"

#define ENTRIES entries
static int entries;

/* Uses the registry every way it can until the module goes away. */
static void worker(int id)
{
	time_t deadline = time(NULL) + 20;
	struct kreg_conn *c;
	char name[32];
	pid_t pid;
	long i;

	snprintf(name, sizeof(name), "load-%d", id);
	while (time(NULL) < deadline) {
		if (kreg_open(&c))
			_exit(0);	/* unloaded: done */
		for (i = 0; i < 50; i++) {
			kreg_register(c, name, 0, NULL);
			kreg_whereis_name(c, name, &pid);
			kreg_send(c, name, "x", 1);
			kreg_whereis_name(c, "bulk-00001", &pid);
			kreg_unregister(c, name);
		}
		/* A dump pins the module while it runs: list now and then. */
		kreg_list(c, count_one, &(long){ 0 });
		kreg_close(c);
	}
	_exit(0);
}

/*
 * Follows the events group, as `kregctl monitor` would, through the unload;
 * succeeds once it has heard entries go with the reason "unloading".
 */
static void listener(int ready)
{
	time_t deadline = time(NULL) + 60;
	struct kreg_conn *mon;
	struct kreg_event e;
	long unloading = 0;
	int err;

	if (kreg_open(&mon) || kreg_subscribe(mon) || write(ready, "r", 1) != 1)
		_exit(2);
	while (time(NULL) < deadline) {
		err = kreg_next_event(mon, &e, 1000);
		if (err == -ETIMEDOUT && unloading)
			break;
		if (!err && e.kind == KREG_EVENT_UNREGISTERED &&
		    e.reason == KREG_REASON_UNLOADING)
			unloading++;
	}
	_exit(unloading > 0 ? 0 : 1);
}

FIXTURE(unload) {
	struct kreg_conn *c;
};

FIXTURE_SETUP(unload)
{
	entries = scaled(10000, 2000);
	ASSERT_EQ(0, kreg_open(&self->c));
}

FIXTURE_TEARDOWN(unload)
{
	kreg_close(self->c);
}

TEST_F_TIMEOUT(unload, rmmod_under_load_frees_everything_and_reloads, 300)
{
	enum { WORKERS = 4 };
	pid_t workers[WORKERS], heard, pid;
	struct kreg_conn *gone;
	int i, fd, err, status, ready[2];
	char name[32], byte;
	struct stat st;

	for (i = 0; i < ENTRIES; i++) {
		snprintf(name, sizeof(name), "bulk-%05d", i);
		ASSERT_EQ(0, kreg_register(self->c, name, 0, NULL));
	}
	EXPECT_GE(count_slab_objects(), ENTRIES);

	ASSERT_EQ(0, pipe(ready));
	heard = fork();
	ASSERT_GE(heard, 0);
	if (heard == 0)
		listener(ready[1]);
	ASSERT_EQ(1, read(ready[0], &byte, 1));

	for (i = 0; i < WORKERS; i++) {
		workers[i] = fork();
		ASSERT_GE(workers[i], 0);
		if (workers[i] == 0)
			worker(i);
	}
	sleep(1);

	/*
	 * Like rmmod, which fails with EAGAIN while a LIST dump holds a module
	 * reference (genetlink pins the family's module for each dump).
	 */
	err = retry_delete_module();
	ASSERT_EQ(0, err) TH_LOG("delete_module: %s, refcnt %ld", strerror(err),
				 module_refcnt());
	EXPECT_NE(0, stat("/sys/module/kreg", &st));
	EXPECT_EQ(-1, count_slab_objects());

	for (i = 0; i < WORKERS; i++) {
		ASSERT_EQ(workers[i], waitpid(workers[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status));
	}

	/* The subscriber heard the entries go, with the reason. */
	ASSERT_EQ(heard, waitpid(heard, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(-EPROTONOSUPPORT, kreg_open(&gone));

	fd = open("/kreg.ko", O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, syscall(SYS_finit_module, fd, "", 0));
	close(fd);

	kreg_close(self->c);
	ASSERT_EQ(0, kreg_open(&self->c));
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "bulk-00001", &pid));
	EXPECT_EQ(0, count_entries(self->c));
	EXPECT_EQ(0, kreg_register(self->c, "after-reload", 0, NULL));
	EXPECT_EQ(0, kreg_unregister(self->c, "after-reload"));
}

/* rmmod, then insmod with @params: 0 or an errno. */
static int reload(const char *params)
{
	int fd, err = retry_delete_module();

	if (err)
		return err;
	fd = open("/kreg.ko", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	err = syscall(SYS_finit_module, fd, params, 0) ? errno : 0;
	close(fd);
	return err;
}

static int register_as_user(void *arg)
{
	struct kreg_conn *c;
	int err;

	if (kreg_open(&c))
		return 100;
	err = kreg_register(c, arg, 0, NULL);
	kreg_close(c);
	return -err;
}

/*
 * Loaded with policy_required=1 (as kreg.service loads it when it has
 * rules), kreg denies from the first request what no built-in rule allows,
 * until the policy comes, and again once it is unloaded.
 */
TEST(policy_required_holds_from_the_first_request)
{
	struct kreg_rule grant = { .effect = KREG_EFFECT_ALLOW, .rights = KREG_RIGHTS_ALL,
				   .pattern = "app.*", .who = KREG_WHO_UID,
				   .id = UNPRIVILEGED_UID };
	struct kreg_status st;
	struct kreg_conn *c;
	struct raw_view v;

	ASSERT_EQ(0, reload("policy_required=1"));
	ASSERT_EQ(0, kreg_open(&c));
	ASSERT_EQ(0, kreg_status(c, &st));
	EXPECT_TRUE(st.policy_loaded);
	EXPECT_EQ(0, st.policy_rules);
	EXPECT_EQ(EACCES, run_as(UNPRIVILEGED_UID, register_as_user, "app.y"));
	EXPECT_EQ(0, run_as(UNPRIVILEGED_UID, register_as_user, "user.1000.z"));
	/* The view holds only what everyone may see: nothing, so far. */
	ASSERT_EQ(0, raw_view_map(&v, 0));
	EXPECT_EQ(KREG_VIEW_PARTIAL, v.h->state);
	raw_view_unmap(&v);
	/* CAP_SYS_ADMIN still bypasses, and loads the policy. */
	EXPECT_EQ(0, kreg_register(c, "app.root", 0, NULL));
	ASSERT_EQ(0, kreg_policy_set(c, &grant, 1));
	EXPECT_EQ(0, run_as(UNPRIVILEGED_UID, register_as_user, "app.y"));
	ASSERT_EQ(0, kreg_policy_unload(c));
	ASSERT_EQ(0, kreg_status(c, &st));
	EXPECT_TRUE(st.policy_loaded);
	EXPECT_EQ(EACCES, run_as(UNPRIVILEGED_UID, register_as_user, "app.y"));
	kreg_close(c);
	ASSERT_EQ(0, reload(""));
}

TEST_HARNESS_MAIN
