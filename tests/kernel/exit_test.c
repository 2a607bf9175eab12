// SPDX-License-Identifier: GPL-2.0
/*
 * BPF exit cleanup (bpf/kreg_exit.bpf.c calling kreg.ko's kfunc) and the
 * kreg tracepoints. With cleanup attached, a process's names go, with an
 * "exited" event, as soon as it dies: nobody needs to look them up. The
 * kfunc only hands them over; a worker releases them at once, so the tests
 * wait for the events (make bench measures how soon they come).
 */
#include <poll.h>
#include <pthread.h>
#include <sys/syscall.h>

#include "cleanup.h"
#include "helpers.h"
#include "kreg_trace_probe.skel.h"
#include "kselftest_harness.h"

FIXTURE(cleanup) {
	struct kreg_conn *c, *mon;
	struct kreg_event e;
	struct cleanup_status before;
};

FIXTURE_SETUP(cleanup)
{
	char why[256];

	ASSERT_LE(0, cleanup_attach(why, sizeof(why))) TH_LOG("attach: %s", why);
	ASSERT_EQ(0, cleanup_status(&self->before));
	ASSERT_TRUE(self->before.attached);
	ASSERT_EQ(0, kreg_open(&self->c));
	ASSERT_EQ(0, kreg_open(&self->mon));
	ASSERT_EQ(0, kreg_subscribe(self->mon));
}

FIXTURE_TEARDOWN(cleanup)
{
	kreg_close(self->mon);
	kreg_close(self->c);
	cleanup_detach();
}

/*
 * Counts the "exited" events for @pid on the monitor, waiting up to
 * @timeout_ms for @want of them; nothing looks the names up meanwhile.
 */
static int exited_events(struct kreg_conn *mon, pid_t pid, int want, int timeout_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000;
	struct kreg_event e;
	int n = 0;

	while (n < want) {
		uint64_t now = now_ns();
		int left = now < deadline ? (int)((deadline - now) / 1000000) : 0;

		if (kreg_next_event(mon, &e, left))
			break;
		if (e.kind == KREG_EVENT_UNREGISTERED && e.pid == pid &&
		    e.reason == KREG_REASON_EXITED)
			n++;
	}
	return n;
}

/* Events are prompt; this only bounds a test that would otherwise hang. */
#define PROMPTLY_MS	5000

/*
 * Registers @names names of its own, says so on @ready, and exits when the
 * write end of the @go pipe closes (@go[1] is closed here, in the child).
 */
static void __attribute__((noreturn)) holder_main(const char *prefix, int names,
						  int ready, const int go[2])
{
	struct kreg_conn *c;
	char name[64], byte;
	int i, err;

	close(go[1]);
	err = kreg_open(&c);
	if (err) {
		fprintf(stderr, "holder %d: open: %s\n", (int)getpid(), kreg_strerror(err));
		_exit(1);
	}
	for (i = 0; i < names; i++) {
		snprintf(name, sizeof(name), "%s-%d", prefix, i);
		err = kreg_register(c, name, 0, NULL);
		if (err) {
			fprintf(stderr, "holder %d: register %s: %s (%s)\n", (int)getpid(), name,
				kreg_strerror(err), kreg_last_error(c));
			_exit(2);
		}
	}
	if (write(ready, "r", 1) != 1)
		_exit(3);
	if (read(go[0], &byte, 1) < 0)
		_exit(4);
	_exit(0);
}

static pid_t spawn_holder(const char *prefix, int names, int ready, const int go[2])
{
	pid_t pid = fork();

	if (pid == 0)
		holder_main(prefix, names, ready, go);
	return pid;
}

/*
 * Starts a holder and returns once its names are registered; closing
 * *@go_write (or killing it) makes it exit.
 */
static pid_t start_holder(const char *prefix, int names, int *go_write)
{
	int ready[2], go[2];
	pid_t pid;
	char byte;

	if (pipe(ready) || pipe(go))
		return -1;
	pid = spawn_holder(prefix, names, ready[1], go);
	close(go[0]);
	close(ready[1]);
	if (pid < 0 || read(ready[0], &byte, 1) != 1)
		pid = -1;
	close(ready[0]);
	*go_write = go[1];
	return pid;
}

/* Waits for @pid to exit but leaves it a zombie, not yet reaped. */
static int wait_exit_unreaped(pid_t pid)
{
	siginfo_t info;

	return waitid(P_PID, pid, &info, WEXITED | WNOWAIT);
}

TEST_F(cleanup, exit_releases_names_without_a_lookup)
{
	struct cleanup_status after;
	pid_t child;
	int go;

	child = start_holder("exit-normal", 2, &go);
	ASSERT_GT(child, 0);
	close(go);
	ASSERT_EQ(0, wait_exit_unreaped(child));

	EXPECT_EQ(2, exited_events(self->mon, child, 2, PROMPTLY_MS));
	ASSERT_EQ(0, cleanup_status(&after));
	EXPECT_GE(after.totals.holders - self->before.totals.holders, 1);
	EXPECT_GE(after.totals.exits - self->before.totals.exits, 1);
	waitpid(child, NULL, 0);
}

TEST_F(cleanup, killed_process_releases_its_names)
{
	pid_t child;
	int go;

	child = start_holder("exit-killed", 1, &go);
	ASSERT_GT(child, 0);
	kill(child, SIGKILL);
	ASSERT_EQ(0, wait_exit_unreaped(child));
	EXPECT_EQ(1, exited_events(self->mon, child, 1, PROMPTLY_MS));
	waitpid(child, NULL, 0);
	close(go);
}

static int thread_pipe[2];

static void *last_thread(void *arg)
{
	char byte;

	(void)arg;
	usleep(100000);		/* the leader has exited by now */
	if (write(thread_pipe[1], "l", 1) != 1 || read(thread_pipe[0], &byte, 1) < 0)
		syscall(SYS_exit, 2);
	/* Only this thread ends: it is the last one, so the process dies here. */
	syscall(SYS_exit, 0);
	return NULL;
}

TEST_F(cleanup, exit_from_a_non_leader_thread_releases_names)
{
	int to_parent[2], to_child[2];
	pid_t child, pid;
	char byte;

	ASSERT_EQ(0, pipe(to_parent));
	ASSERT_EQ(0, pipe(to_child));
	child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		struct kreg_conn *c;
		pthread_t t;

		close(to_child[1]);
		close(to_parent[0]);
		thread_pipe[0] = to_child[0];
		thread_pipe[1] = to_parent[1];
		if (kreg_open(&c) || kreg_register(c, "exit-thread", 0, NULL) ||
		    pthread_create(&t, NULL, last_thread, NULL))
			_exit(1);
		pthread_exit(NULL);	/* the leader goes first */
	}
	ASSERT_EQ(1, read(to_parent[0], &byte, 1));
	/* Leader gone, one thread left: the process and its name live on. */
	EXPECT_EQ(0, exited_events(self->mon, child, 1, 200));
	ASSERT_EQ(0, kreg_whereis_name(self->c, "exit-thread", &pid));
	EXPECT_EQ(child, pid);

	close(to_child[1]);
	ASSERT_EQ(0, wait_exit_unreaped(child));
	EXPECT_EQ(1, exited_events(self->mon, child, 1, PROMPTLY_MS));
	waitpid(child, NULL, 0);
}

static int register_many_as_user(void *arg)
{
	long n = *(long *)arg, i;
	struct kreg_conn *c;
	char name[32];
	int ret = 0;

	if (kreg_open(&c))
		return 1;
	for (i = 0; i < n && !ret; i++) {
		snprintf(name, sizeof(name), "mass-again-%ld", i);
		if (kreg_register(c, name, 0, NULL))
			ret = 2;
	}
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "mass-again-%ld", i);
		kreg_unregister(c, name);
	}
	kreg_close(c);
	return ret;
}

TEST_F_TIMEOUT(cleanup, thousands_exiting_at_once_leave_table_quota_and_slab_empty, 600)
{
	enum { MOST = 2000 };
	const int N = scaled(MOST, 400);	/* each a fork and exit under KASAN */
	long saved_quota = read_param("max_per_uid"), n = N, listed, events = 0;
	long slab_before = count_slab_objects();
	static pid_t pids[MOST];
	int ready[2], go[2], i;
	uint64_t t0 = now_ns();
	struct kreg_event e;
	char byte;

	listed = count_entries(self->c);
	ASSERT_GE(listed, 0);
	ASSERT_EQ(0, write_param("max_per_uid", N));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	for (i = 0; i < N; i++) {
		pids[i] = fork();
		ASSERT_GE(pids[i], 0);
		if (pids[i] == 0) {
			char name[32];

			snprintf(name, sizeof(name), "mass-%d", i);
			if (setresgid(UNPRIVILEGED_UID, UNPRIVILEGED_UID, UNPRIVILEGED_UID) ||
			    setresuid(UNPRIVILEGED_UID, UNPRIVILEGED_UID, UNPRIVILEGED_UID))
				_exit(1);
			holder_main(name, 1, ready[1], go);
		}
	}
	/* A holder that fails ends early: its status says at which step. */
	close(ready[1]);
	for (i = 0; i < N;) {
		struct pollfd p = { .fd = ready[0], .events = POLLIN };
		int status = 0;
		pid_t early;

		if (poll(&p, 1, 1000) == 1 && read(ready[0], &byte, 1) == 1) {
			i++;
			continue;
		}
		early = waitpid(-1, &status, WNOHANG);
		ASSERT_LE(early, 0) TH_LOG("holder pid %d ended before it was ready: status 0x%x"
					   " (%d ready)", (int)early, status, i);
	}
	TH_LOG("%d holders registered in %.1f s", N, (now_ns() - t0) / 1e9);
	EXPECT_EQ(listed + N, count_entries(self->c));

	t0 = now_ns();
	close(go[1]);	/* all holders exit at once */
	for (;;) {
		int err = kreg_next_event(self->mon, &e, 5000);

		if (err == -ETIMEDOUT)
			break;
		ASSERT_EQ(0, err);
		if (e.kind == KREG_EVENT_UNREGISTERED && e.reason == KREG_REASON_EXITED &&
		    !strncmp(e.name, "mass-", 5) && ++events == N)
			break;
	}
	EXPECT_EQ(N, events);
	TH_LOG("%ld names released in %.1f s", events, (now_ns() - t0) / 1e9);
	for (i = 0; i < N; i++)
		waitpid(pids[i], NULL, 0);
	EXPECT_EQ(listed, count_entries(self->c));
	/* Their quota is free again: the same uid registers N more at once. */
	EXPECT_EQ(0, run_as(UNPRIVILEGED_UID, register_many_as_user, &n));
	/* And their memory went back to the slab caches (RCU frees it). */
	usleep(500000);
	EXPECT_LE(count_slab_objects(), slab_before);
	ASSERT_EQ(0, write_param("max_per_uid", saved_quota));
}

/* Released in batches, so one process's many names never hold the table lock long. */
TEST_F_TIMEOUT(cleanup, a_process_holding_many_names_releases_them_all, 120)
{
	int names = scaled(1000, 300), go;
	struct kreg_status st;
	long listed, held;
	pid_t child;

	listed = count_entries(self->c);
	ASSERT_GE(listed, 0);
	/* Dead holders' names left by earlier tests count until released. */
	ASSERT_EQ(0, kreg_status(self->c, &st));
	held = (long)st.entries;
	child = start_holder("exit-many", names, &go);
	ASSERT_GT(child, 0);
	EXPECT_EQ(listed + names, count_entries(self->c));
	close(go);
	ASSERT_EQ(0, wait_exit_unreaped(child));
	EXPECT_EQ(names, exited_events(self->mon, child, names, PROMPTLY_MS));
	ASSERT_EQ(child, waitpid(child, NULL, 0));
	EXPECT_EQ(listed, count_entries(self->c));
	ASSERT_EQ(0, kreg_status(self->c, &st));
	EXPECT_EQ(held, (long)st.entries);
}

TEST_F(cleanup, without_cleanup_a_dead_holder_is_still_never_reported)
{
	pid_t child, pid;
	int go;

	ASSERT_EQ(0, cleanup_detach());
	child = start_holder("exit-lazy", 1, &go);
	ASSERT_GT(child, 0);
	close(go);
	ASSERT_EQ(child, waitpid(child, NULL, 0));
	/* Nothing removed it yet... */
	EXPECT_EQ(0, exited_events(self->mon, child, 1, 200));
	/* ...but it never reads as present, and the lookup drops it. */
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "exit-lazy-0", &pid));
	EXPECT_EQ(1, exited_events(self->mon, child, 1, 0));
}

TEST_F(cleanup, attach_is_idempotent_and_detach_unpins)
{
	struct cleanup_status st;
	char why[256];

	EXPECT_EQ(1, cleanup_attach(why, sizeof(why)));
	EXPECT_EQ(0, access(KREG_BPF_PIN_LINK, F_OK));
	EXPECT_EQ(0, access(KREG_BPF_PIN_STATS, F_OK));
	EXPECT_EQ(0, cleanup_detach());
	EXPECT_EQ(1, cleanup_detach());
	EXPECT_NE(0, access(KREG_BPF_PIN_LINK, F_OK));
	ASSERT_EQ(0, cleanup_status(&st));
	EXPECT_FALSE(st.attached);
	EXPECT_EQ(0, cleanup_attach(why, sizeof(why)));
	ASSERT_EQ(0, cleanup_status(&st));
	EXPECT_TRUE(st.attached);
	EXPECT_NE(0, st.prog_id);
}

TEST_F(cleanup, rmmod_fails_while_attached_and_works_after_detach)
{
	int fd, err;

	err = syscall(SYS_delete_module, "kreg", O_NONBLOCK) ? errno : 0;
	EXPECT_TRUE(err == EAGAIN || err == EBUSY) TH_LOG("delete_module: %d", err);
	EXPECT_EQ(0, access("/sys/module/kreg", F_OK));

	kreg_close(self->mon);
	kreg_close(self->c);
	self->mon = self->c = NULL;
	ASSERT_EQ(0, cleanup_detach());
	/* The program, and its reference on the module, go after a grace period. */
	err = retry_delete_module();
	ASSERT_EQ(0, err) TH_LOG("delete_module: %s, refcnt %ld", strerror(err),
				 module_refcnt());
	fd = open("/kreg.ko", O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, syscall(SYS_finit_module, fd, "", 0));
	close(fd);
}

/* A lookup answered from the view never enters the kernel: these go through netlink. */
TEST_F(cleanup, tracepoints_reach_a_bpf_program)
{
	struct kreg_trace_probe *probe = kreg_trace_probe__open_and_load();
	struct kreg_conn *nl;
	pid_t child, pid;
	int go;

	ASSERT_NE(NULL, probe);
	probe->bss->target = getpid();
	ASSERT_EQ(0, kreg_trace_probe__attach(probe));
	setenv("KREG_VIEW", "off", 1);
	ASSERT_EQ(0, kreg_open(&nl));
	unsetenv("KREG_VIEW");

	ASSERT_EQ(0, kreg_register(self->c, "tp-seen", 0, NULL));
	ASSERT_EQ(0, kreg_whereis_name(nl, "tp-seen", &pid));
	ASSERT_EQ(0, kreg_whereis_name(nl, "tp-seen", &pid));
	kreg_close(nl);
	ASSERT_EQ(0, kreg_send(self->c, "tp-seen", "x", 1));
	ASSERT_EQ(0, kreg_unregister(self->c, "tp-seen"));
	EXPECT_EQ(1, probe->bss->registers);
	EXPECT_STREQ("tp-seen", probe->bss->last_name);
	EXPECT_EQ(0, probe->bss->last_result);
	EXPECT_EQ(2, probe->bss->lookups);
	EXPECT_EQ(1, probe->bss->sends);
	EXPECT_EQ(1, probe->bss->unregisters);
	EXPECT_EQ(KREG_REASON_EXPLICIT, probe->bss->last_reason);

	child = start_holder("tp-exit", 3, &go);
	ASSERT_GT(child, 0);
	probe->bss->exiting = child;
	close(go);
	ASSERT_EQ(child, waitpid(child, NULL, 0));
	EXPECT_EQ(3, exited_events(self->mon, child, 3, PROMPTLY_MS));
	/* The cleanup tracepoint comes once its last name is announced. */
	for (int i = 0; i < 500 && !probe->bss->cleanups; i++)
		usleep(10000);
	EXPECT_EQ(1, probe->bss->cleanups);
	EXPECT_EQ(3, probe->bss->released);
	kreg_trace_probe__destroy(probe);
}

TEST_HARNESS_MAIN
