// SPDX-License-Identifier: GPL-2.0
/*
 * kreg through libkreg: the module's table and its mailboxes ("kreg"), and
 * the same code on the local provider ("local"), whose holders and servers
 * are threads of the benchmark's own process.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "kreg.h"

struct kreg_ctx {
	struct kreg_conn *c;
	char me[64];			/* this client's reply name */
	bool have_me;
	struct kreg_message msg;
};

static int k_open(enum kreg_provider provider, void **ctx)
{
	static __thread int n;
	struct kreg_ctx *k = calloc(1, sizeof(*k));
	int err;

	if (!k)
		return -ENOMEM;
	err = kreg_open_provider(&k->c, provider);
	if (err) {
		free(k);
		return err;
	}
	snprintf(k->me, sizeof(k->me), "bench-reply-%d-%d", (int)getpid(), n++);
	*ctx = k;
	return 0;
}

static int k_open_kernel(void **ctx)
{
	return k_open(KREG_PROVIDER_KERNEL, ctx);
}

/* Every lookup through netlink: the view is off for this handle. */
static int k_open_netlink(void **ctx)
{
	int err;

	setenv("KREG_VIEW", "off", 1);
	err = k_open(KREG_PROVIDER_KERNEL, ctx);
	unsetenv("KREG_VIEW");
	return err;
}

static int k_open_local(void **ctx)
{
	return k_open(KREG_PROVIDER_LOCAL, ctx);
}

static void k_close(void *ctx)
{
	struct kreg_ctx *k = ctx;

	kreg_close(k->c);
	free(k);
}

static int k_hold(void *ctx, const char *name)
{
	return kreg_register(((struct kreg_ctx *)ctx)->c, name, 0, NULL);
}

static int k_whereis(void *ctx, const char *name, pid_t *pid)
{
	int ret = kreg_whereis_name(((struct kreg_ctx *)ctx)->c, name, pid);

	return ret == KREG_UNDEFINED ? -ENOENT : ret;
}

static int k_reg(void *ctx, const char *name)
{
	return kreg_register(((struct kreg_ctx *)ctx)->c, name, 0, NULL);
}

static int k_unreg(void *ctx, const char *name)
{
	return kreg_unregister(((struct kreg_ctx *)ctx)->c, name);
}

static void k_serve(enum kreg_provider provider, const char *name, int ready_fd)
{
	static __thread struct kreg_message m;
	struct kreg_conn *c;
	int err;

	if (kreg_open_provider(&c, provider) || kreg_register(c, name, 0, NULL) ||
	    write(ready_fd, "r", 1) != 1)
		_exit(1);
	for (;;) {
		struct bench_hdr *h = (struct bench_hdr *)m.data;

		if (kreg_recv(c, &m, -1))
			continue;
		if (m.len < sizeof(*h) || !h->reply_to[0])
			continue;	/* a cast */
		do {
			err = kreg_send(c, h->reply_to, m.data, m.len);
		} while (err == -EAGAIN);
	}
}

static void k_serve_kernel(const char *name, int ready_fd)
{
	k_serve(KREG_PROVIDER_KERNEL, name, ready_fd);
}

static void k_serve_local(const char *name, int ready_fd)
{
	k_serve(KREG_PROVIDER_LOCAL, name, ready_fd);
}

/* Sends, retrying while the mailbox is full: nothing is dropped, it waits. */
static int k_send(struct kreg_ctx *k, const char *name, const void *buf, size_t len)
{
	int err;

	while ((err = kreg_send(k->c, name, buf, len)) == -EAGAIN)
		usleep(20);
	return err;
}

static int k_call(void *ctx, const char *name, const void *buf, size_t len)
{
	struct kreg_ctx *k = ctx;
	struct bench_hdr *h = (struct bench_hdr *)buf;
	int err;

	if (!k->have_me) {
		err = kreg_register(k->c, k->me, 0, NULL);
		if (err)
			return err;
		k->have_me = true;
	}
	snprintf(h->reply_to, sizeof(h->reply_to), "%s", k->me);
	err = k_send(k, name, buf, len);
	if (err)
		return err;
	return kreg_recv(k->c, &k->msg, 5000);
}

static int k_cast(void *ctx, const char *name, const void *buf, size_t len)
{
	struct bench_hdr *h = (struct bench_hdr *)buf;

	h->reply_to[0] = '\0';
	return k_send(ctx, name, buf, len);
}

const struct peer peer_kreg = {
	.name = "kreg",
	.open = k_open_kernel, .close = k_close, .hold = k_hold,
	.whereis = k_whereis, .reg = k_reg, .unreg = k_unreg,
	.serve = k_serve_kernel, .call = k_call, .cast = k_cast,
};

const struct peer peer_local = {
	.name = "local",
	.threads = true,
	.open = k_open_local, .close = k_close, .hold = k_hold,
	.whereis = k_whereis, .reg = k_reg, .unreg = k_unreg,
	.serve = k_serve_local, .call = k_call, .cast = k_cast,
};

const struct peer peer_kreg_netlink = {
	.name = "kreg-nl",
	.open = k_open_netlink, .close = k_close, .hold = k_hold,
	.whereis = k_whereis,
};

/* The local provider's lookups only: the in-process figure, in the same run. */
const struct peer peer_local_lookup = {
	.name = "local",
	.threads = true,
	.open = k_open_local, .close = k_close, .hold = k_hold,
	.whereis = k_whereis,
};
