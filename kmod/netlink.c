// SPDX-License-Identifier: GPL-2.0
/*
 * The kreg generic netlink family: requests, the LIST dump, and delivery to
 * mailbox sockets. The policy's own commands are in policy_netlink.c; the
 * events subscribers receive are built by events.c. This file only speaks
 * the protocol: it calls down into the table, the events and access
 * control, and nothing calls up into it.
 *
 * Every failure a caller can cause returns a precise errno with an extack
 * message, and leaves the table as it was. Every request is judged by the
 * credentials of the socket it came through, as its opener had them, and
 * capabilities by netlink_capable() (the opener's and the sender's): a
 * privileged process that writes into someone else's socket lends it
 * nothing. A name the caller may not SEE reads as absent, a right it lacks
 * is EACCES naming that right.
 */
#include <linux/capability.h>
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/ctype.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/nsproxy.h>
#include <linux/pid_namespace.h>
#include <linux/sched/signal.h>
#include <linux/stringify.h>
#include <linux/user_namespace.h>
#include <net/genetlink.h>

#include "access.h"
#include "grammar.h"
#include "events.h"
#include "mailbox.h"
#include "netlink.h"
#include "node.h"
#include "policy.h"
#include "table.h"
#include "trace.h"

/* Entries a LIST dump walks per RCU section, whatever it reports. */
#define KREG_LIST_BATCH		256

static int kreg_validate_name(const struct nlattr *attr,
			      struct netlink_ext_ack *extack)
{
	const char *name = nla_data(attr);
	int len = nla_len(attr);

	if (len == 0 || name[len - 1] != '\0') {
		NL_SET_ERR_MSG_ATTR(extack, attr, "name is not NUL-terminated");
		return -EINVAL;
	}
	return kreg_grammar_verdict(kreg_name_problem_of(name, len - 1), attr, extack);
}

#define KREG_SET_BY_KERNEL(what) \
	{ .type = NLA_REJECT, .reject_message = what " is set by the kernel" }

static const struct nla_policy kreg_policy[KREG_A_MAX + 1] = {
	[KREG_A_NAME]		= NLA_POLICY_VALIDATE_FN(NLA_BINARY,
							 kreg_validate_name),
	[KREG_A_PID]		= { .type = NLA_U32 },
	[KREG_A_UID]		= { .type = NLA_U32 },
	[KREG_A_REGISTERED_NS]	= KREG_SET_BY_KERNEL("the time"),
	[KREG_A_MAILBOX]	= { .type = NLA_REJECT,
				    .reject_message = "the mailbox is the requesting socket" },
	[KREG_A_PAYLOAD]	= { .type = NLA_BINARY },
	[KREG_A_SENDER_PID]	= KREG_SET_BY_KERNEL("the sender"),
	[KREG_A_REASON]		= NLA_POLICY_MAX(NLA_U32, KREG_REASON_NODE_LOST),
	[KREG_A_PAD]		= { .type = NLA_REJECT },
	[KREG_A_META]		= { .type = NLA_BINARY },
	[KREG_A_FLAGS]		= NLA_POLICY_MASK(NLA_U32, KREG_F_ALL),
	[KREG_A_ENTRIES]	= KREG_SET_BY_KERNEL("a count"),
	[KREG_A_MAX_ENTRIES]	= { .type = NLA_REJECT,
				    .reject_message = "limits are module parameters" },
	[KREG_A_MAX_PER_UID]	= { .type = NLA_REJECT,
				    .reject_message = "limits are module parameters" },
	[KREG_A_UID_ENTRIES]	= KREG_SET_BY_KERNEL("a count"),
	[KREG_A_SENDER_UID]	= KREG_SET_BY_KERNEL("the sender"),
	[KREG_A_SENDER_GID]	= KREG_SET_BY_KERNEL("the sender"),
	[KREG_A_SENDER_CGROUP]	= KREG_SET_BY_KERNEL("the sender"),
	[KREG_A_POLICY]		= { .type = NLA_NESTED },
	[KREG_A_RULE]		= { .type = NLA_REJECT,
				    .reject_message = "rules are nested in KREG_A_POLICY" },
	[KREG_A_POLICY_RULES]	= KREG_SET_BY_KERNEL("a count"),
	[KREG_A_GID]		= { .type = NLA_U32 },
	[KREG_A_GROUPS]		= { .type = NLA_BINARY,
				    .len = U16_MAX / sizeof(u32) * sizeof(u32) },
	[KREG_A_RIGHT]		= NLA_POLICY_MASK(NLA_U32, KREG_RIGHTS_ALL),
	[KREG_A_VERDICT]	= KREG_SET_BY_KERNEL("a verdict"),
	[KREG_A_DECIDED_BY]	= KREG_SET_BY_KERNEL("a verdict"),
	[KREG_A_FROM_NAME]	= NLA_POLICY_VALIDATE_FN(NLA_BINARY,
							 kreg_validate_name),
	[KREG_A_SEND_FLAGS]	= NLA_POLICY_MASK(NLA_U32, KREG_SEND_F_ALL),
	[KREG_A_SENDER_FLAGS]	= KREG_SET_BY_KERNEL("the sender"),
	[KREG_A_MAX_SUBSCRIPTIONS] = { .type = NLA_REJECT,
				       .reject_message = "limits are module parameters" },
	[KREG_A_UID_SUBSCRIPTIONS] = KREG_SET_BY_KERNEL("a count"),
	[KREG_A_HOST_UID]	= KREG_SET_BY_KERNEL("the uid"),
	[KREG_A_NODE]		= NLA_POLICY_VALIDATE_FN(NLA_BINARY,
							 kreg_nl_validate_node),
	[KREG_A_TOKEN]		= { .type = NLA_U64 },
	[KREG_A_REMOTE_PID]	= { .type = NLA_U32 },
	[KREG_A_REVISION]	= { .type = NLA_U64 },
	[KREG_A_HEARD_NS]	= { .type = NLA_U64 },
	[KREG_A_DEADLINE_NS]	= { .type = NLA_U64 },
	[KREG_A_REMOTE_UID]	= { .type = NLA_U32 },
	[KREG_A_REMOTE_GID]	= { .type = NLA_U32 },
	[KREG_A_PATTERN]	= NLA_POLICY_VALIDATE_FN(NLA_BINARY,
							 kreg_grammar_pattern_attr),
};

static struct genl_family kreg_family;

/* The principal of a request: its socket's opener, in the sender's pid namespace. */
static void kreg_nl_principal(struct sk_buff *skb, struct kreg_principal *p)
{
	kreg_principal_socket(p, NETLINK_CB(skb).sk);
}

/*
 * A request is judged by its socket's opener, in the pid namespace of the
 * process that sent it: the opener's own is not known. A process writing
 * into a socket of another network namespace is likely not its opener (a
 * host process writing into a container's socket, which would then be
 * judged as the host), so such requests are refused.
 */
static int kreg_nl_same_netns(struct sk_buff *skb, struct netlink_ext_ack *extack)
{
	struct nsproxy *nsproxy = current->nsproxy;

	if (nsproxy && net_eq(nsproxy->net_ns, sock_net(NETLINK_CB(skb).sk)))
		return 0;
	NL_SET_ERR_MSG(extack,
		       "the socket belongs to another network namespace than its sender");
	return -EPERM;
}

/* The name attribute was validated by the policy; the length excludes NUL. */
static int kreg_nl_name(struct genl_info *info, const char **name, size_t *len)
{
	struct nlattr *attr = info->attrs[KREG_A_NAME];

	if (!attr) {
		GENL_REQ_ATTR_CHECK(info, KREG_A_NAME);
		GENL_SET_ERR_MSG(info, "a name (KREG_A_NAME) is required");
		return -EINVAL;
	}
	*name = nla_data(attr);
	*len = nla_len(attr) - 1;
	return 0;
}

/* The registration's value, if any (none: empty). */
static int kreg_nl_meta(struct genl_info *info, const void **meta, size_t *len)
{
	struct nlattr *attr = info->attrs[KREG_A_META];

	*meta = NULL;
	*len = 0;
	if (!attr)
		return 0;
	if (nla_len(attr) > KREG_META_MAX) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "the value is larger than KREG_META_MAX ("
				    __stringify(KREG_META_MAX) " bytes)");
		return -EMSGSIZE;
	}
	*meta = nla_data(attr);
	*len = nla_len(attr);
	return 0;
}

/* A reply naming @name's holder @h, with its value and, when not 0, KREG_A_FLAGS @flags. */
static int kreg_nl_reply_holder(struct genl_info *info, u8 cmd, const char *name,
				const struct kreg_holder_info *h, const void *meta,
				size_t meta_len, u32 flags)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(nla_total_size(KREG_NAME_MAX + 1) + kreg_node_holder_size() +
			  2 * nla_total_size(sizeof(u32)) + nla_total_size(meta_len), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &kreg_family, 0, cmd);
	if (!hdr)
		goto nospace;
	if (nla_put_string(msg, KREG_A_NAME, name) || kreg_node_put_holder(msg, h) ||
	    (meta_len && nla_put(msg, KREG_A_META, meta_len, meta)) ||
	    (flags && nla_put_u32(msg, KREG_A_FLAGS, flags)))
		goto cancel;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

cancel:
	genlmsg_cancel(msg, hdr);
nospace:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/*
 * The process a REGISTER binds: the caller's own by default. Another process
 * must be a child of the caller, unless the caller has CAP_SYS_ADMIN.
 */
static int kreg_nl_holder(struct sk_buff *skb, struct genl_info *info,
			  struct pid **out)
{
	struct nlattr *attr = info->attrs[KREG_A_PID];
	struct task_struct *task = NULL;
	struct pid *pid = NULL;
	bool mine, alive;
	u32 nr;

	if (!attr) {
		*out = get_pid(task_tgid(current));
		return 0;
	}
	nr = nla_get_u32(attr);
	if (nr == 0 || nr > INT_MAX) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "the pid must be a positive process id");
		return -EINVAL;
	}
	pid = find_get_pid(nr);
	if (pid)
		task = get_pid_task(pid, PIDTYPE_TGID);
	if (!task) {
		put_pid(pid);
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "no process has this pid (thread ids are not process ids)");
		return -ESRCH;
	}
	rcu_read_lock();
	mine = same_thread_group(task, current) ||
	       same_thread_group(rcu_dereference(task->real_parent), current);
	alive = atomic_read(&task->signal->live) > 0;
	rcu_read_unlock();
	put_task_struct(task);

	if (!alive) {
		put_pid(pid);
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "the process is exiting");
		return -ESRCH;
	}
	if (!mine && !netlink_capable(skb, CAP_SYS_ADMIN)) {
		put_pid(pid);
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "registering a process other than yourself or your child needs CAP_SYS_ADMIN");
		return -EPERM;
	}
	*out = pid;
	return 0;
}

/*
 * Names under KREG_CLUSTER_PREFIX are claimed (KREG_F_CLUSTER), and only
 * they: a claim waits, invisible, for the relay to win it in the cluster.
 */
static int kreg_nl_claim(struct genl_info *info, struct kreg_request *req)
{
	bool cluster = kreg_nl_cluster_name(req->name, req->name_len);

	if (cluster && !(req->flags & KREG_F_CLUSTER)) {
		GENL_SET_ERR_MSG(info,
				 "names under " KREG_CLUSTER_PREFIX " are the cluster's: claim them with KREG_F_CLUSTER (libkreg's cluster provider)");
		return -EPERM;
	}
	if (!cluster && (req->flags & KREG_F_CLUSTER)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KREG_A_FLAGS],
				    "KREG_F_CLUSTER claims names under " KREG_CLUSTER_PREFIX " only");
		return -EINVAL;
	}
	if (cluster && !kreg_node_has_relay()) {
		GENL_SET_ERR_MSG(info, "this node has no relay: kregd is not running");
		return -ENOTCONN;
	}
	if (cluster)
		req->flags |= KREG_F_PENDING;
	return 0;
}

static int kreg_nl_register(struct sk_buff *skb, struct genl_info *info)
{
	struct kreg_principal p;
	struct kreg_request req = {
		.who		= &p,
		/* Like disk quotas, the per-uid quota yields to CAP_SYS_RESOURCE. */
		.quota_exempt	= netlink_capable(skb, CAP_SYS_RESOURCE),
		/* The sending socket: its identity outlives its port id. */
		.mbox_sk	= NETLINK_CB(skb).sk,
		.mbox_portid	= info->snd_portid,
	};
	struct nlattr *flags = info->attrs[KREG_A_FLAGS];
	struct kreg_holder_info holder = {};
	int err;

	err = kreg_nl_name(info, &req.name, &req.name_len);
	if (err)
		return err;
	err = kreg_nl_meta(info, &req.meta, &req.meta_len);
	if (err)
		return err;
	if (flags)
		req.flags = nla_get_u32(flags);
	if ((req.flags & KREG_F_QUEUE) &&
	    ((req.flags & KREG_F_CLUSTER) || kreg_nl_cluster_name(req.name, req.name_len))) {
		NL_SET_ERR_MSG_ATTR(info->extack, flags,
				    "KREG_F_QUEUE is for names of this host: a cluster name has one holder in the cluster and no line");
		return -EOPNOTSUPP;
	}
	err = kreg_nl_claim(info, &req);
	if (err)
		return err;
	/* Before the table is asked: whether the name is held is not told here. */
	kreg_nl_principal(skb, &p);
	if (!kreg_access_own(&p, req.name, req.name_len, req.flags)) {
		GENL_SET_ERR_MSG(info, "no right to own this name (OWN)");
		return -EACCES;
	}
	err = kreg_nl_holder(skb, info, &req.pid);
	if (err)
		return err;
	err = kreg_table_register(&req, &holder);
	/* In line is -EINPROGRESS to tracers, as kreg_register_queued() says it. */
	trace_kreg_register(req.name, pid_nr(req.pid), from_kuid(&init_user_ns, p.uid),
			    err == KREG_QUEUED ? -EINPROGRESS : err);
	put_pid(req.pid);

	switch (err) {
	case 0:
		/*
		 * The name is registered whatever happens to the reply: report
		 * success rather than a failure that did not happen.
		 */
		kreg_nl_reply_holder(info, KREG_CMD_REGISTER, req.name, &holder, NULL, 0, 0);
		return 0;
	case KREG_QUEUED:
		/* In line, whatever happens to the reply: it says the holder, if seen. */
		kreg_nl_reply_holder(info, KREG_CMD_REGISTER, req.name, &holder, NULL, 0,
				     KREG_F_QUEUE);
		return 0;
	case -EALREADY:
		GENL_SET_ERR_MSG(info, "this process waits in line for the name already");
		break;
	case -EUSERS:
		GENL_SET_ERR_MSG(info, "the line for this name is full (KREG_LINE_MAX processes wait in it)");
		break;
	case -EEXIST:
		/* The holder, unless the caller's namespace or rights hide it. */
		if (holder.pid || (holder.flags & KREG_F_REMOTE))
			kreg_nl_reply_holder(info, KREG_CMD_REGISTER, req.name, &holder,
					     NULL, 0, 0);
		GENL_SET_ERR_MSG(info, "the name is already registered");
		break;
	case -EBUSY:
		GENL_SET_ERR_MSG(info, "another claim on this name is being decided on this node");
		break;
	case -ENOSPC:
		GENL_SET_ERR_MSG(info, "the registry is full (max_entries)");
		break;
	case -EDQUOT:
		GENL_SET_ERR_MSG(info,
				 "this uid holds its quota of names (max_per_uid; a user namespace's uids share its owner's)");
		break;
	case -ESHUTDOWN:
		GENL_SET_ERR_MSG(info, "kreg is being unloaded");
		break;
	case -ESRCH:
		GENL_SET_ERR_MSG(info, "the process is exiting");
		break;
	}
	return err;
}

static int kreg_nl_unregister(struct sk_buff *skb, struct genl_info *info)
{
	struct kreg_principal p;
	const char *name;
	size_t len;
	bool admin;
	int err;

	err = kreg_nl_name(info, &name, &len);
	if (err)
		return err;
	kreg_nl_principal(skb, &p);
	/* A process in line leaves it (D-Bus's ReleaseName): nothing else changes. */
	if (!kreg_table_leave_line(name, len, &p))
		return 0;
	/* Ask for the capability only when it matters, so audit logs stay quiet. */
	admin = !kreg_table_owned_by(name, len, &p) &&
		netlink_capable(skb, CAP_SYS_ADMIN);
	err = kreg_table_unregister(name, len, &p, admin);
	if (err == -ENOENT)
		GENL_SET_ERR_MSG(info, "the name is not registered");
	else if (err == -EPERM)
		GENL_SET_ERR_MSG(info,
				 "another uid, or a container, registered this name; releasing it needs CAP_SYS_ADMIN");
	else if (err == -EREMOTE)
		GENL_SET_ERR_MSG(info, "the name is held on another node: it is released there");
	return err;
}

static int kreg_nl_update(struct sk_buff *skb, struct genl_info *info)
{
	static const int registration_only[] = { KREG_A_PID, KREG_A_FLAGS };
	struct kreg_principal p;
	const char *name;
	const void *meta;
	size_t len, meta_len;
	unsigned int i;
	int err;

	/* The holder and the kind of name stay what they were registered with. */
	for (i = 0; i < ARRAY_SIZE(registration_only); i++) {
		if (info->attrs[registration_only[i]]) {
			NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[registration_only[i]],
					    "an update changes the value (KREG_A_META) only");
			return -EINVAL;
		}
	}
	err = kreg_nl_name(info, &name, &len);
	if (err)
		return err;
	err = kreg_nl_meta(info, &meta, &meta_len);
	if (err)
		return err;
	kreg_nl_principal(skb, &p);
	err = kreg_table_update(name, len, meta, meta_len, &p);
	switch (err) {
	case -ENOENT:
		GENL_SET_ERR_MSG(info, "the name is not registered");
		break;
	case -EPERM:
		GENL_SET_ERR_MSG(info,
				 "another uid, or a container, registered this name: only its registrant changes its value");
		break;
	case -EREMOTE:
		GENL_SET_ERR_MSG(info, "the name is held on another node");
		break;
	case -EOPNOTSUPP:
		GENL_SET_ERR_MSG(info,
				 "a cluster name's value is the cluster's: it does not change in place");
		break;
	case -ESHUTDOWN:
		GENL_SET_ERR_MSG(info, "kreg is being unloaded");
		break;
	}
	return err;
}

static int kreg_nl_whereis(struct sk_buff *skb, struct genl_info *info)
{
	struct kreg_principal p;
	struct kreg_found found;
	const char *name;
	size_t len;
	int err;

	err = kreg_nl_name(info, &name, &len);
	if (err)
		return err;
	kreg_nl_principal(skb, &p);
	err = kreg_table_whereis(name, len, &p, kreg_node_is_relay(NETLINK_CB(skb).sk),
				 &found);
	if (err) {
		GENL_SET_ERR_MSG(info, "the name is not registered");
		return err;
	}
	return kreg_nl_reply_holder(info, KREG_CMD_WHEREIS, name, &found.holder,
				    found.meta, found.meta_len, 0);
}

/* SEND's failures, from the lookup or the delivery, each with its reason. */
static int kreg_nl_send_error(struct genl_info *info, int err)
{
	switch (err) {
	case -ENOENT:
		GENL_SET_ERR_MSG(info, "the name is not registered");
		break;
	case -EACCES:
		GENL_SET_ERR_MSG(info, "no right to send to this name (SEND)");
		break;
	case -EPERM:
		GENL_SET_ERR_MSG(info,
				 "the sender does not hold KREG_A_FROM_NAME (another node's: a cluster name it holds there, or its own user. name)");
		break;
	case -ECONNREFUSED:
		GENL_SET_ERR_MSG(info,
				 "the name has no mailbox: the socket that registered it is closed");
		break;
	case -EAGAIN:
		GENL_SET_ERR_MSG(info,
				 "the mailbox is full for this sender (its share): try again once it has read");
		break;
	case -EREMOTE:
		GENL_SET_ERR_MSG(info,
				 "the name is held on another node: send through kregd (libkreg's cluster provider)");
		break;
	case -ESTALE:
		GENL_SET_ERR_MSG(info,
				 "the name's holder is not the one KREG_A_TOKEN was granted to");
		break;
	}
	return err;
}

/* Who sent for another node's process: that node, and its ids there. */
struct kreg_nl_remote {
	const char	*node;
	u32		pid;
	u32		uid;
	u32		gid;
};

/*
 * Its node and ids as that node told them, no process, uid or gid of this
 * host; and the name it holds there, if it named one.
 */
static int kreg_nl_put_remote_sender(struct sk_buff *msg, const struct kreg_route *route,
				     const char *from, const struct kreg_nl_remote *r)
{
	if (nla_put_u32(msg, KREG_A_SENDER_PID, 0) ||
	    nla_put_u32(msg, KREG_A_SENDER_UID, (u32)-1) ||
	    nla_put_u32(msg, KREG_A_SENDER_GID, (u32)-1) ||
	    nla_put_u64_64bit(msg, KREG_A_SENDER_CGROUP, 0, KREG_A_PAD) ||
	    nla_put_u32(msg, KREG_A_SENDER_FLAGS, route->sender_flags) ||
	    nla_put_string(msg, KREG_A_NODE, r->node) ||
	    nla_put_u32(msg, KREG_A_REMOTE_PID, r->pid) ||
	    nla_put_u32(msg, KREG_A_REMOTE_UID, r->uid) ||
	    nla_put_u32(msg, KREG_A_REMOTE_GID, r->gid) ||
	    (from && nla_put_string(msg, KREG_A_FROM_NAME, from)))
		return -EMSGSIZE;
	return 0;
}

/* What a delivery says of its sender, in the receiver's namespaces. */
static int kreg_nl_put_sender(struct sk_buff *msg, const struct kreg_route *route,
			      const struct kreg_principal *p, const char *from,
			      const struct kreg_nl_remote *remote)
{
	struct user_namespace *ns = kreg_mailbox_user_ns(route->mbox);
	u64 cgroup;

	if (remote)
		return kreg_nl_put_remote_sender(msg, route, from, remote);

	/* A sender the receiver cannot see is told nothing of: not its cgroup either. */
	cgroup = 0;
	if (route->sender) {
		rcu_read_lock();
		cgroup = cgroup_id(task_dfl_cgroup(current));
		rcu_read_unlock();
	}
	if (nla_put_u32(msg, KREG_A_SENDER_PID, route->sender) ||
	    nla_put_u32(msg, KREG_A_SENDER_UID, from_kuid_munged(ns, p->uid)) ||
	    nla_put_u32(msg, KREG_A_SENDER_GID, from_kgid_munged(ns, p->gid)) ||
	    nla_put_u64_64bit(msg, KREG_A_SENDER_CGROUP, cgroup, KREG_A_PAD) ||
	    nla_put_u32(msg, KREG_A_SENDER_FLAGS, route->sender_flags) ||
	    (from && nla_put_string(msg, KREG_A_FROM_NAME, from)))
		return -EMSGSIZE;
	return 0;
}

static int kreg_nl_send_traced(struct sk_buff *skb, struct genl_info *info);

static int kreg_nl_send(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *payload = info->attrs[KREG_A_PAYLOAD];
	struct nlattr *name = info->attrs[KREG_A_NAME];
	/* The node it sent for: the relay's, or what another socket claimed (EPERM). */
	struct nlattr *node = info->attrs[KREG_A_NODE];
	int err = kreg_nl_send_traced(skb, info);

	if (name)
		trace_kreg_send(nla_data(name), task_tgid_nr(current),
				payload ? nla_len(payload) : 0, err,
				node ? (const char *)nla_data(node) : "");
	return err;
}

/*
 * Whom a SEND is for: the requesting socket's opener, or, from the relay
 * alone, a process of another node (KREG_A_NODE and its ids there), in
 * @remote; and the account its mail counts toward.
 */
static int kreg_nl_sender(struct sk_buff *skb, struct genl_info *info,
			  struct kreg_principal *p, struct kreg_nl_remote *remote,
			  bool *relayed, u64 *account)
{
	static const int remote_only[] = { KREG_A_REMOTE_PID, KREG_A_REMOTE_UID,
					   KREG_A_REMOTE_GID };
	struct nlattr *node = info->attrs[KREG_A_NODE];
	unsigned int i;
	int err;

	*relayed = false;
	if (!node) {
		for (i = 0; i < ARRAY_SIZE(remote_only); i++) {
			if (info->attrs[remote_only[i]]) {
				NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[remote_only[i]],
						    "a remote sender's ids need its node (KREG_A_NODE)");
				return -EINVAL;
			}
		}
		kreg_nl_principal(skb, p);
		*account = kreg_account(p->cred, p->pid_ns);
		return 0;
	}
	err = kreg_nl_relay_only(skb, info);
	if (err)
		return err;
	/* Its names are its node's: none of them is released here. */
	if (info->attrs[KREG_A_SEND_FLAGS] &&
	    (nla_get_u32(info->attrs[KREG_A_SEND_FLAGS]) & KREG_SEND_F_RELEASE_FROM)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KREG_A_SEND_FLAGS],
				    "another node's process releases no name here");
		return -EINVAL;
	}
	if (kreg_node_is_self(nla_data(node), nla_len(node) - 1)) {
		NL_SET_ERR_MSG_ATTR(info->extack, node,
				    "this node's own processes send for themselves");
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(remote_only); i++) {
		if (!info->attrs[remote_only[i]]) {
			NL_SET_ERR_MSG(info->extack,
				       "a remote sender has its pid, uid and gid there (KREG_A_REMOTE_PID, _UID, _GID)");
			return -EINVAL;
		}
	}
	remote->node = nla_data(node);
	remote->pid = nla_get_u32(info->attrs[KREG_A_REMOTE_PID]);
	remote->uid = nla_get_u32(info->attrs[KREG_A_REMOTE_UID]);
	remote->gid = nla_get_u32(info->attrs[KREG_A_REMOTE_GID]);
	kreg_principal_remote(p, remote->node, nla_len(node) - 1);
	p->remote_uid = remote->uid;
	*account = kreg_account_node(remote->node, nla_len(node) - 1);
	*relayed = true;
	return 0;
}

/*
 * The lookup is an RCU read that takes a counted reference on the mailbox;
 * the delivery happens after it, outside RCU and any table lock, in process
 * context: on PREEMPT_RT the socket locks it takes may sleep, which is
 * allowed there.
 */
static int kreg_nl_send_traced(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *payload = info->attrs[KREG_A_PAYLOAD];
	struct nlattr *from_attr = info->attrs[KREG_A_FROM_NAME];
	struct nlattr *flags_attr = info->attrs[KREG_A_SEND_FLAGS];
	struct nlattr *token_attr = info->attrs[KREG_A_TOKEN];
	u32 flags = flags_attr ? nla_get_u32(flags_attr) : 0;
	u64 token = token_attr ? nla_get_u64(token_attr) : 0;
	const char *name, *from = NULL;
	size_t len, from_len = 0;
	struct kreg_nl_remote remote;
	struct kreg_principal p;
	struct kreg_route route;
	struct sk_buff *msg;
	bool relayed;
	u64 account;
	void *hdr;
	int err;

	err = kreg_nl_name(info, &name, &len);
	if (err)
		return err;
	if (!payload) {
		GENL_REQ_ATTR_CHECK(info, KREG_A_PAYLOAD);
		GENL_SET_ERR_MSG(info, "a payload (KREG_A_PAYLOAD) is required");
		return -EINVAL;
	}
	if (nla_len(payload) > KREG_PAYLOAD_MAX) {
		NL_SET_ERR_MSG_ATTR(info->extack, payload,
				    "the payload is larger than KREG_PAYLOAD_MAX ("
				    __stringify(KREG_PAYLOAD_MAX) " bytes)");
		return -EMSGSIZE;
	}
	if (from_attr) {
		from = nla_data(from_attr);
		from_len = nla_len(from_attr) - 1;
	} else if (flags & KREG_SEND_F_RELEASE_FROM) {
		NL_SET_ERR_MSG_ATTR(info->extack, flags_attr,
				    "KREG_SEND_F_RELEASE_FROM needs KREG_A_FROM_NAME");
		return -EINVAL;
	}

	if (token_attr && !token) {
		NL_SET_ERR_MSG_ATTR(info->extack, token_attr,
				    "a fencing token is never 0");
		return -EINVAL;
	}
	err = kreg_nl_sender(skb, info, &p, &remote, &relayed, &account);
	if (err)
		return err;
	err = kreg_table_route(name, len, from, from_len, token, &p, &route);
	if (err)
		return kreg_nl_send_error(info, err);

	err = -ENOMEM;
	msg = genlmsg_new(nla_total_size(len + 1) + nla_total_size(from_len + 1) +
			  4 * nla_total_size(sizeof(u32)) +
			  nla_total_size_64bit(sizeof(u64)) +
			  (relayed ? nla_total_size(KREG_NODE_MAX + 1) +
				     3 * nla_total_size(sizeof(u32)) : 0) +
			  nla_total_size(nla_len(payload)), GFP_KERNEL);
	if (!msg)
		goto put_mailbox;
	hdr = genlmsg_put(msg, 0, 0, &kreg_family, 0, KREG_CMD_DELIVER);
	if (!hdr || nla_put_string(msg, KREG_A_NAME, name) ||
	    kreg_nl_put_sender(msg, &route, &p, from, relayed ? &remote : NULL) ||
	    nla_put(msg, KREG_A_PAYLOAD, nla_len(payload), nla_data(payload))) {
		nlmsg_free(msg);
		err = -EMSGSIZE;
		goto put_mailbox;
	}
	genlmsg_end(msg, hdr);
	err = kreg_mailbox_admit(route.mbox, msg, account);
	if (!err) {
		/*
		 * The message fits: the name goes now, so that the receiver,
		 * once it has the message, finds it gone. (Only a socket that
		 * closes in between can still refuse it.)
		 */
		if (flags & KREG_SEND_F_RELEASE_FROM)
			kreg_table_release_own(from, from_len, &p);
		err = kreg_mailbox_commit(route.mbox, msg, account);
	}
	err = kreg_nl_send_error(info, err);
put_mailbox:
	kreg_mailbox_put(route.mbox);
	return err;
}

/* What a lister learns of an entry's flags: not whether it is a claim, but the relay. */
static u32 kreg_nl_entry_flags(const struct kreg_holder_info *h, bool relay)
{
	return h->flags & (KREG_F_MAILBOX_BOUND | KREG_F_CLUSTER | KREG_F_REMOTE |
			   (relay ? KREG_F_PENDING : 0));
}

static int kreg_nl_put_entry(struct sk_buff *skb, struct netlink_callback *cb,
			     const struct kreg_entry *e, const struct kreg_holder_info *h,
			     const struct kreg_principal *p, bool relay)
{
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &kreg_family, NLM_F_MULTI, KREG_CMD_LIST);
	if (!hdr)
		return -EMSGSIZE;
	genl_dump_check_consistent(cb, hdr);
	if (nla_put_string(skb, KREG_A_NAME, e->name) ||
	    kreg_node_put_holder(skb, h) ||
	    nla_put_u32(skb, KREG_A_FLAGS, kreg_nl_entry_flags(h, relay)) ||
	    /* Uids of other hosts mean nothing here. */
	    (!(h->flags & KREG_F_REMOTE) &&
	     nla_put_u32(skb, KREG_A_UID, from_kuid_munged(p->user_ns, e->uid))) ||
	    nla_put_u64_64bit(skb, KREG_A_REGISTERED_NS, e->registered_ns,
			      KREG_A_PAD) ||
	    (rcu_access_pointer(e->mbox) && nla_put_flag(skb, KREG_A_MAILBOX)) ||
	    (e->meta_len &&
	     nla_put(skb, KREG_A_META, e->meta_len, kreg_entry_meta(e)))) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/*
 * cb->args[0] is the id to resume at: an entry that lives through the dump
 * is listed once. cb->seq is the table's generation: netlink flags the dump
 * NLM_F_DUMP_INTR when it changed between two parts. The dump reads under
 * RCU, KREG_LIST_BATCH entries at a time whatever it reports, and takes no
 * kreg lock, so a dump of any size never delays a change, nor an exit, nor
 * another task on its CPU. Names the caller may not SEE, and holders its
 * pid namespace cannot see, are left out, as if absent.
 */
static int kreg_nl_list(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct nlattr **attrs = genl_dumpit_info(cb)->attrs;
	const char *pattern = NULL;
	unsigned long id = cb->args[0];
	struct kreg_holder_info h;
	struct kreg_principal p;
	struct kreg_entry *e;
	unsigned int n = 0;
	bool full = false, relay;
	size_t plen = 0;
	pid_t pid = 0;
	int err;

	err = kreg_nl_same_netns(cb->skb, cb->extack);
	if (err)
		return err;
	/* Filters (validated by the policy): what does not match is never sent. */
	if (attrs && attrs[KREG_A_PATTERN]) {
		pattern = nla_data(attrs[KREG_A_PATTERN]);
		plen = strlen(pattern);
	}
	if (attrs && attrs[KREG_A_PID]) {
		pid = nla_get_u32(attrs[KREG_A_PID]);
		if (pid <= 0) {
			NL_SET_ERR_MSG_ATTR(cb->extack, attrs[KREG_A_PID],
					    "the pid must be a positive process id");
			return -EINVAL;
		}
	}
	kreg_nl_principal(cb->skb, &p);
	/* The relay lists this node's claims too, to find its own again. */
	relay = kreg_node_is_relay(NETLINK_CB(cb->skb).sk);
	cb->seq = kreg_table_generation();
	rcu_read_lock();
	while (!full && (e = kreg_table_next(&id))) {
		if (kreg_entry_alive(e) &&
		    (!pattern || kreg_pattern_matches(pattern, plen, e->name, e->name_len)) &&
		    kreg_entry_pid_in(e, p.pid_ns) &&
		    (!kreg_entry_pending(e) || relay) &&
		    kreg_access(&p, e->name, e->name_len, KREG_RIGHT_SEE,
				KREG_OWNER_OF(e))) {
			kreg_entry_holder_in(e, p.pid_ns, &h);
			/* The entry that does not fit is the next part's first. */
			if (!pid || h.pid == pid)
				full = kreg_nl_put_entry(skb, cb, e, &h, &p, relay);
		}
		if (full)
			break;
		id++;
		/* Between entries, never holding one: @e is not used again. */
		if (++n % KREG_LIST_BATCH == 0) {
			rcu_read_unlock();
			cond_resched();
			rcu_read_lock();
		}
	}
	rcu_read_unlock();
	cb->args[0] = id;
	return skb->len;
}

static int kreg_nl_status(struct sk_buff *skb, struct genl_info *info)
{
	const struct kreg_policy *policy;
	struct kreg_principal p;
	struct kreg_status st;
	struct sk_buff *msg;
	u64 revision, heard;
	bool admin;
	u64 account;
	int rules = -1;
	void *hdr;

	kreg_nl_principal(skb, &p);
	account = kreg_account(p.cred, p.pid_ns);
	kreg_table_status(account, &st);
	/*
	 * How many names there are, and how many rules decide who sees them,
	 * would tell of names the caller may not see: for administrators only.
	 */
	admin = netlink_capable(skb, CAP_SYS_ADMIN);
	rcu_read_lock();
	policy = kreg_policy_current();
	if (policy)
		rules = admin ? kreg_policy_rules(policy) : 0;
	rcu_read_unlock();
	kreg_table_cluster_copy(&revision, &heard);
	msg = genlmsg_new(9 * nla_total_size(sizeof(u32)) + kreg_node_holder_size() +
			  2 * nla_total_size_64bit(sizeof(u64)), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &kreg_family, 0, KREG_CMD_STATUS);
	if (!hdr || (admin && nla_put_u32(msg, KREG_A_ENTRIES, st.entries)) ||
	    nla_put_u32(msg, KREG_A_MAX_ENTRIES, st.max_entries) ||
	    nla_put_u32(msg, KREG_A_MAX_PER_UID, st.max_per_uid) ||
	    nla_put_u32(msg, KREG_A_UID, from_kuid_munged(p.user_ns, p.uid)) ||
	    nla_put_u32(msg, KREG_A_HOST_UID, from_kuid(&init_user_ns, p.uid)) ||
	    nla_put_u32(msg, KREG_A_UID_ENTRIES, st.uid_entries) ||
	    nla_put_u32(msg, KREG_A_MAX_SUBSCRIPTIONS,
			READ_ONCE(kreg_max_subscriptions)) ||
	    nla_put_u32(msg, KREG_A_UID_SUBSCRIPTIONS, kreg_events_count(account)) ||
	    (rules >= 0 && nla_put_u32(msg, KREG_A_POLICY_RULES, rules)) ||
	    kreg_node_put_self(msg) ||
	    (revision && (nla_put_u64_64bit(msg, KREG_A_REVISION, revision, KREG_A_PAD) ||
			  nla_put_u64_64bit(msg, KREG_A_HEARD_NS, heard, KREG_A_PAD)))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int kreg_nl_subscribe(struct sk_buff *skb, struct genl_info *info)
{
	struct kreg_principal p;
	int err;

	kreg_nl_principal(skb, &p);
	err = kreg_events_subscribe(NETLINK_CB(skb).sk, info->snd_portid, &p,
				    netlink_capable(skb, CAP_SYS_RESOURCE),
				    info->attrs[KREG_A_PATTERN] ?
				    nla_data(info->attrs[KREG_A_PATTERN]) : NULL);
	if (err == -EDQUOT)
		GENL_SET_ERR_MSG(info,
				 "this uid has its max_subscriptions (a user namespace's uids share its owner's)");
	return err;
}

/* The relay's attributes belong to the relay's commands. */
static int kreg_nl_relay_attrs(u8 cmd, struct genl_info *info)
{
	static const int relay_only[] = { KREG_A_NODE, KREG_A_TOKEN, KREG_A_REMOTE_PID,
					  KREG_A_REVISION, KREG_A_HEARD_NS, KREG_A_REASON,
					  KREG_A_DEADLINE_NS, KREG_A_REMOTE_UID,
					  KREG_A_REMOTE_GID };
	/* A SEND's: any sender's token, and the relay's remote sender (checked there). */
	static const int send_too[] = { KREG_A_NODE, KREG_A_TOKEN, KREG_A_REMOTE_PID,
					KREG_A_REMOTE_UID, KREG_A_REMOTE_GID };
	unsigned int i, j;
	bool allowed;

	if (cmd >= KREG_CMD_RELAY && cmd <= KREG_CMD_LEASE)
		return 0;
	for (i = 0; i < ARRAY_SIZE(relay_only); i++) {
		allowed = false;
		for (j = 0; cmd == KREG_CMD_SEND && j < ARRAY_SIZE(send_too); j++)
			allowed |= relay_only[i] == send_too[j];
		if (!allowed && info->attrs[relay_only[i]]) {
			NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[relay_only[i]],
					    "only the relay's commands take this attribute");
			return -EINVAL;
		}
	}
	return 0;
}

/* Requests judged by name must not carry a policy's, a check's or a send's attributes. */
static int kreg_nl_pre_doit(const struct genl_ops *ops, struct sk_buff *skb,
			    struct genl_info *info)
{
	static const int check_only[] = { KREG_A_GID, KREG_A_GROUPS, KREG_A_RIGHT };
	static const int send_only[] = { KREG_A_FROM_NAME, KREG_A_SEND_FLAGS };
	struct nlattr **attrs = info->attrs;
	unsigned int i;
	int err;

	err = kreg_nl_same_netns(skb, info->extack);
	if (err)
		return err;
	if (ops->cmd != KREG_CMD_SEND) {
		for (i = 0; i < ARRAY_SIZE(send_only); i++) {
			if (attrs[send_only[i]]) {
				NL_SET_ERR_MSG_ATTR(info->extack, attrs[send_only[i]],
						    "only KREG_CMD_SEND takes this attribute");
				return -EINVAL;
			}
		}
	}
	if (ops->cmd != KREG_CMD_SUBSCRIBE && attrs[KREG_A_PATTERN]) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[KREG_A_PATTERN],
				    "only KREG_CMD_LIST and KREG_CMD_SUBSCRIBE take a pattern");
		return -EINVAL;
	}
	if (ops->cmd == KREG_CMD_POLICY_CHECK)
		return 0;
	if (ops->cmd != KREG_CMD_POLICY_SET && attrs[KREG_A_POLICY]) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[KREG_A_POLICY],
				    "only KREG_CMD_POLICY_SET takes a policy");
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(check_only); i++) {
		if (attrs[check_only[i]]) {
			NL_SET_ERR_MSG_ATTR(info->extack, attrs[check_only[i]],
					    "only KREG_CMD_POLICY_CHECK takes this attribute");
			return -EINVAL;
		}
	}
	if (attrs[KREG_A_UID]) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[KREG_A_UID],
				    "the uid is set by the kernel");
		return -EINVAL;
	}
	return kreg_nl_relay_attrs(ops->cmd, info);
}

static const struct genl_small_ops kreg_ops[] = {
	{ .cmd = KREG_CMD_REGISTER,	.doit = kreg_nl_register },
	{ .cmd = KREG_CMD_UNREGISTER,	.doit = kreg_nl_unregister },
	{ .cmd = KREG_CMD_WHEREIS,	.doit = kreg_nl_whereis },
	{ .cmd = KREG_CMD_LIST,		.dumpit = kreg_nl_list },
	{ .cmd = KREG_CMD_SEND,		.doit = kreg_nl_send },
	{ .cmd = KREG_CMD_STATUS,	.doit = kreg_nl_status },
	{ .cmd = KREG_CMD_SUBSCRIBE,	.doit = kreg_nl_subscribe },
	{ .cmd = KREG_CMD_POLICY_SET,	.doit = kreg_nl_policy_set },
	{ .cmd = KREG_CMD_POLICY_GET,	.dumpit = kreg_nl_policy_get },
	{ .cmd = KREG_CMD_POLICY_CHECK,	.doit = kreg_nl_policy_check },
	{ .cmd = KREG_CMD_RELAY,	.doit = kreg_nl_relay },
	{ .cmd = KREG_CMD_COMMIT,	.doit = kreg_nl_commit },
	{ .cmd = KREG_CMD_MIRROR,	.doit = kreg_nl_mirror },
	{ .cmd = KREG_CMD_UNMIRROR,	.doit = kreg_nl_unmirror },
	{ .cmd = KREG_CMD_FENCE,	.doit = kreg_nl_fence },
	{ .cmd = KREG_CMD_PROGRESS,	.doit = kreg_nl_progress },
	{ .cmd = KREG_CMD_LEASE,	.doit = kreg_nl_lease },
	{ .cmd = KREG_CMD_UPDATE,	.doit = kreg_nl_update },
};

static struct genl_family kreg_family __ro_after_init = {
	.name		= KREG_GENL_NAME,
	.version	= KREG_GENL_VERSION,
	.maxattr	= KREG_A_MAX,
	.policy		= kreg_policy,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.pre_doit	= kreg_nl_pre_doit,
	.small_ops	= kreg_ops,
	.n_small_ops	= ARRAY_SIZE(kreg_ops),
};

struct genl_family *kreg_nl_family(void)
{
	return &kreg_family;
}

/*
 * A closing socket stops being a mailbox, its names bound to it go, and it
 * stops receiving events. Netlink's release notifier chain is a blocking
 * one, so this may sleep on any kernel; it runs for every generic netlink
 * socket of the host, and costs the others two lookups under RCU.
 */
static int kreg_nl_release(struct notifier_block *nb, unsigned long state,
			   void *data)
{
	struct netlink_notify *n = data;

	if (state == NETLINK_URELEASE && n->protocol == NETLINK_GENERIC &&
	    n->portid) {
		kreg_table_socket_closed(n->net, n->portid);
		kreg_events_socket_closed(n->net, n->portid);
		kreg_node_socket_closed(n->net, n->portid);
	}
	return NOTIFY_DONE;
}

static struct notifier_block kreg_nl_notifier = {
	.notifier_call = kreg_nl_release,
};

int kreg_netlink_init(void)
{
	int err;

	err = kreg_events_init(&kreg_family);
	if (err)
		return err;
	err = netlink_register_notifier(&kreg_nl_notifier);
	if (err)
		goto exit_events;
	err = genl_register_family(&kreg_family);
	if (err)
		goto unregister_notifier;
	return 0;

unregister_notifier:
	netlink_unregister_notifier(&kreg_nl_notifier);
exit_events:
	kreg_events_exit();
	return err;
}

void kreg_netlink_exit(void)
{
	genl_unregister_family(&kreg_family);
	netlink_unregister_notifier(&kreg_nl_notifier);
	kreg_events_exit();
}
