// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The connection to kreg.ko: one generic netlink socket, the request/ack
 * exchange, and the messages that arrive between replies (mailbox
 * deliveries and events), kept in order until the caller reads them.
 *
 * libnl builds and parses messages; send and receive are plain syscalls, so
 * that every failure keeps its errno.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "internal.h"

/* Holds the largest delivery and any dump batch the kernel builds. */
#define KREG_RECV_BUF (128 * 1024)
/*
 * The socket's receive buffer: a mailbox's capacity before senders get
 * EAGAIN. libnl would shrink it to 32 KiB; the kernel caps what is asked at
 * net.core.rmem_max.
 */
#define KREG_SOCK_RCVBUF (256 * 1024)

static struct nla_policy kreg_nla_policy[KREG_A_MAX + 1] = {
	[KREG_A_NAME]		= { .type = NLA_STRING, .maxlen = KREG_NAME_MAX + 1 },
	[KREG_A_PID]		= { .type = NLA_U32 },
	[KREG_A_UID]		= { .type = NLA_U32 },
	[KREG_A_REGISTERED_NS]	= { .type = NLA_U64 },
	[KREG_A_MAILBOX]	= { .type = NLA_FLAG },
	[KREG_A_PAYLOAD]	= { .type = NLA_UNSPEC },
	[KREG_A_SENDER_PID]	= { .type = NLA_U32 },
	[KREG_A_REASON]		= { .type = NLA_U32 },
	[KREG_A_META]		= { .type = NLA_UNSPEC, .maxlen = KREG_META_MAX },
	[KREG_A_FLAGS]		= { .type = NLA_U32 },
	[KREG_A_ENTRIES]	= { .type = NLA_U32 },
	[KREG_A_MAX_ENTRIES]	= { .type = NLA_U32 },
	[KREG_A_MAX_PER_UID]	= { .type = NLA_U32 },
	[KREG_A_UID_ENTRIES]	= { .type = NLA_U32 },
};

static void kreg_queue_init(struct kreg_queue *q)
{
	q->head = NULL;
	q->tail = &q->head;
}

static void kreg_queue_free(struct kreg_queue *q)
{
	while (q->head) {
		struct kreg_pending *p = q->head;

		q->head = p->next;
		free(p);
	}
	kreg_queue_init(q);
}

static int kreg_nlerr_to_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	default:
		return -EIO;
	}
}

static int kreg_kernel_fd(const struct kreg_conn *conn)
{
	return nl_socket_get_fd(conn->sock);
}

int kreg_set_rcvbuf(struct kreg_conn *conn, int bytes)
{
	int fd = kreg_kernel_fd(conn);

	/* Beyond rmem_max only with CAP_NET_ADMIN; otherwise up to the cap. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)))
		return -errno;
	return 0;
}

static int kreg_kernel_open(struct kreg_conn *conn)
{
	int one = 1;
	int err, fd;

	kreg_queue_init(&conn->deliveries);
	kreg_queue_init(&conn->events);
	conn->bufsize = KREG_RECV_BUF;
	conn->buf = malloc(conn->bufsize);
	conn->sock = nl_socket_alloc();
	if (!conn->buf || !conn->sock)
		return -ENOMEM;
	err = genl_connect(conn->sock);
	if (err < 0)
		return kreg_nlerr_to_errno(err);
	fd = nl_socket_get_fd(conn->sock);
	/* Error text from the kernel, and acks that do not echo a payload. */
	if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one)) ||
	    kreg_set_rcvbuf(conn, KREG_SOCK_RCVBUF))
		return -errno;
	conn->family = genl_ctrl_resolve(conn->sock, KREG_GENL_NAME);
	if (conn->family < 0)
		return conn->family == -NLE_OBJ_NOTFOUND ?
			-EPROTONOSUPPORT : kreg_nlerr_to_errno(conn->family);
	conn->events_group = genl_ctrl_resolve_grp(conn->sock, KREG_GENL_NAME,
						   KREG_MCGRP_EVENTS);
	if (conn->events_group < 0)
		return kreg_nlerr_to_errno(conn->events_group);
	return 0;
}

/* Frees what kreg_kernel_open() made, also after it failed half-way. */
static void kreg_kernel_close(struct kreg_conn *conn)
{
	if (conn->sock)
		nl_socket_free(conn->sock);
	kreg_queue_free(&conn->deliveries);
	kreg_queue_free(&conn->events);
	free(conn->buf);
}

const struct kreg_provider_ops kreg_kernel_ops = {
	.provider	= KREG_PROVIDER_KERNEL,
	.open		= kreg_kernel_open,
	.close		= kreg_kernel_close,
	.fd		= kreg_kernel_fd,
	.register_meta	= kreg_kernel_register_meta,
	.unregister	= kreg_kernel_unregister,
	.whereis_meta	= kreg_kernel_whereis_meta,
	.list		= kreg_kernel_list,
	.status		= kreg_kernel_status,
	.send		= kreg_kernel_send,
	.recv		= kreg_kernel_recv,
	.subscribe	= kreg_kernel_subscribe,
	.next_event	= kreg_kernel_next_event,
};

int kreg_parse(const struct nlmsghdr *nlh, struct nlattr **attrs)
{
	if (genlmsg_parse((struct nlmsghdr *)nlh, 0, attrs, KREG_A_MAX,
			  kreg_nla_policy) < 0)
		return -EPROTO;
	return 0;
}

int kreg_put_name(struct nl_msg *msg, const char *name)
{
	/* The kernel judges names; only keep absurd lengths off the wire. */
	if (strnlen(name, KREG_NAME_MAX + 1) > KREG_NAME_MAX)
		return -EINVAL;
	return nla_put_string(msg, KREG_A_NAME, name) < 0 ? -EMSGSIZE : 0;
}

struct nl_msg *kreg_msg_new(struct kreg_conn *conn, uint8_t cmd, size_t payload)
{
	struct nl_msg *msg;

	msg = nlmsg_alloc_size(NLMSG_HDRLEN + GENL_HDRLEN + payload + 512);
	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, conn->family, 0, 0,
			 cmd, KREG_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* Keeps an unsolicited delivery or event for kreg_recv()/kreg_next_event(). */
static void kreg_stash(struct kreg_conn *conn, const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *g = NLMSG_DATA(nlh);
	struct kreg_queue *q;
	struct kreg_pending *p;

	if (nlh->nlmsg_seq != 0 || nlh->nlmsg_type != conn->family ||
	    nlh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
		return;
	if (g->cmd == KREG_CMD_DELIVER)
		q = &conn->deliveries;
	else if (g->cmd == KREG_CMD_REGISTERED || g->cmd == KREG_CMD_UNREGISTERED)
		q = &conn->events;
	else
		return;

	p = malloc(sizeof(*p) + nlh->nlmsg_len);
	if (!p) {
		/* Out of memory: say so as a loss rather than hide it. */
		conn->events_lost = true;
		return;
	}
	p->next = NULL;
	memcpy(p->nlh, nlh, nlh->nlmsg_len);
	*q->tail = p;
	q->tail = &p->next;
}

/* One datagram into conn->buf; its length, or a negative errno. */
static int kreg_recv_buf(struct kreg_conn *conn, int flags)
{
	ssize_t n;

	for (;;) {
		n = recv(kreg_kernel_fd(conn), conn->buf, conn->bufsize, flags | MSG_TRUNC);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == ENOBUFS) {
			/* The kernel dropped multicast for us (unicast is never
			 * dropped: the sender got EAGAIN instead). */
			conn->events_lost = true;
			continue;
		}
		return -errno;
	}
	if ((size_t)n > conn->bufsize)
		return -EMSGSIZE;
	return (int)n;
}

static void kreg_take_extack(struct kreg_conn *conn, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = NLMSG_DATA(nlh);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = sizeof(*e);
	struct nlattr *msg;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (NLMSG_LENGTH(off) > nlh->nlmsg_len)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + off),
		      (int)(nlh->nlmsg_len - NLMSG_LENGTH(off)), NULL) < 0)
		return;
	msg = tb[NLMSGERR_ATTR_MSG];
	if (msg)
		snprintf(conn->error, sizeof(conn->error), "%.*s",
			 (int)strnlen(nla_data(msg), (size_t)nla_len(msg)),
			 (const char *)nla_data(msg));
}

int kreg_request(struct kreg_conn *conn, struct nl_msg *msg, enum kreg_req kind,
		 kreg_reply_fn fn, void *arg)
{
	struct nlmsghdr *req = nlmsg_hdr(msg);
	struct nlattr *attrs[KREG_A_MAX + 1];
	uint32_t seq;
	int stop = 0;
	ssize_t sent;
	int n;

	conn->error[0] = '\0';
	if (++conn->seq == 0)
		++conn->seq;	/* seq 0 marks the kernel's unsolicited messages */
	seq = conn->seq;
	req->nlmsg_seq = seq;
	req->nlmsg_pid = 0;
	req->nlmsg_flags = NLM_F_REQUEST | (kind == KREG_REQ_DUMP ? NLM_F_DUMP :
					    kind == KREG_REQ_ACK ? NLM_F_ACK : 0);
	do {
		sent = send(kreg_kernel_fd(conn), req, req->nlmsg_len, 0);
	} while (sent < 0 && errno == EINTR);
	nlmsg_free(msg);
	if (sent < 0)
		return -errno;

	for (;;) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)conn->buf;

		/*
		 * The kernel answers a request inside send(), so an answer not
		 * queued by now was dropped for want of room in this socket:
		 * say so rather than wait for ever. A dump goes on as it is
		 * read, so it is read blocking.
		 */
		n = kreg_recv_buf(conn, kind == KREG_REQ_DUMP ? 0 : MSG_DONTWAIT);
		if (n == -EAGAIN)
			return -ENOBUFS;
		if (n < 0)
			return n;
		for (; NLMSG_OK(nlh, (unsigned int)n); nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_seq != seq) {
				kreg_stash(conn, nlh);
				continue;
			}
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);

				if (e->error)
					kreg_take_extack(conn, nlh);
				return e->error ? e->error : stop;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				const int *e = NLMSG_DATA(nlh);

				return *e < 0 ? *e : stop;
			}
			if (nlh->nlmsg_type != conn->family)
				continue;
			if (!stop && fn && kreg_parse(nlh, attrs) == 0)
				stop = fn(conn, attrs, arg);
			if (kind == KREG_REQ_REPLY)
				return stop;
		}
	}
}

uint64_t kreg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t kreg_deadline(int timeout_ms)
{
	return kreg_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
}

int kreg_ms_left(uint64_t deadline, int timeout_ms)
{
	uint64_t now;

	if (timeout_ms < 0)
		return -1;
	now = kreg_now_ms();
	return now < deadline ? (int)(deadline - now) : 0;
}

int kreg_wait_pending(struct kreg_conn *conn, struct kreg_queue *queue,
		      int timeout_ms, struct kreg_pending **out)
{
	uint64_t deadline = kreg_deadline(timeout_ms);
	struct pollfd pfd = { .fd = kreg_kernel_fd(conn), .events = POLLIN };

	for (;;) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)conn->buf;
		int n, ready;

		if (queue->head) {
			*out = queue->head;
			queue->head = queue->head->next;
			if (!queue->head)
				queue->tail = &queue->head;
			return 0;
		}
		/*
		 * The kernel dropped what came after the buffer filled: report
		 * the loss once everything buffered before it has been read.
		 */
		if (queue == &conn->events && conn->events_lost &&
		    poll(&pfd, 1, 0) == 0) {
			conn->events_lost = false;
			return -ENOBUFS;
		}
		ready = poll(&pfd, 1, kreg_ms_left(deadline, timeout_ms));
		if (ready < 0 && errno != EINTR)
			return -errno;
		if (ready == 0)
			return -ETIMEDOUT;
		if (ready < 0)
			continue;
		n = kreg_recv_buf(conn, MSG_DONTWAIT);
		if (n == -EAGAIN)
			continue;
		if (n < 0)
			return n;
		for (; NLMSG_OK(nlh, (unsigned int)n); nlh = NLMSG_NEXT(nlh, n))
			kreg_stash(conn, nlh);
	}
}
