// SPDX-License-Identifier: GPL-2.0
/*
 * The hand-made alternative for sending by name: one Unix-domain datagram
 * socket per process, bound at a path that is its name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench.h"

#define UDS_DIR "/tmp/kreg-bench-uds"

struct uds_ctx {
	int fd;
	char me[64];
	unsigned char buf[65536];
};

static socklen_t uds_addr(struct sockaddr_un *sa, const char *name)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), UDS_DIR "/%s", name);
	return sizeof(*sa);
}

static int uds_bind(const char *name)
{
	struct sockaddr_un sa;
	socklen_t len = uds_addr(&sa, name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	mkdir(UDS_DIR, 0755);
	unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, len)) {
		close(fd);
		return -errno;
	}
	return fd;
}

static int u_open(void **ctx)
{
	static int n;
	struct uds_ctx *u = calloc(1, sizeof(*u));

	if (!u)
		return -ENOMEM;
	snprintf(u->me, sizeof(u->me), "client-%d-%d", (int)getpid(), n++);
	u->fd = uds_bind(u->me);
	if (u->fd < 0) {
		int err = u->fd;

		free(u);
		return err;
	}
	*ctx = u;
	return 0;
}

static void u_close(void *ctx)
{
	struct uds_ctx *u = ctx;
	struct sockaddr_un sa;

	uds_addr(&sa, u->me);
	unlink(sa.sun_path);
	close(u->fd);
	free(u);
}

static int u_send(struct uds_ctx *u, const char *name, const void *buf, size_t len)
{
	struct sockaddr_un sa;
	socklen_t alen = uds_addr(&sa, name);

	/* Blocks while the receiver's queue is full: slower, never lossy. */
	return sendto(u->fd, buf, len, 0, (struct sockaddr *)&sa, alen) < 0 ? -errno : 0;
}

static int u_call(void *ctx, const char *name, const void *buf, size_t len)
{
	struct uds_ctx *u = ctx;
	struct bench_hdr *h = (struct bench_hdr *)buf;
	int err;

	snprintf(h->reply_to, sizeof(h->reply_to), "%s", u->me);
	err = u_send(u, name, buf, len);
	if (err)
		return err;
	return recv(u->fd, u->buf, sizeof(u->buf), 0) < 0 ? -errno : 0;
}

static int u_cast(void *ctx, const char *name, const void *buf, size_t len)
{
	((struct bench_hdr *)buf)->reply_to[0] = '\0';
	return u_send(ctx, name, buf, len);
}

static void u_serve(const char *name, int ready_fd)
{
	static unsigned char buf[65536];
	struct sockaddr_un from;
	socklen_t flen;
	ssize_t n;
	int fd = uds_bind(name);

	if (fd < 0 || write(ready_fd, "r", 1) != 1)
		_exit(1);
	for (;;) {
		flen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		if (n < (ssize_t)sizeof(struct bench_hdr) || !((struct bench_hdr *)buf)->reply_to[0])
			continue;
		sendto(fd, buf, n, 0, (struct sockaddr *)&from, flen);
	}
}

const struct peer peer_uds = {
	.name = "unix-dgram",
	.open = u_open, .close = u_close,
	.serve = u_serve, .call = u_call, .cast = u_cast,
};
