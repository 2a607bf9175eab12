// SPDX-License-Identifier: GPL-2.0
/*
 * The relay's commands: how kregd, this node's daemon, binds as the relay
 * and keeps the table's cluster names in step with the cluster (etcd):
 * commit a claim this node won, mirror a name another node holds or let
 * it go, fence this node's holders when the node cannot keep its lease,
 * set the lease's deadline, at which the kernel fences them by itself,
 * and say how recent the mirrors are. The protocol only: the table does
 * the rest (table.c), and only the relay's socket is heard.
 */
#include <linux/capability.h>
#include <linux/ctype.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/stringify.h>
#include <net/genetlink.h>

#include "access.h"
#include "netlink.h"
#include "node.h"
#include "table.h"
#include "trace.h"

int kreg_nl_validate_node(const struct nlattr *attr, struct netlink_ext_ack *extack)
{
	const char *name = nla_data(attr);
	int len = nla_len(attr);

	if (len < 2 || name[len - 1] != '\0' || len - 1 > KREG_NODE_MAX) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "a node's name is 1 to " __stringify(KREG_NODE_MAX)
				    " bytes, NUL-terminated");
		return -EINVAL;
	}
	if (!kreg_node_name_ok(name, len - 1)) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "a node's name has letters, digits, '-', '_' and '.' only");
		return -EINVAL;
	}
	return 0;
}

bool kreg_nl_cluster_name(const char *name, size_t len)
{
	size_t prefix = sizeof(KREG_CLUSTER_PREFIX) - 1;

	return len > prefix && !memcmp(name, KREG_CLUSTER_PREFIX, prefix);
}

/* Only the relay's socket is heard, and only while its opener and sender are admin. */
int kreg_nl_relay_only(struct sk_buff *skb, struct genl_info *info)
{
	if (kreg_node_is_relay(NETLINK_CB(skb).sk) &&
	    netlink_capable(skb, CAP_SYS_ADMIN))
		return 0;
	GENL_SET_ERR_MSG(info, "only this node's relay (kregd) may do this");
	return -EPERM;
}

/* 0 if @info has attribute @type, else -EINVAL saying @what (a literal). */
#define kreg_nl_attr(info, type, what) ({				\
	int __err = 0;							\
	if (!(info)->attrs[type]) {					\
		GENL_REQ_ATTR_CHECK(info, type);			\
		GENL_SET_ERR_MSG(info, what);				\
		__err = -EINVAL;					\
	}								\
	__err;								\
})

/* A cluster name, required. */
static int kreg_nl_cluster_arg(struct genl_info *info, const char **name, size_t *len)
{
	int err = kreg_nl_attr(info, KREG_A_NAME, "a name (KREG_A_NAME) is required");

	if (err)
		return err;
	*name = nla_data(info->attrs[KREG_A_NAME]);
	*len = nla_len(info->attrs[KREG_A_NAME]) - 1;
	if (kreg_nl_cluster_name(*name, *len))
		return 0;
	NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KREG_A_NAME],
			    "not a cluster name (" KREG_CLUSTER_PREFIX "...)");
	return -EINVAL;
}

int kreg_nl_relay(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *node = info->attrs[KREG_A_NODE];
	int err;

	if (!netlink_capable(skb, CAP_SYS_ADMIN)) {
		GENL_SET_ERR_MSG(info, "binding the relay needs CAP_SYS_ADMIN");
		return -EPERM;
	}
	err = kreg_nl_attr(info, KREG_A_NODE, "the node's name (KREG_A_NODE) is required");
	if (err)
		return err;
	err = kreg_node_bind(NETLINK_CB(skb).sk, info->snd_portid, nla_data(node),
			     nla_len(node) - 1);
	if (err == -EBUSY)
		GENL_SET_ERR_MSG(info, "another relay (kregd) is bound on this node");
	return err;
}

int kreg_nl_commit(struct sk_buff *skb, struct genl_info *info)
{
	const char *name;
	struct pid *pid;
	size_t len;
	u64 token;
	int err;

	err = kreg_nl_relay_only(skb, info) ?:
	      kreg_nl_cluster_arg(info, &name, &len) ?:
	      kreg_nl_attr(info, KREG_A_PID, "the claimant (KREG_A_PID) is required") ?:
	      kreg_nl_attr(info, KREG_A_TOKEN, "the token (KREG_A_TOKEN) is required");
	if (err)
		return err;
	token = nla_get_u64(info->attrs[KREG_A_TOKEN]);
	if (!token) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KREG_A_TOKEN],
				    "a token is a revision: never 0");
		return -EINVAL;
	}
	pid = find_get_pid(nla_get_u32(info->attrs[KREG_A_PID]));
	err = pid ? kreg_table_commit(name, len, pid, token, kreg_node_deadline()) : -ENOENT;
	trace_kreg_commit(name, pid_nr(pid), token, err);
	put_pid(pid);
	if (err == -ENOENT)
		GENL_SET_ERR_MSG(info, "that process no longer claims this name");
	else if (err == -ESTALE)
		GENL_SET_ERR_MSG(info, "this node's lease deadline has passed: renew it (KREG_CMD_LEASE) first");
	return err;
}

int kreg_nl_mirror(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *node = info->attrs[KREG_A_NODE];
	struct nlattr *meta = info->attrs[KREG_A_META];
	struct kreg_holder_info holder;
	struct kreg_principal p;
	struct kreg_request req = {
		.who		= &p,
		.flags		= KREG_F_CLUSTER | KREG_F_REMOTE | KREG_F_MAILBOX_BOUND,
		.quota_exempt	= true,
		.mbox_sk	= NETLINK_CB(skb).sk,
		.mbox_portid	= info->snd_portid,
	};
	int err;

	err = kreg_nl_relay_only(skb, info) ?:
	      kreg_nl_cluster_arg(info, &req.name, &req.name_len) ?:
	      kreg_nl_attr(info, KREG_A_NODE, "the holder's node (KREG_A_NODE) is required") ?:
	      kreg_nl_attr(info, KREG_A_REMOTE_PID,
			   "the holder's pid there (KREG_A_REMOTE_PID) is required") ?:
	      kreg_nl_attr(info, KREG_A_TOKEN, "the token (KREG_A_TOKEN) is required");
	if (err)
		return err;
	if (meta && nla_len(meta) > KREG_META_MAX) {
		NL_SET_ERR_MSG_ATTR(info->extack, meta,
				    "the value is larger than KREG_META_MAX ("
				    __stringify(KREG_META_MAX) " bytes)");
		return -EMSGSIZE;
	}
	if (meta) {
		req.meta = nla_data(meta);
		req.meta_len = nla_len(meta);
	}
	req.node = nla_data(node);
	req.node_len = nla_len(node) - 1;
	req.remote_pid = nla_get_u32(info->attrs[KREG_A_REMOTE_PID]);
	req.token = nla_get_u64(info->attrs[KREG_A_TOKEN]);
	/* Held by the relay's process, delivered (issue 19) to its socket. */
	req.pid = get_pid(task_tgid(current));
	kreg_principal_socket(&p, NETLINK_CB(skb).sk);
	err = kreg_table_register(&req, &holder);
	trace_kreg_mirror(req.name, nla_data(node), req.remote_pid, req.token, err);
	put_pid(req.pid);
	switch (err) {
	case -EALREADY:
		return 0;
	case -EEXIST:
		GENL_SET_ERR_MSG(info, "a process of this node holds the name: fence it first");
		break;
	case -ENOSPC:
		GENL_SET_ERR_MSG(info, "the registry is full (max_entries)");
		break;
	}
	return err;
}

int kreg_nl_unmirror(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *token = info->attrs[KREG_A_TOKEN];
	struct nlattr *reason = info->attrs[KREG_A_REASON];
	const char *name;
	size_t len;
	int err;

	err = kreg_nl_relay_only(skb, info) ?: kreg_nl_cluster_arg(info, &name, &len);
	if (err)
		return err;
	err = kreg_table_unmirror(name, len, token ? nla_get_u64(token) : 0,
				  reason ? nla_get_u32(reason) : KREG_REASON_REMOTE);
	if (err == -ENOENT)
		GENL_SET_ERR_MSG(info, "no mirror of this name, with this token");
	return err;
}

int kreg_nl_fence(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *name = info->attrs[KREG_A_NAME];
	unsigned int fenced;
	struct sk_buff *msg;
	void *hdr;
	int err;

	err = kreg_nl_relay_only(skb, info);
	if (err)
		return err;
	fenced = kreg_table_fence(name ? nla_data(name) : NULL,
				  name ? nla_len(name) - 1 : 0);
	trace_kreg_fence(fenced);
	msg = genlmsg_new(nla_total_size(sizeof(u32)), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, kreg_nl_family(), 0, KREG_CMD_FENCE);
	if (!hdr || nla_put_u32(msg, KREG_A_ENTRIES, fenced)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

int kreg_nl_lease(struct sk_buff *skb, struct genl_info *info)
{
	int err;

	err = kreg_nl_relay_only(skb, info) ?:
	      kreg_nl_attr(info, KREG_A_DEADLINE_NS,
			   "the deadline (KREG_A_DEADLINE_NS, CLOCK_BOOTTIME) is required");
	if (err)
		return err;
	kreg_node_lease(nla_get_u64(info->attrs[KREG_A_DEADLINE_NS]));
	return 0;
}

int kreg_nl_progress(struct sk_buff *skb, struct genl_info *info)
{
	int err;

	err = kreg_nl_relay_only(skb, info) ?:
	      kreg_nl_attr(info, KREG_A_REVISION, "the revision (KREG_A_REVISION) is required") ?:
	      kreg_nl_attr(info, KREG_A_HEARD_NS, "when it was known (KREG_A_HEARD_NS) is required");
	if (err)
		return err;
	kreg_table_progress(nla_get_u64(info->attrs[KREG_A_REVISION]),
			    nla_get_u64(info->attrs[KREG_A_HEARD_NS]));
	return 0;
}
