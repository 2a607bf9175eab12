/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A generic netlink client of the kreg family with no libkreg in it: plain
 * sockets and hand-built messages, as an attacker would write them, so that
 * what the tests prove is the kernel's doing, not the library's.
 */
#ifndef KREG_TEST_RAW_NL_H
#define KREG_TEST_RAW_NL_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/kreg.h>
#include <linux/netlink.h>

#define RAW_NL_BUF	(KREG_PAYLOAD_MAX + 4096)

struct raw_nl {
	int fd;
	uint16_t family;
	uint32_t seq;
};

struct raw_msg {
	union {
		struct nlmsghdr nlh;
		char buf[RAW_NL_BUF];
	};
};

static inline struct nlattr *raw_tail(struct raw_msg *m)
{
	return (struct nlattr *)(m->buf + NLMSG_ALIGN(m->nlh.nlmsg_len));
}

static inline void raw_put(struct raw_msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = raw_tail(m);

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	m->nlh.nlmsg_len = NLMSG_ALIGN(m->nlh.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

/* Opens a nested attribute: what is put until raw_nest_end() goes inside it. */
static inline struct nlattr *raw_nest_start(struct raw_msg *m, uint16_t type)
{
	struct nlattr *a = raw_tail(m);

	a->nla_type = type | NLA_F_NESTED;
	a->nla_len = NLA_HDRLEN;
	m->nlh.nlmsg_len = NLMSG_ALIGN(m->nlh.nlmsg_len) + NLA_HDRLEN;
	return a;
}

static inline void raw_nest_end(struct raw_msg *m, struct nlattr *a)
{
	a->nla_len = (uint16_t)(m->buf + m->nlh.nlmsg_len - (char *)a);
}

static inline void raw_put_str(struct raw_msg *m, uint16_t type, const char *s)
{
	raw_put(m, type, s, strlen(s) + 1);
}

static inline void raw_put_u32(struct raw_msg *m, uint16_t type, uint32_t v)
{
	raw_put(m, type, &v, sizeof(v));
}

static inline void raw_put_u64(struct raw_msg *m, uint16_t type, uint64_t v)
{
	raw_put(m, type, &v, sizeof(v));
}

static inline void raw_msg_init(struct raw_msg *m, struct raw_nl *n, uint16_t type,
				uint8_t cmd, uint8_t version)
{
	struct genlmsghdr *g;

	memset(&m->nlh, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	m->nlh.nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN;
	m->nlh.nlmsg_type = type;
	m->nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	m->nlh.nlmsg_seq = ++n->seq;
	g = NLMSG_DATA(&m->nlh);
	g->cmd = cmd;
	g->version = version;
}

/* A kreg request of @cmd, to be filled with raw_put*() and sent. */
static inline void raw_kreg_msg(struct raw_msg *m, struct raw_nl *n, uint8_t cmd)
{
	raw_msg_init(m, n, n->family, cmd, KREG_GENL_VERSION);
}

/* The attribute @type of a generic netlink message, or NULL. */
static inline const struct nlattr *raw_attr(const struct nlmsghdr *nlh, uint16_t type)
{
	const char *p = (const char *)NLMSG_DATA(nlh) + GENL_HDRLEN;
	const char *end = (const char *)nlh + nlh->nlmsg_len;

	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const struct nlattr *)p;

		if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end)
			return NULL;
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
		p += NLA_ALIGN(a->nla_len);
	}
	return NULL;
}

static inline const void *raw_attr_data(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

static inline uint32_t raw_attr_u32(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *a = raw_attr(nlh, type);
	uint32_t v = 0;

	if (a)
		memcpy(&v, raw_attr_data(a), sizeof(v));
	return v;
}

static inline uint64_t raw_attr_u64(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *a = raw_attr(nlh, type);
	uint64_t v = 0;

	if (a)
		memcpy(&v, raw_attr_data(a), sizeof(v));
	return v;
}

static inline const char *raw_attr_str(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *a = raw_attr(nlh, type);

	return a ? raw_attr_data(a) : "";
}

static inline uint8_t raw_cmd(const struct nlmsghdr *nlh)
{
	return ((const struct genlmsghdr *)NLMSG_DATA(nlh))->cmd;
}

static inline int raw_send(struct raw_nl *n, const struct raw_msg *m)
{
	return send(n->fd, m->buf, m->nlh.nlmsg_len, 0) < 0 ? -errno : 0;
}

/* One datagram into @buf within @timeout_ms: its length, or a negative errno. */
static inline ssize_t raw_recv(struct raw_nl *n, void *buf, size_t size, int timeout_ms)
{
	struct pollfd pfd = { .fd = n->fd, .events = POLLIN };
	ssize_t len;

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return -ETIMEDOUT;
	len = recv(n->fd, buf, size, 0);
	return len < 0 ? -errno : len;
}

/*
 * Sends @m and reads until its ack: 0 or the negative errno the kernel
 * answered. The first reply of the request's own (not an event or mail) is
 * copied to @reply if given. Other messages met on the way are skipped.
 */
static inline int raw_request(struct raw_nl *n, const struct raw_msg *m,
			      struct raw_msg *reply)
{
	static char buf[RAW_NL_BUF];
	uint32_t seq = m->nlh.nlmsg_seq;
	int err = raw_send(n, m), got = 0;

	while (!err) {
		ssize_t len = raw_recv(n, buf, sizeof(buf), 5000);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;

		if (len < 0)
			return (int)len;
		for (; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR)
				return ((const struct nlmsgerr *)NLMSG_DATA(nlh))->error;
			if (reply && !got++)
				memcpy(reply->buf, nlh, nlh->nlmsg_len < sizeof(reply->buf) ?
				       nlh->nlmsg_len : sizeof(reply->buf));
		}
	}
	return err;
}

/*
 * Sends the dump request @m and reads it to its end: the number of entries
 * it gave, or the negative errno the kernel ended it with.
 */
static inline int raw_dump(struct raw_nl *n, const struct raw_msg *m)
{
	static char buf[RAW_NL_BUF];
	uint32_t seq = m->nlh.nlmsg_seq;
	int err = raw_send(n, m), entries = 0;

	while (!err) {
		ssize_t len = raw_recv(n, buf, sizeof(buf), 5000);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;

		if (len < 0)
			return (int)len;
		for (; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR)
				return ((const struct nlmsgerr *)NLMSG_DATA(nlh))->error;
			if (nlh->nlmsg_type == NLMSG_DONE) {
				int done = 0;

				memcpy(&done, NLMSG_DATA(nlh), sizeof(done));
				return done < 0 ? done : entries;
			}
			entries++;
		}
	}
	return err;
}

static inline void raw_nl_close(struct raw_nl *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}

/* A generic netlink socket on the kreg family: 0 or a negative errno. */
static inline int raw_nl_open(struct raw_nl *n)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct raw_msg m, reply;
	int bytes = 1 << 20, err;

	n->seq = 0;
	n->family = 0;
	n->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (n->fd < 0)
		return -errno;
	setsockopt(n->fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
	if (bind(n->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		raw_nl_close(n);
		return err;
	}
	raw_msg_init(&m, n, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
	raw_put_str(&m, CTRL_ATTR_FAMILY_NAME, KREG_GENL_NAME);
	reply.nlh.nlmsg_len = 0;
	err = raw_request(n, &m, &reply);
	if (!err && reply.nlh.nlmsg_len) {
		const struct nlattr *a = raw_attr(&reply.nlh, CTRL_ATTR_FAMILY_ID);

		if (a)
			memcpy(&n->family, raw_attr_data(a), sizeof(n->family));
	}
	if (!err && !n->family)
		err = -EPROTONOSUPPORT;
	if (err)
		raw_nl_close(n);
	return err;
}

/* Convenience requests, each one message. */
static inline int raw_name_request(struct raw_nl *n, uint8_t cmd, const char *name,
				   struct raw_msg *reply)
{
	static struct raw_msg m;

	raw_kreg_msg(&m, n, cmd);
	raw_put_str(&m, KREG_A_NAME, name);
	return raw_request(n, &m, reply);
}

static inline int raw_nl_register(struct raw_nl *n, const char *name)
{
	return raw_name_request(n, KREG_CMD_REGISTER, name, NULL);
}

/* REGISTER with KREG_F_* @flags (KREG_F_MAILBOX_BOUND: a reply address). */
static inline int raw_nl_register_flags(struct raw_nl *n, const char *name, uint32_t flags)
{
	static struct raw_msg m;

	raw_kreg_msg(&m, n, KREG_CMD_REGISTER);
	raw_put_str(&m, KREG_A_NAME, name);
	raw_put_u32(&m, KREG_A_FLAGS, flags);
	return raw_request(n, &m, NULL);
}

/* STATUS, its reply in @reply. */
static inline int raw_nl_status(struct raw_nl *n, struct raw_msg *reply)
{
	static struct raw_msg m;

	raw_kreg_msg(&m, n, KREG_CMD_STATUS);
	reply->nlh.nlmsg_len = 0;
	return raw_request(n, &m, reply);
}

static inline int raw_nl_unregister(struct raw_nl *n, const char *name)
{
	return raw_name_request(n, KREG_CMD_UNREGISTER, name, NULL);
}

/* The pid WHEREIS reports, or a negative errno. */
static inline int raw_nl_whereis(struct raw_nl *n, const char *name)
{
	static struct raw_msg reply;
	int err;

	reply.nlh.nlmsg_len = 0;
	err = raw_name_request(n, KREG_CMD_WHEREIS, name, &reply);
	return err ? err : (int)raw_attr_u32(&reply.nlh, KREG_A_PID);
}

static inline int raw_nl_subscribe(struct raw_nl *n)
{
	static struct raw_msg m;

	raw_kreg_msg(&m, n, KREG_CMD_SUBSCRIBE);
	return raw_request(n, &m, NULL);
}

/* SEND @len bytes to @name, from @from (NULL: none), with KREG_SEND_F_* @flags. */
static inline int raw_send_to(struct raw_nl *n, const char *name, const char *from,
			      uint32_t flags, const void *data, size_t len)
{
	static struct raw_msg m;

	raw_kreg_msg(&m, n, KREG_CMD_SEND);
	raw_put_str(&m, KREG_A_NAME, name);
	if (from)
		raw_put_str(&m, KREG_A_FROM_NAME, from);
	if (flags)
		raw_put_u32(&m, KREG_A_SEND_FLAGS, flags);
	raw_put(&m, KREG_A_PAYLOAD, data, len);
	return raw_request(n, &m, NULL);
}

/*
 * SEND @len bytes to @name from @from, and wait for both its ack and the
 * next message of kind @cmd on @n (the answer it asks for) into @out,
 * whichever comes first: the answer can overtake the ack when the sender
 * is preempted between delivering and acknowledging (PREEMPT_RT), and
 * raw_request() would skip it. 0, the SEND's error, or -ETIMEDOUT.
 */
static inline int raw_send_and_next(struct raw_nl *n, const char *name, const char *from,
				    const void *data, size_t len, uint8_t cmd,
				    struct raw_msg *out, int timeout_ms)
{
	static char buf[RAW_NL_BUF];
	static struct raw_msg m;
	bool acked = false, got = false;
	int err;

	raw_kreg_msg(&m, n, KREG_CMD_SEND);
	raw_put_str(&m, KREG_A_NAME, name);
	if (from)
		raw_put_str(&m, KREG_A_FROM_NAME, from);
	raw_put(&m, KREG_A_PAYLOAD, data, len);
	err = raw_send(n, &m);
	while (!err && !(acked && got)) {
		ssize_t rlen = raw_recv(n, buf, sizeof(buf), timeout_ms);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;

		if (rlen < 0)
			return (int)rlen;
		for (; NLMSG_OK(nlh, rlen); nlh = NLMSG_NEXT(nlh, rlen)) {
			if (nlh->nlmsg_type == NLMSG_ERROR && nlh->nlmsg_seq == m.nlh.nlmsg_seq) {
				err = ((const struct nlmsgerr *)NLMSG_DATA(nlh))->error;
				acked = true;
			} else if (!got && nlh->nlmsg_type == n->family && raw_cmd(nlh) == cmd) {
				memcpy(out->buf, nlh, nlh->nlmsg_len);
				got = true;
			}
		}
	}
	return err;
}

/*
 * The next message of kind @cmd (an event or a delivery) within
 * @timeout_ms, into @out: 0, or -ETIMEDOUT.
 */
static inline int raw_next(struct raw_nl *n, uint8_t cmd, struct raw_msg *out,
			   int timeout_ms)
{
	static char buf[RAW_NL_BUF];

	for (;;) {
		ssize_t len = raw_recv(n, buf, sizeof(buf), timeout_ms);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;

		if (len < 0)
			return (int)len;
		for (; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_type != n->family || raw_cmd(nlh) != cmd)
				continue;
			memcpy(out->buf, nlh, nlh->nlmsg_len);
			return 0;
		}
	}
}

#endif /* KREG_TEST_RAW_NL_H */
