// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Speaking to kregd: one SOCK_SEQPACKET connection per handle, made on
 * first use and again in a forked child (a shared socket would hand one
 * process's answers to the other). The kernel attaches each request's
 * credentials (kregd sets SO_PASSCRED), so nothing here proves who asks.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "cluster.h"

static int kreg_kregd_connect(struct kreg_conn *conn)
{
	struct kreg_cluster *c = conn->cluster;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	/* Where kregd listens (kregd -c, socket = ...); for tests and odd setups. */
	const char *path = secure_getenv("KREGD_SOCKET");
	int fd;

	if (c->fd >= 0 && c->owner == getpid())
		return 0;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path && *path ? path : KREGD_SOCKET);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		kreg_set_error(conn, "kregd is not running (no %s): start kregd.service",
			       sa.sun_path);
		return -ENOTCONN;
	}
	c->fd = fd;
	c->owner = getpid();
	return 0;
}

void kreg_kregd_close(struct kreg_conn *conn)
{
	if (conn->cluster && conn->cluster->fd >= 0)
		close(conn->cluster->fd);
}

/* Sends @req and its payload, on a new connection if kregd restarted since the last. */
static int kreg_kregd_send(struct kreg_conn *conn, struct kregd_request *req,
			   const void *payload)
{
	struct kreg_cluster *c = conn->cluster;
	struct iovec iov[2] = {
		{ req, sizeof(*req) }, { (void *)payload, req->payload_len },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = req->payload_len ? 2 : 1 };
	ssize_t want = (ssize_t)(sizeof(*req) + req->payload_len);
	int err, tries;

	for (tries = 0; tries < 2; tries++) {
		err = kreg_kregd_connect(conn);
		if (err)
			return err;
		if (sendmsg(c->fd, &msg, MSG_NOSIGNAL) == want)
			return 0;
		/* Never received: safe to send again, to whoever listens now. */
		err = -errno;
		close(c->fd);
		c->fd = -1;
	}
	kreg_set_error(conn, "kregd went away: %s", strerror(-err));
	return -ENOTCONN;
}

int kreg_kregd_ask(struct kreg_conn *conn, struct kregd_request *req,
		   struct kregd_reply *reply, int timeout_ms)
{
	req->payload_len = 0;
	return kreg_kregd_ask_payload(conn, req, NULL, reply, timeout_ms);
}

int kreg_kregd_ask_payload(struct kreg_conn *conn, struct kregd_request *req,
			   const void *payload, struct kregd_reply *reply, int timeout_ms)
{
	struct kreg_cluster *c = conn->cluster;
	uint64_t deadline = kreg_deadline(timeout_ms);
	bool resent = false;
	struct pollfd pfd;
	ssize_t n;
	int err;

	req->version = KREGD_PROTO_VERSION;
	req->seq = ++c->seq;
	req->epoch = c->epoch;
	err = kreg_kregd_send(conn, req, payload);
	if (err)
		return err;
	pfd.fd = c->fd;
	pfd.events = POLLIN;
	for (;;) {
		int left = kreg_ms_left(deadline, timeout_ms), ready;

		ready = poll(&pfd, 1, left);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0) {
			err = -errno;
			kreg_set_error(conn, "poll: %s", strerror(-err));
			return err;
		}
		if (ready == 0) {
			kreg_set_error(conn, "kregd did not answer in time");
			return -ETIMEDOUT;
		}
		n = recv(c->fd, reply, sizeof(*reply), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			close(c->fd);
			c->fd = -1;
			/*
			 * kregd restarted under the request. Asked again of the new
			 * one, unless it was a claim, which the old one may have
			 * made, or a message, which the old one may have sent
			 * (never twice): its caller sees the error and decides.
			 */
			if (resent || req->op == KREGD_CLAIM || req->op == KREGD_SEND ||
			    kreg_kregd_send(conn, req, payload)) {
				kreg_set_error(conn, "kregd went away");
				return -ENOTCONN;
			}
			resent = true;
			pfd.fd = c->fd;
			continue;
		}
		/* An answer to a request given up on earlier: not this one's. */
		if (n >= (ssize_t)kregd_reply_len(0) && reply->seq == req->seq) {
			/* A reply is as long as its request needs: the rest reads as zero. */
			memset((char *)reply + n, 0, sizeof(*reply) - (size_t)n);
			break;
		}
	}
	if (reply->version != KREGD_PROTO_VERSION) {
		kreg_set_error(conn, "kregd speaks another protocol: libkreg and kregd must match");
		return -EPROTO;
	}
	reply->message[sizeof(reply->message) - 1] = '\0';
	if (reply->err)
		kreg_set_error(conn, "%s", reply->message[0] ? reply->message :
			       kreg_strerror(reply->err));
	return reply->err;
}
