// SPDX-License-Identifier: LGPL-2.1-or-later
/* Register, unregister, look up and list names. */
#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <linux/genetlink.h>

#include "kernel.h"

/* What a reply about one entry says. */
struct kreg_answer {
	struct kreg_holder *holder;
	void *meta;		/* where to copy the value, or NULL */
	size_t size;
	size_t meta_len;
	uint32_t flags;		/* KREG_A_FLAGS: KREG_F_QUEUE, the caller is in line */
	bool replied;		/* a reply came (not only the ack) */
};

static uint32_t kreg_nla_u32(const struct nlattr *a)
{
	uint32_t v = 0;

	if (a && nla_len(a) == sizeof(v))
		memcpy(&v, nla_data(a), sizeof(v));
	return v;
}

static uint64_t kreg_nla_u64(const struct nlattr *a)
{
	uint64_t v = 0;

	if (a && nla_len(a) == sizeof(v))
		memcpy(&v, nla_data(a), sizeof(v));
	return v;
}

void kreg_kernel_holder(struct kreg_conn *conn, const struct nlattr *pid,
			const struct nlattr *remote_pid, const struct nlattr *node,
			const struct nlattr *token, const struct nlattr *heard,
			struct kreg_holder *h)
{
	(void)conn;
	memset(h, 0, sizeof(*h));
	h->token = kreg_nla_u64(token);
	if (remote_pid) {
		/* Held on another node: its pid there, never a local one. */
		h->pid = (pid_t)kreg_nla_u32(remote_pid);
		h->local = false;
	} else {
		h->pid = (pid_t)kreg_nla_u32(pid);
		h->local = true;
	}
	if (node && nla_len(node) > 0)
		snprintf(h->node, sizeof(h->node), "%.*s", nla_len(node), (const char *)nla_data(node));
	/* A cluster name's answer from the kernel is as old as its copy. */
	h->age_ms = kreg_age_ms(kreg_nla_u64(heard));
}

void kreg_kernel_holder_node(struct kreg_conn *conn, struct kreg_holder *h)
{
	/* Asked after the reply is read, never from its callback. */
	if (h->token && h->local && !h->node[0])
		snprintf(h->node, sizeof(h->node), "%s", kreg_kernel_node(conn));
}

static int kreg_reply_pid(struct kreg_conn *conn, struct nlattr **attrs,
			  void *arg)
{
	struct kreg_answer *a = arg;
	struct nlattr *meta = attrs[KREG_A_META];

	if (a->holder && (attrs[KREG_A_PID] || attrs[KREG_A_REMOTE_PID]))
		kreg_kernel_holder(conn, attrs[KREG_A_PID], attrs[KREG_A_REMOTE_PID],
				   attrs[KREG_A_NODE], attrs[KREG_A_TOKEN],
				   attrs[KREG_A_HEARD_NS], a->holder);
	a->meta_len = meta ? (size_t)nla_len(meta) : 0;
	if (meta && a->meta)
		memcpy(a->meta, nla_data(meta), a->meta_len < a->size ? a->meta_len : a->size);
	a->flags = kreg_nla_u32(attrs[KREG_A_FLAGS]);
	a->replied = true;
	return 0;
}

/* A request that names one entry and may answer about it. */
static int kreg_name_request(struct kreg_conn *conn, uint8_t cmd,
			     const char *name, pid_t target,
			     const void *meta, size_t meta_len, uint32_t flags,
			     struct kreg_answer *answer)
{
	struct nl_msg *msg;
	int err;

	if (meta_len > KREG_META_MAX)
		return -EMSGSIZE;
	msg = kreg_msg_new(conn, cmd, KREG_NAME_MAX + meta_len + 16);
	if (!msg)
		return -ENOMEM;
	err = kreg_put_name(msg, name);
	if (!err && target > 0 && nla_put_u32(msg, KREG_A_PID, (uint32_t)target) < 0)
		err = -EMSGSIZE;
	if (!err && meta_len && nla_put(msg, KREG_A_META, (int)meta_len, meta) < 0)
		err = -EMSGSIZE;
	if (!err && flags && nla_put_u32(msg, KREG_A_FLAGS, flags) < 0)
		err = -EMSGSIZE;
	if (err) {
		snprintf(conn->error, sizeof(conn->error), "%s",
			 err == -EINVAL ? "name is longer than 255 bytes" : "");
		nlmsg_free(msg);
		return err;
	}
	/*
	 * The socket that registers a name is its mailbox: REGISTER goes
	 * through the handle's mailbox socket, everything else through the
	 * request socket, where mail never comes.
	 */
	if (cmd == KREG_CMD_REGISTER) {
		err = kreg_open_mailbox(conn);
		if (err) {
			nlmsg_free(msg);
			return err;
		}
	}
	/* A lookup's reply is its answer: no ack to wait for. */
	return kreg_request_on(conn, cmd == KREG_CMD_REGISTER, msg,
			       cmd == KREG_CMD_WHEREIS ? KREG_REQ_REPLY : KREG_REQ_ACK,
			       answer ? kreg_reply_pid : NULL, answer);
}

int kreg_kernel_register_meta(struct kreg_conn *conn, const char *name, pid_t pid,
			      const void *meta, size_t meta_len, uint32_t flags,
			      struct kreg_holder *holder)
{
	struct kreg_answer a = { .holder = holder };

	if (pid < 0)
		return -EINVAL;
	int err;

	/* A holder the caller may not see is told as none: pid 0, here. */
	memset(holder, 0, sizeof(*holder));
	holder->local = true;
	err = kreg_name_request(conn, KREG_CMD_REGISTER, name, pid, meta, meta_len, flags, &a);
	kreg_kernel_holder_node(conn, holder);
	if (err || !(flags & KREG_F_QUEUE))
		return err;
	/*
	 * The ack says the request was taken; the reply, whether the caller
	 * holds the name or waits in line. A reply the kernel could not send
	 * (no memory, or no room on the socket) leaves a lookup to tell.
	 */
	if (!a.replied) {
		struct kreg_holder now;

		/* Held by the caller, or else in line (the holder may be hidden). */
		if (kreg_kernel_whereis(conn, name, 0, NULL, 0, NULL, &now) == 0)
			*holder = now;
		a.flags = holder->pid && holder->pid == (pid ? pid : getpid()) ? 0 : KREG_F_QUEUE;
	}
	if (a.flags & KREG_F_QUEUE) {
		kreg_set_error(conn, "the name is held: this process waits in line for it");
		return -EINPROGRESS;
	}
	return 0;
}

int kreg_kernel_unregister(struct kreg_conn *conn, const char *name)
{
	return kreg_name_request(conn, KREG_CMD_UNREGISTER, name, 0, NULL, 0, 0, NULL);
}

int kreg_kernel_update_meta(struct kreg_conn *conn, const char *name, const void *meta,
			    size_t meta_len)
{
	return kreg_name_request(conn, KREG_CMD_UPDATE, name, 0, meta, meta_len, 0, NULL);
}

/* A reply's attribute @type, found without libnl's parser; NULL if absent or malformed. */
static const struct nlattr *kreg_reply_attr(const struct nlmsghdr *nlh, int type)
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

static int kreg_whereis_reply(struct kreg_conn *conn, const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *meta = kreg_reply_attr(nlh, KREG_A_META);
	struct kreg_answer *a = arg;

	kreg_kernel_holder(conn, kreg_reply_attr(nlh, KREG_A_PID),
			   kreg_reply_attr(nlh, KREG_A_REMOTE_PID),
			   kreg_reply_attr(nlh, KREG_A_NODE),
			   kreg_reply_attr(nlh, KREG_A_TOKEN),
			   kreg_reply_attr(nlh, KREG_A_HEARD_NS), a->holder);
	a->meta_len = meta && nla_len(meta) <= KREG_META_MAX ? (size_t)nla_len(meta) : 0;
	if (a->meta_len && a->meta)
		memcpy(a->meta, nla_data(meta), a->meta_len < a->size ? a->meta_len : a->size);
	return 0;
}

/*
 * WHEREIS built and read by hand: every lookup the view cannot answer goes
 * this way, and libnl's allocation and parser cost it a quarter of the
 * round trip in the guest.
 */
static int kreg_whereis_request(struct kreg_conn *conn, const char *name,
				struct kreg_answer *answer)
{
	struct kreg_whereis_msg {
		struct nlmsghdr nlh;
		struct genlmsghdr genl;
		struct nlattr attr;
		char name[NLA_ALIGN(KREG_NAME_MAX + 1)];
	} req;
	size_t len = strnlen(name, KREG_NAME_MAX + 1);

	if (len > KREG_NAME_MAX) {
		kreg_set_error(conn, "name is longer than 255 bytes");
		return -EINVAL;
	}
	memset(&req, 0, offsetof(struct kreg_whereis_msg, name));
	req.genl.cmd = KREG_CMD_WHEREIS;
	req.genl.version = KREG_GENL_VERSION;
	req.attr.nla_type = KREG_A_NAME;
	req.attr.nla_len = (uint16_t)(NLA_HDRLEN + len + 1);
	memcpy(req.name, name, len + 1);
	req.nlh.nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN + NLA_ALIGN(req.attr.nla_len);
	req.nlh.nlmsg_type = (uint16_t)conn->family;
	return kreg_request_raw(conn, &req.nlh, KREG_REQ_REPLY, kreg_whereis_reply, answer);
}

int kreg_kernel_whereis(struct kreg_conn *conn, const char *name, unsigned int flags,
			void *meta, size_t size, size_t *meta_len,
			struct kreg_holder *holder)
{
	struct kreg_answer a = { .holder = holder, .meta = meta, .size = size };
	int err;

	/*
	 * One host's table is always current: nothing to ask beyond it. A
	 * holder found dead is not reported; asking the kernel then takes its
	 * name back and announces it, as a netlink lookup always did.
	 */
	err = kreg_view_whereis(conn, name, flags & KREG_WHEREIS_CHECKED, meta, size, meta_len,
				holder);
	if (err == 0)
		kreg_kernel_holder_node(conn, holder);
	if (err != -EAGAIN && err != -ESRCH)
		return err;
	err = kreg_whereis_request(conn, name, &a);
	if (err == -ENOENT)
		return KREG_UNDEFINED;
	if (err)
		return err;
	if (meta_len)
		*meta_len = a.meta_len;
	kreg_kernel_holder_node(conn, holder);
	return 0;
}

static int kreg_node_reply(struct kreg_conn *conn, struct nlattr **attrs, void *arg)
{
	(void)arg;
	if (attrs[KREG_A_NODE])
		snprintf(conn->node, sizeof(conn->node), "%s", nla_get_string(attrs[KREG_A_NODE]));
	return 0;
}

const char *kreg_kernel_node(struct kreg_conn *conn)
{
	struct nl_msg *msg;

	if (conn->node_known)
		return conn->node;
	msg = kreg_msg_new(conn, KREG_CMD_STATUS, 0);
	if (msg && !kreg_request(conn, msg, KREG_REQ_REPLY, kreg_node_reply, NULL))
		conn->node_known = conn->node[0] != '\0';
	return conn->node;
}

struct kreg_list_ctx {
	kreg_list_fn fn;
	void *arg;
};

static int kreg_list_one(struct kreg_conn *conn, struct nlattr **attrs,
			 void *arg)
{
	struct kreg_list_ctx *ctx = arg;
	struct kreg_entry_info info;

	(void)conn;
	if (!attrs[KREG_A_NAME] || !attrs[KREG_A_PID])
		return 0;
	info.name = nla_get_string(attrs[KREG_A_NAME]);
	info.pid = (pid_t)nla_get_u32(attrs[KREG_A_PID]);
	info.node = attrs[KREG_A_NODE] ? nla_get_string(attrs[KREG_A_NODE]) : NULL;
	info.remote_pid = attrs[KREG_A_REMOTE_PID] ?
		(pid_t)nla_get_u32(attrs[KREG_A_REMOTE_PID]) : 0;
	info.token = attrs[KREG_A_TOKEN] ? nla_get_u64(attrs[KREG_A_TOKEN]) : 0;
	info.uid = attrs[KREG_A_UID] ? nla_get_u32(attrs[KREG_A_UID]) : (uid_t)-1;
	info.registered_ns = attrs[KREG_A_REGISTERED_NS] ?
		nla_get_u64(attrs[KREG_A_REGISTERED_NS]) : 0;
	info.has_mailbox = attrs[KREG_A_MAILBOX] != NULL;
	info.meta = attrs[KREG_A_META] ? nla_data(attrs[KREG_A_META]) : NULL;
	info.meta_len = attrs[KREG_A_META] ? (size_t)nla_len(attrs[KREG_A_META]) : 0;
	return ctx->fn(&info, ctx->arg);
}

int kreg_kernel_list(struct kreg_conn *conn, const struct kreg_filter *f, kreg_list_fn fn,
		     void *arg)
{
	struct kreg_list_ctx ctx = { .fn = fn, .arg = arg };
	struct nl_msg *msg;

	msg = kreg_msg_new(conn, KREG_CMD_LIST, KREG_NAME_MAX + 64);
	if (!msg)
		return -ENOMEM;
	/* The kernel filters: what does not match never crosses. */
	if ((f && f->pattern && nla_put_string(msg, KREG_A_PATTERN, f->pattern) < 0) ||
	    (f && f->pid && nla_put_u32(msg, KREG_A_PID, (uint32_t)f->pid) < 0)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return kreg_request(conn, msg, KREG_REQ_DUMP, kreg_list_one, &ctx);
}

static uint32_t kreg_attr_u32(struct nlattr **attrs, int type)
{
	return attrs[type] ? nla_get_u32(attrs[type]) : 0;
}

static int kreg_status_reply(struct kreg_conn *conn, struct nlattr **attrs, void *arg)
{
	struct kreg_status *st = arg;

	(void)conn;
	st->entries = kreg_attr_u32(attrs, KREG_A_ENTRIES);
	st->max_entries = kreg_attr_u32(attrs, KREG_A_MAX_ENTRIES);
	st->max_per_uid = kreg_attr_u32(attrs, KREG_A_MAX_PER_UID);
	st->uid = (uid_t)kreg_attr_u32(attrs, KREG_A_UID);
	st->uid_entries = kreg_attr_u32(attrs, KREG_A_UID_ENTRIES);
	st->max_subscriptions = kreg_attr_u32(attrs, KREG_A_MAX_SUBSCRIPTIONS);
	st->uid_subscriptions = kreg_attr_u32(attrs, KREG_A_UID_SUBSCRIPTIONS);
	st->policy_loaded = attrs[KREG_A_POLICY_RULES] != NULL;
	st->policy_rules = kreg_attr_u32(attrs, KREG_A_POLICY_RULES);
	return 0;
}

static int kreg_host_uid_reply(struct kreg_conn *conn, struct nlattr **attrs, void *arg)
{
	(void)conn;
	if (!attrs[KREG_A_HOST_UID])
		return -EPROTO;
	*(uid_t *)arg = nla_get_u32(attrs[KREG_A_HOST_UID]);
	return 0;
}

/*
 * The kernel reads "user.UID." in the initial user namespace: in a user
 * namespace, geteuid() is not that UID, so the kernel says which it is.
 */
int kreg_kernel_owner_uid(struct kreg_conn *conn, uid_t *uid)
{
	struct nl_msg *msg = kreg_msg_new(conn, KREG_CMD_STATUS, 0);

	if (!msg)
		return -ENOMEM;
	return kreg_request(conn, msg, KREG_REQ_REPLY, kreg_host_uid_reply, uid);
}

int kreg_kernel_status(struct kreg_conn *conn, struct kreg_status *st)
{
	struct nl_msg *msg = kreg_msg_new(conn, KREG_CMD_STATUS, 0);

	if (!msg)
		return -ENOMEM;
	memset(st, 0, sizeof(*st));
	return kreg_request(conn, msg, KREG_REQ_REPLY, kreg_status_reply, st);
}
