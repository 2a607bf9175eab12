// SPDX-License-Identifier: GPL-2.0
/*
 * The relay's socket in kreg.ko, over libnl-genl. It carries requests and
 * their answers only: the kernel delivers nothing else to it (mail for the
 * names it mirrors is refused with EREMOTE, and libkreg hands it to kregd,
 * which relays it to the holder's node), and kregd reads events on a
 * socket of its own (libkreg's).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/socket.h>

#include <linux/kreg.h>

#include "log.h"
#include "relay.h"

/* Used by kregd's one loop: one request at a time, whole. */
struct relay {
	struct nl_sock *sock;
	int family;
};

static struct nla_policy relay_policy[KREG_A_MAX + 1] = {
	[KREG_A_NAME]		= { .type = NLA_STRING },
	[KREG_A_PID]		= { .type = NLA_U32 },
	[KREG_A_FLAGS]		= { .type = NLA_U32 },
	[KREG_A_TOKEN]		= { .type = NLA_U64 },
	[KREG_A_REMOTE_PID]	= { .type = NLA_U32 },
	[KREG_A_ENTRIES]	= { .type = NLA_U32 },
	[KREG_A_NODE]		= { .type = NLA_STRING },
};

struct relay_answer {
	int (*fn)(const struct relay_entry *e, void *arg);
	void *arg;
	struct relay_entry *one;
	int count;
	int err;
	bool done;		/* its last message was read */
};

static void relay_parse_entry(struct nlattr **attrs, struct relay_entry *e)
{
	uint32_t flags = attrs[KREG_A_FLAGS] ? nla_get_u32(attrs[KREG_A_FLAGS]) : 0;

	memset(e, 0, sizeof(*e));
	if (attrs[KREG_A_NAME])
		snprintf(e->name, sizeof(e->name), "%s", nla_get_string(attrs[KREG_A_NAME]));
	e->pid = attrs[KREG_A_PID] ? (pid_t)nla_get_u32(attrs[KREG_A_PID]) : 0;
	e->token = attrs[KREG_A_TOKEN] ? nla_get_u64(attrs[KREG_A_TOKEN]) : 0;
	e->remote = attrs[KREG_A_REMOTE_PID] != NULL;
	e->pending = (flags & KREG_F_PENDING) || (!e->remote && !e->token);
}

static int relay_reply(struct nl_msg *msg, void *arg)
{
	struct relay_answer *a = arg;
	struct nlattr *attrs[KREG_A_MAX + 1];
	struct relay_entry e;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, attrs, KREG_A_MAX, relay_policy))
		return NL_SKIP;
	if (attrs[KREG_A_ENTRIES] && !attrs[KREG_A_NAME]) {
		a->count = (int)nla_get_u32(attrs[KREG_A_ENTRIES]);
		a->done = true;
		return NL_STOP;
	}
	relay_parse_entry(attrs, &e);
	if (a->one) {
		/* A lookup's one reply is its answer: no ack comes after it. */
		*a->one = e;
		a->done = true;
		return NL_STOP;
	}
	if (a->fn && !strncmp(e.name, KREG_CLUSTER_PREFIX, sizeof(KREG_CLUSTER_PREFIX) - 1) &&
	    a->fn(&e, a->arg))
		return NL_STOP;
	return NL_OK;
}

static int relay_error(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	struct relay_answer *a = arg;

	(void)nla;
	a->err = err->error;
	a->done = true;
	return NL_STOP;
}

static int relay_end(struct nl_msg *msg, void *arg)
{
	struct relay_answer *a = arg;

	(void)msg;
	a->done = true;
	return NL_STOP;
}

/*
 * Sends @msg (consumed) and reads its answer into @a: 0 or a negative errno.
 * A command that replies asks no ack (its reply, or an error, ends it); one
 * that does not asks one; a dump ends with NLMSG_DONE. Each answer is read
 * whole, or a later request would read what is left of it.
 */
static int relay_request(struct relay *r, struct nl_msg *msg, struct relay_answer *a)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int err;

	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, relay_reply, a);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, relay_end, a);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, relay_end, a);
	nl_cb_err(cb, NL_CB_CUSTOM, relay_error, a);
	err = nl_send_auto(r->sock, msg);
	nlmsg_free(msg);
	/* Until its last message: a reply and its ack may come in two reads. */
	while (err >= 0 && !a->done)
		err = nl_recvmsgs(r->sock, cb);
	err = err < 0 ? -EIO : 0;
	nl_cb_put(cb);
	return a->err ? a->err : err;
}

static struct nl_msg *relay_msg_sized(struct relay *r, uint8_t cmd, int flags, size_t size)
{
	struct nl_msg *msg = nlmsg_alloc_size(size);
	bool replies = cmd == KREG_CMD_WHEREIS || cmd == KREG_CMD_FENCE || (flags & NLM_F_DUMP);

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, r->family, 0,
				(replies ? 0 : NLM_F_ACK) | flags, cmd, KREG_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static struct nl_msg *relay_msg(struct relay *r, uint8_t cmd, int flags)
{
	return relay_msg_sized(r, cmd, flags, 4096);
}

int relay_open(struct relay **rp, const char *node)
{
	struct relay *r = calloc(1, sizeof(*r));
	struct relay_answer a = { 0 };
	struct nl_msg *msg;
	int err = -ENOMEM;

	if (!r)
		return -ENOMEM;
	r->sock = nl_socket_alloc();
	if (!r->sock)
		goto fail;
	err = genl_connect(r->sock);
	if (err) {
		err = -EIO;
		goto fail;
	}
	nl_socket_set_buffer_size(r->sock, 1 << 20, 1 << 20);
	/* Which requests ask for an ack is relay_msg()'s to say. */
	nl_socket_disable_auto_ack(r->sock);
	r->family = genl_ctrl_resolve(r->sock, KREG_GENL_NAME);
	if (r->family < 0) {
		err = -EPROTONOSUPPORT;
		goto fail;
	}
	msg = relay_msg(r, KREG_CMD_RELAY, 0);
	if (!msg || nla_put_string(msg, KREG_A_NODE, node) < 0) {
		nlmsg_free(msg);
		err = -ENOMEM;
		goto fail;
	}
	err = relay_request(r, msg, &a);
	if (err)
		goto fail;
	*rp = r;
	return 0;
fail:
	relay_close(r);
	return err;
}

void relay_close(struct relay *r)
{
	if (!r)
		return;
	nl_socket_free(r->sock);
	free(r);
}

static int relay_name_msg(struct relay *r, uint8_t cmd, const char *name, struct nl_msg **out)
{
	struct nl_msg *msg = relay_msg(r, cmd, 0);

	if (!msg || (name && nla_put_string(msg, KREG_A_NAME, name) < 0)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	*out = msg;
	return 0;
}

int relay_whereis(struct relay *r, const char *name, struct relay_entry *e)
{
	struct relay_answer a = { .one = e };
	struct nl_msg *msg;
	int err = relay_name_msg(r, KREG_CMD_WHEREIS, name, &msg);

	memset(e, 0, sizeof(*e));
	return err ? err : relay_request(r, msg, &a);
}

int relay_commit(struct relay *r, const char *name, pid_t pid, uint64_t token)
{
	struct relay_answer a = { 0 };
	struct nl_msg *msg;
	int err = relay_name_msg(r, KREG_CMD_COMMIT, name, &msg);

	if (err)
		return err;
	if (nla_put_u32(msg, KREG_A_PID, (uint32_t)pid) < 0 ||
	    nla_put_u64(msg, KREG_A_TOKEN, token) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return relay_request(r, msg, &a);
}

int relay_mirror(struct relay *r, const char *name, const char *node, pid_t pid,
		 uint64_t token, const void *meta, size_t meta_len)
{
	struct relay_answer a = { 0 };
	struct nl_msg *msg;
	int err = relay_name_msg(r, KREG_CMD_MIRROR, name, &msg);

	if (err)
		return err;
	if (nla_put_string(msg, KREG_A_NODE, node) < 0 ||
	    nla_put_u32(msg, KREG_A_REMOTE_PID, (uint32_t)pid) < 0 ||
	    nla_put_u64(msg, KREG_A_TOKEN, token) < 0 ||
	    (meta_len && nla_put(msg, KREG_A_META, (int)meta_len, meta) < 0)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return relay_request(r, msg, &a);
}

int relay_unmirror(struct relay *r, const char *name, uint64_t token, int reason)
{
	struct relay_answer a = { 0 };
	struct nl_msg *msg;
	int err = relay_name_msg(r, KREG_CMD_UNMIRROR, name, &msg);

	if (err)
		return err;
	if ((token && nla_put_u64(msg, KREG_A_TOKEN, token) < 0) ||
	    nla_put_u32(msg, KREG_A_REASON, (uint32_t)reason) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return relay_request(r, msg, &a);
}

int relay_fence(struct relay *r, const char *name)
{
	struct relay_answer a = { 0 };
	struct nl_msg *msg;
	int err = relay_name_msg(r, KREG_CMD_FENCE, name, &msg);

	if (!err)
		err = relay_request(r, msg, &a);
	return err ? err : a.count;
}

int relay_progress(struct relay *r, uint64_t revision, uint64_t heard_ns)
{
	struct relay_answer a = { 0 };
	struct nl_msg *msg = relay_msg(r, KREG_CMD_PROGRESS, 0);

	if (!msg || nla_put_u64(msg, KREG_A_REVISION, revision) < 0 ||
	    nla_put_u64(msg, KREG_A_HEARD_NS, heard_ns) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return relay_request(r, msg, &a);
}

int relay_lease(struct relay *r, uint64_t deadline_ns)
{
	struct relay_answer a = { 0 };
	struct nl_msg *msg = relay_msg(r, KREG_CMD_LEASE, 0);

	if (!msg || nla_put_u64(msg, KREG_A_DEADLINE_NS, deadline_ns) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return relay_request(r, msg, &a);
}

int relay_list(struct relay *r, int (*fn)(const struct relay_entry *e, void *arg), void *arg)
{
	struct relay_answer a = { .fn = fn, .arg = arg };
	struct nl_msg *msg = relay_msg(r, KREG_CMD_LIST, NLM_F_DUMP);

	if (!msg)
		return -ENOMEM;
	return relay_request(r, msg, &a);
}

int relay_send(struct relay *r, const char *name, const struct relay_sender *sender,
	       const char *from, uint64_t token, const void *data, size_t len)
{
	struct relay_answer a = { 0 };
	struct nl_msg *msg = relay_msg_sized(r, KREG_CMD_SEND, 0, len + 1024);

	if (!msg || nla_put_string(msg, KREG_A_NAME, name) < 0 ||
	    nla_put_string(msg, KREG_A_NODE, sender->node) < 0 ||
	    nla_put_u32(msg, KREG_A_REMOTE_PID, (uint32_t)sender->pid) < 0 ||
	    nla_put_u32(msg, KREG_A_REMOTE_UID, sender->uid) < 0 ||
	    nla_put_u32(msg, KREG_A_REMOTE_GID, sender->gid) < 0 ||
	    (from && nla_put_string(msg, KREG_A_FROM_NAME, from) < 0) ||
	    (token && nla_put_u64(msg, KREG_A_TOKEN, token) < 0) ||
	    nla_put(msg, KREG_A_PAYLOAD, (int)len, data) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return relay_request(r, msg, &a);
}
