// SPDX-License-Identifier: GPL-2.0
/*
 * Pidfiles, done carefully: O_EXCL + flock to register, read + kill(pid, 0)
 * to look up. (A stale pidfile of a dead process stays until someone
 * notices: kill(pid, 0) cannot tell a recycled pid from the holder.)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

/*
 * One directory per run, named by the first process that opens the peer
 * (holders are forked after it and inherit the name): a killed run's stale
 * pidfiles cannot fail the next one.
 */
static char pidfile_dir[64];

struct pidfile_ctx {
	int held_fd;		/* the file this process holds (one at a time) */
};

static void pidfile_path(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s.pid", pidfile_dir, name);
}

static int p_open(void **ctx)
{
	struct pidfile_ctx *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->held_fd = -1;
	if (!pidfile_dir[0])
		snprintf(pidfile_dir, sizeof(pidfile_dir), "/tmp/kreg-bench-pidfiles.%d",
			 (int)getpid());
	mkdir(pidfile_dir, 0755);
	*ctx = p;
	return 0;
}

static void p_close(void *ctx)
{
	free(ctx);
}

static int p_reg(void *ctx, const char *name)
{
	struct pidfile_ctx *p = ctx;
	char path[256], buf[16];
	int fd, n;

	pidfile_path(path, sizeof(path), name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		close(fd);
		return -EEXIST;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, n) != n) {
		unlink(path);
		close(fd);
		return -EIO;
	}
	p->held_fd = fd;
	return 0;
}

static int p_unreg(void *ctx, const char *name)
{
	struct pidfile_ctx *p = ctx;
	char path[256];

	pidfile_path(path, sizeof(path), name);
	if (unlink(path))
		return -errno;
	close(p->held_fd);
	p->held_fd = -1;
	return 0;
}

static int p_whereis(void *ctx, const char *name, pid_t *pid)
{
	char path[256], buf[16] = "";
	ssize_t n;
	int fd;

	(void)ctx;
	pidfile_path(path, sizeof(path), name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ENOENT;
	*pid = (pid_t)strtol(buf, NULL, 10);
	return *pid > 0 && kill(*pid, 0) == 0 ? 0 : -ENOENT;
}

const struct peer peer_pidfile = {
	.name = "pidfile",
	.open = p_open, .close = p_close, .hold = p_reg,
	.whereis = p_whereis, .reg = p_reg, .unreg = p_unreg,
};
