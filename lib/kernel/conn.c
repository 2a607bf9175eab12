// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The connection to kreg.ko: generic netlink sockets, the request/ack
 * exchange, and the messages that arrive between replies (mailbox
 * deliveries and events), kept in order until the caller reads them.
 *
 * A handle has up to two sockets, so that mail never shares a buffer with
 * the replies to the handle's own requests:
 *  - the request socket: every request but REGISTER, its reply, and the
 *    events once subscribed (kreg.ko keeps room for replies among events);
 *  - the mailbox socket, opened by the first REGISTER, which goes through
 *    it, since the socket that registers a name is its mailbox.
 * kreg_fd() is an epoll descriptor over both.
 *
 * libnl builds and parses messages; send and receive are plain syscalls, so
 * that every failure keeps its errno.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "kernel.h"

/* Holds the largest delivery and any dump batch the kernel builds. */
#define KREG_RECV_BUF (128 * 1024)
/*
 * A socket's receive buffer: for the mailbox, its capacity before senders
 * get EAGAIN. libnl would shrink it to 32 KiB; the kernel caps what is
 * asked at net.core.rmem_max.
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
	[KREG_A_SENDER_UID]	= { .type = NLA_U32 },
	[KREG_A_SENDER_GID]	= { .type = NLA_U32 },
	[KREG_A_SENDER_CGROUP]	= { .type = NLA_U64 },
	[KREG_A_RULE]		= { .type = NLA_NESTED },
	[KREG_A_POLICY_RULES]	= { .type = NLA_U32 },
	[KREG_A_VERDICT]	= { .type = NLA_U32 },
	[KREG_A_DECIDED_BY]	= { .type = NLA_U32 },
	[KREG_A_FROM_NAME]	= { .type = NLA_STRING, .maxlen = KREG_NAME_MAX + 1 },
	[KREG_A_SENDER_FLAGS]	= { .type = NLA_U32 },
	[KREG_A_MAX_SUBSCRIPTIONS] = { .type = NLA_U32 },
	[KREG_A_UID_SUBSCRIPTIONS] = { .type = NLA_U32 },
	[KREG_A_HOST_UID]	= { .type = NLA_U32 },
	[KREG_A_NODE]		= { .type = NLA_STRING, .maxlen = KREG_NODE_MAX + 1 },
	[KREG_A_TOKEN]		= { .type = NLA_U64 },
	[KREG_A_REMOTE_PID]	= { .type = NLA_U32 },
	[KREG_A_REVISION]	= { .type = NLA_U64 },
	[KREG_A_HEARD_NS]	= { .type = NLA_U64 },
	[KREG_A_DEADLINE_NS]	= { .type = NLA_U64 },
	[KREG_A_REMOTE_UID]	= { .type = NLA_U32 },
	[KREG_A_REMOTE_GID]	= { .type = NLA_U32 },
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

int kreg_kernel_fd(const struct kreg_conn *conn)
{
	return conn->epfd;
}

static int kreg_request_fd(const struct kreg_conn *conn)
{
	return nl_socket_get_fd(conn->sock);
}

static int kreg_mailbox_fd(const struct kreg_conn *conn)
{
	return conn->mbox ? nl_socket_get_fd(conn->mbox) : -1;
}

int kreg_set_rcvbuf(struct kreg_conn *conn, int bytes)
{
	int fd = kreg_request_fd(conn);

	/* Beyond rmem_max only with CAP_NET_ADMIN; otherwise up to the cap. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)))
		return -errno;
	return 0;
}

/* A generic netlink socket that reports errors with their text. */
static int kreg_socket_open(struct nl_sock **out)
{
	struct nl_sock *sock = nl_socket_alloc();
	int one = 1, bytes = KREG_SOCK_RCVBUF;
	int err, fd;

	if (!sock)
		return -ENOMEM;
	errno = 0;
	err = genl_connect(sock);
	if (err < 0) {
		/* The system's own reason (libnl folds most into NLE_FAILURE). */
		int sys = errno;

		nl_socket_free(sock);
		return sys ? -sys : kreg_nlerr_to_errno(err);
	}
	fd = nl_socket_get_fd(sock);
	/* Error text from the kernel, and acks that do not echo a payload. */
	if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one)) ||
	    (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) &&
	     setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)))) {
		err = -errno;
		nl_socket_free(sock);
		return err;
	}
	*out = sock;
	return 0;
}

static int kreg_watch(struct kreg_conn *conn, struct nl_sock *sock)
{
	struct epoll_event ev = { .events = EPOLLIN };

	ev.data.fd = nl_socket_get_fd(sock);
	return epoll_ctl(conn->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) ? -errno : 0;
}

/*
 * The family's id and version, in one request: a module older than this
 * library is refused, rather than misunderstood.
 */
static int kreg_resolve_family(struct kreg_conn *conn)
{
	static struct nla_policy ctrl_policy[CTRL_ATTR_MAX + 1] = {
		[CTRL_ATTR_FAMILY_ID]	= { .type = NLA_U16 },
		[CTRL_ATTR_VERSION]	= { .type = NLA_U32 },
	};
	struct nlattr *tb[CTRL_ATTR_MAX + 1];
	struct nlmsghdr *nlh = (struct nlmsghdr *)conn->buf;
	struct nl_msg *msg = nlmsg_alloc();
	uint32_t version;
	ssize_t n;

	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, 1, GENL_ID_CTRL, 0, NLM_F_REQUEST,
			 CTRL_CMD_GETFAMILY, 1) ||
	    nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, KREG_GENL_NAME) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nlmsg_hdr(msg)->nlmsg_pid = 0;
	do {
		n = send(kreg_request_fd(conn), nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len, 0);
	} while (n < 0 && errno == EINTR);
	nlmsg_free(msg);
	if (n < 0)
		return -errno;
	/* Answered inside send(), as every request is: never wait for it. */
	do {
		n = recv(kreg_request_fd(conn), conn->buf, conn->bufsize, MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? -ENOBUFS : -errno;
	if (!NLMSG_OK(nlh, (unsigned int)n))
		return -EPROTO;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nlh);

		/* No such family: the module is not loaded. */
		return e->error == -ENOENT ? -EPROTONOSUPPORT : e->error ? e->error : -EPROTO;
	}
	if (genlmsg_parse(nlh, 0, tb, CTRL_ATTR_MAX, ctrl_policy) < 0 ||
	    !tb[CTRL_ATTR_FAMILY_ID] || !tb[CTRL_ATTR_VERSION])
		return -EPROTO;
	conn->family = nla_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	version = nla_get_u32(tb[CTRL_ATTR_VERSION]);
	return version < KREG_GENL_VERSION ? -EPROTO : 0;
}

static int kreg_kernel_open(struct kreg_conn *conn)
{
	int err;

	kreg_queue_init(&conn->deliveries);
	kreg_queue_init(&conn->events);
	kreg_view_open(conn);
	conn->epfd = -1;
	conn->bufsize = KREG_RECV_BUF;
	conn->buf = malloc(conn->bufsize);
	if (!conn->buf)
		return -ENOMEM;
	err = kreg_socket_open(&conn->sock);
	if (err)
		return err;
	conn->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (conn->epfd < 0)
		return -errno;
	err = kreg_watch(conn, conn->sock);
	return err ? err : kreg_resolve_family(conn);
}

/* Frees what kreg_kernel_open() made, also after it failed half-way. */
static void kreg_kernel_close(struct kreg_conn *conn)
{
	if (conn->sock)
		nl_socket_free(conn->sock);
	if (conn->mbox)
		nl_socket_free(conn->mbox);
	if (conn->epfd >= 0)
		close(conn->epfd);
	kreg_queue_free(&conn->deliveries);
	kreg_queue_free(&conn->events);
	kreg_view_close(conn);
	free(conn->buf);
}

int kreg_open_mailbox(struct kreg_conn *conn)
{
	int err;

	if (conn->mbox)
		return 0;
	err = kreg_socket_open(&conn->mbox);
	if (!err) {
		err = kreg_watch(conn, conn->mbox);
		if (err) {
			nl_socket_free(conn->mbox);
			conn->mbox = NULL;
		}
	}
	if (err)
		kreg_set_error(conn, "could not open the mailbox socket: %s", strerror(-err));
	return err;
}

const struct kreg_provider_ops kreg_kernel_ops = {
	.provider	= KREG_PROVIDER_KERNEL,
	.open		= kreg_kernel_open,
	.close		= kreg_kernel_close,
	.fd		= kreg_kernel_fd,
	.register_meta	= kreg_kernel_register_meta,
	.unregister	= kreg_kernel_unregister,
	.update_meta	= kreg_kernel_update_meta,
	.whereis	= kreg_kernel_whereis,
	.list		= kreg_kernel_list,
	.status		= kreg_kernel_status,
	.send		= kreg_kernel_send,
	.send_fenced	= kreg_kernel_send_fenced,
	.recv		= kreg_kernel_recv,
	.subscribe	= kreg_kernel_subscribe,
	.next_event	= kreg_kernel_next_event,
	.owner_uid	= kreg_kernel_owner_uid,
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
	else if (g->cmd == KREG_CMD_REGISTERED || g->cmd == KREG_CMD_UNREGISTERED ||
		 g->cmd == KREG_CMD_UPDATED)
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

/* One datagram from @fd into conn->buf; its length, or a negative errno. */
static int kreg_recv_buf(struct kreg_conn *conn, int fd, int flags)
{
	ssize_t n;

	for (;;) {
		n = recv(fd, conn->buf, conn->bufsize, flags | MSG_TRUNC);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == ENOBUFS) {
			/* Events were dropped for us (mail never is: its
			 * sender got EAGAIN instead). */
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
	if (tb[NLMSGERR_ATTR_OFFS])
		conn->error_offset = (long)nla_get_u32(tb[NLMSGERR_ATTR_OFFS]);
}

/*
 * Sends @req through @fd and reads its answer: each reply message goes to
 * @raw as it came, or parsed to @fn; the rest is kept for later (mail,
 * events) or skipped.
 */
static int kreg_exchange(struct kreg_conn *conn, int fd, struct nlmsghdr *req,
			 enum kreg_req kind, kreg_raw_fn raw, kreg_reply_fn fn, void *arg)
{
	struct nlattr *attrs[KREG_A_MAX + 1];
	bool interrupted = false;
	uint32_t seq;
	int stop = 0;
	ssize_t sent;
	int n;

	conn->error[0] = '\0';
	conn->error_offset = -1;
	if (++conn->seq == 0)
		++conn->seq;	/* seq 0 marks the kernel's unsolicited messages */
	seq = conn->seq;
	req->nlmsg_seq = seq;
	req->nlmsg_pid = 0;
	req->nlmsg_flags = NLM_F_REQUEST | (kind == KREG_REQ_DUMP ? NLM_F_DUMP :
					    kind == KREG_REQ_ACK ? NLM_F_ACK : 0);
	do {
		sent = send(fd, req, req->nlmsg_len, 0);
	} while (sent < 0 && errno == EINTR);
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
		n = kreg_recv_buf(conn, fd, kind == KREG_REQ_DUMP ? 0 : MSG_DONTWAIT);
		if (n == -EAGAIN)
			return -ENOBUFS;
		if (n < 0)
			return n;
		for (; NLMSG_OK(nlh, (unsigned int)n); nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_seq != seq) {
				kreg_stash(conn, nlh);
				continue;
			}
			/* The table changed while the dump went on. */
			interrupted |= !!(nlh->nlmsg_flags & NLM_F_DUMP_INTR);
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);

				if (e->error)
					kreg_take_extack(conn, nlh);
				return e->error ? e->error : stop;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				const int *e = NLMSG_DATA(nlh);

				if (*e < 0)
					return *e;
				return stop ? stop : interrupted ? -EINTR : 0;
			}
			if (nlh->nlmsg_type != conn->family)
				continue;
			if (!stop && raw)
				stop = raw(conn, nlh, arg);
			else if (!stop && fn && kreg_parse(nlh, attrs) == 0)
				stop = fn(conn, attrs, arg);
			if (kind == KREG_REQ_REPLY)
				return stop;
		}
	}
}

int kreg_request_on(struct kreg_conn *conn, bool via_mailbox, struct nl_msg *msg,
		    enum kreg_req kind, kreg_reply_fn fn, void *arg)
{
	int fd = via_mailbox ? kreg_mailbox_fd(conn) : kreg_request_fd(conn);
	int err = kreg_exchange(conn, fd, nlmsg_hdr(msg), kind, NULL, fn, arg);

	nlmsg_free(msg);
	return err;
}

int kreg_request_raw(struct kreg_conn *conn, struct nlmsghdr *req, enum kreg_req kind,
		     kreg_raw_fn fn, void *arg)
{
	return kreg_exchange(conn, kreg_request_fd(conn), req, kind, fn, NULL, arg);
}

int kreg_request(struct kreg_conn *conn, struct nl_msg *msg, enum kreg_req kind,
		 kreg_reply_fn fn, void *arg)
{
	return kreg_request_on(conn, false, msg, kind, fn, arg);
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
	/* Mail comes on the mailbox socket (none yet: nothing can come). */
	int fd = queue == &conn->deliveries ? kreg_mailbox_fd(conn) : kreg_request_fd(conn);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

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
		ready = poll(&pfd, fd >= 0, kreg_ms_left(deadline, timeout_ms));
		if (ready < 0 && errno != EINTR)
			return -errno;
		if (ready == 0)
			return -ETIMEDOUT;
		if (ready < 0)
			continue;
		n = kreg_recv_buf(conn, fd, MSG_DONTWAIT);
		if (n == -EAGAIN)
			continue;
		if (n < 0)
			return n;
		for (; NLMSG_OK(nlh, (unsigned int)n); nlh = NLMSG_NEXT(nlh, n))
			kreg_stash(conn, nlh);
	}
}
