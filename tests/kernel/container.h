/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Containers for the tests, made as the runtimes make them:
 *  - Docker-style (Docker, containerd, Kubernetes): new pid, net and mount
 *    namespaces, uid 0 of the initial user namespace, every capability
 *    dropped, no new privileges;
 *  - user-namespace style (LXC, Podman, rootless): a user namespace whose
 *    uids 0..n-1 are host uids base..base+n-1, made by an owner, with new
 *    pid and net namespaces or not.
 * Each runs @fn in the container and returns its exit status (0: success).
 */
#ifndef KREG_TEST_CONTAINER_H
#define KREG_TEST_CONTAINER_H

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

static inline int status_of(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * Every capability but those in @keep (a mask of CAP_* bits below 32) gone
 * for good: effective, permitted, bounding, ambient.
 */
static inline int drop_caps_but(uint32_t keep)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { { 0 } };
	int cap;

	for (cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (cap >= 32 || !(keep & (1U << cap)))
			prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	data[0].effective = data[0].permitted = keep;
	return (int)syscall(SYS_capset, &hdr, data);
}

static inline int drop_all_caps(void)
{
	return drop_caps_but(0);
}

/* Forks, runs @fn in the child and returns its status. */
static inline int run_child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn(arg));
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 102;
	return status_of(status);
}

/* @fn as pid 1 of new namespaces @flags (CLONE_NEWPID among them). */
static inline int run_as_pid1(int flags, int (*fn)(void *), void *arg)
{
	if (unshare(flags))
		return 103;
	return run_child(fn, arg);
}

struct docker_style {
	int (*fn)(void *);
	void *arg;
	uint32_t keep;		/* capabilities it keeps (Docker keeps CAP_SETUID...) */
};

static inline int docker_style_pid1(void *arg)
{
	struct docker_style *d = arg;

	if (drop_caps_but(d->keep))
		return 104;
	return d->fn(d->arg);
}

static inline int docker_style_outer(void *arg)
{
	return run_as_pid1(CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS, docker_style_pid1, arg);
}

static inline int run_docker_style(int (*fn)(void *), void *arg)
{
	struct docker_style d = { fn, arg, 0 };

	return run_child(docker_style_outer, &d);
}

/* A Docker-style container that keeps the capabilities in @keep. */
static inline int run_docker_style_keeping(int (*fn)(void *), void *arg, uint32_t keep)
{
	struct docker_style d = { fn, arg, keep };

	return run_child(docker_style_outer, &d);
}

struct userns_spec {
	uid_t owner;		/* who makes the namespace (its owner) */
	uid_t base;		/* host uid of its uid 0 */
	unsigned int n;		/* uids mapped */
	int flags;		/* more namespaces: CLONE_NEWPID, CLONE_NEWNET */
	int (*fn)(void *);
	void *arg;
};

/*
 * The child makes the user namespace as @owner; the parent, root of the
 * initial one, writes its maps (as newuidmap would for a user's subuids);
 * the child becomes its uid 0 and runs @fn, as pid 1 with CLONE_NEWPID.
 */
static inline int run_in_userns(const struct userns_spec *s)
{
	int ready[2], mapped[2], status;
	char path[64], map[64], byte = 0;
	pid_t pid;

	if (pipe(ready) || pipe(mapped))
		return 105;
	/* Debian lets users make user namespaces; say so in case it was turned off. */
	write_text("/proc/sys/kernel/unprivileged_userns_clone", "1");
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(mapped[1]);
		if (s->owner && (setgroups(0, NULL) || setresgid(s->owner, s->owner, s->owner) ||
				 setresuid(s->owner, s->owner, s->owner)))
			_exit(106);
		if (unshare(CLONE_NEWUSER) || write(ready[1], "r", 1) != 1 ||
		    read(mapped[0], &byte, 1) != 1 || byte != 'm')
			_exit(107);
		if (setresgid(0, 0, 0) || setresuid(0, 0, 0))
			_exit(108);
		if (s->flags & CLONE_NEWPID)
			_exit(run_as_pid1(s->flags, s->fn, s->arg));
		if (s->flags && unshare(s->flags))
			_exit(109);
		_exit(s->fn(s->arg));
	}
	close(ready[1]);
	close(mapped[0]);
	if (pid < 0 || read(ready[0], &byte, 1) != 1)
		return 110;
	snprintf(map, sizeof(map), "0 %u %u\n", s->base, s->n);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	if (write_text(path, map))
		byte = 'x';
	snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
	if (write_text(path, map))
		byte = 'x';
	if (byte != 'x')
		byte = 'm';
	if (write(mapped[1], &byte, 1) != 1)
		byte = 'x';
	close(ready[0]);
	close(mapped[1]);
	if (waitpid(pid, &status, 0) != pid)
		return 111;
	return byte == 'm' ? status_of(status) : 112;
}

#endif /* KREG_TEST_CONTAINER_H */
