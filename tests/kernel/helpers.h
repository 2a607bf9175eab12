/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the kernel tests, which run as root inside the guest with
 * kreg.ko loaded. Malformed requests are built with libkreg's internal
 * message helpers, so the kernel's own checks are what is tested.
 */
#ifndef KREG_TEST_HELPERS_H
#define KREG_TEST_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kreg.h"
#include "kernel/kernel.h"

#define UNPRIVILEGED_UID 1000

/*
 * On the debug kernel (KASAN, lockdep), which runs about ten times slower,
 * the guest says kregslow=1: tests that size their work by a count use
 * scaled(), so that every test still runs there, in reasonable time.
 */
static inline int scaled(int count, int on_debug_kernel)
{
	const char *slow = getenv("kregslow");

	return slow && atoi(slow) ? on_debug_kernel : count;
}

/* A child that does nothing until killed. */
static inline pid_t spawn_sleeper(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static inline void kill_and_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static inline int count_one(const struct kreg_entry_info *e, void *arg)
{
	(void)e;
	(*(long *)arg)++;
	return 0;
}

/*
 * How many names are listed, or a negative errno. Retried while the table
 * changes under the listing (an exit released elsewhere, say).
 */
static inline long count_entries(struct kreg_conn *c)
{
	long n;
	int err, tries = 0;

	do {
		n = 0;
		err = kreg_list(c, count_one, &n);
	} while (err == -EINTR && ++tries < 20);
	return err ? err : n;
}

/* Writes @text to @path (a sysfs, procfs or debugfs file): 0 or a negative errno. */
static inline int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		err = -errno;
	close(fd);
	return err;
}

/* Loads @text as a policy file holding it would: 0 or the first error. */
static inline int load_policy(struct kreg_conn *c, const char *text)
{
	char path[] = "/tmp/kreg-policy-XXXXXX", error[256];
	struct kreg_rule *rules;
	size_t n;
	int fd, err;

	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	err = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -EIO;
	close(fd);
	if (!err)
		err = kreg_policy_read(path, &rules, &n, error, sizeof(error));
	unlink(path);
	if (err)
		return err;
	err = kreg_policy_set(c, rules, n);
	free(rules);
	return err;
}

static inline int param_path(char *buf, size_t size, const char *name)
{
	return snprintf(buf, size, "/sys/module/kreg/parameters/%s", name);
}

static inline long read_param(const char *name)
{
	char path[128], val[32] = "";
	FILE *f;

	param_path(path, sizeof(path), name);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(val, sizeof(val), f))
		val[0] = '\0';
	fclose(f);
	return strtol(val, NULL, 10);
}

static inline int write_param(const char *name, long value)
{
	char path[128];
	FILE *f;
	int err = 0;

	param_path(path, sizeof(path), name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fprintf(f, "%ld\n", value) < 0)
		err = -EIO;
	if (fclose(f))
		err = -errno;
	return err;
}

/*
 * Runs @fn in a child that has given up root for @uid, primary group @uid
 * and the @n supplementary @groups (and with root every capability).
 * Returns the child's exit status: 0 when @fn succeeded.
 */
static inline int run_as_in(uid_t uid, const gid_t *groups, size_t n,
			    int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (setgroups(n, groups) || setresgid(uid, uid, uid) ||
		    setresuid(uid, uid, uid))
			_exit(100);
		_exit(fn(arg));
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 101;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static inline int run_as(uid_t uid, int (*fn)(void *), void *arg)
{
	return run_as_in(uid, NULL, 0, fn, arg);
}

/* A REGISTER with a hand-made name attribute and one more u32 attribute. */
static inline int raw_register(struct kreg_conn *c, const void *name, int len,
			       int extra_type, uint32_t extra)
{
	struct nl_msg *msg = kreg_msg_new(c, KREG_CMD_REGISTER, 1024);

	if (!msg)
		return -ENOMEM;
	if (name)
		nla_put(msg, KREG_A_NAME, len, name);
	if (extra_type)
		nla_put_u32(msg, extra_type, extra);
	return kreg_request(c, msg, KREG_REQ_ACK, NULL, NULL);
}

/* Asks SLUB to flush its per-CPU slabs, whose free objects count as active. */
static inline void shrink_slab_cache(const char *name)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink", name);
	f = fopen(path, "w");
	if (f) {
		fputs("1", f);
		fclose(f);
	}
}

/*
 * Objects in use in kreg's slab caches, or -1 when none is listed (the guest
 * boots with slab_nomerge, so the caches are kreg's alone).
 */
static inline long count_slab_objects(void)
{
	char line[512], name[64];
	long active, total = -1;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -2;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %ld", name, &active) == 2 &&
		    strncmp(name, "kreg_", 5) == 0)
			shrink_slab_cache(name);
	}
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %ld", name, &active) == 2 &&
		    strncmp(name, "kreg_", 5) == 0)
			total = (total < 0 ? 0 : total) + active;
	}
	fclose(f);
	return total;
}

static inline long module_refcnt(void)
{
	long n = -1;
	FILE *f = fopen("/sys/module/kreg/refcnt", "r");

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/*
 * rmmod kreg, retried for up to 10 s while something holds a reference (a
 * LIST dump in progress, a BPF program being freed). 0 or an errno.
 */
static inline int retry_delete_module(void)
{
	int i, err = 0;

	for (i = 0; i < 1000; i++) {
		err = syscall(SYS_delete_module, "kreg", O_NONBLOCK) ? errno : 0;
		if (err != EAGAIN && err != EBUSY)
			break;
		usleep(10000);
	}
	return err;
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#endif /* KREG_TEST_HELPERS_H */
