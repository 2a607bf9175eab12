// SPDX-License-Identifier: GPL-2.0
/*
 * The view: lookups answered from kreg.ko's read-only shared-memory copy of
 * the table, with no system call, and the promises of the netlink path kept:
 * never a dead holder, never a recycled pid, pids of the caller's namespace,
 * hidden names hidden, consistent under concurrent change, and a mapping no
 * reader can write through.
 */
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "cleanup.h"
#include "helpers.h"
#include "kselftest_harness.h"
#include "view_raw.h"

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

FIXTURE(view) {
	struct kreg_conn *c;	/* lookups through the view */
	struct kreg_conn *nl;	/* lookups through netlink only */
	pid_t a, b;
};

FIXTURE_SETUP(view)
{
	ASSERT_EQ(0, kreg_open(&self->c));
	setenv("KREG_VIEW", "off", 1);
	ASSERT_EQ(0, kreg_open(&self->nl));
	unsetenv("KREG_VIEW");
	self->a = spawn_sleeper();
	self->b = spawn_sleeper();
	ASSERT_LT(0, self->a);
	ASSERT_LT(0, self->b);
}

FIXTURE_TEARDOWN(view)
{
	kill_and_reap(self->a);
	kill_and_reap(self->b);
	kreg_close(self->nl);
	kreg_close(self->c);
}

/*
 * What a lookup made in a child under strict seccomp answered: the view's
 * own answer (kreg_view_whereis()), which for a dead holder is -ESRCH, and
 * the public call's, which then asks the kernel.
 */
struct strict_answer {
	int err;
	pid_t pid;
	size_t meta_len;
	char meta[64];
};

/*
 * Looks @name up in a child that may make no system call but read, write
 * and exit (seccomp strict mode): any other kills it. The child maps the
 * view first (a mapping is never inherited), by the two lookups before the
 * filter (the first asks the kernel, the second maps the view).
 */
static int lookup_without_syscalls(struct kreg_conn *c, const char *name,
				   struct strict_answer *out)
{
	struct strict_answer a = { 0 };
	int fds[2], status;
	pid_t pid, ignored;
	ssize_t n;

	if (pipe(fds))
		return -errno;
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		kreg_whereis_name(c, "view.warm-up", &ignored);
		kreg_whereis_name(c, "view.warm-up", &ignored);
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
			syscall(SYS_exit, 100);
		a.err = view_whereis(c, name, &a.pid, a.meta, sizeof(a.meta),
					  &a.meta_len);
		if (write(fds[1], &a, sizeof(a)) != sizeof(a))
			syscall(SYS_exit, 101);
		syscall(SYS_exit, 0);
	}
	close(fds[1]);
	n = read(fds[0], out, sizeof(*out));
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -ECHILD;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return -EPERM;	/* killed by seccomp: it made a system call */
	return n == sizeof(*out) ? 0 : -EIO;
}

/* Waits until @pid has died and may be reaped, without reaping it. */
static void wait_dead_unreaped(pid_t pid)
{
	siginfo_t si;

	kill(pid, SIGKILL);
	waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
}

TEST_F(view, answers_hits_and_misses_with_no_system_call)
{
	struct strict_answer a;

	ASSERT_EQ(0, kreg_register_meta(self->c, "view.orders", self->a, "role=db", 7, NULL));
	ASSERT_EQ(0, lookup_without_syscalls(self->c, "view.orders", &a));
	EXPECT_EQ(0, a.err);
	EXPECT_EQ(self->a, a.pid);
	EXPECT_EQ(7, a.meta_len);
	EXPECT_EQ(0, memcmp(a.meta, "role=db", 7));
	/* The parent maps a view of its own, at its second lookup. */
	EXPECT_EQ(0, kreg_whereis_name(self->c, "view.orders", &(pid_t){ 0 }));
	EXPECT_EQ(0, kreg_whereis_name(self->c, "view.orders", &(pid_t){ 0 }));
	ASSERT_NE(NULL, self->c->view.hdr);

	ASSERT_EQ(0, lookup_without_syscalls(self->c, "view.nobody", &a));
	EXPECT_EQ(KREG_UNDEFINED, a.err);
	ASSERT_EQ(0, kreg_unregister(self->c, "view.orders"));
	ASSERT_EQ(0, lookup_without_syscalls(self->c, "view.orders", &a));
	EXPECT_EQ(KREG_UNDEFINED, a.err);
}

/*
 * Without exit cleanup attached: a holder that has died, but that its
 * parent has not reaped, is already seen dead in the view; the lookup then
 * asks the kernel, which takes the name back. After the dead holder is
 * reaped and its pid number given to a new process, the name is absent.
 */
TEST_F(view, never_a_dead_holder_nor_a_recycled_pid)
{
	struct strict_answer a;
	char last[32];
	pid_t again, dead = self->a;
	int fd;

	ASSERT_EQ(0, kreg_register(self->c, "view.dying", dead, NULL));
	ASSERT_EQ(0, kreg_register(self->c, "view.dying-too", dead, NULL));
	wait_dead_unreaped(dead);
	ASSERT_EQ(0, lookup_without_syscalls(self->c, "view.dying", &a));
	EXPECT_EQ(-ESRCH, a.err);
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "view.dying", &again));
	ASSERT_EQ(0, lookup_without_syscalls(self->c, "view.dying", &a));
	EXPECT_EQ(KREG_UNDEFINED, a.err);	/* taken back by that lookup */
	waitpid(dead, NULL, 0);

	/* The next process gets the dead holder's pid number. */
	fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
	ASSERT_LE(0, fd);
	snprintf(last, sizeof(last), "%d", dead - 1);
	ASSERT_LT(0, write(fd, last, strlen(last)));
	close(fd);
	self->a = again = spawn_sleeper();
	ASSERT_EQ(dead, again);
	ASSERT_EQ(0, lookup_without_syscalls(self->c, "view.dying-too", &a));
	EXPECT_EQ(-ESRCH, a.err);
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "view.dying-too", &again));
}

TEST_F(view, exit_cleanup_keeps_the_view_right)
{
	struct strict_answer a;
	char why[256];

	ASSERT_LE(0, cleanup_attach(why, sizeof(why))) TH_LOG("attach: %s", why);
	ASSERT_EQ(0, kreg_register(self->c, "view.cleaned", self->a, NULL));
	wait_dead_unreaped(self->a);
	ASSERT_EQ(0, lookup_without_syscalls(self->c, "view.cleaned", &a));
	/* Dead at once; gone as soon as the release worker has run. */
	EXPECT_TRUE(a.err == -ESRCH || a.err == KREG_UNDEFINED) TH_LOG("%d", a.err);
	cleanup_detach();
}

static int view_ioctl_errno(void)
{
	int dev = open(KREG_VIEW_DEVICE, O_RDONLY | O_CLOEXEC);
	int fd, err;

	if (dev < 0)
		return errno;
	fd = ioctl(dev, KREG_IOC_VIEW);
	err = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	close(dev);
	return err;
}

/*
 * A new user namespace (a container) gets no view, and its lookups still
 * get the netlink path's answers: the host's names are not for it.
 */
TEST_F(view, a_container_gets_no_view_and_the_kernels_answers)
{
	pid_t pid;
	int status;

	ASSERT_EQ(0, kreg_register(self->c, "view.host-only", self->a, NULL));
	pid = fork();
	if (pid == 0) {
		struct kreg_conn *c;
		pid_t found;

		if (setresgid(UNPRIVILEGED_UID, UNPRIVILEGED_UID, UNPRIVILEGED_UID) ||
		    setresuid(UNPRIVILEGED_UID, UNPRIVILEGED_UID, UNPRIVILEGED_UID) ||
		    unshare(CLONE_NEWUSER))
			_exit(10);
		if (view_ioctl_errno() != EPERM)
			_exit(11);
		if (kreg_open(&c))
			_exit(12);
		if (kreg_whereis_name(c, "view.host-only", &found) != KREG_UNDEFINED)
			_exit(13);
		if (c->view.hdr)
			_exit(14);
		kreg_close(c);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* A new pid namespace: its pids are not the view's. */
	pid = fork();
	if (pid == 0) {
		pid_t child;

		if (unshare(CLONE_NEWPID))
			_exit(20);
		child = fork();
		if (child == 0)
			_exit(view_ioctl_errno() == EPERM ? 0 : 21);
		if (waitpid(child, &status, 0) != child)
			_exit(22);
		_exit(WEXITSTATUS(status));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

static int hidden_from_uid(void *arg)
{
	struct kreg_conn *c;
	pid_t found;
	int err;

	(void)arg;
	if (kreg_open(&c))
		return 1;
	err = kreg_whereis_name(c, "view.secret", &found);
	kreg_close(c);
	return err == KREG_UNDEFINED ? 0 : 2;
}

/*
 * A policy keeps the view for what it lets everyone see, and takes out of
 * it, before it applies, what it hides: raw, the view shows no hidden name.
 */
TEST_F(view, a_policy_leaves_only_public_names_in_the_view)
{
	struct kreg_rule rules[1] = { {
		.effect = KREG_EFFECT_ALLOW, .rights = KREG_RIGHT_SEE,
		.pattern = "view.public.*", .who = KREG_WHO_EVERYONE,
	} };
	struct strict_answer a;
	struct raw_view before, now;
	pid_t found;

	ASSERT_EQ(0, kreg_register(self->c, "view.secret", self->a, NULL));
	ASSERT_EQ(0, kreg_register(self->c, "view.public.db", self->b, NULL));
	ASSERT_EQ(0, raw_view_map(&before, 0));
	EXPECT_EQ(KREG_VIEW_LIVE, before.h->state);
	EXPECT_TRUE(raw_view_contains(&before, "view.secret"));
	ASSERT_EQ(0, kreg_policy_set(self->c, rules, 1));
	/* The mapping made before the policy: the hidden name is gone from it. */
	EXPECT_FALSE(raw_view_contains(&before, "view.secret"));
	EXPECT_NE(KREG_VIEW_LIVE, before.h->state);
	EXPECT_EQ(0, run_as(UNPRIVILEGED_UID, hidden_from_uid, NULL));
	/* The public name is still answered from the view, with no system call. */
	ASSERT_EQ(0, lookup_without_syscalls(self->c, "view.public.db", &a));
	EXPECT_EQ(0, a.err);
	EXPECT_EQ(self->b, a.pid);
	/* Root may see everything, through the kernel. */
	EXPECT_EQ(0, kreg_whereis_name(self->c, "view.secret", &found));
	EXPECT_EQ(self->a, found);
	ASSERT_EQ(0, kreg_policy_unload(self->c));
	/* Without a policy the view holds every name again, once rebuilt. */
	ASSERT_EQ(0, raw_view_wait(&now, "view.secret"));
	EXPECT_EQ(self->a, (pid_t)raw_view_pid(&now, "view.secret"));
	raw_view_unmap(&now);
	raw_view_unmap(&before);
}

static int try_to_write_the_view(void *arg)
{
	int fd = *(int *)arg;
	char path[64];
	void *p;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* The file is immutable: refused before permissions are even asked. */
	if (open(path, O_RDWR) >= 0 || errno != EPERM)
		return 1;
	if (fchmod(fd, 0666) == 0 || errno != EPERM)
		return 2;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED || errno != EACCES)
		return 3;
	return 0;
}

/* Nobody can write to the view through its descriptor or a mapping. */
TEST_F(view, no_reader_can_write_it)
{
	int dev, fd;
	size_t size;
	struct stat st;
	char *p;
	pid_t found;

	ASSERT_EQ(0, kreg_register(self->c, "view.guarded", self->a, NULL));
	dev = open(KREG_VIEW_DEVICE, O_RDONLY);
	ASSERT_LE(0, dev);
	EXPECT_EQ(-1, ioctl(dev, _IO(0xB8, 99)));
	EXPECT_EQ(ENOTTY, errno);
	fd = ioctl(dev, KREG_IOC_VIEW);
	close(dev);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	size = st.st_size;
	EXPECT_EQ(0444, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);

	EXPECT_EQ(MAP_FAILED, mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	EXPECT_EQ(EACCES, errno);
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mprotect(p, size, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, write(fd, "x", 1));
	EXPECT_EQ(-1, ftruncate(fd, 0));
	EXPECT_EQ(0, run_as(UNPRIVILEGED_UID, try_to_write_the_view, &fd));
	/* Not even root, whom file modes do not stop. */
	EXPECT_EQ(0, try_to_write_the_view(&fd));
	munmap(p, size);

	/* A private copy can be scribbled on; the view stays as it was. */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0xff, size);
	munmap(p, size);
	close(fd);
	EXPECT_EQ(0, kreg_whereis_name(self->c, "view.guarded", &found));
	EXPECT_EQ(self->a, found);
	EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "view.unguarded", &found));
}

/* Names and values too long for a record are answered by the kernel. */
TEST_F(view, long_names_and_values_still_answer)
{
	char name[KREG_NAME_MAX + 1], meta[KREG_META_MAX], got[KREG_META_MAX];
	size_t len;
	pid_t found;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memset(meta, 'm', sizeof(meta));
	ASSERT_EQ(0, kreg_register(self->c, name, self->a, NULL));
	ASSERT_EQ(0, kreg_register_meta(self->c, "view.big-value", self->b, meta,
					sizeof(meta), NULL));
	EXPECT_EQ(0, kreg_whereis_name(self->c, name, &found));
	EXPECT_EQ(self->a, found);
	EXPECT_EQ(0, kreg_whereis_meta(self->c, "view.big-value", &found, got,
				       sizeof(got), &len));
	EXPECT_EQ(self->b, found);
	EXPECT_EQ(sizeof(meta), len);
	EXPECT_EQ(0, memcmp(got, meta, sizeof(meta)));
	/* The short name of a long value needs no value to be found. */
	EXPECT_EQ(0, kreg_whereis_name(self->c, "view.big-value", &found));
	EXPECT_EQ(self->b, found);
	EXPECT_EQ(-EINVAL, kreg_whereis_name(self->c, "", &found));
}

/* The view grows past its first size; a handle that mapped it follows. */
TEST_F(view, grows_and_readers_follow)
{
	int i, n = scaled(2000, 300), wrong = 0;
	uint32_t first;
	char name[32];
	pid_t found;

	ASSERT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "view.grow-0", &found));
	ASSERT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, "view.grow-0", &found));
	ASSERT_NE(NULL, self->c->view.hdr);
	first = self->c->view.hdr->capacity;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "view.grow-%d", i);
		ASSERT_EQ(0, kreg_register(self->nl, name, i % 2 ? self->a : self->b, NULL));
	}
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "view.grow-%d", i);
		if (kreg_whereis_name(self->c, name, &found) ||
		    found != (i % 2 ? self->a : self->b))
			wrong++;
	}
	EXPECT_EQ(0, wrong);
	/* The view grows in the background: the handle follows it there. */
	for (i = 0; i < 500 && (kreg_whereis_name(self->c, "view.grow-0", &found) ||
				!self->c->view.hdr ||
				self->c->view.hdr->state != KREG_VIEW_LIVE); i++)
		usleep(10000);
	ASSERT_NE(NULL, self->c->view.hdr);
	EXPECT_EQ(KREG_VIEW_LIVE, self->c->view.hdr->state);
	EXPECT_LE((uint32_t)n, self->c->view.hdr->capacity);
	if (first < (uint32_t)n)
		EXPECT_LT(first, self->c->view.hdr->capacity);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "view.grow-%d", i);
		ASSERT_EQ(0, kreg_unregister(self->nl, name));
	}
	for (i = 0; i < n; i += 97) {
		snprintf(name, sizeof(name), "view.grow-%d", i);
		EXPECT_EQ(KREG_UNDEFINED, kreg_whereis_name(self->c, name, &found));
	}
}

#define CHURN_NAMES 8

/*
 * A reader of the churned names: looks them up, round robin, until it has
 * made @rounds lookups and seen @hits of them held (or 60 s went by).
 * Exit status: 0, 2 the view was never used, 3 a wrong answer, 4 too few hits.
 */
static int churn_reader(pid_t a, pid_t b, int rounds, int hits)
{
	uint64_t deadline = now_ns() + 60ULL * 1000000000;
	int r, bad = 0, seen = 0;
	struct kreg_conn *c;
	char name[32], meta[4];
	size_t len;
	pid_t pid;

	if (kreg_open(&c))
		return 1;
	for (r = 0; (r < rounds || seen < hits) && ((r & 1023) || now_ns() < deadline); r++) {
		int err;

		snprintf(name, sizeof(name), "view.churn-%d", r % CHURN_NAMES);
		err = kreg_whereis_meta(c, name, &pid, meta, sizeof(meta), &len);
		if (err == KREG_UNDEFINED)
			continue;
		seen++;
		if (err || len != 1 || !((pid == a && meta[0] == 'A') ||
					 (pid == b && meta[0] == 'B'))) {
			fprintf(stderr, "reader: %s: %d, pid %d, value %.*s\n", name, err,
				(int)pid, (int)(len < 4 ? len : 4), meta);
			bad++;
		}
	}
	if (bad)
		return 3;
	if (!c->view.hdr)
		return 2;
	fprintf(stderr, "reader: %d lookups, %d found held\n", r, seen);
	return seen >= hits ? 0 : 4;
}

/*
 * Readers never see a torn entry: while a writer moves names between two
 * holders, each with a value that says which, every answer is absent, or
 * one holder's pid with that holder's value.
 */
TEST_F(view, consistent_under_concurrent_change)
{
	int i, status, readers = 2, rounds = scaled(20000, 2000);
	pid_t writer, reader[2];
	int started[2];
	char byte;

	ASSERT_EQ(0, pipe(started));
	writer = fork();
	if (writer == 0) {
		struct kreg_conn *w;
		char name[32];
		int r;

		close(started[0]);
		if (kreg_open(&w))
			_exit(1);
		for (r = 0; ; r++) {
			if (r == CHURN_NAMES && write(started[1], "s", 1) != 1)
				_exit(1);
			i = r % CHURN_NAMES;
			snprintf(name, sizeof(name), "view.churn-%d", i);
			kreg_unregister(w, name);
			if (r % 3 == 2)
				continue;	/* leave it absent for a while */
			kreg_register_meta(w, name, r % 2 ? self->a : self->b,
					   r % 2 ? "A" : "B", 1, NULL);
		}
	}
	/* The readers start once the churn has. */
	close(started[1]);
	ASSERT_EQ(1, read(started[0], &byte, 1));
	close(started[0]);
	for (i = 0; i < readers; i++) {
		reader[i] = fork();
		if (reader[i] == 0)
			_exit(churn_reader(self->a, self->b, rounds, rounds / 10));
	}
	for (i = 0; i < readers; i++) {
		ASSERT_EQ(reader[i], waitpid(reader[i], &status, 0));
		EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("reader %d", i);
	}
	kill_and_reap(writer);
	for (i = 0; i < CHURN_NAMES; i++) {
		char name[32];

		snprintf(name, sizeof(name), "view.churn-%d", i);
		kreg_unregister(self->nl, name);
	}
}

TEST_HARNESS_MAIN
