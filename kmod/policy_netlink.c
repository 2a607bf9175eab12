// SPDX-License-Identifier: GPL-2.0
/*
 * The policy's commands: load (or unload) it, list its rules, and ask what
 * it decides for a uid, a name and a right. All three need CAP_SYS_ADMIN in
 * the initial user namespace, for the sending socket's opener and for the
 * caller: a policy can name services nobody else may see.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/netlink.h>
#include <linux/pid_namespace.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>
#include <net/genetlink.h>

#include "access.h"
#include "netlink.h"
#include "policy.h"
#include "table.h"

static bool kreg_nl_admin(struct sk_buff *skb, struct netlink_ext_ack *extack)
{
	if (netlink_capable(skb, CAP_SYS_ADMIN))
		return true;
	NL_SET_ERR_MSG(extack,
		       "the policy is CAP_SYS_ADMIN's, in the initial user namespace");
	return false;
}

/* One rule, as loaded: the pattern spelled as written. */
static int kreg_nl_put_rule(struct sk_buff *msg, const struct kreg_rule *r)
{
	struct nlattr *nest = nla_nest_start(msg, KREG_A_RULE);
	char pattern[KREG_NAME_MAX + 2];
	u32 id = 0;

	if (!nest)
		return -EMSGSIZE;
	if (r->prefix)
		snprintf(pattern, sizeof(pattern), "%s*", r->key);
	else
		strscpy(pattern, r->key, sizeof(pattern));
	if (r->who == KREG_WHO_UID)
		id = from_kuid_munged(current_user_ns(), r->uid);
	else if (r->who == KREG_WHO_GID)
		id = from_kgid_munged(current_user_ns(), r->gid);
	if (nla_put_u32(msg, KREG_RULE_A_EFFECT, r->effect) ||
	    nla_put_u32(msg, KREG_RULE_A_RIGHTS, r->rights) ||
	    nla_put_string(msg, KREG_RULE_A_PATTERN, pattern) ||
	    nla_put_u32(msg, KREG_RULE_A_WHO, r->who) ||
	    ((r->who == KREG_WHO_UID || r->who == KREG_WHO_GID) &&
	     nla_put_u32(msg, KREG_RULE_A_ID, id)) ||
	    (r->who == KREG_WHO_NODE && nla_put_string(msg, KREG_RULE_A_NODE, r->node)) ||
	    (*r->source && nla_put_string(msg, KREG_RULE_A_SOURCE, r->source))) {
		nla_nest_cancel(msg, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, nest);
	return 0;
}

/* The largest rule message: pattern, source, node, five u32 and the nest. */
#define KREG_RULE_SIZE	(nla_total_size(0) + 5 * nla_total_size(sizeof(u32)) + \
			 nla_total_size(KREG_NAME_MAX + 2) + \
			 nla_total_size(KREG_POLICY_SOURCE_MAX) + \
			 nla_total_size(KREG_NODE_MAX + 1))

/*
 * Replaces the policy by the rules nested in KREG_A_POLICY (none: unloads
 * it). A bad rule changes nothing. The names the new policy denies their
 * registrant go (KREG_REASON_REVOKED) before this returns.
 */
int kreg_nl_policy_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *rules = info->attrs[KREG_A_POLICY];
	struct kreg_policy *policy = NULL;

	if (!kreg_nl_admin(skb, info->extack))
		return -EPERM;
	if (rules) {
		policy = kreg_policy_build(rules, info->extack);
		if (IS_ERR(policy))
			return PTR_ERR(policy);
	}
	kreg_table_set_policy(policy);
	return 0;
}

/* cb->args[0]: the next rule; cb->seq: which load is being listed. */
int kreg_nl_policy_get(struct sk_buff *skb, struct netlink_callback *cb)
{
	const struct kreg_policy *policy;
	const struct kreg_rule *r;
	unsigned long i = cb->args[0];
	void *hdr;

	if (!kreg_nl_admin(cb->skb, cb->extack))
		return -EPERM;
	rcu_read_lock();
	policy = kreg_policy_current();
	cb->seq = kreg_policy_generation(policy);
	for (; policy && (r = kreg_policy_rule(policy, i)); i++) {
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, kreg_nl_family(), NLM_F_MULTI,
				  KREG_CMD_POLICY_GET);
		if (!hdr)
			break;
		genl_dump_check_consistent(cb, hdr);
		if (kreg_nl_put_rule(skb, r)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	rcu_read_unlock();
	cb->args[0] = i;
	return skb->len;
}

/* POLICY_CHECK's principal: a uid of the host, no capability. */
static int kreg_nl_check_principal(struct genl_info *info,
				   struct kreg_principal *p, kgid_t **gids)
{
	struct nlattr *groups = info->attrs[KREG_A_GROUPS];
	unsigned int i, n;
	const u32 *raw;

	memset(p, 0, sizeof(*p));
	p->uid = make_kuid(current_user_ns(), nla_get_u32(info->attrs[KREG_A_UID]));
	p->gid = info->attrs[KREG_A_GID] ?
		 make_kgid(current_user_ns(), nla_get_u32(info->attrs[KREG_A_GID])) :
		 INVALID_GID;
	p->user_ns = &init_user_ns;
	p->pid_ns = &init_pid_ns;
	p->host = true;
	p->admin = KREG_ADMIN_NO;
	if (!uid_valid(p->uid)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KREG_A_UID],
				    "the uid is not valid");
		return -EINVAL;
	}
	*gids = NULL;
	if (!groups)
		return 0;
	if (nla_len(groups) % sizeof(u32)) {
		NL_SET_ERR_MSG_ATTR(info->extack, groups,
				    "groups are an array of u32 gids");
		return -EINVAL;
	}
	n = nla_len(groups) / sizeof(u32);
	*gids = kcalloc(max(n, 1U), sizeof(**gids), GFP_KERNEL);
	if (!*gids)
		return -ENOMEM;
	raw = nla_data(groups);
	for (i = 0; i < n; i++)
		(*gids)[i] = make_kgid(current_user_ns(), raw[i]);
	p->more_gids = *gids;
	p->n_more_gids = n;
	return 0;
}

int kreg_nl_policy_check(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *right_attr = info->attrs[KREG_A_RIGHT];
	struct nlattr *name_attr = info->attrs[KREG_A_NAME];
	/* Would a process of that node (the relay sending for it) have the right? */
	struct nlattr *node = info->attrs[KREG_A_NODE];
	struct kreg_principal p;
	struct kreg_verdict v;
	struct sk_buff *msg;
	struct kreg_owner owner;
	kgid_t *gids = NULL;
	bool allowed, held;
	u32 right;
	void *hdr;
	int err = 0;

	if (!kreg_nl_admin(skb, info->extack))
		return -EPERM;
	if (!(info->attrs[KREG_A_UID] || node) || !name_attr || !right_attr) {
		GENL_SET_ERR_MSG(info, "a check needs a uid or a node, a name and a right");
		return -EINVAL;
	}
	if (node && (info->attrs[KREG_A_UID] || info->attrs[KREG_A_GID] ||
		     info->attrs[KREG_A_GROUPS])) {
		NL_SET_ERR_MSG_ATTR(info->extack, node,
				    "another node's process has no uid or gid of this host");
		return -EINVAL;
	}
	right = nla_get_u32(right_attr);
	if (hweight32(right) != 1) {
		NL_SET_ERR_MSG_ATTR(info->extack, right_attr,
				    "a check asks about exactly one right");
		return -EINVAL;
	}
	if (node)
		kreg_principal_remote(&p, nla_data(node), nla_len(node) - 1);
	else
		err = kreg_nl_check_principal(info, &p, &gids);
	if (err)
		return err;
	err = -ENOMEM;
	msg = genlmsg_new(2 * nla_total_size(sizeof(u32)) + KREG_RULE_SIZE, GFP_KERNEL);
	if (!msg)
		goto free_gids;
	hdr = genlmsg_put_reply(msg, info, kreg_nl_family(), 0, KREG_CMD_POLICY_CHECK);
	err = -EMSGSIZE;
	if (!hdr)
		goto free_msg;
	/* A registered name's owner may always see and send to it. */
	held = kreg_table_owner(nla_data(name_attr), nla_len(name_attr) - 1, &owner);
	rcu_read_lock();
	allowed = kreg_may(&p, nla_data(name_attr), nla_len(name_attr) - 1, right,
			   held ? &owner : NULL, &v);
	if (nla_put_u32(msg, KREG_A_VERDICT, allowed) ||
	    nla_put_u32(msg, KREG_A_DECIDED_BY, v.by) ||
	    (v.rule && kreg_nl_put_rule(msg, v.rule))) {
		rcu_read_unlock();
		goto free_msg;
	}
	rcu_read_unlock();
	genlmsg_end(msg, hdr);
	kfree(gids);
	return genlmsg_reply(msg, info);

free_msg:
	nlmsg_free(msg);
free_gids:
	kfree(gids);
	return err;
}
