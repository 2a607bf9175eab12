// SPDX-License-Identifier: GPL-2.0
/*
 * The floor under every netlink lookup: a bare generic netlink round trip
 * to the kreg family, a request the family answers at once with an error
 * (a command it does not have). No registry work, only the syscalls, the
 * genetlink dispatch and one reply.
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bench.h"
#include "kreg.h"

struct genl_ctx {
	struct nl_sock *sk;
	int family;
	uint32_t seq;
};

static int g_open(void **ctx)
{
	struct genl_ctx *g = calloc(1, sizeof(*g));

	if (!g)
		return -ENOMEM;
	g->sk = nl_socket_alloc();
	if (!g->sk || genl_connect(g->sk) ||
	    (g->family = genl_ctrl_resolve(g->sk, KREG_GENL_NAME)) < 0) {
		if (g->sk)
			nl_socket_free(g->sk);
		free(g);
		return -EPROTONOSUPPORT;
	}
	*ctx = g;
	return 0;
}

static void g_close(void *ctx)
{
	struct genl_ctx *g = ctx;

	nl_socket_free(g->sk);
	free(g);
}

static int g_round_trip(void *ctx)
{
	struct genl_ctx *g = ctx;
	struct {
		struct nlmsghdr nlh;
		struct genlmsghdr genl;
	} req = {
		.nlh = { .nlmsg_len = sizeof(req), .nlmsg_type = (uint16_t)g->family,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = ++g->seq },
		.genl = { .cmd = 0, .version = KREG_GENL_VERSION },
	};
	char buf[256];
	int fd = nl_socket_get_fd(g->sk);
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;

	if (send(fd, &req, sizeof(req), 0) != sizeof(req))
		return -errno;
	if (recv(fd, buf, sizeof(buf), 0) < (ssize_t)sizeof(*nlh))
		return -EIO;
	/* The answer is the error: anything else is not the floor. */
	return nlh->nlmsg_type == NLMSG_ERROR ? 0 : -EPROTO;
}

const struct peer peer_genl = {
	.name = "genetlink",
	.open = g_open, .close = g_close, .round_trip = g_round_trip,
};
