// SPDX-License-Identifier: LGPL-2.1-or-later
/* Messages by name: SEND through the kernel, read from this mailbox. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

static int kreg_kernel_send_token(struct kreg_conn *conn, const char *name, const char *from,
				  uint32_t flags, uint64_t token, const void *data, size_t len)
{
	struct nl_msg *msg;
	int err;

	if (len > KREG_PAYLOAD_MAX) {
		kreg_set_error(conn, "the payload is larger than KREG_PAYLOAD_MAX (%d bytes)",
			       KREG_PAYLOAD_MAX);
		return -EMSGSIZE;
	}
	if (from && *kreg_name_problem(from)) {
		kreg_set_error(conn, "the sender's name: %s", kreg_name_problem(from));
		return -EINVAL;
	}
	msg = kreg_msg_new(conn, KREG_CMD_SEND, 2 * KREG_NAME_MAX + len + 32);
	if (!msg) {
		kreg_set_error(conn, "out of memory");
		return -ENOMEM;
	}
	err = kreg_put_name(msg, name);
	if (!err && from && nla_put_string(msg, KREG_A_FROM_NAME, from) < 0)
		err = -EMSGSIZE;
	if (!err && flags && nla_put_u32(msg, KREG_A_SEND_FLAGS, flags) < 0)
		err = -EMSGSIZE;
	if (!err && token && nla_put_u64(msg, KREG_A_TOKEN, token) < 0)
		err = -EMSGSIZE;
	if (!err && nla_put(msg, KREG_A_PAYLOAD, (int)len, data) < 0)
		err = -EMSGSIZE;
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return kreg_request(conn, msg, KREG_REQ_ACK, NULL, NULL);
}

int kreg_kernel_send(struct kreg_conn *conn, const char *name, const char *from,
		     uint32_t flags, const void *data, size_t len)
{
	return kreg_kernel_send_token(conn, name, from, flags, 0, data, len);
}

int kreg_kernel_send_fenced(struct kreg_conn *conn, const char *name, uint64_t token,
			    const void *data, size_t len)
{
	if (!token) {
		kreg_set_error(conn, "a fencing token is never 0");
		return -EINVAL;
	}
	return kreg_kernel_send_token(conn, name, NULL, 0, token, data, len);
}

/* A process of another node, which kregd relayed: its node and ids there. */
static void kreg_remote_sender(struct nlattr **attrs, struct kreg_message *m)
{
	m->sender_node[0] = '\0';
	m->sender_remote_pid = 0;
	m->sender_remote_uid = (uid_t)-1;
	m->sender_remote_gid = (gid_t)-1;
	if (!(m->sender_flags & KREG_SENDER_F_REMOTE) || !attrs[KREG_A_NODE])
		return;
	snprintf(m->sender_node, sizeof(m->sender_node), "%s",
		 nla_get_string(attrs[KREG_A_NODE]));
	if (attrs[KREG_A_REMOTE_PID])
		m->sender_remote_pid = (pid_t)nla_get_u32(attrs[KREG_A_REMOTE_PID]);
	if (attrs[KREG_A_REMOTE_UID])
		m->sender_remote_uid = nla_get_u32(attrs[KREG_A_REMOTE_UID]);
	if (attrs[KREG_A_REMOTE_GID])
		m->sender_remote_gid = nla_get_u32(attrs[KREG_A_REMOTE_GID]);
}

int kreg_kernel_recv(struct kreg_conn *conn, struct kreg_message *m, int timeout_ms)
{
	struct nlattr *attrs[KREG_A_MAX + 1];
	struct kreg_pending *p;
	int err;

	err = kreg_wait_pending(conn, &conn->deliveries, timeout_ms, &p);
	if (err)
		return err;
	err = kreg_parse(p->nlh, attrs);
	if (!err && (!attrs[KREG_A_NAME] || !attrs[KREG_A_PAYLOAD] ||
		     nla_len(attrs[KREG_A_PAYLOAD]) > KREG_PAYLOAD_MAX))
		err = -EPROTO;
	if (!err) {
		snprintf(m->name, sizeof(m->name), "%s",
			 nla_get_string(attrs[KREG_A_NAME]));
		m->sender = attrs[KREG_A_SENDER_PID] ?
			(pid_t)nla_get_u32(attrs[KREG_A_SENDER_PID]) : 0;
		m->sender_uid = attrs[KREG_A_SENDER_UID] ?
			nla_get_u32(attrs[KREG_A_SENDER_UID]) : (uid_t)-1;
		m->sender_gid = attrs[KREG_A_SENDER_GID] ?
			nla_get_u32(attrs[KREG_A_SENDER_GID]) : (gid_t)-1;
		m->sender_cgroup = attrs[KREG_A_SENDER_CGROUP] ?
			nla_get_u64(attrs[KREG_A_SENDER_CGROUP]) : 0;
		m->sender_flags = attrs[KREG_A_SENDER_FLAGS] ?
			nla_get_u32(attrs[KREG_A_SENDER_FLAGS]) : 0;
		snprintf(m->from_name, sizeof(m->from_name), "%s",
			 attrs[KREG_A_FROM_NAME] ?
			 nla_get_string(attrs[KREG_A_FROM_NAME]) : "");
		kreg_remote_sender(attrs, m);
		m->len = (size_t)nla_len(attrs[KREG_A_PAYLOAD]);
		memcpy(m->data, nla_data(attrs[KREG_A_PAYLOAD]), m->len);
	}
	free(p);
	return err;
}
